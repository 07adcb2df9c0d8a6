"""One state-store suite, run on the in-process store and on a real Redis."""

from __future__ import annotations

import threading
import time

import pytest

from bot.state import LockTimeout, MemoryStateStore
from bot.state.base import StateStore


def test_claim_is_first_writer_wins(state: StateStore) -> None:
    assert state.claim("dedupe:m:1", "pending", 60) is True
    assert state.claim("dedupe:m:1", "other", 60) is False
    assert state.get("dedupe:m:1") == "pending"


def test_set_get_delete_and_json(state: StateStore) -> None:
    state.set_json("conv:u1", {"kind": "report", "n": 2, "text": "报送"}, 60)
    assert state.get_json("conv:u1") == {"kind": "report", "n": 2, "text": "报送"}
    state.delete("conv:u1")
    assert state.get("conv:u1") is None


def test_ttl_expires(state: StateStore) -> None:
    state.set("short", "x", 1)
    assert state.get("short") == "x"
    time.sleep(1.2)
    assert state.get("short") is None
    assert state.claim("short", "y", 1) is True


def test_incr_counts_and_expires(state: StateStore) -> None:
    assert [state.incr("rate:u1", 1) for _ in range(3)] == [1, 2, 3]
    time.sleep(1.2)
    assert state.incr("rate:u1", 1) == 1


def test_claim_is_atomic_under_threads(state: StateStore) -> None:
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        wins.append(state.claim("race", "v", 60))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_lock_serialises_one_key(state: StateStore) -> None:
    inside = 0
    peak = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with state.lock("user:u1", timeout_s=5, wait_s=5):
            with guard:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.02)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1


def test_lock_times_out_when_held(state: StateStore) -> None:
    release = threading.Event()
    taken = threading.Event()

    def holder() -> None:
        with state.lock("user:u2", timeout_s=5, wait_s=1):
            taken.set()
            release.wait(3)

    t = threading.Thread(target=holder)
    t.start()
    taken.wait(2)
    with pytest.raises(LockTimeout):
        with state.lock("user:u2", timeout_s=5, wait_s=0.2):
            pass
    release.set()
    t.join()
    with state.lock("user:u2", timeout_s=5, wait_s=1):
        pass


def test_keys_by_prefix(state: StateStore) -> None:
    state.set("greet:a", "1", 60)
    state.set("greet:b", "1", 60)
    state.set("other", "1", 60)
    assert sorted(state.keys("greet:")) == ["greet:a", "greet:b"]


def test_memory_store_sweeps_expired_keys() -> None:
    now = [0.0]
    store = MemoryStateStore(monotonic=lambda: now[0])
    for i in range(100):
        store.set(f"k{i}", "v", 1)
    now[0] = 5.0
    for i in range(30):
        store.set("live", str(i), None)
    assert len(store._data) == 1  # noqa: SLF001 - the sweep is what keeps memory bounded
    store.set("renewed", "a", 1)
    store.set("renewed", "b", 10)  # rewritten with a later expiry: the old heap entry must not drop it
    now[0] = 7.0
    store.set("x", "1", None)
    assert store.get("renewed") == "b"


def test_write_sets_and_deletes_in_one_call(state: StateStore) -> None:
    state.set("gone", "x", 60)
    state.write({"a": ({"n": 1}, 60), "b": (["二"], None)}, deletes=("gone",))
    assert state.get_json("a") == {"n": 1} and state.get_json("b") == ["二"]
    assert state.get("gone") is None


def test_lock_renew_only_by_its_holder(state: StateStore) -> None:
    token = state.try_acquire("lease", 1)
    assert token is not None
    assert state.renew("lease", token, 5) is True
    assert state.renew("lease", "someone-else", 5) is False
    time.sleep(1.2)  # the first TTL has passed; the renewal keeps the lock held
    assert state.try_acquire("lease", 1) is None
    state.release("lease", token)
    assert state.try_acquire("lease", 1) is not None


def test_begin_and_finish_message(state: StateStore) -> None:
    state.set("conv:u1", '{"kind":"report"}', 60)
    first = state.begin_message("dedupe:m1", "pending", 60, "rate:u1", 60, "user:u1", 5, "conv:u1")
    assert first.claimed and first.rate_count == 1 and first.lock_token and first.conversation == '{"kind":"report"}'
    assert state.begin_message("dedupe:m1", "pending", 60, "rate:u1", 60, "user:u1", 5, "conv:u1").claimed is False
    second = state.begin_message("dedupe:m2", "pending", 60, "rate:u1", 60, "user:u1", 5, "conv:u1")
    assert second.claimed and second.rate_count == 2 and second.lock_token is None  # u1's lock is still held
    state.finish_message("dedupe:m1", '{"r":"ok"}', 60, "user:u1", first.lock_token)
    assert state.get("dedupe:m1") == '{"r":"ok"}'
    assert state.try_acquire("user:u1", 5) is not None


def test_finish_message_applies_the_handlers_writes(state: StateStore) -> None:
    state.set("choices:u1", "old", 60)
    start = state.begin_message("dedupe:m3", "pending", 60, "rate:u3", 60, "user:u3", 5, "conv:u3")
    assert start.lock_token is not None
    state.finish_message("dedupe:m3", '{"r":"ok"}', 60, "user:u3", start.lock_token,
                         sets={"conv:u3": ('{"kind":"report"}', 1), "last:u3": ('{"n":1}', None)},
                         deletes=("choices:u1",))
    assert state.get("conv:u3") == '{"kind":"report"}' and state.get("last:u3") == '{"n":1}'
    assert state.get("choices:u1") is None and state.get("dedupe:m3") == '{"r":"ok"}'
    assert state.try_acquire("user:u3", 5) is not None
    time.sleep(1.2)
    assert state.get("conv:u3") is None and state.get("last:u3") == '{"n":1}'  # each write keeps its own TTL


def test_async_begin_and_finish(state: StateStore) -> None:
    import asyncio

    async def both() -> tuple[object, object]:
        start = await state.begin_message_async("dedupe:m4", "pending", 60, "rate:u4", 60, "user:u4", 5, "conv:u4")
        await state.finish_message_async("dedupe:m4", "done", 60, "user:u4", start.lock_token,
                                         sets={"conv:u4": ('{"kind":"x"}', 60)})
        again = await state.begin_message_async("dedupe:m4", "pending", 60, "rate:u4", 60, "user:u4", 5, "conv:u4")
        return start, again

    start, again = asyncio.run(both())
    assert start.claimed and start.lock_token and not again.claimed
    assert state.get("dedupe:m4") == "done" and state.get("conv:u4") == '{"kind":"x"}'
