"""Tasks drawn from the plan, the editable tasks file, the roster import and progress per period."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from app.plans import corpus_tasks
from bot.config import ROOT
from bot.db.database import Database
from bot.db.models import Person, Report, Task
from bot.periods import period_of
from tests.helpers_reports import TASKS_YAML, write_tasks
from tracking.progress import applies_to, current_period, done_counts, progress_for, tasks_for
from tracking.roster import import_roster, read_roster_file
from tracking.tasks import TasksFileError, extract_from_text, load_tasks_file, sync_tasks

PLAN = """一、加强领导
(一)将统一战线纳入党工委重要议事议程。全年研究统一战线工作不少于两次。
二、信息工作
做到每月至少报送3篇工作动态信息,每季度至少报送1篇经验总结类或两点特色信息。
三、民族工作
1.做到年初有计划、年终有总结。
2.党工委研究宗教工作全年不少于两次,专题学习不少于两次。
5.组织信息员参加专题培训,全年不少于4次。
4.强化意识形态问题分析研判。全年召开分析研讨会两次。
"""


# ---------------------------------------------------------------- extraction


def test_extraction_finds_each_countable_obligation_with_its_clause() -> None:
    specs = {s.title: s for s in extract_from_text(PLAN, "plan.txt")}
    expect = {
        "工作动态信息": ("monthly", 3, "liaisons"),
        "经验总结类或亮点特色信息": ("quarterly", 1, "liaisons"),
        "研究统一战线工作": ("yearly", 2, "office"),
        "研究宗教工作": ("yearly", 2, "office"),
        "民族工作专题学习": ("yearly", 2, "office"),
        "分析研讨会": ("yearly", 2, "office"),
        "民族工作年度计划": ("yearly", 1, "office"),
        "民族工作年终总结": ("yearly", 1, "office"),
    }
    for title, (cadence, target, audience) in expect.items():
        assert title in specs, (title, list(specs))
        assert (specs[title].cadence, specs[title].target, specs[title].audience) == (cadence, target, audience)
    training = next(s for s in specs.values() if "培训" in s.title)
    assert (training.cadence, training.target) == ("yearly", 4)
    info = specs["工作动态信息"]
    assert "每月至少报送3篇工作动态信息" in info.source_text and info.source_section == "二、信息工作"
    assert "宣讲" in info.keywords and "两点" in specs["经验总结类或亮点特色信息"].source_text


def test_shipped_tasks_file_is_what_the_extractor_finds_in_the_corpus() -> None:
    shipped = {t.key: t for t in load_tasks_file(ROOT / "tasks.yaml")}
    extracted = {t.key: t for t in corpus_tasks(ROOT / "knowledge" / "corpus")[0]}
    assert set(extracted) == set(shipped) and len(shipped) == 11
    liaison = [t for t in shipped.values() if t.audience == "liaisons"]
    assert {(t.cadence, t.target) for t in liaison} >= {("monthly", 3), ("quarterly", 1)}
    assert all(t.source_text for t in shipped.values())


@pytest.mark.parametrize(("change", "message"), [
    ("cadence: monthly", "cadence: daily"),
    ("target: 3", "target: 0"),
    ("audience: liaisons", "audience: everyone"),
    ("due_date: 2026-12-31", "due_date: someday"),
    ("key: research", "key: info"),
])
def test_bad_tasks_file_is_refused_naming_the_task(tmp_path: Path, change: str, message: str) -> None:
    path = write_tasks(tmp_path, TASKS_YAML.replace(change, message, 1))
    with pytest.raises(TasksFileError) as info:
        load_tasks_file(path)
    assert "task " in str(info.value)


def test_sync_is_idempotent_and_deactivates_removed_tasks(db: Database, tmp_path: Path) -> None:
    path = write_tasks(tmp_path)
    with db.session() as s:
        first = [t.id for t in sync_tasks(s, path)]
    with db.session() as s:
        assert [t.id for t in sync_tasks(s, path)] == first
    edited = TASKS_YAML.replace("target: 3", "target: 4").split("- key: research")[0]
    write_tasks(tmp_path, edited)
    with db.session() as s:
        sync_tasks(s, path)
        rows = {t.key: (t.target, t.active) for t in s.scalars(select(Task))}
    assert rows["info"] == (4, True) and rows["research"][1] is False and rows["hongshan-only"][1] is False


# ---------------------------------------------------------------- roster


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_wecom_export_with_title_row_and_chinese_headers(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "wecom.xlsx", [
        ["通讯录导出"],
        ["姓名", "账号", "别名", "职务", "部门", "性别", "角色"],
        ["李四", "lisi", "", "联络员", "红山街道/红山郡社区", "男", ""],
        ["赵主任", "zhao", "", "", "红山街道;统战办", "女", "管理员"],
        ["", "", "", "", "", "", ""],
        ["无账号", "", "", "", "东风村", "", ""],
    ])
    read = read_roster_file(path)
    assert [(r.row, r.userid, r.name, r.village, r.role) for r in read.rows] == [
        (3, "lisi", "李四", "红山郡社区", "liaison"), (4, "zhao", "赵主任", "红山街道", "admin")]
    assert [(e.row, e.reason) for e in read.errors] == [(6, "缺少账号(userid)")]


def test_reimport_updates_by_userid_and_deactivates_nobody_silently(db: Database, tmp_path: Path) -> None:
    csv1 = tmp_path / "a.csv"
    csv1.write_text("userid,name,village,role\nli,李四,红山郡社区,liaison\nwang,王五,东风村,\n", encoding="utf-8")
    with db.session() as s:
        r = import_roster(s, read_roster_file(csv1).rows)
    assert sorted(r.created) == ["li", "wang"]
    csv2 = tmp_path / "b.csv"
    csv2.write_text("userid,name,village,active\nli,李四,新华社区,\n", encoding="gb18030")
    with db.session() as s:
        r = import_roster(s, read_roster_file(csv2).rows)
        people = {p.userid: (p.village, p.active) for p in s.scalars(select(Person))}
    assert r.updated == ["li"] and [p.userid for p in r.not_in_file] == ["wang"]
    assert people == {"li": ("新华社区", True), "wang": ("东风村", True)}
    csv3 = tmp_path / "c.csv"
    csv3.write_text("userid,name,village,active\nwang,王五,东风村,停用\n", encoding="utf-8")
    with db.session() as s:
        import_roster(s, read_roster_file(csv3).rows)
        assert s.scalar(select(Person.active).where(Person.userid == "wang")) is False


def _cli(*args: str, env_db: str, tmp_path: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "DATABASE_URL": env_db, "BOT_CONFIG": str(tmp_path / "config.yaml")}
    (tmp_path / "config.yaml").write_text(f"data_dir: {tmp_path / 'data'}\ntasks_file: {tmp_path / 'tasks.yaml'}\n",
                                          encoding="utf-8")
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_roster_cli_reports_bad_rows_and_exit_codes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    write_tasks(tmp_path)
    good = tmp_path / "r.csv"
    good.write_text("账号,姓名,部门\nli,李四,红山郡社区\n,无名,东风村\nli,重复,x\n", encoding="utf-8")
    out = _cli("roster", "import", str(good), env_db=url, tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "第3行" in out.stdout and "第4行" in out.stdout and "新增 1" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    out = _cli("roster", "import", str(bad), env_db=url, tmp_path=tmp_path)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert _cli("roster", "import", str(tmp_path / "missing.csv"), env_db=url, tmp_path=tmp_path).returncode == 2
    listed = _cli("roster", "list", "--json", env_db=url, tmp_path=tmp_path)
    assert '"userid": "li"' in listed.stdout
    tasks = _cli("tasks", "list", "--json", env_db=url, tmp_path=tmp_path)
    assert tasks.returncode == 0 and '"title": "工作动态信息"' in tasks.stdout and '"clause"' in tasks.stdout


# ---------------------------------------------------------------- progress


def _person(userid: str, role: str = "liaison", village: str = "红山郡社区", active: bool = True) -> Person:
    return Person(userid=userid, name=userid, village=village, role=role, active=active)


def test_applies_to_follows_audience_and_filter() -> None:
    task = Task(key="t", title="t", cadence="monthly", target=1, audience="liaisons", audience_filter={},
                active=True)
    assert applies_to(task, _person("a")) and not applies_to(task, _person("b", role="admin"))
    assert not applies_to(task, _person("c", active=False))
    task.audience_filter = {"villages": ["东风村"]}
    assert not applies_to(task, _person("a")) and applies_to(task, _person("d", village="东风村"))
    task.audience_filter = {"userids": ["a"]}
    assert applies_to(task, _person("a")) and not applies_to(task, _person("d", village="东风村"))
    office = Task(key="o", title="o", cadence="yearly", target=1, audience="office", audience_filter={},
                  active=True)
    assert applies_to(office, _person("b", role="admin")) and not applies_to(office, _person("a"))


def test_done_counts_one_number_per_person_inside_the_period(db: Database, tmp_path: Path) -> None:
    path = write_tasks(tmp_path)
    with db.session() as s:
        tasks = {t.key: t for t in sync_tasks(s, path)}
        info = tasks["info"]
        for i, (user, day, status) in enumerate([
            ("a", date(2026, 11, 1), "active"), ("a", date(2026, 11, 30), "active"),
            ("a", date(2026, 10, 31), "active"), ("a", date(2026, 11, 5), "withdrawn"),
            ("b", date(2026, 11, 15), "active"),
        ]):
            s.add(Report(userid=user, activity_date=day, activity="x", task_id=info.id, status=status,
                         source_msg_key=f"k{i}"))
        s.flush()
        period = current_period(info, date(2026, 11, 20))
        assert period == period_of("monthly", date(2026, 11, 20))
        assert done_counts(s, info, ["a", "b", "c"], period) == {"a": 2, "b": 1, "c": 0}
        s.add(_person("a"))
        s.flush()
        person = s.scalar(select(Person).where(Person.userid == "a"))
        assert [t.key for t in tasks_for(s, person)] == ["info", "highlight", "hongshan-only"]
        lines = {p.key: (p.done, p.target, p.due) for p in progress_for(s, person, date(2026, 11, 20))}
        assert lines["info"] == (2, 3, date(2026, 11, 30)) and lines["hongshan-only"][2] == date(2026, 12, 31)
