"""Fault injection for tests: a TCP proxy that can be cut or stalled, a private redis-server, and a
check that no secret reached the logs or any table.

Never touches the shared Redis on 6379 or the shared PostgreSQL: faults are made by cutting the
proxy in front of them, or by stopping a redis-server this helper started on its own port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable

from sqlalchemy import select

from bot.db.database import Database
from bot.db.models import Base


class TcpProxy:
    """127.0.0.1:<port> forwarding to (host, port). `cut()` resets every connection and refuses new
    ones; `stall()` keeps connections open but forwards nothing (a frozen peer); `restore()` heals."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self._listener.getsockname()[1]
        self._mode = "ok"
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="tcp-proxy").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._mode == "cut":
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while self._mode == "stall":
                    time.sleep(0.01)
                if self._mode == "cut":
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                _close(s)

    def cut(self) -> None:
        self._mode = "cut"
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            _reset(s)

    def stall(self) -> None:
        self._mode = "stall"

    def restore(self) -> None:
        self._mode = "ok"

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self._listener)


def _reset(s: socket.socket) -> None:
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    _close(s)


def _close(s: socket.socket) -> None:
    try:
        s.close()
    except OSError:
        pass


class PrivateRedis:
    """A redis-server of our own on a free port (no persistence), so a test may stop and restart it."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not installed")
        self.binary = binary
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="ztbot-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def table_text(db: Database) -> str:
    """Every value of every table, as text (for grepping)."""
    parts: list[str] = []
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                parts.extend(str(v) for v in row)
    return "\n".join(parts)


def assert_no_secrets(secrets: Iterable[str], *texts: str) -> None:
    """None of `secrets` (token, Secret, AES key, passwords, access tokens) occurs in any text."""
    for secret in secrets:
        assert secret, "a secret to look for must not be empty"
        for i, text in enumerate(texts):
            assert secret not in text, f"a secret leaked into text #{i}: …{text[max(0, text.find(secret) - 60):][:120]}…"
