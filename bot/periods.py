"""Period arithmetic for task cadences: pure functions on local dates, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

CADENCES = ("monthly", "quarterly", "yearly", "once")
CADENCE_NAMES = {"monthly": "本月", "quarterly": "本季度", "yearly": "本年度", "once": ""}


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


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)
