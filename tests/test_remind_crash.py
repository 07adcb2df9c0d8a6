"""Audit finding 6: reminders sent twice after kill -9 mid-pass.

Outcomes used to be recorded only after every batch was sent, so a kill left every row pending
and the pass 15 minutes later sent them all again. Now each batch is written down before the
first send and recorded as it returns, and the next pass repeats the in-flight request exactly,
which WeCom's duplicate check (the double implements it) drops for whoever already got it.
Counted at the API double: each person behind gets exactly one delivered reminder.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.database import Database
from bot.db.models import ReminderBatch
from bot.testing.wecom_double import WeComDouble
from tests.helpers_remind import deliveries
from tests.test_remind_processes import AT, cli_env, remind_cmd, seed

pytestmark = [pytest.mark.slow]
TEXTS = "wecom:\n  cards: \"off\"\nreminders:\n  max_in_flight: 1\n"
CARDS = "wecom:\n  cards: \"on\"\nreminders:\n  max_in_flight: 1\n"
FIRST = AT + timedelta(minutes=10)  # every stage of the seed is due by then (none turns due in between)


def _delivered(api: WeComDouble) -> Counter[str]:
    """Reminders each member really received (after the double's duplicate check)."""
    users = {u for m in api.sent_messages() for u in m["touser"].split("|")}
    return Counter({u: len(api.delivered(u)) for u in users})


def test_reminders_sent_twice_after_kill_9_mid_pass(db: Database, tmp_path: Path) -> None:
    expected = seed(db, 300)
    with WeComDouble() as api:
        api.stall_after_delivery(1.5)  # delivered at once, answered late: the kill lands in between
        env = cli_env(tmp_path, db.url, api, None, config_extra=TEXTS)
        proc = remind_cmd(env, "--at", FIRST.isoformat())
        deadline = time.monotonic() + 60
        while len(api.sent_messages()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        before = _delivered(api)
        assert before and max(before.values()) == 1
        calls_before = len(api.sent_messages())
        rows = deliveries(db)
        sent_rows = {r.userid for r in rows if r.status == "sent"}
        assert sent_rows and sent_rows < set(before), "the first batch is recorded, the in-flight one is not"
        with db.session() as s:
            statuses = Counter(s.scalars(select(ReminderBatch.status)).all())
        assert statuses["done"] >= 1 and statuses["sending"] == 1 and statuses["queued"] >= 1

        api.stall_after_delivery(0)
        later = (FIRST + timedelta(minutes=2)).isoformat()  # the next pass after a restart
        out, err = remind_cmd(env, "--at", later).communicate(timeout=120)
        after = _delivered(api)
        repeated = api.sent_messages()[calls_before:]
        first_calls = api.sent_messages()[:calls_before]
    assert max(after.values()) == 1, "someone got two reminders"
    assert any(m in first_calls for m in repeated), "the in-flight request was repeated identically"
    rows = deliveries(db)
    assert len(rows) == expected and {r.status for r in rows} == {"sent"}, err
    assert set(after) == {r.userid for r in rows}
    with db.session() as s:
        assert set(s.scalars(select(ReminderBatch.status)).all()) == {"done"}


def test_batch_outcomes_recorded_only_after_every_batch(db: Database, tmp_path: Path) -> None:
    """While a pass is still sending, the rows of batches already answered read `sent`."""
    seed(db, 300)
    with WeComDouble() as api:
        api.stall_after_delivery(1.0)
        env = cli_env(tmp_path, db.url, api, None, config_extra=TEXTS)
        proc = remind_cmd(env, "--at", FIRST.isoformat())
        try:
            deadline = time.monotonic() + 60
            while len(api.sent_messages()) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            first_two = {u for m in api.sent_messages()[:2] for u in m["touser"].split("|")}
            sent_now = {r.userid for r in deliveries(db) if r.status == "sent"}
            assert first_two <= sent_now
        finally:
            proc.kill()
            proc.communicate(timeout=30)


def test_reminder_cards_sent_twice_after_kill_9_mid_pass(db: Database, tmp_path: Path) -> None:
    """Cards: recorded per person as their cards finish; after a kill the rest go out two minutes
    later, and a card in flight is recognised by its stable task_id instead of reaching anyone twice."""
    expected = seed(db, 60)
    with WeComDouble() as api:
        api.stall_after_delivery(0.3)
        env = cli_env(tmp_path, db.url, api, None, config_extra=CARDS)
        proc = remind_cmd(env, "--at", FIRST.isoformat())
        deadline = time.monotonic() + 60
        while len(api.sent_messages()) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        assert any(r.status == "sent" for r in deliveries(db)), "finished people are recorded at once"
        api.stall_after_delivery(0)
        out, err = remind_cmd(env, "--at", (FIRST + timedelta(minutes=2)).isoformat()).communicate(timeout=120)
        rows = deliveries(db)
        per_user = Counter(r.userid for r in rows)
        got = {u: api.delivered(u) for u in per_user}
    assert len(rows) == expected and {r.status for r in rows} == {"sent"}, err
    for user, messages in got.items():
        keys = [json.dumps(m.get("template_card") or m.get("text"), sort_keys=True, ensure_ascii=False)
                for m in messages]
        assert len(keys) == len(set(keys)) == per_user[user], f"{user} got {len(keys)} for {per_user[user]} rows"
