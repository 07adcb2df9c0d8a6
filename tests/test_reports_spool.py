"""A really unreachable database: reports go to the local spool and are written exactly once when it is back."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app.services import build_services
from bot.config import build_settings
from bot.db.database import Database
from bot.db.models import Base, Report
from bot.state.memory import MemoryStateStore
from bot.testing.chat import ChatDriver
from bot.wecom.sender import LogSender
from tests.helpers_reports import TcpProxy, closed_port, seed, write_tasks
from tracking import texts
from tracking.service import drain_spool, spool_of
from tracking.spool import ReportSpool


def _services(url: str, tmp_path: Path, clock):  # noqa: ANN202
    settings = build_settings({"database_url": url, "data_dir": str(tmp_path / "data"),
                               "tasks_file": str(write_tasks(tmp_path))})
    db = Database(url)
    return build_services(settings, clock=clock, sender=LogSender(), db=db, state=MemoryStateStore())


def _count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Report.id)))


def _wait(predicate, timeout: float = 10.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def pg_proxy(pg_url: str):  # noqa: ANN201
    """PostgreSQL behind a TCP proxy we can cut: (proxied url, proxy), on a truncated database."""
    direct = Database(pg_url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with direct.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    direct.dispose()
    url = make_url(pg_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    yield url.set(port=proxy.port).render_as_string(hide_password=False), proxy
    proxy.stop()


@pytest.mark.postgres
def test_outage_spools_and_drain_writes_each_report_once(pg_proxy, tmp_path, clock) -> None:
    url, proxy = pg_proxy
    services = _services(url, tmp_path, clock)
    try:
        seed(services.db, Path(services.settings.tasks_file))
        chat = ChatDriver(services)
        assert "报送编号 1" in chat.send("li", "报送 昨天开展宣讲，40人参加")

        proxy.stop()  # the database is now really unreachable
        assert chat.send("li", "报送 今天在红山郡社区开展走访，12人", msg_id="down-1") == texts.SPOOLED
        assert chat.send("li", "报送 今天在红山郡社区开展走访，12人", msg_id="down-1") == texts.SPOOLED  # retry
        assert chat.send("stranger", "报送 今天开展宣讲", msg_id="down-2") == texts.SPOOLED
        assert chat.send("li", "进度") == texts.DB_DOWN
        spool = spool_of(services)
        assert [r["source_msg_key"] for r in spool.pending()] == ["m:down-1", "m:down-2"]
        still_down = drain_spool(services)
        assert still_down.written == [] and still_down.left == 2 and still_down.error

        # a new process would find the same spool on disk
        assert len(ReportSpool(services.settings.data_dir).pending()) == 2

        proxy.start()  # the database is back
        result = drain_spool(services)
        assert result.written == ["m:down-1"] and result.rejected == ["m:down-2"] and result.left == 0
        with services.db.session() as s:
            r = s.scalar(select(Report).where(Report.source_msg_key == "m:down-1"))
            assert (r.village, r.participants, r.activity_date.isoformat(), r.task.key) == (
                "红山郡社区", 12, "2026-11-20", "info")
        assert _count(services.db) == 2
        assert any("暂存的报送已记录" in t for t in services.sender.texts_to("li"))
        rejected = (Path(services.settings.data_dir) / "spool" / "reports.rejected.jsonl").read_text("utf-8")
        assert "m:down-2" in rejected

        # a crash between writing and trimming the spool leaves the record behind: still written once
        spool.append({"source_msg_key": "m:down-1", "userid": "li", "text": "今天开展走访", "today": "2026-11-20"})
        assert drain_spool(services).written == ["m:down-1"]
        assert _count(services.db) == 2 and not spool.has_pending()
    finally:
        services.close()


@pytest.mark.postgres
def test_spool_drains_on_next_db_use_and_periodically(pg_proxy, tmp_path, clock) -> None:
    url, proxy = pg_proxy
    services = _services(url, tmp_path, clock)
    services.extras["report_spool_interval_s"] = 0.2
    try:
        seed(services.db, Path(services.settings.tasks_file))
        chat = ChatDriver(services)
        proxy.stop()
        assert chat.send("li", "报送 今天开展宣讲") == texts.SPOOLED
        # a report answered with a follow-up question before the outage is also kept
        proxy.start()
        assert chat.send("wang", "报送 今天 40人") == texts.ASK_ACTIVITY
        proxy.stop()
        assert chat.send("wang", "在村里开展宣讲") == texts.SPOOLED
        assert len(spool_of(services).pending()) == 2
        proxy.start()
        # nobody writes anything: the periodic drainer alone brings both in
        assert _wait(lambda: not spool_of(services).has_pending())
        assert _count(services.db) == 2
        with services.db.session() as s:
            wang = s.scalar(select(Report).where(Report.userid == "wang"))
            assert wang.participants == 40 and "宣讲" in wang.activity

        proxy.stop()
        assert chat.send("li", "报送 今天开展走访") == texts.SPOOLED
        services.extras["report_spool_interval_s"] = 3600  # a new drainer would wait: only "next use" helps
        services.extras["report_spool_drainer"].join(timeout=5)
        proxy.start()
        assert "报送编号" in chat.send("wang", "报送 今天开展座谈")
        assert _wait(lambda: _count(services.db) == 4)
    finally:
        services.close()


def test_closed_port_database_spools_and_commands_answer_politely(tmp_path, clock) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nowhere"
    services = _services(url, tmp_path, clock)
    try:
        chat = ChatDriver(services)
        assert chat.send("li", "报送 今天开展宣讲，40人参加") == texts.SPOOLED
        for command in ("进度", "我的报送", "撤回", "修改 1 人数 3"):
            assert chat.send("li", command) == texts.DB_DOWN
        [line] = (Path(services.settings.data_dir) / "spool" / "reports.jsonl").read_text("utf-8").splitlines()
        record = json.loads(line)
        assert (record["userid"], record["text"], record["today"]) == ("li", "今天开展宣讲，40人参加", "2026-11-20")
    finally:
        services.close()
