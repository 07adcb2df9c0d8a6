"""The reminder scheduler inside `serve`: APScheduler 3 with in-memory jobs, led by one process.

Jobs: a pass every minute (the first one at start-up, which is the catch-up for anything that
came due while the service was down) and a leader-lease renewal. Each process keeps its own
in-memory job store; which process actually runs passes is decided by the Redis lease (see
leader.py), and the delivery log makes a pass safe even if two ever overlap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import IntegrityError, OperationalError

from scheduler.engine import PassReport, ReminderEngine
from scheduler.leader import Leadership, build_leadership

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

PASS_INTERVAL_S = 60
LEASE_TTL_S = 60.0
RENEW_INTERVAL_S = 20


def sync_tasks_file(services: Services) -> None:
    """Bring the tasks table up to date with the office's tasks file (when it changed)."""
    from tracking.tasks import ensure_tasks

    try:
        ensure_tasks(services)
    except IntegrityError:
        ensure_tasks(services)  # another process inserted the same new task first; its row is there now


class ReminderScheduler:
    """Start with the web app, stop with it. Only the leader runs passes."""

    def __init__(self, services: Services, *, interval_s: int = PASS_INTERVAL_S,
                 leadership: Leadership | None = None) -> None:
        self.services = services
        self.engine = ReminderEngine(services)
        self.interval_s = interval_s
        self.leadership = leadership or build_leadership(services.state, ttl_s=LEASE_TTL_S)
        self._scheduler: BackgroundScheduler | None = None
        self._pass_lock = threading.Lock()
        self.last_report: PassReport | None = None
        self.on_pass: Callable[[PassReport], None] | None = None

    def start(self) -> None:
        if not self.services.settings.reminders.enabled:
            log.info("reminders disabled (reminders.enabled: false); scheduler not started")
            return
        if self._scheduler is not None:
            return
        sched = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": self.interval_s},
            timezone=self.services.settings.tz,
        )
        now = datetime.now(timezone.utc)
        sched.add_job(self.tick, "interval", seconds=self.interval_s, id="reminder-pass", next_run_time=now)
        sched.add_job(self.leadership.ensure, "interval", seconds=RENEW_INTERVAL_S, id="leader-renew")
        sched.start()
        self._scheduler = sched
        log.info("reminder scheduler started: a pass every %ss", self.interval_s)

    def tick(self) -> PassReport | None:
        """One scheduled pass, if this process leads; failures are logged and the next tick tries again."""
        if not self.leadership.ensure():
            return None
        if not self._pass_lock.acquire(blocking=False):
            return None
        try:
            sync_tasks_file(self.services)
            report = self.engine.run_pass(self.services.clock.now(), full=False)
            self.last_report = report
            if self.on_pass is not None:
                self.on_pass(report)
            return report
        except (OperationalError, OSError, ValueError) as exc:
            log.error("reminder pass failed, will retry next minute: %s", exc)
            return None
        except Exception:  # noqa: BLE001 - a scheduler job must never die silently
            log.exception("reminder pass failed unexpectedly")
            return None
        finally:
            self._pass_lock.release()

    def shutdown(self) -> None:
        sched, self._scheduler = self._scheduler, None
        if sched is not None:
            sched.shutdown(wait=True)
        self.leadership.release()
        log.info("reminder scheduler stopped")


def start_hook(services: Services) -> Callable[[], None] | None:
    """A `serve` start hook ("scheduler.runner:start_hook"): starts the scheduler, returns its stop.

    Without WECOM_SECRET (a LogSender) nothing is scheduled: a pass would mark this stage's
    reminders as delivered when they were only logged.
    """
    from bot.wecom.sender import LogSender

    if isinstance(services.sender, LogSender):
        log.warning("reminder scheduler not started: WECOM_SECRET is not set, reminders could not be sent")
        return None
    scheduler = ReminderScheduler(services)
    scheduler.start()
    return scheduler.shutdown
