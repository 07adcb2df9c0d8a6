"""WeCom's per-member limits kept on our side: the same windows in memory and in Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.wecom.limits import MemoryRateLimiter, RedisRateLimiter


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_limiter(request: pytest.FixtureRequest, redis_prefix: str) -> Callable[..., Any]:
    def build(clock: Callable[[], float], **kw: int) -> Any:
        if request.param == "memory":
            return MemoryRateLimiter(clock=clock, **kw)
        from tests.conftest import _USED_BACKENDS

        _USED_BACKENDS.add("redis")
        return RedisRateLimiter(request.getfixturevalue("redis_client"), prefix=redis_prefix + "rate:", clock=clock,
                                **kw)

    return build


def test_minute_and_hour_windows_slide(make_limiter: Callable[..., Any]) -> None:
    now = [1_000_000.0]
    limiter = make_limiter(lambda: now[0], per_minute=3, per_hour=5)
    assert limiter.take(["a", "b"], 3) == ["a", "b"]
    assert limiter.take(["a", "b"]) == []  # both full for this minute
    now[0] += 61
    assert limiter.take(["a"], 2) == ["a"] and limiter.take(["a"]) == []  # a's hour is full
    assert limiter.take(["b"], 2) == ["b"]
    now[0] += 3600
    assert limiter.take(["a", "b", "c"], 3) == ["a", "b", "c"]


def test_a_member_without_room_does_not_use_up_others(make_limiter: Callable[..., Any]) -> None:
    now = [2_000_000.0]
    limiter = make_limiter(lambda: now[0], per_minute=30, per_hour=1000)
    assert limiter.take(["busy"], 30) == ["busy"]
    users = ["busy"] + [f"u{i}" for i in range(700)]  # more than one Redis script call's worth
    assert limiter.take(users) == users[1:]
