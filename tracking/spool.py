"""A local, durable spool for reports that arrive while the database is unreachable.

Append-only JSONL under settings.data_dir/spool, fsync'd before the user is told "kept". A drain
writes each record through the normal, idempotent create path (unique source_msg_key), then
rewrites the file without what was written - under an OS file lock, so appends from other
threads or processes during a drain are never lost.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class SpoolRejected(ValueError):
    """A record that can never be written (e.g. the sender is not on the roster); moved aside, not retried."""


@dataclass
class DrainResult:
    written: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    left: int = 0
    error: str | None = None


class ReportSpool:
    def __init__(self, data_dir: Path) -> None:
        self.dir = Path(data_dir) / "spool"
        self.path = self.dir / "reports.jsonl"
        self.rejected_path = self.dir / "reports.rejected.jsonl"
        self._lock_path = self.dir / "reports.lock"
        self._thread_lock = threading.Lock()
        self._drain_lock = threading.Lock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self._lock_path, "a+") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def append(self, record: dict[str, Any]) -> None:
        """Add one record durably (written and fsync'd when this returns)."""
        if not record.get("source_msg_key"):
            raise ValueError("a spooled report needs its source_msg_key")
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._locked():
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            _fsync_dir(self.dir)

    def has_pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def pending(self) -> list[dict[str, Any]]:
        with self._locked():
            return self._read()

    def _read(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:  # a torn last line after a crash mid-append: skip it
                log.error("spool: unreadable line skipped: %r", line[:200])
        return out

    def drain(self, write: Callable[[dict[str, Any]], None], is_down: Callable[[BaseException], bool]) -> DrainResult:
        """Write every record with `write`; stop at the first outage (`is_down`), keep the rest."""
        result = DrainResult()
        if not self.has_pending() or not self._drain_lock.acquire(blocking=False):
            return result
        try:
            records = self.pending()
            done: set[str] = set()
            rejected: list[dict[str, Any]] = []
            for record in records:
                key = record["source_msg_key"]
                if key in done:
                    continue
                try:
                    write(record)
                except SpoolRejected as exc:
                    record = {**record, "rejected": str(exc)}
                    rejected.append(record)
                    result.rejected.append(key)
                except Exception as exc:
                    if is_down(exc):
                        result.error = exc.__class__.__name__
                        break
                    raise
                else:
                    result.written.append(key)
                done.add(key)
            done.update(result.rejected)
            with self._locked():
                remaining = [r for r in self._read() if r["source_msg_key"] not in done]
                self._rewrite(remaining)
                if rejected:
                    with open(self.rejected_path, "a", encoding="utf-8") as f:
                        for r in rejected:
                            f.write(json.dumps(r, ensure_ascii=False) + "\n")
                        f.flush()
                        os.fsync(f.fileno())
            result.left = len(remaining)
            return result
        finally:
            self._drain_lock.release()

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
