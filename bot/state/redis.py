"""Redis state store: shared by every server process, so dedupe and locks hold across them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import redis
from redis.exceptions import RedisError

from bot.state.base import MessageStart, StateStore, StateUnavailable

PREFIX = "ztbot:"

# KEYS: dedupe, rate, lock, conversation. ARGV: pending, dedupe ttl s, rate ttl s, token, lock ttl ms.
_BEGIN = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return {0, 0, 0, false} end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', ARGV[5]) then
  return {1, n, 1, redis.call('GET', KEYS[4])}
end
return {1, n, 0, false}
"""
# KEYS: dedupe, lock, then the handler's set keys, then its delete keys.
# ARGV: outcome, ttl s, token, number of sets, then a value and a ttl in s (0: none) per set.
_FINISH = """
local n = tonumber(ARGV[4])
for i = 1, n do
  local ttl = tonumber(ARGV[4 + 2 * i])
  if ttl > 0 then redis.call('SET', KEYS[2 + i], ARGV[3 + 2 * i], 'EX', ttl)
  else redis.call('SET', KEYS[2 + i], ARGV[3 + 2 * i]) end
end
for i = 3 + n, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisStateStore(StateStore):
    """Keys live under one prefix; connection errors surface as StateUnavailable."""

    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self._begin = client.register_script(_BEGIN)
        self._finish = client.register_script(_FINISH)
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)

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

    def write(self, sets: dict[str, tuple[Any, int | None]], deletes: tuple[str, ...] = ()) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, (value, ttl) in sets.items():
                pipe.set(self._k(key), json.dumps(value, ensure_ascii=False, separators=(",", ":")), ex=ttl)
            for key in deletes:
                pipe.delete(self._k(key))
            pipe.execute()
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

    def try_acquire(self, key: str, timeout_s: float) -> str | None:
        token = uuid.uuid4().hex
        try:
            ok = self.client.set(self._k("lock:" + key), token, nx=True, px=max(1, int(timeout_s * 1000)))
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc
        return token if ok else None

    def release(self, key: str, token: str) -> None:
        try:
            self._release(keys=[self._k("lock:" + key)], args=[token])
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc

    def begin_message(self, dedupe_key: str, pending: str, dedupe_ttl_s: int, rate_key: str, rate_ttl_s: int,
                      lock_key: str, lock_ttl_s: float, conv_key: str) -> MessageStart:
        token = uuid.uuid4().hex
        keys = [self._k(dedupe_key), self._k(rate_key), self._k("lock:" + lock_key), self._k(conv_key)]
        try:
            claimed, count, locked, conv = self._begin(
                keys=keys, args=[pending, dedupe_ttl_s, rate_ttl_s, token, max(1, int(lock_ttl_s * 1000))])
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc
        if not claimed:
            return MessageStart(claimed=False)
        return MessageStart(True, int(count), token if locked else None, conv)

    def finish_message(self, dedupe_key: str, outcome: str, dedupe_ttl_s: int, lock_key: str, token: str,
                       sets: dict[str, tuple[str, int | None]] | None = None, deletes: tuple[str, ...] = ()) -> None:
        """One script: the handler's writes, the outcome and the lock release in one round trip."""
        sets = sets or {}
        keys = [self._k(dedupe_key), self._k("lock:" + lock_key), *(self._k(k) for k in sets),
                *(self._k(k) for k in deletes)]
        args: list[object] = [outcome, dedupe_ttl_s, token, len(sets)]
        for value, ttl in sets.values():
            args += [value, int(ttl or 0)]
        try:
            self._finish(keys=keys, args=args)
        except RedisError as exc:
            raise StateUnavailable(str(exc)) from exc

    def renew(self, key: str, token: str, timeout_s: float) -> bool:
        try:
            return bool(self._renew(keys=[self._k("lock:" + key)], args=[token, max(1, int(timeout_s * 1000))]))
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
