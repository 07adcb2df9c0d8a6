"""Exactly-once message processing: dedupe, per-user order, rate limit, dispatch, deferred replies.

WeCom retries a callback up to three times if it gets no answer within 5 s. Every delivery of the
same message claims one dedupe key in the shared state store; only the claimant runs the
handlers, and the others get the first delivery's reply (or an empty answer if that reply went
out through the send API). A handler still running after `reply_budget_s` is answered with an
empty 200 at once and its reply is sent through the API when it finishes.

Whatever goes wrong, the user hears back and the message is logged: when the state store is
unreachable, routes that need no shared state (the `inline` ones: questions, help) are answered
from a scratch store, anything else gets STATE_DOWN; and any reply decided after the budget ran
out (an apology included) goes through the send API, since WeCom does not retry a 200.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from bot import texts
from bot.context import UNREAD, HandlerContext
from bot.state.base import LockTimeout, MessageStart, StateUnavailable
from bot.state.buffered import BufferedState
from bot.state.memory import MemoryStateStore
from bot.wecom.cards import has_buttons, task_id_for

if TYPE_CHECKING:
    from bot.context import Services
    from bot.message_log import MessageLog
    from bot.messages import IncomingMessage

log = logging.getLogger(__name__)
PENDING = "pending"
LOCK_TTL_S = 120.0
LOCK_WAIT_S = 30.0
_UNRESOLVED = object()  # the route is not looked up yet
_NOT_INLINE = object()  # the route must run on a worker thread


class _Job:
    """Hand-off between the waiting request and the worker: decides passive vs. API reply once.

    `decide` fixes the outcome, `release` wakes the waiter; between the two the processor stores
    the outcome, so a reply never reaches WeCom before a restart would remember it (kill -9).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._decided = False
        self.on_done: Callable[[], None] | None = None
        self.reply: str | None = None
        self.gave_up = False
        self.cards = False  # a WeCom callback: a reply with buttons goes out as a card through the API

    def decide(self, reply: str | None) -> str:
        """Fix the reply; "api" if the waiter already gave up (the reply must be sent), else "passive"."""
        with self._lock:
            self.reply = reply
            self._decided = True
            return "api" if self.gave_up else "passive"

    def release(self) -> None:
        self._done.set()
        if self.on_done is not None:
            self.on_done()

    def finish(self, reply: str | None) -> str:
        via = self.decide(reply)
        self.release()
        return via

    def wait(self, budget_s: float | None) -> tuple[bool, str | None]:
        self._done.wait(budget_s)
        return self.outcome()

    def outcome(self) -> tuple[bool, str | None]:
        """(True, reply) if decided; otherwise gives up so the worker will use the send API."""
        with self._lock:
            if self._decided:
                return True, self.reply
            self.gave_up = True
            return False, None


