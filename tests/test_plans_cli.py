"""An office's plan files through the command line, as INTERFACE.md promises: `knowledge check`,
`knowledge list --json`, `tasks extract --json`, `tasks approve`, and the approval rule (proposals
are not reminded; the office's edits in tasks.yaml are never overwritten; a removed plan file
retires its proposals only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from app.cli import main
from bot.db.database import Database
from tests.helpers_knowledge import write_docx
from tests.helpers_plans import write_scanned_pdf, write_text_pdf
from tests.helpers_remind import add_person

ROW_KEYS = {"key", "title", "cadence", "target", "deadline_day", "due_date", "audience", "status", "source"}
# A web copy of a made-up township plan, with the furniture such pages carry around the text.
WEB_PLAN = """\
某某镇人民政府
当前位置:首页 > 通知公告 > 统战工作
某某镇2025年统战工作计划
发布日期:2025-01-08  来源:党政办  浏览次数:88
一、联络员工作
1.各村(社区)统战联络员每月报送活动信息不少于2篇,于每月25日前报送镇统战办。
2.每季度开展一次党外人士走访慰问。
二、镇统战办工作
1.镇党委每半年听取一次统战工作汇报,年底前完成全年工作总结。
【打印】 【关闭】
"""
PLAN_B = "某某镇民族宗教工作制度\n一、宗教场所\n1.村(社区)联络员每周巡查宗教活动场所一次。\n"


@pytest.fixture
def office(sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plan.txt").write_text(WEB_PLAN, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"tasks_file: {tmp_path / 'tasks.yaml'}\ndata_dir: {tmp_path / 'data'}\n"
                      f"knowledge:\n  corpus_dir: {corpus}\n", encoding="utf-8")
    monkeypatch.setenv("BOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    for name in ("REDIS_URL", "BOT_TIMEZONE", "WECOM_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def tasks_yaml(office: Path) -> dict[str, dict]:
    return {t["key"]: t for t in yaml.safe_load((office / "tasks.yaml").read_text(encoding="utf-8"))["tasks"]}


def test_knowledge_check_gives_title_clauses_dropped_lines_and_tasks(office: Path, capsys) -> None:
    code, out, _ = run(capsys, "knowledge", "check", str(office / "corpus" / "plan.txt"), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["title"] == "某某镇2025年统战工作计划" and report["title_found"] is True
    dropped = {d["text"] for d in report["dropped"]}
    assert {"当前位置:首页 > 通知公告 > 统战工作", "【打印】 【关闭】", "某某镇人民政府"} <= dropped
    assert all(d["reason"] for d in report["dropped"])
    assert not any("浏览次数" in c["text"] or "打印" in c["text"] for c in report["clauses"])
    got = {(t["cadence"], t["target"], t["deadline_day"], t["audience"]) for t in report["tasks"]}
    assert ("monthly", 2, 25, "liaisons") in got
    assert ("quarterly", 1, None, "office") in got
    assert ("half-yearly", 1, None, "office") in got
    once = next(t for t in report["tasks"] if t["cadence"] == "once")
    assert once["due_date"] == "2025-12-31" and "总结" in once["title"]
    assert all(t["status"] == "proposed" and t["source"]["file"] == "plan.txt" for t in report["tasks"])
    code, text, _ = run(capsys, "knowledge", "check", str(office / "corpus" / "plan.txt"))
    assert code == 0 and "标题：某某镇2025年统战工作计划" in text and "待确认" in text


@pytest.mark.parametrize(("name", "say"), [("old.doc", ".docx"), ("draft.wps", ".docx"), ("scan.pdf", "扫描")])
def test_knowledge_check_names_what_to_do_with_a_file_it_cannot_read(office: Path, capsys, name: str,
                                                                       say: str) -> None:
    path = office / name
    if name.endswith(".pdf"):
        write_scanned_pdf(path)
    else:
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    code, out, err = run(capsys, "knowledge", "check", str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and name in err and say in err


def test_knowledge_list_json_one_row_per_clause_and_by_file(office: Path, capsys) -> None:
    write_docx(office / "corpus" / "b.docx", [("村居联络员工作细则", "Title"), ("信息报送", "Heading 1"),
                                              ("每月报送工作动态信息不少于3篇。", None)])
    code, out, _ = run(capsys, "knowledge", "list", "--json")
    assert code == 0
    listed = rows(out)
    assert all(set(r) == {"file", "doc", "section", "text"} for r in listed)
    assert {r["file"] for r in listed} == {"plan.txt", "b.docx"}
    code, out, _ = run(capsys, "knowledge", "list", "--json", "--file", "b.docx")
    only = rows(out)
    assert code == 0 and {r["doc"] for r in only} == {"村居联络员工作细则"}
    assert any(r["section"] == "信息报送" and "不少于3篇" in r["text"] for r in only)
    assert run(capsys, "knowledge", "list", "--file", "nothing.txt")[0] == 2


def test_extract_proposes_and_approve_activates(office: Path, sqlite_db: Database, capsys) -> None:
    code, out, _ = run(capsys, "tasks", "extract", "--json")
    assert code == 0
    found = rows(out)
    assert found and all(set(r) == ROW_KEYS for r in found)
    assert all(r["status"] == "proposed" for r in found)
    assert all(set(r["source"]) == {"doc", "file", "section", "clause"} for r in found)
    assert all(r["source"]["doc"] == "某某镇2025年统战工作计划" for r in found)
    on_file = tasks_yaml(office)
    assert set(on_file) == {r["key"] for r in found} and {t["status"] for t in on_file.values()} == {"proposed"}

    code, out, _ = run(capsys, "tasks", "list", "--json")
    listed = {r["key"]: r for r in rows(out)}
    assert code == 0 and {r["status"] for r in listed.values()} == {"proposed"}
    monthly = next(r for r in found if r["cadence"] == "monthly")
    assert listed[monthly["key"]]["deadline_day"] == 25

    code, out, _ = run(capsys, "tasks", "approve", monthly["key"])
    assert code == 0 and monthly["key"] in out
    assert tasks_yaml(office)[monthly["key"]]["status"] == "active"
    others = [k for k, t in tasks_yaml(office).items() if t["status"] == "proposed"]
    assert len(others) == len(found) - 1
    assert run(capsys, "tasks", "approve", "no-such-key")[0] == 2
    code, out, _ = run(capsys, "tasks", "approve", "all")
    assert code == 0 and {t["status"] for t in tasks_yaml(office).values()} == {"active"}
    code, out, _ = run(capsys, "tasks", "list", "--json")
    assert {r["status"] for r in rows(out)} == {"active"}


def test_proposed_tasks_are_not_reminded_until_approved(office: Path, sqlite_db: Database, capsys) -> None:
    add_person(sqlite_db, "li", village="东风村")
    assert run(capsys, "tasks", "extract")[0] == 0
    monthly = next(k for k, t in tasks_yaml(office).items() if t["cadence"] == "monthly")
    at = "2025-03-24T10:00:00+08:00"  # a day before the 25th deadline: the default stages have come
    code, out, _ = run(capsys, "remind", "--at", at, "--dry-run", "--json")
    assert code == 0 and rows(out) == []
    assert run(capsys, "tasks", "approve", monthly)[0] == 0
    code, out, _ = run(capsys, "remind", "--at", at, "--dry-run", "--json")
    reminded = rows(out)
    assert code == 0 and {r["userid"] for r in reminded} == {"li"}
    assert {r["status"] for r in reminded} == {"dry-run"} and {r["target"] for r in reminded} == {2}


def test_office_edits_are_kept_and_a_removed_file_retires_only_its_proposals(office: Path, capsys) -> None:
    corpus = office / "corpus"
    assert run(capsys, "tasks", "extract")[0] == 0
    first = tasks_yaml(office)
    monthly = next(k for k, t in first.items() if t["cadence"] == "monthly")
    quarterly = next(k for k, t in first.items() if t["cadence"] == "quarterly")
    assert run(capsys, "tasks", "approve", monthly)[0] == 0
    data = yaml.safe_load((office / "tasks.yaml").read_text(encoding="utf-8"))
    for task in data["tasks"]:
        if task["key"] in (monthly, quarterly):
            task["title"], task["target"] = task["title"] + "（办公室改）", 5
    (office / "tasks.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    (corpus / "b.txt").write_text(PLAN_B, encoding="utf-8")
    code, out, _ = run(capsys, "tasks", "extract", "--json")
    assert code == 0
    second = tasks_yaml(office)
    assert second[monthly]["target"] == 5 and second[monthly]["title"].endswith("（办公室改）")
    assert second[quarterly]["target"] == 5 and second[quarterly]["status"] == "proposed"
    weekly = [k for k, t in second.items() if t["cadence"] == "weekly"]
    assert len(weekly) == 1 and second[weekly[0]]["source"]["file"] == "b.txt"

    (corpus / "plan.txt").unlink()
    assert run(capsys, "tasks", "extract")[0] == 0
    third = tasks_yaml(office)
    assert monthly in third and third[monthly]["status"] == "active"  # approved: kept though its file is gone
    assert weekly[0] in third  # the other file's proposal stays
    gone = {k for k, t in second.items() if t["status"] == "proposed" and t["source"].get("file") == "plan.txt"}
    assert gone and not gone & set(third)


def test_a_plan_file_broken_by_a_bad_upload_keeps_its_proposals(office: Path, capsys) -> None:
    assert run(capsys, "tasks", "extract")[0] == 0
    before = set(tasks_yaml(office))
    (office / "corpus" / "plan.txt").write_bytes(b"\x00\x01 broken upload")
    code, _, err = run(capsys, "tasks", "extract")
    assert code == 0 and "plan.txt" in err
    assert set(tasks_yaml(office)) == before


def test_docx_and_pdf_plans_give_their_tasks(office: Path, capsys) -> None:
    corpus = office / "corpus"
    (corpus / "plan.txt").unlink()
    write_docx(corpus / "rules.docx", [("社区统战工作制度", "Title"), ("例会制度", "Heading 1"),
                                       ("社区每月召开统战工作例会。", None)],
               table=[["事项", "要求"], ["党外人士座谈", "每季度至少1次"]])
    write_text_pdf(corpus / "info.pdf", ["信息报送考核办法", "一、报送要求",
                                         "各村居联络员要围绕中心工作,及时反映基层统战工作动态,每月向社区统战办报送"
                                         "工作信息不少于2条,每半年报送一篇调研文章。", "第 1 页 共 1 页"])
    code, out, _ = run(capsys, "tasks", "extract", "--json")
    assert code == 0
    got = {(r["source"]["file"], r["cadence"], r["target"]) for r in rows(out)}
    assert {("rules.docx", "monthly", 1), ("rules.docx", "quarterly", 1), ("info.pdf", "monthly", 2),
            ("info.pdf", "half-yearly", 1)} <= got
    code, out, _ = run(capsys, "knowledge", "list", "--json", "--file", "info.pdf")
    texts = [r["text"] for r in rows(out)]
    assert any("每月向社区统战办报送工作信息不少于2条" in t for t in texts)  # the typeset line break is gone
    assert not any("第 1 页" in t or "第1页" in t for t in texts)


def test_progress_shows_the_deadline_day(office: Path, sqlite_db: Database, capsys) -> None:
    from datetime import date

    from sqlalchemy import select

    from bot.db.models import Person
    from tracking.progress import office_overview, progress_for

    add_person(sqlite_db, "li", village="东风村")
    assert run(capsys, "tasks", "extract")[0] == 0
    assert run(capsys, "tasks", "approve", "all")[0] == 0
    assert run(capsys, "tasks", "list")[0] == 0  # syncs tasks.yaml into the database
    with sqlite_db.session() as s:
        person = s.scalars(select(Person).where(Person.userid == "li")).one()
        lines = {p.cadence: p for p in progress_for(s, person, date(2025, 3, 10))}
        overview = [r for r in office_overview(s, date(2025, 3, 10)) if r["cadence"] == "monthly"]
    assert lines["monthly"].due == date(2025, 3, 25)
    assert overview and {r["due"] for r in overview} == {"2025-03-25"}
