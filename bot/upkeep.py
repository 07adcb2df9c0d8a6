"""Per-process upkeep while serving: write spooled reports once the database is back, retry photos.

Every process keeps its own local spool, so every process (not only the reminder leader) runs this.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)
INTERVAL_S = 60.0


def start_upkeep(services: Services, interval_s: float = INTERVAL_S) -> Callable[[], None]:
    """A serve hook: drain at start-up, then every `interval_s`; returns the stop function."""
    from bot.tracking.service import maintenance

    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                done = maintenance(services)
                if any(done.values()):
                    log.info("upkeep: %s", done)
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
