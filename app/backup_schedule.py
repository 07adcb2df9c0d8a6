"""The daily backup while serving (`backup.enabled: true`, off by default), with retention.

An APScheduler cron job at `backup.time` (local time) writes data/backups/ztbot-YYYYmmdd-HHMMSS.tar.gz
and keeps the newest `backup.keep`. With several processes, one Redis lease (its own key, so it
never competes with the reminder leader) picks the process that runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler

from bot import metrics

if TYPE_CHECKING:
    from bot.context import Services
    from scheduler.leader import Leadership

log = logging.getLogger(__name__)
PATTERN = "ztbot-*.tar.gz"


def backup_leadership(services: Services) -> Leadership:
    from scheduler.leader import RedisLeaderLock, SoleLeader

    client = getattr(services.state, "client", None)
    if client is None:
        return SoleLeader()
    prefix = getattr(services.state, "prefix", "ztbot:")
    return RedisLeaderLock(client, f"{prefix}backup:leader", ttl_s=600.0)


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` scheduled backups (names sort by time); returns the deleted."""
    found = sorted(folder.glob(PATTERN))
    doomed = found[:-keep] if keep > 0 else found
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def run_backup(services: Services, leadership: Leadership, now: datetime | None = None) -> Path | None:
    """One scheduled backup, if this process leads; failures are logged and counted, never raised."""
    from app.backup import BackupError, create_backup

    if not leadership.ensure():
        return None
    cfg = services.settings.backup
    now = now or services.clock.now().astimezone(services.settings.tz)
    target = Path(cfg.dir) / f"ztbot-{now:%Y%m%d-%H%M%S}.tar.gz"
    try:
        manifest = create_backup(services.settings, target)
        deleted = prune(Path(cfg.dir), cfg.keep)
    except (BackupError, OSError) as exc:
        log.error("scheduled backup failed: %s", exc)
        metrics.BACKUPS.labels("failed").inc()
        return None
    # The lease is kept (10 minutes): another process whose job fires a moment later finds it taken.
    metrics.BACKUPS.labels("ok").inc()
    log.info("backup written: %s (%s rows, %d files); %d old backups removed", target,
             sum(manifest.rows.values()), manifest.files, len(deleted))
    return target


def start_hook(services: Services) -> Callable[[], None] | None:
    """A `serve` start hook ("app.backup_schedule:start_hook")."""
    cfg = services.settings.backup
    if not cfg.enabled:
        return None
    hour, minute = (int(part) for part in cfg.time.split(":"))
    leadership = backup_leadership(services)
    sched = BackgroundScheduler(timezone=services.settings.tz,
                                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    sched.add_job(run_backup, "cron", hour=hour, minute=minute, args=[services, leadership], id="daily-backup")
    sched.start()
    log.info("daily backup at %s into %s, keeping %d", cfg.time, cfg.dir, cfg.keep)
    services.extras["backup_scheduler"] = sched

    def stop() -> None:
        sched.shutdown(wait=True)
        leadership.release()

    return stop
