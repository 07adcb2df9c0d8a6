"""In-process state store for the embedded default (one server process)."""

from __future__ import annotations

import heapq
import threading
import time
import uuid
from collections.abc import Iterator

from bot.state.base import StateStore


class MemoryStateStore(StateStore):
    """A dict with expiry times; thread-safe; one process only, and forgotten when it stops (tests,
    benches; the embedded default is the SQLite state file).

    Expired keys are dropped when read and, a few at a time on every write, from a heap of expiry
    times: memory stays bounded without ever pausing to scan every key (which at thousands of
    messages a second showed up as tail latency).
    """

    local = True

    def __init__(self, monotonic=time.monotonic) -> None:  # noqa: ANN001 - injectable time source
        self._now = monotonic
        self._data: dict[str, tuple[str, float | None]] = {}
        self._expiries: list[tuple[float, str]] = []
        self._mutex = threading.Lock()

    def _alive(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= self._now():
            del self._data[key]
            return None
        return item

    def _expiry(self, ttl_s: float | None) -> float | None:
        return None if ttl_s is None else self._now() + ttl_s

    def _store(self, key: str, value: str, expiry: float | None) -> None:
        """Write under the mutex, and retire a few expired keys."""
        self._data[key] = (value, expiry)
        if expiry is not None:
            heapq.heappush(self._expiries, (expiry, key))
        now = self._now()
        for _ in range(4):
            if not self._expiries or self._expiries[0][0] > now:
                break
            when, old = heapq.heappop(self._expiries)
            item = self._data.get(old)
            if item is not None and item[1] == when:  # not rewritten with a later expiry since
                del self._data[old]

    def claim(self, key: str, value: str, ttl_s: int) -> bool:
        with self._mutex:
            if self._alive(key) is not None:
                return False
            self._store(key, value, self._expiry(ttl_s))
            return True

    def get(self, key: str) -> str | None:
        with self._mutex:
            item = self._alive(key)
            return None if item is None else item[0]

    def set(self, key: str, value: str, ttl_s: int | None = None) -> None:
        with self._mutex:
            self._store(key, value, self._expiry(ttl_s))

    def delete(self, key: str) -> None:
        with self._mutex:
            self._data.pop(key, None)

    def incr(self, key: str, ttl_s: int) -> int:
        with self._mutex:
            item = self._alive(key)
            if item is None:
                self._store(key, "1", self._expiry(ttl_s))
                return 1
            value = int(item[0]) + 1
            self._data[key] = (str(value), item[1])
            return value

    def try_acquire(self, key: str, timeout_s: float) -> str | None:
        """Locks are plain keys with an expiry, like Redis, so a crashed holder cannot block forever."""
        token = uuid.uuid4().hex
        return token if self.claim("lock:" + key, token, timeout_s) else None  # type: ignore[arg-type]

    def release(self, key: str, token: str) -> None:
        with self._mutex:
            item = self._alive("lock:" + key)
            if item is not None and item[0] == token:
                del self._data["lock:" + key]

    def renew(self, key: str, token: str, timeout_s: float) -> bool:
        with self._mutex:
            item = self._alive("lock:" + key)
            if item is None or item[0] != token:
                return False
            self._store("lock:" + key, token, self._expiry(timeout_s))
            return True

    def ping(self) -> bool:
        return True

    def keys(self, prefix: str) -> Iterator[str]:
        with self._mutex:
            found = [k for k in list(self._data) if k.startswith(prefix) and self._alive(k) is not None]
        return iter(found)
