"""Rows written behind the message path in small batches (the message log, the review log).

Rows wait in memory at most `flush_interval_s`; if the database is down they stay queued and are
retried with backoff, so nothing is lost while the process lives. With a `unique` column a row
whose key is already stored is ignored, so a replayed batch never writes twice.

One bad row never blocks the rest: every string is fitted to its column's length when queued
(a too-long unique key is hashed, other text truncated), and a batch the database refuses for
its data (not for being unreachable) is split in halves until the offending rows stand alone;
those are set aside (logged with the reason, kept in `rejected` for inspection) and the rest is
written. Only connection-level failures keep a batch queued for retry.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot import metrics

if TYPE_CHECKING:
    from bot.db.database import Database

log = logging.getLogger(__name__)
_WAKE: dict[str, Any] = {}  # put on the queue to wake the writer at shutdown
MAX_REJECTED_KEPT = 100


def _is_outage(exc: SQLAlchemyError) -> bool:
    """True when the database is unreachable (retry later), False when it refused the data itself."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return not isinstance(exc, StatementError)  # a value that cannot be bound is the row's fault


class WriteBehind:
    def __init__(self, db: Database, model: type, *, unique: str | None = None, flush_interval_s: float = 0.05,
                 max_batch: int = 500, name: str = "write-behind") -> None:
        self._db = db
        self._table = model.__table__  # type: ignore[attr-defined]
        self._unique = unique
        self._name = name
        self._limits = {c.name: c.type.length for c in self._table.columns
                        if isinstance(c.type, String) and c.type.length}
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._interval = flush_interval_s
        self._max_batch = max_batch
        self._pending: list[dict[str, Any]] = []
        self.rejected: deque[tuple[dict[str, Any], str]] = deque(maxlen=MAX_REJECTED_KEPT)
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def add(self, row: dict[str, Any]) -> None:
        """Queue one row (column name -> value), fitted to the columns; returns at once."""
        self._queue.put(self._fit(row))

    def _fit(self, row: dict[str, Any]) -> dict[str, Any]:
        for column, limit in self._limits.items():
            value = row.get(column)
            if isinstance(value, str) and len(value) > limit:
                if column == self._unique:
                    row = {**row, column: ("h:" + hashlib.sha256(value.encode()).hexdigest())[:limit]}
                else:
                    row = {**row, column: value[:limit]}
        return row

    def flush(self) -> bool:
        """Write everything queued now; False if the database is unreachable (rows stay queued)."""
        with self._flush_lock:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not _WAKE:
                    self._pending.append(item)
            if not self._pending:
                return True
            batch = self._pending
            try:
                self._write(batch)
            except SQLAlchemyError:
                log.warning("%s: database unreachable, %d rows kept for retry", self._name, len(batch),
                            exc_info=True)
                metrics.db_error(self._name)
                return False
            self._pending = []
            return True

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Insert `rows`; on a data error split them so only the offending rows are set aside."""
        try:
            self._insert(rows)
        except SQLAlchemyError as exc:
            if _is_outage(exc):
                raise
            if len(rows) == 1:
                reason = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
                self.rejected.append((rows[0], reason))
                log.error("%s: row set aside, the database refused it: %s (keys: %s)", self._name, reason,
                          ", ".join(sorted(rows[0])))
                return
            middle = len(rows) // 2
            self._write(rows[:middle])
            self._write(rows[middle:])

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        if self._unique is None:
            stmt = insert(self._table)
        else:
            rows = list({r[self._unique]: r for r in rows}.values())
            make = sqlite_insert if self._db.is_sqlite else pg_insert
            stmt = make(self._table).on_conflict_do_nothing(index_elements=[self._unique])
        with self._db.engine.begin() as conn:
            for i in range(0, len(rows), self._max_batch):
                conn.execute(stmt, rows[i:i + self._max_batch])

    def _run(self) -> None:
        backoff = self._interval
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self._pending:
                    self.flush()
                continue
            if first is _WAKE:
                continue
            self._queue.put(first)
            self._stop.wait(self._interval)
            ok = self.flush()
            backoff = self._interval if ok else min(backoff * 2, 5.0)
            if not ok:
                self._stop.wait(backoff)

    def depth(self) -> int:
        """Rows waiting to be written (queued and held for a retry), for the metrics."""
        return self._queue.qsize() + len(self._pending)

    def close(self) -> None:
        self._stop.set()
        self._queue.put(_WAKE)
        self._thread.join(timeout=2)
        if not self.flush():
            log.error("%s: %d rows could not be written before shutdown", self._name, len(self._pending))
