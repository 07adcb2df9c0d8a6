"""Period arithmetic for task cadences: pure functions on local dates, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

CADENCES = ("weekly", "semimonthly", "monthly", "quarterly", "half-yearly", "yearly", "once")
CADENCE_NAMES = {"weekly": "本周", "semimonthly": "本半月", "monthly": "本月", "quarterly": "本季度",
                 "half-yearly": "本半年", "yearly": "本年度", "once": ""}


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period: inclusive local dates [start, end] and a stable key such as 2026-11, 2026-Q4, 2026."""

    key: str
    start: date
    end: date

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end


def period_of(cadence: str, d: date, due_date: date | None = None, start_date: date | None = None) -> Period:
    """The period of `cadence` that contains local date `d`.

    A `once` task has a single period ending on its due date (starting at `start_date`, or the
    first day of the due date's year when none is given).
    """
    if cadence == "weekly":  # ISO weeks, Monday to Sunday
        start = d - timedelta(days=d.weekday())
        iso = start.isocalendar()
        return Period(f"{iso.year:04d}-W{iso.week:02d}", start, start + timedelta(days=6))
    if cadence == "semimonthly":  # the 1st to the 15th, the 16th to the month's end
        if d.day <= 15:
            return Period(f"{d.year:04d}-{d.month:02d}-H1", d.replace(day=1), d.replace(day=15))
        return Period(f"{d.year:04d}-{d.month:02d}-H2", d.replace(day=16), _month_end(d.year, d.month))
    if cadence == "half-yearly":
        if d.month <= 6:
            return Period(f"{d.year:04d}-H1", date(d.year, 1, 1), date(d.year, 6, 30))
        return Period(f"{d.year:04d}-H2", date(d.year, 7, 1), date(d.year, 12, 31))
    if cadence == "monthly":
        start = d.replace(day=1)
        return Period(f"{d.year:04d}-{d.month:02d}", start, _month_end(d.year, d.month))
    if cadence == "quarterly":
        q = (d.month - 1) // 3 + 1
        start = date(d.year, 3 * q - 2, 1)
        return Period(f"{d.year:04d}-Q{q}", start, _month_end(d.year, 3 * q))
    if cadence == "yearly":
        return Period(f"{d.year:04d}", date(d.year, 1, 1), date(d.year, 12, 31))
    if cadence == "once":
        if due_date is None:
            raise ValueError("a once task needs a due date")
        start = start_date or date(due_date.year, 1, 1)
        return Period(f"once-{due_date.isoformat()}", start, due_date)
    raise ValueError(f"unknown cadence {cadence!r}")


def previous_period(cadence: str, d: date) -> Period:
    """The period just before the one containing `d` (not defined for once tasks)."""
    current = period_of(cadence, d)
    return period_of(cadence, current.start - timedelta(days=1))


def deadline_of(period: Period, deadline_day: int | None) -> date:
    """The day a period's count is due: `deadline_day` of the period's last month (clamped to the
    month, and never before the period starts), or the period's last day when there is none."""
    if deadline_day is None:
        return period.end
    month_end = _month_end(period.end.year, period.end.month)
    day = date(period.end.year, period.end.month, min(max(deadline_day, 1), month_end.day))
    return min(max(day, period.start), period.end)


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)
