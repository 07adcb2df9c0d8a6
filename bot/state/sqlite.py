"""SQLite state store: the embedded default, shared by every server process on one machine.

One small WAL-mode file (data_dir/state.db) holds dedupe keys, conversations, locks and counters
as rows with an expiry time. Each operation is one statement, or one `BEGIN IMMEDIATE`
transaction when it must read and write atomically (begin/finish a message), so worker processes
get the same claim-once, lock-with-token semantics as Redis. Committed rows survive kill -9: with
`synchronous=NORMAL` a commit is in the WAL file before the call returns (only a power cut can
lose the last commits, which WeCom's retry then redoes).

Why not MemoryStateStore: it lives and dies with one process, so a crash forgot pending
follow-ups and dedupe keys, and a second worker could not share it. Why not a dict in shared
memory: locks with expiry, atomic claim and durability are exactly what SQLite already gives.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.state.base import MessageStart, StateStore, StateUnavailable

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
SWEEP_EVERY = 200  # writes between two sweeps of expired rows (each sweep drops at most 200)


class SQLiteStateStore(StateStore):
    """Rows (key, value, expiry as Unix time) in one table; safe across threads and processes."""

    local = True  # fast enough for the event loop: no network round trip

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time, busy_timeout_s: float = 10.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._now = clock
        self._mutex = threading.Lock()
        self._writes = 0
        try:
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state file {self.path}: {exc}") from exc

    # ---------------------------------------------------------------- plumbing

    def _run(self, fn: Callable[[sqlite3.Connection, float], Any], *, write: bool, atomic: bool = False) -> Any:
        """Run `fn(conn, now)` under the process mutex; `atomic` wraps it in BEGIN IMMEDIATE."""
        with self._mutex:
            now = self._now()
            conn = self._conn
            try:
                if not atomic:
                    result = fn(conn, now)
                else:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        result = fn(conn, now)
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                if write:
                    self._writes += 1
                    if self._writes % SWEEP_EVERY == 0:
                        conn.execute(_SWEEP, (now,))
                return result
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

    # ---------------------------------------------------------------- the interface

    def claim(self, key: str, value: str, ttl_s: int) -> bool:
        return self._run(lambda c, now: self._claim(c, now, key, value, ttl_s), write=True)

    def get(self, key: str) -> str | None:
        return self._run(lambda c, now: self._get(c, now, key), write=False)

    def set(self, key: str, value: str, ttl_s: int | None = None) -> None:
        self._run(lambda c, now: c.execute(_SET, (key, value, self._exp(now, ttl_s))), write=True)

    def delete(self, key: str) -> None:
        self._run(lambda c, now: c.execute("DELETE FROM kv WHERE k = ?", (key,)), write=True)

    def incr(self, key: str, ttl_s: int) -> int:
        return int(self._run(lambda c, now: c.execute(_INCR, (key, now + ttl_s, now)).fetchall()[0][0], write=True))

    def try_acquire(self, key: str, timeout_s: float) -> str | None:
        token = uuid.uuid4().hex
        return token if self.claim("lock:" + key, token, timeout_s) else None  # type: ignore[arg-type]

    def release(self, key: str, token: str) -> None:
        self._run(lambda c, now: c.execute(_RELEASE, ("lock:" + key, token)), write=True)

    def renew(self, key: str, token: str, timeout_s: float) -> bool:
        """Extend a lock this token still holds (a leader's lease); False if it was lost."""
        return self._run(lambda c, now: c.execute(
            "UPDATE kv SET exp = ? WHERE k = ? AND v = ? AND exp > ?",
            (now + timeout_s, "lock:" + key, token, now)).rowcount == 1, write=True)

    def begin_message(self, dedupe_key: str, pending: str, dedupe_ttl_s: int, rate_key: str, rate_ttl_s: int,
                      lock_key: str, lock_ttl_s: float, conv_key: str) -> MessageStart:
        """Claim, count, try the lock and read the conversation in one transaction (one commit)."""
        token = uuid.uuid4().hex

        def begin(conn: sqlite3.Connection, now: float) -> MessageStart:
            if not self._claim(conn, now, dedupe_key, pending, dedupe_ttl_s):
                return MessageStart(claimed=False)
            count = int(conn.execute(_INCR, (rate_key, now + rate_ttl_s, now)).fetchall()[0][0])
            if not self._claim(conn, now, "lock:" + lock_key, token, lock_ttl_s):
                return MessageStart(True, count, None, None)
            return MessageStart(True, count, token, self._get(conn, now, conv_key))

        return self._run(begin, write=True, atomic=True)

    def finish_message(self, dedupe_key: str, outcome: str, dedupe_ttl_s: int, lock_key: str, token: str) -> None:
        def finish(conn: sqlite3.Connection, now: float) -> None:
            conn.execute(_SET, (dedupe_key, outcome, now + dedupe_ttl_s))
            conn.execute(_RELEASE, ("lock:" + lock_key, token))

        self._run(finish, write=True, atomic=True)

    def write(self, sets: dict[str, tuple[Any, int | None]], deletes: tuple[str, ...] = ()) -> None:
        import json

        def many(conn: sqlite3.Connection, now: float) -> None:
            conn.executemany(_SET, [(k, json.dumps(v, ensure_ascii=False, separators=(",", ":")), self._exp(now, t))
                                    for k, (v, t) in sets.items()])
            conn.executemany("DELETE FROM kv WHERE k = ?", [(k,) for k in deletes])

        self._run(many, write=True, atomic=True)

    def drop_pending(self, prefix: str, pending: str) -> int:
        """Delete claims under `prefix` still marked `pending` (only safe while no process serves)."""
        return self._run(lambda c, now: c.execute(
            "DELETE FROM kv WHERE k >= ? AND k < ? AND v = ?", (prefix, prefix + "\U0010ffff", pending)).rowcount,
            write=True)

    def ping(self) -> bool:
        try:
            self._run(lambda c, now: c.execute("SELECT 1").fetchone(), write=False)
            return True
        except StateUnavailable:
            return False

    def keys(self, prefix: str) -> Iterator[str]:
        rows = self._run(lambda c, now: c.execute(
            "SELECT k FROM kv WHERE k >= ? AND k < ? AND (exp IS NULL OR exp > ?) ORDER BY k",
            (prefix, prefix + "\U0010ffff", now)).fetchall(), write=False)
        return iter([r[0] for r in rows])

    def close(self) -> None:
        with self._mutex:
            self._conn.close()
