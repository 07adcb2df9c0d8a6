"""Which process schedules reminders: a Redis lease renewed while held; without Redis, this process.

The lease is a key set with NX and a TTL; only its holder (matched by a random token) may renew
or release it, checked atomically in Lua. A holder that stops renewing (crash, pause, partition)
loses the lease after the TTL and another process takes over. The delivery log's unique key is
the real exactly-once guard; the lease only keeps the other processes from doing idle work.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any, Protocol

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class Leadership(Protocol):
    def ensure(self) -> bool:
        """Take or renew leadership; True while this process leads."""
        ...

    def release(self) -> None: ...

    @property
    def is_leader(self) -> bool: ...


class SoleLeader:
    """Without Redis there is one process, and it leads."""

    is_leader = True

    def ensure(self) -> bool:
        return True

    def release(self) -> None:
        pass


class RedisLeaderLock:
    """A renewable lease on one Redis key."""

    def __init__(self, client: Any, key: str, *, ttl_s: float = 60.0) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = int(ttl_s * 1000)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._held = False
        self._mutex = threading.Lock()
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def is_leader(self) -> bool:
        return self._held

    def ensure(self) -> bool:
        with self._mutex:
            try:
                if self._held:
                    if self._renew(keys=[self.key], args=[self.token, self.ttl_ms]):
                        return True
                    log.warning("reminder scheduler: leader lease %s lost", self.key)
                    self._held = False
                if self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
                    log.info("reminder scheduler: this process (%s) now leads", self.token)
                    self._held = True
            except RedisError as exc:
                if self._held:
                    log.warning("reminder scheduler: Redis unreachable, stepping down: %s", exc)
                self._held = False
            return self._held

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                return
            self._held = False
            try:
                self._release(keys=[self.key], args=[self.token])
            except RedisError as exc:
                log.warning("reminder scheduler: could not release the lease (it will expire): %s", exc)

    def holder(self) -> str | None:
        """The token of the current leader, if any (for logs and tests)."""
        try:
            value = self.client.get(self.key)
        except RedisError:
            return None
        return value.decode() if isinstance(value, bytes) else value


class StateLeaderLock:
    """The same lease as a lock in a state store shared by this machine's processes (the SQLite file)."""

    def __init__(self, state: Any, key: str, *, ttl_s: float = 60.0) -> None:
        self.state = state
        self.key = key
        self.ttl_s = ttl_s
        self._token: str | None = None
        self._mutex = threading.Lock()

    @property
    def is_leader(self) -> bool:
        return self._token is not None

    def ensure(self) -> bool:
        from bot.state.base import StateUnavailable

        with self._mutex:
            try:
                if self._token is not None and not self.state.renew(self.key, self._token, self.ttl_s):
                    log.warning("reminder scheduler: leader lease %s lost", self.key)
                    self._token = None
                if self._token is None:
                    self._token = self.state.try_acquire(self.key, self.ttl_s)
                    if self._token is not None:
                        log.info("reminder scheduler: this process (%s) now leads", os.getpid())
            except StateUnavailable as exc:
                log.warning("reminder scheduler: state store unavailable, stepping down: %s", exc)
                self._token = None
            return self._token is not None

    def release(self) -> None:
        from bot.state.base import StateUnavailable

        with self._mutex:
            token, self._token = self._token, None
            if token is not None:
                try:
                    self.state.release(self.key, token)
                except StateUnavailable as exc:
                    log.warning("reminder scheduler: could not release the lease (it will expire): %s", exc)


def build_leadership(state: Any, *, ttl_s: float = 60.0) -> Leadership:
    """A Redis lease when the state store is Redis, a lease in the SQLite state file when several
    processes share that, else (in-process memory) the sole-process leader."""
    client = getattr(state, "client", None)
    if client is None:
        from bot.state.sqlite import SQLiteStateStore

        if isinstance(state, SQLiteStateStore):
            return StateLeaderLock(state, "scheduler:leader", ttl_s=ttl_s)
        return SoleLeader()
    prefix = getattr(state, "prefix", "ztbot:")
    return RedisLeaderLock(client, f"{prefix}scheduler:leader", ttl_s=ttl_s)
