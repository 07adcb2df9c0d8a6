"""Cards end to end: encrypted callbacks into the real app, every outbound call through the WeCom double.

A reminder card and a tap on 明天再提醒 (snoozed, the card greyed once, a retried event changes
nothing, the deferred reminder goes out once the next working morning), 撤回 from a report's
confirmation card, a did-you-mean pick by button, a member whose client cannot show cards, and a
user typing what a card's button stands for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from app.services import build_services
from bot.clock import FixedClock
from bot.db.models import CardFallbackUser, ReminderSnooze, Report
from bot.state.memory import MemoryStateStore
from bot.testing.wecom_cards import card_updates
from bot.testing.wecom_double import CallbackBuilder, WeComDouble
from bot.web.app import create_app
from bot.wecom.cards import parse_click
from scheduler.engine import ReminderEngine
from tests.conftest import make_settings
from tests.helpers_remind import add_person, add_task, sh

TOKEN, AES = "cardtoken", "b" * 43
URL = "/wecom/callback"


class Phone:
    """One WeCom deployment: the app behind a TestClient, the double, and a member's taps."""

    def __init__(self, client: TestClient, services: Any, api: WeComDouble, clock: FixedClock) -> None:
        self.client, self.services, self.api, self.clock = client, services, api, clock
        self.wecom = CallbackBuilder(TOKEN, AES, api.corp_id, str(api.agent_id))
        self._ids = iter(range(10**9, 2 * 10**9))

    @property
    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def post(self, query: dict[str, str], body: bytes) -> Any:
        res = self.client.post(URL, params=query, content=body)
        assert res.status_code == 200, res.text
        self.quiet()
        return res

    def quiet(self) -> None:
        """Wait until the API calls a reply started (cards go out after the passive answer) are done."""
        import time

        deadline, last, still = time.monotonic() + 5, -1, 0
        while time.monotonic() < deadline and still < 4:
            now = len(self.api.calls)
            still = still + 1 if now == last else 0
            last = now
            time.sleep(0.05)

    def say(self, user: str, text: str) -> Any:
        return self.post(*self.wecom.text(user, text, str(next(self._ids)), self.now))

    def tap(self, user: str, card: dict[str, Any], label: str) -> tuple[dict[str, str], bytes]:
        """The callback of `user` tapping the button `label` on `card` (kept, so a test can replay it)."""
        (button,) = [b for b in card["button_list"] if b["text"] == label]
        code = self.api.issue_response_code(card["task_id"], [user])
        call = self.wecom.card_event(user, self.now, event_key=button["key"], task_id=card["task_id"],
                                     response_code=code)
        res = self.post(*call)
        assert res.content == b""  # a card event's passive answer is empty: the reply went through the API
        return call

    def settle(self) -> None:
        self.services.processor.message_log.flush()


@pytest.fixture
def phone(sqlite_db: Any, tmp_path: Path) -> Iterator[Phone]:
    with WeComDouble() as api:
        settings = make_settings(tmp_path, legacy_reminders=False, tasks_file=str(tmp_path / "no-tasks.yaml"),
                                 wecom={**api.wecom_settings(), "token": TOKEN, "aes_key": AES})
        clock = FixedClock(sh(2026, 11, 23, 9, 25))  # Monday, after the 09:20 stage
        services = build_services(settings, clock=clock, db=sqlite_db, state=MemoryStateStore(), migrate=False)
        with TestClient(create_app(services)) as client:
            yield Phone(client, services, api, clock)
        services.close()


def test_reminder_card_snooze_once_and_the_card_greys_once(phone: Phone) -> None:
    db, api = phone.services.db, phone.api
    task = add_task(db, "info", title="工作动态信息", target=2)
    add_person(db, "u1", village="红山村")
    ReminderEngine(phone.services, backoff_s=0.01).run_pass()
    (card,) = api.cards_to("u1")
    assert card["main_title"]["title"] == "任务提醒：工作动态信息"
    assert {r["keyname"]: r["value"] for r in card["horizontal_content_list"]} == {
        "已完成": "0/2", "剩余": "还剩7天", "截止": "11月30日"}
    assert [b["text"] for b in card["button_list"]] == ["查看我的进度", "怎么报送", "明天再提醒"]

    tap = phone.tap("u1", card, "明天再提醒")
    with db.session() as s:
        (snooze,) = s.scalars(select(ReminderSnooze)).all()
    assert (snooze.task_id, snooze.userid, snooze.period_key, snooze.stage) == (task, "u1", "2026-11", "d7")
    assert [u["button"]["replace_name"] for u in card_updates(api, card["task_id"])] == ["明天再提醒您"]
    (said,) = api.delivered_texts("u1")
    assert said.startswith("好的，11月24日 09:20再提醒您「工作动态信息」")

    phone.post(*tap)  # WeCom retries the same event: nothing changes
    assert len(card_updates(api, card["task_id"])) == 1 and len(api.delivered_texts("u1")) == 1
    phone.clock.set(sh(2026, 11, 23, 9, 27))
    phone.tap("u1", card, "明天再提醒")  # a second tap (a new event) on the same stage: refused politely
    assert len(card_updates(api, card["task_id"])) == 2  # each tap greys its own code once
    with db.session() as s:
        assert len(s.scalars(select(ReminderSnooze)).all()) == 1
    assert api.delivered_texts("u1")[1].startswith("「工作动态信息」这一轮已经推迟过一次了")

    engine = ReminderEngine(phone.services, backoff_s=0.01)
    engine.run_pass(sh(2026, 11, 24, 9, 0))  # before the snooze's time
    assert len(api.cards_to("u1")) == 1
    engine.run_pass(sh(2026, 11, 24, 9, 21))
    engine.run_pass(sh(2026, 11, 24, 9, 30))  # once only
    first, again = api.cards_to("u1")
    assert again["task_id"] != first["task_id"] and [b["text"] for b in again["button_list"]] == [
        "查看我的进度", "怎么报送"]  # once per stage: no second 明天再提醒
    assert {r["keyname"]: r["value"] for r in again["horizontal_content_list"]}["剩余"] == "还剩6天"


