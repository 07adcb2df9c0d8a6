"""Reusable route filters. Pure: they look at the message and context, never change anything."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.context import HandlerContext
    from bot.dispatcher import Filter
    from bot.messages import IncomingMessage


def msg_type(*types: str) -> Filter:
    wanted = set(types)

    def check(msg: IncomingMessage, ctx: HandlerContext) -> bool:
        return msg.type in wanted

    return check


def text_equals(*words: str) -> Filter:
    """Whole message equals one of the words (after trimming space and trailing punctuation)."""
    wanted = {w.lower() for w in words}

    def check(msg: IncomingMessage, ctx: HandlerContext) -> bool:
        return normalize_command(msg.text).lower() in wanted

    return check


def text_startswith(*prefixes: str) -> Filter:
    """Message starts with a command word; the rest is passed as `rest`."""

    def check(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
        text = normalize_command(msg.text)
        for prefix in prefixes:
            if text.startswith(prefix):
                return {"command": prefix, "rest": text[len(prefix):].lstrip(" :：,，、")}
        return None

    return check


def regex(pattern: str) -> Filter:
    compiled = re.compile(pattern)

    def check(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
        m = compiled.fullmatch(normalize_command(msg.text))
        return None if m is None else {k: v for k, v in m.groupdict().items()}

    return check


def event(name: str, key: str | None = None) -> Filter:
    def check(msg: IncomingMessage, ctx: HandlerContext) -> bool:
        return msg.type == "event" and msg.event == name and (key is None or msg.event_key == key)

    return check


def in_state(*kinds: str) -> Filter:
    """The user's conversation is waiting for one of these kinds of answer; passes it as `state`."""

    def check(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
        state = ctx.conversation.get()
        if state and state.get("kind") in kinds:
            return {"state": state}
        return None

    return check


def any_text(msg: IncomingMessage, ctx: HandlerContext) -> bool:
    return bool(msg.text)


_TRIM = " \t\r\n。.!！?？~～"


@lru_cache(maxsize=4096)
def normalize_command(text: str) -> str:
    """Trim and fold full-width letters/digits/space so 'ＨＥＬＰ　' reads as 'HELP'.

    Cached: every route's filter asks for it on the same text, a dozen times a message."""
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E and ch not in "，：；？！（）":
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out).strip(_TRIM)
