"""Decrypted callback XML -> a typed, bounded IncomingMessage. Pure: no I/O, no HTTP.

Every field the bot reads is checked here, at the edge, against one table (`FIELDS`): its
shape (ASCII digits, an identifier, free text), its length (never more than the database
column that stores it holds) and whether it is required. A field that fails answers 400
before any work is done, so nothing downstream (dedupe, the message log, the reply renderer)
meets an over-long id, a 5,000-digit number or a blank type. WeCom's other fields (Location_X,
Url …) are ignored. To read a new field (e.g. a template-card event's TaskId), add one
`Field` row and the IncomingMessage attribute it fills.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.messages import IncomingMessage
from bot.wecom.errors import MalformedCallback
from bot.wecom.xmlsafe import parse_xml, text_field

MAX_TEXT = 16 * 1024  # longer than any WeCom field; guards the message log against junk

# Shapes: each returns the cleaned value or raises ValueError with the reason.
_DIGITS = re.compile(r"[0-9]+")
_USERID = re.compile(r"[0-9A-Za-z_.@\-]+")  # WeCom account ids: letters, digits, _ - . @
_WORD = re.compile(r"[0-9A-Za-z_]+")
_TOKEN = re.compile(r"[0-9A-Za-z_.:\-]+")


def _digits(value: str) -> str:
    value = value.strip()
    if not _DIGITS.fullmatch(value):
        raise ValueError("must be ASCII digits")
    return value


def _number(value: str) -> int:
    return int(_digits(value))


def _userid(value: str) -> str:
    value = value.strip()
    if not _USERID.fullmatch(value):
        raise ValueError("not a WeCom account id")
    return value


def _word(value: str) -> str:
    value = value.strip().lower()
    if not _WORD.fullmatch(value):
        raise ValueError("must be a word of letters, digits and _")
    return value


def _token(value: str) -> str:
    value = value.strip()
    if not _TOKEN.fullmatch(value):
        raise ValueError("must be letters, digits and _ . : -")
    return value


def _text(value: str) -> str:
    return value


@dataclass(frozen=True, slots=True)
class Field:
    """One XML element: where it goes, its shape, its longest allowed value, and whether it is required."""

    xml: str
    attr: str
    shape: Callable[[str], Any]
    max_len: int
    required: bool = False
    blank_is_none: bool = True  # an empty element reads as absent


# max_len follows what stores the value: userid VARCHAR(64); a MsgId is a 64-bit number (20 digits);
# CreateTime and AgentID fit in 12 digits; Event/MsgType fit msg_type VARCHAR(16) as "event:<name>";
# EventKey (a menu key or the clicked URL of a `view` event) is capped at WeCom's 1,024-byte URL limit.
FIELDS: tuple[Field, ...] = (
    Field("FromUserName", "user", _userid, 64, required=True),
    Field("MsgType", "type", _word, 16, required=True),
    Field("CreateTime", "create_time", _number, 12),
    Field("MsgId", "msg_id", _token, 64),
    Field("AgentID", "agent_id", _digits, 12),
    Field("Event", "event", _word, 64),
    Field("EventKey", "event_key", _text, 1024, blank_is_none=False),
    Field("Content", "content", _text, MAX_TEXT, blank_is_none=False),
    Field("MediaId", "media_id", _token, 255),
    Field("PicUrl", "pic_url", _text, 2048),
)


def parse_fields(body: dict[str, Any], table: tuple[Field, ...] = FIELDS) -> dict[str, Any]:
    """Each table field read, checked and converted; MalformedCallback names the first that fails."""
    values: dict[str, Any] = {}
    for spec in table:
        raw = text_field(body, spec.xml)
        if raw is not None and spec.blank_is_none and not raw.strip():
            raw = None
        if raw is None:
            if spec.required:
                raise MalformedCallback(f"<{spec.xml}> is required")
            continue
        if len(raw) > spec.max_len:
            raise MalformedCallback(f"<{spec.xml}> longer than {spec.max_len} characters")
        try:
            values[spec.attr] = spec.shape(raw)
        except ValueError as exc:
            raise MalformedCallback(f"<{spec.xml}> {exc}") from None
    return values


def parse_message(xml: bytes) -> IncomingMessage:
    """Parse one decrypted message or event; MalformedCallback (400) when any field is out of shape."""
    values = parse_fields(parse_xml(xml))
    if values["type"] == "event" and not values.get("event"):
        raise MalformedCallback("event without <Event>")
    values.setdefault("content", "")
    return IncomingMessage(**values)
