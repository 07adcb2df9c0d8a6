"""Per-process upkeep under serve: a report spooled during an outage is written once the hook runs."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from bot.db.models import Report
from bot.tracking.service import spool_of
from bot.upkeep import start_upkeep
from tests.helpers_reports import use_test_tasks


def test_upkeep_drains_spool_at_start_and_stops_promptly(services, tmp_path: Path) -> None:
    use_test_tasks(services, tmp_path)
    spool_of(services).append({"source_msg_key": "m:spooled-1", "userid": "li", "text": "今天开展走访，12人",
                               "today": "2026-11-20"})
    stop = start_upkeep(services, interval_s=0.05)
    try:
        deadline = time.monotonic() + 5
        while spool_of(services).has_pending() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        started = time.monotonic()
        stop()
        assert time.monotonic() - started < 2
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Report).where(Report.source_msg_key == "m:spooled-1")) == 1
