"""The liaison's side: the reminder's numbers match 进度, and its 报送 example really records a report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.context import Services
from bot.db.database import Database
from bot.state.memory import MemoryStateStore
from bot.testing.chat import ChatDriver
from bot.wecom.sender import LogSender
from scheduler import texts
from scheduler.engine import ReminderEngine
from tests.conftest import make_settings
from tests.helpers_remind import add_person, sh

TASKS = """tasks:
- key: info
  title: 工作动态信息
  cadence: monthly
  target: 2
  keywords: [宣讲, 活动, 民族团结]
"""


@pytest.fixture
def bot(db: Database, tmp_path: Path) -> Iterator[tuple[Services, LogSender, FixedClock]]:
    from app.services import build_services

    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(TASKS, encoding="utf-8")
    settings = make_settings(tmp_path, tasks_file=str(tasks))
    sender, clock = LogSender(), FixedClock(sh(2026, 11, 23, 9, 30))
    services = build_services(settings, clock=clock, sender=sender, db=db, state=MemoryStateStore())
    yield services, sender, clock
    services.close()


def numbers(text: str, title: str) -> str:
    m = re.search(re.escape(title) + r"[^\n]*?(\d+/\d+)", text)
    assert m, text
    return m.group(1)


def test_reminder_and_progress_show_the_same_numbers(bot: tuple[Services, LogSender, FixedClock]) -> None:
    from scheduler.runner import sync_tasks_file

    services, sender, clock = bot
    add_person(services.db, "u1", name="张红")
    chat = ChatDriver(services)
    sync_tasks_file(services)
    engine = ReminderEngine(services, backoff_s=0.0)
    engine.run_pass()
    (reminder,) = sender.texts_to("u1")
    assert numbers(reminder, "工作动态信息") == "0/2"
    assert numbers(chat.send("u1", "进度") or "", "工作动态信息") == "0/2"

    # the example line in the reminder is a report the bot understands
    example = re.search(r"如「(报送[^」]+)」", texts.HOW_TO_REPORT).group(1)
    reply = chat.send("u1", example) or ""
    assert "1/2" in reply, reply
    assert numbers(chat.send("u1", "进度") or "", "工作动态信息") == "1/2"
    # the next stage's reminder carries the new number
    clock.set(sh(2026, 11, 29, 9, 30))
    engine.run_pass()
    assert numbers(sender.texts_to("u1")[-1], "工作动态信息") == "1/2"
