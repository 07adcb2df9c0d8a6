"""Read-only queries behind the admin pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AnswerFeedback, Task, UnansweredQuestion


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
    """For each active task and village: how many of its people are on track this period."""
    from tracking.progress import office_overview

    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    order: list[tuple[str, str, str]] = []
    for row in office_overview(session, today):
        key = (str(row["task_key"]), str(row["village"] or "（未填村居）"), str(row["period"]))
        if key not in groups:
            order.append(key)
        groups[key].append(row)
    out = []
    for key in sorted(order, key=lambda k: (k[1], order.index(k))):
        rows = groups[key]
        target = int(rows[0]["target"])
        done = [int(r["done"]) for r in rows]
        out.append(VillageProgress(
            village=key[1], task=str(rows[0]["task"]), period=key[2], people=len(rows),
            on_track=sum(1 for d in done if d >= target), done=sum(min(d, target) for d in done),
            target=target * len(rows),
        ))
    return out


def all_tasks(session: Session) -> list[Task]:
    return list(session.scalars(select(Task).order_by(Task.audience, Task.id)))


def unanswered(session: Session, limit: int = 200) -> list[UnansweredQuestion]:
    return list(session.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(limit)))


def feedback(session: Session, limit: int = 200) -> list[AnswerFeedback]:
    return list(session.scalars(select(AnswerFeedback).order_by(AnswerFeedback.id.desc()).limit(limit)))
