"""Exactly-once delivery: claim rows in reminder_deliveries, send in batches, record per-recipient status.

A row is claimed by inserting it (INSERT … ON CONFLICT DO NOTHING RETURNING): the unique key
(task, person, period, stage) lets exactly one process win, and the claim is committed before
anything is sent. A row left `failed` (or orphaned `pending`) is claimed again only through an
UPDATE guarded by its status and attempt count, so two processes never both retry it.
Identical texts go out together, up to 1000 recipients per call, with a bounded number of calls
in flight; transient errcodes are retried with backoff and WeCom's duplicate check is on.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db.models import Person, ReminderDelivery
from scheduler.planner import MAX_ATTEMPTS, chunked

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.wecom.sender import Sender

log = logging.getLogger(__name__)

MAX_USERS_PER_CALL = 1000
# -1: system busy or no answer (timeout, refused); 45009: API rate limit; 45033: too many concurrent calls.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45033})
ALL_INVALID = 81013  # "user & party & tag all invalid"
DUPLICATE_INTERVAL_S = 1800
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
                    .values(status="pending", attempts=attempts + 1, done=r.done, target=r.target, error=None)
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

    def send(self, messages: dict[str, str]) -> SendReport:
        """`messages` maps userid -> text; returns each user's outcome and the API calls made."""
        by_text: dict[str, list[str]] = {}
        for userid, text in messages.items():
            by_text.setdefault(text, []).append(userid)
        batches = [(text, list(part)) for text, users in by_text.items()
                   for part in chunked(sorted(users), MAX_USERS_PER_CALL)]
        report = SendReport({})
        if not batches:
            return report
        with ThreadPoolExecutor(min(self.max_in_flight, len(batches)), thread_name_prefix="remind-send") as pool:
            for outcomes, calls in pool.map(lambda b: self._send_batch(*b), batches):
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
        error = f"{result.errcode} {result.errmsg}"[:200]
        log.error("reminder send to %d users failed: %s", len(users), error)
        return {u: Outcome("failed", error) for u in users}, calls
