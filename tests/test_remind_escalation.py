"""The office summary: the day after a period ends, to every admin, grouped by village, exactly once."""

from __future__ import annotations

from datetime import date

from bot.clock import FixedClock
from bot.config import Settings
from bot.db.database import Database
from bot.wecom.sender import LogSender
from scheduler.engine import ReminderEngine
from scheduler.render import BehindPerson, EscalationSection, render_escalation
from tests.helpers_remind import add_person, add_reports, add_task, deliveries, make_services, sh


def setup_office(db: Database) -> int:
    t = add_task(db, "m", title="工作动态信息", target=2)
    add_person(db, "a1", name="王主任", role="admin", village="统战办")
    add_person(db, "a2", name="李干事", role="admin", village="统战办")
    add_person(db, "h1", name="张红", village="红山村")
    add_person(db, "h2", name="赵山", village="红山村")
    add_person(db, "q1", name="钱青", village="青石村")
    add_person(db, "q2", name="孙石", village="青石村")
    add_reports(db, "h2", t, date(2026, 11, 9), n=2)  # done
    add_reports(db, "q1", t, date(2026, 11, 30))  # 1/2, on the last day
    return t


def engine(db: Database, settings: Settings) -> tuple[ReminderEngine, LogSender, FixedClock]:
    sender = LogSender()
    clock = FixedClock(sh(2026, 12, 1, 9, 0))
    return ReminderEngine(make_services(settings, db, clock, sender), backoff_s=0.0), sender, clock


def test_summary_the_morning_after_grouped_by_village_once(db: Database, settings: Settings) -> None:
    t = setup_office(db)
    eng, sender, clock = engine(db, settings)
    assert eng.run_pass(sh(2026, 12, 1, 9, 29)).escalations == []
    report = eng.run_pass(sh(2026, 12, 1, 9, 30))
    assert sorted((e.admin, e.period_key, e.behind, e.status) for e in report.escalations) == [
        ("a1", "2026-11", 3, "sent"), ("a2", "2026-11", 3, "sent")]
    (summary,) = sender.texts_to("a1")
    assert sender.texts_to("a2") == [summary]
    assert len(sender.sent) == 1  # identical text: one call for both admins
    assert "工作动态信息（2026-11，目标 2，截止 11月30日）：3人未完成" in summary
    assert "  红山村：张红0/2" in summary
    assert "  青石村：孙石0/2、钱青1/2" in summary
    assert "赵山" not in summary
    assert summary.index("红山村") < summary.index("青石村")
    # liaisons get nothing from the summary; a later pass and the next day send nothing more
    assert sender.texts_to("h1") == []
    assert eng.run_pass(sh(2026, 12, 1, 9, 31)).escalations == []
    assert eng.run_pass(sh(2026, 12, 2, 10, 0)).escalations == []
    assert len(sender.sent) == 1
    assert {(r.userid, r.stage, r.done, r.target) for r in deliveries(db) if r.task_id == t} == {
        ("a1", "escalation", 3, 4), ("a2", "escalation", 3, 4)}


def test_summary_catches_up_after_an_outage_once(db: Database, settings: Settings) -> None:
    setup_office(db)
    eng, sender, _ = engine(db, settings)
    assert len(eng.run_pass(sh(2026, 12, 3, 8, 0)).escalations) == 2  # down on the 1st and 2nd
    assert eng.run_pass(sh(2026, 12, 3, 8, 1)).escalations == []
    assert eng.run_pass(sh(2026, 12, 7, 10, 0)).escalations == []
    assert len(sender.texts_to("a1")) == 1


def test_summary_too_late_is_skipped(db: Database, settings: Settings) -> None:
    setup_office(db)
    eng, sender, _ = engine(db, settings)
    assert eng.run_pass(sh(2026, 12, 8, 9, 31)).escalations == []  # more than 7 days after it was due
    assert sender.sent == []


def test_summary_waits_for_quiet_hours_and_off_days(db: Database, tmp_path) -> None:
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, reminders={"off_days": ["2026-12-01"]})
    setup_office(db)
    eng, sender, _ = engine(db, settings)
    assert eng.run_pass(sh(2026, 12, 1, 9, 30)).escalations == []
    assert eng.run_pass(sh(2026, 12, 1, 23, 0)).escalations == []
    assert len(eng.run_pass(sh(2026, 12, 2, 8, 0)).escalations) == 2


