"""Read-only queries behind the admin pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AnswerFeedback, Person, Report, Task, UnansweredQuestion


@dataclass(frozen=True)
class VillageProgress:
    village: str
    task: str
    period: str
    people: int
    on_track: int
    done: int
    target: int  # the task's target summed over the village's liaisons


def progress_by_village(session: Session, today: date) -> list[VillageProgress]:
    """For each active liaison task and village: how many liaisons are on track this period."""
    from bot.tracking.progress import applies_to, current_period, done_counts

    people = list(session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.village)))
    tasks = list(session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id)))
    out: list[VillageProgress] = []
    for task in tasks:
        members = [p for p in people if applies_to(task, p)]
        if not members:
            continue
        period = current_period(task, today)
        counts = done_counts(session, task, [p.userid for p in members], period)
        by_village: dict[str, list[Person]] = defaultdict(list)
        for p in members:
            by_village[p.village or "（未填村居）"].append(p)
        for village, group in sorted(by_village.items()):
            done = [counts.get(p.userid, 0) for p in group]
            out.append(VillageProgress(
                village=village, task=task.title, period=period.key, people=len(group),
                on_track=sum(1 for d in done if d >= task.target),
                done=sum(min(d, task.target) for d in done), target=task.target * len(group),
            ))
    return out


def recent_reports(session: Session, *, since: date | None, village: str | None, limit: int = 500) -> list[Report]:
    stmt = select(Report).order_by(Report.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(Report.activity_date >= since)
    if village:
        stmt = stmt.where(Report.village == village)
    return list(session.scalars(stmt).unique())


def names_by_userid(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Person.userid, Person.name)).tuples())


def all_tasks(session: Session) -> list[Task]:
    return list(session.scalars(select(Task).order_by(Task.audience, Task.id)))


def unanswered(session: Session, limit: int = 200) -> list[UnansweredQuestion]:
    return list(session.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(limit)))


def feedback(session: Session, limit: int = 200) -> list[AnswerFeedback]:
    return list(session.scalars(select(AnswerFeedback).order_by(AnswerFeedback.id.desc()).limit(limit)))