class MessageProcessor:
    def __init__(self, services: Services, message_log: MessageLog, *, workers: int = 4) -> None:
        self.services = services
        self.message_log = message_log
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="handler")
        s = services.settings
        self._ttl = s.dedupe_ttl_s
        self._budget = s.wecom.reply_budget_s
        self._limit = s.rate_limit_per_minute

    def process(self, msg: IncomingMessage, *, budget_s: float | None | bool = True,
                cards: bool | None = None) -> str | None:
        """Handle one delivery; returns the passive reply text, or None for an empty answer.

        budget_s=True uses the configured reply budget; None waits for the handler however long it takes
        (the terminal and tests: no cards then, unless `cards` says so; the reply is the Reply itself).
        """
        budget = self._budget if budget_s is True else budget_s
        job = _Job()
        job.cards = budget_s is not None if cards is None else cards
        self._pool.submit(self._run, msg, job, budget)
        done, reply = job.wait(budget)
        return reply if done else None

    async def process_async(self, msg: IncomingMessage) -> str | None:
        """The same for an asyncio server. With a local state store (the SQLite file, memory) a message
        whose route is marked inline (no blocking I/O: help, questions) is handled on the event loop
        itself, its begin and finish awaited there (SQLite: on the store's writer thread, so the loop
        serves other requests meanwhile); everything else takes one hop to a worker thread."""
        job = _Job()
        job.cards = True
        if self.services.state.local:
            begun = await self._begin_async(msg)
            if begun is None:
                return await self._wait_async(job, self._degraded, msg, job)
            start = begun
            if start.claimed and start.lock_token is not None:
                ctx = self._context(msg, start.conversation)
                found = self._resolve_inline(msg, ctx, start.rate_count)
                if found is not _NOT_INLINE:
                    reply = self._handle(msg, start.rate_count, ctx, found)
                    card = self._as_card(job, msg, reply)
                    await self._finish_inline(msg, start.lock_token, reply, ctx, card)
                    if card:
                        self._pool.submit(self._send_reply, msg, reply, True)
                        return None
                    return reply
                return await self._wait_async(job, self._run_claimed, msg, job, self._budget, start, ctx)
            return await self._wait_async(job, self._run_claimed, msg, job, self._budget, start, None)
        return await self._wait_async(job, self._run, msg, job, self._budget)

    def _context(self, msg: IncomingMessage, conversation: str | None | object) -> HandlerContext:
        """The handler's context; its plain state writes are held and applied by finish_message."""
        return HandlerContext(self.services, msg, conversation=conversation, state=BufferedState(self.services.state))

    async def _finish_inline(self, msg: IncomingMessage, token: str, reply: str | None, ctx: HandlerContext,
                             card: bool = False) -> None:
        """_finish for a message handled on the event loop: nobody can have given up on it yet."""
        self.message_log.record(msg, reply)
        sets, deletes = self._held(ctx)
        via = "card" if card else "passive"
        try:
            await self.services.state.finish_message_async(
                "dedupe:" + msg.dedupe_key, json.dumps({"r": reply, "via": via}, ensure_ascii=False),
                self._ttl, "user:" + msg.user, token, sets, deletes)
        except StateUnavailable:
            log.error("could not store outcome of %s", msg.dedupe_key)

    @staticmethod
    def _held(ctx: HandlerContext | None) -> tuple[dict[str, tuple[str, int | None]] | None, tuple[str, ...]]:
        state = ctx.state if ctx is not None else None
        return state.held() if isinstance(state, BufferedState) else (None, ())

    async def _begin_async(self, msg: IncomingMessage) -> MessageStart | None:
        """_begin for the event loop; None when the store is down."""
        minute = int(self.services.clock.now().timestamp() // 60)
        try:
            return await self.services.state.begin_message_async(
                "dedupe:" + msg.dedupe_key, PENDING, self._ttl, f"rate:{msg.user}:{minute}", 120,
                "user:" + msg.user, LOCK_TTL_S, f"conv:{msg.user}")
        except StateUnavailable:
            log.error("state store unavailable; %s handled without shared state", msg.dedupe_key)
            return None

    async def _wait_async(self, job: _Job, fn: Callable[..., None], *args: object) -> str | None:
        loop = asyncio.get_running_loop()
        signal = loop.create_future()

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(lambda: signal.done() or signal.set_result(None))
            except RuntimeError:
                pass  # the loop is gone (server shutting down); the worker still finishes the job

        job.on_done = wake
        self._pool.submit(fn, *args)
        try:
            await asyncio.wait_for(signal, self._budget)
        except TimeoutError:
            pass
        done, reply = job.outcome()
        return reply if done else None

    def _resolve_inline(self, msg: IncomingMessage, ctx: HandlerContext, rate_count: int) -> object:
        """The route if it may run on the event loop (or nothing to run), else _NOT_INLINE."""
        if rate_count > self._limit:
            return None
        assert self.services.dispatcher is not None, "dispatcher not wired"
        try:
            found = self.services.dispatcher.resolve(msg, ctx)
        except Exception:  # noqa: BLE001 - let the threaded path meet the error and answer it
            return _NOT_INLINE
        if found is None or found[0].inline:
            return found
        return _NOT_INLINE

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

    def _begin(self, msg: IncomingMessage) -> MessageStart | None:
        """Claim the delivery, count it, try the user's lock; None when the store is down."""
        minute = int(self.services.clock.now().timestamp() // 60)
        try:
            return self.services.state.begin_message(
                "dedupe:" + msg.dedupe_key, PENDING, self._ttl, f"rate:{msg.user}:{minute}", 120,
                "user:" + msg.user, LOCK_TTL_S, f"conv:{msg.user}")
        except StateUnavailable:
            log.error("state store unavailable; %s handled without shared state", msg.dedupe_key)
            return None

    def _run(self, msg: IncomingMessage, job: _Job, budget: float | None) -> None:
        begun = self._begin(msg)
        if begun is None:
            self._degraded(msg, job)
            return
        self._run_claimed(msg, job, budget, begun, None)

    def _degraded(self, msg: IncomingMessage, job: _Job) -> None:
        """The state store is down: answer what needs no shared state, tell the user otherwise."""
        ctx = _ScratchContext(self.services, msg)
        reply: str | None = texts.STATE_DOWN
        assert self.services.dispatcher is not None, "dispatcher not wired"
        try:
            found = self.services.dispatcher.resolve(msg, ctx)
            if found is None:
                reply = None
            elif found[0].inline:
                reply = self.services.dispatcher.dispatch(msg, ctx, found=found)
        except Exception:  # noqa: BLE001 - one error path: log, and the user still hears STATE_DOWN
            log.exception("degraded handling failed: user=%s key=%s", msg.user, msg.dedupe_key)
        self._deliver(msg, job, reply)

    def _deliver(self, msg: IncomingMessage, job: _Job, reply: str | None) -> str:
        """Log the message, hand the reply over; send it through the API when the budget ran out."""
        self.message_log.record(msg, reply)
        via = job.finish(reply)
        if via == "api" and reply:
            result = self.services.sender.send_text([msg.user], reply)
            if not result.ok:
                log.error("deferred reply to %s failed: %s %s", msg.user, result.errcode, result.errmsg)
        return via

    def _run_claimed(self, msg: IncomingMessage, job: _Job, budget: float | None, start: MessageStart,
                     ctx: HandlerContext | None) -> None:
        key = "dedupe:" + msg.dedupe_key
        if not start.claimed:
            job.finish(self._replay(key, budget))
            return
        token = start.lock_token
        if token is None:
            try:
                token = self.services.state.acquire("user:" + msg.user, timeout_s=LOCK_TTL_S, wait_s=LOCK_WAIT_S)
            except (LockTimeout, StateUnavailable):
                log.warning("user lock for %s not available; %s released for a retry", msg.user, msg.dedupe_key)
                self._forget(key)
                self._deliver(msg, job, texts.BUSY)
                return
            ctx = None  # the conversation may have changed while we waited: read it afresh
        if ctx is None:
            ctx = self._context(msg, start.conversation if start.lock_token is not None else UNREAD)
        reply = self._handle(msg, start.rate_count, ctx, _UNRESOLVED)
        self._finish(msg, job, token, reply, ctx)

    def _finish(self, msg: IncomingMessage, job: _Job, token: str, reply: str | None,
                ctx: HandlerContext | None = None) -> None:
        """Log, hand the reply over, store the outcome (with the handler's held writes) and release the
        lock in one call; send if deferred."""
        self.message_log.record(msg, reply)  # queued before the reply can reach WeCom
        card = self._as_card(job, msg, reply)
        via = job.decide(None if card else reply)  # a card goes through the API: the passive answer is empty
        sets, deletes = self._held(ctx)
        try:
            # via "card": a retry or twin delivery answers empty too (the card went, or goes, once)
            self.services.state.finish_message("dedupe:" + msg.dedupe_key,
                                               json.dumps({"r": reply, "via": "card" if card else via},
                                                          ensure_ascii=False),
                                               self._ttl, "user:" + msg.user, token, sets, deletes)
        except StateUnavailable:
            log.error("could not store outcome of %s", msg.dedupe_key)
        job.release()  # only now may the reply reach WeCom: a retry after a crash finds the outcome
        if reply and (card or via == "api"):
            self._send_reply(msg, reply, card)

    def _as_card(self, job: _Job, msg: IncomingMessage, reply: str | None) -> bool:
        """True when this reply goes out as a template card (a WeCom callback, buttons, a member who sees cards)."""
        if not (job.cards and has_buttons(reply)):
            return False
        try:
            return self.services.cards.wants_card(msg.user)
        except Exception:  # noqa: BLE001 - never lose the reply over the card preference: send it as text
            log.exception("card preference for %s unavailable", msg.user)
            return False

    def _send_reply(self, msg: IncomingMessage, reply: str, card: bool) -> None:
        """A reply through the send API: as a card (or its text twin), or as text."""
        if card or has_buttons(reply):
            result = self.services.cards.send(msg.user, reply,
                                              task_id=task_id_for("re", msg.user, msg.dedupe_key)).result
        else:
            result = self.services.sender.send_text([msg.user], reply)
        if not result.ok:
            log.error("reply to %s through the API failed: %s %s", msg.user, result.errcode, result.errmsg)

    def _forget(self, key: str) -> None:
        try:
            self.services.state.delete(key)
        except StateUnavailable:
            pass

    def _handle(self, msg: IncomingMessage, rate_count: int, ctx: HandlerContext, found: object) -> str | None:
        if rate_count > self._limit:
            return texts.RATE_LIMITED if rate_count == self._limit + 1 else None
        assert self.services.dispatcher is not None, "dispatcher not wired"
        try:
            if found is _UNRESOLVED:
                return self.services.dispatcher.dispatch(msg, ctx)
            return self.services.dispatcher.dispatch(msg, ctx, found=found)  # type: ignore[arg-type]
        except StateUnavailable:
            log.error("state store unavailable while handling %s", msg.dedupe_key, exc_info=True)
            return texts.STATE_DOWN
        except Exception:  # noqa: BLE001 - one error path: log, apologise
            log.exception("processing failed: user=%s key=%s", msg.user, msg.dedupe_key)
            return texts.HANDLER_ERROR

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.message_log.close()


class _ScratchContext(HandlerContext):
    """A handler context whose state store is a throwaway: for answering while Redis is down."""

    def __init__(self, services: Services, msg: IncomingMessage) -> None:
        super().__init__(services, msg, conversation=None, state=MemoryStateStore())
