"""`run.py serve` as a real process: encrypted callbacks over HTTP, health, shutdown, two servers at once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import xmltodict
from sqlalchemy import func, select
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.config import ROOT
from bot.db.database import Database
from bot.db.models import InboundMessage, Report
from bot.testing.wecom_double import CallbackBuilder, WeComDouble
from tracking.roster import RosterRow, import_roster

TOKEN, AES_KEY, CORP = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(tmp_path: Path, api: WeComDouble, **env_extra: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start `run.py serve` on a free port and wait until /healthz answers."""
    port = _free_port()
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / f"config-{port}.yaml"
    cfg.write_text(f"data_dir: {tmp_path / ('data-' + str(port))}\nlog_level: INFO\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL", "REDIS_URL"))}
    env.update({
        "BOT_CONFIG": str(cfg), "WECOM_CORP_ID": CORP, "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY,
        "WECOM_SECRET": api.secret, "WECOM_AGENT_ID": str(api.agent_id), "WECOM_API_BASE": api.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    })
    env.update(env_extra)
    log = open(tmp_path / f"serve-{port}.log", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "run.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"server did not start:\n{log.read()[-3000:]}")
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def _decrypt_reply(response: httpx.Response) -> str:
    """Decrypt a passive reply with wechatpy's own code, as WeCom would."""
    assert response.status_code == 200, response.text
    outer = xmltodict.parse(response.text)["xml"]
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP)
    inner = crypto.decrypt_message(response.text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
    return xmltodict.parse(inner)["xml"]["Content"]


def test_serve_answers_encrypted_question_end_to_end(tmp_path: Path) -> None:
    wecom = CallbackBuilder(TOKEN, AES_KEY, CORP)
    with WeComDouble(corp_id=CORP) as api, running_server(tmp_path, api) as (base, proc):
        health = httpx.get(base + "/healthz").json()
        assert health == {"status": "ok", "db": "ok", "redis": "not configured"}

        now = int(time.time())
        assert httpx.get(base + "/wecom/callback", params=wecom.verify_url("echo-123", now)).text == "echo-123"

        query, body = wecom.text("liaison1", "统战信息每个月要报几篇", "5001", now)
        first = _decrypt_reply(httpx.post(base + "/wecom/callback", params=query, content=body))
        assert "每月至少报送3篇" in first and "出处" in first
        retry = _decrypt_reply(httpx.post(base + "/wecom/callback", params=query, content=body))
        assert retry == first

        bad = dict(query, msg_signature="0" * 40)
        assert httpx.post(base + "/wecom/callback", params=bad, content=body).status_code == 403
        stale_query, stale_body = wecom.text("liaison1", "你好", "5002", now - 3600)
        assert httpx.post(base + "/wecom/callback", params=stale_query, content=stale_body).status_code == 403
        assert httpx.post(base + "/wecom/callback", params=query, content=b"x" * 70000).status_code == 413

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    log = next(tmp_path.glob("serve-*.log")).read_text(encoding="utf-8")
    assert "reminder scheduler started" in log
    db = Database(f"sqlite:///{tmp_path / 'serve.db'}")
    with db.session() as s:  # the write-behind log was flushed at shutdown: one row, not two, none refused
        keys = s.scalars(select(InboundMessage.msg_key)).all()
    db.dispose()
    assert keys == ["m:5001"]


@pytest.mark.postgres
@pytest.mark.redis
def test_two_servers_same_report_at_the_same_moment(tmp_path: Path, pg_url: str, redis_client) -> None:
    """Two `serve` processes on one PostgreSQL and Redis get the same report callback at once: one report."""
    from tests.conftest import _USED_BACKENDS

    _USED_BACKENDS.update({"postgres", "redis"})
    from tests.conftest import _truncate_all

    db = Database(pg_url)
    _truncate_all(db)
    with db.session() as s:
        import_roster(s, [RosterRow(2, "li", "李四", "红山郡社区", "liaison", None)])
    kwargs = redis_client.connection_pool.connection_kwargs
    redis_url = f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/14"
    import redis as redis_lib

    redis_lib.Redis.from_url(redis_url).flushdb()
    env = {"DATABASE_URL": pg_url, "REDIS_URL": redis_url}
    wecom = CallbackBuilder(TOKEN, AES_KEY, CORP)
    msg_id = str(uuid.uuid4().int)[:18]
    query, body = wecom.text("li", "报送 昨天在红山郡社区开展民族团结宣讲，40人参加 #动态信息", msg_id, int(time.time()))
    with WeComDouble(corp_id=CORP) as api, running_server(tmp_path / "a", api, **env) as (base_a, _), \
            running_server(tmp_path / "b", api, **env) as (base_b, _):
        barrier = threading.Barrier(2)
        replies: dict[str, str] = {}

        def post(name: str, base: str) -> None:
            barrier.wait()
            response = httpx.post(base + "/wecom/callback", params=query, content=body, timeout=10)
            # the confirmation has buttons (撤回, 没问题): it goes out as a card through the API, the body is empty
            replies[name] = _decrypt_reply(response) if response.content else ""

        threads = [threading.Thread(target=post, args=(n, b)) for n, b in (("a", base_a), ("b", base_b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (api.cards_to("li") or api.delivered_texts("li")):
            time.sleep(0.1)
        time.sleep(0.5)  # a second, wrong delivery would arrive now
        sent = [json.dumps(c, ensure_ascii=False) for c in api.cards_to("li")] + api.delivered_texts("li")
    with db.session() as s:
        reports = s.scalar(select(func.count()).select_from(Report).where(Report.userid == "li"))
        logged = s.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.msg_key == f"m:{msg_id}"))
    db.dispose()
    assert reports == 1
    assert logged == 1
    passive = {r for r in replies.values() if r}  # the twin gets the same passive reply, or none
    confirmations = [m for m in [*passive, *sent] if "报送编号" in m]
    assert len(passive) <= 1 and len(confirmations) == 1, (replies, sent)