def test_year_end_summary_covers_every_task_in_one_message(db: Database, settings: Settings) -> None:
    add_task(db, "m", title="工作动态信息", cadence="monthly", target=1)
    add_task(db, "q", title="民族团结宣讲", cadence="quarterly", target=1)
    add_task(db, "y", title="年度工作总结", cadence="yearly", target=1)
    add_person(db, "a1", role="admin", village="统战办")
    add_person(db, "h1", name="张红", village="红山村")
    eng, sender, _ = engine(db, settings)
    report = eng.run_pass(sh(2027, 1, 1, 9, 30))
    assert {e.period_key for e in report.escalations} == {"2026-12", "2026-Q4", "2026"}
    (summary,) = sender.texts_to("a1")
    assert all(title in summary for title in ("工作动态信息", "民族团结宣讲", "年度工作总结"))


def test_nobody_behind_or_no_admin_sends_nothing(db: Database, settings: Settings) -> None:
    t = add_task(db, "m", target=1)
    add_person(db, "h1")
    eng, sender, _ = engine(db, settings)
    assert eng.run_pass(sh(2026, 12, 1, 9, 30)).escalations == []  # behind, but no admin on the roster
    add_person(db, "a1", role="admin")
    add_reports(db, "h1", t, date(2026, 11, 3))
    assert eng.run_pass(sh(2026, 12, 1, 9, 31)).escalations == []  # now nobody is behind
    assert sender.sent == []


def test_long_summary_is_cut_to_one_message_with_a_count() -> None:
    behind = [BehindPerson(f"u{i:04d}", f"联络员{i:04d}", f"第{i % 30}村", 0) for i in range(600)]
    text = render_escalation([EscalationSection("工作动态信息", "2026-11", 3, date(2026, 11, 30), behind)],
                             date(2026, 12, 1))
    assert len(text.encode()) <= 2048
    shown = sum(text.count(f"联络员{i:04d}0/3") for i in range(600))
    assert 0 < shown < 600
    assert text.endswith(f"另有{600 - shown}人未列出，完整名单请在管理后台「进度总览」查看或导出报送记录。")


def test_short_summary_is_whole() -> None:
    behind = [BehindPerson("u1", "张红", "红山村", 1)]
    text = render_escalation([EscalationSection("宣讲", "2026-Q4", 2, date(2026, 12, 31), behind)], date(2027, 1, 1))
    assert "另有" not in text and "红山村：张红1/2" in text


def test_failed_summary_is_retried_by_a_later_pass(db: Database, tmp_path) -> None:
    from datetime import timedelta

    from bot.testing.wecom_double import WeComDouble
    from bot.wecom.sender import WeComSender
    from tests.conftest import make_settings

    setup_office(db)
    with WeComDouble() as api:
        settings = make_settings(tmp_path, wecom=api.wecom_settings())
        sender = WeComSender(api.corp_id, api.secret, api.agent_id, api_base=api.base_url)
        eng = ReminderEngine(make_services(settings, db, FixedClock(sh(2026, 12, 1, 9, 30)), sender),
                             backoff_s=0.0)
        api.fail_always(-1, "message/send")
        first = eng.run_pass(sh(2026, 12, 1, 9, 30))
        assert {e.status for e in first.escalations} == {"failed"}
        api.clear_failures()
        assert eng.run_pass(sh(2026, 12, 1, 9, 31)).escalations == []  # backoff: not yet
        retried = eng.run_pass(sh(2026, 12, 1, 9, 30) + timedelta(minutes=3))
        assert sorted((e.admin, e.status) for e in retried.escalations) == [("a1", "sent"), ("a2", "sent")]
        assert len(api.texts_to("a1")) == 1
        assert eng.run_pass(sh(2026, 12, 1, 11, 0)).escalations == []
    assert {r.status for r in deliveries(db)} == {"sent"}


def test_undelivered_notice_fits_one_message() -> None:
    from scheduler.render import Undelivered, render_undelivered

    many = [Undelivered(f"user{i:03d}", f"联络员{i:03d}", f"第{i % 9}村", "已不在花名册") for i in range(200)]
    text = render_undelivered(many)
    listed = sum(1 for i in range(200) if f"账号 user{i:03d}）" in text)
    assert len(text.encode()) <= 2048 and 0 < listed < 200
    assert text.endswith(f"……另有{200 - listed}人，详见服务日志。")
    few = render_undelivered(many[:3])
    assert "另有" not in few and few.count("已不在花名册") == 3
