"""XML safety, parsing decrypted callbacks into IncomingMessage, rendering passive replies."""

from __future__ import annotations

import pytest
import xmltodict
from hypothesis import given
from hypothesis import strategies as st

from bot.wecom.crypto import CallbackCrypto
from bot.wecom.errors import MalformedCallback
from bot.wecom.parse import parse_message
from bot.wecom.render import cdata, encrypted_text_reply, render_text_reply
from bot.wecom.texts import REPLY_TRUNCATED
from bot.wecom.xmlsafe import ensure_safe_xml, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><Content>&lol4;</Content></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><Content>&xxe;</Content></xml>"""
EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd"><xml><A>1</A></xml>'
PARAMETER_ENTITY = b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">%p;]><xml/>'
LOWERCASE = b'<!doctype xml [<!entity a "b">]><xml><A>&a;</A></xml>'
HIDDEN_AFTER_COMMENT = b'<!-- <![CDATA[ --><!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>'
UTF16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>'.encode("utf-16")


@pytest.mark.parametrize(
    "raw", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY, LOWERCASE, HIDDEN_AFTER_COMMENT, UTF16]
)
def test_declarations_are_refused_before_parsing(raw: bytes):
    with pytest.raises(MalformedCallback):
        ensure_safe_xml(raw)
    with pytest.raises(MalformedCallback):
        parse_xml(raw)


def test_xmltodict_pin_refuses_entity_declarations_on_its_own():
    """Second line of defence: the pinned xmltodict raises instead of silently dropping entities."""
    with pytest.raises(ValueError):
        xmltodict.parse(BILLION_LAUGHS, disable_entities=True)


def test_user_text_quoting_a_doctype_inside_cdata_is_accepted():
    raw = "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>1</CreateTime>" \
          "<Content><![CDATA[怎么写 <!DOCTYPE html> 和 <!ENTITY>？]]></Content><MsgId>9</MsgId></xml>".encode()
    msg = parse_message(raw)
    assert msg.content == "怎么写 <!DOCTYPE html> 和 <!ENTITY>？"


@pytest.mark.parametrize("raw", [b"", b"not xml", b"<xml>", b"<xml><a></b></xml>", b"<other><A>1</A></other>",
                                 b"<xml>just text</xml>", b"\xff\xfe<\x00x\x00", b"<xml><A>\xff</A></xml>"])
def test_malformed_xml_is_refused(raw: bytes):
    with pytest.raises(MalformedCallback):
        parse_xml(raw)


# ---------------------------------------------------------------- parse


def _xml(**fields: str) -> bytes:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>".encode()


def test_text_message_is_parsed():
    msg = parse_message(_xml(ToUserName="corp", FromUserName="zhangsan", CreateTime="1700000000",
                             MsgType="text", Content=" 帮助 ", MsgId="123456", AgentID="1000002"))
    assert (msg.user, msg.type, msg.content, msg.msg_id, msg.create_time, msg.agent_id) == (
        "zhangsan", "text", " 帮助 ", "123456", 1700000000, "1000002")
    assert msg.text == "帮助"
    assert msg.dedupe_key == "m:123456"


def test_click_event_is_parsed_with_lower_case_event():
    msg = parse_message(_xml(FromUserName="lisi", CreateTime="1700000001", MsgType="event", Event="CLICK",
                             EventKey="menu_help", AgentID="1"))
    assert (msg.type, msg.event, msg.event_key, msg.msg_id) == ("event", "click", "menu_help", None)
    assert msg.dedupe_key == "e:lisi:1700000001:click:menu_help"


def test_image_message_keeps_media_id_and_pic_url():
    msg = parse_message(_xml(FromUserName="u", CreateTime="1", MsgType="image", PicUrl="http://p/x.jpg",
                             MediaId="MEDIA1", MsgId="7"))
    assert (msg.type, msg.media_id, msg.pic_url) == ("image", "MEDIA1", "http://p/x.jpg")


@pytest.mark.parametrize("fields", [
    {"MsgType": "text", "CreateTime": "1"},  # no FromUserName
    {"FromUserName": "u", "CreateTime": "1"},  # no MsgType
    {"FromUserName": "u", "MsgType": "text", "CreateTime": "yesterday"},
    {"FromUserName": "u", "MsgType": "event", "CreateTime": "1"},  # event without Event
])
def test_missing_or_bad_required_fields_are_malformed(fields: dict):
    with pytest.raises(MalformedCallback):
        parse_message(_xml(**fields))


def test_nested_element_where_text_is_expected_is_malformed():
    with pytest.raises(MalformedCallback):
        parse_message(b"<xml><FromUserName><a>1</a></FromUserName><MsgType>text</MsgType></xml>")


# ---------------------------------------------------------------- render


def test_cdata_escapes_the_terminator_and_drops_illegal_characters():
    tricky = "a]]><MsgType>news</MsgType>\x00\x07b"
    doc = xmltodict.parse(f"<xml><C>{cdata(tricky)}</C></xml>")
    assert doc["xml"]["C"] == "a]]><MsgType>news</MsgType>b"


@given(st.text())
def test_any_reply_text_round_trips_through_the_reply_xml(text: str):
    xml = render_text_reply("user1", "corp1", text, 1700000000, "1000002")
    doc = xmltodict.parse(xml, strip_whitespace=False)["xml"]
    expected = "".join(ch for ch in text if ch not in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
                       and not ("\x10" <= ch <= "\x1f") and ch not in "\ufffe\uffff")
    expected = expected.replace("\r\n", "\n").replace("\r", "\n")  # XML end-of-line normalisation
    assert (doc["Content"] or "") == expected or len(text.encode()) > 2048
    assert doc["MsgType"] == "text" and doc["ToUserName"] == "user1" and doc["AgentID"] == "1000002"


def test_long_reply_is_cut_under_2048_bytes_with_a_note():
    xml = render_text_reply("u", "c", "长" * 2000, 1)
    content = xmltodict.parse(xml)["xml"]["Content"]
    assert len(content.encode()) <= 2048
    assert content.endswith(REPLY_TRUNCATED) and content.startswith("长" * 600)


def test_encrypted_reply_decrypts_to_the_reply_text():
    from datetime import datetime, timezone

    from bot.clock import FixedClock

    key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    clock = FixedClock(datetime.fromtimestamp(1_800_000_000, timezone.utc))
    c = CallbackCrypto("tok", key, "wwcorp", 300, clock)
    envelope = encrypted_text_reply(c, "zhangsan", "您好，这是回复 ]]> ok", 1_800_000_000, "1000002", nonce="55")
    doc = xmltodict.parse(envelope)["xml"]
    inner = c.decrypt_message(envelope.encode(), doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
    reply = xmltodict.parse(inner)["xml"]
    assert reply["Content"] == "您好，这是回复 ]]> ok"
    assert (reply["ToUserName"], reply["FromUserName"], reply["CreateTime"]) == ("zhangsan", "wwcorp", "1800000000")


def test_parser_refuses_a_dtd_even_without_the_byte_check(monkeypatch):
    """Second line of defence: the expat hooks refuse DTDs if the byte-level check were ever bypassed."""
    import bot.wecom.xmlsafe as xmlsafe

    monkeypatch.setattr(xmlsafe, "ensure_safe_xml", lambda raw: None)
    for raw in (BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY):
        with pytest.raises(MalformedCallback):
            xmlsafe.parse_xml(raw)


def test_a_repeated_field_is_refused_not_guessed():
    with pytest.raises(MalformedCallback):
        parse_message(b"<xml><FromUserName>a</FromUserName><FromUserName>b</FromUserName>"
                      b"<MsgType>text</MsgType><CreateTime>1</CreateTime></xml>")
