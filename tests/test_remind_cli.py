"""`run.py remind [--at] [--dry-run] [--json]` as INTERFACE.md promises, including on a UTC host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.cli import main
from bot.db.database import Database
from bot.testing.wecom_double import WeComDouble
from tests.helpers_remind import add_person, add_reports, add_task, deliveries
from tests.test_remind_processes import cli_env, remind_cmd

KEYS = {"userid", "task", "period", "done", "target", "status"}


@pytest.fixture
def api() -> Iterator[WeComDouble]:
    with WeComDouble() as double:
        yield double


@pytest.fixture
def cli(sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: WeComDouble):  # noqa: ANN201
    config = tmp_path / "config.yaml"
    config.write_text(f"tasks_file: {tmp_path / 'none.yaml'}\ndata_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    for name in ("REDIS_URL", "BOT_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"WECOM_CORP_ID": api.corp_id, "WECOM_SECRET": api.secret,
                        "WECOM_AGENT_ID": str(api.agent_id), "WECOM_API_BASE": api.base_url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    t = add_task(sqlite_db, "m", title="工作动态信息", target=2)
    add_person(sqlite_db, "u1")
    add_person(sqlite_db, "u2")
    add_reports(sqlite_db, "u2", t, date(2026, 11, 3), n=2)
    return sqlite_db


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, list[dict], str]:
    code = main(["remind", *args])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()] if "--json" in args else []
    return code, lines, out + err


def by_user(lines: list[dict]) -> dict[str, str]:
    return {x["userid"]: x["status"] for x in lines}


def test_json_lines_and_idempotence(cli: Database, capsys: pytest.CaptureFixture) -> None:
    code, lines, _ = run(capsys, "--at", "2026-11-23T09:30", "--json")  # no offset: office-local time
    assert code == 0
    assert all(set(x) == KEYS for x in lines)
    assert lines == [
        {"userid": "u1", "task": "工作动态信息", "period": "2026-11", "done": 0, "target": 2, "status": "sent"},
        {"userid": "u2", "task": "工作动态信息", "period": "2026-11", "done": 2, "target": 2, "status": "on-track"},
    ]
    code, lines, _ = run(capsys, "--at", "2026-11-23T01:31:00Z", "--json")
    assert code == 0 and by_user(lines) == {"u1": "already-sent", "u2": "on-track"}
    assert len(deliveries(cli)) == 1


def test_statuses_not_due_quiet_dry_run(cli: Database, capsys: pytest.CaptureFixture) -> None:
    assert by_user(run(capsys, "--at", "2026-11-22T10:00+08:00", "--json")[1])["u1"] == "not-due"
    assert by_user(run(capsys, "--at", "2026-11-23T22:00+08:00", "--json")[1])["u1"] == "quiet-hours"
    assert by_user(run(capsys, "--at", "2026-11-24T10:00+08:00", "--dry-run", "--json")[1])["u1"] == "dry-run"
    assert deliveries(cli) == []
    code, _, text = run(capsys, "--at", "2026-11-24T10:00+08:00")
    assert code == 0 and "sent 1" in text and "on-track 1" in text and "API calls 1" in text


@pytest.mark.parametrize("bad", [["--at", "next monday"], ["--at", "2026-13-01"], ["--bogus"]])
def test_bad_usage_exits_2_with_one_line(cli: Database, capsys: pytest.CaptureFixture, bad: list[str]) -> None:
    code = main(["remind", *bad])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_failed_delivery_is_reported_and_exit_status_1(cli: Database, api: WeComDouble,
                                                       capsys: pytest.CaptureFixture) -> None:
    api.fail_always(60020, "message/send")
    code, lines, _ = run(capsys, "--at", "2026-11-23T09:30", "--json")
    assert code == 1 and by_user(lines)["u1"] == "failed"


def test_without_a_secret_nothing_is_claimed(cli: Database, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture) -> None:
    """Regression: a pass through the log-only sender used to mark the stage's reminders as sent."""
    monkeypatch.delenv("WECOM_SECRET")
    code, lines, text = run(capsys, "--at", "2026-11-23T09:30", "--json")
    assert code == 0 and by_user(lines)["u1"] == "dry-run" and "WECOM_SECRET" in text
    assert deliveries(cli) == []


def test_office_timezone_on_a_utc_host(sqlite_db: Database, tmp_path: Path, api: WeComDouble) -> None:
    """A TZ=UTC process: dates, periods and quiet hours still follow Asia/Shanghai (UTC+8)."""
    add_task(sqlite_db, "m", title="工作动态信息", target=1, reminder_stages=[{"days_before": 0, "time": "06:00"}])
    add_person(sqlite_db, "u1")
    env = cli_env(tmp_path, sqlite_db.url, api, None,
                  config_extra='reminders:\n  quiet_start: "23:30"\n  quiet_end: "06:30"\n')

    def remind(at: str) -> tuple[str, str]:
        out, err = remind_cmd(env, "--at", at, "--json").communicate(timeout=60)
        (line,) = out.splitlines()
        x = json.loads(line)
        return x["period"], x["status"]

    assert remind("2026-11-29T21:00:00Z") == ("2026-11", "not-due")  # 05:00 on the 30th local: before the stage
    assert remind("2026-11-29T22:00:00Z") == ("2026-11", "quiet-hours")  # 06:00 local: stage due, still quiet
    assert remind("2026-11-29T22:30:00Z") == ("2026-11", "sent")  # 06:30 local: quiet hours over
    assert remind("2026-11-30T17:00:00Z") == ("2026-12", "not-due")  # already 1 December in Shanghai
    assert len([m for m in api.sent_messages() if "u1" in m["touser"].split("|")]) == 1  # a card, by default


def test_bad_off_days_setting_exits_2_naming_the_key(cli: Database, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"tasks_file: {tmp_path / 'none.yaml'}\nreminders:\n  off_days: [国庆]\n", encoding="utf-8")
    monkeypatch.setenv("BOT_CONFIG", str(config))
    code = main(["remind", "--at", "2026-11-23T09:30"])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("config: reminders.off_days") and len(err.strip().splitlines()) == 1
