"""A `bot.messages.Reply` with buttons -> a WeCom `template_card` (button_interaction), and its text twin.

Pure functions, no I/O. The card carries everything a click needs in each button's key (the command
it stands for and what the card becomes once tapped), so a click is handled without looking
anything up: the handler re-dispatches the command as if the user had typed it. Limits are
WeCom's documented ones for button_interaction: at most 6 buttons and 6 key/value rows, a key of at
most 1024 bytes, unique within the card, and a task_id of at most 128 bytes of [0-9A-Za-z_-@],
unique within the app. Lengths WeCom only *suggests* (title 36 characters, button 10 …) are cut
here so the phone shows whole words instead of WeCom's own ellipsis.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.messages import Button, Reply
from bot.wecom import texts

CARD_TYPE = "button_interaction"
MAX_BUTTONS = 6
MAX_ROWS = 6
MAX_KEY_BYTES = 1024
MAX_TASK_ID_BYTES = 128
TITLE_CHARS = 36
DESC_CHARS = 44
SUB_TITLE_CHARS = 160
BUTTON_CHARS = 10
KEYNAME_CHARS = 5
VALUE_CHARS = 30
TASK_ID_RE = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
_TASK_ID_UNSAFE = re.compile(r"[^0-9A-Za-z_\-@]")
KEY_PREFIX = "c1:"  # versioned, so a later key format can still read cards sent before it


@dataclass(frozen=True, slots=True)
class CardClick:
    """What a tapped button stands for: the command to run and the label the card turns into ("" = keep)."""

    command: str
    done_label: str


def cut(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def has_buttons(reply: object) -> bool:
    return isinstance(reply, Reply) and bool(reply.buttons)


def task_id_for(*parts: str) -> str:
    """A WeCom task_id from any parts: readable where the parts are safe, always unique by a digest."""
    raw = "\x1f".join(parts)
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    readable = _TASK_ID_UNSAFE.sub("_", "-".join(parts))[: MAX_TASK_ID_BYTES - len(digest) - 1]
    return f"{readable}-{digest}" if readable else digest


def done_label(button: Button) -> str:
    if button.done_label is not None:
        return button.done_label
    named = texts.CARD_DONE_BY_LABEL.get(button.label.strip())
    return named or cut(texts.CARD_DONE.format(label=button.label), BUTTON_CHARS)


def button_key(index: int, button: Button) -> str:
    """The EventKey a click brings back: the button's command and its done label, as compact JSON."""
    body = json.dumps({"i": index, "c": button.command, "d": done_label(button)}, ensure_ascii=False,
                      separators=(",", ":"))
    key = KEY_PREFIX + body
    if len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"button command too long for a card key: {button.command[:40]!r}…")
    return key


def parse_click(event_key: str | None) -> CardClick | None:
    """The click a card's EventKey stands for; None for a key this bot did not make."""
    if not event_key or not event_key.startswith(KEY_PREFIX):
        return None
    try:
        body = json.loads(event_key[len(KEY_PREFIX):])
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("c"), str) or not body["c"].strip():
        return None
    label = body.get("d")
    return CardClick(body["c"], label if isinstance(label, str) else "")


def _body(reply: Reply) -> str:
    """What the card's sub-title shows: the reply's lines less those the title or the key/value rows
    already show (a phone screen has no room to say it twice)."""
    shown = [v.strip() for k, v in reply.fields[:MAX_ROWS]  # rows the card shows whole
             if v.strip() and k.strip() and len(" ".join(v.split())) <= VALUE_CHARS]
    title = (reply.title or "").strip()
    lines = []
    for line in str(reply).strip().splitlines():
        if not line.strip() or (title and title in line) or any(v in line for v in shown):
            continue
        lines.append(line)
    return "\n".join(lines).strip()


def fits_card(reply: Reply) -> bool:
    """True when the reply's text fits the card itself; a longer text goes first as a text message."""
    return len(" ".join(_body(reply).split())) <= SUB_TITLE_CHARS


def render_card(reply: Reply, task_id: str) -> dict[str, Any]:
    """The `template_card` object for a Reply with buttons (WeCom's button_interaction layout).

    A body longer than the card's sub-title holds is left out here: the sender sends it as a text
    first (see `fits_card`), so nothing the handler wrote is lost.
    """
    if not reply.buttons:
        raise ValueError("a card needs at least one button")
    if not TASK_ID_RE.match(task_id) or len(task_id.encode()) > MAX_TASK_ID_BYTES:
        raise ValueError(f"not a WeCom task_id: {task_id!r}")
    title = cut(reply.title or "", TITLE_CHARS) or texts.CARD_DEFAULT_TITLE  # WeCom refuses a blank title
    card: dict[str, Any] = {
        "card_type": CARD_TYPE,
        "source": {"desc": texts.CARD_SOURCE, "desc_color": 0},
        "main_title": {"title": title},
        "task_id": task_id,
    }
    body = _body(reply)
    if body and fits_card(reply):
        card["sub_title_text"] = body
    if reply.fields:
        rows = [{"keyname": cut(k, KEYNAME_CHARS), "value": cut(v, VALUE_CHARS)} for k, v in reply.fields]
        rows = [r for r in rows if r["keyname"]][:MAX_ROWS]  # a row needs its key name
        if rows:
            card["horizontal_content_list"] = rows
    buttons = reply.buttons[:MAX_BUTTONS]
    card["button_list"] = [
        {"text": cut(b.label, BUTTON_CHARS) or cut(b.command, BUTTON_CHARS) or str(i + 1),
         "style": 1 if i == 0 else 2, "key": button_key(i, b)}
        for i, b in enumerate(buttons)
    ]
    return card


def text_twin(reply: str) -> str:
    """What a user without cards reads: the reply's text, its fields, and each button as a reply to type.

    Fields or buttons the text already shows (「command」 or a numbered line) are not repeated.
    """
    text = str(reply).rstrip()
    if not isinstance(reply, Reply):
        return text
    lines = [text] if text else []
    for key, value in reply.fields:
        if value and value not in text:
            lines.append(f"{key}：{value}")
    wanted = []
    for b in reply.buttons:
        cmd = b.command.strip()
        shown = f"「{cmd}」" in text or (cmd.isdigit() and re.search(rf"(?m)^\s*{cmd}\s*[.、．:：)）]", text))
        if not shown:
            same = cmd == b.label.strip()
            wanted.append((texts.TWIN_BUTTON_SAME if same else texts.TWIN_BUTTON).format(command=cmd, label=b.label))
    if wanted:
        lines.append(texts.TWIN_RULE)
        lines.extend(wanted)
    return "\n".join(lines)
