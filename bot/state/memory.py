"""In-process state store for the embedded default (one server process)."""

from __future__ import annotations

import heapq
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator

from bot.state.base import StateStore

log = logging.getLogger(__name__)
DEDUPE_PREFIX = "dedupe:"
REPLY_DROPPED = '{"r":null,"via":"dropped"}'  # a dedupe outcome whose reply text is no longer kept


class MemoryStateStore(StateStore):
    """A dict with expiry times; thread-safe; one process only, and forgotten when it stops (tests,
    benches; the embedded default is the SQLite state file).

    Expired keys are dropped when read and, a few at a time on every write, from a heap of expiry
    times: memory stays bounded without ever pausing to scan every key (which at thousands of
    messages a second showed up as tail latency). The heap is rebuilt when rewritten keys have
    left it more than twice as long as the live data.

    Dedupe keys are bounded too (a soak at 10 messages/s grew ~1.25 MB/min on stored replies): a
    stored reply is only needed for WeCom's retries, which come within seconds, so after
    `keep_replies_s` it is replaced by a small "processed, reply dropped" marker (a late retry then
    answers empty but never runs twice); and beyond `max_dedupe_keys` or `max_dedupe_bytes` the
    oldest dedupe keys are forgotten (logged), so the dedupe window shrinks under load instead of
    memory growing. Other keys (locks, conversations, counters) are never evicted.
    """

    local = True

    def __init__(self, monotonic=time.monotonic, *,  # noqa: ANN001 - injectable time source
                 max_dedupe_keys: int = 5_000, max_dedupe_bytes: int = 4 * 1024 * 1024,
                 keep_replies_s: float = 60.0) -> None:
        self._now = monotonic
        self._data: dict[str, tuple[str, float | None]] = {}
        self._expiries: list[tuple[float, str]] = []
        self._mutex = threading.Lock()
        self.max_dedupe_keys, self.max_dedupe_bytes, self.keep_replies_s = (max_dedupe_keys, max_dedupe_bytes,
                                                                              keep_replies_s)
        self._dedupe: OrderedDict[str, None] = OrderedDict()  # dedupe keys, oldest first
        self._to_compact: deque[tuple[float, str]] = deque()
        self.dedupe_bytes = 0
        self.evicted = 0

    def _alive(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= self._now():
            self._drop(key)
            return None
        return item

    def _drop(self, key: str) -> None:
        item = self._data.pop(key, None)
        if item is not None and key.startswith(DEDUPE_PREFIX):
            self.dedupe_bytes -= len(key) + len(item[0])
            self._dedupe.pop(key, None)

    def _expiry(self, ttl_s: float | None) -> float | None:
        return None if ttl_s is None else self._now() + ttl_s

    def _store(self, key: str, value: str, expiry: float | None) -> None:
        """Write under the mutex, retire a few expired keys, keep dedupe memory within its bounds."""
        now = self._now()
        if key.startswith(DEDUPE_PREFIX):
            old = self._data.get(key)
            if old is None:
                self._dedupe[key] = None
                self._to_compact.append((now, key))
                self.dedupe_bytes += len(key) + len(value)
            else:
                self.dedupe_bytes += len(value) - len(old[0])
        self._data[key] = (value, expiry)
        if expiry is not None:
            heapq.heappush(self._expiries, (expiry, key))
        for _ in range(4):
            if not self._expiries or self._expiries[0][0] > now:
                break
            when, old_key = heapq.heappop(self._expiries)
            item = self._data.get(old_key)
            if item is not None and item[1] == when:  # not rewritten with a later expiry since
                self._drop(old_key)
        if len(self._expiries) > 2 * len(self._data) + 4096:
            self._expiries = [(e, k) for k, (_, e) in self._data.items() if e is not None]
            heapq.heapify(self._expiries)
        if key.startswith(DEDUPE_PREFIX):
            self._bound_dedupe(now)

    def _bound_dedupe(self, now: float) -> None:
        while self._to_compact and self._to_compact[0][0] <= now - self.keep_replies_s:
            _, old_key = self._to_compact.popleft()
            item = self._data.get(old_key)
            if item is not None and len(item[0]) > len(REPLY_DROPPED) and item[0].startswith("{"):
                self._data[old_key] = (REPLY_DROPPED, item[1])
                self.dedupe_bytes -= len(item[0]) - len(REPLY_DROPPED)
        while self._dedupe and (len(self._dedupe) > self.max_dedupe_keys
                                or self.dedupe_bytes > self.max_dedupe_bytes):
            oldest = next(iter(self._dedupe))
            self._drop(oldest)
            self.evicted += 1
            if self.evicted in (1, 10, 100) or self.evicted % 10_000 == 0:
                log.warning("in-memory dedupe full: %d oldest keys forgotten so far (bounds: %d keys, %d bytes)",
                            self.evicted, self.max_dedupe_keys, self.max_dedupe_bytes)
        if len(self._to_compact) > 2 * len(self._dedupe) + 1024:
            self._to_compact = deque((t, k) for t, k in self._to_compact if k in self._dedupe)

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
            self._drop(key)

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
