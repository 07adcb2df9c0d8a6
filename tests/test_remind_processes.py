"""Several OS processes doing a pass at the same moment on one PostgreSQL + Redis: each reminder goes out once.

Counted where it matters, at the WeCom API double: every person behind appears in exactly one
successful message/send call, whichever process sent it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.config import ROOT
from bot.db.database import Database
from bot.testing.wecom_double import WeComDouble
from tests.conftest import REDIS_URL, make_database
from tests.helpers_remind import add_people, add_reports, add_task, deliveries, sh

pytestmark = [pytest.mark.slow]
AT = sh(2026, 11, 23, 9, 45)  # after the stages (09:20, 09:30) and a 400-person roster's 2-minute spread


@pytest.fixture
def pg_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    db = make_database("postgres", request, tmp_path)
    yield db
    db.dispose()


def seed(db: Database, n: int) -> int:
    """n liaisons on two tasks with mixed progress; returns how many (person, task) pairs are behind."""
    a = add_task(db, "info", title="工作动态信息", target=2)
    b = add_task(db, "talk", title="民族团结宣讲", target=1, cadence="quarterly",
                 reminder_stages=[{"days_before": 38, "time": "09:30"}])  # Dec 31 - 38 = Nov 23
    add_people(db, [{"userid": f"p{i:04d}", "village": f"第{i % 7}村"} for i in range(n)])
    behind = 2 * n
    for i in range(n):
        if i % 3 == 0:
            add_reports(db, f"p{i:04d}", a, date(2026, 11, 4))  # 1/2: still behind
        if i % 5 == 0:
            add_reports(db, f"p{i:04d}", b, date(2026, 10, 20))  # 1/1: on track
            behind -= 1
    return behind


def assert_each_once(api: WeComDouble, expected_pairs: int, db: Database) -> None:
    # One text per person, or (with cards, issue 13) one card per person and task: never the same twice.
    per_message = Counter((u, m["template_card"]["task_id"] if m["msgtype"] == "template_card" else "text")
                          for m in api.sent_messages() for u in m["touser"].split("|"))
    assert per_message and max(per_message.values()) == 1, "someone got the same reminder twice"
    rows = deliveries(db)
    assert len(rows) == expected_pairs and {r.status for r in rows} == {"sent"}
    assert len({u for u, _ in per_message}) == len({r.userid for r in rows})


@pytest.mark.postgres
@pytest.mark.redis
def test_two_processes_same_moment_multiprocessing(pg_db: Database, pg_url: str, redis_client: object) -> None:
    from tests.helpers_remind import pass_in_process

    expected = seed(pg_db, 400)
    prefix = f"ztbot-test:{uuid.uuid4().hex[:12]}:"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    out = ctx.Queue()
    with WeComDouble() as api:
        api.set_latency(0.03, "message/send")  # keep both passes in flight together
        procs = [ctx.Process(target=pass_in_process,
                             args=(pg_url, REDIS_URL, prefix, api.wecom_settings(), AT.isoformat(), barrier, out))
                 for _ in range(3)]
        for p in procs:
            p.start()
        results = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=30)
            assert p.exitcode == 0
        assert_each_once(api, expected, pg_db)
    sent_by = Counter(key for r in results for key, status in r.items() if status == "sent")
    assert len(sent_by) == expected and set(sent_by.values()) == {1}
    for r in results:  # every process saw every pair: sent by itself, already sent by another, or on track
        assert set(r.values()) <= {"sent", "already-sent", "on-track"}
        assert sum(1 for s in r.values() if s != "on-track") == expected
    print("sent per process:", [sum(1 for s in r.values() if s == "sent") for r in results])


def remind_cmd(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), "remind", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def cli_env(tmp_path: Path, db_url: str, api: WeComDouble | None, redis_url: str | None, **extra: str) -> dict[str, str]:
    config = tmp_path / "config.yaml"
    config.write_text(f"tasks_file: {tmp_path / 'no-tasks.yaml'}\ndata_dir: {tmp_path / 'data'}\nlog_level: WARNING\n"
                      + extra.pop("config_extra", ""), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "REDIS_", "DATABASE_", "BOT_"))}
    env.update({"BOT_CONFIG": str(config), "DATABASE_URL": db_url, "TZ": "UTC", **extra})
    if redis_url:
        env["REDIS_URL"] = redis_url
    if api is not None:
        env.update({"WECOM_CORP_ID": api.corp_id, "WECOM_SECRET": api.secret, "WECOM_AGENT_ID": str(api.agent_id),
                    "WECOM_API_BASE": api.base_url})
    return env


@pytest.mark.postgres
@pytest.mark.redis
def test_two_run_py_remind_processes_at_once(pg_db: Database, pg_url: str, redis_client: object,
                                             tmp_path: Path) -> None:
    expected = seed(pg_db, 150)
    with WeComDouble() as api:
        api.set_latency(0.03, "message/send")
        env = cli_env(tmp_path, pg_url, api, REDIS_URL)
        procs = [remind_cmd(env, "--at", AT.isoformat(), "--json") for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
        assert_each_once(api, expected, pg_db)
    lines = [json.loads(line) for out, _ in outs for line in out.splitlines()]
    assert set(lines[0]) == {"userid", "task", "period", "done", "target", "status"}
    sent = Counter((x["userid"], x["task"]) for x in lines if x["status"] == "sent")
    assert len(sent) == expected and set(sent.values()) == {1}
    # a third run later is idempotent: nothing sent, everything behind is already-sent
    with WeComDouble() as api2:
        env = cli_env(tmp_path, pg_url, api2, REDIS_URL)
        out, err = remind_cmd(env, "--at", AT.replace(minute=45).isoformat(), "--json").communicate(timeout=120)
        assert api2.calls_to("message/send") == []
    statuses = Counter(json.loads(line)["status"] for line in out.splitlines())
    assert statuses["already-sent"] == expected and statuses["sent"] == 0


def test_serve_and_a_cron_remind_on_the_embedded_sqlite(sqlite_db: Database, tmp_path: Path) -> None:
    """The default set-up (SQLite, no Redis) with two `run.py remind` at once: still each reminder once."""
    expected = seed(sqlite_db, 150)
    with WeComDouble() as api:
        api.set_latency(0.03, "message/send")
        env = cli_env(tmp_path, sqlite_db.url, api, None)
        procs = [remind_cmd(env, "--at", AT.isoformat(), "--json") for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
        assert_each_once(api, expected, sqlite_db)
