"""Redis state store: shared by every server process, so dedupe and locks hold across them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import LockError, RedisError

from bot.state.base import LockTimeout, StateStore, StateUnavailable

PREFIX = "ztbot:"


class RedisStateStore(StateStore):
    """Keys live under one prefix; connection errors surface as StateUnavailable."""

    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = PREFIX) -> RedisStateStore:
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30,
            max_connections=64,
        )
        return cls(client, prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def claim(self, key: str, value: str, ttl_s: int) -> bool:
        try:
            return bool(self.client.set(self._k(key), value, nx=True, ex=ttl_s))
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc

    def get(self, key: str) -> str | None:
        try:
            return self.client.get(self._k(key))
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc

    def set(self, key: str, value: str, ttl_s: int | None = None) -> None:
        try:
            self.client.set(self._k(key), value, ex=ttl_s)
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete(self._k(key))
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc

    def incr(self, key: str, ttl_s: int) -> int:
        try:
            pipe = self.client.pipeline()
            pipe.incr(self._k(key))
            pipe.expire(self._k(key), ttl_s, nx=True)
            value, _ = pipe.execute()
            return int(value)
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc

    @contextmanager
    def lock(self, key: str, *, timeout_s: float = 30.0, wait_s: float = 10.0) -> Iterator[None]:
        lk = self.client.lock(self._k("lock:" + key), timeout=timeout_s, blocking_timeout=wait_s, sleep=0.005)
        try:
            acquired = lk.acquire()
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc
        if not acquired:
            raise LockTimeout(key)
        try:
            yield
        finally:
            try:
                lk.release()
            except LockError:
                pass  # expired while held: another holder may already own it, nothing to release
            except RedisError as exc:
                raise StateUnavailable(str(exc)) from exc

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except RedisError:
            return False

    def keys(self, prefix: str) -> Iterator[str]:
        n = len(self.prefix)
        return (k[n:] for k in self.client.scan_iter(match=self._k(prefix) + "*", count=500))

    def close(self) -> None:
        self.client.close()
