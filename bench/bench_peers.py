"""Side by side: the bot against what people usually write instead, in one run, alternating.

The peers (bench/peers_app.py) answer a WeCom callback with wechatpy's crypto, `parse_message`,
`create_reply` and `rapidfuzz.process.extractOne` over the same clauses the bot answers from (no
dedupe, no log, no state): Flask under gunicorn (2 sync workers) and FastAPI under uvicorn (2
workers). They run from their own virtualenv, created here under bench/out/peers-venv with pinned
packages. Every request is a distinct encrypted question (bench/bench_callback.py's builders);
wrk drives 50 connections (throughput) and 4 connections (tail latency); server CPU per request
comes from /proc for the server's whole process group. Each round starts every target afresh in
a rotated order; the table shows medians over rounds and ratios to the best peer.

    .venv/bin/python bench/bench_peers.py                       # 3 rounds, 8 s per phase
    .venv/bin/python bench/bench_peers.py --rounds 5 --duration 10
    .venv/bin/python bench/bench_peers.py --targets bot-sqlite-2,fastapi   # a subset
    .venv/bin/python bench/bench_peers.py --baseline /tmp/old-checkout      # adds the old bot (before)

On a shared machine read the ratios, not the absolute figures: every target meets the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_callback import AES_KEY, CORP, TOKEN, Server, generate, run_wrk  # noqa: E402

OUT = ROOT / "bench" / "out"
VENV = OUT / "peers-venv"
PINS = ["flask==3.1.2", "gunicorn==23.0.0", "fastapi==0.121.3", "uvicorn==0.38.0", "uvloop==0.22.1",
        "httptools==0.7.1", "wechatpy==1.8.18", "cryptography==46.0.3", "xmltodict==1.0.2", "rapidfuzz==3.14.3"]
TARGETS = {
    "bot-sqlite-1": "this bot, SQLite + local state, 1 process",
    "bot-sqlite-2": "this bot, SQLite + local state, 2 workers",
    "bot-pg-redis-2": "this bot, PostgreSQL + Redis, 2 workers",
    "base-sqlite-1": "before: this bot, SQLite + in-process state, 1 process",
    "base-pg-redis-2": "before: this bot, PostgreSQL + Redis, 2 workers",
    "fastapi": "FastAPI + uvicorn, 2 workers",
    "flask": "Flask + gunicorn, 2 sync workers",
}
PEERS = ("fastapi", "flask")


def ensure_venv() -> Path:
    """The peers' virtualenv with the pinned packages (created once, reused while the pins match)."""
    python = VENV / "bin" / "python"
    stamp = VENV / "pins.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == "\n".join(PINS):
        return python
    shutil.rmtree(VENV, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    stamp.write_text("\n".join(PINS))
    return python


def export_clauses(path: Path) -> int:
    """The clauses the bot answers from, for the peers."""
    from bot.config import load_settings
    from knowledge.retriever import Retriever

    clauses = [c.text for c in Retriever.load(load_settings().knowledge).clauses]
    path.write_text(json.dumps(clauses, ensure_ascii=False), encoding="utf-8")
    return len(clauses)


class PeerServer:
    """A peer app under gunicorn or uvicorn, in its own process group (for CPU accounting)."""

    def __init__(self, kind: str, python: Path, port: int, tmp: Path, clauses: Path) -> None:
        self.kind, self.python, self.port, self.tmp, self.clauses = kind, python, port, tmp, clauses
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        bin_dir = self.python.parent
        if self.kind == "flask":
            cmd = [str(bin_dir / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}", "--backlog", "2048",
                   "--log-level", "warning", "peers_app:flask_app"]
        else:
            cmd = [str(bin_dir / "uvicorn"), "--workers", "2", "--port", str(self.port), "--loop", "uvloop",
                   "--http", "httptools", "--no-access-log", "--log-level", "warning", "--backlog", "2048",
                   "peers_app:fastapi_app"]
        env = dict(os.environ, BENCH_TOKEN=TOKEN, BENCH_AES_KEY=AES_KEY, BENCH_CORP=CORP,
                   BENCH_CLAUSES=str(self.clauses), PYTHONPATH=str(ROOT / "bench"))
        self.log = (self.tmp / f"{self.kind}.log").open("w")
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT / "bench", stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind} exited: see {self.tmp / (self.kind + '.log')}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    time.sleep(1.0)  # let the second worker finish booting
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.kind} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    cpu_seconds = Server.cpu_seconds


