"""Decrypted callback XML -> IncomingMessage. Pure: no I/O, no HTTP.

Only the fields the dispatcher uses are read; WeCom's other fields (Location_X, Url …) are ignored.
"""

from __future__ import annotations

from bot.messages import IncomingMessage
from bot.wecom.errors import MalformedCallback
from bot.wecom.xmlsafe import parse_xml, text_field

MAX_FIELD = 16 * 1024  # longer than any WeCom field; guards the message log against junk


def _field(body: dict, name: str) -> str | None:
    value = text_field(body, name)
    if value is not None and len(value) > MAX_FIELD:
        raise MalformedCallback(f"<{name}> too long")
    return value


def parse_message(xml: bytes) -> IncomingMessage:
    """Parse one decrypted message or event; MalformedCallback when a required field is missing."""
    body = parse_xml(xml)
    user = _field(body, "FromUserName")
    msg_type = _field(body, "MsgType")
    if not user or not msg_type:
        raise MalformedCallback("FromUserName and MsgType are required")
    raw_time = _field(body, "CreateTime") or "0"
    if not raw_time.isascii() or not raw_time.strip().isdigit():
        raise MalformedCallback("CreateTime is not a number")
    msg_type = msg_type.strip().lower()
    event = _field(body, "Event")
    if msg_type == "event" and not event:
        raise MalformedCallback("event without <Event>")
    return IncomingMessage(
        user=user.strip(),
        type=msg_type,
        content=_field(body, "Content") or "",
        msg_id=(_field(body, "MsgId") or "").strip() or None,
        create_time=int(raw_time),
        agent_id=(_field(body, "AgentID") or "").strip() or None,
        event=event.strip().lower() if event else None,
        event_key=_field(body, "EventKey"),
        media_id=_field(body, "MediaId"),
        pic_url=_field(body, "PicUrl"),
    )
