"""Decrypted callback XML -> IncomingMessage. Pure: no I/O, no HTTP.

Only the fields the dispatcher uses are read; WeCom's other fields (Location_X, Url …) are ignored.
"""

from __future__ import annotations

from xml.parsers import expat
from xml.parsers.expat import ExpatError

from bot.messages import IncomingMessage
from bot.wecom.errors import MalformedCallback
from bot.wecom.xmlsafe import parse_xml, text_field

MAX_FIELD = 16 * 1024  # longer than any WeCom field; guards the message log against junk
CARD_EVENT = "template_card_event"
MAX_SELECTED = 64  # a multiple_interaction card has at most 3 selectors of 10 options, a vote 20


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
    card_event = msg_type == "event" and event is not None and event.strip().lower() == CARD_EVENT
    if card_event:
        body.pop("SelectedItems", None)  # nested; read below
    task_id = (_field(body, "TaskId") or "").strip() or None
    if card_event and not task_id:
        raise MalformedCallback("template_card_event without <TaskId>")
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
        task_id=task_id if card_event else None,
        response_code=((_field(body, "ResponseCode") or "").strip() or None) if card_event else None,
        card_type=((_field(body, "CardType") or "").strip() or None) if card_event else None,
        selected=selected_items(xml) if card_event else (),
    )


def selected_items(xml: bytes) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A card event's <SelectedItems>: (QuestionKey, (OptionId, …)) per <SelectedItem>, in order.

    The flat callback parser refuses nested elements, so this one walks just this subtree. The
    bytes were already checked by parse_xml (no DTD, UTF-8); the parser refuses DTDs again.
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
            items[-1] = (text[:MAX_FIELD], items[-1][1])
        elif items and name == "OptionId" and "OptionIds" in path:
            if len(items[-1][1]) >= MAX_SELECTED:
                raise MalformedCallback("too many <OptionId>")
            items[-1][1].append(text[:MAX_FIELD])
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
