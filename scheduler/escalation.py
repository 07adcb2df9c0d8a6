"""The office's summary of who is still behind, the day after a period ends, exactly once.

Each (task, admin, ended period) gets a delivery row with stage 'escalation', claimed like any
reminder, so one admin gets one summary per period however many processes or passes run.
The summary is due from `escalation_time` local on the day after the period's last day
(deferred out of quiet hours and off days) and stays due for ESCALATION_WINDOW days; a service
that was down longer than that skips it rather than reporting on a long-closed period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Person, ReminderDelivery, Task
from bot.periods import Period
from scheduler.planner import QUERY_CHUNK, chunked, retry_ready
from scheduler.render import BehindPerson, EscalationSection
from scheduler.stages import ESCALATION_STAGE, QuietRules, escalation_instant, parse_hhmm
from tracking.progress import applies_to, current_period, done_counts

if TYPE_CHECKING:
    from bot.config import Settings

ESCALATION_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class EndedTask:
    """A task whose period ended and whose office summary is due now."""

    task_id: int
    title: str
    period: Period
    target: int
    considered: int
    section: EscalationSection


@dataclass(frozen=True, slots=True)
class EscalationPlan:
    admins: Sequence[str]  # userids of active admins
    ended: Sequence[EndedTask]
    sent_before: frozenset[tuple[int, str, str]]  # (task_id, admin, period_key) claimed earlier, final
    retry: dict[tuple[int, str, str], tuple[int, int, str]] = field(default_factory=dict)  # -> (id, attempts, status)


class EscalationPlanner:
    """Which ended periods need a summary at `now`, and who was behind in each."""

    def __init__(self, settings: Settings, rules: QuietRules) -> None:
        self.tz = settings.tz
        self.rules = rules
        self.at = parse_hhmm(settings.reminders.escalation_time)

    def ended_period(self, task: Task, now: datetime) -> Period | None:
        """The task's most recent period whose summary is due at `now` (None when none is)."""
        local_day = now.astimezone(self.tz).date()
        for back in range(1, ESCALATION_WINDOW.days + 2):
            day = local_day - timedelta(days=back)
            period = current_period(task, day)
            if period.end != day:
                continue
            nominal = escalation_instant(period, self.at, self.tz)
            send_at = self.rules.next_allowed(nominal)
            if send_at <= now < nominal + ESCALATION_WINDOW:
                return period
            return None
        return None

    def plan(self, session: Session, now: datetime) -> EscalationPlan:
        admins = session.scalars(
            select(Person.userid).where(Person.active.is_(True), Person.role == "admin").order_by(Person.userid)
        ).all()
        if not self.rules.allowed(now):
            return EscalationPlan(admins, [], frozenset())
        tasks = session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id)).all()
        due = [(task, period) for task in tasks if (period := self.ended_period(task, now)) is not None]
        if not due:
            return EscalationPlan(admins, [], frozenset())
        people = session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.userid)).all()
        ended: list[EndedTask] = []
        for task, period in due:
            who = [p for p in people if applies_to(task, p)]
            counts: dict[str, int] = {}
            for part in chunked([p.userid for p in who], QUERY_CHUNK):
                counts.update(done_counts(session, task, part, period))
            behind = [BehindPerson(p.userid, p.name, p.village, counts[p.userid])
                      for p in who if counts[p.userid] < task.target]
            if not behind:
                continue
            section = EscalationSection(task.title, period.key, task.target, period.end, behind)
            ended.append(EndedTask(task.id, task.title, period, task.target, len(who), section))
        sent: set[tuple[int, str, str]] = set()
        retry: dict[tuple[int, str, str], tuple[int, int, str]] = {}
        if ended and admins:
            d = ReminderDelivery
            rows = session.execute(
                select(d.task_id, d.userid, d.period_key, d.id, d.status, d.attempts, d.created_at, d.batch_id)
                .where(d.stage == ESCALATION_STAGE, d.task_id.in_([e.task_id for e in ended]),
                       d.userid.in_(list(admins)))
            ).all()
            for t, u, p, row_id, status, attempts, created_at, batch_id in rows:
                in_batch = status == "pending" and batch_id is not None  # the batch recovery resolves it
                if not in_batch and retry_ready(status, attempts, created_at, now):
                    retry[(t, u, p)] = (row_id, attempts, status)
                else:
                    sent.add((t, u, p))
        return EscalationPlan(admins, ended, frozenset(sent), retry)
