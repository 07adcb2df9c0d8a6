"""Reminder pass at scale: 10,000 liaisons behind on two tasks, the WeCom double answering in 20 ms a call.

    .venv/bin/python bench/bench_reminders.py            # SQLite file in a temp dir
    .venv/bin/python bench/bench_reminders.py --postgres # a throwaway database on the local PostgreSQL

Prints the first pass's wall time (aim: under 30 s), the API calls it made, and checks that a
second pass at the same moment sends nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from bot.clock import FixedClock  # noqa: E402
from bot.config import build_settings  # noqa: E402
from bot.context import Services  # noqa: E402
from bot.db.database import Database  # noqa: E402
from bot.db.models import Person, Report, Task  # noqa: E402
from bot.state.memory import MemoryStateStore  # noqa: E402
from bot.testing.wecom_double import WeComDouble  # noqa: E402
from bot.wecom.sender import WeComSender  # noqa: E402
from scheduler.engine import ReminderEngine  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 9, 30, tzinfo=SH)  # the 7-day stage of November


def seed(db: Database, n: int) -> None:
    """n liaisons in 40 villages; everyone behind on both tasks, with mixed progress."""
    with db.session() as s:
        s.add_all([
            Task(key="info", title="工作动态信息", cadence="monthly", target=3, keywords=[], audience_filter={}),
            Task(key="talk", title="民族团结宣讲", cadence="quarterly", target=2, keywords=[], audience_filter={},
                 reminder_stages=[{"days_before": 38, "time": "09:30"}]),  # Dec 31 - 38 days = Nov 23
        ])
    with db.session() as s:
        ids = {t.key: t.id for t in s.query(Task).all()}
        s.execute(insert(Person), [{"userid": f"lx{i:05d}", "name": f"联络员{i}", "village": f"第{i % 40}村",
                                    "role": "liaison", "active": True} for i in range(n)])
        reports = []
        for i in range(n):
            reports += [{"userid": f"lx{i:05d}", "village": f"第{i % 40}村", "activity_date": date(2026, 11, 2),
                         "activity": "宣讲", "task_id": ids["info"], "status": "active"}] * (i % 3)
            reports += [{"userid": f"lx{i:05d}", "village": f"第{i % 40}村", "activity_date": date(2026, 10, 9),
                         "activity": "宣讲", "task_id": ids["talk"], "status": "active"}] * (i % 2)
        s.execute(insert(Report), reports)


def make_db(args: argparse.Namespace, tmp: Path) -> tuple[Database, object]:
    if not args.postgres:
        db = Database(f"sqlite:///{tmp / 'bench.db'}")
        db.upgrade()
        return db, None
    import psycopg

    name = f"ztbot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    db.upgrade()
    return db, drop


def distinct_worst_case(engine: ReminderEngine, n: int) -> None:
    """No two people with the same text: one call each, max_in_flight at a time (the sender alone)."""
    started = time.perf_counter()
    report = engine.batch.send({f"lx{i:05d}": f"提醒 {i}" for i in range(n)})
    print(f"worst case, {n} distinct texts: {time.perf_counter() - started:.2f} s wall, {report.calls} calls")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per API call at the double")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--distinct", action="store_true", help="also time 10,000 all-different texts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir, WeComDouble() as api:
        db, drop = make_db(args, Path(tmpdir))
        try:
            seed(db, args.people)
            api.set_latency(args.latency)
            # The text path (one text for many people); bench/bench_cards.py measures cards, holidays and the spread.
            settings = build_settings({"database_url": db.url, "wecom": {**api.wecom_settings(), "cards": "off"},
                                       "reminders": {"spread_minutes": 0}})
            sender = WeComSender(api.corp_id, api.secret, api.agent_id, api_base=api.base_url)
            services = Services(settings=settings, db=db, state=MemoryStateStore(), sender=sender,
                                clock=FixedClock(AT), retriever_factory=lambda: None)  # type: ignore[arg-type,return-value]
            engine = ReminderEngine(services)

            started = time.perf_counter()
            first = engine.run_pass()
            wall = time.perf_counter() - started
            sends = api.calls_to("message/send")
            reached = Counter(u for m in api.sent_messages() for u in m["touser"].split("|"))
            print(f"backend: {'postgresql' if args.postgres else 'sqlite'}; {args.people} liaisons x 2 tasks; "
                  f"double latency {args.latency * 1000:.0f} ms/call; max_in_flight {settings.reminders.max_in_flight}")
            print(f"first pass: {wall:.2f} s wall; statuses {first.counts()}")
            print(f"  API calls: {len(sends)} message/send (+{len(api.calls_to('gettoken'))} gettoken); "
                  f"people reached {len(reached)}, most messages to one person {max(reached.values())}; "
                  f"distinct texts {len({m['text']['content'] for m in api.sent_messages()})}")
            started = time.perf_counter()
            second = engine.run_pass()
            wall2 = time.perf_counter() - started
            extra = len(api.calls_to("message/send")) - len(sends)
            print(f"second pass: {wall2:.2f} s wall; statuses {second.counts()}; API calls {extra}")
            started = time.perf_counter()
            lean = engine.run_pass(full=False)
            wall3 = time.perf_counter() - started
            extra_lean = len(api.calls_to("message/send")) - len(sends) - extra
            print(f"scheduler's minute pass (full=False): {wall3:.2f} s wall; statuses {lean.counts()}; "
                  f"API calls {extra_lean}")
            if args.distinct:
                distinct_worst_case(engine, args.people)
            ok = wall < 30 and extra == 0 and extra_lean == 0 and len(reached) == args.people and max(reached.values()) == 1
            print("OK" if ok else "NOT OK")
            return 0 if ok else 1
        finally:
            db.dispose()
            if drop:
                drop()  # type: ignore[operator]


if __name__ == "__main__":
    sys.exit(main())
