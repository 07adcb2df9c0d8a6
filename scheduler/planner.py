"""Who is due for which reminder at an instant: reads the roster, tasks, progress and delivery log.

The planner decides, it never sends or writes. Each (person, task) pair it considers gets one
status: `not-due`, `on-track`, `already-sent`, `failed`, `quiet-hours` or `due` (to be claimed and
sent by the delivery step). The staleness rule is in scheduler/stages.py.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Person, ReminderDelivery, Task
from bot.periods import Period, deadline_of
from scheduler.stages import QuietRules, StageSpec, live_stage, parse_stages
from tracking.progress import applies_to, current_period, done_counts

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ATTEMPTS = 5  # passes that may try one delivery row before it is given up and reported
# A failed row may be tried again this long after it was first claimed (index = attempts so far).
RETRY_AFTER = {1: timedelta(minutes=2), 2: timedelta(minutes=6), 3: timedelta(minutes=14), 4: timedelta(minutes=30)}
# A row still pending this long was orphaned by a stopped process. Only rows outside a text batch
# (cards, whose stable task_id WeCom refuses twice, or rows claimed just before a crash) are
# re-claimed this way; rows of a text batch ("in-batch") are resolved by the batch recovery in
# scheduler/delivery.py, which repeats the identical request instead of sending a new text.
PENDING_LEASE = timedelta(minutes=2)
IN_BATCH = "in-batch"  # pseudo status: pending inside a text batch (never re-claimed by the planner)
QUERY_CHUNK = 1000
SPREAD_PEOPLE_PER_MINUTE = 200  # a roster this large spreads its reminders over one more minute


def spread_offset(userid: str, people: int, max_minutes: int) -> timedelta:
    """How long after a stage's instant this person's reminder goes out: 0 for a small roster, else a
    stable per-person offset within min(max_minutes, people / 200) minutes, so a large roster does not
    hit WeCom in one burst on the minute."""
    window_s = 60 * min(max_minutes, people // SPREAD_PEOPLE_PER_MINUTE)
    if window_s <= 0:
        return timedelta(0)
    digest = int(hashlib.sha256(userid.encode()).hexdigest()[:8], 16)
    return timedelta(seconds=digest % window_s)


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything written here is UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def retry_ready(status: str, attempts: int, created_at: datetime, now: datetime) -> bool:
    """True when an unfinished delivery row may be claimed again by this pass."""
    if attempts >= MAX_ATTEMPTS:
        return False
    if status == "failed":
        return now >= as_utc(created_at) + RETRY_AFTER.get(attempts, timedelta(0))
    if status == "pending":
        return now >= as_utc(created_at) + PENDING_LEASE * max(attempts, 1)
    return False


@dataclass(frozen=True, slots=True)
class PersonRef:
    userid: str
    name: str
    village: str


@dataclass(slots=True)
class Candidate:
    """One (person, task) pair considered by a pass, and what the pass does about it."""

    person: PersonRef
    task_id: int
    task_title: str
    period: Period
    stage: str | None
    done: int
    target: int
    status: str
    retry_row: tuple[int, int, str] | None = None  # (row id, attempts, status) when re-claiming a row
    deadline: date | None = None  # the task's deadline in this period, when it has a deadline day

    @property
    def due(self) -> date:
        return self.deadline or self.period.end

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.task_id, self.person.userid, self.period.key, self.stage or "")


@dataclass
class Plan:
    now: datetime
    local_day: date
    candidates: list[Candidate] = field(default_factory=list)
    task_errors: dict[str, str] = field(default_factory=dict)  # task key -> why it was skipped

    def due(self) -> list[Candidate]:
        return [c for c in self.candidates if c.status == "due"]


class ReminderPlanner:
    """Pure-ish: given a session and an instant, who is due for what (nothing is written)."""

    def __init__(self, settings: Settings) -> None:
        r = settings.reminders
        self.tz = settings.tz
        self.rules = QuietRules.build(self.tz, r.quiet_start, r.quiet_end, r.off_days, r.holidays)
        self.default_stages = list(r.default_stages)
        self.spread_minutes = r.spread_minutes

    def stages_of(self, task: Task) -> list[StageSpec]:
        return parse_stages(task.reminder_stages, self.default_stages)

    def plan(self, session: Session, now: datetime, *, userids: Iterable[str] | None = None,
             full: bool = True) -> Plan:
        """Every active (person, task) pair of the current periods, with its status at `now`.

        With full=False (the scheduler's minute-by-minute pass) only pairs that may be due are
        looked at: nothing in quiet hours, no task without a live stage, nobody whose row is final.
        """
        local_day = now.astimezone(self.tz).date()
        plan = Plan(now, local_day)
        people_q = select(Person).where(Person.active.is_(True)).order_by(Person.userid)
        if userids is not None:
            people_q = people_q.where(Person.userid.in_(list(userids)))
        people = session.scalars(people_q).all()
        tasks = session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id)).all()
        allowed_now = self.rules.allowed(now)
        if not full and not allowed_now:
            return plan
        for task in tasks:
            try:
                specs = self.stages_of(task)
            except ValueError as exc:
                log.error("task %s: bad reminder_stages, skipped: %s", task.key, exc)
                plan.task_errors[task.key] = str(exc)
                continue
            period = current_period(task, local_day)
            if not period.contains(local_day):
                continue  # a once task before its period or after its due date
            stage = live_stage(specs, period, now, self.rules, task.deadline_day)
            if stage is None and not full:
                continue
            who = [p for p in people if applies_to(task, p)]
            if not who:
                continue
            roster = len(who)  # the spread window follows the whole roster, not who is left this pass
            rows = self._rows(session, task.id, period.key, stage.key) if stage else {}
            if not full:
                who = [p for p in who if p.userid not in rows or retry_ready(*rows[p.userid][1:], now)]
            counts: dict[str, int] = {}
            for part in chunked([p.userid for p in who], QUERY_CHUNK):
                counts.update(done_counts(session, task, part, period))
            for p in who:
                done = counts.get(p.userid, 0)
                cand = Candidate(PersonRef(p.userid, p.name, p.village), task.id, task.title, period,
                                 stage.key if stage else None, done, task.target, "not-due",
                                 deadline=deadline_of(period, task.deadline_day) if task.deadline_day else None)
                if stage is None:
                    pass
                elif stage.send_at <= now < stage.send_at + spread_offset(p.userid, roster, self.spread_minutes) \
                        and p.userid not in rows:
                    cand.stage = None  # within the roster's spread: a later pass sends it
                elif done >= task.target:
                    cand.status = "on-track"
                elif p.userid in rows:
                    row_id, status, attempts, created_at = rows[p.userid]
                    if status in ("failed", "pending") and retry_ready(status, attempts, created_at, now):
                        cand.status = "due" if allowed_now else "quiet-hours"
                        cand.retry_row = (row_id, attempts, status)
                    else:
                        cand.status = "already-sent" if status in ("sent", "pending", IN_BATCH) else "failed"
                elif not allowed_now:
                    cand.status = "quiet-hours"
                else:
                    cand.status = "due"
                plan.candidates.append(cand)
        return plan

    @staticmethod
    def _rows(session: Session, task_id: int, period_key: str, stage: str) -> dict[str, tuple[int, str, int, datetime]]:
        d = ReminderDelivery
        result = session.execute(
            select(d.userid, d.id, d.status, d.attempts, d.created_at, d.batch_id)
            .where(d.task_id == task_id, d.period_key == period_key, d.stage == stage)
        ).all()
        return {u: (i, IN_BATCH if s == "pending" and b is not None else s, a, c) for u, i, s, a, c, b in result}
