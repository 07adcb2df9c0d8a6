"""What handlers get: long-lived services and a thin per-message context. No globals."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from bot.db.models import Person

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Settings
    from bot.db.database import Database
    from bot.messages import IncomingMessage
    from bot.state.base import StateStore
    from bot.wecom.card_delivery import CardDelivery
    from bot.wecom.sender import Sender
    from bot.write_behind import WriteBehind

log = logging.getLogger(__name__)


class Routing(Protocol):
    """What the processor asks of the dispatcher (bot.dispatcher.Dispatcher); a protocol, so the
    context does not import the modules that import it."""

    def resolve(self, msg: IncomingMessage, ctx: HandlerContext) -> Any: ...

    def dispatch(self, msg: IncomingMessage, ctx: HandlerContext, found: Any = ...) -> Any: ...


class Processing(Protocol):
    """What services hold of the processor (bot.processor.MessageProcessor)."""

    def process(self, msg: IncomingMessage, *, budget_s: float | None | bool = ...) -> str | None: ...

    def close(self) -> None: ...


Retriever = Any  # the knowledge domain's Retriever; the platform does not import domains


@dataclass
class Services:
    """Everything a handler may need, built once per process by app.services.build_services."""

    settings: Settings
    db: Database
    state: StateStore
    sender: Sender
    clock: Clock
    retriever_factory: Callable[[], Retriever]
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="bg"))
    dispatcher: Routing | None = None
    processor: Processing | None = None
    review_log: WriteBehind | None = None  # unanswered questions, written behind the reply
    extras: dict[str, Any] = field(default_factory=dict)
    _retriever: Retriever | None = None
    _retriever_lock: threading.Lock = field(default_factory=threading.Lock)
    _cards: CardDelivery | None = None

    @property
    def cards(self) -> CardDelivery:
        """Replies with buttons as template cards, or their text twins (`wecom.cards`), built on first use."""
        if self._cards is None:
            from bot.wecom.card_delivery import CardDelivery

            with self._retriever_lock:
                if self._cards is None:
                    self._cards = CardDelivery(self.sender, self.settings.wecom.cards, self.db)
        return self._cards

    @property
    def retriever(self) -> Retriever:
        """The knowledge retriever, loaded on first use (so CLI verbs that don't ask start fast)."""
        if self._retriever is None:
            with self._retriever_lock:
                if self._retriever is None:
                    self._retriever = self.retriever_factory()
        return self._retriever

    def background(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn` off the message path; failures are logged, never raised into a handler."""

        def run() -> None:
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - background work must log, not vanish
                log.exception("background task %s failed", getattr(fn, "__name__", fn))

        self.executor.submit(run)

    def health(self) -> dict[str, Any]:
        db_ok = self.db.ping()
        redis: str | bool
        if self.settings.redis_url:
            redis = "ok" if self.state.ping() else "unreachable"
        else:
            redis = "not configured"
        ok = db_ok and redis != "unreachable"
        return {"status": "ok" if ok else "degraded", "db": "ok" if db_ok else "unreachable", "redis": redis}

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)
        if self.processor is not None:
            self.processor.close()
        if self.review_log is not None:
            self.review_log.close()
        self.state.close()
        self.db.dispose()


UNREAD = object()  # the conversation has not been read yet


class Conversation:
    """One user's pending conversation state (a JSON dict with a `kind`), with a TTL."""

    def __init__(self, state: StateStore, user: str, ttl_s: int, prefetched: str | None | object = UNREAD) -> None:
        self._state = state
        self._key = f"conv:{user}"
        self._ttl = ttl_s
        self._cache: dict[str, Any] | None = None
        self._loaded = prefetched is not UNREAD
        if isinstance(prefetched, str):
            self._cache = json.loads(prefetched)

    def get(self) -> dict[str, Any] | None:
        if not self._loaded:
            self._cache = self._state.get_json(self._key)
            self._loaded = True
        return self._cache

    def set(self, data: dict[str, Any], ttl_s: int | None = None) -> None:
        if "kind" not in data:
            raise ValueError("conversation state needs a kind")
        self._state.set_json(self._key, data, ttl_s or self._ttl)
        self._cache, self._loaded = data, True

    def clear(self) -> None:
        self._state.delete(self._key)
        self._cache, self._loaded = None, True


class HandlerContext:
    """The thin per-message view handlers see."""

    def __init__(self, services: Services, msg: IncomingMessage, *, conversation: str | None | object = UNREAD,
                 state: StateStore | None = None) -> None:
        self.services = services
        self.msg = msg
        self.user = msg.user
        self.route: str | None = None
        # The processor passes a BufferedState: plain writes are applied when the message finishes.
        self._state: StateStore = state if state is not None else services.state
        self.conversation = Conversation(self._state, msg.user, services.settings.conversation_ttl_s, conversation)
        self._person: Person | None = None
        self._person_loaded = False

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def state(self) -> StateStore:
        return self._state

    @property
    def sender(self) -> Sender:
        return self.services.sender

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def retriever(self) -> Retriever:
        return self.services.retriever

    def now(self) -> datetime:
        """Now in the office's time zone."""
        return self.services.clock.now().astimezone(self.settings.tz)

    def today(self) -> date:
        return self.now().date()

    def person(self) -> Person | None:
        """The sender's roster entry (active or not), or None when not on the roster."""
        if not self._person_loaded:
            with self.db.session() as session:
                self._person = session.scalar(select(Person).where(Person.userid == self.user))
            self._person_loaded = True
        return self._person
