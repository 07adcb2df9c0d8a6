"""SQLite state store: the embedded default, shared by every server process on one machine.

One small WAL-mode file (data_dir/state.db) holds dedupe keys, conversations, locks and counters
as rows with an expiry time. Writes run in `BEGIN IMMEDIATE` transactions on one writer thread per
process (bot.state.sqlite_writer: concurrent operations share one commit), so worker processes get
the same claim-once, lock-with-token semantics as Redis; reads run on the caller's thread. A call
returns only after its commit, and with `synchronous=NORMAL` a commit is in the WAL file then:
committed rows survive kill -9 (a power cut can lose the last ones, which WeCom's retry redoes).

Why not MemoryStateStore: it lives and dies with one process, so a crash forgot pending
follow-ups and dedupe keys, and a second worker could not share it. Why not a dict in shared
memory: locks with expiry, atomic claim and durability are exactly what SQLite already gives.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.state.base import MessageStart, StateStore, StateUnavailable
from bot.state.sqlite_writer import GroupCommitWriter

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, exp REAL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_exp ON kv (exp) WHERE exp IS NOT NULL;
"""
# Insert, or take over a row whose expiry has passed; rowcount says whether this caller won.
_CLAIM = ("INSERT INTO kv (k, v, exp) VALUES (?1, ?2, ?3) ON CONFLICT (k) DO UPDATE SET v = excluded.v, "
          "exp = excluded.exp WHERE kv.exp IS NOT NULL AND kv.exp <= ?4")
_SET = "INSERT OR REPLACE INTO kv (k, v, exp) VALUES (?, ?, ?)"
_GET = "SELECT v FROM kv WHERE k = ? AND (exp IS NULL OR exp > ?)"
_INCR = ("INSERT INTO kv (k, v, exp) VALUES (?1, '1', ?2) ON CONFLICT (k) DO UPDATE SET "
         "v = CASE WHEN kv.exp IS NOT NULL AND kv.exp <= ?3 THEN '1' ELSE CAST(CAST(kv.v AS INTEGER) + 1 AS TEXT) END, "
         "exp = CASE WHEN kv.exp IS NOT NULL AND kv.exp <= ?3 THEN excluded.exp ELSE kv.exp END RETURNING v")
_RELEASE = "DELETE FROM kv WHERE k = ? AND v = ?"
_SWEEP = "DELETE FROM kv WHERE k IN (SELECT k FROM kv WHERE exp IS NOT NULL AND exp <= ? LIMIT 200)"
SWEEP_EVERY = 200  # write operations between two sweeps of expired rows (each sweep drops at most 200)
CHECKPOINT_INTERVAL_S = 1.0
# Safety net if the checkpoint thread stalls: SQLite then checkpoints inline after this many WAL pages.
AUTOCHECKPOINT_PAGES = 20_000


