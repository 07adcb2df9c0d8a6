"""A per-message view of the state store that holds the handler's plain writes until the message finishes.

The processor hands the held writes to `finish_message`, which applies them with the outcome and
the lock release in one round trip (Redis: one script; SQLite: one transaction), instead of one
round trip per write while the handler runs (the question handler's DELETE of its choices key was
a whole extra round trip per question). The user's lock is held until then, so no other message
of that user can read the state in between; other users' keys are not the handler's to write.

Atomic operations (claim, incr, locks) go straight to the store: they must be decided now.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.state.base import StateStore


class BufferedState(StateStore):
    """Reads see the held writes first; `held()` returns them for `finish_message`."""

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner
        self.local = inner.local
        self._sets: dict[str, tuple[str, int | None]] = {}
        self._deletes: set[str] = set()

    def held(self) -> tuple[dict[str, tuple[str, int | None]], tuple[str, ...]]:
        """The writes to apply at finish: (key -> (raw value, ttl)), deleted keys."""
        return self._sets, tuple(self._deletes)

    def get(self, key: str) -> str | None:
        if key in self._deletes:
            return None
        if key in self._sets:
            return self._sets[key][0]
        return self.inner.get(key)

    def set(self, key: str, value: str, ttl_s: int | None = None) -> None:
        self._deletes.discard(key)
        self._sets[key] = (value, ttl_s)

    def delete(self, key: str) -> None:
        self._sets.pop(key, None)
        self._deletes.add(key)

    def claim(self, key: str, value: str, ttl_s: int) -> bool:
        return self.inner.claim(key, value, ttl_s)

    def incr(self, key: str, ttl_s: int) -> int:
        return self.inner.incr(key, ttl_s)

    def try_acquire(self, key: str, timeout_s: float) -> str | None:
        return self.inner.try_acquire(key, timeout_s)

    def release(self, key: str, token: str) -> None:
        self.inner.release(key, token)

    def renew(self, key: str, token: str, timeout_s: float) -> bool:
        return self.inner.renew(key, token, timeout_s)

    def ping(self) -> bool:
        return self.inner.ping()

    def keys(self, prefix: str) -> Iterator[str]:
        return self.inner.keys(prefix)
