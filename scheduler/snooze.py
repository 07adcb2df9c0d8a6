"""明天再提醒: defer one person's reminder for one task to the next allowed time, once per stage.

A snooze row (reminder_snoozes, unique per task, person, period and stage) is written by the
person's tap or typed command; the reminder pass sends the deferred reminder once `until` has
come (claimed in the delivery log under stage "<stage>+s", so it also goes out exactly once) and
only if the person is still behind. "Tomorrow" is the next allowed day (holidays, off days and
quiet hours respected) at the stage's own time; a snooze that would land after the task's deadline
is refused, since the reminder would come too late to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.db.models import Person, ReminderSnooze, Task
from bot.periods import deadline_of
from scheduler.planner import ReminderPlanner, as_utc
from scheduler.stages import live_stage
from tracking.progress import applies_to, current_period, done_counts

if TYPE_CHECKING:
    from bot.db.database import Database

SNOOZE_SUFFIX = "+s"


@dataclass(frozen=True, slots=True)
class SnoozeResult:
    """`snoozed`, `already` (this stage was deferred before), `none` (no reminder to defer),
    `too-late` (tomorrow is past the deadline), `done` (the task is met) or `unknown` (no such task)."""

    status: str
    title: str = ""
    until: datetime | None = None
    due: date | None = None  # the task's deadline this period


def snooze(db: Database, planner: ReminderPlanner, userid: str, task_id: int, now: datetime) -> SnoozeResult:
    """Defer `userid`'s reminder for `task_id` (the stage live at `now`) to the next allowed day."""
    local_day = now.astimezone(planner.tz).date()
    with db.session() as session:
        task = session.get(Task, task_id)
        person = session.scalar(select(Person).where(Person.userid == userid))
        if task is None or not task.active or person is None or not applies_to(task, person):
            return SnoozeResult("unknown")
        period = current_period(task, local_day)
        if not period.contains(local_day):
            return SnoozeResult("none", task.title)
        if done_counts(session, task, [userid], period).get(userid, 0) >= task.target:
            return SnoozeResult("done", task.title)
        stage = live_stage(planner.stages_of(task), period, now, planner.rules, task.deadline_day)
        if stage is None:
            return SnoozeResult("none", task.title)
        existing = session.scalar(select(ReminderSnooze).where(
            ReminderSnooze.task_id == task_id, ReminderSnooze.userid == userid,
            ReminderSnooze.period_key == period.key, ReminderSnooze.stage == stage.key))
        if existing is not None:
            return SnoozeResult("already", task.title, as_utc(existing.until))
        tomorrow = datetime.combine(local_day + timedelta(days=1), stage.spec.at, tzinfo=planner.tz)
        until = planner.rules.next_allowed(tomorrow)
        deadline = deadline_of(period, task.deadline_day)
        if until.astimezone(planner.tz).date() > deadline:
            return SnoozeResult("too-late", task.title, due=deadline)
        title = task.title
    try:
        with db.session() as session:
            # UTC, like every instant the scheduler writes (SQLite compares them as text)
            session.add(ReminderSnooze(task_id=task_id, userid=userid, period_key=period.key, stage=stage.key,
                                       until=until.astimezone(timezone.utc), created_at=now.astimezone(timezone.utc)))
    except IntegrityError:  # the same tap arrived twice at once: the other one won
        return SnoozeResult("already", title, until, deadline)
    return SnoozeResult("snoozed", title, until, deadline)


@dataclass(frozen=True, slots=True)
class DueSnooze:
    row_id: int
    task_id: int
    userid: str
    period_key: str
    stage: str


def due_snoozes(db: Database, now: datetime) -> list[DueSnooze]:
    with db.session() as session:
        rows = session.execute(
            select(ReminderSnooze.id, ReminderSnooze.task_id, ReminderSnooze.userid, ReminderSnooze.period_key,
                   ReminderSnooze.stage)
            .where(ReminderSnooze.sent_at.is_(None), ReminderSnooze.until <= now.astimezone(timezone.utc))
            .order_by(ReminderSnooze.id)
        ).all()
    return [DueSnooze(*row) for row in rows]


def close_snoozes(db: Database, row_ids: list[int], now: datetime) -> None:
    """Mark snoozes handled: their reminder went out, or is no longer needed."""
    if not row_ids:
        return
    with db.session() as session:
        for row in session.scalars(select(ReminderSnooze).where(ReminderSnooze.id.in_(row_ids))):
            row.sent_at = now.astimezone(timezone.utc)
