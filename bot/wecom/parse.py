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
from xml.parsers import expat
from xml.parsers.expat import ExpatError

from bot.messages import IncomingMessage
from bot.wecom.errors import MalformedCallback
from bot.wecom.xmlsafe import parse_xml, text_field

MAX_TEXT = 16 * 1024  # longer than any WeCom field; guards the message log against junk

# Shapes: each returns the cleaned value or raises ValueError with the reason.
_DIGITS = re.compile(r"[0-9]+")
_USERID = re.compile(r"[0-9A-Za-z_.@\-]+")  # WeCom account ids: letters, digits, _ - . @
_WORD = re.compile(r"[0-9A-Za-z_]+")
_TOKEN = re.compile(r"[0-9A-Za-z_.:\-]+")
_TASK_ID = re.compile(r"[0-9A-Za-z_@\-]+")  # WeCom's task_id alphabet
CARD_EVENT = "template_card_event"
MAX_SELECTED = 64  # a multiple_interaction card has at most 3 selectors of 10 options, a vote 20


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


def _task_id(value: str) -> str:
    value = value.strip()
    if not _TASK_ID.fullmatch(value):
        raise ValueError("not a WeCom task_id")
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
    # template_card_event: task_id is at most 128 bytes; a response_code is an opaque token.
    Field("TaskId", "task_id", _task_id, 128),
    Field("ResponseCode", "response_code", _token, 512),
    Field("CardType", "card_type", _word, 32),
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
    if values.get("event") == CARD_EVENT and values["type"] == "event":
        if not values.get("task_id"):
            raise MalformedCallback("template_card_event without <TaskId>")
        values["selected"] = selected_items(xml)
    else:
        for attr in ("task_id", "response_code", "card_type"):
            values.pop(attr, None)
    return IncomingMessage(**values)


def selected_items(xml: bytes) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A card event's <SelectedItems>: (QuestionKey, (OptionId, …)) per <SelectedItem>, in order.

    The flat callback parser keeps nested elements out, so this walks just this subtree. The bytes
    were already checked by parse_xml (no DTD, UTF-8); this parser refuses DTDs again.
    """
    if b"<SelectedItems" not in xml:
        return ()
    items: list[tuple[str, list[str]]] = []
    path: list[str] = []
    buf: list[str] = []

    def start(name: str, attrs: object) -> None:
        path.append(name)
        buf.clear()
        if path[-2:] == ["SelectedItems", "SelectedItem"]:
            if len(items) >= MAX_SELECTED:
                raise MalformedCallback("too many <SelectedItem>")
            items.append(("", []))

    def end(name: str) -> None:
        text = "".join(buf).strip()
        if items and name == "QuestionKey" and "SelectedItem" in path:
            if len(text) > 1024:
                raise MalformedCallback("<QuestionKey> longer than 1024 characters")
            items[-1] = (text, items[-1][1])
        elif items and name == "OptionId" and "OptionIds" in path:
            if len(items[-1][1]) >= MAX_SELECTED or len(text) > 128:
                raise MalformedCallback("too many or too long <OptionId>")
            items[-1][1].append(text)
        path.pop()
        buf.clear()

    def refuse(*_args: object) -> None:
        raise MalformedCallback("DTD refused")

    parser = expat.ParserCreate("utf-8")
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = buf.append
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(xml, True)
    except ExpatError as exc:
        raise MalformedCallback(f"not well-formed XML: {exc}") from None
    return tuple((key, tuple(ids)) for key, ids in items if key)
