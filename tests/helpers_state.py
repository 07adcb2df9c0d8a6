"""Bot processes sharing the SQLite state file (the embedded default with several workers);
module-level functions so multiprocessing's spawn can import them."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from bot.dispatcher import Dispatcher, Router
from bot.filters import any_text
from tests.helpers_core import counting_router


def _services(db_url: str, state_path: str, data_dir: str, router: Router) -> Any:
    from app.services import build_services
    from bot.config import build_settings
    from bot.state.sqlite import SQLiteStateStore
    from bot.wecom.sender import LogSender

    settings = build_settings({"database_url": db_url, "data_dir": data_dir})
    services = build_services(settings, sender=LogSender(), state=SQLiteStateStore(state_path), migrate=False)
    services.dispatcher = Dispatcher(router)
    return services


def deliver_same(db_url: str, state_path: str, data_dir: str, msg_fields: dict, barrier, out) -> None:  # noqa: ANN001
    """Deliver one message at the barrier; the side effect is a counter in the shared state file."""
    from bot.messages import IncomingMessage

    services = _services(db_url, state_path, data_dir, counting_router("side-effects", delay_s=0.2))
    msg = IncomingMessage(**msg_fields)
    barrier.wait(timeout=60)
    reply = services.processor.process(msg, budget_s=None)
    services.processor.message_log.flush()
    out.put(reply)
    services.close()


def span_router() -> Router:
    """Each message appends its (start, end) to a list in the state, read and written under the user's lock."""
    router = Router("spans")

    @router.route(any_text)
    def record(msg, ctx, **_: Any) -> str:  # noqa: ANN001
        start = time.time()
        spans = ctx.state.get_json("spans") or []
        time.sleep(0.05)
        spans.append([start, time.time(), msg.text])
        ctx.state.set_json("spans", spans, 600)
        return "ok"

    return router


def deliver_sequence(db_url: str, state_path: str, data_dir: str, user: str, texts: list[str], barrier,  # noqa: ANN001
                     out) -> None:
    from bot.messages import IncomingMessage

    services = _services(db_url, state_path, data_dir, span_router())
    barrier.wait(timeout=60)
    replies = [services.processor.process(IncomingMessage(user=user, type="text", content=t, msg_id=f"{os.getpid()}-{t}",
                                                          create_time=1), budget_s=None) for t in texts]
    out.put(replies)
    services.close()


def claim_at_barrier(state_path: str, barrier, out) -> None:  # noqa: ANN001
    from bot.state.sqlite import SQLiteStateStore

    store = SQLiteStateStore(state_path)
    barrier.wait(timeout=60)
    out.put(store.claim("dedupe:race", str(os.getpid()), 60))
    store.close()


def write_then_die(state_path: str) -> None:
    """Commit a conversation and a finished message, then die by SIGKILL (no clean-up runs)."""
    from bot.state.sqlite import SQLiteStateStore

    store = SQLiteStateStore(state_path)
    store.set_json("conv:u1", {"kind": "report", "need": "activity"}, 600)
    start = store.begin_message("dedupe:m:1", "pending", 600, "rate:u1:0", 120, "user:u1", 120, "conv:u1")
    assert start.lock_token is not None
    store.finish_message("dedupe:m:1", json.dumps({"r": "已修改", "via": "passive"}), 600, "user:u1", start.lock_token)
    os.kill(os.getpid(), signal.SIGKILL)
