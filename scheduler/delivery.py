"""Exactly-once delivery: claim rows in reminder_deliveries, send in batches, record per-recipient status.

A row is claimed by inserting it (INSERT … ON CONFLICT DO NOTHING RETURNING): the unique key
(task, person, period, stage) lets exactly one process win, and the claim is committed before
anything is sent. A row left `failed` (or orphaned `pending`) is claimed again only through an
UPDATE guarded by its status and attempt count, so two processes never both retry it.
Identical texts go out together, up to 1000 recipients per call, with a bounded number of calls
in flight; transient errcodes are retried with backoff and WeCom's duplicate check is on.

Crash safety (a pass killed mid-send): before anything is sent, every call the pass will make is
written down as a `reminder_batches` row (recipients in order, text) and its delivery rows point
at it; each batch's outcome is recorded the moment its call returns. A batch still `queued` or
`sending` after BATCH_LEASE belongs to a dead process: the next pass (any process; at most two
minutes after a restart) takes it over with a guarded UPDATE and repeats the *identical* request
with WeCom's duplicate check on, over an interval (4 h) longer than any recovery: WeCom drops a
request whose JSON it has already delivered within that interval, so whoever got the reminder
before the crash does not get it again, and whoever did not, gets it now. A batch older than the
interval is not repeated (its rows become failed, "outcome unknown").
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db.models import Person, ReminderBatch, ReminderDelivery
from bot.redact import redact
from scheduler.planner import MAX_ATTEMPTS, as_utc, chunked

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.wecom.sender import Sender

log = logging.getLogger(__name__)

MAX_USERS_PER_CALL = 1000
# -1: system busy or no answer (timeout, refused); 45009: API rate limit; 45033: too many concurrent calls.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45033})
ALL_INVALID = 81013  # "user & party & tag all invalid"
DUPLICATE_INTERVAL_S = 4 * 3600  # WeCom's maximum; longer than any crash recovery takes
BATCH_LEASE = timedelta(seconds=60)  # a send call with all its retries ends well within this
INSERT_CHUNK = 500

Key = tuple[int, str, str, str]  # (task_id, userid, period_key, stage)


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """A delivery row this pass wants: new, or an existing failed/orphaned one to try again."""

    task_id: int
    userid: str
    period_key: str
    stage: str
    done: int
    target: int
    retry_row: tuple[int, int, str] | None = None  # (row id, attempts seen, status seen)

    @property
    def key(self) -> Key:
        return (self.task_id, self.userid, self.period_key, self.stage)


@dataclass(frozen=True, slots=True)
class Claimed:
    row_id: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one recipient: `sent`, `invalid` (WeCom refused the user) or `failed`."""

    status: str
    error: str | None = None


