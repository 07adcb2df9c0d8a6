"""The report service: create (exactly once per source message), withdraw, modify, list; all audited.

Exactly once: Report.source_msg_key is unique and the insert is `ON CONFLICT DO NOTHING`, so a
retried or twin delivery - also from a second server process at the same moment - finds the first
report instead of making another.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, selectinload

from bot.db.database import DatabaseUnavailable
from bot.db.models import Person, Report, ReportAudit, Task

# Errors that mean "the database is not there", as opposed to a bug or a constraint.
DB_DOWN_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, PoolTimeout, DatabaseUnavailable)


RESTORE_WINDOW = timedelta(days=1)
DUPLICATE_WINDOW = timedelta(days=1)
DUPLICATE_SIMILARITY = 90


class NotAllowed(PermissionError):
    """The person may not act on this report (a liaison touching someone else's)."""


@dataclass
class ReportDraft:
    """A report before it is stored: what the parser understood. JSON-safe through to_json/from_json."""

    userid: str
    village: str
    activity_date: date
    activity: str
    participants: int | None
    task_key: str | None
    raw_text: str
    source_msg_key: str
    participants_text: str | None = None
    summary: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["activity_date"] = self.activity_date.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportDraft:
        values = {k: data.get(k) for k in cls.__dataclass_fields__}
        values["activity_date"] = date.fromisoformat(str(data["activity_date"]))
        return cls(**values)


@functools.cache
def _insert_once(dialect: str) -> Any:
    """INSERT … ON CONFLICT (source_msg_key) DO NOTHING RETURNING id, built once so its compiled form is cached."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(Report).on_conflict_do_nothing(index_elements=["source_msg_key"]).returning(Report.id)


def task_by_key(session: Session, key: str | None) -> Task | None:
    return None if not key else session.scalar(select(Task).where(Task.key == key))


def create_report(session: Session, draft: ReportDraft, *, now: datetime) -> tuple[Report, bool]:
    """Store the draft once; returns (report, created). A second call with the same source key finds the first."""
    task = task_by_key(session, draft.task_key)
    values = {
        "userid": draft.userid, "village": draft.village, "activity_date": draft.activity_date,
        "activity": draft.activity, "participants": draft.participants, "task_id": task.id if task else None,
        "status": "active", "source_msg_key": draft.source_msg_key, "raw_text": draft.raw_text,
        "participants_text": (draft.participants_text or None) and draft.participants_text[:64],
        "summary": draft.summary[:255] if draft.summary else None, "created_at": now, "updated_at": now,
    }
    new_id = session.execute(_insert_once(session.get_bind().dialect.name), values).scalar()
    if new_id is None:
        existing = session.scalar(select(Report).where(Report.source_msg_key == draft.source_msg_key))
        assert existing is not None, "conflict on source_msg_key but no row"
        return existing, False
    audit = {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in values.items()
             if k in ("activity_date", "activity", "participants", "village")}
    audit["task"] = task.key if task else None
    session.add(ReportAudit(report_id=new_id, userid=draft.userid, action="create", changes=audit, at=now))
    session.flush()
    report = session.get(Report, new_id)
    assert report is not None
    return report, True


def get_report(session: Session, person: Person, report_id: int | None) -> Report | None:
    """The report to act on: by number (own, or any for an admin), else the person's latest active one.

    Raises NotAllowed when a liaison names someone else's report.
    """
    if report_id is None:
        return session.scalar(
            select(Report).where(Report.userid == person.userid, Report.status == "active")
            .order_by(Report.created_at.desc(), Report.id.desc()).limit(1)
        )
    report = session.get(Report, report_id)
    if report is not None and report.userid != person.userid and not person.is_admin:
        raise NotAllowed(report_id)
    return report


def withdraw_report(session: Session, report: Report, *, by: str, now: datetime) -> None:
    report.status = "withdrawn"
    report.withdrawn_at = now
    report.updated_at = now
    session.add(ReportAudit(report_id=report.id, userid=by, action="withdraw", changes={"status": ["active",
                                                                                                  "withdrawn"]},
                            at=now))
    session.flush()


def can_restore(report: Report, now: datetime) -> bool:
    """A withdrawal can be undone within RESTORE_WINDOW of it."""
    if report.status != "withdrawn" or report.withdrawn_at is None:
        return False
    return now - _aware(report.withdrawn_at) <= RESTORE_WINDOW


def restore_report(session: Session, report: Report, *, by: str, now: datetime) -> None:
    report.status = "active"
    report.withdrawn_at = None
    report.updated_at = now
    session.add(ReportAudit(report_id=report.id, userid=by, action="restore",
                            changes={"status": ["withdrawn", "active"]}, at=now))
    session.flush()


def latest_withdrawn(session: Session, person: Person) -> Report | None:
    return session.scalar(
        select(Report).where(Report.userid == person.userid, Report.status == "withdrawn")
        .order_by(Report.withdrawn_at.desc(), Report.id.desc()).limit(1)
    )


def find_duplicate(session: Session, draft: ReportDraft, *, now: datetime) -> Report | None:
    """An active report by the same person, for the same day, saying the same, stored within a day."""
    rows = session.scalars(
        select(Report).where(Report.userid == draft.userid, Report.status == "active",
                             Report.activity_date == draft.activity_date,
                             Report.created_at >= now - DUPLICATE_WINDOW)
        .order_by(Report.id.desc()).limit(20)
    ).all()
    mine = _plain_text(draft.activity)
    for report in rows:
        if report.source_msg_key == draft.source_msg_key:
            continue
        if fuzz.ratio(_plain_text(report.activity), mine) >= DUPLICATE_SIMILARITY:
            return report
    return None


def _plain_text(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def modify_report(session: Session, report: Report, *, by: str, field: str, value: Any,
                  now: datetime) -> tuple[Any, Any]:
    """Change one field (activity_date, participants, task, activity, village); returns (old, new) as shown."""
    if field == "task":
        old = report.task.title if report.task else None
        report.task_id = value.id if value is not None else None
        session.flush()
        session.refresh(report)
        new = value.title if value is not None else None
        changes = {"task": [old, new]}
    else:
        old = getattr(report, field)
        setattr(report, field, value)
        new = value
        changes = {field: [_plain(old), _plain(new)]}
    report.updated_at = now
    session.add(ReportAudit(report_id=report.id, userid=by, action="update", changes=changes, at=now))
    session.flush()
    return old, new


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def recent_reports(session: Session, person: Person | None, *, limit: int = 10) -> tuple[list[Report], int]:
    """The newest reports of `person` (None: everyone's, for admins) and the total count."""
    where = [] if person is None else [Report.userid == person.userid]
    total = session.scalar(select(func.count(Report.id)).where(*where)) or 0
    rows = session.scalars(
        select(Report).where(*where).options(selectinload(Report.photos))
        .order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
    ).all()
    return list(rows), int(total)


def list_reports(session: Session, *, since: date | None = None, village: str | None = None,
                 userids: Sequence[str] | None = None) -> list[Report]:
    """Reports for the CLI, export and admin pages, oldest first."""
    stmt = select(Report).options(selectinload(Report.photos)).order_by(Report.id)
    if since is not None:
        stmt = stmt.where(Report.activity_date >= since)
    if village:
        stmt = stmt.where(Report.village == village)
    if userids is not None:
        stmt = stmt.where(Report.userid.in_(list(userids)))
    return list(session.scalars(stmt).all())


def report_record(report: Report, names: dict[str, str]) -> dict[str, Any]:
    """The INTERFACE.md shape of `reports list --json` (also what export writes)."""
    return {
        "id": report.id,
        "userid": report.userid,
        "name": names.get(report.userid, ""),
        "village": report.village,
        "date": report.activity_date.isoformat(),
        "activity": report.activity,
        "summary": report.summary if report.summary is not None else report.activity[:200],
        "participants": report.participants,
        "participants_text": report.participants_text,
        "task": report.task.title if report.task else None,
        "photos": len(report.photos),
        "status": report.status,
        "created_at": _aware(report.created_at).isoformat(),
    }


def _aware(dt: datetime) -> datetime:
    from datetime import timezone

    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def people_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Person.userid, Person.name)).tuples().all())


def audit_trail(session: Session, report_id: int) -> list[ReportAudit]:
    return list(session.scalars(select(ReportAudit).where(ReportAudit.report_id == report_id)
                                .order_by(ReportAudit.id)).all())