def measure(server: object, port: int, tmp: Path, duration: int, tag: str) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}"
    warm = tmp / f"{tag}-warm.txt"
    generate(warm, 400, 50, tag="w" + tag)
    run_wrk(url, warm, 8, 2)
    out: dict[str, float] = {}
    for phase, conns in (("t", 50), ("l", 4)):
        file = tmp / f"{tag}-{phase}.txt"
        generate(file, 3000 * duration, 1000, tag=tag + phase)
        cpu = server.cpu_seconds()  # type: ignore[attr-defined]
        stats = run_wrk(url, file, conns, duration)
        cpu_us = (server.cpu_seconds() - cpu) / max(1, stats["requests"]) * 1e6  # type: ignore[attr-defined]
        if phase == "t":
            out.update(rps=stats["rps"], cpu_us=cpu_us, non2xx=stats["non2xx"])
        else:
            out.update(p50_ms=stats["p50_us"] / 1000, p99_ms=stats["p99_us"] / 1000, cpu4_us=cpu_us)
    return out


def run_target(name: str, python: Path, port: int, tmp: Path, clauses: Path, duration: int, tag: str,
               baseline: Path | None = None) -> dict:
    if name in PEERS:
        server: object = PeerServer(name, python, port, tmp, clauses)
    else:
        backend = "postgres" if "pg" in name else "sqlite"
        server = Server(backend, int(name[-1]), port, tmp / f"bot-{tag}")
        (tmp / f"bot-{tag}").mkdir()
        if name.startswith("base-"):
            assert baseline is not None, "--baseline is needed for base- targets"
            server.root = baseline
    try:
        server.start()  # type: ignore[attr-defined]
        return measure(server, port, tmp, duration, tag)
    finally:
        server.stop()  # type: ignore[attr-defined]


def table(results: dict[str, list[dict]]) -> str:
    med = {name: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for name, rows in results.items()}
    peers = [n for n in med if n in PEERS]
    best_rps = max((med[n]["rps"] for n in peers), default=None)
    best_p99 = min((med[n]["p99_ms"] for n in peers), default=None)
    lines = ["| questions | req/s at 50 conn | p99 at 4 conn | p50 at 4 conn | CPU per request (50 / 4 conn) |"
             " vs best peer: req/s, p99 |", "|---|---|---|---|---|---|"]
    for name, m in med.items():
        ratio = (f"{m['rps'] / best_rps:.2f}×, {m['p99_ms'] / best_p99:.2f}×" if best_rps and best_p99 else "")
        lines.append(f"| {TARGETS[name]} | {m['rps']:,.0f} | {m['p99_ms']:.1f} ms | {m['p50_ms']:.2f} ms | "
                     f"{m['cpu_us']:,.0f} / {m['cpu4_us']:,.0f} µs | {ratio} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8, help="seconds per phase")
    ap.add_argument("--targets", help="comma-separated, from: " + ", ".join(TARGETS) + " (default: all; the base- "
                    "ones only with --baseline)")
    ap.add_argument("--baseline", type=Path, help="another checkout of the bot (e.g. `git archive` of an older "
                    "commit, with .venv) measured as the base- targets")
    ap.add_argument("--port", type=int, default=18901)
    args = ap.parse_args()
    default = [n for n in TARGETS if args.baseline or not n.startswith("base-")]
    names = [n for n in (args.targets.split(",") if args.targets else default) if n]
    unknown = set(names) - set(TARGETS)
    if unknown:
        ap.error(f"unknown targets: {sorted(unknown)}")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    python = ensure_venv() if any(n in PEERS for n in names) else Path(sys.executable)
    tmp = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    clauses = tmp / "clauses.json"
    print(f"{export_clauses(clauses)} clauses; {args.rounds} rounds x {len(names)} targets, {args.duration} s "
          f"per phase; load {os.getloadavg()[0]:.1f}", flush=True)
    results: dict[str, list[dict]] = {n: [] for n in names}
    try:
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for i, name in enumerate(order):
                res = run_target(name, python, args.port + i, tmp, clauses, args.duration, f"r{r}{i}", args.baseline)
                results[name].append(res)
                print(f"round {r + 1} {name:15s} {res['rps']:7.0f} req/s  p99@4 {res['p99_ms']:6.1f} ms  "
                      f"CPU {res['cpu_us']:5.0f} µs/req  non-2xx {res['non2xx']:.0f}  load {os.getloadavg()[0]:.1f}",
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
