"""Callback crypto: Tencent's official WXBizMsgCrypt vectors and wechatpy's, both directions, and refusals."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import xmltodict
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.clock import FixedClock
from bot.wecom.crypto import CallbackCrypto, SecurePrpCrypto
from bot.wecom.errors import BadSignature, MalformedCallback, StaleTimestamp, WrongCorp

DATA = Path(__file__).parent / "data" / "wecom"
OFFICIAL = json.loads((DATA / "official_wxbizmsgcrypt.json").read_text(encoding="utf-8"))
WECHATPY = json.loads((DATA / "wechatpy_vectors.json").read_text(encoding="utf-8"))


def at(ts: str | int) -> FixedClock:
    return FixedClock(datetime.fromtimestamp(int(ts), timezone.utc))


def crypto_for(v: dict, ts: str | int, **kw) -> CallbackCrypto:
    return CallbackCrypto(v["token"], v["encoding_aes_key"], v["corp_id"], 300, at(ts), **kw)


class FixedPrefix(SecurePrpCrypto):
    def __init__(self, key: bytes, prefix: str) -> None:
        super().__init__(key)
        self.prefix = prefix

    def get_random_string(self) -> str:
        return self.prefix


# ---------------------------------------------------------------- official vectors


def test_official_url_verification_returns_the_plain_echo():
    v = OFFICIAL["verify_url"]
    c = crypto_for(OFFICIAL, v["timestamp"])
    assert c.verify_url(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"]) == v["expected_echo"]


def test_official_message_decrypts_to_the_expected_fields():
    v = OFFICIAL["decrypt_message"]
    c = crypto_for(OFFICIAL, v["timestamp"])
    inner = c.decrypt_message(v["body"].encode(), v["msg_signature"], v["timestamp"], v["nonce"])
    fields = xmltodict.parse(inner)["xml"]
    for key, value in v["expected_fields"].items():
        assert fields[key] == value


def test_official_reply_encrypts_so_that_wechatpy_decrypts_it():
    """Our envelope -> wechatpy's decryptor (an independent implementation of the same scheme)."""
    v = OFFICIAL["encrypt_reply"]
    c = crypto_for(OFFICIAL, v["timestamp"])
    envelope = c.encrypt_reply(v["plain"], nonce=v["nonce"], timestamp=int(v["timestamp"]))
    doc = xmltodict.parse(envelope)["xml"]
    assert doc["TimeStamp"] == v["timestamp"] and doc["Nonce"] == v["nonce"]
    other = WeChatCrypto(OFFICIAL["token"], OFFICIAL["encoding_aes_key"], OFFICIAL["corp_id"])
    assert other.decrypt_message(envelope, doc["MsgSignature"], v["timestamp"], v["nonce"]) == v["plain"]
    # and back through our own decryptor (multi-byte text counts bytes, not characters)
    assert c.decrypt_message(envelope.encode(), doc["MsgSignature"], v["timestamp"], v["nonce"]).decode() == v["plain"]


# ---------------------------------------------------------------- wechatpy vectors


