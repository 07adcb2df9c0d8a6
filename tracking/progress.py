"""Progress of people against tasks: who a task applies to, what counts, per period.

This module is the contract the reminder scheduler relies on (see notes/common.md); keep the
signatures of `applies_to`, `done_counts`, `current_period` and `tasks_for` stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Person, Report, Task
from bot.periods import Period, deadline_of, period_of

AUDIENCE_ROLE = {"liaisons": "liaison", "office": "admin"}


def applies_to(task: Task, person: Person) -> bool:
    """True when `person` is expected to do `task`: both active, the audience's role, the filter's lists."""
    if not task.active or not person.active:
        return False
    if task.audience not in AUDIENCE_ROLE:  # someone the bot does not remind (e.g. the county)
        return False
    if AUDIENCE_ROLE[task.audience] != person.role:
        return False
    flt = task.audience_filter or {}
    roles, villages, userids = flt.get("roles") or [], flt.get("villages") or [], flt.get("userids") or []
    if roles and person.role not in roles:
        return False
    if villages and person.village not in villages:
        return False
    return not (userids and person.userid not in userids)


def done_counts(session: Session, task: Task, userids: Sequence[str], period: Period) -> dict[str, int]:
    """Active reports per userid linked to `task` with an activity date inside `period` (inclusive).

    Every requested userid is in the result (0 when none); one grouped query.
    """
    counts = {u: 0 for u in userids}
    if not counts:
        return counts
    rows = session.execute(
        select(Report.userid, func.count(Report.id))
        .where(
            Report.task_id == task.id,
            Report.status == "active",
            Report.activity_date >= period.start,
            Report.activity_date <= period.end,
            Report.userid.in_(list(counts)),
        )
        .group_by(Report.userid)
    ).all()
    for userid, n in rows:
        counts[userid] = int(n)
    return counts


def current_period(task: Task, local_day: date) -> Period:
    """The task's period containing `local_day` (a once task: its single period up to the due date)."""
    return period_of(task.cadence, local_day, due_date=task.due_date)


def tasks_for(session: Session, person: Person) -> list[Task]:
    """Active tasks that apply to `person`, in a stable order (by id)."""
    tasks = session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id)).all()
    return [t for t in tasks if applies_to(t, person)]


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """One line of a person's progress: a task, its current period, done/target and the due date."""

    task_id: int
    key: str
    title: str
    cadence: str
    period: Period
    done: int
    target: int
    due: date

    @property
    def complete(self) -> bool:
        return self.done >= self.target


def progress_for(session: Session, person: Person, local_day: date) -> list[TaskProgress]:
    """The person's progress on every task that applies to them, this period."""
    out: list[TaskProgress] = []
    for task in tasks_for(session, person):
        period = current_period(task, local_day)
        done = done_counts(session, task, [person.userid], period)[person.userid]
        out.append(TaskProgress(task.id, task.key, task.title, task.cadence, period, done, task.target,
                                deadline_of(period, task.deadline_day)))
    return out


def task_progress(session: Session, task: Task, person: Person, local_day: date) -> TaskProgress:
    """Progress of one person on one task (used in the report confirmation)."""
    period = current_period(task, local_day)
    done = done_counts(session, task, [person.userid], period)[person.userid]
    return TaskProgress(task.id, task.key, task.title, task.cadence, period, done, task.target,
                        deadline_of(period, task.deadline_day))


def office_overview(session: Session, local_day: date) -> list[dict[str, object]]:
    """Every (task, person) pair this period, for the admin pages: one query per task."""
    people = session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.village,
                                                                                    Person.userid)).all()
    rows: list[dict[str, object]] = []
    for task in session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id)).all():
        who = [p for p in people if applies_to(task, p)]
        if not who:
            continue
        period = current_period(task, local_day)
        counts = done_counts(session, task, [p.userid for p in who], period)
        for p in who:
            rows.append({"task": task.title, "task_key": task.key, "cadence": task.cadence, "period": period.key, "userid": p.userid,
                         "name": p.name, "village": p.village, "done": counts[p.userid],
                         "target": task.target, "due": deadline_of(period, task.deadline_day).isoformat()})
    return rows
