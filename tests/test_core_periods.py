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
        period_of("weekly", date(2026, 3, 1))
