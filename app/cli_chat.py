"""The `chat` verb: talk to the bot in the terminal, one message (`--message`, `--at`) or a script (`--jsonl`).

Every message goes through the same processor and dispatcher as the callback. `--at` and the
`at` field of a script line set the clock the handlers read, so a conversation can be replayed at
any local time (a report "yesterday" said on 3 January means 2 January).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from bot.clock import FixedClock, SystemClock
from bot.wecom.cards import text_twin

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.context import Services


class ScriptClock(FixedClock):
    """A clock that reads the wall clock until a message sets it to that message's `at`."""

    def __init__(self) -> None:
        super().__init__(SystemClock().now())
        self.fixed = False

    def now(self) -> datetime:
        return super().now() if self.fixed else SystemClock().now()

    def set(self, at: datetime) -> None:
        super().set(at)
        self.fixed = True

    def release(self) -> None:
        """Back to the wall clock (a script line without `at` is sent now)."""
        self.fixed = False


class ChatInputError(ValueError):
    """A script line or an --at value that cannot be read."""


def local_time(value: str, tz: ZoneInfo) -> datetime:
    """An ISO 8601 local time ('2026-11-20T10:00', or with an offset) as an aware datetime."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ChatInputError(f"not an ISO 8601 time: {value!r}") from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _message(user: str, text: str, kind: str, msg_id: str | None, at: datetime) -> Any:
    from bot.messages import IncomingMessage

    if kind == "image" or text.startswith(("/图片", "/image")):
        media = text.split(maxsplit=1)[1] if " " in text.strip() else f"local-{uuid.uuid4().hex[:8]}"
        return IncomingMessage(user=user, type="image", media_id=media, msg_id=msg_id or uuid.uuid4().hex,
                               create_time=int(at.timestamp()))
    return IncomingMessage(user=user, type="text", content=text, msg_id=msg_id or uuid.uuid4().hex,
                           create_time=int(at.timestamp()))


def _say(services: Services, clock: ScriptClock, user: str, text: str, *, kind: str = "text",
         msg_id: str | None = None, at: datetime | None = None) -> str | None:
    if at is not None:
        clock.set(at)
    else:
        clock.release()
    assert services.processor is not None
    msg = _message(user, text, kind, msg_id, at or clock.now())
    reply = services.processor.process(msg, budget_s=None)
    return text_twin(reply) if reply else reply  # a card's buttons as the replies to type


def run_jsonl(services: Services, clock: ScriptClock, tz: ZoneInfo, lines: TextIO, out: TextIO) -> int:
    """One JSON object per input line in, one per message out (flushed), in order. Bad lines: exit 2."""
    status = 0
    for number in itertools.count(1):
        line = lines.readline()
        if not line:
            return status
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("user"), str) or not item["user"]:
                raise ChatInputError("needs a \"user\"")
            text = item.get("text") or ""
            kind = item.get("type") or "text"
            if not isinstance(text, str) or kind not in ("text", "image"):
                raise ChatInputError("\"text\" must be a string and \"type\" text or image")
            at = local_time(item["at"], tz) if item.get("at") else None
            msg_id = str(item["msg_id"]) if item.get("msg_id") is not None else None
        except (json.JSONDecodeError, ChatInputError) as exc:
            print(f"run.py: chat --jsonl line {number}: {exc}", file=sys.stderr)
            status = 2
            continue
        reply = _say(services, clock, item["user"], text, kind=kind, msg_id=msg_id, at=at)
        out.write(json.dumps({"user": item["user"], "text": text, "reply": reply}, ensure_ascii=False) + "\n")
        out.flush()


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A terminal conversation through the same processor and dispatcher as the callback."""
    from app.cli import UsageError
    from app.services import build_services

    if not args.jsonl and not args.user:
        raise UsageError("chat needs --user USERID (or --jsonl)")
    tz = settings.tz
    try:
        at = local_time(args.at, tz) if args.at else None
    except ChatInputError as exc:
        raise UsageError(f"--at: {exc}") from None
    logging.getLogger().setLevel(logging.WARNING)
    clock = ScriptClock()
    services = build_services(settings, clock=clock)
    try:
        if args.jsonl:
            return run_jsonl(services, clock, tz, sys.stdin, sys.stdout)
        if args.message is not None:
            reply = _say(services, clock, args.user, args.message, at=at)
            print(reply if reply else "（无回复）", flush=True)
            return 0
        interactive = sys.stdin.isatty()
        if interactive:
            print("统战助手 终端对话（输入「帮助」查看用法，Ctrl-D 退出）")
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = sys.stdin.readline()
            if not line:
                return 0
            if line.strip():
                reply = _say(services, clock, args.user, line.strip(), at=at)
                print(reply if reply else "（无回复）", flush=True)
    finally:
        services.close()


