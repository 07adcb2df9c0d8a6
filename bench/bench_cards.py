"""Reminder cards at scale: a roster behind on two tasks, passes every minute through the stage's spread.

    .venv/bin/python bench/bench_cards.py                      # 2,000 people, 20 ms a call at the double
    .venv/bin/python bench/bench_cards.py --people 10000 --latency 0.02

Runs the scheduler's minute passes from the stage instant (09:20) until everyone is reminded, with
today's defaults (cards on auto, holidays cn, the roster's spread) and 2% of the roster on the WeChat
plugin (their client rejects cards). Prints per-minute calls, the total wall time, the most messages
one person received in any minute and in the hour, what WeCom would have dropped (per-member limits,
duplicate check), and checks that a later pass sends nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from bot.clock import FixedClock  # noqa: E402
from bot.config import build_settings  # noqa: E402
from bot.context import Services  # noqa: E402
from bot.db.database import Database  # noqa: E402
from bot.db.models import Person, Task  # noqa: E402
from bot.state.memory import MemoryStateStore  # noqa: E402
from bot.testing.wecom_double import WeComDouble  # noqa: E402
from bot.wecom.sender import WeComSender  # noqa: E402
from scheduler.engine import ReminderEngine  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
STAGE = datetime(2026, 11, 23, 9, 20, tzinfo=SH)  # Monday: November's 7-day stage at the default 09:20


def seed(db: Database, n: int) -> list[str]:
    with db.session() as s:
        s.add_all([Task(key="info", title="工作动态信息", cadence="monthly", target=3, keywords=[], audience_filter={}),
                   Task(key="talk", title="民族团结宣讲", cadence="monthly", target=1, keywords=[], audience_filter={})])
    users = [f"lx{i:05d}" for i in range(n)]
    with db.session() as s:
        s.execute(insert(Person), [{"userid": u, "name": u, "village": f"第{i % 40}村", "role": "liaison",
                                    "active": True} for i, u in enumerate(users)])
    return users


def per_window(times: list[float], window: float) -> int:
    """The most messages within any `window` seconds."""
    times.sort()
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per API call at the double")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir, WeComDouble() as api:
        db = Database(f"sqlite:///{Path(tmpdir) / 'bench.db'}")
        db.upgrade()
        users = seed(db, args.people)
        blind = set(users[::50])
        api.card_blind |= blind
        api.set_latency(args.latency)
        clock_now = [STAGE]
        api.clock = lambda: clock_now[0].timestamp()  # the double's minute and hour windows follow the passes
        settings = build_settings({"database_url": db.url, "wecom": api.wecom_settings()})
        sender = WeComSender(api.corp_id, api.secret, api.agent_id, api_base=api.base_url)
        services = Services(settings=settings, db=db, state=MemoryStateStore(), sender=sender,
                            clock=FixedClock(STAGE), retriever_factory=lambda: None)  # type: ignore[arg-type,return-value]
        engine = ReminderEngine(services)
        print(f"{args.people} liaisons x 2 tasks, {len(blind)} on the WeChat plugin; double latency "
              f"{args.latency * 1000:.0f} ms/call; max_in_flight {settings.reminders.max_in_flight}; "
              f"spread {settings.reminders.spread_minutes} min")
        total_wall, minute, sent_at = 0.0, 0, {}
        while True:
            at = STAGE + timedelta(minutes=minute)
            clock_now[0] = at
            before = len(api.calls_to("message/send"))
            started = time.perf_counter()
            report = engine.run_pass(at, full=False)
            wall = time.perf_counter() - started
            total_wall += wall
            calls = len(api.calls_to("message/send")) - before
            counts = Counter(c.status for c in report.candidates)
            print(f"  {at:%H:%M} pass: {wall:5.2f} s, {calls:5d} message/send, {dict(counts)}")
            for user, msg in api._delivered[len(sent_at):]:
                sent_at[len(sent_at)] = (user, at.timestamp(), msg["msgtype"])
            if minute >= settings.reminders.spread_minutes + 1:
                break
            minute += 1
        cards = Counter(u for u, _, kind in sent_at.values() if kind == "template_card")
        texts = Counter(u for u, _, kind in sent_at.values() if kind == "text")
        times: dict[str, list[float]] = {}
        for user, t, _ in sent_at.values():
            times.setdefault(user, []).append(t)
        worst_minute = max(per_window(ts, 60) for ts in times.values())
        worst_hour = max(per_window(ts, 3600) for ts in times.values())
        sends = api.calls_to("message/send")
        rejected = sum(1 for c in sends if c.errcode == 40008)
        print(f"total: {total_wall:.2f} s wall over {minute + 1} passes; {len(sends)} message/send calls "
              f"({rejected} cards rejected -> text), {len(api.calls_to('gettoken'))} gettoken")
        print(f"reached {len(times)} of {args.people}; cards: {sum(cards.values())} to {len(cards)} people; "
              f"texts: {sum(texts.values())} to {len(texts)} people")
        print(f"most to one person: {worst_minute} in a minute, {worst_hour} in the hour (WeCom: 30 / 1000); "
              f"dropped by WeCom's rules: {len(api.dropped)}")
        extra = len(api.calls_to("message/send"))
        engine.run_pass(STAGE + timedelta(minutes=30))
        extra = len(api.calls_to("message/send")) - extra
        print(f"a later pass: {extra} calls")
        ok = (len(times) == args.people and not api.dropped and worst_minute <= 30 and extra == 0
              and all(cards[u] == 2 for u in users if u not in blind) and all(texts[u] == 2 for u in blind))
        print("OK" if ok else "NOT OK")
        db.dispose()
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
