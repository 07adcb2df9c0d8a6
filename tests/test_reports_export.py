"""reports list --json and reports export (.xlsx/.csv) with the Chinese column headers."""

from __future__ import annotations

import argparse
import csv
import json
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from app import cli_tracking as cli
from tests.helpers_reports import report_chat
from tracking import texts


@pytest.fixture
def filled(services, tmp_path):  # noqa: ANN201
    chat = report_chat(services, tmp_path)
    chat.send("li", "报送 昨天在红山郡社区开展民族团结宣讲,40人参加")
    chat.send("wang", "报送 11月2日开展走访")
    chat.send("wang", "撤回")
    chat.send("wang", "是")
    chat.services.clock.advance(minutes=1)
    return chat.services.settings.with_overrides(database_url=chat.services.db.url)


def test_reports_list_json_has_the_interface_shape(filled, capsys) -> None:
    assert cli.cmd_reports_list(argparse.Namespace(json=True, since=None, village=None), filled) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [set(r) for r in rows] == [{"id", "userid", "name", "village", "date", "activity", "summary",
                                       "participants", "participants_text", "task", "photos", "status",
                                       "created_at"}] * 2
    assert rows[0] | {"created_at": None} == {
        "id": 1, "userid": "li", "name": "李四", "village": "红山郡社区", "date": "2026-11-19",
        "activity": "在红山郡社区开展民族团结宣讲", "summary": "在红山郡社区开展民族团结宣讲", "participants": 40,
        "participants_text": "40人参加", "task": "工作动态信息", "photos": 0, "status": "active", "created_at": None}
    assert rows[0]["created_at"].startswith("2026-11-20T02:00:00") and rows[1]["status"] == "withdrawn"
    cli.cmd_reports_list(argparse.Namespace(json=True, since=date(2026, 11, 10), village=None), filled)
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [1]
    cli.cmd_reports_list(argparse.Namespace(json=True, since=None, village="东风村"), filled)
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [2]


def test_export_xlsx_and_csv_with_chinese_headers(filled, tmp_path) -> None:
    xlsx, csv_path = tmp_path / "out" / "报送.xlsx", tmp_path / "报送.csv"
    for path in (xlsx, csv_path):
        assert cli.cmd_reports_export(argparse.Namespace(file=str(path), since=None, village=None), filled) == 0
    ws = load_workbook(xlsx).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == texts.EXPORT_HEADERS
    # Dates are real date cells (sortable and filterable in Excel), the report time in the office's zone.
    assert rows[1][:9] == [1, "李四", "li", "红山郡社区", datetime(2026, 11, 19), "在红山郡社区开展民族团结宣讲", 40,
                           "工作动态信息", 0]
    assert rows[1][9:] == ["有效", datetime(2026, 11, 20, 10, 0)]
    assert ws.cell(row=2, column=5).is_date and ws.cell(row=2, column=11).is_date
    assert rows[2][9] == "已撤回"
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with a BOM correctly
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == texts.EXPORT_HEADERS and table[1][1] == "李四" and len(table) == 3


def test_export_refuses_other_endings(filled, tmp_path, capsys) -> None:
    assert cli.cmd_reports_export(argparse.Namespace(file=str(tmp_path / "x.pdf"), since=None, village=None),
                                  filled) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
