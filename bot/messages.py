"""Plain message objects: what the transport hands the dispatcher. Nothing here knows HTTP or XML."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAX_DEDUPE_KEY = 160  # inbound_messages.msg_key / reports.source_msg_key hold this many characters


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message or event from a WeCom member, already decrypted and parsed."""

    user: str
    type: str  # text, image, voice, video, file, location, link, event
    content: str = ""
    msg_id: str | None = None
    create_time: int = 0
    agent_id: str | None = None
    event: str | None = None  # lower case: click, enter_agent, subscribe, view …
    event_key: str | None = None
    media_id: str | None = None
    pic_url: str | None = None
    # template_card_event only: the card's task_id, the one-use code to update it, and the picks
    # of a vote/multiple card as (question key, option ids) pairs.
    task_id: str | None = None
    response_code: str | None = None
    card_type: str | None = None
    selected: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; FromUserName+CreateTime (+event, key, card) for events, as WeCom retries them."""
        if self.msg_id:
            key = f"m:{self.msg_id}"
        else:
            card = f":{self.task_id}" if self.task_id else ""
            key = f"e:{self.user}:{self.create_time}:{self.event or self.type}:{self.event_key or ''}{card}"
        if len(key) > MAX_DEDUPE_KEY:  # e.g. a `view` event's URL: keep the key within msg_key VARCHAR(160)
            key = "h:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
        return key

    @property
    def text(self) -> str:
        return self.content.strip() if self.type == "text" else ""


@dataclass(frozen=True, slots=True)
class Button:
    """A tap-able choice on a reply. `command` is the text that choosing it stands for (what a user
    without cards types instead, e.g. "1" or "撤回 6"), so every button has a text twin."""

    key: str
    label: str
    command: str
    # What the card's buttons turn into once this one is tapped (None: the default, e.g. 撤回 -> 已撤回;
    # "": leave the card as it is, for buttons that only show something, like 查看我的进度).
    done_label: str | None = None


class Reply(str):
    """A reply: the text a user reads (its text twin), optionally with structure that faces able to
    show a WeCom template card use (buttons, a title, key/value fields). Being a str, every path that
    stores, splits or sends text keeps working unchanged."""

    kind: str
    title: str | None
    fields: tuple[tuple[str, str], ...]
    buttons: tuple[Button, ...]

    def __new__(cls, text: str, *, kind: str = "text", title: str | None = None,
                fields: tuple[tuple[str, str], ...] = (), buttons: tuple[Button, ...] = ()) -> Reply:
        obj = super().__new__(cls, text)
        obj.kind, obj.title, obj.fields, obj.buttons = kind, title, tuple(fields), tuple(buttons)
        return obj
