"""Typed settings: config.yaml with safe defaults, the environment wins, invalid values stop start-up.

One `Settings` object is built at start-up and passed down; nothing reads the environment later.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.offdays import parse_off_days

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"
WECOM_DEFAULT_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"


class ConfigError(ValueError):
    """An invalid setting; the message names the key and never echoes a secret's value."""


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str | None = None
    agent_id: int | None = None
    secret: str | None = None
    token: str | None = None
    aes_key: str | None = None
    api_base: str = WECOM_DEFAULT_API_BASE
    timestamp_window_s: int = 300
    max_body_bytes: int = 64 * 1024
    body_timeout_s: float = 5.0  # a callback body must arrive within this (slow uploads are cut off)
    max_body_reads: int = 64  # bodies read at once; more concurrent slow uploads are refused (503)
    reply_budget_s: float = 1.0
    http_timeout_s: float = 5.0
    cards: str = "auto"  # auto | on | off: template cards with buttons, see bot/wecom/card_delivery.py

    @property
    def callback_ready(self) -> bool:
        return bool(self.corp_id and self.token and self.aes_key)


@dataclass(frozen=True)
class KnowledgeSettings:
    corpus_dir: Path = ROOT / "knowledge" / "corpus"
    threshold: float = 0.5
    top: int = 3
    synonyms: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReminderSettings:
    enabled: bool = True
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    off_days: list[str] = field(default_factory=list)  # ISO dates the office marks as off
    holidays: str = "cn"  # cn: China's statutory holidays and 调休 working days (chinese-calendar); none
    # Off the :00 and :30 marks, when WeCom's servers are busiest (its docs ask senders to avoid them).
    default_stages: list[dict[str, Any]] = field(
        default_factory=lambda: [{"days_before": 7, "time": "09:20"}, {"days_before": 1, "time": "09:20"}]
    )
    escalation_time: str = "09:40"
    max_in_flight: int = 8
    spread_minutes: int = 8  # a large roster's reminders spread over up to this many minutes


@dataclass(frozen=True)
class BackupSettings:
    """The scheduler's daily backup of the embedded default (off by default)."""

    enabled: bool = False
    time: str = "02:30"
    dir: Path = ROOT / "data" / "backups"
    keep: int = 7


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///data/bot.db"
    redis_url: str | None = None
    timezone: str = "Asia/Shanghai"
    admin_password: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = ROOT / "data"
    tasks_file: Path = ROOT / "tasks.yaml"
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one JSON object per line)
    metrics_token: str | None = None
    rate_limit_per_minute: int = 20
    dedupe_ttl_s: int = 86400
    conversation_ttl_s: int = 600
    trusted_proxies: list[str] = field(default_factory=list)  # peers whose X-Forwarded-For is believed
    wecom: WeComSettings = field(default_factory=WeComSettings)
    knowledge: KnowledgeSettings = field(default_factory=KnowledgeSettings)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


