"""Reports benchmark: parse accuracy on the labelled set, and reports stored per second.

    .venv/bin/python bench/bench_reports.py                     # accuracy + processor (SQLite) + HTTP (SQLite)
    .venv/bin/python bench/bench_reports.py --backend postgres  # the stored-reports legs on PostgreSQL (+ Redis for HTTP)
    .venv/bin/python bench/bench_reports.py --skip-http

Accuracy: tracking.accuracy over tests/data/reports/messages.jsonl (per field: date, participants,
village, task, activity). Processor: N distinct report messages from many roster users, sent from
T threads through MessageProcessor.process (dedupe, per-user lock, dispatcher, report service).
HTTP: `run.py serve` on a scratch database, encrypted report callbacks over keep-alive connections
(bench/bench_callback.py's Server); the clock stops when every report is in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import func, select  # noqa: E402

from tracking.accuracy import FIELDS, evaluate  # noqa: E402

DATA = ROOT / "tests" / "data" / "reports"
VILLAGES = ["红山郡社区", "东风村", "新华社区", "幸福村", "团结嘎查", "前进村", "光明社区", "和平村"]
DAYS = ["今天", "昨天", "前天", "上周五", "本周三", "11月5日", "3.5", "2026-11-02", "十一月五日"]
WHAT = ["开展民族团结宣讲", "走访慰问困难群众", "组织党员学习条例", "召开统战工作座谈会", "举办联谊活动",
        "开展宗教政策法规宣传", "开展侨法宣传活动", "组织志愿服务"]
COUNTS = ["40人参加", "四十余人", "约30名", "一百二十人", "参加人数：15", ""]


def report_texts(n: int, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    return [f"报送 {rnd.choice(DAYS)}在{rnd.choice(VILLAGES)}{rnd.choice(WHAT)}，{rnd.choice(COUNTS)}".rstrip("，")
            for _ in range(n)]


def roster_rows(users: int) -> list[tuple[str, str, str]]:
    return [(f"bench{i}", f"联络员{i}", VILLAGES[i % len(VILLAGES)]) for i in range(users)]


# ---------------------------------------------------------------- accuracy


def bench_accuracy() -> None:
    for name in ("messages", "heldout"):
        result = evaluate(DATA / f"{name}.jsonl", DATA / "tasks.yaml")
        print(f"parse accuracy on {result.total} labelled messages (tests/data/reports/{name}.jsonl):")
        for fld in FIELDS:
            print(f"  {fld:<13} {result.correct[fld]:>3}/{result.total}  {result.rate(fld):6.1%}")
        print(f"  all fields    {result.all_fields:6.1%}")
        for text, fld, want, got in result.misses:
            print(f"  miss [{fld}] {text}  want={want!r} got={got!r}")
    from datetime import date

    from tracking.accuracy import strip_command
    from tracking.report_parser import TaskRef, parse_report

    tasks = [TaskRef("info", "工作动态信息", ("活动", "开展", "宣讲")), TaskRef("h", "经验总结类或亮点特色信息", ("经验",))]
    texts = [strip_command(t) for t in report_texts(5000)]
    started = time.perf_counter()
    for t in texts:
        parse_report(t, today=date(2026, 11, 20), own_village="东风村", villages=VILLAGES, tasks=tasks)
    elapsed = time.perf_counter() - started
    print(f"parser alone: {len(texts) / elapsed:,.0f} messages/s ({elapsed / len(texts) * 1e6:.0f} µs each)")


# ---------------------------------------------------------------- processor


def _pg_scratch() -> tuple[str, str, str]:
    import os

    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    name = f"ztbot_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False), dsn, name


def _pg_drop(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_processor(backend: str, n: int, threads: int, users: int) -> None:
    import logging

    from app.services import build_services
    from bot.config import build_settings
    from bot.db.models import Report
    from bot.messages import IncomingMessage
    from bot.state.memory import MemoryStateStore
    from bot.wecom.sender import LogSender
    from tracking.roster import RosterRow, import_roster
    from tracking.tasks import ensure_tasks

    logging.disable(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    pg = None
    if backend == "postgres":
        url, dsn, name = _pg_scratch()
        pg = (dsn, name)
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    settings = build_settings({"database_url": url, "data_dir": str(tmp / "data"), "rate_limit_per_minute": 10**6})
    services = build_services(settings, sender=LogSender(), state=MemoryStateStore())
    try:
        with services.db.session() as s:
            import_roster(s, [RosterRow(i + 2, u, nm, v, "liaison", None) for i, (u, nm, v) in enumerate(roster_rows(users))])
        ensure_tasks(services)
        texts = report_texts(n)
        stamp = int(time.time())
        msgs = [IncomingMessage(user=f"bench{i % users}", type="text", content=t, msg_id=f"b{uuid.uuid4().hex[:12]}{i}",
                                create_time=stamp) for i, t in enumerate(texts)]
        # warm up (imports, first connections, task sync)
        services.processor.process(IncomingMessage(user="bench0", type="text", content="进度", msg_id="warm",
                                                   create_time=stamp), budget_s=None)
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            replies = list(pool.map(lambda m: services.processor.process(m, budget_s=None), msgs))
        elapsed = time.perf_counter() - started
        with services.db.session() as s:
            stored = s.scalar(select(func.count(Report.id)))
        confirmed = sum(1 for r in replies if r and "报送编号" in r)
        asked = sum(1 for r in replies if r and "哪项任务" in r)
        print(f"processor ({backend}, {threads} threads, {users} users): {n} reports in {elapsed:.2f} s = "
              f"{n / elapsed:,.0f} reports/s; stored {stored}, confirmed {confirmed}, asked {asked}")
    finally:
        services.close()
        if pg:
            _pg_drop(*pg)


# ---------------------------------------------------------------- HTTP


async def _drive(host: str, port: int, requests: list[bytes], connections: int) -> tuple[int, list[float]]:
    from bench_callback import read_response  # type: ignore[import-not-found]

    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    bad = 0
    latencies: list[float] = []

    async def worker() -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection(host, port)
        while not queue.empty():
            req = queue.get_nowait()
            started = time.perf_counter()
            writer.write(req)
            status = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            if b" 200 " not in status:
                bad += 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return bad, latencies


def bench_http(backend: str, n: int, connections: int, users: int) -> None:
    from bench_callback import AES_KEY, CORP, TOKEN, Server  # type: ignore[import-not-found]

    from bot.testing.wecom_double import CallbackBuilder

    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-http-"))
    server = Server(backend, 1, free_port(), tmp)
    server.start()
    try:
        roster = tmp / "roster.csv"
        roster.write_text("userid,name,village\n" + "".join(f"{u},{nm},{v}\n" for u, nm, v in roster_rows(users)),
                          encoding="utf-8")
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL",))}
        env.update(DATABASE_URL=server.db_url, BOT_CONFIG=str(tmp / "config.yaml"), PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, str(ROOT / "run.py"), "roster", "import", str(roster)], env=env, cwd=ROOT,
                       check=True, capture_output=True)
        builder = CallbackBuilder(TOKEN, AES_KEY, CORP)
        now = int(time.time())
        base = int(uuid.uuid4().int % 10**12) * 10**6
        raw = []
        for i, text in enumerate(report_texts(n, seed=23)):
            query, body = builder.text(f"bench{i % users}", text, str(base + i), now)
            target = f"/wecom/callback?{urlencode(query)}"
            raw.append(f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        from sqlalchemy import create_engine, text

        engine = create_engine(server.db_url)
        started = time.perf_counter()
        bad, lat = asyncio.run(_drive("127.0.0.1", server.port, raw, connections))
        answered = time.perf_counter() - started
        stored = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
            if stored >= n:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        engine.dispose()
        lat.sort()
        print(f"HTTP callback ({backend}, {connections} connections): {n} encrypted reports answered in {answered:.2f} s, "
              f"all {stored} stored after {elapsed:.2f} s = {stored / elapsed:,.0f} reports/s; non-200: {bad}; "
              f"p50 {lat[len(lat) // 2] * 1000:.0f} ms, p99 {lat[int(len(lat) * 0.99)] * 1000:.0f} ms")
    finally:
        server.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("-n", type=int, default=2000, help="reports per stored-reports leg")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    bench_accuracy()
    bench_processor(args.backend, args.n, args.threads, args.users)
    if not args.skip_http:
        bench_http(args.backend, args.n, args.connections, args.users)


if __name__ == "__main__":
    main()
