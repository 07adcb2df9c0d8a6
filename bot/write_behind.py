"""Rows written behind the message path in small batches (the message log, the review log).

Rows wait in memory at most `flush_interval_s`; if the database is down they stay queued and are
retried with backoff, so nothing is lost while the process lives. With a `unique` column a row
whose key is already stored is ignored, so a replayed batch never writes twice.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from bot import metrics

if TYPE_CHECKING:
    from bot.db.database import Database

log = logging.getLogger(__name__)
_WAKE: dict[str, Any] = {}  # put on the queue to wake the writer at shutdown


class WriteBehind:
    def __init__(self, db: Database, model: type, *, unique: str | None = None, flush_interval_s: float = 0.05,
                 max_batch: int = 500, name: str = "write-behind") -> None:
        self._db = db
        self._table = model.__table__  # type: ignore[attr-defined]
        self._unique = unique
        self._name = name
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._interval = flush_interval_s
        self._max_batch = max_batch
        self._pending: list[dict[str, Any]] = []
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def add(self, row: dict[str, Any]) -> None:
        """Queue one row (column name -> value); returns at once."""
        self._queue.put(row)

    def flush(self) -> bool:
        """Write everything queued now; False if the database refused (rows stay queued)."""
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
                self._insert(batch)
            except SQLAlchemyError:
                log.warning("%s: database write failed, %d rows kept for retry", self._name, len(batch),
                            exc_info=True)
                metrics.db_error(self._name)
                return False
            self._pending = []
            return True

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
        self.flush()
