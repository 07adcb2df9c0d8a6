"""A holiday week: Mid-Autumn and National Day 2026 with today's defaults (holidays: cn, 09:20 stages).

Passes run every 20 minutes from 27 September to 13 October, as the scheduler would; the test
records when each reminder and office summary went out. Nothing goes out on a holiday or an
ordinary Sunday, a stage whose next working day is past the week's end moves to the working day
before, and the 调休 Saturday (10 October) is a working day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import FixedClock
from bot.wecom.sender import LogSender
from scheduler.engine import ReminderEngine
from scheduler.stages import QuietRules, cn_workday
from tests.conftest import make_settings
from tests.helpers_remind import SH, add_person, add_task, make_services, sh


def run_weeks(db: Any, tmp_path: Path, **reminders: Any) -> list[tuple[datetime, str, str]]:
    """(local time, recipient, first line) of every message sent by passes every 20 minutes."""
    add_task(db, "weekly", title="每周动态", cadence="weekly", target=1)
    add_person(db, "u1")
    add_person(db, "boss", role="admin", village="")
    settings = make_settings(tmp_path, legacy_reminders=False, reminders=reminders,
                             tasks_file=str(tmp_path / "none.yaml"))
    sender = LogSender()
    engine = ReminderEngine(make_services(settings, db, FixedClock(sh(2026, 9, 27)), sender), backoff_s=0.0)
    out: list[tuple[datetime, str, str]] = []
    at = sh(2026, 9, 27, 0, 0)
    while at < sh(2026, 10, 13, 12, 0):
        seen = len(sender.sent)
        engine.run_pass(at)
        for m in sender.sent[seen:]:
            for user in m["users"]:
                out.append((at.astimezone(SH), user, m["text"].splitlines()[0]))
        at += timedelta(minutes=20)
    return out


def test_holiday_week(sqlite_db: Any, tmp_path: Path) -> None:
    sent = run_weeks(sqlite_db, tmp_path)
    reminders = [(t.date(), t.strftime("%H:%M")) for t, user, _ in sent if user == "u1"]
    assert reminders == [
        (date(2026, 9, 28), "08:00"),   # week 40's d7 fell on Sunday 27th (Mid-Autumn): Monday, quiet hours over
        (date(2026, 9, 30), "09:20"),   # d1 fell on 3 Oct (National Day), next working day past the week: moved back
        (date(2026, 10, 8), "08:00"),   # week 41's d7 fell on 4 Oct: the first working day after the holiday
        (date(2026, 10, 10), "09:20"),  # d1 on Saturday 10 Oct, a 调休 working day
        (date(2026, 10, 12), "08:00"),  # week 42's d7 fell on an ordinary Sunday
    ]
    summaries = [t.date() for t, user, _ in sent if user == "boss"]
    # week 39's on Monday 28 Sep; week 40's (due Monday 5 Oct) waits out the holiday; week 41's on 12 Oct
    assert summaries == [date(2026, 9, 28), date(2026, 10, 8), date(2026, 10, 12)]
    for t, _, _ in sent:
        assert cn_workday(t.date()), f"sent on a day off: {t}"


def test_holidays_none_sends_on_the_nominal_days(sqlite_db: Any, tmp_path: Path) -> None:
    sent = run_weeks(sqlite_db, tmp_path, holidays="none")
    reminders = [t.date() for t, user, _ in sent if user == "u1"]
    assert reminders == [date(2026, 9, 27), date(2026, 9, 28), date(2026, 10, 3), date(2026, 10, 5),
                         date(2026, 10, 10), date(2026, 10, 12)]  # week 39's d1 included, on its Sunday


def test_office_off_days_come_on_top_of_the_calendar() -> None:
    rules = QuietRules.build(SH, "21:00", "08:00", ["2026-10-09"], "cn")
    assert rules.is_off_day(date(2026, 10, 9)) and rules.is_off_day(date(2026, 10, 1))
    assert not rules.is_off_day(date(2026, 10, 10))  # 调休
    assert rules.is_off_day(date(2031, 6, 1))  # a Sunday past the package's years: weekdays only