class DeliveryLog:
    """The reminder_deliveries table: claims and per-row status."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = sqlite_insert if db.is_sqlite else pg_insert

    def claim(self, requests: Sequence[ClaimRequest], now: datetime) -> dict[Key, Claimed]:
        """Rows this caller now owns; a request another process already holds is simply absent."""
        won: dict[Key, Claimed] = {}
        fresh = sorted((r for r in requests if r.retry_row is None), key=lambda r: r.key)
        d = ReminderDelivery
        table = d.__table__
        # Core executemany ("insertmanyvalues"): compiled once, batched by SQLAlchemy, RETURNING only winners.
        stmt = (self._insert(table)
                .on_conflict_do_nothing(index_elements=["task_id", "userid", "period_key", "stage"])
                .returning(table.c.id, table.c.task_id, table.c.userid, table.c.period_key, table.c.stage))
        for part in chunked(fresh, INSERT_CHUNK):
            values = [{"task_id": r.task_id, "userid": r.userid, "period_key": r.period_key, "stage": r.stage,
                       "status": "pending", "done": r.done, "target": r.target, "attempts": 1,
                       "created_at": now} for r in part]
            with self.db.session() as session:
                for row_id, task_id, userid, period_key, stage in session.connection().execute(stmt, values):
                    won[(task_id, userid, period_key, stage)] = Claimed(row_id, 1)
        for r in (r for r in requests if r.retry_row is not None):
            row_id, attempts, status = r.retry_row  # type: ignore[misc]
            with self.db.session() as session:
                res = session.execute(
                    update(d).where(d.id == row_id, d.status == status, d.attempts == attempts)
                    .values(status="pending", attempts=attempts + 1, done=r.done, target=r.target, error=None,
                            batch_id=None)
                )
                if res.rowcount == 1:
                    won[r.key] = Claimed(row_id, attempts + 1)
        return won

    def record(self, outcomes: dict[int, Outcome], now: datetime) -> None:
        """Store each row's outcome; rows are grouped by outcome so 20,000 rows take a few statements."""
        groups: dict[Outcome, list[int]] = {}
        for row_id, outcome in outcomes.items():
            groups.setdefault(outcome, []).append(row_id)
        d = ReminderDelivery
        with self.db.session() as session:
            for outcome, ids in groups.items():
                values: dict[str, object] = {"status": outcome.status, "error": outcome.error}
                if outcome.status == "sent":
                    values["sent_at"] = now
                for part in chunked(sorted(ids), 1000):
                    session.execute(update(d).where(d.id.in_(list(part)), d.status == "pending").values(**values))

    # -------------------------------------------------------------- batches (crash safety)

    def open_batches(self, batches: Sequence[tuple[str, Sequence[str], Sequence[int]]], now: datetime) -> list[int]:
        """Write down each (text, users, row ids) call before any is made; returns the batch ids."""
        ids: list[int] = []
        b, d = ReminderBatch, ReminderDelivery
        with self.db.session() as session:
            for text, users, rows in batches:
                batch = b(status="queued", users=list(users), text=text,
                          duplicate_interval_s=DUPLICATE_INTERVAL_S, created_at=now)
                session.add(batch)
                session.flush()
                for part in chunked(sorted(rows), 1000):
                    session.execute(update(d).where(d.id.in_(list(part))).values(batch_id=batch.id))
                ids.append(batch.id)
        return ids

    def start_batch(self, batch_id: int, now: datetime, *, seen: str = "queued") -> bool:
        """Take a batch for sending (guarded: False if another process took it first)."""
        b = ReminderBatch
        with self.db.session() as session:
            res = session.execute(update(b).where(b.id == batch_id, b.status == seen)
                                  .values(status="sending" if seen == "queued" else "recovering", started_at=now))
            return res.rowcount == 1

    def finish_batch(self, batch_id: int, outcomes: dict[str, Outcome], now: datetime) -> None:
        """Record the outcome of every still-pending row of one batch, at once, as its call returns."""
        d, b = ReminderDelivery, ReminderBatch
        with self.db.session() as session:
            rows = session.execute(select(d.id, d.userid).where(d.batch_id == batch_id, d.status == "pending")).all()
        self.record({row_id: outcomes.get(userid, Outcome("failed", "no answer")) for row_id, userid in rows}, now)
        with self.db.session() as session:
            session.execute(update(b).where(b.id == batch_id).values(status="done", finished_at=now))

    def orphaned_batches(self, now: datetime) -> list[ReminderBatch]:
        """Batches a dead process left queued or sending (older than the lease)."""
        b = ReminderBatch
        with self.db.session() as session:
            found = session.scalars(select(b).where(b.status.in_(("queued", "sending", "recovering")))).all()
            session.expunge_all()
        return [x for x in found if now - as_utc(x.started_at or x.created_at) >= BATCH_LEASE]

    def retire_off_roster(self) -> list[tuple[str, int]]:
        """Failed rows of people no longer active on the roster become `invalid` (never retried).

        Returns (userid, row id) for each row this caller retired, so the office hears once.
        """
        d = ReminderDelivery
        with self.db.session() as session:
            active = select(Person.userid).where(Person.active.is_(True))
            rows = session.execute(
                select(d.id, d.userid, d.attempts)
                .where(d.status == "failed", d.attempts < MAX_ATTEMPTS, d.userid.not_in(active))
            ).all()
        retired: list[tuple[str, int]] = []
        for row_id, userid, attempts in rows:
            with self.db.session() as session:
                res = session.execute(
                    update(d).where(d.id == row_id, d.status == "failed", d.attempts == attempts)
                    .values(status="invalid", error="not on the roster")
                )
                if res.rowcount == 1:
                    retired.append((userid, row_id))
        return retired


@dataclass
class SendReport:
    outcomes: dict[str, Outcome]  # by userid
    calls: int = 0


