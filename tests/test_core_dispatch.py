"""The dispatcher and core routes, driven as a user would through the processor."""

from __future__ import annotations

import logging

from bot import texts
from bot.dispatcher import Dispatcher, Router
from bot.filters import normalize_command, text_startswith
from bot.testing.chat import ChatDriver


def test_help_lists_what_the_bot_does(chat: ChatDriver) -> None:
    reply = chat.send("u1", "帮助")
    assert reply == texts.HELP
    assert "报送" in reply and "进度" in reply
    assert chat.send("u1", "ＨＥＬＰ！") == texts.HELP  # full-width and trailing punctuation


def test_enter_agent_greets_once_a_day(chat: ChatDriver) -> None:
    assert chat.event("u1", "enter_agent") == texts.ENTER_AGENT
    chat.services.clock.advance(seconds=30)
    assert chat.event("u1", "enter_agent") is None
    assert chat.event("u2", "enter_agent") == texts.ENTER_AGENT
    chat.services.clock.advance(days=1)
    assert chat.event("u1", "enter_agent") == texts.ENTER_AGENT


def test_menu_click_runs_the_command_it_stands_for(chat: ChatDriver) -> None:
    assert chat.event("u1", "click", "help") == texts.HELP
    assert chat.event("u1", "click", "no-such-key") == texts.MENU_UNKNOWN


def test_unsupported_types_get_a_polite_line(chat: ChatDriver) -> None:
    for kind, word in (("voice", "语音"), ("file", "文件"), ("location", "位置"), ("video", "视频")):
        reply = chat.other("u1", kind)
        assert reply is not None and word in reply and "帮助" in reply


def test_cancel_clears_pending_conversation(chat: ChatDriver) -> None:
    assert chat.send("u1", "取消") == texts.NOTHING_TO_CANCEL
    chat.services.state.set_json("conv:u1", {"kind": "anything"}, 60)
    assert chat.send("u1", "取消") == texts.CANCELLED
    assert chat.services.state.get("conv:u1") is None


def test_rate_limit_answers_a_flood_politely_once(chat: ChatDriver) -> None:
    limit = chat.services.settings.rate_limit_per_minute
    replies = [chat.send("flood", "帮助") for _ in range(limit + 3)]
    assert replies[:limit] == [texts.HELP] * limit
    assert replies[limit] == texts.RATE_LIMITED
    assert replies[limit + 1:] == [None, None]
    chat.services.clock.advance(minutes=1)
    assert chat.send("flood", "帮助") == texts.HELP


def test_handler_error_is_logged_and_user_gets_apology(chat: ChatDriver, caplog) -> None:
    router = Router("boom")

    @router.route(text_startswith("炸"))
    def explode(msg, ctx, **_):
        raise RuntimeError("kaboom-internal-detail")

    chat.services.dispatcher = Dispatcher(router)
    with caplog.at_level(logging.ERROR):
        reply = chat.send("u9", "炸一下")
    assert reply == texts.HANDLER_ERROR
    assert "kaboom" not in reply and "Traceback" not in reply
    record = next(r for r in caplog.records if "handler failed" in r.getMessage())
    assert "user=u9" in record.getMessage() and "boom.explode" in record.getMessage()


def test_filters_pass_extracted_values_to_handler(chat: ChatDriver) -> None:
    router = Router("t")
    seen: list[str] = []

    @router.route(text_startswith("报送", "上报"))
    def got(msg, ctx, command, rest):
        seen.append(f"{command}|{rest}")
        return "ok"

    chat.services.dispatcher = Dispatcher(router)
    assert chat.send("u1", "上报：今天开会") == "ok"
    assert seen == ["上报|今天开会"]
    assert chat.send("u1", "别的话") is None


def test_normalize_command_folds_width_and_trims() -> None:
    assert normalize_command("　帮助！！ ") == "帮助"
    assert normalize_command("ｈｅｌｐ?") == "help"
    assert normalize_command("报送，今天") == "报送，今天"  # Chinese comma kept inside


def test_day_boundary_uses_office_timezone(chat: ChatDriver) -> None:
    # 15:59 UTC is 23:59 in Shanghai; 16:01 UTC is the next local day.
    clock = chat.services.clock
    clock.set(clock.now().replace(hour=15, minute=59))
    assert chat.event("tz", "enter_agent") == texts.ENTER_AGENT
    clock.advance(minutes=2)
    assert chat.event("tz", "enter_agent") == texts.ENTER_AGENT
    clock.advance(hours=1)
    assert chat.event("tz", "enter_agent") is None
