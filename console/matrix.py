"""进度: villages × tasks for one console period, who is behind, and each task's year by month.

Read-only; one query for the people, one for the tasks and one for the reports of the widest
window, then counted in Python (an office has hundreds of people and a handful of tasks).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Person, Report, Task
from console import texts
from console.periods import View, Window, months_of_year, task_window
from tracking.progress import applies_to


@dataclass(frozen=True, slots=True)
class PersonRow:
    userid: str
    name: str
    village: str
    done: int
    target: int

    @property
    def behind(self) -> bool:
        return self.done < self.target


@dataclass
class Cell:
    """One village × task: the sum over its people of min(done, target) against their targets."""

    done: int = 0
    target: int = 0
    people: list[PersonRow] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.done / self.target if self.target else 1.0

    @property
    def level(self) -> str:
        """CSS class: full, part, none."""
        if self.done >= self.target:
            return "full"
        return "part" if self.done else "none"


@dataclass
class TaskColumn:
    task: Task
    window: Window
    target_each: int  # per person over the window
    due: date
    is_current: bool  # the window holds today: the behind can still be reminded
    behind: list[PersonRow] = field(default_factory=list)


@dataclass
class Matrix:
    view: View
    columns: list[TaskColumn]
    villages: list[str]
    cells: dict[tuple[str, str], Cell]  # (village, task key)

    def cell(self, village: str, key: str) -> Cell | None:
        return self.cells.get((village, key))


def village_of(person: Person) -> str:
    return person.village or (texts.OFFICE_ROW if person.role == "admin" else texts.NO_VILLAGE)


def task_due(task: Task, window: Window) -> date:
    """The day the window's last count is due: the task's deadline day in that month, if it has one."""
    due = window.due
    day = getattr(task, "deadline_day", None)
    if isinstance(day, int) and 1 <= day < due.day:
        return due.replace(day=day)
    return due


def build_matrix(session: Session, view: View, today: date, *, task_key: str | None = None) -> Matrix:
    people = list(session.scalars(select(Person).where(Person.active.is_(True))
                                  .order_by(Person.village, Person.name, Person.userid)))
    tasks = list(session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id)))
    if task_key:
        tasks = [t for t in tasks if t.key == task_key]
    columns: list[TaskColumn] = []
    for task in tasks:
        window = task_window(task.cadence, view, task.due_date)
        if window is None:
            continue
        columns.append(TaskColumn(task, window, task.target * window.count, task_due(task, window),
                                  window.start <= today <= window.end))
    counts = _counts(session, columns)
    cells: dict[tuple[str, str], Cell] = {}
    villages: dict[str, None] = {}
    for col in columns:
        for p in people:
            if not applies_to(col.task, p):
                continue
            village = village_of(p)
            villages[village] = None
            done = counts[col.task.id][p.userid]
            row = PersonRow(p.userid, p.name, village, done, col.target_each)
            cell = cells.setdefault((village, col.task.key), Cell())
            cell.done += min(done, col.target_each)
            cell.target += col.target_each
            cell.people.append(row)
            if row.behind:
                col.behind.append(row)
    return Matrix(view, columns, sorted(villages, key=lambda v: (v in (texts.OFFICE_ROW, texts.NO_VILLAGE), v)),
                  cells)


def _counts(session: Session, columns: list[TaskColumn]) -> dict[int, Counter[str]]:
    out: dict[int, Counter[str]] = defaultdict(Counter)
    if not columns:
        return out
    start = min(c.window.start for c in columns)
    end = max(c.window.end for c in columns)
    windows = {c.task.id: c.window for c in columns}
    rows = session.execute(select(Report.task_id, Report.userid, Report.activity_date).where(
        Report.status == "active", Report.task_id.in_(list(windows)),
        Report.activity_date >= start, Report.activity_date <= end)).all()
    for task_id, userid, day in rows:
        w = windows[task_id]
        if w.start <= day <= w.end:
            out[task_id][userid] += 1
    return out


@dataclass(frozen=True, slots=True)
class Bar:
    month: int
    count: int


def year_trend(session: Session, task: Task, year: int) -> list[Bar]:
    """Active reports linked to the task in each month of the year."""
    counter: Counter[int] = Counter()
    rows = session.scalars(select(Report.activity_date).where(
        Report.task_id == task.id, Report.status == "active",
        Report.activity_date >= date(year, 1, 1), Report.activity_date <= date(year, 12, 31)))
    for day in rows:
        counter[day.month] += 1
    return [Bar(start.month, counter[start.month]) for start, _ in months_of_year(year)]


def cell_reports(session: Session, task: Task, userids: list[str], window: Window) -> dict[str, list[Report]]:
    """Each person's reports on the task inside the window (withdrawn ones too, marked on the page)."""
    out: dict[str, list[Report]] = {u: [] for u in userids}
    if not userids:
        return out
    rows = session.scalars(select(Report).where(
        Report.task_id == task.id, Report.userid.in_(userids),
        Report.activity_date >= window.start, Report.activity_date <= window.end)
        .order_by(Report.activity_date, Report.id))
    for r in rows:
        out[r.userid].append(r)
    return out
