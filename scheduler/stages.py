"""Stage instants, quiet hours and off days: pure functions on aware datetimes, no I/O.

The staleness rule (what a pass may still send) lives here so it is tested directly:

* only the task's *current* period counts: once the local date is past the period's end, its
  reminders are stale and the office escalation takes over;
* within the period, only the *latest* stage whose instant has passed is live; earlier stages are
  superseded (a service that was down for a week sends one reminder, not two);
* nothing goes out while the pass instant is in quiet hours or on an off day; a stage that fell
  there goes out at the first allowed instant after it (which is `next_allowed(stage_instant)`),
  unless that is past the period's end: then it moves to the previous working day at the stage's
  time (`previous_allowed`), so a deadline inside a holiday is still announced before it; only a
  stage with no allowed day left in the period is stale.

Off days are the office's own (`reminders.off_days`) plus, with `reminders.holidays: cn`, China's
statutory holidays, weekends and 调休 working days from the maintained chinese-calendar package;
a year that package does not know yet falls back to Monday–Friday.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import chinese_calendar

from bot.config import ConfigError
from bot.offdays import parse_off_days
from bot.periods import Period, deadline_of

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
ESCALATION_STAGE = "escalation"
HOLIDAY_CALENDARS = ("cn", "none")


def cn_workday(d: date) -> bool:
    """A working day in mainland China (holidays and 调休 included); Mon–Fri outside the package's years."""
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return d.weekday() < 5


def parse_hhmm(value: str) -> time:
    """'09:30' -> time(9, 30); ValueError otherwise."""
    m = _HHMM.match(str(value).strip())
    if not m:
        raise ValueError(f"not HH:MM: {value!r}")
    return time(int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True, slots=True, order=True)
class StageSpec:
    """A reminder stage: `days_before` the period's last day, at local `at`."""

    days_before: int
    at: time

    @property
    def key(self) -> str:
        """Name stored in the delivery log, e.g. 'd7'. The time is left out on purpose: moving a
        stage from 09:30 to 10:00 after it went out must not send it again."""
        return f"d{self.days_before}"

    def instant(self, period: Period, tz: tzinfo, deadline_day: int | None = None) -> datetime:
        """The aware instant of this stage for `period`: local date = the period's deadline - days_before.

        The deadline is the period's last day, or `deadline_day` of its last month when the task
        has one (a plan's "每月28日前上报"): stages then count back from that day.
        """
        due = deadline_of(period, deadline_day)
        return datetime.combine(due - timedelta(days=self.days_before), self.at, tzinfo=tz)


def parse_stages(raw: Sequence[dict[str, Any]] | None, default: Sequence[dict[str, Any]]) -> list[StageSpec]:
    """A task's stages: its own list when set (an empty list means no reminders), else the default.

    Two entries with the same days_before are one stage at the earlier time. Raises ValueError
    naming the bad entry, so the office sees which task is misconfigured.
    """
    entries = default if raw is None else raw
    out: dict[int, StageSpec] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError(f"stage must be a mapping: {entry!r}")
        days = entry.get("days_before")
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise ValueError(f"stage days_before must be a whole number >= 0: {entry!r}")
        spec = StageSpec(days, parse_hhmm(str(entry.get("time", "09:30"))))
        if days not in out or spec.at < out[days].at:
            out[days] = spec
    return sorted(out.values(), key=lambda s: -s.days_before)


