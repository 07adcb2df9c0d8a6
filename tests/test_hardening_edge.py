"""Audit findings 1 and 7: over-long rows no longer stop the message log; odd fields answer 400.

Named after the defects. Before the fix, a `view` event's URL made a 237-char dedupe key that
PostgreSQL refused, the whole write-behind batch was retried forever and every later message
queued behind it; a 4,301-digit CreateTime or AgentID "²" passed the parser and ended in a 500.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.db.models import InboundMessage, UnansweredQuestion
from bot.write_behind import WriteBehind
from tests.test_web_callback import AES_KEY, CORP, TOKEN, Web, _web


@pytest.fixture
def web(tmp_path: Path, db, state, clock: FixedClock) -> Iterator[Web]:  # noqa: ANN001
    yield from _web(tmp_path, db, state, clock)


@pytest.fixture
def web_one(tmp_path: Path, sqlite_db, clock: FixedClock) -> Iterator[Web]:  # noqa: ANN001
    from bot.state.memory import MemoryStateStore

    yield from _web(tmp_path, sqlite_db, MemoryStateStore(), clock)


def _logged(web: Web) -> int:
    web.services.processor.message_log.flush()
    with web.services.db.session() as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


def test_view_event_with_long_url_stopped_the_message_log_for_good(web: Web) -> None:
    url = "https://example.gov.cn/notice?" + "&".join(f"p{i}=v{i}" for i in range(30))
    assert len(url) > 200
    r = web.post(*web.wecom.event("zhangsan", "view", web.now, event_key=url))
    assert r.status_code == 200
    for i in range(30):
        assert web.post(*web.wecom.text("lisi", f"第{i}条", f"2000{i}", web.now)).status_code == 200
    assert _logged(web) == 31  # the view event and everything after it
    with web.services.db.session() as s:
        keys = [k for (k,) in s.execute(select(InboundMessage.msg_key))]
    assert all(len(k) <= 160 for k in keys)
    assert web.services.processor.message_log.rejected == type(web.services.processor.message_log.rejected)()


def test_one_refused_row_blocked_every_later_row_of_the_write_behind(db) -> None:  # noqa: ANN001
    log = WriteBehind(db, InboundMessage, unique="msg_key", flush_interval_s=10, name="t")
    try:
        now = datetime.now(timezone.utc)
        log.add({"msg_key": "bad", "userid": "u", "msg_type": "text", "content": "x", "received_at": "not a date"})
        for i in range(300):
            log.add({"msg_key": f"m:{i}", "userid": "u", "msg_type": "text", "content": str(i), "received_at": now})
        assert log.flush() is True  # not "kept for retry" forever
        assert log.flush() is True
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(InboundMessage)) == 300
        assert len(log.rejected) == 1 and log.rejected[0][0]["msg_key"] == "bad"
    finally:
        log.close()


def test_over_long_values_refused_by_postgres_in_unanswered_questions(db) -> None:  # noqa: ANN001
    review = WriteBehind(db, UnansweredQuestion, flush_interval_s=10, name="t")
    msg_log = WriteBehind(db, InboundMessage, unique="msg_key", flush_interval_s=10, name="t2")
    try:
        review.add({"userid": "u" * 65, "question": "问" * 3000, "created_at": datetime.now(timezone.utc)})
        long_key = "e:" + "k" * 300
        msg_log.add({"msg_key": long_key, "userid": "v" * 80, "msg_type": "event:" + "x" * 40, "content": "",
                     "received_at": datetime.now(timezone.utc)})
        msg_log.add({"msg_key": long_key, "userid": "v", "msg_type": "text", "content": "",
                     "received_at": datetime.now(timezone.utc)})  # same long key: hashed the same, stored once
        assert review.flush() and msg_log.flush()
        with db.session() as s:
            (userid,) = s.execute(select(UnansweredQuestion.userid)).one()
            keys = [k for (k,) in s.execute(select(InboundMessage.msg_key))]
        assert userid == "u" * 64
        assert len(keys) == 1 and len(keys[0]) <= 160 and keys[0] != long_key[:160]
        assert not review.rejected and not msg_log.rejected
    finally:
        review.close()
        msg_log.close()


def _inner(now: int, **fields: str) -> str:
    base = {"ToUserName": CORP, "FromUserName": "zhangsan", "CreateTime": str(now), "MsgType": "text",
            "Content": "你好", "MsgId": "31001", "AgentID": "1000002"}
    base.update(fields)
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in base.items() if v is not None) + "</xml>"


ODD_FIELDS = {
    "create_time_4301_digits": {"CreateTime": "1" * 4301},
    "create_time_superscript": {"CreateTime": "¹⁷"},
    "agent_id_superscript_two": {"AgentID": "²"},
    "agent_id_5000_digits": {"AgentID": "7" * 5000},
    "blank_msg_type": {"MsgType": ""},
    "space_msg_type": {"MsgType": "  "},
    "msg_type_with_markup_chars": {"MsgType": "te<x>t"},
    "userid_65_chars": {"FromUserName": "a" * 65},
    "userid_with_spaces_inside": {"FromUserName": "a b"},
    "msg_id_5000_chars": {"MsgId": "9" * 5000},
    "event_without_event_name": {"MsgType": "event", "Content": None},
}


@pytest.mark.parametrize("case", sorted(ODD_FIELDS))
def test_valid_crypto_odd_fields_answered_500(web: Web, case: str) -> None:
    web.post(*web.wecom.text("someone", "先来一条", "ok-1", web.now))
    before = web.snapshot()
    r = web.post(*web.wecom.envelope(_inner(web.now, **ODD_FIELDS[case]), web.now))
    assert r.status_code == 400, r.text
    assert web.snapshot() == before


def _envelope_with_padding(web: Web, pad_bytes: bytes | None) -> tuple[dict[str, str], bytes]:
    """An envelope signed correctly around a plaintext with the given tail (None: proper PKCS#7)."""
    from wechatpy.crypto import _get_signature

    key = base64.b64decode(AES_KEY + "=")
    xml = _inner(web.now).encode()
    plain = os.urandom(16) + struct.pack(">I", len(xml)) + xml + CORP.encode()
    if pad_bytes is None:
        count = 32 - len(plain) % 32
        plain += bytes([count]) * count
    else:
        plain += b"\x00" * ((-len(plain) - len(pad_bytes)) % 32) + pad_bytes
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypt = base64.b64encode(enc.update(plain) + enc.finalize()).decode()
    nonce, ts = "n1", str(web.now)
    body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return {"msg_signature": _get_signature(TOKEN, ts, nonce, encrypt), "timestamp": ts, "nonce": nonce}, body.encode()


@pytest.mark.parametrize("pad", [b"\x00", b"\x21", b"\x05\x05\x04\x05\x05"], ids=["zero", "over_32", "uneven"])
def test_padding_errors_answered_403_instead_of_400(web_one: Web, pad: bytes) -> None:
    before = web_one.snapshot()
    r = web_one.post(*_envelope_with_padding(web_one, pad))
    assert r.status_code == 400
    assert web_one.snapshot() == before


def test_good_padding_still_accepted_by_the_strict_unpad(web_one: Web) -> None:
    r = web_one.post(*_envelope_with_padding(web_one, None))
    assert r.status_code == 200 and web_one.decrypt(r)["Content"] == "收到：你好"
