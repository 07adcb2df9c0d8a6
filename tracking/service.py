"""Glue between handlers and the tracking modules: parse for a person, store, spool, drain, maintain."""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import metrics
from bot.db.models import Person, Task
from tracking import texts
from tracking.photos import retry_photos
from tracking.progress import applies_to
from tracking.replies import short_date
from tracking.report_parser import ParsedReport, TaskRef, parse_report
from tracking.reports import DB_DOWN_ERRORS, ReportDraft, create_report
from tracking.roster import roster_villages
from tracking.spool import DrainResult, ReportSpool, SpoolRejected
from tracking.tasks import ensure_tasks

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)
DRAIN_INTERVAL_S = 15.0


def is_db_down(exc: BaseException) -> bool:
    return isinstance(exc, DB_DOWN_ERRORS)


def reportable_tasks(session: Session, person: Person, tasks: list[Task] | None = None) -> list[Task]:
    """The tasks a person's report may count toward: theirs, or every active task if none applies.

    `tasks` is the process's cached list of active tasks (tasks.active_tasks); without it, a query.
    """
    if tasks is None:
        tasks = list(session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id)).all())
    return [t for t in tasks if applies_to(t, person)] or tasks


def task_ref(task: Task) -> TaskRef:
    return TaskRef(task.key, task.title, tuple(task.keywords or ()), task.cadence or "")


def parse_for(session: Session, person: Person, text: str, today: date,
              active: list[Task] | None = None) -> tuple[ParsedReport, list[Task]]:
    tasks = reportable_tasks(session, person, active)
    parsed = parse_report(text, today=today, own_village=person.village, villages=roster_villages(session),
                          tasks=[task_ref(t) for t in tasks])
    return parsed, tasks


def draft_from(parsed: ParsedReport, userid: str, text: str, source: str, raw: str | None = None) -> ReportDraft:
    """The draft a parsed message stands for (`raw`, the whole message, kept as its raw text)."""
    return ReportDraft(userid, parsed.village, parsed.activity_date, parsed.activity or text, parsed.participants,
                       parsed.task.chosen, raw or text, source, participants_text=parsed.participants_text,
                       summary=parsed.summary or None)


# ---------------------------------------------------------------- spool


def spool_of(services: Services) -> ReportSpool:
    spool = services.extras.get("report_spool")
    if spool is None:
        spool = services.extras.setdefault("report_spool", ReportSpool(services.settings.data_dir))
    return spool


def spool_report(services: Services, *, userid: str, text: str, msg_key: str, today: date,
                 draft: ReportDraft | None = None) -> None:
    """Keep a report locally (durably) while the database is down, and make sure a drainer runs."""
    record: dict[str, Any] = {"v": 1, "source_msg_key": msg_key, "userid": userid, "text": text,
                              "today": today.isoformat(), "received_at": services.clock.now().isoformat()}
    if draft is not None:
        record["draft"] = draft.to_json()
    spool_of(services).append(record)
    log.warning("database down: report %s from %s spooled", msg_key, userid)
    metrics.report("spooled")
    metrics.db_error("report")
    ensure_drainer(services)


def write_spooled(services: Services, record: dict[str, Any]) -> tuple[int, bool]:
    """Store one spooled record through the idempotent create path; returns (report id, created)."""
    ensure_tasks(services)
    now = services.clock.now()
    with services.db.session() as session:
        person = session.scalar(select(Person).where(Person.userid == record["userid"]))
        if person is None or not person.active:
            raise SpoolRejected("sender is not an active roster member")
        if record.get("draft"):
            draft = ReportDraft.from_json(record["draft"])
        else:
            parsed, tasks = parse_for(session, person, record["text"], date.fromisoformat(record["today"]))
            draft = draft_from(parsed, person.userid, record["text"], record["source_msg_key"])
        report, created = create_report(session, draft, now=now)
        notice = texts.SPOOL_DRAINED.format(id=report.id, date=short_date(report.activity_date, now.date()),
                                            activity=report.activity)
        rid = report.id
    if created:
        metrics.report("stored")
        result = services.sender.send_text([record["userid"]], notice)
        if not result.ok:
            log.warning("could not tell %s that spooled report %s was stored", record["userid"], rid)
    return rid, created


def drain_spool(services: Services) -> DrainResult:
    """Write what the spool holds; stops at the first sign the database is still down."""
    result = spool_of(services).drain(lambda r: write_spooled(services, r), is_db_down)
    if result.written or result.rejected:
        log.info("spool drained: %d written, %d rejected, %d left", len(result.written), len(result.rejected),
                 result.left)
    return result


def after_db_success(services: Services) -> None:
    """Called after a successful database use on the message path: drain a non-empty spool off-path."""
    if spool_of(services).has_pending():
        services.background(drain_spool, services)


def ensure_drainer(services: Services, interval_s: float | None = None) -> None:
    """One daemon thread per process that retries the spool until it is empty."""
    interval_s = interval_s or float(services.extras.get("report_spool_interval_s", DRAIN_INTERVAL_S))
    lock = services.extras.setdefault("report_spool_drainer_lock", threading.Lock())
    with lock:
        thread = services.extras.get("report_spool_drainer")
        if thread is not None and thread.is_alive():
            return

        def run() -> None:
            spool = spool_of(services)
            while spool.has_pending():
                time.sleep(interval_s)
                try:
                    drain_spool(services)
                except Exception:  # noqa: BLE001 - keep retrying; the next pass logs again
                    log.exception("spool drain failed")

        thread = threading.Thread(target=run, name="report-spool-drainer", daemon=True)
        services.extras["report_spool_drainer"] = thread
        thread.start()


def maintenance(services: Services) -> dict[str, int]:
    """Periodic upkeep for the scheduler: drain the spool, retry photo downloads."""
    drained = drain_spool(services)
    stored, failing = retry_photos(services)
    return {"spool_written": len(drained.written), "spool_left": drained.left, "photos_stored": stored,
            "photos_failing": failing}
