"""Greeting, help, menu clicks, enter_agent, cancel and unsupported message types."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import texts
from bot.dispatcher import Router
from bot.filters import event, msg_type, text_equals
from bot.messages import Button, Reply

if TYPE_CHECKING:
    from bot.context import HandlerContext
    from bot.messages import IncomingMessage

router = Router("core")
fallback = Router("core.fallback")

# Menu EventKey -> the text command it stands for (the office's menu in the WeCom admin uses these keys).
MENU_COMMANDS = {
    "help": "帮助",
    "progress": "进度",
    "my_tasks": "我的任务",
    "my_reports": "我的报送",
    "withdraw": "撤回",
}
HELP_WORDS = ("帮助", "help", "菜单", "功能", "使用说明", "怎么用", "?", "？", "你好", "您好", "hi", "hello", "在吗", "在么")


@router.route(text_equals("取消", "算了", "cancel"), inline=True)
def cancel(msg: IncomingMessage, ctx: HandlerContext) -> str:
    if ctx.conversation.get() is None:
        return texts.NOTHING_TO_CANCEL
    ctx.conversation.clear()
    return texts.CANCELLED


def with_quick_buttons(text: str, kind: str) -> Reply:
    """Greetings and help with buttons for the everyday commands (a card on WeCom; the text names them)."""
    buttons = tuple(Button(f"quick_{i}", label, command, done_label="")
                    for i, (label, command) in enumerate(texts.QUICK_BUTTONS))
    return Reply(text, kind=kind, title=texts.QUICK_TITLE, buttons=buttons)


@router.route(text_equals(*HELP_WORDS), inline=True)
def help_text(msg: IncomingMessage, ctx: HandlerContext) -> str:
    return with_quick_buttons(texts.HELP, "help")


@router.route(event("enter_agent"), inline=True)
def enter_agent(msg: IncomingMessage, ctx: HandlerContext) -> str | None:
    """Greet at most once a (local) day per user; WeCom sends enter_agent on every visit."""
    ttl = int(timedelta(days=2).total_seconds())
    if ctx.state.claim(f"greet:{msg.user}:{ctx.today().isoformat()}", "1", ttl):
        return with_quick_buttons(texts.ENTER_AGENT, "greeting")
    return None


@router.route(event("subscribe"), inline=True)
def subscribe(msg: IncomingMessage, ctx: HandlerContext) -> str:
    return with_quick_buttons(texts.GREETING, "greeting")


@router.route(event("click"))
def menu_click(msg: IncomingMessage, ctx: HandlerContext) -> str | None:
    """A menu item stands for a text command: re-dispatch it as if the user had typed it."""
    command = MENU_COMMANDS.get((msg.event_key or "").strip().lower())
    if command is None:
        return texts.MENU_UNKNOWN
    as_text = replace(msg, type="text", content=command, event=None, event_key=None)
    assert ctx.services.dispatcher is not None
    return ctx.services.dispatcher.dispatch(as_text, ctx)


@fallback.route(msg_type("voice", "video", "file", "location", "link", "image"), inline=True)
def unsupported(msg: IncomingMessage, ctx: HandlerContext) -> str:
    return texts.UNSUPPORTED.format(kind=texts.KIND_NAMES.get(msg.type, "此类"))


@fallback.route(msg_type("text"), inline=True)
def empty_text(msg: IncomingMessage, ctx: HandlerContext) -> str | None:
    return texts.EMPTY_TEXT if not msg.text else None