@dataclass(frozen=True, slots=True)
class QuietRules:
    """When nothing may be sent: a daily quiet window (may cross midnight) and off days."""

    tz: tzinfo
    quiet_start: time | None = None
    quiet_end: time | None = None
    off_dates: frozenset[date] = frozenset()
    off_weekdays: frozenset[int] = frozenset()
    holidays: str = "none"  # cn: China's statutory calendar on top of the office's off days

    @classmethod
    def build(cls, tz: tzinfo, quiet_start: str, quiet_end: str, off_days: Iterable[str],
              holidays: str = "none") -> QuietRules:
        """From settings strings; off days are ISO dates or weekday names ('sat', 'sunday', '周日')."""
        try:
            dates, weekdays = parse_off_days(off_days)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if holidays not in HOLIDAY_CALENDARS:
            raise ConfigError("reminders.holidays: must be cn or none")
        start, end = parse_hhmm(quiet_start), parse_hhmm(quiet_end)
        if start == end:
            return cls(tz, None, None, dates, weekdays, holidays)
        return cls(tz, start, end, dates, weekdays, holidays)

    def is_off_day(self, d: date) -> bool:
        if d in self.off_dates or d.weekday() in self.off_weekdays:
            return True
        return self.holidays == "cn" and not cn_workday(d)

    def in_quiet_hours(self, t: time) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= t < self.quiet_end
        return t >= self.quiet_start or t < self.quiet_end

    def allowed(self, instant: datetime) -> bool:
        """True when a message may go out at `instant`."""
        local = instant.astimezone(self.tz)
        return not self.is_off_day(local.date()) and not self.in_quiet_hours(local.time())

    def next_allowed(self, instant: datetime) -> datetime:
        """The earliest instant at or after `instant` when sending is allowed (aware, office zone)."""
        local = instant.astimezone(self.tz)
        for _ in range(3 * 366):
            if self.is_off_day(local.date()):
                local = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=self.tz)
                continue
            if self.in_quiet_hours(local.time()):
                assert self.quiet_end is not None and self.quiet_start is not None
                day = local.date()
                if self.quiet_start > self.quiet_end and local.time() >= self.quiet_start:
                    day += timedelta(days=1)
                local = datetime.combine(day, self.quiet_end, tzinfo=self.tz)
                continue
            return local
        raise ValueError("no allowed sending time within three years: check reminders.off_days")

    def previous_allowed(self, instant: datetime, *, not_before: date) -> datetime | None:
        """The same local time on the latest allowed day before `instant`'s day (clamped out of quiet
        hours within that day), or None when no such day falls on or after `not_before`."""
        local = instant.astimezone(self.tz)
        day = local.date() - timedelta(days=1)
        while day >= not_before:
            if not self.is_off_day(day):
                candidate = datetime.combine(day, local.time(), tzinfo=self.tz)
                if self.allowed(candidate):
                    return candidate
                later = self.next_allowed(candidate)
                if later.astimezone(self.tz).date() == day:
                    return later
            day -= timedelta(days=1)
        return None


@dataclass(frozen=True, slots=True)
class DueStage:
    """The live stage of a period at some instant, with its nominal and deferred send instants."""

    spec: StageSpec
    period: Period
    nominal: datetime
    send_at: datetime

    @property
    def key(self) -> str:
        return self.spec.key


def live_stage(
    specs: Sequence[StageSpec], period: Period, now: datetime, rules: QuietRules, deadline_day: int | None = None
) -> DueStage | None:
    """The latest stage of `period` whose nominal instant is at or before `now`, if not stale.

    None when `now` is outside the period (local date), when no stage has come yet, or when the
    stage's deferred send time falls after the period's end.
    """
    local_day = now.astimezone(rules.tz).date()
    if not period.contains(local_day):
        return None
    passed = []
    for s in specs:
        moved = moved_instant(s, period, rules, deadline_day)
        if moved is not None and moved[0] <= now:
            passed.append((moved, s))
    if not passed:
        return None
    (nominal, send_at), spec = max(passed, key=lambda ms: (ms[0][0], -ms[1].days_before))
    return DueStage(spec, period, nominal, send_at)


def moved_instant(spec: StageSpec, period: Period, rules: QuietRules,
                  deadline_day: int | None = None) -> tuple[datetime, datetime] | None:
    """(when the stage counts as come, when it may go out). Normally (nominal, first allowed instant
    after it); when that is past the period's deadline (its end, or its deadline day), both are the
    previous working day at the stage's time; None when no allowed day is left in the period for it."""
    nominal = spec.instant(period, rules.tz, deadline_day)
    send_at = rules.next_allowed(nominal)
    if send_at.astimezone(rules.tz).date() <= deadline_of(period, deadline_day):
        return nominal, send_at
    earlier = rules.previous_allowed(nominal, not_before=period.start)
    return None if earlier is None else (earlier, earlier)


def next_stage_instant(specs: Sequence[StageSpec], period: Period, now: datetime, rules: QuietRules,
                       deadline_day: int | None = None) -> datetime | None:
    """The next deferred send instant after `now` within `period`, for logging and wake-ups."""
    moved = [moved_instant(s, period, rules, deadline_day) for s in specs]
    future = [m[1] for m in moved if m is not None and m[0] > now]
    return min(future) if future else None


def escalation_instant(period: Period, at: time, tz: tzinfo) -> datetime:
    """When the office hears who is behind: the day after the period ends, at `at` local time."""
    return datetime.combine(period.end + timedelta(days=1), at, tzinfo=tz)
