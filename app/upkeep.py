"""Per-process upkeep while serving: write spooled reports once the database is back, retry photos,
reload the knowledge base when the office changes the corpus folder, and record the tasks of new or
changed plan files as proposals (app.plans).

Every process keeps its own local spool and its own index, so every process (not only the reminder
leader) runs this.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)
INTERVAL_S = 60.0


def start_upkeep(services: Services, interval_s: float = INTERVAL_S) -> Callable[[], None]:
    """A serve hook: drain at start-up, then every `interval_s`; returns the stop function."""
    from tracking.service import maintenance

    stop = threading.Event()
    corpus = services.settings.knowledge.corpus_dir
    seen = corpus_fingerprint(corpus)

    def loop() -> None:
        nonlocal seen
        while True:
            try:
                done = maintenance(services)
                if any(done.values()):
                    log.info("upkeep: %s", done)
                now = corpus_fingerprint(corpus)
                if now != seen:
                    report = services.retriever.reload()
                    seen = now
                    log.info("knowledge base reloaded after a corpus change: %s", report)
                    propose_tasks(services)
            except Exception:  # noqa: BLE001 - upkeep retries next round; it must never die
                log.exception("upkeep failed; will retry in %.0fs", interval_s)
            if stop.wait(interval_s):
                return

    thread = threading.Thread(target=loop, name="upkeep", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)

    return halt


def propose_tasks(services: Services) -> None:
    """After a corpus change: the tasks of new or changed plan files become proposals in the tasks
    file (never reminded until the office approves them; the office's own edits are kept)."""
    from app.plans import propose_from_corpus

    settings = services.settings
    result, _ = propose_from_corpus(settings.knowledge.corpus_dir, settings.tasks_file)
    if result.changed:
        log.info("tasks: %d proposed, %d proposals retired after a corpus change; approve with "
                 "`run.py tasks approve`", len(result.added), len(result.retired))


def corpus_fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the corpus files: cheap to take every minute."""
    try:
        entries = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        return ()
    out = []
    for p in entries:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((p.name, st.st_size, st.st_mtime_ns))
    return tuple(out)
