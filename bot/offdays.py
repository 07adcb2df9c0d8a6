"""Off days as the office writes them in config.yaml: ISO dates or weekday names. Pure, no I/O.

Lives in the platform so that settings can be validated without importing the scheduler.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

WEEKDAYS = {
    "mon": 0, "monday": 0, "周一": 0, "星期一": 0,
    "tue": 1, "tuesday": 1, "周二": 1, "星期二": 1,
    "wed": 2, "wednesday": 2, "周三": 2, "星期三": 2,
    "thu": 3, "thursday": 3, "周四": 3, "星期四": 3,
    "fri": 4, "friday": 4, "周五": 4, "星期五": 4,
    "sat": 5, "saturday": 5, "周六": 5, "星期六": 5,
    "sun": 6, "sunday": 6, "周日": 6, "周天": 6, "星期日": 6, "星期天": 6,
}


def parse_off_days(off_days: Iterable[object]) -> tuple[frozenset[date], frozenset[int]]:
    """(dates, weekdays) from ISO dates and weekday names ('sat', 'sunday', '周日').

    Raises ValueError naming the entry that is neither, for the caller to report as a setting error.
    """
    dates: set[date] = set()
    weekdays: set[int] = set()
    for raw in off_days:
        text = str(raw).strip()
        if text.lower() in WEEKDAYS:
            weekdays.add(WEEKDAYS[text.lower()])
            continue
        try:
            dates.add(date.fromisoformat(text))
        except ValueError:
            raise ValueError(f"reminders.off_days: not a date (YYYY-MM-DD) or weekday: {text!r}") from None
    return frozenset(dates), frozenset(weekdays)
