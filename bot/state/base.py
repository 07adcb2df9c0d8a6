"""The one state-store interface; memory and Redis implement it and share one test suite."""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


class StateUnavailable(RuntimeError):
    """The state backend (Redis) cannot be reached. Each one raised is counted (ztbot_state_errors)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        from bot import metrics

        metrics.state_error()


class LockTimeout(RuntimeError):
    """A per-key lock could not be taken in time."""


@dataclass(frozen=True, slots=True)
class MessageStart:
    """What `begin_message` found: whether this delivery owns the message, and what it holds."""

    claimed: bool
    rate_count: int = 0
    lock_token: str | None = None  # set when the user's lock was free and is now held
    conversation: str | None = None  # the user's raw conversation state, read under the lock


class StateStore(ABC):
    """Small key-value store with TTLs, atomic claim, counters and locks."""

    local = False  # True when calls never wait on the network, so they may run on the event loop

    @abstractmethod
    def claim(self, key: str, value: str, ttl_s: int) -> bool:
        """Set `key` only if absent (atomic across processes); True if this caller set it."""

    @abstractmethod
    def get(self, key: str) -> str | None: ...

    @abstractmethod
    def set(self, key: str, value: str, ttl_s: int | None = None) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def incr(self, key: str, ttl_s: int) -> int:
        """Increment a counter; the TTL starts with the first increment."""

    @abstractmethod
    def try_acquire(self, key: str, timeout_s: float) -> str | None:
        """Take the lock on `key` if free, held at most `timeout_s`; returns its token, or None."""

    @abstractmethod
    def release(self, key: str, token: str) -> None:
        """Release the lock if `token` still holds it."""

    def acquire(self, key: str, *, timeout_s: float = 30.0, wait_s: float = 10.0) -> str:
        """Wait up to `wait_s` for the lock; raises LockTimeout."""
        deadline = time.monotonic() + wait_s
        delay = 0.002
        while True:
            token = self.try_acquire(key, timeout_s)
            if token is not None:
                return token
            if time.monotonic() >= deadline:
                raise LockTimeout(key)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    @contextmanager
    def lock(self, key: str, *, timeout_s: float = 30.0, wait_s: float = 10.0) -> Iterator[None]:
        """Exclusive lock on `key`; held at most `timeout_s`; raises LockTimeout after `wait_s`."""
        token = self.acquire(key, timeout_s=timeout_s, wait_s=wait_s)
        try:
            yield
        finally:
            self.release(key, token)

    def begin_message(self, dedupe_key: str, pending: str, dedupe_ttl_s: int, rate_key: str, rate_ttl_s: int,
                      lock_key: str, lock_ttl_s: float, conv_key: str) -> MessageStart:
        """Claim a delivery, count it for the rate limit, try the user's lock, read the conversation.

        One call so a shared backend can do it in a single round trip (Redis: one Lua script).
        """
        if not self.claim(dedupe_key, pending, dedupe_ttl_s):
            return MessageStart(claimed=False)
        count = self.incr(rate_key, rate_ttl_s)
        token = self.try_acquire(lock_key, lock_ttl_s)
        conv = self.get(conv_key) if token is not None else None
        return MessageStart(True, count, token, conv)

    def finish_message(self, dedupe_key: str, outcome: str, dedupe_ttl_s: int, lock_key: str, token: str,
                       sets: dict[str, tuple[str, int | None]] | None = None, deletes: tuple[str, ...] = ()) -> None:
        """Apply the handler's state writes (raw values with TTLs, deletes), store the delivery's outcome,
        release the user's lock: one call, so a shared backend does it in one round trip."""
        for key, (value, ttl) in (sets or {}).items():
            self.set(key, value, ttl)
        for key in deletes:
            self.delete(key)
        self.set(dedupe_key, outcome, dedupe_ttl_s)
        self.release(lock_key, token)

    async def begin_message_async(self, dedupe_key: str, pending: str, dedupe_ttl_s: int, rate_key: str,
                                  rate_ttl_s: int, lock_key: str, lock_ttl_s: float, conv_key: str) -> MessageStart:
        """`begin_message` for the event loop; a local store that never blocks long may just call it."""
        return self.begin_message(dedupe_key, pending, dedupe_ttl_s, rate_key, rate_ttl_s, lock_key, lock_ttl_s,
                                  conv_key)

    async def finish_message_async(self, dedupe_key: str, outcome: str, dedupe_ttl_s: int, lock_key: str,
                                   token: str, sets: dict[str, tuple[str, int | None]] | None = None,
                                   deletes: tuple[str, ...] = ()) -> None:
        self.finish_message(dedupe_key, outcome, dedupe_ttl_s, lock_key, token, sets, deletes)

    def renew(self, key: str, token: str, timeout_s: float) -> bool:
        """Extend a lock `token` still holds to `timeout_s` from now; False if it was lost."""
        raise NotImplementedError

    @abstractmethod
    def ping(self) -> bool: ...

    def write(self, sets: dict[str, tuple[Any, int | None]], deletes: tuple[str, ...] = ()) -> None:
        """Several JSON sets (value, ttl) and deletes at once: one round trip on a shared backend."""
        for key, (value, ttl) in sets.items():
            self.set_json(key, value, ttl)
        for key in deletes:
            self.delete(key)

    def get_json(self, key: str) -> Any:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl_s: int | None = None) -> None:
        self.set(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")), ttl_s)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def keys(self, prefix: str) -> Iterator[str]:
        """Keys starting with `prefix` (for tests and admin views; not on hot paths)."""
        raise NotImplementedError
