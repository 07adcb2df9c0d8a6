"""Fault injection under the real app: a Redis stall and stop, a PostgreSQL cut and freeze, the WeCom
API gone after a token was fetched (audit findings 4, 5, 9).

Redis is a private redis-server behind a TCP proxy (the shared one on 6379 is never touched);
PostgreSQL is the shared server reached through a TCP proxy that is cut or stalled. Outbound
calls go to the WeCom API double. After every test the logs and every table are searched for
the callback Token, the EncodingAESKey, the app Secret, the admin password and each access token
the double issued.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from app.services import build_services
from bot import texts
from bot.clock import FixedClock
from bot.db.database import Database
from bot.db.models import InboundMessage, Report
from bot.state.memory import MemoryStateStore
from bot.state.redis import RedisStateStore
from bot.testing.wecom_double import CallbackBuilder, WeComDouble
from bot.web.app import create_app
from tests.conftest import make_settings
from tests.helpers_faults import PrivateRedis, TcpProxy, assert_no_secrets, table_text
from tests.helpers_reports import seed, write_tasks
from tests.test_web_callback import AES_KEY, CORP, TOKEN

pytestmark = [pytest.mark.slow]
ADMIN_PASSWORD = "fault-admin-pw-7781"
REPORT = "报送 昨天在红山郡社区开展民族团结宣讲，40人参加"
QUESTION = "民族宗教工作有哪些要求？"


class Bot:
    """The app on given db/state, its WeCom double, and helpers to post callbacks."""

    def __init__(self, tmp_path: Path, db: Database, state: Any, clock: FixedClock, api: WeComDouble,
                 api_base: str | None = None) -> None:
        tasks = write_tasks(tmp_path)
        wecom = {"token": TOKEN, "aes_key": AES_KEY, **api.wecom_settings()}
        if api_base:
            wecom["api_base"] = api_base
        settings = make_settings(tmp_path, tasks_file=str(tasks), admin_password=ADMIN_PASSWORD, wecom=wecom)
        seed(db, tasks)
        self.api, self.clock, self.db = api, clock, db
        self.services = build_services(settings, clock=clock, db=db, state=state)
        self.services.retriever  # noqa: B018 - load the knowledge base before any fault
        self.client = TestClient(create_app(self.services))
        self.wecom = CallbackBuilder(TOKEN, AES_KEY, CORP)
        self._ids = iter(range(71000, 79999))

    def send(self, user: str, text: str) -> tuple[int, float, str | None]:
        """(status, seconds, passive reply text) for one text message."""
        now = int(self.clock.now().timestamp())
        query, body = self.wecom.text(user, text, str(next(self._ids)), now)
        started = time.monotonic()
        r = self.client.post("/wecom/callback", params=query, content=body)
        elapsed = time.monotonic() - started
        reply = None
        if r.status_code == 200 and r.content:
            import xmltodict

            from bot.wecom.crypto import CallbackCrypto

            doc = xmltodict.parse(r.content)["xml"]
            crypto = CallbackCrypto(TOKEN, AES_KEY, CORP, 300, self.clock)
            inner = crypto.decrypt_message(r.content, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
            reply = xmltodict.parse(inner)["xml"]["Content"]
        return r.status_code, elapsed, reply

    def heard(self, user: str, within_s: float = 10.0) -> list[str]:
        """What `user` received through the send API, waiting up to `within_s` for something."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline and not self.api.texts_to(user):
            time.sleep(0.05)
        return self.api.texts_to(user)

    def logged(self) -> int:
        self.services.processor.message_log.flush()
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(InboundMessage))

    def reports(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(Report))

    def secrets(self) -> list[str]:
        issued = {c.query["access_token"] for c in self.api.calls if "access_token" in c.query}
        assert issued, "the bot never called the API: the token check would be empty"
        return [TOKEN, AES_KEY, self.api.secret, ADMIN_PASSWORD, *issued]

    def close(self) -> None:
        self.client.close()
        self.services.close()


