"""A reminder pass on a real database (SQLite and PostgreSQL): who gets what, when, and only once."""

from __future__ import annotations

from datetime import date

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.db.database import Database
from bot.wecom.sender import LogSender
from scheduler.engine import PassReport, ReminderEngine
from tests.conftest import make_settings
from tests.helpers_remind import (
    add_person,
    add_reports,
    add_task,
    deliveries,
    make_services,
    set_active,
    sh,
    update_task,
)


class Bot:
    """A pass runner with its own log sender, for short tests."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.sender = LogSender()
        self.clock = FixedClock(sh(2026, 11, 20, 10, 0))
        self.services = make_services(settings, db, self.clock, self.sender)
        self.engine = ReminderEngine(self.services, backoff_s=0.0)

    def run(self, at: object, *, dry_run: bool = False) -> PassReport:
        self.clock.set(at)  # type: ignore[arg-type]
        return self.engine.run_pass(dry_run=dry_run)

    def texts(self, user: str) -> list[str]:
        return self.sender.texts_to(user)


def statuses(report: PassReport) -> dict[tuple[str, int], str]:
    return {(c.person.userid, c.task_id): c.status for c in report.candidates}


@pytest.fixture
def bot(db: Database, settings: Settings) -> Bot:
    return Bot(db, settings)


def test_only_those_behind_are_reminded_with_their_own_numbers(db: Database, bot: Bot) -> None:
    t = add_task(db, "info", title="工作动态信息", target=2)
    for u in ("u1", "u2", "u3"):
        add_person(db, u)
    add_reports(db, "u2", t, date(2026, 11, 5))
    add_reports(db, "u3", t, date(2026, 11, 6), n=2)
    add_reports(db, "u1", t, date(2026, 10, 31), n=5)  # last month does not count

    report = bot.run(sh(2026, 11, 23, 9, 30))
    assert statuses(report) == {("u1", t): "sent", ("u2", t): "sent", ("u3", t): "on-track"}
    (u1,) = bot.texts("u1")
    assert "工作动态信息：已完成 0/2，还差2，截止 11月30日（还剩7天）" in u1
    assert "报送" in u1 and "进度" in u1
    assert "已完成 1/2" in bot.texts("u2")[0]
    assert bot.texts("u3") == []

    again = bot.run(sh(2026, 11, 23, 9, 31))
    assert statuses(again) == {("u1", t): "already-sent", ("u2", t): "already-sent", ("u3", t): "on-track"}
    assert len(bot.sender.sent) == 2  # u1 and u2 differ in numbers: two texts, both from the first pass
    assert len(bot.texts("u1")) == 1


def test_nothing_before_the_stage(db: Database, bot: Bot) -> None:
    t = add_task(db, "info")
    add_person(db, "u1")
    report = bot.run(sh(2026, 11, 23, 9, 29))
    assert statuses(report) == {("u1", t): "not-due"}
    assert bot.sender.sent == [] and deliveries(db) == []


def test_year_end_one_message_lists_month_quarter_and_year_tasks(db: Database, bot: Bot) -> None:
    m = add_task(db, "m", title="工作动态信息", cadence="monthly", target=3)
    q = add_task(db, "q", title="民族团结宣讲", cadence="quarterly", target=1)
    y = add_task(db, "y", title="年度工作总结", cadence="yearly", target=1)
    add_person(db, "u1")
    add_reports(db, "u1", m, date(2026, 12, 2))
    report = bot.run(sh(2026, 12, 24, 9, 30))  # 7 days before Dec 31: month, quarter and year end together
    assert {c.task_id: c.period.key for c in report.candidates} == {m: "2026-12", q: "2026-Q4", y: "2026"}
    assert set(statuses(report).values()) == {"sent"}
    (text,) = bot.texts("u1")
    assert "您有3项任务" in text
    for line in ("工作动态信息：已完成 1/3，还差2，截止 12月31日", "民族团结宣讲：已完成 0/1，还差1，截止 12月31日",
                 "年度工作总结：已完成 0/1，还差1，截止 12月31日"):
        assert line in text
    assert text.count("报送方法") == 1
    assert {(r.task_id, r.period_key, r.stage) for r in deliveries(db)} == {
        (m, "2026-12", "d7"), (q, "2026-Q4", "d7"), (y, "2026", "d7")}


def test_leap_february(db: Database, bot: Bot) -> None:
    t = add_task(db, "m", title="工作动态信息")
    add_person(db, "u1")
    assert statuses(bot.run(sh(2028, 2, 22, 9, 30))) == {("u1", t): "sent"}  # 29 - 7
    assert "截止 2月29日" in bot.texts("u1")[0]
    assert statuses(bot.run(sh(2028, 2, 28, 9, 30))) == {("u1", t): "sent"}  # the 1-day stage
    assert statuses(bot.run(sh(2028, 2, 29, 20, 0))) == {("u1", t): "already-sent"}
    assert statuses(bot.run(sh(2028, 3, 1, 10, 0))) == {("u1", t): "not-due"}  # March: nothing yet
    assert len(bot.texts("u1")) == 2


def test_service_down_across_a_stage_catches_up_once(db: Database, bot: Bot) -> None:
    t = add_task(db, "m")
    add_person(db, "u1")
    # down from the 22nd; back on the 25th at 10:00: the 7-day stage goes out now, once
    assert statuses(bot.run(sh(2026, 11, 25, 10, 0))) == {("u1", t): "sent"}
    assert statuses(bot.run(sh(2026, 11, 25, 10, 1))) == {("u1", t): "already-sent"}
    # down again from the 26th to December: the 1-day stage is stale once November has ended
    assert statuses(bot.run(sh(2026, 12, 1, 9, 0))) == {("u1", t): "not-due"}
    assert [r.stage for r in deliveries(db)] == ["d7"]
    assert len(bot.texts("u1")) == 1


def test_long_outage_sends_only_the_latest_stage(db: Database, bot: Bot) -> None:
    t = add_task(db, "m")
    add_person(db, "u1")
    assert statuses(bot.run(sh(2026, 11, 30, 8, 0))) == {("u1", t): "sent"}
    assert [r.stage for r in deliveries(db)] == ["d1"]
    assert "今天截止" in bot.texts("u1")[0]


def test_quiet_hours_defer_to_the_morning(db: Database, bot: Bot) -> None:
    t = add_task(db, "m", reminder_stages=[{"days_before": 7, "time": "22:00"}])
    add_person(db, "u1")
    assert statuses(bot.run(sh(2026, 11, 23, 22, 0))) == {("u1", t): "quiet-hours"}
    assert statuses(bot.run(sh(2026, 11, 24, 7, 59))) == {("u1", t): "quiet-hours"}
    assert bot.sender.sent == []
    assert statuses(bot.run(sh(2026, 11, 24, 8, 0))) == {("u1", t): "sent"}


def test_off_day_defers_to_next_allowed_day(db: Database, tmp_path) -> None:
    settings = make_settings(tmp_path, reminders={"off_days": ["2026-11-23", "2026-11-24"]})
    bot = Bot(db, settings)
    t = add_task(db, "m")
    add_person(db, "u1")
    assert statuses(bot.run(sh(2026, 11, 23, 9, 30))) == {("u1", t): "quiet-hours"}
    assert statuses(bot.run(sh(2026, 11, 24, 15, 0))) == {("u1", t): "quiet-hours"}
    assert statuses(bot.run(sh(2026, 11, 25, 8, 0))) == {("u1", t): "sent"}


def test_person_added_mid_period_gets_the_live_stage(db: Database, bot: Bot) -> None:
    t = add_task(db, "m")
    add_person(db, "u1")
    bot.run(sh(2026, 11, 23, 9, 30))
    add_person(db, "u9", village="青石村")  # joins on the 25th
    report = bot.run(sh(2026, 11, 25, 10, 0))
    assert statuses(report) == {("u1", t): "already-sent", ("u9", t): "sent"}
    assert len(bot.texts("u9")) == 1 and len(bot.texts("u1")) == 1


def test_task_changed_mid_period(db: Database, bot: Bot) -> None:
    t = add_task(db, "m", target=2)
    add_person(db, "u1")
    add_person(db, "u2")
    add_reports(db, "u2", t, date(2026, 11, 3), n=2)
    assert statuses(bot.run(sh(2026, 11, 23, 9, 30))) == {("u1", t): "sent", ("u2", t): "on-track"}
    update_task(db, t, target=3)  # the office raises the target on the 25th
    report = bot.run(sh(2026, 11, 25, 10, 0))
    assert statuses(report) == {("u1", t): "already-sent", ("u2", t): "sent"}
    assert "已完成 2/3" in bot.texts("u2")[0]
    update_task(db, t, reminder_stages=[{"days_before": 2, "time": "15:00"}])  # and adds its own stage
    report = bot.run(sh(2026, 11, 28, 15, 0))
    assert statuses(report) == {("u1", t): "sent", ("u2", t): "sent"}
    update_task(db, t, active=False)
    assert bot.run(sh(2026, 11, 29, 9, 30)).candidates == []


def test_audience_inactive_people_and_office_tasks(db: Database, bot: Bot) -> None:
    t = add_task(db, "m", audience_filter={"villages": ["红山村"]})
    o = add_task(db, "o", audience="office", target=1)
    add_person(db, "u1")
    add_person(db, "u2", village="青石村")
    add_person(db, "gone", active=False)
    add_person(db, "a1", role="admin", village="统战办")
    report = bot.run(sh(2026, 11, 23, 9, 30))
    assert statuses(report) == {("u1", t): "sent", ("a1", o): "sent"}
    set_active(db, "u1", False)
    assert statuses(bot.run(sh(2026, 11, 29, 9, 30))) == {("a1", o): "sent"}


def test_dry_run_claims_and_sends_nothing(db: Database, bot: Bot) -> None:
    t = add_task(db, "m")
    add_person(db, "u1")
    assert statuses(bot.run(sh(2026, 11, 23, 9, 30), dry_run=True)) == {("u1", t): "dry-run"}
    assert bot.sender.sent == [] and deliveries(db) == []
    assert statuses(bot.run(sh(2026, 11, 23, 9, 30))) == {("u1", t): "sent"}


def test_once_task_due_date(db: Database, bot: Bot) -> None:
    t = add_task(db, "plan", title="年度工作计划", cadence="once", target=1, due_date=date(2026, 3, 31))
    add_person(db, "u1")
    assert statuses(bot.run(sh(2026, 3, 24, 9, 30))) == {("u1", t): "sent"}
    assert "截止 3月31日" in bot.texts("u1")[0]
    assert bot.run(sh(2026, 4, 2, 10, 0)).candidates == []  # after the due date: not considered at all


def test_withdrawn_report_makes_a_person_behind_again(db: Database, bot: Bot) -> None:
    from sqlalchemy import update

    from bot.db.models import Report

    t = add_task(db, "m", target=1)
    add_person(db, "u1")
    add_reports(db, "u1", t, date(2026, 11, 2))
    assert statuses(bot.run(sh(2026, 11, 23, 9, 30))) == {("u1", t): "on-track"}
    with db.session() as s:
        s.execute(update(Report).values(status="withdrawn"))
    assert statuses(bot.run(sh(2026, 11, 23, 10, 0))) == {("u1", t): "sent"}


def test_lean_pass_sends_the_same_and_skips_what_cannot_be_due(db: Database, bot: Bot) -> None:
    t = add_task(db, "m", target=1)
    idle = add_task(db, "q", cadence="quarterly", target=1)  # no stage live on Nov 23
    for u in ("u1", "u2", "u3"):
        add_person(db, u)
    add_reports(db, "u3", t, date(2026, 11, 4))
    assert bot.engine.run_pass(sh(2026, 11, 23, 22, 0), full=False).candidates == []  # quiet hours: nothing
    lean = bot.engine.run_pass(sh(2026, 11, 23, 9, 30), full=False)
    assert statuses(lean) == {("u1", t): "sent", ("u2", t): "sent", ("u3", t): "on-track"}
    assert all(c.task_id != idle for c in lean.candidates)
    assert statuses(bot.engine.run_pass(sh(2026, 11, 23, 9, 31), full=False)) == {("u3", t): "on-track"}
    assert len(bot.sender.sent) == 1


def test_moving_a_stage_time_after_it_went_out_does_not_send_again(db: Database, bot: Bot) -> None:
    t = add_task(db, "m", reminder_stages=[{"days_before": 7, "time": "09:30"}])
    add_person(db, "u1")
    assert statuses(bot.run(sh(2026, 11, 23, 9, 30))) == {("u1", t): "sent"}
    update_task(db, t, reminder_stages=[{"days_before": 7, "time": "10:00"}])
    assert statuses(bot.run(sh(2026, 11, 23, 10, 0))) == {("u1", t): "already-sent"}
    assert len(bot.texts("u1")) == 1
