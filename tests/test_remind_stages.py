"""Stage instants, quiet hours, off days and the staleness rule: pure functions, at awkward dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.periods import period_of
from scheduler.stages import (
    QuietRules,
    StageSpec,
    escalation_instant,
    live_stage,
    next_stage_instant,
    parse_stages,
)

SH = ZoneInfo("Asia/Shanghai")
DEFAULT = [{"days_before": 7, "time": "09:30"}, {"days_before": 1, "time": "09:30"}]


def rules(off: list[str] | None = None, start: str = "21:00", end: str = "08:00") -> QuietRules:
    return QuietRules.build(SH, start, end, off or [])


def sh(y: int, m: int, d: int, hh: int = 9, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_default_stages_and_override() -> None:
    specs = parse_stages(None, DEFAULT)
    assert [s.key for s in specs] == ["d7", "d1"]
    own = parse_stages([{"days_before": 3, "time": "14:00"}], DEFAULT)
    assert [s.key for s in own] == ["d3"]
    assert parse_stages([], DEFAULT) == []  # an empty list switches a task's reminders off


@pytest.mark.parametrize("bad", [[{"days_before": "7"}], [{"days_before": -1}], [{"days_before": 1, "time": "25:00"}],
                                 ["d7"]])
def test_bad_stage_entries_are_refused(bad: list) -> None:
    with pytest.raises(ValueError):
        parse_stages(bad, DEFAULT)


@pytest.mark.parametrize(
    ("cadence", "day", "d7", "d1"),
    [
        ("monthly", date(2026, 11, 10), date(2026, 11, 23), date(2026, 11, 29)),
        ("monthly", date(2028, 2, 3), date(2028, 2, 22), date(2028, 2, 28)),  # leap year: ends 29th
        ("monthly", date(2027, 2, 3), date(2027, 2, 21), date(2027, 2, 27)),  # not leap: ends 28th
        ("quarterly", date(2026, 8, 1), date(2026, 9, 23), date(2026, 9, 29)),
        ("quarterly", date(2026, 12, 5), date(2026, 12, 24), date(2026, 12, 30)),
        ("yearly", date(2026, 3, 1), date(2026, 12, 24), date(2026, 12, 30)),
    ],
)
def test_stage_instants_at_period_ends(cadence: str, day: date, d7: date, d1: date) -> None:
    period = period_of(cadence, day)
    s7, s1 = parse_stages(None, DEFAULT)
    assert s7.instant(period, SH) == datetime.combine(d7, time(9, 30), tzinfo=SH)
    assert s1.instant(period, SH) == datetime.combine(d1, time(9, 30), tzinfo=SH)
    # 09:30 in Shanghai is 01:30 UTC the same day
    assert s1.instant(period, SH).astimezone(timezone.utc).hour == 1


def test_quiet_hours_crossing_midnight() -> None:
    r = rules()
    assert not r.allowed(sh(2026, 11, 23, 21, 0))
    assert not r.allowed(sh(2026, 11, 23, 7, 59))
    assert r.allowed(sh(2026, 11, 23, 8, 0))
    assert r.allowed(sh(2026, 11, 23, 20, 59))
    assert r.next_allowed(sh(2026, 11, 23, 22, 15)) == sh(2026, 11, 24, 8, 0)
    assert r.next_allowed(sh(2026, 11, 24, 3, 0)) == sh(2026, 11, 24, 8, 0)
    assert r.next_allowed(sh(2026, 11, 24, 9, 30)) == sh(2026, 11, 24, 9, 30)


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = rules(start="12:00", end="14:00")
    assert lunch.next_allowed(sh(2026, 11, 23, 12, 30)) == sh(2026, 11, 23, 14, 0)
    assert lunch.allowed(sh(2026, 11, 23, 23, 0))
    never = rules(start="00:00", end="00:00")
    assert never.allowed(sh(2026, 11, 23, 3, 0))


def test_off_days_defer_to_next_working_morning() -> None:
    r = rules(off=["2026-10-01", "2026-10-02", "sun"])
    # 2026-09-30 09:30 is fine; 2026-10-01 (holiday) moves to 10-03 08:00; 2026-10-04 is a Sunday.
    assert r.next_allowed(sh(2026, 9, 30)) == sh(2026, 9, 30)
    assert r.next_allowed(sh(2026, 10, 1)) == sh(2026, 10, 3, 8, 0)
    assert r.next_allowed(sh(2026, 10, 3, 22, 0)) == sh(2026, 10, 5, 8, 0)


def test_bad_off_day_is_refused_with_the_key_name() -> None:
    with pytest.raises(ValueError, match="reminders.off_days"):
        rules(off=["next friday"])


def test_live_stage_supersedes_earlier_and_goes_stale_after_period() -> None:
    r = rules()
    specs = parse_stages(None, DEFAULT)
    period = period_of("monthly", date(2026, 11, 1))
    assert live_stage(specs, period, sh(2026, 11, 23, 9, 29), r) is None
    assert live_stage(specs, period, sh(2026, 11, 23, 9, 30), r).key == "d7"
    # down from the 22nd to the 29th: only the 1-day stage is live, not both
    assert live_stage(specs, period, sh(2026, 11, 29, 10, 0), r).key == "d1"
    assert live_stage(specs, period, sh(2026, 11, 30, 23, 59), r).key == "d1"
    # the period has ended: stale, the office summary takes over
    assert live_stage(specs, period, sh(2026, 12, 1, 8, 0), r) is None


def test_stage_deferred_past_period_end_moves_to_the_previous_working_day() -> None:
    """Issue 13: a stage whose next allowed day is past the deadline goes out the working day before."""
    r = rules(off=["2026-11-29", "2026-11-30"])
    specs = parse_stages([{"days_before": 1, "time": "09:30"}], DEFAULT)
    period = period_of("monthly", date(2026, 11, 1))
    assert live_stage(specs, period, sh(2026, 11, 28, 9, 0), r) is None  # not yet
    stage = live_stage(specs, period, sh(2026, 11, 28, 9, 30), r)
    assert stage is not None and stage.send_at == sh(2026, 11, 28, 9, 30)
    assert next_stage_instant(specs, period, sh(2026, 11, 27, 12, 0), r) == sh(2026, 11, 28, 9, 30)


def test_stage_with_no_allowed_day_left_in_the_period_is_stale() -> None:
    r = rules(off=[f"2026-11-{d:02d}" for d in range(1, 31)])
    specs = parse_stages([{"days_before": 1, "time": "09:30"}], DEFAULT)
    period = period_of("monthly", date(2026, 11, 1))
    assert live_stage(specs, period, sh(2026, 11, 29, 10, 0), r) is None


def test_stage_on_off_day_is_deferred_not_lost() -> None:
    r = rules(off=["2026-11-23"])
    specs = parse_stages(None, DEFAULT)
    period = period_of("monthly", date(2026, 11, 1))
    stage = live_stage(specs, period, sh(2026, 11, 24, 8, 0), r)
    assert stage is not None and stage.key == "d7"
    assert stage.send_at == sh(2026, 11, 24, 8, 0)
    assert next_stage_instant(specs, period, sh(2026, 11, 20), r) == sh(2026, 11, 24, 8, 0)


def test_escalation_is_the_morning_after_the_period() -> None:
    period = period_of("quarterly", date(2028, 2, 29))
    assert escalation_instant(period, time(9, 30), SH) == sh(2028, 4, 1, 9, 30)
    year = period_of("yearly", date(2026, 6, 1))
    assert escalation_instant(year, time(9, 30), SH) == sh(2027, 1, 1, 9, 30)


def test_once_task_period_and_stage() -> None:
    period = period_of("once", date(2026, 6, 1), due_date=date(2026, 6, 30))
    (spec,) = parse_stages([{"days_before": 0, "time": "08:30"}], DEFAULT)
    assert spec.instant(period, SH) == sh(2026, 6, 30, 8, 30)


@settings(max_examples=600, deadline=None)
# The repeated hour of New York's autumn change: 06:30 UTC is 01:30 EST (fold=1), an allowed instant.
@example(instant=datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc), off=set(), start="12:00", end="00:00",
         zone="America/New_York")
@given(
    instant=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),
                         timezones=st.just(timezone.utc)),
    off=st.sets(st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 1, 10)), max_size=40),
    start=st.sampled_from(["21:00", "22:30", "12:00", "00:00", "02:30"]),
    end=st.sampled_from(["08:00", "07:15", "14:00", "00:00", "02:30"]),
    zone=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York"]),  # the last two have DST
)
def test_next_allowed_is_allowed_and_earliest(instant: datetime, off: set[date], start: str, end: str,
                                              zone: str) -> None:
    r = QuietRules.build(ZoneInfo(zone), start, end, [d.isoformat() for d in off])
    nxt = r.next_allowed(instant)
    assert nxt >= instant
    assert r.allowed(nxt)
    if r.allowed(instant):
        # Compared in UTC: Python treats an instant in a repeated (DST fold) hour as unequal to the
        # same instant in another zone (PEP 495), though it is the same moment.
        assert nxt.astimezone(timezone.utc) == instant
    else:
        # nothing allowed in between: probe each minute step back from the answer
        probe = nxt - timedelta(minutes=1)
        if probe >= instant:
            assert not r.allowed(probe)


def test_stage_spec_key_fits_the_delivery_column() -> None:
    assert len(StageSpec(365, time(23, 59)).key) <= 32


def test_same_day_stages_merge_at_the_earlier_time() -> None:
    (spec,) = parse_stages([{"days_before": 1, "time": "16:00"}, {"days_before": 1, "time": "09:00"}], DEFAULT)
    assert spec == StageSpec(1, time(9, 0)) and spec.key == "d1"


def test_stages_count_back_from_the_deadline_day() -> None:
    """A plan's "每月20日前上报": the 7-day and 1-day reminders fall on the 13th and the 19th."""
    r = rules()
    specs = parse_stages(None, DEFAULT)
    period = period_of("monthly", date(2026, 11, 1))  # 2026-11-13 and 11-19 are working days
    assert [s.instant(period, SH, 20).date() for s in specs] == [date(2026, 11, 13), date(2026, 11, 19)]
    assert live_stage(specs, period, sh(2026, 11, 13, 9, 29), r, deadline_day=20) is None
    assert live_stage(specs, period, sh(2026, 11, 13, 9, 30), r, deadline_day=20).key == "d7"
    assert live_stage(specs, period, sh(2026, 11, 19, 9, 30), r, deadline_day=20).key == "d1"
    assert next_stage_instant(specs, period, sh(2026, 11, 14), r, deadline_day=20) == sh(2026, 11, 19)
    # without a deadline day the same stages count back from the month's end
    assert live_stage(specs, period, sh(2026, 11, 19, 9, 30), r) is None


def test_deadline_day_on_an_off_day_moves_the_stage_before_it() -> None:
    r = rules(off=["sat", "sun"])
    specs = parse_stages([{"days_before": 0, "time": "09:30"}], DEFAULT)
    period = period_of("monthly", date(2026, 11, 1))  # 2026-11-22 is a Sunday
    stage = live_stage(specs, period, sh(2026, 11, 20, 10, 0), r, deadline_day=22)
    assert stage is not None and stage.send_at.date() == date(2026, 11, 20)  # the Friday before, not the Monday after