class SQLiteStateStore(StateStore):
    """Rows (key, value, expiry as Unix time) in one table; safe across threads and processes."""

    local = True  # no network: messages may be handled on the event loop (begin/finish awaited there)

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time, busy_timeout_s: float = 10.0,
                 checkpoint_interval_s: float | None = CHECKPOINT_INTERVAL_S) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._now = clock
        self._busy_timeout_s = busy_timeout_s
        self._mutex = threading.Lock()  # the read connection
        self._since_sweep = 0
        try:
            self._read = self._connect(busy_timeout_s)
            self._read.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            self._read.executescript(_SCHEMA)
            self._writer = GroupCommitWriter(self._writer_connection, clock, busy_timeout_s=busy_timeout_s,
                                             on_commit=self._after_commit, unavailable=StateUnavailable)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state file {self.path}: {exc}") from exc
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_interval_s:
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, args=(checkpoint_interval_s,),
                                                  name="state-checkpoint", daemon=True)
            self._checkpointer.start()

    def _connect(self, timeout_s: float) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives kill -9, no fsync per commit
        return conn

    def _writer_connection(self) -> sqlite3.Connection:
        conn = self._connect(0.0)  # the writer retries BEGIN itself, far sooner than SQLite's busy handler
        conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        return conn

    def _after_commit(self, conn: sqlite3.Connection, now: float, ops: int) -> None:
        """Drop some expired rows now and then, so the file stays bounded without a scan."""
        self._since_sweep += ops
        if self._since_sweep >= SWEEP_EVERY:
            self._since_sweep = 0
            conn.execute(_SWEEP, (now,))

    def _checkpoint_loop(self, interval_s: float) -> None:
        """Copy the WAL back into the file off the message path (a checkpoint's fsync took milliseconds
        on the committing call when SQLite did it inline)."""
        try:
            conn = self._connect(1.0)
        except sqlite3.Error:
            return
        while not self._stop.wait(interval_s):
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                pass  # another process is checkpointing; the next round will
        conn.close()

    # ---------------------------------------------------------------- plumbing

    def _write(self, fn: Callable[[sqlite3.Connection, float], Any]) -> Any:
        """Run `fn(conn, now)` in the writer's next transaction and wait for its commit."""
        try:
            return self._writer.call(fn, timeout_s=self._busy_timeout_s + 5)
        except TimeoutError as exc:
            raise StateUnavailable(f"state file {self.path}: writer did not answer") from exc

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        with self._mutex:
            try:
                return self._read.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StateUnavailable(f"state file {self.path}: {exc}") from exc

    @staticmethod
    def _exp(now: float, ttl_s: float | None) -> float | None:
        return None if ttl_s is None else now + ttl_s

    @staticmethod
    def _claim(conn: sqlite3.Connection, now: float, key: str, value: str, ttl_s: float | None) -> bool:
        exp = None if ttl_s is None else now + ttl_s
        return conn.execute(_CLAIM, (key, value, exp, now)).rowcount == 1

    @staticmethod
    def _get(conn: sqlite3.Connection, now: float, key: str) -> str | None:
        row = conn.execute(_GET, (key, now)).fetchone()
        return None if row is None else row[0]

    @classmethod
    def _apply(cls, conn: sqlite3.Connection, now: float, sets: dict[str, tuple[str, int | None]],
               deletes: tuple[str, ...] | list[str]) -> None:
        if sets:
            conn.executemany(_SET, [(k, v, cls._exp(now, t)) for k, (v, t) in sets.items()])
        if deletes:
            conn.executemany("DELETE FROM kv WHERE k = ?", [(k,) for k in deletes])

    # ---------------------------------------------------------------- the interface

    def claim(self, key: str, value: str, ttl_s: int) -> bool:
        return self._write(lambda c, now: self._claim(c, now, key, value, ttl_s))

    def get(self, key: str) -> str | None:
        rows = self._query(_GET, (key, self._now()))
        return rows[0][0] if rows else None

    def set(self, key: str, value: str, ttl_s: int | None = None) -> None:
        self._write(lambda c, now: c.execute(_SET, (key, value, self._exp(now, ttl_s))))

    def delete(self, key: str) -> None:
        self._write(lambda c, now: c.execute("DELETE FROM kv WHERE k = ?", (key,)))

    def incr(self, key: str, ttl_s: int) -> int:
        return int(self._write(lambda c, now: c.execute(_INCR, (key, now + ttl_s, now)).fetchall()[0][0]))

    def try_acquire(self, key: str, timeout_s: float) -> str | None:
        token = uuid.uuid4().hex
        return token if self.claim("lock:" + key, token, timeout_s) else None  # type: ignore[arg-type]

    def release(self, key: str, token: str) -> None:
        self._write(lambda c, now: c.execute(_RELEASE, ("lock:" + key, token)))

    def renew(self, key: str, token: str, timeout_s: float) -> bool:
        """Extend a lock this token still holds (a leader's lease); False if it was lost."""
        return self._write(lambda c, now: c.execute(
            "UPDATE kv SET exp = ? WHERE k = ? AND v = ? AND exp > ?",
            (now + timeout_s, "lock:" + key, token, now)).rowcount == 1)

    def _begin_op(self, dedupe_key: str, pending: str, dedupe_ttl_s: int, rate_key: str, rate_ttl_s: int,
                  lock_key: str, lock_ttl_s: float, conv_key: str) -> Callable[[sqlite3.Connection, float], Any]:
        token = uuid.uuid4().hex

        def begin(conn: sqlite3.Connection, now: float) -> MessageStart:
            if not self._claim(conn, now, dedupe_key, pending, dedupe_ttl_s):
                return MessageStart(claimed=False)
            count = int(conn.execute(_INCR, (rate_key, now + rate_ttl_s, now)).fetchall()[0][0])
            if not self._claim(conn, now, "lock:" + lock_key, token, lock_ttl_s):
                return MessageStart(True, count, None, None)
            return MessageStart(True, count, token, self._get(conn, now, conv_key))

        return begin

    def _finish_op(self, dedupe_key: str, outcome: str, dedupe_ttl_s: int, lock_key: str, token: str,
                   sets: dict[str, tuple[str, int | None]] | None, deletes: tuple[str, ...]
                   ) -> Callable[[sqlite3.Connection, float], None]:
        def finish(conn: sqlite3.Connection, now: float) -> None:
            self._apply(conn, now, sets or {}, deletes)
            conn.execute(_SET, (dedupe_key, outcome, now + dedupe_ttl_s))
            conn.execute(_RELEASE, ("lock:" + lock_key, token))

        return finish

    def begin_message(self, dedupe_key: str, pending: str, dedupe_ttl_s: int, rate_key: str, rate_ttl_s: int,
                      lock_key: str, lock_ttl_s: float, conv_key: str) -> MessageStart:
        """Claim, count, try the lock and read the conversation in one transaction."""
        return self._write(self._begin_op(dedupe_key, pending, dedupe_ttl_s, rate_key, rate_ttl_s, lock_key,
                                          lock_ttl_s, conv_key))

    async def begin_message_async(self, dedupe_key: str, pending: str, dedupe_ttl_s: int, rate_key: str,
                                  rate_ttl_s: int, lock_key: str, lock_ttl_s: float, conv_key: str) -> MessageStart:
        return await self._writer.call_async(self._begin_op(dedupe_key, pending, dedupe_ttl_s, rate_key, rate_ttl_s,
                                                            lock_key, lock_ttl_s, conv_key))

    def finish_message(self, dedupe_key: str, outcome: str, dedupe_ttl_s: int, lock_key: str, token: str,
                       sets: dict[str, tuple[str, int | None]] | None = None, deletes: tuple[str, ...] = ()) -> None:
        self._write(self._finish_op(dedupe_key, outcome, dedupe_ttl_s, lock_key, token, sets, deletes))

    async def finish_message_async(self, dedupe_key: str, outcome: str, dedupe_ttl_s: int, lock_key: str,
                                   token: str, sets: dict[str, tuple[str, int | None]] | None = None,
                                   deletes: tuple[str, ...] = ()) -> None:
        await self._writer.call_async(self._finish_op(dedupe_key, outcome, dedupe_ttl_s, lock_key, token, sets,
                                                      deletes))

    def write(self, sets: dict[str, tuple[Any, int | None]], deletes: tuple[str, ...] = ()) -> None:
        raw = {k: (json.dumps(v, ensure_ascii=False, separators=(",", ":")), t) for k, (v, t) in sets.items()}
        self._write(lambda c, now: self._apply(c, now, raw, deletes))

    def drop_pending(self, prefix: str, pending: str) -> int:
        """Delete claims under `prefix` still marked `pending` (only safe while no process serves)."""
        return self._write(lambda c, now: c.execute(
            "DELETE FROM kv WHERE k >= ? AND k < ? AND v = ?", (prefix, prefix + "\U0010ffff", pending)).rowcount)

    def ping(self) -> bool:
        try:
            self._query("SELECT 1", ())
            return True
        except StateUnavailable:
            return False

    def keys(self, prefix: str) -> Iterator[str]:
        rows = self._query("SELECT k FROM kv WHERE k >= ? AND k < ? AND (exp IS NULL OR exp > ?) ORDER BY k",
                           (prefix, prefix + "\U0010ffff", self._now()))
        return iter([r[0] for r in rows])

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        self._writer.close()
        with self._mutex:
            self._read.close()
