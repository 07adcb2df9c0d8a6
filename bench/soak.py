"""Soak: run `run.py serve` on the embedded default (SQLite, in-process state) and feed it encrypted
callbacks at a steady rate, printing the server's RSS over time. Not a test: it prints figures.

    .venv/bin/python bench/soak.py --minutes 5 --rate 10
    .venv/bin/python bench/soak.py --root /path/to/other/checkout   # the same load on another version

Each message has a fresh MsgId (so every one is stored for dedupe, as in real traffic); the mix
is questions of varying length and the help command from a pool of 200 users. RSS is read from
/proc/<pid>/status (VmRSS) every `--every` seconds; the summary gives RSS after warm-up, at the
end, and the slope (MB/min) fitted over the post-warm-up samples.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.testing.wecom_double import CallbackBuilder  # noqa: E402

TOKEN, AES_KEY, CORP = "soaktoken", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwsoak0000000001"
QUESTIONS = ["民族宗教工作有哪些要求？", "统战信息怎么报送", "每月要报几条动态信息", "宗教活动场所怎么管理",
             "新的社会阶层人士有哪些", "港澳台侨工作怎么做", "帮助", "联络员的职责是什么", "年度考核看什么"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path, tmp: Path, port: int) -> subprocess.Popen:
    config = tmp / "config.yaml"
    config.write_text(f"database_url: sqlite:///{tmp / 'soak.db'}\ndata_dir: {tmp / 'data'}\n"
                      f"tasks_file: {tmp / 'none.yaml'}\nlog_level: WARNING\nrate_limit_per_minute: 100000\n",
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "REDIS_", "DATABASE_", "BOT_"))}
    env.update({"BOT_CONFIG": str(config), "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY, "WECOM_CORP_ID": CORP})
    python = root / ".venv" / "bin" / "python"
    proc = subprocess.Popen([str(python if python.exists() else sys.executable), "run.py", "serve", "--port",
                             str(port)], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503):
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start: " + (proc.stderr.read().decode()[-2000:] if proc.stderr else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=10.0, help="messages per second")
    ap.add_argument("--every", type=float, default=15.0, help="seconds between RSS samples")
    ap.add_argument("--warmup", type=float, default=1.0, help="minutes before the slope is measured")
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose run.py serves")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ztbot-soak-"))
    port = free_port()
    proc = start_server(args.root, tmp, port)
    builder = CallbackBuilder(TOKEN, AES_KEY, CORP)
    rng = random.Random(11)
    samples: list[tuple[float, float]] = []
    sent = errors = 0
    started = time.monotonic()
    next_sample = started
    print(f"soak: {args.root} pid {proc.pid}, {args.rate}/s for {args.minutes} min", flush=True)
    print("minute  rss_mb  sent  errors", flush=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            while (now := time.monotonic()) - started < args.minutes * 60:
                if now >= next_sample:
                    samples.append(((now - started) / 60, rss_mb(proc.pid)))
                    print(f"{samples[-1][0]:6.2f}  {samples[-1][1]:6.1f}  {sent:5d}  {errors:4d}", flush=True)
                    next_sample += args.every
                user = f"user{rng.randrange(200)}"
                text = rng.choice(QUESTIONS) + ("。" * rng.randrange(0, 40))
                query, body = builder.text(user, text, str(10**12 + sent), int(time.time()))
                try:
                    if client.post("/wecom/callback", params=query, content=body).status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                sent += 1
                time.sleep(max(0.0, started + sent / args.rate - time.monotonic()))
        samples.append(((time.monotonic() - started) / 60, rss_mb(proc.pid)))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    after = [(t, r) for t, r in samples if t >= args.warmup]
    slope = 0.0
    if len(after) >= 2:
        n = len(after)
        mt, mr = sum(t for t, _ in after) / n, sum(r for _, r in after) / n
        den = sum((t - mt) ** 2 for t, _ in after) or 1.0
        slope = sum((t - mt) * (r - mr) for t, r in after) / den
    print(f"summary: sent {sent}, errors {errors}; RSS start {samples[0][1]:.1f} MB, after warm-up "
          f"{after[0][1] if after else float('nan'):.1f} MB, end {samples[-1][1]:.1f} MB, "
          f"slope after warm-up {slope:+.2f} MB/min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
