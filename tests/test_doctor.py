"""`run.py doctor`: every check passing on a good set-up, and each failing when its fault is injected.

WeCom's side is the HTTP double (its 40013/40001/60020/301002 errors and its Date header); the
callback check talks to the real app served by uvicorn; the database, Redis and corpus are real.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.doctor import emit, run_checks
from app.doctor_local import Check
from app.doctor_wecom import callback_url
from bot.config import Settings, build_settings
from bot.db.database import Database
from bot.testing.wecom_double import WeComDouble
from tests.helpers_http import free_port, serving

TOKEN, AES_KEY = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORPUS = Path(__file__).resolve().parent.parent / "knowledge" / "corpus"


@pytest.fixture
def api() -> Iterator[WeComDouble]:
    with WeComDouble() as double:
        yield double


def good_raw(tmp_path: Path, api: WeComDouble, sqlite_template: Path) -> dict:
    db_file = tmp_path / "bot.db"
    shutil.copy(sqlite_template, db_file)
    return {
        "database_url": f"sqlite:///{db_file}",
        "data_dir": str(tmp_path / "data"),
        "admin_password": "a-long-admin-password",
        "wecom": {**api.wecom_settings(), "token": TOKEN, "aes_key": AES_KEY},
        "knowledge": {"corpus_dir": str(CORPUS)},
    }


def settings_with(raw: dict, **changes: object) -> Settings:
    merged = {**raw, **{k: v for k, v in changes.items() if k != "wecom"}}
    merged["wecom"] = {**raw["wecom"], **dict(changes.get("wecom", {}))}  # type: ignore[arg-type]
    return build_settings(json.loads(json.dumps(merged)))


def by_id(checks: list[Check]) -> dict[str, Check]:
    return {c.id: c for c in checks}


@pytest.fixture
def raw(tmp_path: Path, api: WeComDouble, sqlite_template: Path) -> dict:
    return good_raw(tmp_path, api, sqlite_template)


@pytest.fixture
def public_url(raw: dict) -> Iterator[str]:
    """The real app, configured like the doctor, behind a real HTTP server."""
    from app.services import build_services
    from bot.web.app import create_app
    from bot.wecom.sender import LogSender

    services = build_services(settings_with(raw), sender=LogSender())
    try:
        with serving(create_app(services)) as base:
            yield base + "/wecom/callback"
    finally:
        services.close()


def test_good_setup_passes_every_check(raw: dict, public_url: str, api: WeComDouble) -> None:
    checks = run_checks(settings_with(raw), public_url=public_url)
    found = by_id(checks)
    assert [c.id for c in checks] == ["config", "wecom_settings", "database", "storage", "redis", "corpus",
                                      "wecom_token",
                                      "wecom_ip", "wecom_agent", "time_skew", "callback"]
    assert {cid: c.status for cid, c in found.items() if c.status != "pass"} == {"redis": "skip"}
    assert api.agent_name in found["wecom_agent"].detail
    assert "条" in found["corpus"].detail and found["corpus"].detail.startswith(f"{len(list(CORPUS.iterdir()))} 个文件")
    assert [c.endpoint for c in api.calls] == ["gettoken", "agent/get"]  # read-only calls, nothing sent


def test_cli_exit_status_and_json(raw: dict, api: WeComDouble, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import yaml

    from app.cli import main

    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({k: v for k, v in raw.items() if k != "admin_password"}), encoding="utf-8")
    for name in ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_AGENT_ID", "WECOM_TOKEN", "WECOM_AES_KEY", "DATABASE_URL",
                 "REDIS_URL", "WECOM_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_CONFIG", str(cfg))
    monkeypatch.setenv("BOT_ADMIN_PASSWORD", raw["admin_password"])
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and len(report["checks"]) == 11
    api.refuse_ip("198.51.100.23")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[失败] 企业可信IP" in out and "198.51.100.23" in out and "处理：" in out
    monkeypatch.setenv("BOT_ADMIN_PASSWORD", "short")  # invalid config: the doctor says so, exit 1
    assert main(["doctor", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["checks"][0]["status"] == "fail" and "BOT_ADMIN_PASSWORD" in report["checks"][0]["detail"]


def test_bad_corp_id(raw: dict) -> None:
    found = by_id(run_checks(settings_with(raw, wecom={"corp_id": "wwnotthiscorp"})))
    assert found["wecom_token"].status == "fail" and "40013" in found["wecom_token"].detail
    assert found["wecom_ip"].status == found["wecom_agent"].status == "skip"


def test_bad_secret(raw: dict) -> None:
    found = by_id(run_checks(settings_with(raw, wecom={"secret": "a-secret-of-another-app"})))
    assert found["wecom_token"].status == "fail" and "40001" in found["wecom_token"].detail
    assert "WECOM_SECRET" in found["wecom_token"].fix


def test_untrusted_ip_names_the_ip_to_add(raw: dict, api: WeComDouble) -> None:
    api.refuse_ip("203.0.113.9")
    found = by_id(run_checks(settings_with(raw)))
    assert found["wecom_token"].status == "pass"  # gettoken is not IP-checked; agent/get is
    assert found["wecom_ip"].status == "fail" and "60020" in found["wecom_ip"].detail
    assert "203.0.113.9" in found["wecom_ip"].fix and "企业可信IP" in found["wecom_ip"].fix
    assert found["wecom_agent"].status == "skip"


def test_agent_id_of_another_app(raw: dict, api: WeComDouble) -> None:
    found = by_id(run_checks(settings_with(raw, wecom={"agent_id": api.agent_id + 1})))
    assert found["wecom_ip"].status == "pass"
    assert found["wecom_agent"].status == "fail" and "301002" in found["wecom_agent"].detail


@pytest.mark.parametrize(("skew", "status"), [(0, "pass"), (-75, "warn"), (400, "fail"), (-400, "fail")])
def test_time_skew_against_the_date_header(raw: dict, api: WeComDouble, skew: int, status: str) -> None:
    api.skew_clock(skew)
    check = by_id(run_checks(settings_with(raw)))["time_skew"]
    assert check.status == status
    import re

    found = re.search(r"(快|慢) (\d+) 秒", check.detail)
    shown = 0 if found is None else int(found.group(2)) * (-1 if found.group(1) == "快" else 1)
    assert abs(shown - skew) <= 1  # the Date header has whole seconds; 快 = our clock is ahead of WeCom's


def test_wecom_unreachable(raw: dict) -> None:
    found = by_id(run_checks(settings_with(raw, wecom={"api_base": f"http://127.0.0.1:{free_port()}/cgi-bin/"})))
    assert found["wecom_token"].status == "fail" and "连不上" in found["wecom_token"].detail
    assert found["time_skew"].status == "skip"


def test_wecom_settings_missing(raw: dict) -> None:
    raw = {**raw, "wecom": {"api_base": raw["wecom"]["api_base"]}}
    found = by_id(run_checks(settings_with(raw)))
    assert found["wecom_settings"].status == "fail" and "WECOM_SECRET" in found["wecom_settings"].detail
    assert {found[c].status for c in ("wecom_token", "wecom_ip", "wecom_agent", "time_skew")} == {"skip"}


def test_database_unreachable_and_unmigrated(raw: dict, tmp_path: Path) -> None:
    down = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    check = by_id(run_checks(settings_with(raw, database_url=down)))["database"]
    assert check.status == "fail" and "连不上" in check.detail
    missing = by_id(run_checks(settings_with(raw, database_url=f"sqlite:///{tmp_path / 'no.db'}")))["database"]
    assert missing.status == "fail" and "db upgrade" in missing.fix
    assert not (tmp_path / "no.db").exists()  # the doctor never creates a database
    old = tmp_path / "old.db"
    db = Database(f"sqlite:///{old}")
    db.upgrade("0001")
    db.dispose()
    check = by_id(run_checks(settings_with(raw, database_url=f"sqlite:///{old}")))["database"]
    assert check.status == "fail" and "0001" in check.detail and "db upgrade" in check.fix


def test_database_on_postgresql(raw: dict, pg_url: str) -> None:
    assert by_id(run_checks(settings_with(raw, database_url=pg_url)))["database"].status == "pass"


def test_redis_reachable_and_not(raw: dict, redis_client: object) -> None:
    from tests.conftest import REDIS_URL

    assert by_id(run_checks(settings_with(raw, redis_url=REDIS_URL)))["redis"].status == "pass"
    bad = by_id(run_checks(settings_with(raw, redis_url=f"redis://127.0.0.1:{free_port()}/0")))["redis"]
    assert bad.status == "fail" and "REDIS_URL" in bad.fix


def test_data_dir_not_writable(raw: dict, tmp_path: Path) -> None:
    import os

    blocker = tmp_path / "a-file"  # a file where a folder should be: unusable even for root
    blocker.write_text("x", encoding="utf-8")
    check = by_id(run_checks(settings_with(raw, data_dir=str(blocker / "data"))))["storage"]
    assert check.status == "fail" and "chown" in check.fix
    if os.geteuid() != 0:  # permissions only bind other users
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        check = by_id(run_checks(settings_with(raw, data_dir=str(locked / "data"))))["storage"]
        assert check.status == "fail"


def test_data_dir_to_be_created_is_fine(raw: dict, tmp_path: Path) -> None:
    check = by_id(run_checks(settings_with(raw, data_dir=str(tmp_path / "new" / "data"))))["storage"]
    assert check.status == "pass" and "还不存在" in check.detail
    assert not (tmp_path / "new").exists()


def test_corpus_missing_and_unreadable(raw: dict, tmp_path: Path) -> None:
    check = by_id(run_checks(settings_with(raw, knowledge={"corpus_dir": str(tmp_path / "none")})))["corpus"]
    assert check.status == "fail"
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.txt").write_text("一、总体要求\n各村居每月开展一次政策宣讲活动。\n", encoding="utf-8")
    (folder / "broken.docx").write_bytes(b"this is not a zip file")
    check = by_id(run_checks(settings_with(raw, knowledge={"corpus_dir": str(folder)})))["corpus"]
    assert check.status == "fail" and "broken.docx" in check.detail and "good.txt" not in check.detail.split("读不了")[1]


def test_callback_answers_verification(raw: dict, public_url: str) -> None:
    assert by_id(run_checks(settings_with(raw), public_url=public_url))["callback"].status == "pass"


def test_callback_with_another_token_is_refused(raw: dict, public_url: str) -> None:
    check = by_id(run_checks(settings_with(raw, wecom={"token": "anotherToken"}), public_url=public_url))["callback"]
    assert check.status == "fail" and "403" in check.detail


def test_callback_not_listening_or_not_the_bot(raw: dict, public_url: str) -> None:
    check = by_id(run_checks(settings_with(raw), public_url=f"http://127.0.0.1:{free_port()}"))["callback"]
    assert check.status == "fail" and "连接被拒绝" in check.detail
    elsewhere = public_url.replace("/wecom/callback", "/healthz")
    check = by_id(run_checks(settings_with(raw), public_url=elsewhere))["callback"]
    assert check.status == "fail" and "echostr" in check.detail


def test_callback_unconfigured_server(raw: dict, api: WeComDouble) -> None:
    from app.services import build_services
    from bot.web.app import create_app
    from bot.wecom.sender import LogSender

    server_settings = build_settings({"database_url": raw["database_url"], "data_dir": raw["data_dir"]})
    services = build_services(server_settings, sender=LogSender())
    try:
        with serving(create_app(services)) as base:
            check = by_id(run_checks(settings_with(raw), public_url=base + "/wecom/callback"))["callback"]
    finally:
        services.close()
    assert check.status == "fail" and "503" in check.detail and "WECOM_TOKEN" in check.fix


def test_callback_url_from_a_bare_domain() -> None:
    assert callback_url("bot.example.cn") == "https://bot.example.cn/wecom/callback"
    assert callback_url("https://bot.example.cn/") == "https://bot.example.cn/wecom/callback"
    assert callback_url("https://bot.example.cn/zt/wecom/callback") == "https://bot.example.cn/zt/wecom/callback"


def test_text_output_has_a_fix_for_each_failure(raw: dict, api: WeComDouble) -> None:
    import io

    api.refuse_ip("203.0.113.9")
    out = io.StringIO()
    assert emit(run_checks(settings_with(raw, redis_url=f"redis://127.0.0.1:{free_port()}/0")), False, out) == 1
    lines = out.getvalue().splitlines()
    failures = [i for i, line in enumerate(lines) if line.startswith("[失败]")]
    assert len(failures) == 2
    assert all(lines[i + 1].strip().startswith("处理：") for i in failures)
    assert lines[-1].startswith("结果：2 项失败")
