"""/metrics after a conversation over encrypted callbacks; its access rules; one-line JSON logs."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from app.services import build_services
from bot.clock import FixedClock
from bot.state.memory import MemoryStateStore
from bot.testing.wecom_double import CallbackBuilder
from bot.web.app import create_app
from bot.wecom.sender import LogSender
from tests.conftest import make_settings
from tests.helpers_reports import use_test_tasks

TOKEN, AES_KEY, CORP = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
METRICS_TOKEN = "scrape-token-0123456789"
PASSWORD = "an-admin-password"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by (name, sorted labels); parsing also checks the format."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


class App:
    def __init__(self, client: TestClient, services: Any, clock: FixedClock) -> None:
        self.client, self.services, self.clock = client, services, clock
        self.wecom = CallbackBuilder(TOKEN, AES_KEY, CORP)
        self.ids = iter(range(50_000, 60_000))

    def say(self, user: str, text: str) -> int:
        now = int(self.clock.now().timestamp())
        query, body = self.wecom.text(user, text, str(next(self.ids)), now)
        return self.client.post("/wecom/callback", params=query, content=body).status_code

    def scrape(self, **headers: str) -> Any:
        return self.client.get("/metrics", headers=headers)

    def metrics(self) -> dict:
        r = self.scrape(authorization=f"Bearer {METRICS_TOKEN}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        return samples(r.text)


def _app(tmp_path: Path, db: Any, clock: FixedClock, **overrides: Any) -> Iterator[App]:
    settings = make_settings(tmp_path, wecom={"token": TOKEN, "aes_key": AES_KEY, "corp_id": CORP}, **overrides)
    services = build_services(settings, clock=clock, sender=LogSender(), db=db, state=MemoryStateStore())
    use_test_tasks(services, tmp_path)
    with TestClient(create_app(services)) as client:
        yield App(client, services, clock)
    services.close()


@pytest.fixture
def app(tmp_path: Path, db: Any, clock: FixedClock) -> Iterator[App]:
    yield from _app(tmp_path, db, clock, metrics_token=METRICS_TOKEN, admin_password=PASSWORD)


def delta(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_after_a_conversation(app: App) -> None:
    questions = ["宗教活动场所开展活动需要报备吗", "明天会下雨吗"]
    bands = []
    for q in questions:  # the band each question falls in, asked of the knowledge base directly
        result = app.services.retriever.search(q, top=3)
        bands.append("answered" if result.answered else
                     "did_you_mean" if getattr(result, "did_you_mean", None) else "declined")
    assert len(set(bands)) >= 2  # the conversation covers more than one band
    before = app.metrics()
    for q in questions:
        assert app.say("li", q) == 200
    assert app.say("li", "报送 今天在红山郡社区开展民族团结宣讲，30人参加") == 200
    query, body = app.wecom.text("li", "伪造", "1", int(app.clock.now().timestamp()))
    query["msg_signature"] = "0" * 40
    assert app.client.post("/wecom/callback", params=query, content=body).status_code == 403
    after = app.metrics()

    assert delta(before, after, "ztbot_callbacks_total", outcome="replied") == 3
    assert delta(before, after, "ztbot_callbacks_total", outcome="refused_403") == 1
    assert delta(before, after, "ztbot_reply_seconds_count") == 3
    for band in ("answered", "did_you_mean", "declined"):
        assert delta(before, after, "ztbot_answers_total", band=band) == bands.count(band), band
    assert delta(before, after, "ztbot_reports_total", outcome="stored") == 1
    assert delta(before, after, "ztbot_reports_total", outcome="spooled") == 0
    for queue in ("message-log", "review-log", "report-spool"):
        assert after[("ztbot_queue_depth", (("queue", queue),))] >= 0
    assert after[("ztbot_queue_depth", (("queue", "report-spool"),))] == 0


def test_state_errors_spooled_reports_and_spool_depth(app: App) -> None:
    from bot.state.base import StateUnavailable
    from tracking.service import spool_report

    before = app.metrics()
    try:
        raise StateUnavailable("redis went away")
    except StateUnavailable:
        pass
    # what the report handler does when the database is down
    app.services.extras["report_spool_interval_s"] = 3600.0  # the drainer waits; the spool stays full
    spool_report(app.services, userid="li", text="报送 今天开展宣讲", msg_key="k-spooled",
                 today=app.clock.now().date())
    after = app.metrics()
    assert delta(before, after, "ztbot_state_errors_total") == 1
    assert delta(before, after, "ztbot_reports_total", outcome="spooled") == 1
    assert delta(before, after, "ztbot_db_errors_total", where="report") == 1
    assert after[("ztbot_queue_depth", (("queue", "report-spool"),))] == 1


def test_metrics_need_the_token_or_the_admin_password(app: App) -> None:
    assert app.scrape().status_code == 401
    assert app.scrape(authorization="Bearer wrong-token-0123456789").status_code == 401
    basic = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    assert app.scrape(authorization=f"Basic {basic}").status_code == 200
    wrong = base64.b64encode(b"admin:not-the-password").decode()
    assert app.scrape(authorization=f"Basic {wrong}").status_code == 401
    assert app.scrape(authorization=f"Bearer {METRICS_TOKEN}").status_code == 200


def test_metrics_are_off_without_token_or_password(tmp_path: Path, sqlite_db: Any, clock: FixedClock) -> None:
    for app in _app(tmp_path, sqlite_db, clock):
        r = app.scrape(authorization=f"Bearer {METRICS_TOKEN}")
        assert r.status_code == 403 and "metrics_token" in r.text


def test_json_logs_are_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.logs import configure_logging

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("INFO", "json")
        log = logging.getLogger("ztbot.test")
        log.info("第一行\n第二行 %s", "值", extra={"userid": "li"})
        try:
            raise ValueError("坏了")
        except ValueError:
            log.exception("failed")
        lines = capsys.readouterr().err.strip().split("\n")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["level"], first["logger"], first["msg"], first["userid"]) == ("INFO", "ztbot.test",
                                                                                "第一行\n第二行 值", "li")
    assert second["level"] == "ERROR" and "ValueError: 坏了" in second["exc"]


def test_log_format_is_validated(tmp_path: Path) -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="log_format"):
        make_settings(tmp_path, log_format="xml")
    with pytest.raises(ConfigError, match="BOT_METRICS_TOKEN"):
        make_settings(tmp_path, metrics_token="short")


def test_reminders_are_counted_by_status(sqlite_db: Any, settings: Any) -> None:
    from bot.metrics import REGISTRY
    from scheduler.engine import ReminderEngine
    from tests.helpers_remind import add_person, add_reports, add_task, make_services, sh

    def value(status: str) -> float:
        return REGISTRY.get_sample_value("ztbot_reminders_total", {"status": status}) or 0.0

    task = add_task(sqlite_db, "info", title="工作动态信息", target=2)
    for user in ("u1", "u2"):
        add_person(sqlite_db, user)
    add_reports(sqlite_db, "u2", task, sh(2026, 11, 5).date(), n=2)
    services = make_services(settings, sqlite_db, FixedClock(sh(2026, 11, 23, 9, 30)), LogSender())
    engine = ReminderEngine(services, backoff_s=0.0)
    try:
        before = {s: value(s) for s in ("sent", "already-sent", "on-track", "dry-run")}
        engine.run_pass(sh(2026, 11, 23, 9, 30), dry_run=True)
        engine.run_pass(sh(2026, 11, 23, 9, 30))
        engine.run_pass(sh(2026, 11, 23, 9, 31))
        after = {s: value(s) for s in before}
    finally:
        services.close()
    # u1 is behind: sent once, then already-sent; u2 is on track (not a reminder); dry runs are not counted
    assert {s: after[s] - before[s] for s in before} == {"sent": 1, "already-sent": 1, "on-track": 0, "dry-run": 0}
