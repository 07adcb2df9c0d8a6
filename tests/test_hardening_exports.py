"""Audit finding 2: formula injection in exports (OWASP CSV injection).

A liaison's `修改 内容 =HYPERLINK(...)` became a live formula in the .xlsx (openpyxl writes a
string starting with "=" as <f>) and CSV cells starting with = + - @ were left as they were, in
`reports export` and the console download alike.
"""

from __future__ import annotations

import argparse
import csv
import zipfile

import pytest
from openpyxl import load_workbook

from app import cli_tracking as cli
from tests.helpers_reports import report_chat
from tracking.export import neutralise

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "＝1+1"]


@pytest.fixture
def hostile(services, tmp_path):  # noqa: ANN201
    chat = report_chat(services, tmp_path)
    for i, payload in enumerate(PAYLOADS):
        chat.send("li", f"报送 11月{i + 1}日在红山郡社区开展宣讲，20人参加")
        reply = chat.send("li", f"修改 内容 {payload}")
        assert reply, payload
    return chat.services.settings.with_overrides(database_url=chat.services.db.url)


def _activities(settings) -> list[str]:  # noqa: ANN001
    from tracking.reports import list_reports

    db = __import__("bot.db.database", fromlist=["Database"]).Database(settings.database_url)
    try:
        with db.session() as s:
            return [r.activity for r in list_reports(s)]
    finally:
        db.dispose()


def test_edited_content_became_a_live_formula_in_xlsx(hostile, tmp_path) -> None:
    stored = _activities(hostile)
    assert any(a.startswith("=HYPERLINK") for a in stored), "the edit must store the text as typed"
    path = tmp_path / "out.xlsx"
    assert cli.cmd_reports_export(argparse.Namespace(file=str(path), since=None, village=None), hostile) == 0
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    ws = load_workbook(path).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts_ = [c.value for c in cells if isinstance(c.value, str)]
    assert "'" + '=HYPERLINK("http://x","y")' in texts_  # shown as typed, never evaluated


def test_csv_cells_starting_with_formula_characters_left_as_they_were(hostile, tmp_path) -> None:
    path = tmp_path / "out.csv"
    assert cli.cmd_reports_export(argparse.Namespace(file=str(path), since=None, village=None), hostile) == 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        cells = [cell for row in list(csv.reader(f))[1:] for cell in row]
    assert cells and not any(c.startswith(("=", "+", "-", "@", "\t", "\r", "＝")) for c in cells)
    assert "'@SUM(1+1)" in cells or any(c.startswith("'") for c in cells)


def test_neutralise_leaves_plain_values_alone() -> None:
    assert neutralise("在红山郡社区开展宣讲") == "在红山郡社区开展宣讲"
    assert neutralise(-5) == -5 and neutralise("") == ""
    assert neutralise("a=b") == "a=b"
    for payload in PAYLOADS:
        assert neutralise(payload) == "'" + payload
