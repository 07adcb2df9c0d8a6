"""Storage set-up: migrations match the models, SQLite runs in WAL mode, the message log survives an outage."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.config import ROOT
from bot.db.database import Database
from bot.db.models import Base, InboundMessage
from bot.message_log import MessageLog
from bot.messages import IncomingMessage
from tests.helpers_reports import TcpProxy


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_uses_wal_and_a_busy_timeout(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_first_run_creates_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'bot.db'}"
    proc = subprocess.run([sys.executable, "run.py", "db", "upgrade"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "HOME": str(tmp_path)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    db = Database(url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.dispose()


def _count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


def test_message_log_writes_duplicates_once(db: Database) -> None:
    log = MessageLog(db, flush_interval_s=0.01)
    msg = IncomingMessage(user="u1", type="text", content="你好", msg_id="1")
    log.record(msg, "a")
    log.record(msg, "a")
    log.record(IncomingMessage(user="u1", type="event", event="enter_agent", create_time=5), None)
    assert log.flush()
    log.record(msg, "a")
    log.close()
    assert _count(db) == 2


@pytest.mark.postgres
def test_message_log_keeps_rows_through_a_database_outage(pg_url: str) -> None:
    target = make_url(pg_url)
    direct = Database(pg_url)
    from tests.conftest import _truncate_all

    _truncate_all(direct)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
    proxy.start()
    db = Database(target.set(port=proxy.port).render_as_string(hide_password=False))
    log = MessageLog(db, flush_interval_s=0.01)
    try:
        proxy.stop()
        log.record(IncomingMessage(user="u1", type="text", content="断网时", msg_id="outage-1"), "ok")
        assert log.flush() is False
        assert _count(direct) == 0
        proxy.start()
        deadline = time.monotonic() + 15
        while _count(direct) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _count(direct) == 1
    finally:
        log.close()
        proxy.stop()
        db.dispose()
        direct.dispose()
