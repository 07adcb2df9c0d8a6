"""Delivery against the WeCom API double: batching, bounded concurrency, retries, invalid users, give-up."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from bot.clock import FixedClock
from bot.db.database import Database
from bot.testing.wecom_double import WeComDouble
from bot.wecom.sender import SendResult, WeComSender
from scheduler.delivery import BatchSender
from scheduler.engine import PassReport, ReminderEngine
from scheduler.planner import MAX_ATTEMPTS
from tests.conftest import make_settings
from tests.helpers_remind import (
    add_people,
    add_person,
    add_reports,
    add_task,
    deliveries,
    make_services,
    set_active,
    sh,
)

STAGE = sh(2026, 11, 23, 9, 30)


def make_engine(db: Database, api: WeComDouble, tmp_path, *, timeout_s: float = 2.0, max_in_flight: int = 8,
                sender: object = None) -> tuple[ReminderEngine, FixedClock]:
    settings = make_settings(tmp_path, wecom={**api.wecom_settings(), "http_timeout_s": timeout_s},
                             reminders={"max_in_flight": max_in_flight})
    sender = sender or WeComSender(api.corp_id, api.secret, api.agent_id, api_base=api.base_url,
                                   timeout_s=timeout_s)
    clock = FixedClock(STAGE)
    return ReminderEngine(make_services(settings, db, clock, sender), backoff_s=0.01), clock  # type: ignore[arg-type]


def statuses(report: PassReport) -> dict[str, str]:
    return {c.person.userid: c.status for c in report.candidates}


def send_calls(api: WeComDouble) -> list:
    return api.calls_to("message/send")


def test_identical_texts_share_calls_of_at_most_1000(db: Database, wecom_api: WeComDouble, tmp_path) -> None:
    t = add_task(db, "m", title="工作动态信息", target=2)
    add_people(db, [{"userid": f"u{i:04d}"} for i in range(2600)])
    for i in range(0, 2600, 13):  # every 13th person has done one: a second text
        add_reports(db, f"u{i:04d}", t, date(2026, 11, 2))
    eng, _ = make_engine(db, wecom_api, tmp_path)
    report = eng.run_pass(STAGE)
    assert set(statuses(report).values()) == {"sent"}
    sizes = sorted(len(m["touser"].split("|")) for m in wecom_api.sent_messages())
    assert sizes == [200, 400, 1000, 1000]  # 2400 at 0/2 (1000+1000+400) and 200 at 1/2
    assert report.calls == 4
    assert all(m["enable_duplicate_check"] == 1 for m in wecom_api.sent_messages())
    everyone = [u for m in wecom_api.sent_messages() for u in m["touser"].split("|")]
    assert len(everyone) == len(set(everyone)) == 2600
    assert eng.run_pass(STAGE + timedelta(minutes=1)).calls == 0
    assert len(send_calls(wecom_api)) == 4


class CountingSender:
    """Wraps the real sender to measure how many calls are in flight at once."""

    def __init__(self, inner: WeComSender) -> None:
        self.inner = inner
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def send_text(self, users: Sequence[str], text: str, **kw: object) -> SendResult:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            return self.inner.send_text(users, text, **kw)  # type: ignore[arg-type]
        finally:
            with self._lock:
                self.now -= 1


def test_calls_in_flight_are_bounded(wecom_api: WeComDouble) -> None:
    wecom_api.set_latency(0.05, "message/send")
    inner = WeComSender(wecom_api.corp_id, wecom_api.secret, wecom_api.agent_id, api_base=wecom_api.base_url)
    counting = CountingSender(inner)
    batch = BatchSender(counting, max_in_flight=3)  # type: ignore[arg-type]
    report = batch.send({f"u{i}": f"提醒{i}" for i in range(12)})  # 12 different texts: 12 calls
    assert report.calls == 12 and {o.status for o in report.outcomes.values()} == {"sent"}
    assert counting.peak == 3


@pytest.mark.parametrize("errcode", [-1, 45009, 45033])
def test_transient_errors_are_retried_with_duplicate_check(db: Database, wecom_api: WeComDouble, tmp_path,
                                                           errcode: int) -> None:
    add_task(db, "m")
    add_person(db, "u1")
    wecom_api.fail_next(2, errcode, "message/send")
    eng, _ = make_engine(db, wecom_api, tmp_path)
    report = eng.run_pass(STAGE)
    assert statuses(report) == {"u1": "sent"}
    calls = send_calls(wecom_api)
    assert [c.errcode for c in calls] == [errcode, errcode, 0]
    assert len({c.json["text"]["content"] for c in calls}) == 1  # same content, so WeCom can drop a repeat
    assert all(c.json["enable_duplicate_check"] == 1 for c in calls)
    (row,) = deliveries(db)
    assert (row.status, row.attempts, row.error) == ("sent", 1, None)


def test_timeouts_and_dropped_connections_are_retried(db: Database, wecom_api: WeComDouble, tmp_path) -> None:
    add_task(db, "m")
    add_person(db, "u1")
    wecom_api.hang_next(1, 1.0)  # first call: no answer within the client's timeout
    eng, _ = make_engine(db, wecom_api, tmp_path, timeout_s=0.3)
    started = time.monotonic()
    report = eng.run_pass(STAGE)
    assert statuses(report) == {"u1": "sent"}
    assert time.monotonic() - started < 5
    wecom_api.drop_next(1)
    add_person(db, "u2")
    assert statuses(eng.run_pass(STAGE + timedelta(minutes=1)))["u2"] == "sent"
    assert [r.status for r in deliveries(db)] == ["sent", "sent"]


def test_rate_limit_that_persists_fails_now_and_is_retried_by_a_later_pass(db: Database, wecom_api: WeComDouble,
                                                                            tmp_path) -> None:
    add_task(db, "m")
    add_person(db, "u1")
    wecom_api.fail_always(45009, "message/send")
    eng, _ = make_engine(db, wecom_api, tmp_path)
    assert statuses(eng.run_pass(STAGE)) == {"u1": "failed"}
    assert len(send_calls(wecom_api)) == eng.batch.max_tries
    (row,) = deliveries(db)
    assert (row.status, row.attempts) == ("failed", 1) and row.error.startswith("45009")
    # the next minute is too soon (backoff); two minutes later the row is claimed again and goes out
    wecom_api.clear_failures()
    assert statuses(eng.run_pass(STAGE + timedelta(minutes=1))) == {"u1": "failed"}
    assert len(send_calls(wecom_api)) == eng.batch.max_tries
    assert statuses(eng.run_pass(STAGE + timedelta(minutes=2))) == {"u1": "sent"}
    (row,) = deliveries(db)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(wecom_api.texts_to("u1")) == 1


def test_permanent_error_is_not_retried_in_the_pass_and_gives_up_after_max_attempts(
        db: Database, wecom_api: WeComDouble, tmp_path) -> None:
    add_task(db, "m")
    add_person(db, "u1", name="张红")
    add_person(db, "a1", role="admin", village="统战办")
    wecom_api.fail_always(60020, "message/send")  # IP not allowed: retrying at once cannot help
    eng, _ = make_engine(db, wecom_api, tmp_path)
    at = STAGE
    for _ in range(MAX_ATTEMPTS):
        report = eng.run_pass(at)
        assert statuses(report)["u1"] == "failed"
        at += timedelta(minutes=31)
    (row,) = [r for r in deliveries(db) if r.userid == "u1"]
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert [u.userid for u in report.undelivered] == ["u1"]  # told in the last attempt's pass
    n = len(send_calls(wecom_api))
    assert eng.run_pass(at + timedelta(hours=3)).calls == 0  # never retried again
    assert len(send_calls(wecom_api)) == n
    # each of the five passes made one reminder call (no in-pass retry for 60020) and the last one a notice
    reminder_calls = [c for c in send_calls(wecom_api) if "u1" in c.json["touser"].split("|")]
    assert len(reminder_calls) == MAX_ATTEMPTS


def test_invalid_users_are_reported_to_the_office_and_not_retried(db: Database, wecom_api: WeComDouble,
                                                                  tmp_path) -> None:
    add_task(db, "m")
    add_person(db, "u1")
    add_person(db, "gone", name="钱青", village="青石村")
    add_person(db, "a1", role="admin", village="统战办")
    wecom_api.invalid_users.add("gone")
    eng, _ = make_engine(db, wecom_api, tmp_path)
    report = eng.run_pass(STAGE)
    assert statuses(report) == {"u1": "sent", "gone": "failed"}
    assert {r.userid: r.status for r in deliveries(db)} == {"u1": "sent", "gone": "invalid"}
    (notice,) = wecom_api.texts_to("a1")
    assert "钱青（青石村，账号 gone）：企业微信账号无效或不在应用可见范围" in notice
    n = len(send_calls(wecom_api))
    later = eng.run_pass(STAGE + timedelta(hours=2))
    assert statuses(later) == {"u1": "already-sent", "gone": "failed"}
    assert later.calls == 0 and len(send_calls(wecom_api)) == n


def test_all_recipients_invalid_81013(db: Database, wecom_api: WeComDouble, tmp_path) -> None:
    add_task(db, "m")
    add_person(db, "gone")
    wecom_api.invalid_users.add("gone")
    eng, _ = make_engine(db, wecom_api, tmp_path)
    assert statuses(eng.run_pass(STAGE)) == {"gone": "failed"}
    (row,) = deliveries(db)
    assert row.status == "invalid" and row.error.startswith("81013")
    assert len(send_calls(wecom_api)) == 1  # not retried


def test_person_taken_off_the_roster_after_a_failure_is_reported_once(db: Database, wecom_api: WeComDouble,
                                                                      tmp_path) -> None:
    add_task(db, "m")
    add_person(db, "u1", name="张红")
    add_person(db, "a1", role="admin", village="统战办")
    wecom_api.fail_next(4, -1, "message/send")
    eng, _ = make_engine(db, wecom_api, tmp_path)
    assert statuses(eng.run_pass(STAGE)) == {"u1": "failed"}
    set_active(db, "u1", False)
    report = eng.run_pass(STAGE + timedelta(minutes=5))
    assert [(u.userid, u.reason) for u in report.undelivered] == [("u1", "已不在花名册")]
    assert "张红" in wecom_api.texts_to("a1")[0]
    (row,) = [r for r in deliveries(db) if r.userid == "u1"]
    assert row.status == "invalid"
    assert eng.run_pass(STAGE + timedelta(minutes=10)).undelivered == []
    assert wecom_api.texts_to("u1") == []


def test_orphaned_pending_row_is_taken_over_after_the_lease(db: Database, wecom_api: WeComDouble, tmp_path) -> None:
    from scheduler.delivery import ClaimRequest, DeliveryLog

    t = add_task(db, "m")
    add_person(db, "u1")
    # a process claimed the row and died before sending
    DeliveryLog(db).claim([ClaimRequest(t, "u1", "2026-11", "d7", 0, 2)], STAGE)
    eng, _ = make_engine(db, wecom_api, tmp_path)
    assert statuses(eng.run_pass(STAGE + timedelta(minutes=1))) == {"u1": "already-sent"}
    # audit finding 6: what a stopped process left goes out within two minutes, not fifteen
    assert statuses(eng.run_pass(STAGE + timedelta(minutes=2, seconds=30))) == {"u1": "sent"}
    (row,) = deliveries(db)
    assert (row.status, row.attempts) == ("sent", 2)