def test_reminder_buttons_show_progress_and_an_example_without_greying(phone: Phone) -> None:
    add_task(phone.services.db, "info", title="工作动态信息", target=2)
    add_person(phone.services.db, "u1", village="红山村")
    ReminderEngine(phone.services, backoff_s=0.01).run_pass()
    (card,) = phone.api.cards_to("u1")
    phone.tap("u1", card, "怎么报送")
    phone.tap("u1", card, "查看我的进度")
    example, progress = phone.api.delivered_texts("u1")
    assert "报送 今天在红山村开展工作动态信息" in example and "还差2" in example
    assert "工作动态信息" in progress and "0/2" in progress
    assert card_updates(phone.api, card["task_id"]) == []  # information only: the card keeps its buttons


def test_withdraw_from_the_confirmation_card(phone: Phone) -> None:
    add_task(phone.services.db, "info", title="工作动态信息", target=2, keywords=["动态信息"])
    add_person(phone.services.db, "u1", village="红山村")
    assert phone.say("u1", "报送 今天在红山村开展民族团结宣讲，40人参加 #动态信息").content == b""
    cards = phone.api.cards_to("u1")
    assert cards, phone.api.delivered("u1")
    card = cards[-1]
    assert [b["text"] for b in card["button_list"]] == ["撤回", "没问题"]
    phone.settle()
    with phone.services.db.session() as s:
        (report,) = s.scalars(select(Report)).all()
    assert report.status == "active"
    phone.tap("u1", card, "撤回")
    with phone.services.db.session() as s:
        assert s.get(Report, report.id).status == "withdrawn"
    assert [u["button"]["replace_name"] for u in card_updates(phone.api, card["task_id"])] == ["已撤回"]
    assert any(t.startswith(f"已撤回报送 {report.id}") for t in phone.api.delivered_texts("u1"))


def test_did_you_mean_pick_by_button(phone: Phone) -> None:
    question = "信耶稣的私下聚会怎么管"  # plausible, not confident (see test_knowledge_learning)
    assert phone.services.retriever.search(question).outcome == "suggest"
    phone.say("u1", question)
    (card,) = phone.api.cards_to("u1")
    labels = [b["text"] for b in card["button_list"]]
    assert len(labels) >= 2 and labels[0].startswith("1.")
    assert parse_click(card["button_list"][1]["key"]).command == "2"
    phone.tap("u1", card, labels[1])
    picked = phone.api.delivered_texts("u1")[-1]
    assert "出处：《" in picked
    (update,) = card_updates(phone.api, card["task_id"])
    assert update["button"]["replace_name"].startswith("已选")


def test_a_member_who_cannot_see_cards_gets_text(phone: Phone) -> None:
    phone.api.card_blind.add("wx1")
    assert phone.say("wx1", "帮助").content == b""  # the card was rejected: its text went through the API
    (first,) = phone.api.delivered_texts("wx1")
    assert "回复「进度」" in first and "我的报送" in first
    assert phone.say("wx1", "帮助").content  # remembered: now a plain passive reply, no card tried
    sends = [c.json for c in phone.api.calls_to("message/send") if "wx1" in c.json["touser"]]
    assert [m["msgtype"] for m in sends] == ["text", "template_card"]  # the long body, then the rejected card
    with phone.services.db.session() as s:
        assert s.scalars(select(CardFallbackUser.userid)).all() == ["wx1"]
    phone.api.card_blind.add("wx2")  # and a reminder for a card-blind member arrives as text
    add_task(phone.services.db, "info", title="工作动态信息", target=2)
    add_person(phone.services.db, "wx2")
    ReminderEngine(phone.services, backoff_s=0.01).run_pass()
    (reminder,) = phone.api.delivered_texts("wx2")
    assert "工作动态信息" in reminder and "回复「明天再提醒" in reminder


