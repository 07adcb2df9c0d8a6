"""The HTTP callback end to end: verification, encrypted replies, every refusal with no change to state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xmltodict
from sqlalchemy import func, select
from starlette.testclient import TestClient

from app.services import build_services
from bot.clock import FixedClock
from bot.db.models import InboundMessage
from bot.dispatcher import Dispatcher, Router
from bot.filters import any_text
from bot.testing.wecom_double import CallbackBuilder
from bot.web.app import create_app
from bot.wecom.crypto import CallbackCrypto
from bot.wecom.sender import LogSender
from tests.conftest import make_settings

OFFICIAL = json.loads((Path(__file__).parent / "data" / "wecom" / "official_wxbizmsgcrypt.json").read_text("utf-8"))
TOKEN, AES_KEY, CORP = OFFICIAL["token"], OFFICIAL["encoding_aes_key"], OFFICIAL["corp_id"]
URL = "/wecom/callback"


def echo_router() -> Router:
    """Replies "收到：<text>" and counts each run in the state store (a visible side effect); "静" gets no reply."""
    router = Router("echo")

    @router.route(any_text)
    def echo(msg, ctx, **_: Any) -> str | None:  # noqa: ANN001
        ctx.state.incr("handler-runs", 600)
        return None if msg.text == "静" else f"收到：{msg.text}"

    return router


class Web:
    def __init__(self, client: TestClient, services: Any, clock: FixedClock) -> None:
        self.client, self.services, self.clock = client, services, clock
        self.wecom = CallbackBuilder(TOKEN, AES_KEY, CORP)

    @property
    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def post(self, query: dict[str, str], body: bytes, **kw: Any):  # noqa: ANN201
        return self.client.post(URL, params=query, content=body, **kw)

    def snapshot(self) -> tuple[int, list[str], str | None]:
        """(message-log rows, state keys, handler runs) once the processor's background work settled."""
        import time

        deadline = time.monotonic() + 3
        last = self._raw_snapshot()
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = self._raw_snapshot()
            if now == last:
                return now
            last = now
        return last

    def _raw_snapshot(self) -> tuple[int, list[str], str | None]:
        self.services.processor.message_log.flush()
        with self.services.db.session() as s:
            rows = s.scalar(select(func.count()).select_from(InboundMessage))
        return rows, sorted(self.services.state.keys("")), self.services.state.get("handler-runs")

    def decrypt(self, response) -> dict[str, str]:  # noqa: ANN001
        doc = xmltodict.parse(response.content)["xml"]
        crypto = CallbackCrypto(TOKEN, AES_KEY, CORP, 300, self.clock)
        inner = crypto.decrypt_message(response.content, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
        return xmltodict.parse(inner)["xml"]


def _web(tmp_path: Path, db, state, clock: FixedClock, **wecom: Any) -> Iterator[Web]:  # noqa: ANN001
    settings = make_settings(tmp_path, wecom={"token": TOKEN, "aes_key": AES_KEY, "corp_id": CORP, **wecom})
    services = build_services(settings, clock=clock, sender=LogSender(), db=db, state=state)
    services.dispatcher = Dispatcher(echo_router())
    with TestClient(create_app(services)) as client:
        yield Web(client, services, clock)
    services.close()


@pytest.fixture
def web(tmp_path: Path, db, state, clock: FixedClock) -> Iterator[Web]:  # noqa: ANN001
    """The app on every database (SQLite, PostgreSQL) and state store (memory, Redis)."""
    yield from _web(tmp_path, db, state, clock)


@pytest.fixture
def web_one(tmp_path: Path, sqlite_db, clock: FixedClock) -> Iterator[Web]:  # noqa: ANN001
    from bot.state.memory import MemoryStateStore

    yield from _web(tmp_path, sqlite_db, MemoryStateStore(), clock)


# ---------------------------------------------------------------- happy paths


def test_text_message_gets_an_encrypted_reply_that_decrypts(web: Web):
    r = web.post(*web.wecom.text("zhangsan", "宗教活动怎么报备？", "10001", web.now))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    reply = web.decrypt(r)
    assert reply["Content"] == "收到：宗教活动怎么报备？"
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == ("zhangsan", CORP, "text")
    assert web.snapshot()[0] == 1


def test_a_retry_gets_the_same_reply_without_running_twice(web: Web):
    query, body = web.wecom.text("lisi", "你好", "10002", web.now)
    first, again = web.post(query, body), web.post(query, body)
    assert web.decrypt(first)["Content"] == web.decrypt(again)["Content"] == "收到：你好"
    rows, _, runs = web.snapshot()
    assert (rows, runs) == (1, "1")


def test_no_reply_is_an_empty_200(web_one: Web):
    r = web_one.post(*web_one.wecom.text("u", "静", "10003", web_one.now))
    assert r.status_code == 200 and r.content == b""


def test_url_verification_with_the_official_vector(tmp_path: Path, sqlite_db):  # noqa: ANN001
    v = OFFICIAL["verify_url"]
    from datetime import datetime, timezone

    from bot.state.memory import MemoryStateStore

    clock = FixedClock(datetime.fromtimestamp(int(v["timestamp"]), timezone.utc))
    for web in _web(tmp_path, sqlite_db, MemoryStateStore(), clock):
        params = {k: v[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
        r = web.client.get(URL, params=params)
        assert r.status_code == 200 and r.content == v["expected_echo"].encode()
        assert r.headers["content-type"].startswith("text/plain")
        r = web.client.get(URL, params={**params, "nonce": "1"})
        assert r.status_code == 403 and v["expected_echo"] not in r.text


def test_url_verification_survives_an_unescaped_plus_in_echostr(web_one: Web):
    """Regression guard: a proxy that leaves "+" unescaped must not turn base64 into spaces and fail."""
    for i in range(40):  # find an echostr whose base64 contains "+"
        params = web_one.wecom.verify_url(f"echo-{i}", web_one.now)
        if "+" in params["echostr"]:
            break
    else:
        pytest.skip("no '+' in 40 random ciphertexts")
    raw_query = "&".join(f"{k}={v}" for k, v in params.items())  # "+" sent raw, not %2B
    r = web_one.client.get(f"{URL}?{raw_query}")
    assert r.status_code == 200 and r.text == f"echo-{i}"


def test_url_verification_refuses_a_stale_request(web_one: Web):
    params = web_one.wecom.verify_url("12345", web_one.now - 3600)
    assert web_one.client.get(URL, params=params).status_code == 403
    params = web_one.wecom.verify_url("12345", web_one.now)
    assert web_one.client.get(URL, params=params).text == "12345"


@pytest.mark.parametrize("drop", ["msg_signature", "timestamp", "nonce", "echostr"])
def test_url_verification_with_a_missing_parameter_is_400(web_one: Web, drop: str):
    params = web_one.wecom.verify_url("12345", web_one.now)
    r = web_one.client.get(URL, params={k: v for k, v in params.items() if k != drop})
    assert r.status_code == 400 and "12345" not in r.text


def test_healthz_reports_db_and_redis(web: Web):
    r = web.client.get("/healthz")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok" and body["db"] == "ok"
    assert "redis" in body


def test_unconfigured_callback_answers_503(tmp_path: Path, sqlite_db, clock: FixedClock):  # noqa: ANN001
    from bot.state.memory import MemoryStateStore

    settings = make_settings(tmp_path)
    services = build_services(settings, clock=clock, sender=LogSender(), db=sqlite_db, state=MemoryStateStore())
    try:
        with TestClient(create_app(services)) as client:
            q, body = CallbackBuilder(TOKEN, AES_KEY, CORP).text("u", "hi", "1", int(clock.now().timestamp()))
            assert client.post(URL, params=q, content=body).status_code == 503
            assert client.get(URL, params={"echostr": "x"}).status_code == 503
    finally:
        services.close()


# ---------------------------------------------------------------- refusals change nothing

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
                  b'<!ENTITY c "&b;&b;&b;&b;&b;&b;">]><xml><Encrypt>&c;</Encrypt></xml>')
XXE = b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>'


def _case(web: Web, name: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
    """(query, body, extra headers) for one kind of bad callback."""
    now = web.now
    q, body = web.wecom.text("attacker", "你好", f"bad-{name}", now)
    if name == "bad_signature":
        return {**q, "msg_signature": "0" * 40}, body, {}
    if name == "stale_timestamp":
        return web.wecom.text("attacker", "你好", "bad-stale", now - 301) + ({},)
    if name == "future_timestamp":
        return web.wecom.text("attacker", "你好", "bad-future", now + 301) + ({},)
    if name == "wrong_corp":
        other = CallbackBuilder(TOKEN, AES_KEY, "wwnotourcorp")
        return other.text("attacker", "你好", "bad-corp", now) + ({},)
    if name == "billion_laughs":
        return q, BILLION_LAUGHS, {}
    if name == "external_entity":
        return q, XXE, {}
    if name == "inner_bomb":
        inner = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><FromUserName>x</FromUserName>'
                 f'<MsgType>text</MsgType><Content>&a;</Content><MsgId>9</MsgId><CreateTime>{now}</CreateTime></xml>')
        return web.wecom.envelope(inner, now) + ({},)
    if name == "inner_missing_user":
        inner = f"<xml><MsgType>text</MsgType><Content>x</Content><MsgId>9</MsgId><CreateTime>{now}</CreateTime></xml>"
        return web.wecom.envelope(inner, now) + ({},)
    if name == "malformed_xml":
        return q, b"<xml><Encrypt>abc</xml>", {}
    if name == "not_xml":
        return q, b'{"Encrypt": "abc"}', {}
    if name == "oversized":
        return q, body + b" " * (web.services.settings.wecom.max_body_bytes + 1), {}
    if name == "oversized_declared":
        return q, body, {"content-length": str(10**9)}
    if name.startswith("missing_"):
        return {k: v for k, v in q.items() if k != name.removeprefix("missing_")}, body, {}
    raise AssertionError(name)


REFUSALS = {
    "bad_signature": 403, "stale_timestamp": 403, "future_timestamp": 403, "wrong_corp": 403,
    "billion_laughs": 400, "external_entity": 400, "inner_bomb": 400, "inner_missing_user": 400,
    "malformed_xml": 400, "not_xml": 400, "oversized": 413,
    "missing_msg_signature": 400, "missing_timestamp": 400, "missing_nonce": 400,
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refused_callbacks_change_nothing(web: Web, name: str):
    web.post(*web.wecom.text("someone", "先来一条", "ok-1", web.now))  # some state exists already
    before = web.snapshot()
    query, body, headers = _case(web, name)
    r = web.post(query, body, headers=headers)
    assert r.status_code == REFUSALS[name], r.text
    assert "收到" not in r.text
    assert web.snapshot() == before


def test_declared_oversized_body_is_refused_before_reading(web_one: Web):
    query, body, headers = _case(web_one, "oversized_declared")
    before = web_one.snapshot()
    r = web_one.post(query, body, headers=headers)
    assert r.status_code == 413 and web_one.snapshot() == before


def test_chunked_oversized_body_is_refused(web_one: Web):
    query, body = web_one.wecom.text("u", "x", "big", web_one.now)
    limit = web_one.services.settings.wecom.max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield body
        for _ in range(limit // 4096 + 2):
            yield b" " * 4096

    r = web_one.client.post(URL, params=query, content=chunks())
    assert r.status_code == 413
    assert web_one.snapshot()[0] == 0
