"""The inbound message log, written behind the message path in small batches.

One row per distinct message (unique msg_key; a duplicate insert is ignored). Rows wait in memory
at most `flush_interval_s`; if the database is down they stay queued and are retried, so nothing
is lost while the process lives.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from bot.db.models import InboundMessage

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.messages import IncomingMessage

log = logging.getLogger(__name__)
_WAKE: dict[str, Any] = {}  # put on the queue to wake the writer at shutdown


class MessageLog:
    def __init__(self, db: Database, *, flush_interval_s: float = 0.05, max_batch: int = 500) -> None:
        self._db = db
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._interval = flush_interval_s
        self._max_batch = max_batch
        self._pending: list[dict[str, Any]] = []
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="message-log", daemon=True)
        self._thread.start()

    def record(self, msg: IncomingMessage, reply: str | None) -> None:
        self._queue.put({
            "msg_key": msg.dedupe_key,
            "userid": msg.user,
            "msg_type": msg.type if msg.type != "event" else f"event:{msg.event or ''}"[:16],
            "content": (msg.content or msg.event_key or msg.media_id or "")[:4000],
            "reply": reply,
            "received_at": datetime.now(timezone.utc),
        })

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
                log.warning("message log: database write failed, %d rows kept for retry", len(batch), exc_info=True)
                return False
            self._pending = []
            return True

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        dedup = list({r["msg_key"]: r for r in rows}.values())
        make = sqlite_insert if self._db.is_sqlite else pg_insert
        stmt = make(InboundMessage).on_conflict_do_nothing(index_elements=["msg_key"])
        with self._db.engine.begin() as conn:
            for i in range(0, len(dedup), self._max_batch):
                conn.execute(stmt, dedup[i:i + self._max_batch])

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

    def close(self) -> None:
        self._stop.set()
        self._queue.put(_WAKE)  # type: ignore[arg-type]
        self._thread.join(timeout=2)
        self.flush()