def test_typed_twin_does_what_the_button_does(phone: Phone) -> None:
    task = add_task(phone.services.db, "info", title="工作动态信息", target=2)
    add_person(phone.services.db, "u1")
    ReminderEngine(phone.services, backoff_s=0.01).run_pass()
    assert phone.say("u1", f"明天再提醒 {task}").content  # a plain reply: answered passively
    assert phone.say("u1", f"明天再提醒 {task}").content
    with phone.services.db.session() as s:
        assert [(r.task_id, r.stage) for r in s.scalars(select(ReminderSnooze)).all()] == [(task, "d7")]


def test_card_json_examples_for_the_note(phone: Phone, tmp_path: Path) -> None:
    """The reminder card exactly as WeCom receives it: valid JSON with the documented fields only."""
    add_task(phone.services.db, "info", title="工作动态信息", target=2)
    add_person(phone.services.db, "u1")
    ReminderEngine(phone.services, backoff_s=0.01).run_pass(sh(2026, 11, 23, 9, 30))
    (sent,) = [c.json for c in phone.api.calls_to("message/send") if c.json["msgtype"] == "template_card"]
    assert set(sent) <= {"touser", "toparty", "totag", "agentid", "msgtype", "template_card",
                         "enable_duplicate_check", "duplicate_check_interval"}
    assert sent["enable_duplicate_check"] == 1
    assert set(sent["template_card"]) <= {"card_type", "source", "main_title", "sub_title_text", "task_id",
                                          "horizontal_content_list", "button_list"}
    (Path(__file__).parent.parent / "data").mkdir(exist_ok=True)
    print(json.dumps(sent["template_card"], ensure_ascii=False, indent=1))


def test_a_stale_response_code_answers_with_text(phone: Phone) -> None:
    add_task(phone.services.db, "info", title="工作动态信息", target=2)
    add_person(phone.services.db, "u1")
    ReminderEngine(phone.services, backoff_s=0.01).run_pass()
    (card,) = phone.api.cards_to("u1")
    (button,) = [b for b in card["button_list"] if b["text"] == "明天再提醒"]
    code = phone.api.issue_response_code(card["task_id"], ["u1"])
    phone.api.advance(72 * 3600 + 60)  # WeCom's response codes last 72 hours
    phone.post(*phone.wecom.card_event("u1", phone.now, event_key=button["key"], task_id=card["task_id"],
                                       response_code=code))
    assert card_updates(phone.api, card["task_id"]) == []
    (said,) = phone.api.delivered_texts("u1")
    assert said.startswith("这张卡片已过期，无法更新。好的，")
    with phone.services.db.session() as s:
        assert len(s.scalars(select(ReminderSnooze)).all()) == 1  # the command itself still ran, once


def test_a_key_this_bot_did_not_make_answers_politely(phone: Phone) -> None:
    phone.post(*phone.wecom.card_event("u1", phone.now, event_key="foreign", task_id="t-x", response_code="rc"))
    (said,) = phone.api.delivered_texts("u1")
    assert "帮助" in said


def test_a_slow_reply_with_buttons_still_goes_out_as_a_card(phone: Phone) -> None:
    """A handler past the reply budget: the deferred reply goes through the send API as a card, not as text."""
    import time

    from bot.dispatcher import Dispatcher, Router
    from bot.filters import any_text
    from bot.messages import Button, IncomingMessage, Reply

    router = Router("slow")

    @router.route(any_text)
    def slow(msg: Any, ctx: Any) -> Reply:
        time.sleep(0.3)
        return Reply("请选择", title="慢回复", buttons=(Button("a", "甲", "甲"), Button("b", "乙", "乙")))

    phone.services.dispatcher = Dispatcher(router)
    msg = IncomingMessage(user="u1", type="text", content="问", msg_id="slow-1", create_time=phone.now)
    assert phone.services.processor.process(msg, budget_s=0.05) is None  # answered empty at once
    deadline = time.monotonic() + 5
    while not phone.api.cards_to("u1") and time.monotonic() < deadline:
        time.sleep(0.05)
    (card,) = phone.api.cards_to("u1")
    assert card["main_title"]["title"] == "慢回复" and phone.api.delivered_texts("u1") == []


def test_snooze_on_the_deadline_day_is_refused(phone: Phone) -> None:
    add_task(phone.services.db, "info", title="工作动态信息", target=2, reminder_stages=[{"days_before": 0, "time": "09:20"}])
    add_person(phone.services.db, "u1")
    phone.clock.set(sh(2026, 11, 30, 9, 25))
    ReminderEngine(phone.services, backoff_s=0.01).run_pass()
    (card,) = phone.api.cards_to("u1")
    phone.tap("u1", card, "明天再提醒")
    assert phone.api.delivered_texts("u1") == ["「工作动态信息」11月30日就截止了，来不及推迟到明天，请尽快报送。"]
    with phone.services.db.session() as s:
        assert s.scalars(select(ReminderSnooze)).all() == []
