"""Per-process or shared state: dedupe keys, conversation state, per-user locks, counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.state.base import LockTimeout, StateStore, StateUnavailable
from bot.state.memory import MemoryStateStore

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["LockTimeout", "MemoryStateStore", "StateStore", "StateUnavailable", "build_state_store"]
STATE_FILE = "state.db"


def build_state_store(settings: Settings) -> StateStore:
    """Redis when configured, else the SQLite state file in data_dir (shared by this machine's processes,
    kept across restarts)."""
    if settings.redis_url:
        from bot.state.redis import RedisStateStore

        return RedisStateStore.from_url(settings.redis_url)
    from bot.state.sqlite import SQLiteStateStore

    return SQLiteStateStore(settings.data_dir / STATE_FILE)
