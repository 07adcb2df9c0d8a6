"""WeCom's per-member sending limits, kept on our side: WeCom drops the excess silently.

WeCom's documented limits for one app: at most 30 messages to one member a minute and 1,000 an
hour; anything over that is accepted by the API (errcode 0) and then never delivered. So the
sender asks this limiter before every call and leaves out members who have no room; the caller
sees them as `limited` and can try again later, instead of believing a dropped message arrived.

Sliding windows: in-process with a deque per member, or in Redis (one sorted set per member,
checked and filled by one Lua script) when several processes send for the same app.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

PER_MINUTE = 30
PER_HOUR = 1000


class RateLimiter(Protocol):
    def take(self, users: Sequence[str], n: int = 1) -> list[str]:
        """The users that may receive `n` more messages now; the room is used up for them."""
        ...


class MemoryRateLimiter:
    """Sliding one-minute and one-hour windows per member, for one process."""

    def __init__(self, per_minute: int = PER_MINUTE, per_hour: int = PER_HOUR,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.per_hour, self.clock = per_minute, per_hour, clock
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, users: Sequence[str], n: int = 1) -> list[str]:
        now = self.clock()
        allowed: list[str] = []
        with self._lock:
            for user in users:
                times = self._sent.setdefault(user, deque())
                while times and times[0] <= now - 3600:
                    times.popleft()
                in_minute = len(times) - _first_after(times, now - 60)
                if in_minute + n > self.per_minute or len(times) + n > self.per_hour:
                    continue
                times.extend([now] * n)
                allowed.append(user)
            if len(self._sent) > 50_000:  # forget members idle for an hour
                for user in [u for u, t in self._sent.items() if not t]:
                    del self._sent[user]
        return allowed


def _first_after(times: deque[float], since: float) -> int:
    """Index of the first time after `since` (times are in order)."""
    for i, t in enumerate(times):
        if t > since:
            return i
    return len(times)


# KEYS: one sorted set per user. ARGV: now ms, n, per minute, per hour, unique member prefix.
_TAKE = """
local out = {}
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - 3600000)
  local minute = redis.call('ZCOUNT', key, '(' .. (now - 60000), '+inf')
  local hour = redis.call('ZCARD', key)
  if minute + n <= tonumber(ARGV[3]) and hour + n <= tonumber(ARGV[4]) then
    for j = 1, n do redis.call('ZADD', key, now, ARGV[5] .. ':' .. i .. ':' .. j) end
    redis.call('PEXPIRE', key, 3600000)
    out[#out + 1] = i
  end
end
return out
"""


class RedisRateLimiter:
    """The same windows in Redis, shared by every process sending for the app."""

    def __init__(self, client: Any, prefix: str = "ztbot:wecom:rate:", per_minute: int = PER_MINUTE,
                 per_hour: int = PER_HOUR, clock: Callable[[], float] = time.time) -> None:
        self.client, self.prefix = client, prefix
        self.per_minute, self.per_hour, self.clock = per_minute, per_hour, clock
        self._script = client.register_script(_TAKE)

    def take(self, users: Sequence[str], n: int = 1) -> list[str]:
        allowed: list[str] = []
        for start in range(0, len(users), 500):
            part = list(users[start:start + 500])
            keys = [self.prefix + u for u in part]
            picked = self._script(keys=keys, args=[int(self.clock() * 1000), n, self.per_minute, self.per_hour,
                                                   uuid.uuid4().hex])
            allowed.extend(part[int(i) - 1] for i in picked)
        return allowed
