"""A small demo office (roster, tasks, a year of reports with photos, unanswered questions) served on
a free local port: what the browser tests and bench/screenshots.py look at. Deterministic: the
same seed and clock give the same pages."""

from __future__ import annotations

import random
import shutil
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.db.models import AnswerFeedback, ReportPhoto, UnansweredQuestion
from tracking.reports import ReportDraft, create_report, withdraw_report
from tracking.roster import RosterRow, import_roster
from tracking.tasks import sync_tasks

if TYPE_CHECKING:
    from bot.context import Services

DEMO_PASSWORD = "demo-office-pass"
DEMO_NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Asia/Shanghai
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
"""
ROSTER = [
    ("li", "李四", "红山郡社区"), ("chen", "陈晓燕", "红山郡社区"), ("wang", "王五", "东风村"),
    ("sun", "孙建国", "东风村"), ("zhou", "周丽", "新华社区"), ("wu", "吴海涛", "新华社区"),
    ("zheng", "郑小红", "前进村"), ("feng", "冯伟", "前进村"),
]
ACTIVITIES = ["开展民族团结进步宣讲", "走访慰问少数民族困难群众", "组织新的社会阶层人士座谈", "开展统战政策学习会",
              "举办中秋联谊活动", "走访辖区宗教活动场所开展安全检查"]
QUESTIONS = ["宗教场所消防检查多久一次", "宗教场所消防要多久查一次", "民宿老板算不算新阶层", "统战信息每月报几篇啊",
             "少数民族学生有什么补助", "少数民族学生补助怎么申请", "统一战线是什么"]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG (the demo's photos), built with zlib alone."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def demo_settings(root: Path, **overrides: Any):  # noqa: ANN201 - bot.config.Settings
    """Settings of a demo office under `root`: its own SQLite file, corpus copy and tasks file."""
    from bot.config import ROOT, build_settings

    corpus = root / "corpus"
    if not corpus.exists():
        shutil.copytree(ROOT / "knowledge" / "corpus", corpus)
    tasks = root / "tasks.yaml"
    if not tasks.exists():
        tasks.write_text(TASKS_YAML, encoding="utf-8")
    raw: dict[str, Any] = {"database_url": f"sqlite:///{root / 'demo.db'}", "data_dir": str(root / "data"),
                           "tasks_file": str(tasks), "admin_password": DEMO_PASSWORD,
                           "knowledge": {"corpus_dir": str(corpus)}}
    raw.update(overrides)
    return build_settings(raw)


def seed_demo(services: Services, *, seed: int = 12) -> None:
    """Roster, tasks, reports from January to the clock's day (some withdrawn, some with photos)."""
    rng = random.Random(seed)
    today = services.clock.now().astimezone(services.settings.tz).date()
    rows = [RosterRow(i + 2, u, n, v, "liaison", None) for i, (u, n, v) in enumerate(ROSTER)]
    rows.append(RosterRow(len(rows) + 2, "zhao", "赵主任", "", "admin", None))
    photos = Path(services.settings.data_dir) / "photos" / "demo"
    photos.mkdir(parents=True, exist_ok=True)
    with services.db.session() as session:
        import_roster(session, rows)
        sync_tasks(session, Path(services.settings.tasks_file))
    n = 0
    with services.db.session() as session:
        for month in range(1, today.month + 1):
            for userid, _, village in ROSTER:
                per_month = rng.choice([0, 1, 2, 3, 3, 4]) if month < today.month else rng.choice([0, 1, 2])
                for k in range(per_month):
                    n += 1
                    day = date(today.year, month, min(1 + k * 7 + rng.randrange(5), 28))
                    if day > today:
                        day = today
                    task = "highlight" if rng.random() < 0.12 else "info"
                    draft = ReportDraft(userid, village, day, rng.choice(ACTIVITIES), rng.randrange(8, 60), task,
                                        f"报送 {day} {village}", f"demo-{n}")
                    created = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=3)
                    report, _ = create_report(session, draft, now=created)
                    if rng.random() < 0.06:
                        withdraw_report(session, report, by=userid, now=created + timedelta(hours=1))
                    if rng.random() < 0.2:
                        path = photos / f"demo-{n}.png"
                        path.write_bytes(png(96, 64, (rng.randrange(90, 230), rng.randrange(90, 200), 120)))
                        session.add(ReportPhoto(report_id=report.id, media_id=f"m{n}", msg_key=f"demo-photo-{n}",
                                                status="fetched", path=str(path), content_type="image/png",
                                                size=path.stat().st_size, attempts=1, created_at=created,
                                                fetched_at=created))
        for i, q in enumerate(QUESTIONS):
            session.add(UnansweredQuestion(userid=ROSTER[i % len(ROSTER)][0], question=q, best_score=0.3,
                                           created_at=services.clock.now() - timedelta(hours=i)))
        session.add(AnswerFeedback(userid="li", question="统战信息每月报几篇", doc="工作要点", section="",
                                   answer_text="每月至少报送3篇工作动态信息", helpful=True))


def build_demo(root: Path, *, clock: Any = None, sender: Any = None, **overrides: Any):  # noqa: ANN201
    """Services of a seeded demo office (SQLite under `root`, in-process state, a fixed clock)."""
    from app.services import build_services
    from bot.clock import FixedClock
    from bot.state.memory import MemoryStateStore
    from bot.wecom.sender import LogSender

    root.mkdir(parents=True, exist_ok=True)
    services = build_services(demo_settings(root, **overrides), clock=clock or FixedClock(DEMO_NOW),
                              sender=sender or (None if "wecom" in overrides else LogSender()),
                              state=MemoryStateStore())
    seed_demo(services)
    return services


@dataclass
class LiveServer:
    """An ASGI app under uvicorn on a free 127.0.0.1 port, in a background thread."""

    app: Any
    url: str = ""
    _server: Any = None
    _thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
