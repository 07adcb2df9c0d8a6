"""报送's filters (period, village contains, person, task, status) as one query, shared by the page
and the exports, so a download holds exactly the rows the office is looking at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.db.models import Person, Report, Task

PAGE_SIZE = 30


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class ReportFilters:
    since: date | None = None
    until: date | None = None
    village: str = ""
    person: str = ""
    task: str = ""  # a task key
    status: str = ""  # active | withdrawn | "" (both)

    @classmethod
    def from_query(cls, q: Any) -> ReportFilters:
        status = q.get("status") or ""
        return cls(_date(q.get("since")), _date(q.get("until")), (q.get("village") or "").strip()[:64],
                   (q.get("person") or "").strip()[:64], (q.get("task") or "").strip()[:64],
                   status if status in ("active", "withdrawn") else "")

    def query_string(self, **extra: object) -> str:
        values = {"since": self.since.isoformat() if self.since else "", "until": self.until.isoformat() if self.until
                  else "", "village": self.village, "person": self.person, "task": self.task, "status": self.status}
        values.update({k: str(v) for k, v in extra.items()})
        return urlencode({k: v for k, v in values.items() if v})

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.since:
            stmt = stmt.where(Report.activity_date >= self.since)
        if self.until:
            stmt = stmt.where(Report.activity_date <= self.until)
        if self.village:
            stmt = stmt.where(Report.village.like(_like(self.village), escape="\\"))
        if self.person:
            who = select(Person.userid).where(or_(Person.name.like(_like(self.person), escape="\\"),
                                                 Person.userid == self.person))
            stmt = stmt.where(or_(Report.userid.in_(who), Report.userid == self.person))
        if self.task:
            stmt = stmt.where(Report.task_id.in_(select(Task.id).where(Task.key == self.task)))
        if self.status:
            stmt = stmt.where(Report.status == self.status)
        return stmt


def count_reports(session: Session, filters: ReportFilters) -> int:
    return int(session.scalar(filters.apply(select(func.count(Report.id)))) or 0)


def find_reports(session: Session, filters: ReportFilters, *, page: int | None = None) -> list[Report]:
    """Newest first; one page of PAGE_SIZE, or all of them (page None, for exports)."""
    stmt = filters.apply(select(Report).options(selectinload(Report.photos))).order_by(
        Report.activity_date.desc(), Report.id.desc())
    if page is not None:
        stmt = stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return list(session.scalars(stmt).all())
