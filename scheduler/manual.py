"""A reminder the office sends now from the console ("remind the people behind on this task").

It goes through the same exactly-once path as the scheduled passes: one row per (task, person,
period, stage) in the delivery log, claimed before sending. The stage is `manual-YYYY-MM-DD`, so a
double click, a retried request or a second server process sends at most one manual reminder per
person, task and day; the scheduled stages are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.db.models import Person, Task
from scheduler.delivery import BatchSender, ClaimRequest, DeliveryLog, Outcome
from scheduler.render import ReminderLine, render_reminder
from tracking.progress import applies_to, current_period, done_counts

if TYPE_CHECKING:
    from bot.context import Services

MANUAL_PREFIX = "manual-"


@dataclass
class ManualResult:
    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # reminded by hand today already
    on_track: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def remind_now(services: Services, task_key: str, userids: Sequence[str] | None = None,
               now: datetime | None = None) -> ManualResult:
    """Remind the task's people who are behind this period (or only `userids` among them)."""
    now = now or services.clock.now()
    local_day = now.astimezone(services.settings.tz).date()
    stage = f"{MANUAL_PREFIX}{local_day.isoformat()}"
    result = ManualResult()
    with services.db.session() as session:
        task = session.scalar(select(Task).where(Task.key == task_key, Task.active.is_(True)))
        if task is None:
            return result
        period = current_period(task, local_day)
        people = [p for p in session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.userid))
                  if applies_to(task, p) and (userids is None or p.userid in userids)]
        counts = done_counts(session, task, [p.userid for p in people], period)
        behind = [p for p in people if counts[p.userid] < task.target]
        result.on_track = [p.userid for p in people if counts[p.userid] >= task.target]
        task_id, title, target = task.id, task.title, task.target
    if not period.contains(local_day) or not behind:
        return result
    log = DeliveryLog(services.db)
    requests = [ClaimRequest(task_id, p.userid, period.key, stage, counts[p.userid], target) for p in behind]
    claimed = log.claim(requests, now)
    mine = [p for p in behind if (task_id, p.userid, period.key, stage) in claimed]
    result.already = [p.userid for p in behind if p not in mine]
    messages = {p.userid: render_reminder([ReminderLine(title, counts[p.userid], target, period.end)], local_day)
                for p in mine}
    sent = BatchSender(services.sender, max_in_flight=services.settings.reminders.max_in_flight).send(messages)
    outcomes: dict[int, Outcome] = {}
    for p in mine:
        outcome = sent.outcomes.get(p.userid, Outcome("failed", "no answer"))
        outcomes[claimed[(task_id, p.userid, period.key, stage)].row_id] = outcome
        (result.sent if outcome.status == "sent" else result.failed).append(p.userid)
    log.record(outcomes, now)
    return result
