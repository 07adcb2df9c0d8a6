"""Period arithmetic: every local date falls in exactly one period of each cadence."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.periods import period_of, previous_period

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(dates, st.sampled_from(["monthly", "quarterly", "yearly"]))
def test_period_contains_its_date_and_tiles(d: date, cadence: str) -> None:
    p = period_of(cadence, d)
    assert p.contains(d)
    assert period_of(cadence, p.end + timedelta(days=1)).start == p.end + timedelta(days=1)
    assert period_of(cadence, p.start) == p == period_of(cadence, p.end)
    assert previous_period(cadence, d).end == p.start - timedelta(days=1)


def test_known_boundaries() -> None:
    assert period_of("monthly", date(2028, 2, 10)).end == date(2028, 2, 29)  # leap year
    assert period_of("monthly", date(2026, 2, 10)).end == date(2026, 2, 28)
    q = period_of("quarterly", date(2026, 11, 21))
    assert (q.key, q.start, q.end) == ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert period_of("yearly", date(2026, 5, 1)).key == "2026"
    once = period_of("once", date(2026, 3, 1), due_date=date(2026, 6, 30))
    assert (once.start, once.end) == (date(2026, 1, 1), date(2026, 6, 30))
    with pytest.raises(ValueError):
        period_of("once", date(2026, 3, 1))
    with pytest.raises(ValueError):
        period_of("daily", date(2026, 3, 1))


def test_weekly_semimonthly_and_half_yearly_boundaries() -> None:
    week = period_of("weekly", date(2026, 12, 3))  # a Thursday
    assert (week.start, week.end, week.key) == (date(2026, 11, 30), date(2026, 12, 6), "2026-W49")
    assert period_of("weekly", date(2027, 1, 1)).key == "2026-W53"  # ISO year of the week's Monday
    first, second = period_of("semimonthly", date(2026, 2, 15)), period_of("semimonthly", date(2026, 2, 16))
    assert (first.start, first.end) == (date(2026, 2, 1), date(2026, 2, 15))
    assert (second.start, second.end, second.key) == (date(2026, 2, 16), date(2026, 2, 28), "2026-02-H2")
    assert period_of("half-yearly", date(2026, 6, 30)).end == date(2026, 6, 30)
    assert period_of("half-yearly", date(2026, 7, 1)).key == "2026-H2"


def test_deadline_day_is_in_the_periods_last_month_and_clamped() -> None:
    from bot.periods import deadline_of

    month = period_of("monthly", date(2026, 2, 10))
    assert deadline_of(month, None) == date(2026, 2, 28)
    assert deadline_of(month, 28) == date(2026, 2, 28)
    assert deadline_of(month, 31) == date(2026, 2, 28)
    assert deadline_of(month, 5) == date(2026, 2, 5)
    assert deadline_of(period_of("quarterly", date(2026, 5, 1)), 10) == date(2026, 6, 10)
    first_half = period_of("semimonthly", date(2026, 3, 2))
    assert deadline_of(first_half, 28) == date(2026, 3, 15)  # never after the period's end
