"""One reminder pass: plan, claim, render, send, record; then the office summary and notices.

Used by the scheduler inside `serve` and by `run.py remind`; safe to run from several processes
at once (the delivery log's unique key decides who sends) and idempotent.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot import metrics
from bot.db.models import Person
from bot.wecom.cards import task_id_for
from scheduler import texts
from scheduler.card_batch import CardBatch
from scheduler.delivery import BatchJournal, BatchSender, ClaimRequest, DeliveryLog, Outcome, SendReport
from scheduler.escalation import EscalationPlan, EscalationPlanner
from scheduler.planner import MAX_ATTEMPTS, Candidate, ReminderPlanner
from scheduler.render import (
    ReminderLine,
    Undelivered,
    render_escalation,
    render_reminder,
    render_reminder_card,
    render_undelivered,
)
from scheduler.snooze import SNOOZE_SUFFIX, close_snoozes, due_snoozes
from scheduler.stages import ESCALATION_STAGE

if TYPE_CHECKING:
    from bot.context import Services
    from bot.messages import Reply

log = logging.getLogger(__name__)


def reminder_task_id(task_id: int, period_key: str, stage: str, userid: str) -> str:
    """The WeCom task_id of one reminder card: unique and stable per task, period, stage and person."""
    return task_id_for("rm", str(task_id), period_key, stage, userid)
NOT_REMINDERS = frozenset({"not-due", "on-track"})  # considered, nothing to send: not counted


@dataclass
class EscalationResult:
    admin: str
    task_title: str
    period_key: str
    behind: int
    status: str  # sent | failed | dry-run


@dataclass
class PassReport:
    now: datetime
    dry_run: bool
    candidates: list[Candidate] = field(default_factory=list)
    escalations: list[EscalationResult] = field(default_factory=list)
    undelivered: list[Undelivered] = field(default_factory=list)
    calls: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return dict(Counter(c.status for c in self.candidates))

    @property
    def messages(self) -> int:
        return len({c.person.userid for c in self.candidates if c.status == "sent"})


class ReminderEngine:
    """Everything a pass needs, built once from the process's services."""

    def __init__(self, services: Services, *, backoff_s: float = 0.5) -> None:
        self.services = services
        self.settings = services.settings
        self.planner = ReminderPlanner(self.settings)
        self.escalation = EscalationPlanner(self.settings, self.planner.rules)
        self.log = DeliveryLog(services.db)
        self.batch = BatchSender(services.sender, max_in_flight=self.settings.reminders.max_in_flight,
                                 backoff_s=backoff_s)
        self.card_batch = CardBatch(services.cards, max_in_flight=self.settings.reminders.max_in_flight,
                                    backoff_s=backoff_s)

    def run_pass(self, now: datetime | None = None, *, dry_run: bool = False, full: bool = True) -> PassReport:
        """One pass at `now` (default: the clock). With dry_run nothing is claimed or sent.

        full=False skips pairs that cannot be due (see ReminderPlanner.plan): same sends, shorter report.
        """
        started = time.monotonic()
        now = now or self.services.clock.now()
        report = PassReport(now, dry_run)
        if not dry_run:
            report.calls += self.batch.recover(self.log, now).calls  # what a stopped process left in flight
        with self.services.db.session() as session:
            plan = self.planner.plan(session, now, full=full)
            esc_plan = self.escalation.plan(session, now)
        report.candidates = plan.candidates
        due = plan.due()
        if dry_run:
            for c in due:
                c.status = "dry-run"
        elif due:
            self._remind(due, report, plan.local_day)
        if not dry_run:
            self._snoozed(report, plan.local_day)
        self._escalate(esc_plan, report, dry_run)
        if not dry_run:
            self._retire_off_roster(report)
            self._notify_office(report)
        report.seconds = time.monotonic() - started
        counts = report.counts()
        if not dry_run:
            metrics.reminders({s: n for s, n in counts.items() if s not in NOT_REMINDERS})
        if due or report.escalations or report.undelivered:
            log.info("reminder pass at %s: %s, %d escalations, %d undelivered, %d API calls in %.2fs",
                     now.isoformat(), counts, len(report.escalations), len(report.undelivered), report.calls,
                     report.seconds)
        return report

    # ------------------------------------------------------------------ reminders

    def _remind(self, due: list[Candidate], report: PassReport, local_day: date) -> None:
        requests = [ClaimRequest(c.task_id, c.person.userid, c.period.key, c.stage or "", c.done, c.target,
                                 c.retry_row) for c in due]
        claimed = self.log.claim(requests, report.now)
        mine: dict[str, list[Candidate]] = {}
        for c in due:
            if c.key in claimed:
                mine.setdefault(c.person.userid, []).append(c)
            else:
                c.status = "already-sent"  # another process claimed it first
        rows_by_user = {u: [claimed[c.key].row_id for c in cands] for u, cands in mine.items()}
        journal = BatchJournal(self.log, rows_by_user, _pass_clock(report.now))
        sent = self._send_reminders(mine, local_day, journal)
        report.calls += sent.calls
        row_outcomes: dict[int, Outcome] = {}
        for userid, cands in mine.items():
            outcome = sent.outcomes.get(userid)
            if outcome is None:  # its batch was taken over by another process's recovery
                for c in cands:
                    c.status = "already-sent"
                continue
            for c in cands:
                claim = claimed[c.key]
                row_outcomes[claim.row_id] = outcome
                c.status = "sent" if outcome.status == "sent" else "failed"
            if outcome.status == "invalid":
                report.undelivered.append(Undelivered(userid, cands[0].person.name, cands[0].person.village,
                                                      texts.UNDELIVERED_INVALID))
            elif outcome.status == "failed" and max(claimed[c.key].attempts for c in cands) >= MAX_ATTEMPTS:
                report.undelivered.append(Undelivered(userid, cands[0].person.name, cands[0].person.village,
                                                      texts.UNDELIVERED_FAILED.format(error=outcome.error)))
        self.log.record(row_outcomes, report.now)

    def _send_reminders(self, mine: dict[str, list[Candidate]], local_day: date,
                        journal: BatchJournal | None = None) -> SendReport:
        """A card per task for members who see cards (wecom.cards), one combined text for the others."""
        cards = self.services.cards
        texts_by_user: dict[str, str] = {}
        card_items: dict[str, list[tuple[Reply, str]]] = {}
        for userid, cands in mine.items():
            ordered = sorted(cands, key=lambda c: (c.due, c.task_id))
            if cards.wants_card(userid):
                card_items[userid] = [
                    (render_reminder_card(ReminderLine(c.task_title, c.done, c.target, c.due), c.task_id, local_day,
                                          snoozable=not (c.stage or "").endswith(SNOOZE_SUFFIX)),
                     reminder_task_id(c.task_id, c.period.key, c.stage or "", userid))
                    for c in ordered]
            else:
                texts_by_user[userid] = render_reminder(
                    [ReminderLine(c.task_title, c.done, c.target, c.due) for c in ordered], local_day)
        sent = self.batch.send(texts_by_user, journal)  # text batches: written down first, recorded per call
        by_card = self.card_batch.send(card_items, journal.record_user if journal is not None else None)
        sent.outcomes.update(by_card.outcomes)
        sent.calls += by_card.calls
        return sent

    def _snoozed(self, report: PassReport, local_day: date) -> None:
        """明天再提醒: deferred reminders whose time has come, for people still behind, once each."""
        due = due_snoozes(self.services.db, report.now)
        if not due or not self.planner.rules.allowed(report.now):
            return
        closed: list[int] = []
        with self.services.db.session() as session:
            plan = self.planner.plan(session, report.now, userids={d.userid for d in due})
        by_key = {(c.task_id, c.person.userid): c for c in plan.candidates}
        wanted: list[Candidate] = []
        for d in due:
            c = by_key.get((d.task_id, d.userid))
            if c is None or c.period.key != d.period_key or c.done >= c.target:
                closed.append(d.row_id)  # the period moved on, the person left, or the task is met
                continue
            wanted.append(Candidate(c.person, c.task_id, c.task_title, c.period, d.stage + SNOOZE_SUFFIX, c.done,
                                    c.target, "due"))
            closed.append(d.row_id)
        if wanted:
            report.candidates.extend(wanted)
            self._remind(wanted, report, local_day)
        close_snoozes(self.services.db, closed, report.now)

    # ------------------------------------------------------------------ office

    def _escalate(self, plan: EscalationPlan, report: PassReport, dry_run: bool) -> None:
        if not plan.ended:
            return
        if not plan.admins:
            log.warning("periods ended with people behind, but the roster has no active admin to tell")
            return
        requests = [ClaimRequest(e.task_id, admin, e.period.key, ESCALATION_STAGE, len(e.section.behind),
                                 e.considered, plan.retry.get((e.task_id, admin, e.period.key)))
                    for e in plan.ended for admin in plan.admins
                    if (e.task_id, admin, e.period.key) not in plan.sent_before]
        if not requests:
            return
        if dry_run:
            for r in requests:
                e = next(e for e in plan.ended if e.task_id == r.task_id)
                report.escalations.append(EscalationResult(r.userid, e.title, r.period_key, r.done, "dry-run"))
            return
        claimed = self.log.claim(requests, report.now)
        by_admin: dict[str, list[ClaimRequest]] = {}
        for r in requests:
            if r.key in claimed:
                by_admin.setdefault(r.userid, []).append(r)
        ended = {e.task_id: e for e in plan.ended}
        today = report.now.astimezone(self.settings.tz).date()
        messages = {admin: render_escalation([ended[r.task_id].section for r in rs], today)
                    for admin, rs in by_admin.items()}
        rows_by_admin = {a: [claimed[r.key].row_id for r in rs] for a, rs in by_admin.items()}
        sent = self.batch.send(messages, BatchJournal(self.log, rows_by_admin, _pass_clock(report.now)))
        report.calls += sent.calls
        outcomes: dict[int, Outcome] = {}
        for admin, rs in by_admin.items():
            outcome = sent.outcomes.get(admin)
            if outcome is None:
                continue
            for r in rs:
                outcomes[claimed[r.key].row_id] = outcome
                report.escalations.append(EscalationResult(admin, ended[r.task_id].title, r.period_key, r.done,
                                                           "sent" if outcome.status == "sent" else "failed"))
        self.log.record(outcomes, report.now)

    def _retire_off_roster(self, report: PassReport) -> None:
        retired = self.log.retire_off_roster()
        if not retired:
            return
        with self.services.db.session() as session:
            people = {p.userid: p for p in session.scalars(
                select(Person).where(Person.userid.in_([u for u, _ in retired]))).all()}
        for userid in dict.fromkeys(u for u, _ in retired):
            p = people.get(userid)
            report.undelivered.append(Undelivered(userid, p.name if p else "", p.village if p else "",
                                                  texts.UNDELIVERED_INACTIVE))

    def _notify_office(self, report: PassReport) -> None:
        """One notice to the admins listing the people this pass found unreachable."""
        if not report.undelivered:
            return
        with self.services.db.session() as session:
            admins = session.scalars(
                select(Person.userid).where(Person.active.is_(True), Person.role == "admin")).all()
        if not admins:
            log.warning("undelivered reminders for %s, but no active admin to tell",
                        ",".join(u.userid for u in report.undelivered))
            return
        text = render_undelivered(report.undelivered)
        result = self.services.sender.send_text(list(admins), text, duplicate_check=True)
        report.calls += max(result.calls, 1)
        if not result.ok:
            log.error("undelivered notice to the office failed: %s %s", result.errcode, result.errmsg)


def _pass_clock(start: datetime) -> Callable[[], datetime]:
    """The pass's `now` moving on in real time: batch times stay comparable with `--at` passes."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)
