"""Audit finding 10: memory grew in a soak on the embedded default (stored dedupe replies kept
24 h, ~0.9 KB each, and an expiry heap that kept every rewritten key). The in-memory store now
bounds dedupe by count and bytes, drops reply texts once WeCom can no longer retry, and rebuilds
its heap; it degrades by forgetting the oldest message ids, never by running a message twice
within the window it keeps."""

from __future__ import annotations

import json

from bot.state.memory import DEDUPE_PREFIX, REPLY_DROPPED, MemoryStateStore

REPLY = json.dumps({"r": "答" * 300, "via": "passive"}, ensure_ascii=False)  # ~0.9 KB like a real answer


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _deliver(store: MemoryStateStore, i: int) -> None:
    key = f"{DEDUPE_PREFIX}m:{i}"
    assert store.claim(key, "pending", 86400)
    store.set(key, REPLY, 86400)


def test_stored_replies_for_dedupe_kept_24h_grow_without_bound() -> None:
    clock = Clock()
    store = MemoryStateStore(clock, max_dedupe_keys=5_000, max_dedupe_bytes=2 * 1024 * 1024, keep_replies_s=60)
    sizes = []
    for i in range(60_000):  # 100 minutes at 10 messages a second
        clock.t += 0.1
        _deliver(store, i)
        if i % 6_000 == 0:
            sizes.append(store.dedupe_bytes)
    assert len(store._data) <= 5_000 and store.dedupe_bytes <= 2 * 1024 * 1024
    assert max(sizes[2:]) - min(sizes[2:]) < 64 * 1024  # flat once warmed up
    assert not store.claim(f"{DEDUPE_PREFIX}m:59990", "pending", 86400)  # a recent retry is still a retry
    assert store.get(f"{DEDUPE_PREFIX}m:59999") == REPLY  # the newest replies are kept for retries
    assert store.get(f"{DEDUPE_PREFIX}m:{60_000 - 1000}") == REPLY_DROPPED  # older: processed, text dropped


def test_expiry_heap_kept_every_rewritten_key() -> None:
    clock = Clock()
    store = MemoryStateStore(clock)
    for i in range(100_000):
        store.set(f"conv:user{i % 50}", "{}", 600)  # the same 50 keys rewritten over and over
        clock.t += 0.001
    assert len(store._expiries) < 2 * 50 + 4096 + 10


def test_bounds_never_evict_locks_or_conversations() -> None:
    store = MemoryStateStore(max_dedupe_keys=10, max_dedupe_bytes=10_000)
    token = store.try_acquire("user:li", 30)
    store.set("conv:li", '{"kind":"followup"}', 600)
    for i in range(1_000):
        _deliver(store, i)
    assert store.get("conv:li") == '{"kind":"followup"}'
    assert token is not None and store.try_acquire("user:li", 30) is None
    assert store.evicted == 990


def test_replay_after_reply_dropped_answers_empty_and_runs_nothing(chat) -> None:  # noqa: ANN001
    from bot.testing.chat import ChatDriver

    driver: ChatDriver = chat
    store = driver.services.state
    assert isinstance(store, MemoryStateStore)
    first = driver.send("li", "帮助", msg_id="88001")
    assert first
    key = f"{DEDUPE_PREFIX}m:88001"
    store._data[key] = (REPLY_DROPPED, store._data[key][1])  # as the bound leaves an old outcome
    assert driver.send("li", "帮助", msg_id="88001") is None
