"""Exactly-once message processing: dedupe, per-user order, rate limit, dispatch, deferred replies.

WeCom retries a callback up to three times if it gets no answer within 5 s. Every delivery of the
same message claims one dedupe key in the shared state store; only the claimant runs the
handlers, and the others get the first delivery's reply (or an empty answer if that reply went
out through the send API). A handler still running after `reply_budget_s` is answered with an
empty 200 at once and its reply is sent through the API when it finishes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from bot import texts
from bot.context import HandlerContext
from bot.state.base import LockTimeout, StateUnavailable

if TYPE_CHECKING:
    from bot.context import Services
    from bot.message_log import MessageLog
    from bot.messages import IncomingMessage

log = logging.getLogger(__name__)
PENDING = "pending"


class _Job:
    """Hand-off between the waiting request and the worker: decides passive vs. API reply once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.reply: str | None = None
        self.gave_up = False

    def finish(self, reply: str | None) -> str:
        with self._lock:
            self.reply = reply
            self._done.set()
            return "api" if self.gave_up else "passive"

    def wait(self, budget_s: float | None) -> tuple[bool, str | None]:
        self._done.wait(budget_s)
        with self._lock:
            if self._done.is_set():
                return True, self.reply
            self.gave_up = True
            return False, None


class MessageProcessor:
    def __init__(self, services: Services, message_log: MessageLog, *, workers: int = 32) -> None:
        self.services = services
        self.message_log = message_log
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="handler")
        s = services.settings
        self._ttl = s.dedupe_ttl_s
        self._budget = s.wecom.reply_budget_s
        self._limit = s.rate_limit_per_minute

    def process(self, msg: IncomingMessage, *, budget_s: float | None | bool = True) -> str | None:
        """Handle one delivery; returns the passive reply text, or None for an empty answer.

        budget_s=True uses the configured reply budget; None waits for the handler however long it takes.
        """
        budget = self._budget if budget_s is True else budget_s
        key = "dedupe:" + msg.dedupe_key
        state = self.services.state
        try:
            first = state.claim(key, PENDING, self._ttl)
        except StateUnavailable:
            log.error("state store unavailable; message %s not processed", msg.dedupe_key, exc_info=True)
            return texts.STATE_DOWN
        if not first:
            return self._replay(key, budget)
        job = _Job()
        self._pool.submit(self._run, msg, key, job)
        done, reply = job.wait(budget)
        return reply if done else None

    def _replay(self, key: str, budget: float | None) -> str | None:
        """A retry or a twin delivery: wait for the first one's outcome, never run handlers again."""
        deadline = time.monotonic() + (budget if budget is not None else 30.0)
        while True:
            try:
                raw = self.services.state.get(key)
            except StateUnavailable:
                return None
            if raw is not None and raw != PENDING:
                outcome = json.loads(raw)
                return outcome["r"] if outcome.get("via") == "passive" else None
            if raw is None or time.monotonic() >= deadline:
                return None
            time.sleep(0.01)

    def _run(self, msg: IncomingMessage, key: str, job: _Job) -> None:
        reply: str | None
        try:
            with self.services.state.lock("user:" + msg.user, timeout_s=120, wait_s=30):
                reply = self._handle(msg)
        except LockTimeout:
            log.warning("user lock timeout for %s", msg.user)
            reply = texts.BUSY
        except StateUnavailable:
            log.error("state store unavailable while handling %s", msg.dedupe_key, exc_info=True)
            reply = texts.STATE_DOWN
        except Exception:  # noqa: BLE001 - one error path: log, apologise
            log.exception("processing failed: user=%s key=%s", msg.user, msg.dedupe_key)
            reply = texts.HANDLER_ERROR
        via = job.finish(reply)
        try:
            self.services.state.set(key, json.dumps({"r": reply, "via": via}, ensure_ascii=False), self._ttl)
        except StateUnavailable:
            log.error("could not store outcome of %s", msg.dedupe_key)
        self.message_log.record(msg, reply)
        if via == "api" and reply:
            result = self.services.sender.send_text([msg.user], reply)
            if not result.ok:
                log.error("deferred reply to %s failed: %s %s", msg.user, result.errcode, result.errmsg)

    def _handle(self, msg: IncomingMessage) -> str | None:
        services = self.services
        minute = int(services.clock.now().timestamp() // 60)
        count = services.state.incr(f"rate:{msg.user}:{minute}", 120)
        if count > self._limit:
            return texts.RATE_LIMITED if count == self._limit + 1 else None
        ctx = HandlerContext(services, msg)
        assert services.dispatcher is not None, "dispatcher not wired"
        return services.dispatcher.dispatch(msg, ctx)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.message_log.close()
