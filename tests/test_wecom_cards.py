"""Template cards: rendering a Reply, its text twin, click keys, the card event's XML, and the double's
card rules (validation, one-use response codes, duplicate check, per-member limits, card-blind members)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages import Button, Reply
from bot.testing.wecom_cards import card_updates, check_card
from bot.testing.wecom_double import CallbackBuilder, WeComDouble
from bot.wecom.card_delivery import CardDelivery
from bot.wecom.cards import parse_click, render_card, task_id_for, text_twin
from bot.wecom.crypto import CallbackCrypto
from bot.wecom.limits import MemoryRateLimiter
from bot.wecom.parse import parse_message
from bot.wecom.sender import LIMITED, WeComSender

TOKEN, AES, CORP = "tok", "a" * 43, "wwcorp00000001"


def confirmation() -> Reply:
    return Reply("已记录第6条报送：\n日期 12月1日\n活动 民族团结宣讲\n人数 40", kind="confirm", title="报送已记录",
                 fields=(("日期", "12月1日"), ("人数", "40")),
                 buttons=(Button("withdraw", "撤回", "撤回 6"), Button("ok", "没问题", "没问题")))


def sender_for(api: WeComDouble, **kw: Any) -> WeComSender:
    return WeComSender(api.corp_id, api.secret, api.agent_id, api_base=api.base_url, **kw)


def test_card_is_valid_for_wecom_and_clicks_round_trip() -> None:
    card = render_card(confirmation(), task_id_for("confirm", "u1", "m:123"))
    assert check_card(WeComDouble(), card, ["u1"]) is None
    assert card["card_type"] == "button_interaction" and card["main_title"]["title"] == "报送已记录"
    assert [b["text"] for b in card["button_list"]] == ["撤回", "没问题"]
    clicks = [parse_click(b["key"]) for b in card["button_list"]]
    assert [(c.command, c.done_label) for c in clicks if c] == [("撤回 6", "已撤回"), ("没问题", "已确认")]
    assert parse_click("menu_help") is None and parse_click("c1:{not json") is None


def test_text_twin_lists_buttons_once() -> None:
    twin = text_twin(confirmation())
    assert twin.startswith("已记录第6条报送")
    assert "回复「撤回 6」撤回" in twin and "回复「没问题」" in twin
    numbered = Reply("您是不是想问：\n1. 甲\n2. 乙", buttons=(Button("1", "甲", "1"), Button("2", "乙", "2")))
    assert text_twin(numbered) == str(numbered)  # the text already shows its numbered choices
    assert text_twin("plain") == "plain"


@settings(max_examples=60, deadline=None)
@given(labels=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=9),
       title=st.text(max_size=80), body=st.text(max_size=400),
       user=st.text(min_size=1, max_size=64))
def test_any_reply_renders_a_card_wecom_accepts(labels: list[str], title: str, body: str, user: str) -> None:
    buttons = tuple(Button(str(i), label, f"命令{i} {label}") for i, label in enumerate(labels))
    reply = Reply(body, title=title or None, fields=tuple((label, label) for label in labels), buttons=buttons)
    card = render_card(reply, task_id_for("r", user))
    assert check_card(WeComDouble(), card, ["u"]) is None
    assert len(card["button_list"]) == min(6, len(labels))


def test_card_event_xml_parses_into_the_typed_message() -> None:
    builder = CallbackBuilder(TOKEN, AES, CORP)
    query, body = builder.card_event("u1", 1764600000, event_key="c1:{}", task_id="t-1", response_code="rc-9",
                                     card_type="vote_interaction", selected=[("q1", ["a", "b"]), ("q2", ["c"])])
    crypto = CallbackCrypto(TOKEN, AES, CORP, 10**10)
    msg = parse_message(crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"]))
    assert (msg.type, msg.event, msg.task_id, msg.response_code, msg.card_type) == (
        "event", "template_card_event", "t-1", "rc-9", "vote_interaction")
    assert msg.selected == (("q1", ("a", "b")), ("q2", ("c",)))
    assert "t-1" in msg.dedupe_key


def test_double_refuses_bad_cards() -> None:
    api = WeComDouble()
    good = render_card(confirmation(), "t-1")
    assert check_card(api, {**good, "task_id": "has space"}, ["u"]) == 42014
    assert check_card(api, {**good, "button_list": good["button_list"] * 4}, ["u"]) == 40058
    assert check_card(api, {**good, "button_list": [good["button_list"][0]] * 2}, ["u"]) == 40058  # same key
    assert check_card(api, {**good, "main_title": {}}, ["u"]) == 40058
    api.card_blind.add("wx")
    assert check_card(api, good, ["wx"]) == 40008


def test_send_card_then_update_once_with_its_code() -> None:
    with WeComDouble() as api:
        sender = sender_for(api)
        result = sender.send_card(["u1"], render_card(confirmation(), "t-2"))
        assert result.ok and result.response_code
        again = sender.send_card(["u1"], render_card(confirmation(), "t-2"))
        assert not again.ok and again.errcode == 42014  # a task_id is used once per app
        assert sender.update_card_button(["u1"], result.response_code, "已撤回").ok
        used = sender.update_card_button(["u1"], result.response_code, "已撤回")
        assert not used.ok and used.errcode == 40058
        assert card_updates(api, "t-2") == [{"userids": ["u1"], "button": {"replace_name": "已撤回"},
                                             "template_card": None}]
        stale = api.issue_response_code("t-2", ["u1"])
        api.advance(72 * 3600 + 1)
        assert sender.update_card_button(["u1"], stale, "已撤回").errcode == 40058


def test_duplicate_check_and_per_member_limits_drop_silently_in_the_double() -> None:
    with WeComDouble() as api:
        sender = sender_for(api, limiter=MemoryRateLimiter(per_minute=10**6, per_hour=10**6))  # ours off
        for _ in range(2):
            assert sender.send_text(["u1"], "同一条提醒", duplicate_check=True).ok
        assert api.delivered_texts("u1") == ["同一条提醒"] and api.dropped == [("u1", "duplicate")]
        for i in range(40):
            assert sender.send_text(["u2"], f"第{i}条").ok  # WeCom answers ok ...
        assert len(api.delivered_texts("u2")) == 30  # ... and delivers 30
        assert api.dropped.count(("u2", "rate")) == 10


def test_sender_keeps_within_the_per_member_limit() -> None:
    with WeComDouble() as api:
        sender = sender_for(api)
        results = [sender.send_text(["u1", "u2"] if i < 5 else ["u1"], f"第{i}条") for i in range(35)]
        assert [r.ok for r in results].count(False) == 5
        assert results[-1].errcode == LIMITED and results[-1].limited == ["u1"]
        assert len(api.delivered_texts("u1")) == 30 and not api.dropped


def test_limiter_slides() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(per_minute=3, per_hour=5, clock=lambda: now[0])
    assert limiter.take(["a"], 3) == ["a"] and limiter.take(["a"]) == []
    now[0] = 61
    assert limiter.take(["a"], 2) == ["a"] and limiter.take(["a"]) == []  # the hour is full
    now[0] = 3601
    assert limiter.take(["a"], 3) == ["a"]


def test_auto_falls_back_to_text_and_remembers(sqlite_db: Any) -> None:
    with WeComDouble() as api:
        api.card_blind.add("wx")
        cards = CardDelivery(sender_for(api), "auto", sqlite_db)
        first = cards.send("wx", confirmation(), task_id="t-3")
        assert first.kind == "text" and first.fell_back and first.result.ok
        assert api.delivered_texts("wx") == [text_twin(confirmation())]
        later = CardDelivery(sender_for(api), "auto", sqlite_db)  # a new process reads the table
        assert later.send("wx", confirmation(), task_id="t-4").kind == "text"
        assert len(api.calls_to("message/send")) == 3  # the rejected card, then two texts
        assert CardDelivery(sender_for(api), "on", sqlite_db).send("wx", confirmation(), task_id="t-5").kind == "card"
        assert CardDelivery(sender_for(api), "off").send("u1", confirmation(), task_id="t-6").kind == "text"


def test_long_body_goes_first_as_text_then_the_card() -> None:
    with WeComDouble() as api:
        body = "、".join(f"第{i}项说明文字" for i in range(40))
        reply = Reply(body, title="请选择", buttons=(Button("1", "第一项", "1"),))
        out = CardDelivery(sender_for(api), "auto").send("u1", reply, task_id="t-7")
        assert out.kind == "card"
        (text,) = api.delivered_texts("u1")
        assert text == body
        (card,) = api.cards_to("u1")
        assert "sub_title_text" not in card and json.loads(card["button_list"][0]["key"][3:])["c"] == "1"


def test_bad_wecom_cards_setting_is_refused() -> None:
    from bot.config import ConfigError, build_settings

    with pytest.raises(ConfigError, match="wecom.cards"):
        build_settings({"wecom": {"cards": "sometimes"}})
    with pytest.raises(ConfigError, match="reminders.holidays"):
        build_settings({"reminders": {"holidays": "us"}})


def test_blank_title_or_label_still_makes_a_valid_card() -> None:
    """Regression (found by the property test): a title of only whitespace became "" and WeCom refuses it."""
    reply = Reply("正文", title="\r", fields=((" ", "x"),), buttons=(Button("a", " ", "帮助"),))
    card = render_card(reply, "t-blank")
    assert check_card(WeComDouble(), card, ["u"]) is None
    assert card["main_title"]["title"] == "统战助手" and card["button_list"][0]["text"] == "帮助"


def test_card_says_things_once_and_never_hides_a_cut_value() -> None:
    long_activity = "在红山村文化广场开展民族团结进步宣传月活动暨法律知识讲座和文艺汇演" * 2
    reply = Reply(f"已记录\n日期：12月1日\n内容：{long_activity}\n有误请回复「撤回 6」", title="已记录",
                  fields=(("日期", "12月1日"), ("内容", long_activity)), buttons=(Button("w", "撤回", "撤回 6"),))
    card = render_card(reply, "t-once")
    body = card.get("sub_title_text", "")
    assert "12月1日" not in body  # shown in its row
    assert "撤回 6" in body
    rows = {r["keyname"]: r["value"] for r in card["horizontal_content_list"]}
    assert rows["内容"].endswith("…")
    from bot.wecom.cards import fits_card

    assert not fits_card(reply) or long_activity in body  # cut in its row: the full text is not dropped
