"""The one state-store interface; memory and Redis implement it and share one test suite."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any


class StateUnavailable(RuntimeError):
    """The state backend (Redis) cannot be reached."""


class LockTimeout(RuntimeError):
    """A per-key lock could not be taken in time."""


class StateStore(ABC):
    """Small key-value store with TTLs, atomic claim, counters and locks."""

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
    def lock(self, key: str, *, timeout_s: float = 30.0, wait_s: float = 10.0) -> AbstractContextManager[None]:
        """Exclusive lock on `key`; held at most `timeout_s`; raises LockTimeout after `wait_s`."""

    @abstractmethod
    def ping(self) -> bool: ...

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