@pytest.fixture
def api() -> Iterator[WeComDouble]:
    with WeComDouble(corp_id=CORP) as double:
        yield double


@pytest.fixture
def redis_behind_proxy() -> Iterator[tuple[PrivateRedis, TcpProxy]]:
    server = PrivateRedis().start()
    proxy = TcpProxy("127.0.0.1", server.port)
    yield server, proxy
    proxy.close()
    server.close()


@pytest.mark.redis
def test_redis_stall_dropped_a_report_silently(tmp_path, sqlite_db, clock, api, redis_behind_proxy, caplog) -> None:
    from tests.conftest import _USED_BACKENDS

    _USED_BACKENDS.add("redis")
    server, proxy = redis_behind_proxy
    state = RedisStateStore.from_url(f"redis://127.0.0.1:{proxy.port}/0", prefix="ztbot-fault:")
    bot = Bot(tmp_path, sqlite_db, state, clock, api)
    try:
        assert bot.send("wang", "你好")[0] == 200  # healthy first: a token is fetched, state is used
        proxy.stall()
        status, elapsed, reply = bot.send("li", REPORT)
        assert status == 200 and elapsed < 3
        told = reply or "\n".join(bot.heard("li"))
        assert texts.STATE_DOWN in told, "the user must hear that the report was not taken"
        status, _, reply = bot.send("wang", QUESTION)
        answer = reply or bot.heard("wang")[-1]
        assert status == 200 and answer and texts.STATE_DOWN not in answer  # questions need no shared state
        proxy.restore()
        assert bot.logged() == 3  # every message logged, stall or not
        status, _, reply = bot.send("li", REPORT.replace("昨天", "今天"))
        assert status == 200 and bot.reports() == 1
        assert_no_secrets(bot.secrets(), caplog.text, table_text(sqlite_db))
    finally:
        bot.close()


@pytest.mark.redis
def test_redis_stopped_questions_unanswered_and_unlogged(tmp_path, sqlite_db, clock, api, redis_behind_proxy,
                                                         caplog) -> None:
    server, proxy = redis_behind_proxy
    state = RedisStateStore.from_url(f"redis://127.0.0.1:{proxy.port}/0", prefix="ztbot-fault:")
    bot = Bot(tmp_path, sqlite_db, state, clock, api)
    try:
        assert bot.send("wang", "你好")[0] == 200
        assert bot.services.sender.send_text(["wang"], "令牌")  # an access token exists to leak
        server.stop()
        codes = []
        for text in (QUESTION, "帮助", REPORT):
            status, _, reply = bot.send("li", text)
            codes.append(status)
            heard = reply or (bot.heard("li", 5) or [""])[-1]
            if text == REPORT:
                assert heard == texts.STATE_DOWN
            else:
                assert heard and heard != texts.STATE_DOWN, text
        assert codes == [200, 200, 200]
        assert bot.logged() == 4 and bot.reports() == 0
        server.start()
        deadline = time.monotonic() + 10
        while not state.ping() and time.monotonic() < deadline:
            time.sleep(0.1)
        bot.send("li", REPORT)
        assert bot.reports() == 1
        assert_no_secrets(bot.secrets(), caplog.text, table_text(sqlite_db))
    finally:
        bot.close()


