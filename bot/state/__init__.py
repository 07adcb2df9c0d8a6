"""Per-process or shared state: dedupe keys, conversation state, per-user locks, counters."""

from bot.state.base import LockTimeout, StateStore, StateUnavailable
from bot.state.memory import MemoryStateStore

__all__ = ["LockTimeout", "MemoryStateStore", "StateStore", "StateUnavailable", "build_state_store"]


def build_state_store(redis_url: str | None) -> StateStore:
    """Redis when configured, else in-process memory (one process only)."""
    if redis_url:
        from bot.state.redis import RedisStateStore

        return RedisStateStore.from_url(redis_url)
    return MemoryStateStore()