class BatchSender:
    """Sends identical texts together (≤1000 recipients a call), `max_in_flight` calls at a time."""

    def __init__(self, sender: Sender, *, max_in_flight: int = 8, max_tries: int = 4, backoff_s: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.sender = sender
        self.max_in_flight = max(1, max_in_flight)
        self.max_tries = max(1, max_tries)
        self.backoff_s = backoff_s
        self.sleep = sleep

    def send(self, messages: dict[str, str], journal: BatchJournal | None = None) -> SendReport:
        """`messages` maps userid -> text; returns each user's outcome and the API calls made.

        With a `journal`, every call is written down before the first is made and each call's outcome
        is stored as it returns; a user missing from the outcomes was taken over by another process.
        """
        by_text: dict[str, list[str]] = {}
        for userid, text in messages.items():
            by_text.setdefault(text, []).append(userid)
        batches = [(text, list(part)) for text, users in by_text.items()
                   for part in chunked(sorted(users), MAX_USERS_PER_CALL)]
        report = SendReport({})
        if not batches:
            return report
        ids = journal.open(batches) if journal is not None else [None] * len(batches)

        def run(item: tuple[tuple[str, list[str]], int | None]) -> tuple[dict[str, Outcome], int]:
            (text, users), batch_id = item
            if journal is not None and batch_id is not None and not journal.start(batch_id):
                return {}, 0
            outcomes, calls = self._send_batch(text, users)
            if journal is not None and batch_id is not None:
                journal.finish(batch_id, outcomes)
            return outcomes, calls

        with ThreadPoolExecutor(min(self.max_in_flight, len(batches)), thread_name_prefix="remind-send") as pool:
            for outcomes, calls in pool.map(run, zip(batches, ids, strict=True)):
                report.outcomes.update(outcomes)
                report.calls += calls
        return report

    def recover(self, deliveries: DeliveryLog, now: datetime) -> SendReport:
        """Resolve batches a dead process left in flight: repeat each identical request (WeCom drops
        what it already delivered within the duplicate interval), record its outcome."""
        report = SendReport({})
        for batch in deliveries.orphaned_batches(now):
            if not deliveries.start_batch(batch.id, now, seen=batch.status):
                continue  # another process is recovering it
            if now - as_utc(batch.created_at) >= timedelta(seconds=batch.duplicate_interval_s):
                log.warning("reminder batch %d: interrupted too long ago to repeat safely", batch.id)
                unknown = Outcome("failed", "interrupted mid-send; outcome unknown")
                deliveries.finish_batch(batch.id, dict.fromkeys(batch.users, unknown), now)
                continue
            log.warning("reminder batch %d (%d users) left %s by a stopped process: repeating it",
                        batch.id, len(batch.users), batch.status)
            outcomes, calls = self._send_batch(batch.text, list(batch.users))
            deliveries.finish_batch(batch.id, outcomes, now)
            report.outcomes.update(outcomes)
            report.calls += calls
        return report

    def _send_batch(self, text: str, users: list[str]) -> tuple[dict[str, Outcome], int]:
        calls = 0
        for attempt in range(1, self.max_tries + 1):
            result = self.sender.send_text(users, text, duplicate_check=True,
                                           duplicate_interval_s=DUPLICATE_INTERVAL_S)
            calls += max(result.calls, 1)
            invalid = set(result.invalid_users)
            if result.ok:
                return {u: Outcome("invalid", "invaliduser") if u in invalid else Outcome("sent") for u in users}, calls
            if result.errcode == ALL_INVALID:
                return {u: Outcome("invalid", f"{ALL_INVALID} {result.errmsg}"[:200]) for u in users}, calls
            if result.errcode not in TRANSIENT_ERRCODES or attempt == self.max_tries:
                break
            delay = self.backoff_s * 2 ** (attempt - 1) * (1 + random.random() / 2)
            log.warning("reminder send to %d users: errcode %s, retry %d in %.2fs",
                        len(users), result.errcode, attempt, delay)
            self.sleep(delay)
        error = redact(f"{result.errcode} {result.errmsg}")[:200]
        log.error("reminder send to %d users failed: %s", len(users), error)
        return {u: Outcome("failed", error) for u in users}, calls


class BatchJournal:
    """Ties one pass's calls to its delivery rows: written down before sending, recorded per call."""

    def __init__(self, deliveries: DeliveryLog, rows_by_user: dict[str, list[int]],
                 clock: Callable[[], datetime]) -> None:
        self.deliveries, self.rows_by_user, self.clock = deliveries, rows_by_user, clock

    def open(self, batches: Sequence[tuple[str, list[str]]]) -> list[int]:
        return self.deliveries.open_batches(
            [(text, users, [r for u in users for r in self.rows_by_user.get(u, ())]) for text, users in batches],
            self.clock())

    def start(self, batch_id: int) -> bool:
        return self.deliveries.start_batch(batch_id, self.clock())

    def finish(self, batch_id: int, outcomes: dict[str, Outcome]) -> None:
        self.deliveries.finish_batch(batch_id, outcomes, self.clock())

    def record_user(self, userid: str, outcome: Outcome) -> None:
        """One person's outcome outside any text batch (their cards), stored as soon as it is known."""
        self.deliveries.record(dict.fromkeys(self.rows_by_user.get(userid, ()), outcome), self.clock())