@pytest.fixture
def pg_behind_proxy(pg_url: str) -> Iterator[tuple[Database, TcpProxy]]:
    from tests.conftest import _USED_BACKENDS

    _USED_BACKENDS.add("postgres")
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    db = Database(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    from tests.conftest import _truncate_all

    _truncate_all(db)
    yield db, proxy
    proxy.close()
    db.dispose()


@pytest.mark.postgres
def test_postgres_cut_answers_500_and_loses_log_rows(tmp_path, pg_behind_proxy, clock, api, caplog) -> None:
    db, proxy = pg_behind_proxy
    bot = Bot(tmp_path, db, MemoryStateStore(), clock, api)
    try:
        assert bot.send("wang", "你好")[0] == 200
        assert bot.services.sender.send_text(["wang"], "令牌")  # an access token exists to leak
        proxy.cut()
        results = [bot.send("li", QUESTION), bot.send("wang", "帮助"), bot.send("li", REPORT)]
        assert [s for s, _, _ in results] == [200, 200, 200]
        assert all(r or bot.heard(u, 5) for (_, _, r), u in zip(results, ("li", "wang", "li"), strict=True))
        proxy.restore()
        deadline = time.monotonic() + 15
        while bot.logged() < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert bot.logged() == 4  # queued through the cut, written once after it
        assert_no_secrets(bot.secrets(), caplog.text, table_text(db))
    finally:
        proxy.restore()
        bot.close()


@pytest.mark.postgres
def test_healthz_hangs_on_a_frozen_postgres_connection(tmp_path, pg_behind_proxy, clock, api) -> None:
    db, proxy = pg_behind_proxy
    bot = Bot(tmp_path, db, MemoryStateStore(), clock, api)
    try:
        assert bot.client.get("/healthz").status_code == 200
        proxy.stall()
        for _ in range(3):  # repeated polls do not pile up threads on the frozen connection
            started = time.monotonic()
            r = bot.client.get("/healthz")
            assert r.status_code == 503 and time.monotonic() - started < 1.5
            assert r.json()["status"] == "degraded"
        proxy.restore()
        deadline = time.monotonic() + 10
        while bot.client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert bot.client.get("/healthz").status_code == 200
    finally:
        proxy.restore()
        bot.close()


def test_access_token_in_logs_and_stored_rows_after_api_went_away(tmp_path, sqlite_db, clock, api, caplog) -> None:
    from datetime import timedelta

    from scheduler.engine import ReminderEngine

    proxy = TcpProxy("127.0.0.1", api.port)
    bot = Bot(tmp_path, sqlite_db, MemoryStateStore(), clock, api, api_base=f"http://127.0.0.1:{proxy.port}/cgi-bin/")
    try:
        assert bot.send("wang", "你好")[0] == 200
        assert bot.services.sender.send_text(["li"], "先取得令牌").ok  # a token is cached now
        secrets = bot.secrets()
        proxy.close()  # the API becomes unreachable (connection refused) after the token was fetched
        result = bot.services.sender.send_text(["li"], "这条发不出去")
        assert not result.ok
        engine = ReminderEngine(bot.services, backoff_s=0.0)
        bot.clock.advance(days=3)  # a reminder stage is due: the pass tries, fails, stores the error
        report = engine.run_pass(bot.clock.now() + timedelta(hours=0))
        assert any(c.status == "failed" for c in report.candidates)
        assert_no_secrets(secrets, caplog.text, table_text(sqlite_db), result.errmsg)
    finally:
        bot.close()


def test_slow_uploads_held_open_without_a_timeout(tmp_path, sqlite_db, clock, api) -> None:
    """A body that never finishes arriving is cut off (408) instead of holding the connection."""
    import socket
    import threading

    import uvicorn

    bot = Bot(tmp_path, sqlite_db, MemoryStateStore(), clock, api)
    w = bot.services.settings.wecom
    from dataclasses import replace

    bot.services.settings = replace(bot.services.settings, wecom=replace(w, body_timeout_s=0.5, max_body_reads=2))
    app = create_app(bot.services)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        slow = []
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(b"POST /wecom/callback?msg_signature=a&timestamp=1&nonce=n HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 5000\r\n\r\n<xml>")
            slow.append(c)
            time.sleep(0.05)
        answers = []
        for c in slow:
            started = time.monotonic()
            data = c.recv(4096)
            answers.append((data.split(b" ")[1] if data else b"", time.monotonic() - started))
            c.close()
        codes = sorted(code for code, _ in answers)
        assert codes == [b"408", b"408", b"503"], answers  # two read at once (then cut off), the third refused
        assert all(seconds < 2 for _, seconds in answers)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        bot.close()
