"""The scheduler inside `serve`: catch-up pass at start-up, in-memory job store, one leader via Redis."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import redis
from apscheduler.jobstores.memory import MemoryJobStore

from bot.clock import FixedClock
from bot.config import Settings
from bot.db.database import Database
from bot.state.memory import MemoryStateStore
from bot.state.redis import RedisStateStore
from bot.wecom.sender import LogSender
from scheduler.leader import RedisLeaderLock, SoleLeader, build_leadership
from scheduler.runner import ReminderScheduler, start_hook
from tests.conftest import make_settings
from tests.helpers_remind import add_person, add_task, deliveries, make_services, sh


@pytest.fixture
def settings(tmp_path) -> Settings:
    """No tasks file: the tests' tasks live in the database only (a file would be synced over them)."""
    return make_settings(tmp_path, tasks_file=str(tmp_path / "no-tasks.yaml"))


def wait_for(predicate, timeout: float = 10.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_start_runs_a_catch_up_pass_at_once_and_shutdown_stops(db: Database, settings: Settings) -> None:
    add_task(db, "m")
    add_person(db, "u1")
    sender = LogSender()
    # the service comes up two days after the 7-day stage: the first pass sends it, once
    services = make_services(settings, db, FixedClock(sh(2026, 11, 25, 10, 0)), sender)
    sched = ReminderScheduler(services, interval_s=3600)
    assert isinstance(sched.leadership, SoleLeader)
    sched.start()
    try:
        assert wait_for(lambda: sched.last_report is not None)
        assert isinstance(sched._scheduler._jobstores["default"], MemoryJobStore)  # never a shared store
        assert {j.id for j in sched._scheduler.get_jobs()} == {"reminder-pass", "leader-renew"}
    finally:
        sched.shutdown()
    assert len(sender.texts_to("u1")) == 1
    assert sched._scheduler is None
    later = sched.tick()  # a later tick finds nothing new (and does not even look at final rows)
    assert later is not None and later.counts() == {} and len(sender.texts_to("u1")) == 1


def test_disabled_reminders_start_nothing(db: Database, tmp_path) -> None:
    settings = make_settings(tmp_path, reminders={"enabled": False}, tasks_file=str(tmp_path / "none.yaml"))
    sched = ReminderScheduler(make_services(settings, db))
    sched.start()
    assert sched._scheduler is None
    sched.shutdown()


def test_start_hook_returns_the_stop(db: Database, settings: Settings) -> None:
    from bot.testing.wecom_double import WeComDouble
    from bot.wecom.sender import WeComSender

    with WeComDouble() as api:
        sender = WeComSender(api.corp_id, api.secret, api.agent_id, api_base=api.base_url)
        stop = start_hook(make_services(settings, db, sender=sender))
        assert stop is not None
        stop()


def test_start_hook_without_a_secret_schedules_nothing(db: Database, settings: Settings) -> None:
    """Regression: passes through the log-only sender would use up reminders that nobody received."""
    assert start_hook(make_services(settings, db, sender=LogSender())) is None


@pytest.mark.redis
def test_only_one_process_leads_and_a_dead_leader_is_replaced(redis_client: redis.Redis) -> None:
    key = f"ztbot-test:{uuid.uuid4().hex[:12]}:scheduler:leader"
    a = RedisLeaderLock(redis_client, key, ttl_s=0.4)
    b = RedisLeaderLock(redis_client, key, ttl_s=0.4)
    try:
        assert a.ensure() and not b.ensure()
        assert a.holder() == a.token
        for _ in range(4):  # a keeps renewing past the TTL: b never gets in
            time.sleep(0.15)
            assert a.ensure() and not b.ensure()
        time.sleep(0.6)  # a stops renewing (crash): its lease expires
        assert b.ensure() and b.holder() == b.token
        assert not a.ensure() and not a.is_leader  # a notices it lost the lease
        b.release()
        assert a.ensure()
    finally:
        a.release()
        b.release()
    assert redis_client.get(key) is None


@pytest.mark.redis
def test_two_schedulers_on_one_redis_only_the_leader_passes(db: Database, settings: Settings,
                                                            redis_client: redis.Redis) -> None:
    add_task(db, "m")
    add_person(db, "u1")
    prefix = f"ztbot-test:{uuid.uuid4().hex[:12]}:"
    clock = FixedClock(sh(2026, 11, 23, 9, 30))
    senders = [LogSender(), LogSender()]
    scheds = [ReminderScheduler(make_services(settings, db, clock, s, RedisStateStore(redis_client, prefix)))
              for s in senders]
    try:
        first, second = (s.tick() for s in scheds)
        assert first is not None and first.counts() == {"sent": 1}
        assert second is None  # not the leader: no pass at all
        assert [len(s.sent) for s in senders] == [1, 0]
        scheds[0].shutdown()  # the leader stops: the other takes over on its next tick
        assert scheds[1].tick() is not None
    finally:
        for s in scheds:
            s.shutdown()
    assert len(deliveries(db)) == 1


def test_memory_state_means_sole_leader() -> None:
    assert isinstance(build_leadership(MemoryStateStore()), SoleLeader)


def test_a_pass_picks_up_the_offices_edits_to_the_tasks_file(db: Database, tmp_path) -> None:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text("tasks:\n- {key: info, title: 工作动态信息, cadence: monthly, target: 1}\n", encoding="utf-8")
    settings = make_settings(tmp_path, tasks_file=str(tasks))
    add_person(db, "u1")
    sender = LogSender()
    clock = FixedClock(sh(2026, 11, 23, 9, 30))
    sched = ReminderScheduler(make_services(settings, db, clock, sender))
    assert sched.tick().counts() == {"sent": 1}
    # the office adds its own stage on the 26th; the next pass uses it without a restart
    tasks.write_text("tasks:\n- {key: info, title: 工作动态信息, cadence: monthly, target: 1,\n"
                     "   reminder_stages: [{days_before: 3, time: '15:00'}]}\n", encoding="utf-8")
    os.utime(tasks, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    clock.set(sh(2026, 11, 27, 15, 0))
    assert sched.tick().counts() == {"sent": 1}
    assert [r.stage for r in deliveries(db)] == ["d7", "d3"]


def test_serve_start_hook_runs_the_catch_up_pass_and_stops_with_the_app(tmp_path) -> None:
    """Through the web app's start/stop hooks, as `serve` runs it (real clock, so a stage that is always live)."""
    from starlette.testclient import TestClient

    from app.serve import _resolve, build_app
    from bot.testing.wecom_double import WeComDouble

    tasks = tmp_path / "tasks.yaml"
    tasks.write_text("tasks:\n- {key: info, title: 工作动态信息, cadence: monthly, target: 1,\n"
                     "   reminder_stages: [{days_before: 31, time: '00:00'}]}\n", encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    db = Database(db_url)
    db.upgrade()
    add_person(db, "u1")
    with WeComDouble() as api:
        settings = make_settings(tmp_path, database_url=db_url, tasks_file=str(tasks), wecom=api.wecom_settings(),
                                 reminders={"quiet_start": "00:00", "quiet_end": "00:00"})
        app = build_app(settings, [_resolve("scheduler.runner:start_hook")])
        with TestClient(app):
            assert wait_for(lambda: len(api.texts_to("u1")) == 1)
            assert wait_for(lambda: [r.status for r in deliveries(db)] == ["sent"])
        assert len(api.texts_to("u1")) == 1
    db.dispose()
