"""Wiring: build the long-lived services of one process from settings."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.clock import Clock, SystemClock
from bot.context import Services
from bot.db.database import Database
from bot.db.models import UnansweredQuestion
from bot.dispatcher import Dispatcher
from bot.message_log import MessageLog
from bot.processor import MessageProcessor
from bot.state import build_state_store
from bot.web.metrics import QUEUE_SOURCES
from bot.write_behind import WriteBehind

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.state.base import StateStore
    from bot.wecom.sender import Sender

log = logging.getLogger(__name__)
GC_GEN0_THRESHOLD = 20_000


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    sender: Sender | None = None,
    db: Database | None = None,
    state: StateStore | None = None,
    migrate: bool = True,
) -> Services:
    """Database (migrated on first run), state store, sender, dispatcher and processor."""
    from bot import redact
    from bot.wecom.sender import build_sender
    from handlers import build_root_router

    redact.register(secret_values(settings))
    redact.install()

    if db is None:
        db = Database(settings.database_url)
        if migrate:
            db.upgrade()
    state = state or build_state_store(settings)
    redis_client = getattr(state, "client", None)
    services = Services(
        settings=settings,
        db=db,
        state=state,
        sender=sender or build_sender(settings, redis_client),
        clock=clock or SystemClock(),
        retriever_factory=lambda: _load_retriever(settings),
    )
    services.dispatcher = Dispatcher(build_root_router())
    services.processor = MessageProcessor(services, MessageLog(db))
    services.review_log = WriteBehind(db, UnansweredQuestion, name="review-log")
    services.extras[QUEUE_SOURCES] = queue_sources(services)
    return services


def queue_sources(services: Services) -> dict[str, Callable[[], int]]:
    """What /metrics reports as queue depths: the write-behind logs and the report spool."""
    from tracking.service import spool_of

    processor = services.processor
    review = services.review_log
    return {
        "message-log": lambda: processor.message_log.depth(),  # type: ignore[union-attr]
        "review-log": lambda: review.depth() if review is not None else 0,
        "report-spool": lambda: len(spool_of(services).pending()),
    }


def _load_retriever(settings: Settings):  # noqa: ANN202 - knowledge.retriever.Retriever
    """The retriever over the corpus, with config.yaml's synonyms and those the office added on the
    console (data_dir/synonyms.yaml)."""
    from dataclasses import replace

    from knowledge import office_synonyms
    from knowledge.retriever import Retriever

    synonyms = office_synonyms.merged(dict(settings.knowledge.synonyms),
                                      office_synonyms.path_for(settings.data_dir))
    return Retriever.load(replace(settings.knowledge, synonyms=synonyms))


def warm_up(services: Services) -> None:
    """A serve hook: load the knowledge base before the first question arrives, not during it."""
    started = time.perf_counter()
    retriever = services.retriever
    log.info("knowledge base loaded in %.2fs (%s)", time.perf_counter() - started, type(retriever).__name__)
    # Everything loaded so far lives for the whole process: keep it out of the collector's scans, and
    # collect the young generation less often (each message allocates a few thousand short-lived objects).
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, 20, 20)


def secret_values(settings: Settings) -> list[str | None]:
    """Every secret the settings hold, for bot.redact to mask wherever it appears."""
    from sqlalchemy.engine import make_url

    w = settings.wecom
    values: list[str | None] = [w.secret, w.token, w.aes_key, settings.admin_password,
                                getattr(settings, "metrics_token", None)]
    for url in (settings.database_url, settings.redis_url):
        try:
            values.append(make_url(url).password if url else None)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - an odd URL simply has no password to mask
            continue
    return values
