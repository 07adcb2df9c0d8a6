"""Start `run.py serve` as a real process (any number of workers, a data folder that outlives it),
find its worker processes, and see which of them holds which client connection (from /proc)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.config import ROOT
from bot.testing.wecom_double import WeComDouble

TOKEN, AES_KEY, CORP = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `serve` process tree; `data` is kept across restarts (the state file lives there)."""

    def __init__(self, home: Path, api: WeComDouble, *, workers: int = 1, **env_extra: str) -> None:
        self.home = home
        self.api = api
        self.workers = workers
        self.env_extra = env_extra
        self.proc: subprocess.Popen | None = None
        self.port = 0
        home.mkdir(parents=True, exist_ok=True)
        self.log_path = home / "serve.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 90) -> Server:
        self.port = free_port()
        cfg = self.home / "config.yaml"
        # a budget near WeCom's 5 s: on a loaded test machine a first reply can take over the default 1 s
        cfg.write_text(f"data_dir: {self.home / 'data'}\nlog_level: INFO\nwecom:\n  reply_budget_s: 4.0\n",
                       encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL", "REDIS_URL"))}
        env.update({
            "BOT_CONFIG": str(cfg), "WECOM_CORP_ID": CORP, "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY,
            "WECOM_SECRET": self.api.secret, "WECOM_AGENT_ID": str(self.api.agent_id),
            "WECOM_API_BASE": self.api.base_url, "DATABASE_URL": f"sqlite:///{self.home / 'serve.db'}",
        })
        env.update(self.env_extra)
        log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "run.py", "serve", "--port", str(self.port), "--workers", str(self.workers)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code in (200, 503) and (
                        self.workers == 1 or self.log().count("Application startup complete") >= self.workers):
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                if self.proc.poll() is None:
                    self.kill9()
                raise AssertionError(f"server did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill9(self) -> None:
        """SIGKILL the whole tree at once, as a crash or the OOM killer would."""
        assert self.proc is not None
        for pid in [*self.worker_pids(), self.proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    def worker_pids(self) -> list[int]:
        """Child processes of the server that run the app (uvicorn's workers; with one worker, itself)."""
        assert self.proc is not None
        if self.workers == 1:
            return [self.proc.pid]
        kids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == self.proc.pid and "multiprocessing.resource_tracker" not in _cmdline(entry):
                kids.append(int(entry.name))
        return sorted(kids)

    def connections_by_worker(self) -> dict[int, int]:
        """How many established connections to the server's port each worker process holds."""
        established = _established_inodes(self.port)
        counts = {}
        for pid in self.worker_pids():
            inodes = set()
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
            counts[pid] = len(inodes & established)
        return counts


def _cmdline(entry: Path) -> str:
    try:
        return (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of ESTABLISHED TCP connections whose local port is `port` (server side)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                found.add(parts[9])
    return found


def decrypt_reply(response: httpx.Response) -> str:
    """Decrypt a passive reply with wechatpy's own code, as WeCom would."""
    assert response.status_code == 200, response.text
    outer = xmltodict.parse(response.text)["xml"]
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP)
    inner = crypto.decrypt_message(response.text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
    return xmltodict.parse(inner)["xml"]["Content"]
