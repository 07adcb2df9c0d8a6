"""A pass over 2,000 people through the WeCom double stays within WeCom's per-member limits.

Passes every minute from the 09:20 stage through the roster's spread, as the scheduler runs them:
every person gets one card per task, nobody gets more than WeCom allows in a minute or an hour,
WeCom's double drops nothing, the card-blind 2% get the text twins, and a later pass sends nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from bot.clock import FixedClock
from bot.db.models import Person, Task
from bot.testing.wecom_double import WeComDouble
from bot.wecom.sender import WeComSender
from scheduler.engine import ReminderEngine
from tests.conftest import make_settings
from tests.helpers_remind import SH, deliveries, make_services

pytestmark = [pytest.mark.slow]
STAGE = datetime(2026, 11, 23, 9, 20, tzinfo=SH)


def test_two_thousand_people_within_the_per_member_limits(sqlite_db: Any, tmp_path: Path) -> None:
    users = [f"lx{i:05d}" for i in range(2000)]
    with sqlite_db.session() as s:
        s.add_all([Task(key="a", title="工作动态信息", cadence="monthly", target=2, keywords=[], audience_filter={}),
                   Task(key="b", title="民族团结宣讲", cadence="monthly", target=1, keywords=[], audience_filter={})])
        s.flush()
        s.execute(insert(Person), [{"userid": u, "name": u, "village": "红山村", "role": "liaison", "active": True}
                                   for u in users])
    with WeComDouble() as api:
        blind = set(users[::50])
        api.card_blind |= blind
        now = [STAGE]
        api.clock = lambda: now[0].timestamp()
        settings = make_settings(tmp_path, legacy_reminders=False, wecom=api.wecom_settings())
        sender = WeComSender(api.corp_id, api.secret, api.agent_id, api_base=api.base_url)
        engine = ReminderEngine(make_services(settings, sqlite_db, FixedClock(STAGE), sender), backoff_s=0.01)
        per_minute = []
        for minute in range(settings.reminders.spread_minutes + 2):
            now[0] = STAGE + timedelta(minutes=minute)
            before = api.delivered_count()
            engine.run_pass(now[0], full=False)
            per_minute.append(api.delivered_count() - before)
        assert not api.dropped
        assert max(per_minute) < 4000 * 0.3  # spread: no minute carries the whole roster
        kinds = Counter((u, m["msgtype"]) for u in users for m in api.delivered(u))
        assert all(kinds[(u, "template_card")] == 2 for u in users if u not in blind)
        assert all(kinds[(u, "text")] == 2 and kinds[(u, "template_card")] == 0 for u in blind)
        rows = deliveries(sqlite_db)
        assert len(rows) == 4000 and {r.status for r in rows} == {"sent"}
        calls = len(api.calls_to("message/send"))
        assert calls == 4000 + len(blind)  # one call per card; each card-blind member's first card refused once
        engine.run_pass(STAGE + timedelta(minutes=30))
        assert len(api.calls_to("message/send")) == calls
