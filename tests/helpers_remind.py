"""Helpers for the reminder tests: roster/task/report factories, services, and a spawnable pass."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.clock import Clock, FixedClock
from bot.config import Settings
from bot.context import Services
from bot.db.database import Database
from bot.db.models import Person, ReminderDelivery, Report, Task
from bot.state.base import StateStore
from bot.state.memory import MemoryStateStore
from bot.wecom.sender import LogSender, Sender

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, m: int, d: int, hh: int = 9, mm: int = 30) -> datetime:
    """An office-local (Asia/Shanghai) wall time as an aware UTC instant."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(timezone.utc)


def add_person(db: Database, userid: str, *, name: str | None = None, village: str = "红山村",
               role: str = "liaison", active: bool = True) -> None:
    with db.session() as s:
        s.add(Person(userid=userid, name=name or f"联络员{userid}", village=village, role=role, active=active))


def add_people(db: Database, people: Iterable[dict[str, Any]]) -> None:
    with db.session() as s:
        s.add_all([Person(**{"name": p["userid"], "village": "红山村", "role": "liaison", **p}) for p in people])


def add_task(db: Database, key: str, *, title: str | None = None, cadence: str = "monthly", target: int = 2,
             **fields: Any) -> int:
    with db.session() as s:
        task = Task(key=key, title=title or f"任务{key}", cadence=cadence, target=target,
                    **{"keywords": [], "audience_filter": {}, **fields})
        s.add(task)
        s.flush()
        return task.id


def update_task(db: Database, task_id: int, **fields: Any) -> None:
    with db.session() as s:
        task = s.get(Task, task_id)
        assert task is not None
        for k, v in fields.items():
            setattr(task, k, v)


def set_active(db: Database, userid: str, active: bool) -> None:
    with db.session() as s:
        person = s.scalar(select(Person).where(Person.userid == userid))
        assert person is not None
        person.active = active


def add_reports(db: Database, userid: str, task_id: int, day: date, n: int = 1) -> None:
    with db.session() as s:
        s.add_all([Report(userid=userid, village="红山村", activity_date=day, activity=f"活动{i}", task_id=task_id,
                          status="active") for i in range(n)])


def deliveries(db: Database) -> list[ReminderDelivery]:
    with db.session() as s:
        return list(s.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)).all())


def make_services(settings: Settings, db: Database, clock: Clock | None = None, sender: Sender | None = None,
                  state: StateStore | None = None) -> Services:
    """Just what a reminder pass needs, without the message pipeline."""
    return Services(settings=settings, db=db, state=state or MemoryStateStore(), sender=sender or LogSender(),
                    clock=clock or FixedClock(sh(2026, 11, 20, 10, 0)),
                    retriever_factory=lambda: None)  # type: ignore[arg-type, return-value]


def pass_in_process(db_url: str, redis_url: str, prefix: str, wecom: dict[str, Any], at_iso: str, barrier: Any,
                    out: Any) -> None:
    """A whole separate OS process: build services on the shared PostgreSQL + Redis, wait, run one pass."""
    from bot.config import build_settings
    from bot.state.redis import RedisStateStore
    from bot.wecom.sender import build_sender
    from scheduler.engine import ReminderEngine

    settings = build_settings({"database_url": db_url, "redis_url": redis_url, "wecom": wecom})
    db = Database(db_url)
    state = RedisStateStore.from_url(redis_url, prefix=prefix)
    services = make_services(settings, db, FixedClock(datetime.fromisoformat(at_iso)),
                             build_sender(settings, state.client), state)
    engine = ReminderEngine(services, backoff_s=0.01)
    barrier.wait(timeout=60)
    report = engine.run_pass()
    out.put({c.person.userid + "/" + str(c.task_id): c.status for c in report.candidates})
    db.dispose()
