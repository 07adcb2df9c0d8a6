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

from sqlalchemy import String
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot import metrics

if TYPE_CHECKING:
    from bot.db.database import Database

log = logging.getLogger(__name__)
CLOSE_WAIT_S = 5.0  # how long close() waits for a write in progress
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
        self._cols: tuple[list[str], list[Any]] | None = None
        self._sql: dict[int, str] = {}
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
                self._set_aside(rows[0], str(getattr(exc, "orig", exc)))
                return
            middle = len(rows) // 2
            self._write(rows[:middle])
            self._write(rows[middle:])

    def _set_aside(self, row: dict[str, Any], reason: str) -> None:
        reason = (reason.splitlines() or [""])[0][:300]
        self.rejected.append((row, reason))
        log.error("%s: row set aside, the database refused it: %s (keys: %s)", self._name, reason,
                  ", ".join(sorted(row)))

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """One multi-row INSERT per chunk (ON CONFLICT DO NOTHING with a unique column), values
        converted by the columns' own bind processors.

        An executemany steps the driver once per row, and CPython's sqlite3 drops and retakes the
        GIL around every step: the event loop thread then waits for the GIL hundreds of times per
        batch. One statement is one step, one GIL release for the whole chunk (and one round trip
        on PostgreSQL).
        """
        if self._unique is not None:
            rows = list({r[self._unique]: r for r in rows}.values())
        columns, convert = self._columns()
        params: list[tuple[Any, ...]] = []
        for row in rows:
            try:
                params.append(tuple(f(row[c]) if c in row else self._default(c)
                                    for c, f in zip(columns, convert, strict=True)))
            except (TypeError, ValueError, AttributeError) as exc:  # a value its column cannot take
                self._set_aside(row, f"{type(exc).__name__}: {exc}")
        with self._db.engine.begin() as conn:
            for i in range(0, len(params), self._max_batch):
                chunk = params[i:i + self._max_batch]
                conn.exec_driver_sql(self._sql_for(len(chunk)), tuple(v for p in chunk for v in p))

    def _columns(self) -> tuple[list[str], list[Any]]:
        if self._cols is None:
            identity = lambda v: v  # noqa: E731
            names = [c.name for c in self._table.columns if not c.primary_key]
            self._cols = (names, [self._processor(c) or identity for c in names])
        return self._cols

    def _sql_for(self, n: int) -> str:
        """INSERT INTO t (a, b) VALUES (?, ?), (?, ?)… for n rows, in the driver's parameter style."""
        sql = self._sql.get(n)
        if sql is None:
            dialect = self._db.engine.dialect
            quote = dialect.identifier_preparer.quote
            names = self._columns()[0]
            mark = "?" if dialect.paramstyle == "qmark" else "%s"
            one = "(" + ", ".join([mark] * len(names)) + ")"
            sql = (f"INSERT INTO {quote(self._table.name)} ({', '.join(quote(c) for c in names)}) VALUES "
                   + ", ".join([one] * n))
            if self._unique is not None:
                sql += f" ON CONFLICT ({quote(self._unique)}) DO NOTHING"
            self._sql = {**self._sql, n: sql} if len(self._sql) < 64 else {n: sql}
        return sql

    def _default(self, column: str) -> Any:
        """A column missing from the row gets its Python-side default, as SQLAlchemy would give it."""
        default = self._table.columns[column].default
        if default is None:
            return None
        value = default.arg(None) if default.is_callable else default.arg
        processor = self._processor(column)
        return processor(value) if processor else value

    def _processor(self, column: str) -> Any:
        """The dialect's own value conversion for a column (SQLite: datetimes to its text format)."""
        dialect = self._db.engine.dialect
        return self._table.columns[column].type.dialect_impl(dialect).bind_processor(dialect)

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
        # The writer may still hold the flush lock inside a write to a database that stopped answering:
        # shutdown must not wait on it forever (the rows stay counted in the error below).
        if not self._flush_lock.acquire(timeout=CLOSE_WAIT_S):
            log.error("%s: writer still busy at shutdown; %d rows not written", self._name, self.depth())
            return
        self._flush_lock.release()
        if not self.flush():
            log.error("%s: %d rows could not be written before shutdown", self._name, len(self._pending))
