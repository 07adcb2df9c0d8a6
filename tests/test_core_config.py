"""Settings: safe defaults, environment wins, invalid values name their key, secrets never echoed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ROOT, ConfigError, describe, load_settings

AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def test_shipped_config_loads_with_safe_defaults() -> None:
    s = load_settings(ROOT / "config.yaml", env={})
    assert s.database_url == "sqlite:///data/bot.db"
    assert s.redis_url is None
    assert s.timezone == "Asia/Shanghai"
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.wecom.callback_ready is False
    assert s.wecom.secret is None and s.admin_password is None


def test_environment_wins_over_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("timezone: Asia/Urumqi\nwecom:\n  corp_id: fromfile\n", encoding="utf-8")
    s = load_settings(cfg, env={"WECOM_CORP_ID": "fromenv", "REDIS_URL": "redis://127.0.0.1:6379/3",
                                "WECOM_AES_KEY": AES, "WECOM_AGENT_ID": "1000002"})
    assert s.wecom.corp_id == "fromenv"
    assert s.timezone == "Asia/Urumqi"
    assert s.redis_url == "redis://127.0.0.1:6379/3"
    assert s.wecom.agent_id == 1000002


def test_bot_config_points_at_another_file(tmp_path: Path) -> None:
    cfg = tmp_path / "other.yaml"
    cfg.write_text("port: 9001\n", encoding="utf-8")
    assert load_settings(env={"BOT_CONFIG": str(cfg)}).port == 9001
    with pytest.raises(ConfigError, match="BOT_CONFIG"):
        load_settings(env={"BOT_CONFIG": str(tmp_path / "missing.yaml")})


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"BOT_TIMEZONE": "Mars/Olympus"}, "BOT_TIMEZONE"),
        ({"WECOM_AES_KEY": "short"}, "WECOM_AES_KEY"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"WECOM_AGENT_ID": "abc"}, "WECOM_AGENT_ID"),
        ({"WECOM_SECRET": "changeme"}, "WECOM_SECRET"),
        ({"BOT_ADMIN_PASSWORD": "123"}, "BOT_ADMIN_PASSWORD"),
        ({"WECOM_API_BASE": "ftp://x"}, "WECOM_API_BASE"),
    ],
)
def test_invalid_value_names_the_key(tmp_path: Path, env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(ROOT / "config.yaml", env=env)
    assert str(err.value).startswith(key)


def test_unknown_and_malformed_keys_in_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("reminders:\n  quiet_start: '25:00'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^reminders.quiet_start"):
        load_settings(cfg, env={})
    cfg.write_text("reminders:\n  off_days: ['tomorrow']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^reminders.off_days"):
        load_settings(cfg, env={})
    cfg.write_text("colour: blue\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="^colour: unknown"):
        load_settings(cfg, env={})


def test_secrets_are_masked_in_describe() -> None:
    s = load_settings(ROOT / "config.yaml", env={"WECOM_SECRET": "s3cr3t-value-xyz", "WECOM_TOKEN": "tok-abc-123",
                                                 "BOT_ADMIN_PASSWORD": "pa55word-long",
                                                 "DATABASE_URL": "postgresql+psycopg://bot:dbpass99@h/db"})
    text = repr(describe(s))
    for secret in ("s3cr3t-value-xyz", "tok-abc-123", "pa55word-long", "dbpass99"):
        assert secret not in text


def test_invalid_setting_stops_startup_with_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "WECOM_AES_KEY": "tooshort-secret-value", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "run.py", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "WECOM_AES_KEY" in lines[0]
    assert "tooshort-secret-value" not in proc.stderr