# env name -> (section or None, key)
ENV_KEYS: dict[str, tuple[str | None, str]] = {
    "WECOM_CORP_ID": ("wecom", "corp_id"),
    "WECOM_AGENT_ID": ("wecom", "agent_id"),
    "WECOM_SECRET": ("wecom", "secret"),
    "WECOM_TOKEN": ("wecom", "token"),
    "WECOM_AES_KEY": ("wecom", "aes_key"),
    "WECOM_API_BASE": ("wecom", "api_base"),
    "DATABASE_URL": (None, "database_url"),
    "REDIS_URL": (None, "redis_url"),
    "BOT_TIMEZONE": (None, "timezone"),
    "BOT_ADMIN_PASSWORD": (None, "admin_password"),
    "BOT_METRICS_TOKEN": (None, "metrics_token"),
}
ENV_BY_PATH = {(f"{sec}.{key}" if sec else key): env for env, (sec, key) in ENV_KEYS.items()}
SECRET_KEYS = {"secret", "token", "aes_key", "admin_password", "metrics_token"}
PLACEHOLDERS = {"changeme", "change-me", "your-secret", "xxx", "todo", "<secret>"}
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the YAML file (BOT_CONFIG or config.yaml), overlay the environment, validate."""
    env = dict(os.environ if env is None else env)
    cfg_path = Path(path or env.get("BOT_CONFIG") or DEFAULT_CONFIG)
    raw: dict[str, Any] = {}
    if cfg_path.exists():
        try:
            raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {cfg_path}: not valid YAML ({exc.__class__.__name__})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {cfg_path}: top level must be a mapping")
    elif path or env.get("BOT_CONFIG"):
        raise ConfigError(f"BOT_CONFIG: file not found: {cfg_path}")
    for name, (section, key) in ENV_KEYS.items():
        if name in env and env[name] != "":
            target = raw.setdefault(section, {}) if section else raw
            if not isinstance(target, dict):
                raise ConfigError(f"{section}: must be a mapping")
            target[key] = env[name]
    return build_settings(raw)


def build_settings(raw: dict[str, Any]) -> Settings:
    wecom = _section(WeComSettings, raw.pop("wecom", None) or {}, "wecom")
    knowledge = _section(KnowledgeSettings, raw.pop("knowledge", None) or {}, "knowledge")
    reminders = _section(ReminderSettings, raw.pop("reminders", None) or {}, "reminders")
    backup = _section(BackupSettings, raw.pop("backup", None) or {}, "backup")
    top = _section(Settings, raw, None)
    settings = replace(top, wecom=wecom, knowledge=knowledge, reminders=reminders, backup=backup)
    _validate(settings)
    return settings


def _section(cls: type, values: dict[str, Any], prefix: str | None) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix}: must be a mapping")
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        name = ENV_BY_PATH.get(name, name)
        if key not in known:
            raise ConfigError(f"{name}: unknown setting")
        default = getattr(cls(), key)
        kwargs[key] = _coerce(name, key, value, default)
    return cls(**kwargs)


def _coerce(name: str, key: str, value: Any, default: Any) -> Any:
    if value is None:
        return None if default is None or key in SECRET_KEYS else default
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"1", "true", "yes", "on"}:
            return True
        if str(value).lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name}: must be true or false")
    if isinstance(default, int) or key in {"agent_id"}:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: must be a whole number") from None
    if isinstance(default, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: must be a number") from None
    if isinstance(default, Path):
        p = Path(str(value))
        return p if p.is_absolute() else ROOT / p
    if isinstance(default, (dict, list)):
        if not isinstance(value, type(default)):
            raise ConfigError(f"{name}: must be a {'mapping' if isinstance(default, dict) else 'list'}")
        return value
    return str(value)


def _validate(s: Settings) -> None:
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"BOT_TIMEZONE: unknown time zone {s.timezone!r}") from None
    if not re.match(r"^[a-z0-9+]+://", s.database_url) and not s.database_url.startswith("sqlite:"):
        raise ConfigError("DATABASE_URL: not a SQLAlchemy URL (sqlite:///… or postgresql+psycopg://…)")
    if s.redis_url is not None and not re.match(r"^(redis|rediss|unix)://", s.redis_url):
        raise ConfigError("REDIS_URL: must start with redis://, rediss:// or unix://")
    w = s.wecom
    if w.aes_key is not None and not re.fullmatch(r"[A-Za-z0-9]{43}", w.aes_key):
        raise ConfigError("WECOM_AES_KEY: must be 43 letters and digits")
    for key, env_name in (("secret", "WECOM_SECRET"), ("token", "WECOM_TOKEN")):
        value = getattr(w, key)
        if value is not None and value.strip().lower() in PLACEHOLDERS:
            raise ConfigError(f"{env_name}: is a placeholder, set the real value")
    if s.admin_password is not None and (
        s.admin_password.strip().lower() in PLACEHOLDERS or len(s.admin_password) < 8
    ):
        raise ConfigError("BOT_ADMIN_PASSWORD: too short or a placeholder (at least 8 characters)")
    if not re.match(r"^https?://", w.api_base):
        raise ConfigError("WECOM_API_BASE: must be an http(s) URL")
    if not 1 <= s.port <= 65535:
        raise ConfigError("port: must be between 1 and 65535")
    if w.timestamp_window_s <= 0:
        raise ConfigError("wecom.timestamp_window_s: must be positive")
    if w.body_timeout_s <= 0 or w.max_body_reads < 1:
        raise ConfigError("wecom.body_timeout_s and wecom.max_body_reads: must be positive")
    if w.max_body_bytes < 1024:
        raise ConfigError("wecom.max_body_bytes: must be at least 1024")
    r = s.reminders
    for key in ("quiet_start", "quiet_end", "escalation_time"):
        if not _HHMM.match(getattr(r, key)):
            raise ConfigError(f"reminders.{key}: must be HH:MM")
    for stage in r.default_stages:
        if not isinstance(stage, dict) or not _HHMM.match(str(stage.get("time", ""))) or not isinstance(
            stage.get("days_before"), int
        ):
            raise ConfigError("reminders.default_stages: each stage needs days_before (int) and time (HH:MM)")
    try:
        parse_off_days(r.off_days)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if r.holidays not in ("cn", "none"):
        raise ConfigError("reminders.holidays: must be cn or none")
    if not 0 <= r.spread_minutes <= 60:
        raise ConfigError("reminders.spread_minutes: must be between 0 and 60")
    if w.cards not in ("auto", "on", "off"):
        raise ConfigError("wecom.cards: must be auto, on or off")
    for proxy in s.trusted_proxies:
        try:
            ipaddress.ip_network(str(proxy).strip(), strict=False)
        except ValueError:
            raise ConfigError(f"trusted_proxies: {proxy!r} is not an IP address or network") from None
    if s.log_format not in {"text", "json"}:
        raise ConfigError("log_format: must be text or json")
    if s.metrics_token is not None and len(s.metrics_token) < 16:
        raise ConfigError("BOT_METRICS_TOKEN: too short (at least 16 characters)")
    if not _HHMM.match(s.backup.time):
        raise ConfigError("backup.time: must be HH:MM")
    if s.backup.keep < 1:
        raise ConfigError("backup.keep: must be at least 1")
    if s.rate_limit_per_minute <= 0:
        raise ConfigError("rate_limit_per_minute: must be positive")
    if not 0 < s.knowledge.threshold < 1:
        raise ConfigError("knowledge.threshold: must be between 0 and 1")


def describe(s: Settings) -> dict[str, Any]:
    """The settings as a dict with secrets masked, for logs and the admin page."""
    out: dict[str, Any] = {}
    for f in fields(s):
        value = getattr(s, f.name)
        if f.name in SECRET_KEYS:
            value = "***" if value else None
        elif hasattr(value, "__dataclass_fields__"):
            value = {
                k.name: ("***" if k.name in SECRET_KEYS and getattr(value, k.name) else getattr(value, k.name))
                for k in fields(value)
            }
        out[f.name] = value
    if s.redis_url:
        out["redis_url"] = re.sub(r"//[^@/]*@", "//***@", s.redis_url)
    out["database_url"] = re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", s.database_url)
    return out
