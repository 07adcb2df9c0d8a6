"""Exactly-once processing: retries, twins, deferred replies, per-user order, the message log."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.db.models import InboundMessage
from bot.dispatcher import Dispatcher, Router
from bot.filters import any_text
from bot.messages import IncomingMessage
from bot.state.redis import RedisStateStore
from bot.testing.chat import ChatDriver
from tests.helpers_core import counting_router, deliver_in_process


def _log_rows(chat: ChatDriver) -> int:
    chat.flush()
    with chat.services.db.session() as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


def test_retry_gets_same_reply_and_no_second_side_effect(chat: ChatDriver) -> None:
    chat.services.dispatcher = Dispatcher(counting_router("n"))
    first = chat.send("u1", "你好", msg_id="777")
    again = chat.send("u1", "你好", msg_id="777")
    assert first == again == "已处理 你好 #1"
    assert chat.services.state.get("n") == "1"
    assert _log_rows(chat) == 1


def test_events_dedupe_on_user_and_create_time(chat: ChatDriver) -> None:
    msg = IncomingMessage(user="u1", type="event", event="enter_agent", create_time=1_700_000_000)
    assert chat.deliver(msg) == texts.ENTER_AGENT
    assert chat.deliver(msg) == texts.ENTER_AGENT  # a retry replays the reply, it is not re-greeted as None
    other = IncomingMessage(user="u2", type="event", event="enter_agent", create_time=1_700_000_000)
    assert chat.deliver(other) == texts.ENTER_AGENT
    assert _log_rows(chat) == 2


def test_slow_handler_answers_empty_then_sends_through_api(chat: ChatDriver) -> None:
    chat.services.dispatcher = Dispatcher(counting_router("slow", delay_s=0.6))
    msg = IncomingMessage(user="u5", type="text", content="慢", msg_id="slow-1", create_time=1)
    started = time.monotonic()
    assert chat.services.processor.process(msg, budget_s=0.1) is None
    assert time.monotonic() - started < 0.4
    # WeCom retries while the handler still runs: still empty, no second run.
    assert chat.services.processor.process(msg, budget_s=0.1) is None
    deadline = time.monotonic() + 5
    while not chat.services.sender.sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [(m["users"], m["text"]) for m in chat.services.sender.sent] == [(["u5"], "已处理 慢 #1")]
    # A late retry must not produce the answer a second time as a passive reply.
    assert chat.services.processor.process(msg, budget_s=0.1) is None
    assert chat.services.state.get("slow") == "1"


def test_retry_while_first_is_running_waits_for_its_reply(chat: ChatDriver) -> None:
    chat.services.dispatcher = Dispatcher(counting_router("w", delay_s=0.3))
    msg = IncomingMessage(user="u6", type="text", content="问", msg_id="w-1", create_time=1)
    results: list[str | None] = []
    t = threading.Thread(target=lambda: results.append(chat.services.processor.process(msg, budget_s=2)))
    t.start()
    time.sleep(0.05)
    second = chat.services.processor.process(msg, budget_s=2)
    t.join()
    assert results == [second] == ["已处理 问 #1"]


def test_one_users_messages_are_handled_in_order(chat: ChatDriver) -> None:
    spans: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    router = Router("spans")

    @router.route(any_text)
    def record(msg, ctx, **_):
        start = time.monotonic()
        time.sleep(0.1)
        spans[msg.user].append((start, time.monotonic()))
        return None

    chat.services.dispatcher = Dispatcher(router)
    threads = [threading.Thread(target=chat.send, args=(user, f"m{i}")) for i in range(3) for user in "ab"]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for user in "ab":
        s = sorted(spans[user])
        assert len(s) == 3
        assert all(s[i][1] <= s[i + 1][0] for i in range(2)), f"{user}'s messages overlapped"
    assert time.monotonic() - started < 0.6  # different users ran side by side


def test_state_store_outage_is_told_plainly_and_changes_nothing(chat: ChatDriver) -> None:
    chat.services.dispatcher = Dispatcher(counting_router("never"))
    chat.services.state = RedisStateStore.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    assert chat.send("u1", "你好") == texts.STATE_DOWN
    assert _log_rows(chat) == 1  # audit finding 5: every message is still logged while Redis is down


@pytest.mark.postgres
@pytest.mark.redis
def test_two_processes_same_message_same_moment(pg_url: str, redis_client, redis_prefix: str) -> None:
    """Two bot processes sharing PostgreSQL and Redis get the same delivery at once: one side effect."""
    from tests.conftest import _USED_BACKENDS

    _USED_BACKENDS.update({"postgres", "redis"})
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    fields = {"user": "twin", "type": "text", "content": "统战信息", "msg_id": uuid.uuid4().hex[:16], "create_time": 1}
    redis_url = redis_client.connection_pool.connection_kwargs
    url = f"redis://{redis_url.get('host', '127.0.0.1')}:{redis_url.get('port', 6379)}/{redis_url.get('db', 0)}"
    procs = [ctx.Process(target=deliver_in_process, args=(pg_url, url, redis_prefix, fields, barrier, out))
             for _ in range(2)]
    for p in procs:
        p.start()
    replies = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert replies[0] == replies[1] == "已处理 统战信息 #1"
    assert redis_client.get(redis_prefix + "side-effects") == "1"
    from bot.db.database import Database

    db = Database(pg_url)
    with db.session() as s:
        rows = s.scalar(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.msg_key == "m:" + fields["msg_id"]))
    db.dispose()
    assert rows == 1


def test_async_path_replies_passively_or_defers(chat: ChatDriver) -> None:
    import asyncio

    chat.services.dispatcher = Dispatcher(counting_router("a"))
    processor = chat.services.processor
    fast = IncomingMessage(user="u7", type="text", content="快", msg_id="a-1", create_time=1)
    assert asyncio.run(processor.process_async(fast)) == "已处理 快 #1"
    chat.services.dispatcher = Dispatcher(counting_router("b", delay_s=1.5))
    slow = IncomingMessage(user="u7", type="text", content="慢", msg_id="a-2", create_time=1)
    started = time.monotonic()
    assert asyncio.run(processor.process_async(slow)) is None
    assert time.monotonic() - started < 1.4  # the configured 1 s budget, not the handler's 1.5 s
    deadline = time.monotonic() + 5
    while not chat.services.sender.sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert chat.services.sender.sent[-1]["text"] == "已处理 慢 #1"


def test_lock_held_elsewhere_releases_claim_for_retry(chat: ChatDriver) -> None:
    """Regression: a message that could not get its user's lock must stay retryable, not be swallowed."""
    import bot.processor as processor_module

    chat.services.dispatcher = Dispatcher(counting_router("c"))
    token = chat.services.state.try_acquire("user:u8", 30)
    assert token is not None
    old_wait = processor_module.LOCK_WAIT_S
    processor_module.LOCK_WAIT_S = 0.1
    try:
        assert chat.send("u8", "你好", msg_id="busy-1") == texts.BUSY
    finally:
        processor_module.LOCK_WAIT_S = old_wait
        chat.services.state.release("user:u8", token)
    assert chat.send("u8", "你好", msg_id="busy-1") == "已处理 你好 #1"


