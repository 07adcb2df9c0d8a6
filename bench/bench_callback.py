"""Callback benchmark: encrypted question callbacks through HTTP, dedupe and message log on.

Starts `run.py serve` on a scratch database, pre-generates distinct encrypted callbacks (valid
signatures, current timestamps, distinct MsgIds) into a file, and drives them with wrk (a Lua
script cycles through the file) or, without wrk, a small asyncio driver. Prints requests/s at
50 connections and p50/p99 at 4 connections (both closed loop, i.e. saturating the server), the
round-trip latency at a steady 50 req/s (open loop), server CPU per request (robust to other load
on the machine), and the in-process cost of the protocol work (verify + decrypt + parse + reply).

    .venv/bin/python bench/bench_callback.py                      # SQLite + in-process state
    .venv/bin/python bench/bench_callback.py --backend postgres   # PostgreSQL + Redis (env below)
    .venv/bin/python bench/bench_callback.py --backend postgres --workers 2
    .venv/bin/python bench/bench_callback.py --kind help          # transport + dispatch without retrieval
    .venv/bin/python bench/bench_callback.py --profile            # where the server's time goes

PostgreSQL/Redis come from BENCH_POSTGRES_ADMIN_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres;
a scratch database is created and dropped) and BENCH_REDIS_URL (default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.testing.wecom_double import CallbackBuilder  # noqa: E402

TOKEN = "benchToken2026"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP = "wwbench0000000001"
TOPICS = ["宗教活动场所", "民族团结进步创建", "统战信息报送", "新的社会阶层人士", "民主党派", "港澳台侨",
          "非公有制经济人士", "网络统战", "统战干部培训", "宗教信息员", "少数民族流动人口", "党外代表人士"]
FORMS = ["{t}的工作要求是什么？", "{t}一年要做几次？", "{t}怎么开展", "请问{t}有什么规定", "{t}每个月要报几篇",
         "{t}需要报备吗", "关于{t}，村里要做什么"]


PLACES = ["红山社区", "东村", "西村", "南湖社区", "北岗村", "新华社区", "柳林村", "石桥村", "幸福里", "城关社区",
          "我们村", "社区里", "我们街道", "本单位", "我"]


def _clause_fragments(rnd: random.Random, n: int) -> list[str]:
    """Questions quoting 8-16 characters of a plan clause (answerable), from the shipped corpus."""
    try:
        from bot.config import load_settings
        from knowledge.retriever import Retriever

        clauses = [c.text.strip() for c in Retriever.load(load_settings().knowledge).clauses if len(c.text) > 12]
    except Exception:  # noqa: BLE001 - the bench still runs without the knowledge package
        return []
    out = []
    for _ in range(n):
        text = rnd.choice(clauses)
        start = rnd.randrange(0, max(1, len(text) - 16))
        out.append(text[start:start + rnd.randint(8, 16)] + "？")
    return out


def questions(n: int, seed: int = 7) -> list[str]:
    """A mix: two thirds quote the plan (answered), one third are varied topic questions (mostly not).

    Texts vary (15 places x 7 forms x 12 topics, random clause fragments), so an answer cache
    cannot flatter the figures; unanswered questions exercise the review log.
    """
    rnd = random.Random(seed)
    fragments = _clause_fragments(rnd, n * 2 // 3)
    synthetic = [rnd.choice(PLACES) + rnd.choice(FORMS).format(t=rnd.choice(TOPICS)) for _ in range(n - len(fragments))]
    mixed = fragments + synthetic
    rnd.shuffle(mixed)
    return mixed


def texts_for(kind: str, n: int) -> list[str]:
    """question: goes to the knowledge retriever; help: a fixed command with a passive reply (transport path)."""
    return questions(n) if kind == "question" else ["帮助"] * n


def generate(path: Path, n: int, users: int, tag: str, kind: str = "question") -> None:
    """Write n distinct callbacks (distinct MsgIds), one per line: "<path?query>\\t<body>"."""
    builder = CallbackBuilder(TOKEN, AES_KEY, CORP)
    now = int(time.time())
    base = int(uuid.uuid4().int % 10**12) * 10**6
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts_for(kind, n)):
            query, body = builder.text(f"bench{tag}{i % users}", text, str(base + i), now)
            out.write(f"/wecom/callback?{urlencode(query)}\t{body.decode()}\n")


def protocol_cost(n: int = 2000, repeats: int = 7) -> dict[str, float]:
    """µs per message (best of `repeats`, so other load on the machine counts least) for each step."""
    from bot.wecom.crypto import CallbackCrypto
    from bot.wecom.parse import parse_message
    from bot.wecom.render import encrypted_text_reply

    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP, 300)
    builder = CallbackBuilder(TOKEN, AES_KEY, CORP)
    now = int(time.time())
    items = [builder.text("u", q, str(i), now) for i, q in enumerate(questions(n))]
    inners = [crypto.decrypt_message(b, q["msg_signature"], q["timestamp"], q["nonce"]) for q, b in items]
    msgs = [parse_message(x) for x in inners]
    steps = {
        "verify+decrypt": lambda: [crypto.decrypt_message(b, q["msg_signature"], q["timestamp"], q["nonce"])
                                   for q, b in items],
        "parse": lambda: [parse_message(x) for x in inners],
        "encrypted reply": lambda: [encrypted_text_reply(crypto, m.user, "根据方案，" + m.content, now, m.agent_id)
                                    for m in msgs],
    }
    out = {}
    for name, step in steps.items():
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            step()
            best = min(best, time.perf_counter() - started)
        out[name] = best / n * 1e6
    out["total"] = sum(out.values())
    return out


# ---------------------------------------------------------------------- the server


class Server:
    """`run.py serve` in a subprocess on a scratch database."""

    def __init__(self, backend: str, workers: int, port: int, tmp: Path) -> None:
        self.backend, self.workers, self.port, self.tmp = backend, workers, port, tmp
        self.root = ROOT  # another checkout's run.py for a before/after comparison (bench_peers --baseline)
        self.proc: subprocess.Popen | None = None
        self.pg_db: str | None = None
        self.db_url = ""
        self.redis_url: str | None = None

    def env(self) -> dict[str, str]:
        config = self.tmp / "config.yaml"
        config.write_text(f"log_level: WARNING\nrate_limit_per_minute: 1000000\ndata_dir: {self.tmp / 'data'}\n",
                          encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL", "REDIS_URL"))}
        env.update(BOT_CONFIG=str(config), WECOM_TOKEN=TOKEN, WECOM_AES_KEY=AES_KEY, WECOM_CORP_ID=CORP,
                   WECOM_AGENT_ID="1000002", PYTHONPATH=str(ROOT))
        if self.backend == "sqlite":
            self.db_url = f"sqlite:///{self.tmp / 'bench.db'}"
        else:
            self.db_url = self._create_pg()
            self.redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
            env["REDIS_URL"] = self.redis_url
        env["DATABASE_URL"] = self.db_url
        return env

    def _create_pg(self) -> str:
        import psycopg
        from sqlalchemy.engine import make_url

        admin = make_url(os.environ.get("BENCH_POSTGRES_ADMIN_URL",
                                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
        self.pg_db = f"ztbot_bench_{uuid.uuid4().hex[:8]}"
        self._pg_dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(self._pg_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.pg_db}"')
        return admin.set(database=self.pg_db).render_as_string(hide_password=False)

    def start(self) -> None:
        cmd = [sys.executable, str(self.root / "run.py"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", str(self.workers)]
        self.log = (self.tmp / "server.log").open("w")
        env = self.env()
        env["PYTHONPATH"] = str(self.root)
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        import requests

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: see {self.tmp / 'server.log'}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit("server did not become healthy in 90 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.pg_db:
            import psycopg

            with psycopg.connect(self._pg_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
        if self.redis_url:
            import redis

            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match="ztbot:*", count=1000))
            for i in range(0, len(keys), 1000):
                client.delete(*keys[i:i + 1000])

    def cpu_seconds(self) -> float:
        """CPU time (user+system) used so far by the server's processes (its session/process group)."""
        assert self.proc is not None
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def log_rows(self) -> int:
        """Rows in the inbound message log (the write-behind batch is flushed within ~50 ms)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.db_url)
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM inbound_messages")).scalar_one()
        engine.dispose()
        return int(n)


# ---------------------------------------------------------------------- drivers


def run_wrk(url: str, file: Path, connections: int, duration: int) -> dict:
    threads = min(2, connections)
    env = dict(os.environ, BENCH_REQUESTS=str(file), BENCH_THREADS=str(threads))
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s",
           "-s", str(ROOT / "bench" / "callback.lua"), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
    stats = json.loads(line.removeprefix("BENCH_JSON "))
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["driver"] = "wrk"
    return stats


def raw_requests(host: str, lines: list[str]) -> list[bytes]:
    """The pre-generated callbacks ("target<TAB>body" lines) as raw HTTP/1.1 POST requests."""
    raw = []
    for ln in lines:
        target, body = ln.rstrip("\n").split("\t", 1)
        data = body.encode()
        raw.append(f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/xml\r\n"
                   f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    return raw


async def _python_driver(host: str, port: int, lines: list[str], connections: int, duration: int) -> dict:
    raw = raw_requests(host, lines)
    latencies: list[float] = []
    bad = 0
    stop_at = time.monotonic() + duration
    counter = iter(range(10**12))

    async def worker() -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            import socket

            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while time.monotonic() < stop_at:
            req = raw[next(counter) % len(raw)]
            started = time.perf_counter()
            writer.write(req)
            status = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            if b" 200 " not in status:
                bad += 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.monotonic() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e6  # noqa: E731
    return {"driver": "python", "requests": len(latencies), "rps": len(latencies) / elapsed, "p50_us": pick(0.5),
            "p90_us": pick(0.9), "p99_us": pick(0.99), "max_us": latencies[-1] * 1e6, "non2xx": bad}


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """Read one HTTP/1.1 response (status line, headers, Content-Length body); returns the status line."""
    status = await reader.readline()
    length = 0
    while (header := await reader.readline()) not in (b"\r\n", b""):
        if header.lower().startswith(b"content-length:"):
            length = int(header.split(b":")[1])
    if length:
        await reader.readexactly(length)
    return status


async def _paced_driver(host: str, port: int, lines: list[str], rate: float, duration: int) -> dict:
    """Open loop: request i is due at t0 + i/rate; latency counts from when it was due (no coordinated omission)."""
    raw = raw_requests(host, lines)
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(8):
        pool.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    bad = 0

    async def one(req: bytes, due: float) -> None:
        nonlocal bad
        reader, writer = await pool.get()
        writer.write(req)
        status = await read_response(reader)
        latencies.append(time.perf_counter() - due)
        bad += b" 200 " not in status
        pool.put_nowait((reader, writer))

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * duration)):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raw[i % len(raw)], due)))
    await asyncio.gather(*tasks)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e6  # noqa: E731
    return {"driver": "paced", "requests": len(latencies), "rps": rate, "p50_us": pick(0.5), "p90_us": pick(0.9),
            "p99_us": pick(0.99), "max_us": latencies[-1] * 1e6, "non2xx": bad}


def run_paced(port: int, file: Path, rate: float, duration: int) -> dict:
    lines = file.read_text(encoding="utf-8").splitlines()
    try:
        import uvloop

        return uvloop.run(_paced_driver("127.0.0.1", port, lines, rate, duration))
    except ImportError:
        return asyncio.run(_paced_driver("127.0.0.1", port, lines, rate, duration))


def run_python(port: int, file: Path, connections: int, duration: int) -> dict:
    lines = file.read_text(encoding="utf-8").splitlines()
    try:
        import uvloop

        return uvloop.run(_python_driver("127.0.0.1", port, lines, connections, duration))
    except ImportError:
        return asyncio.run(_python_driver("127.0.0.1", port, lines, connections, duration))


# ---------------------------------------------------------------------- profile


def profile(args: argparse.Namespace) -> int:
    """Run the server in this process with cProfile in every thread while wrk drives it; print the top.

    Times are per-thread CPU+wait in Python functions, summed over threads; lock waits show up as
    `acquire`/`wait`, which is where a thread was parked, not where the CPU went.
    """
    import cProfile
    import pstats
    import threading

    import uvicorn

    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    server = Server(args.backend, 1, args.port, tmp)
    os.environ.update(server.env())
    from app.serve import build_app
    from bot.config import load_settings

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    active = threading.Event()

    def per_thread(*_: object) -> None:
        sys.setprofile(None)
        prof = cProfile.Profile()
        with lock:
            profiles.append(prof)
        prof.enable()

    app = build_app(load_settings())
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools",
                            access_log=False, log_level="warning")
    uv = uvicorn.Server(config)

    def run_server() -> None:
        loop_prof = cProfile.Profile()
        with lock:
            profiles.append(loop_prof)
        active.wait()
        uv.run()

    file = tmp / "profile.txt"
    generate(file, args.messages, args.users, tag="p", kind=args.kind)
    threading.setprofile(per_thread)  # every thread started from now on profiles itself
    thread = threading.Thread(target=run_server, daemon=True)
    threading.setprofile(None)  # type: ignore[arg-type]
    thread.start()
    # the loop thread's profiler is enabled from inside uvicorn's startup via a hook below
    original = uv.startup

    async def startup(sockets=None):  # noqa: ANN001, ANN202
        profiles[0].enable()
        threading.setprofile(per_thread)  # pool threads created by the app profile themselves
        return await original(sockets=sockets)

    uv.startup = startup  # type: ignore[method-assign]
    active.set()
    while not uv.started:
        time.sleep(0.05)
    stats_run = run_wrk(f"http://127.0.0.1:{args.port}", file, args.connections, args.duration)
    for prof in profiles:
        prof.disable()
    uv.should_exit = True
    thread.join(10)
    print(f"under cProfile: {stats_run['rps']:.0f} req/s (profiling slows everything ~2x)")
    merged = None
    for prof in profiles:
        try:
            st = pstats.Stats(prof)
        except TypeError:
            continue  # a profiler that never ran
        merged = st if merged is None else merged.add(prof)
    if merged is not None:
        merged.sort_stats("tottime").print_stats(30)
        merged.sort_stats("cumulative").print_stats(40)
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


# ---------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--duration", type=int, default=10, help="seconds per phase")
    ap.add_argument("--messages", type=int, default=60000, help="distinct callbacks per phase")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--kind", choices=["question", "help"], default="question",
                    help="question: knowledge retrieval; help: a fixed command (transport + dispatch only)")
    ap.add_argument("--connections", type=int, default=50, help="throughput phase")
    ap.add_argument("--latency-connections", type=int, default=4)
    ap.add_argument("--driver", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--paced", type=float, default=50.0, metavar="RATE",
                    help="also measure latency at a steady RATE req/s (open loop, not saturating); 0 to skip")
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument("--profile", action="store_true", help="sample the server's threads instead (workers=1)")
    args = ap.parse_args()
    if args.profile:
        return profile(args)
    driver = args.driver
    if driver == "auto":
        driver = "wrk" if shutil.which("wrk") else "python"
    cost = protocol_cost()
    print("protocol work per message (best of 7): " + ", ".join(f"{k} {v:.1f} µs" for k, v in cost.items()),
          flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-callback-"))
    server = Server(args.backend, args.workers, args.port, tmp)
    results = {}
    try:
        server.start()
        url = f"http://127.0.0.1:{args.port}"
        sent = 0
        phases = [("throughput", args.connections), ("latency", args.latency_connections)]
        if args.paced:
            phases.append(("paced", 0))
        for phase, conns in phases:
            file = tmp / f"{phase}.txt"
            count = args.messages if phase != "paced" else int(args.paced * args.duration) + 10
            generate(file, count, args.users, tag=phase[0], kind=args.kind)
            # warm-up on a few other messages (first-use loading, connection pools)
            warm = tmp / f"{phase}-warm.txt"
            generate(warm, 200, 50, tag="w" + phase[0], kind=args.kind)
            (run_wrk(url, warm, 4, 1) if driver == "wrk" else run_python(args.port, warm, 4, 1))
            cpu_before, load_before = server.cpu_seconds(), os.getloadavg()[0]
            if phase == "paced":
                stats = run_paced(args.port, file, args.paced, args.duration)
            elif driver == "wrk":
                stats = run_wrk(url, file, conns, args.duration)
            else:
                stats = run_python(args.port, file, conns, args.duration)
            stats["server_cpu_us_per_request"] = (server.cpu_seconds() - cpu_before) / max(1, stats["requests"]) * 1e6
            stats["loadavg"] = [load_before, os.getloadavg()[0]]
            results[phase] = stats
            sent += stats["requests"]
            repeats = max(0, stats["requests"] - count)
            label = f"{phase:10s} c={conns:<3d}" if phase != "paced" else f"{'paced':10s} open"
            print(f"{label} {stats['rps']:8.0f} req/s  p50 {stats['p50_us'] / 1000:6.2f} ms  "
                  f"p90 {stats['p90_us'] / 1000:6.2f} ms  p99 {stats['p99_us'] / 1000:6.2f} ms  "
                  f"max {stats['max_us'] / 1000:7.2f} ms  non-2xx {stats['non2xx']}  "
                  f"({stats['requests']} requests, {repeats} repeats, {stats['driver']}; server CPU "
                  f"{stats['server_cpu_us_per_request']:.0f} µs/request; load {stats['loadavg'][0]:.1f})", flush=True)
        time.sleep(1.0)
        rows = server.log_rows()
        print(f"message log: {rows} rows for {sent} timed requests + warm-up (one row per distinct message)")
    finally:
        server.stop()
    print(json.dumps({"backend": args.backend, "workers": args.workers, "kind": args.kind, **results}))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
