"""The period an office looks at on the console (month, quarter, half-year, year) and how a task's
own periods fall inside it. Pure functions on local dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.periods import Period, period_of

VIEWS = ("month", "quarter", "half", "year")


@dataclass(frozen=True, slots=True)
class View:
    """A console period: its kind, inclusive dates and a label such as 2026年11月."""

    kind: str
    start: date
    end: date
    label: str

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    def previous(self) -> View:
        return view_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> View:
        return view_of(self.kind, self.end + timedelta(days=1))


def view_of(kind: str, d: date) -> View:
    """The console period of `kind` containing `d` (an unknown kind is a month)."""
    if kind == "quarter":
        q = (d.month - 1) // 3 + 1
        return View(kind, date(d.year, 3 * q - 2, 1), _month_end(d.year, 3 * q), f"{d.year}年第{q}季度")
    if kind == "half":
        first = d.month <= 6
        return View(kind, date(d.year, 1 if first else 7, 1), _month_end(d.year, 6 if first else 12),
                    f"{d.year}年{'上' if first else '下'}半年")
    if kind == "year":
        return View(kind, date(d.year, 1, 1), date(d.year, 12, 31), f"{d.year}年")
    return View("month", d.replace(day=1), _month_end(d.year, d.month), f"{d.year}年{d.month}月")


def parse_view(kind: str | None, at: str | None, today: date) -> View:
    """The view the query string asks for; anything unreadable falls back to the current month."""
    try:
        anchor = date.fromisoformat(at) if at else today
    except ValueError:
        anchor = today
    return view_of(kind if kind in VIEWS else "month", anchor)


@dataclass(frozen=True, slots=True)
class Window:
    """What a task is measured over inside a view: the dates, how many of its periods, their keys."""

    start: date
    end: date
    periods: tuple[Period, ...]

    @property
    def count(self) -> int:
        return len(self.periods)

    @property
    def due(self) -> date:
        return self.periods[-1].end


def task_window(cadence: str, view: View, due_date: date | None = None) -> Window | None:
    """The task's periods that end inside the view; when its period is longer than the view, the one
    period that holds the view's end (a yearly task seen in November: the whole year). None when a
    one-off task's single period does not touch the view, or the cadence is unknown here."""
    try:
        if cadence == "once":
            p = period_of(cadence, view.end, due_date=due_date)
            return Window(p.start, p.end, (p,)) if p.start <= view.end and p.end >= view.start else None
        periods: list[Period] = []
        p = period_of(cadence, view.start)
        while p.start <= view.end:
            if view.start <= p.end <= view.end:
                periods.append(p)
            p = period_of(cadence, p.end + timedelta(days=1))
        if not periods:
            p = period_of(cadence, view.end)
            periods = [p]
    except ValueError:
        return None
    return Window(periods[0].start, periods[-1].end, tuple(periods))


def months_of_year(year: int) -> list[tuple[date, date]]:
    return [(date(year, m, 1), _month_end(year, m)) for m in range(1, 13)]


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)