def _thread_router() -> Router:
    router = Router("threads")

    @router.route(lambda m, c: m.text == "快", inline=True)
    def fast(msg, ctx, **_):
        ctx.state.incr("runs", 60)
        return "inline:" + threading.current_thread().name

    @router.route(any_text)
    def slow(msg, ctx, **_):
        return "worker:" + threading.current_thread().name

    return router


def test_inline_routes_run_on_the_event_loop_with_memory_state(chat: ChatDriver) -> None:
    import asyncio

    chat.services.dispatcher = Dispatcher(_thread_router())
    processor = chat.services.processor
    fast = IncomingMessage(user="u1", type="text", content="快", msg_id="in-1", create_time=1)
    other = IncomingMessage(user="u1", type="text", content="查库", msg_id="in-2", create_time=1)

    async def both() -> tuple[str | None, str | None, str | None]:
        return await processor.process_async(fast), await processor.process_async(fast), \
            await processor.process_async(other)

    first, retry, threaded = asyncio.run(both())
    assert first == retry == "inline:" + threading.current_thread().name
    assert chat.services.state.get("runs") == "1"  # the retry replayed, it did not run again
    assert threaded is not None and threaded.startswith("worker:handler")
    chat.flush()
    assert _log_rows(chat) == 2


def test_inline_routes_use_worker_threads_with_redis(chat: ChatDriver, redis_client) -> None:
    import asyncio

    from tests.conftest import make_redis_store

    chat.services.state = make_redis_store(redis_client)
    processor = type(chat.services.processor)(chat.services, chat.services.processor.message_log)
    chat.services.dispatcher = Dispatcher(_thread_router())
    fast = IncomingMessage(user="u1", type="text", content="快", msg_id="in-3", create_time=1)
    assert asyncio.run(processor.process_async(fast)).startswith("inline:handler")
