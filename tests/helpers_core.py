"""Helpers for the core tests that must run in a separate OS process (importable by spawn)."""

from __future__ import annotations

import time
from typing import Any

from bot.dispatcher import Dispatcher, Router
from bot.filters import any_text


def counting_router(counter_key: str, delay_s: float = 0.0) -> Router:
    """A route whose side effect is visible to every process: INCR a key in the shared state store."""
    router = Router("count")

    @router.route(any_text)
    def count(msg, ctx, **_: Any) -> str:  # noqa: ANN001
        n = ctx.state.incr(counter_key, 600)
        if delay_s:
            time.sleep(delay_s)
        return f"已处理 {msg.text} #{n}"

    return router


def deliver_in_process(db_url: str, redis_url: str, prefix: str, msg_fields: dict, barrier, out) -> None:  # noqa: ANN001
    """A whole bot process: build services on the shared PostgreSQL + Redis, wait, deliver."""
    from app.services import build_services
    from bot.config import build_settings
    from bot.messages import IncomingMessage
    from bot.state.redis import RedisStateStore
    from bot.wecom.sender import LogSender

    settings = build_settings({"database_url": db_url, "redis_url": redis_url})
    state = RedisStateStore.from_url(redis_url, prefix=prefix)
    services = build_services(settings, sender=LogSender(), state=state, migrate=False)
    services.dispatcher = Dispatcher(counting_router("side-effects", delay_s=0.2))
    msg = IncomingMessage(**msg_fields)
    barrier.wait(timeout=30)
    reply = services.processor.process(msg, budget_s=None)
    services.processor.message_log.flush()
    out.put(reply)
    services.close()
