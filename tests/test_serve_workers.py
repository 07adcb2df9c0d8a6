"""Several workers, fresh databases and crashes: `run.py serve` as real processes.

- the schema is migrated once, under a lock, before any worker starts (two workers on a fresh
  PostgreSQL database used to race on `alembic_version` and one crashed);
- on the embedded default a kill -9 keeps what a user is in the middle of and the recent dedupe
  keys (issue 11, item 12), because the state lives in the SQLite state file.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from bot.db.database import Database
from bot.db.models import InboundMessage, Report, ReportAudit
from bot.testing.wecom_double import CallbackBuilder, WeComDouble
from tests.helpers_serve import AES_KEY, CORP, TOKEN, Server, decrypt_reply
from tracking.roster import RosterRow, import_roster

QUESTION = "统战信息每个月要报几篇"
ANSWER_PART = "每月至少报送3篇"


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """An empty PostgreSQL database: nothing migrated yet."""
    from tests.conftest import _USED_BACKENDS, scratch_pg_database

    with scratch_pg_database("ztbot_fresh_") as url:
        _USED_BACKENDS.add("postgres")
        yield url


def _upgrade_at_barrier(url: str, barrier, out) -> None:  # noqa: ANN001 - multiprocessing objects
    db = Database(url)
    barrier.wait(timeout=60)
    try:
        db.upgrade()
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        out.put(f"{type(exc).__name__}: {exc}")
    finally:
        db.dispose()


def _race_upgrades(url: str, n: int = 3) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_upgrade_at_barrier, args=(url, barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return results


@pytest.mark.postgres
def test_concurrent_upgrades_of_a_fresh_postgres_database_all_succeed(fresh_pg_url: str) -> None:
    assert _race_upgrades(fresh_pg_url) == ["ok"] * 3
    db = Database(fresh_pg_url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    db.dispose()


def test_concurrent_upgrades_of_a_fresh_sqlite_file_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert _race_upgrades(url) == ["ok"] * 3
    db = Database(url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    db.dispose()


def _ask_on_many_connections(server: Server, wecom: CallbackBuilder, n: int) -> tuple[list[str], dict[int, int]]:
    """n clients, each on its own kept-alive connection, ask at once; then who holds which connection."""
    clients = [httpx.Client(base_url=server.base, timeout=20) for _ in range(n)]
    now = int(time.time())

    def ask(i: int) -> str:
        query, body = wecom.text(f"u{i}", QUESTION, uuid.uuid4().hex[:16], now)
        return decrypt_reply(clients[i].post("/wecom/callback", params=query, content=body))

    try:
        with ThreadPoolExecutor(n) as pool:
            replies = list(pool.map(ask, range(n)))
        return replies, server.connections_by_worker()
    finally:
        for c in clients:
            c.close()


@pytest.mark.postgres
def test_two_workers_on_a_fresh_postgres_database_both_serve(tmp_path: Path, fresh_pg_url: str) -> None:
    """Regression: both workers ran the migration at once and one crashed (UniqueViolation on alembic_version)."""
    wecom = CallbackBuilder(TOKEN, AES_KEY, CORP)
    with WeComDouble(corp_id=CORP) as api:
        server = Server(tmp_path / "pg", api, workers=2, DATABASE_URL=fresh_pg_url)
        try:
            server.start()
            workers = server.worker_pids()
            assert len(workers) == 2
            per_worker: dict[int, int] = {}
            for _ in range(4):  # the kernel hands connections to whichever worker accepts first
                replies, per_worker = _ask_on_many_connections(server, wecom, 24)
                assert all(ANSWER_PART in r for r in replies)
                if all(per_worker.get(pid, 0) > 0 for pid in workers):
                    break
            assert all(per_worker.get(pid, 0) > 0 for pid in workers), per_worker
            assert server.worker_pids() == workers  # none crashed and was respawned
        finally:
            assert server.stop() == 0
    log = server.log()
    assert "Traceback" not in log and "UniqueViolation" not in log
    assert log.count("Application startup complete") == 2


def _roster(url: str) -> None:
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        import_roster(s, [RosterRow(2, "li", "李四", "红山郡社区", "liaison", None)])
    db.dispose()


def _post(server: Server, query: dict[str, str], body: bytes) -> str:
    """The reply as the user sees it: the passive reply, or what went out through the send API
    (a reply with buttons goes out as a template card and the callback answers empty)."""
    before = len(server.api.sent_messages())
    response = httpx.post(server.base + "/wecom/callback", params=query, content=body, timeout=20)
    assert response.status_code == 200, response.text
    if response.text:
        return decrypt_reply(response)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sent = server.api.sent_messages()[before:]
        if sent:
            message = sent[-1]
            if message["msgtype"] == "text":
                return message["text"]["content"]
            card = message["template_card"]  # what the phone shows: the title, then the sub-title
            return "\n".join(filter(None, (card["main_title"]["title"], card.get("sub_title_text"))))
        time.sleep(0.05)
    return ""


def test_kill9_keeps_a_pending_follow_up(tmp_path: Path) -> None:
    """Regression (issue 11, item 12): after kill -9 the next message was taken as a question."""
    _roster(f"sqlite:///{tmp_path / 'home' / 'serve.db'}")
    wecom = CallbackBuilder(TOKEN, AES_KEY, CORP)
    now = int(time.time())
    with WeComDouble(corp_id=CORP) as api:
        server = Server(tmp_path / "home", api).start()
        try:
            asked = _post(server, *wecom.text("li", "报送", "7001", now))
            server.kill9()
            server.start()
            stored = _post(server, *wecom.text("li", "昨天在红山郡社区开展民族团结宣讲，40人参加 #动态信息", "7002", now))
        finally:
            server.stop()
    assert "报送" in asked
    assert "报送编号" in stored


def test_kill9_replayed_modify_writes_one_audit_row(tmp_path: Path) -> None:
    """Regression (issue 11, item 12): a 修改 replayed after kill -9 ran again and wrote a second audit row."""
    url = f"sqlite:///{tmp_path / 'home' / 'serve.db'}"
    _roster(url)
    wecom = CallbackBuilder(TOKEN, AES_KEY, CORP)
    now = int(time.time())
    with WeComDouble(corp_id=CORP) as api:
        server = Server(tmp_path / "home", api).start()
        try:
            _post(server, *wecom.text("li", "报送 昨天在红山郡社区开展民族团结宣讲，40人参加 #动态信息", "8001", now))
            modify = wecom.text("li", "修改 人数 45", "8002", now)
            first = _post(server, *modify)
            server.kill9()
            server.start()
            replayed = _post(server, *modify)
        finally:
            server.stop()
    db = Database(url)
    with db.session() as s:
        updates = s.scalar(select(func.count()).select_from(ReportAudit).where(ReportAudit.action == "update"))
        participants = s.scalar(select(Report.participants))
        logged = s.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.msg_key == "m:8002"))
    db.dispose()
    assert "45" in first and replayed == first
    assert updates == 1 and participants == 45
    assert logged <= 1
