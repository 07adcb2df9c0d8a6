"""Helpers for the reports and tracking tests: a known roster and task file, a TCP proxy for outages."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from bot.context import Services
from bot.db.database import Database
from bot.db.models import Report
from tracking.roster import RosterRow, import_roster
from tracking.tasks import sync_tasks

TASKS_YAML = """\
tasks:
- key: info
  title: 工作动态信息
  cadence: monthly
  target: 3
  audience: liaisons
  keywords: [动态, 活动, 开展, 宣讲, 走访, 慰问, 座谈, 学习]
- key: highlight
  title: 经验总结类或亮点特色信息
  cadence: quarterly
  target: 1
  audience: liaisons
  keywords: [经验, 总结, 亮点, 特色, 做法]
- key: research
  title: 研究统一战线工作
  cadence: yearly
  target: 2
  audience: office
  keywords: [研究, 统一战线, 党工委]
- key: hongshan-only
  title: 民族团结示范点创建
  cadence: once
  due_date: 2026-12-31
  target: 1
  audience: liaisons
  audience_filter: {villages: [红山郡社区]}
  keywords: [示范点, 创建]
"""

ROSTER = [
    RosterRow(2, "li", "李四", "红山郡社区", "liaison", None),
    RosterRow(3, "wang", "王五", "东风村", "liaison", None),
    RosterRow(4, "zhao", "赵主任", "", "admin", None),
    RosterRow(5, "gone", "钱六", "新华社区", "liaison", False),
]


def write_tasks(tmp_path: Path, text: str = TASKS_YAML) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def seed(db: Database, tasks_file: Path) -> None:
    with db.session() as session:
        import_roster(session, ROSTER)
        sync_tasks(session, tasks_file)


def use_test_tasks(services: Services, tmp_path: Path) -> Path:
    """Point the services at the test task file and load the test roster."""
    path = write_tasks(tmp_path)
    services.settings = services.settings.with_overrides(tasks_file=path)
    seed(services.db, path)
    return path


def report_chat(services: Services, tmp_path: Path):  # noqa: ANN201 - ChatDriver
    """A ChatDriver on services with the test roster and tasks."""
    from bot.testing.chat import ChatDriver

    use_test_tasks(services, tmp_path)
    return ChatDriver(services)


class TcpProxy:
    """A local TCP forwarder we can cut and restore: a really unreachable database, then back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener: socket.socket | None = None
        self.port = _free_port()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def stop(self) -> None:
        """Close the port and every open connection: new connects are refused, old ones break."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A local port nothing listens on."""
    return _free_port()


@contextmanager
def proxy_to(host: str, port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy((host, port))
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def report_in_process(db_url: str, data_dir: str, tasks_file: str, msg_fields: dict, barrier, out) -> None:  # noqa: ANN001
    """A whole bot process with its own in-memory state (no shared dedupe): only the DB key can guard."""
    from app.services import build_services
    from bot.config import build_settings
    from bot.messages import IncomingMessage
    from bot.state.memory import MemoryStateStore
    from bot.wecom.sender import LogSender

    settings = build_settings({"database_url": db_url, "data_dir": data_dir, "tasks_file": tasks_file})
    services = build_services(settings, sender=LogSender(), state=MemoryStateStore(), migrate=False)
    from tracking.tasks import ensure_tasks

    ensure_tasks(services)
    barrier.wait(timeout=30)
    reply = services.processor.process(IncomingMessage(**msg_fields), budget_s=None)
    out.put(reply)
    services.close()


def stored_reports(chat) -> list[Report]:  # noqa: ANN001 - ChatDriver
    """Every report row, oldest first, with its task loaded (for assertions after the session closes)."""
    with chat.services.db.session() as s:
        rows = s.scalars(select(Report).order_by(Report.id)).all()
        for r in rows:
            _ = r.task
        return list(rows)