def test_wechatpy_check_signature_vector():
    v = WECHATPY["check_signature"]
    c = crypto_for(WECHATPY, v["timestamp"])
    echo = c.verify_url(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"])
    assert echo and echo.isprintable()
    with pytest.raises(BadSignature):
        c.verify_url(v["msg_signature"], v["timestamp"], v["wrong_nonce"], v["echostr"])


def test_wechatpy_encrypt_vector_is_reproduced_byte_for_byte():
    v = WECHATPY["encrypt_message"]
    import base64

    key = base64.b64decode(WECHATPY["encoding_aes_key"] + "=")
    c = crypto_for(WECHATPY, v["timestamp"], prp=FixedPrefix(key, v["random_prefix"]))
    assert c.encrypt_reply(v["plain"], nonce=v["nonce"], timestamp=int(v["timestamp"])) == v["expected"]


def test_wechatpy_decrypt_vector():
    v = WECHATPY["decrypt_message"]
    c = crypto_for(WECHATPY, v["timestamp"])
    inner = c.decrypt_message(v["body"].encode(), v["msg_signature"], v["timestamp"], v["nonce"])
    fields = xmltodict.parse(inner)["xml"]
    for key, value in v["expected_fields"].items():
        assert fields[key] == value


# ---------------------------------------------------------------- refusals


def _valid(c: CallbackCrypto, ts: int, plain: str = "<xml><FromUserName>u</FromUserName></xml>"):
    envelope = xmltodict.parse(c.encrypt_reply(plain, nonce="n1", timestamp=ts))["xml"]
    body = f"<xml><ToUserName><![CDATA[{c.corp_id}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    return body.encode(), envelope["MsgSignature"], str(ts), "n1"


def test_bad_signature_is_refused_in_constant_time_path():
    c = crypto_for(OFFICIAL, 1_800_000_000)
    body, sig, ts, nonce = _valid(c, 1_800_000_000)
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    for bad in (flipped, sig.upper(), sig[:-1], "", "签名" * 20):
        with pytest.raises((BadSignature, MalformedCallback)):
            c.decrypt_message(body, bad, ts, nonce)
    with pytest.raises(BadSignature):
        c.decrypt_message(body, sig, ts, "other-nonce")


@pytest.mark.parametrize("offset", [-301, 301, -86400, 10**6])
def test_stale_or_future_timestamp_is_refused(offset: int):
    now = 1_800_000_000
    c = crypto_for(OFFICIAL, now)
    body, sig, ts, nonce = _valid(CallbackCrypto(OFFICIAL["token"], OFFICIAL["encoding_aes_key"],
                                                 OFFICIAL["corp_id"], 10**9, at(now)), now + offset)
    with pytest.raises(StaleTimestamp):
        c.decrypt_message(body, sig, ts, nonce)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamp_at_the_window_edges_is_accepted(offset: int):
    now = 1_800_000_000
    c = crypto_for(OFFICIAL, now)
    body, sig, ts, nonce = _valid(c, now + offset)
    assert c.decrypt_message(body, sig, ts, nonce).startswith(b"<xml>")


def test_official_url_vector_is_stale_today():
    """The 2014 sample must not pass the replay window against the real clock."""
    v = OFFICIAL["verify_url"]
    c = CallbackCrypto(OFFICIAL["token"], OFFICIAL["encoding_aes_key"], OFFICIAL["corp_id"], 300)
    with pytest.raises(StaleTimestamp):
        c.verify_url(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"])


def test_wrong_corp_id_is_refused():
    now = 1_800_000_000
    other = CallbackCrypto(OFFICIAL["token"], OFFICIAL["encoding_aes_key"], "wwsomeoneelse", 300, at(now))
    body, sig, ts, nonce = _valid(other, now)
    with pytest.raises(WrongCorp):
        crypto_for(OFFICIAL, now).decrypt_message(body, sig, ts, nonce)


@pytest.mark.parametrize("timestamp", [None, "", "abc", "１２３", "1e9", "-5", "9" * 20])
def test_missing_or_non_numeric_timestamp_is_malformed(timestamp):
    c = crypto_for(OFFICIAL, 1_800_000_000)
    body, sig, _, nonce = _valid(c, 1_800_000_000)
    with pytest.raises(MalformedCallback):
        c.decrypt_message(body, sig, timestamp, nonce)


def test_missing_signature_or_nonce_is_malformed():
    c = crypto_for(OFFICIAL, 1_800_000_000)
    body, sig, ts, nonce = _valid(c, 1_800_000_000)
    with pytest.raises(MalformedCallback):
        c.decrypt_message(body, None, ts, nonce)
    with pytest.raises(MalformedCallback):
        c.decrypt_message(body, sig, ts, None)


@pytest.mark.parametrize("encrypt", ["not base64 at all!", "QUJD", "A" * 30, "AAAA" * 8])
def test_signed_but_undecryptable_ciphertext_is_malformed(encrypt: str):
    """A correctly signed Encrypt that is not valid ciphertext must not escape as a raw exception."""
    now = 1_800_000_000
    c = crypto_for(OFFICIAL, now)
    sig = _get_signature(OFFICIAL["token"], str(now), "n", encrypt)
    body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
    with pytest.raises(MalformedCallback):
        c.decrypt_message(body, sig, str(now), "n")


def test_envelope_without_encrypt_is_malformed():
    c = crypto_for(OFFICIAL, 1_800_000_000)
    with pytest.raises(MalformedCallback):
        c.decrypt_message(b"<xml><ToUserName>x</ToUserName></xml>", "s", "1800000000", "n")


def test_decrypted_inner_xml_with_a_doctype_is_refused():
    now = 1_800_000_000
    c = crypto_for(OFFICIAL, now)
    bomb = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]><xml><Content>&a;</Content></xml>'
    body, sig, ts, nonce = _valid(c, now, bomb)
    with pytest.raises(MalformedCallback):
        c.decrypt_message(body, sig, ts, nonce)


@pytest.mark.parametrize("key", ["short", "=" * 43, "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2"])
def test_invalid_aes_key_is_refused_at_construction(key: str):
    with pytest.raises(ValueError):
        CallbackCrypto("t", key, "corp")


def test_encryption_uses_a_fresh_random_prefix_each_time():
    c = crypto_for(OFFICIAL, 1_800_000_000)
    a = c.encrypt_reply("<xml/>", nonce="n", timestamp=1)
    b = c.encrypt_reply("<xml/>", nonce="n", timestamp=1)
    assert a != b


def test_random_pool_never_repeats_and_refills_after_a_fork(monkeypatch):
    from bot.wecom import crypto as crypto_mod

    pool = crypto_mod.RandomPool(block=64)
    draws = [pool.take(8) for _ in range(50)]  # crosses several refills
    assert len(set(draws)) == 50 and all(len(d) == 8 for d in draws)
    before = pool.take(8)
    monkeypatch.setattr(crypto_mod.os, "getpid", lambda: -1)  # as if in a forked child
    monkeypatch.setattr(crypto_mod.os, "urandom", lambda n: b"\x01" * n)
    assert pool.take(8) == b"\x01" * 8 != before
