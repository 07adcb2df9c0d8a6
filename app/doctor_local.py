"""The doctor's checks of this machine: configuration, database and migrations, Redis, the corpus."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app import doctor_texts as t

if TYPE_CHECKING:
    from bot.config import Settings


@dataclass(frozen=True)
class Check:
    """One finding: `status` is pass, warn (works, but look), fail or skip (could not be checked)."""

    id: str
    status: str
    detail: str
    fix: str = ""

    @property
    def title(self) -> str:
        return t.TITLES[self.id]

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "status": self.status, "detail": self.detail, "fix": self.fix}


def one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception as one short line (driver messages span lines and can be long)."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_config(settings: Settings, path: str) -> Check:
    detail = t.CONFIG_OK.format(path=path)
    if not settings.admin_password:
        return Check("config", "warn", detail + t.ADMIN_UNSET)
    return Check("config", "pass", detail)


WECOM_ENV = (("corp_id", "WECOM_CORP_ID"), ("agent_id", "WECOM_AGENT_ID"), ("secret", "WECOM_SECRET"),
             ("token", "WECOM_TOKEN"), ("aes_key", "WECOM_AES_KEY"))


def check_wecom_settings(settings: Settings) -> Check:
    missing = [env for key, env in WECOM_ENV if getattr(settings.wecom, key) in (None, "")]
    if missing:
        return Check("wecom_settings", "fail", t.WECOM_MISSING.format(names="、".join(missing)), t.WECOM_MISSING_FIX)
    return Check("wecom_settings", "pass", t.WECOM_ALL_SET)


def check_database(settings: Settings) -> Check:
    """Reachable, and at the Alembic head the code ships (never creates or migrates anything)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from bot.db.database import alembic_config

    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database not in (None, "", ":memory:") and not Path(url.database).exists():
        return Check("database", "fail", t.DB_NO_FILE.format(path=url.database), t.DB_NO_FILE_FIX)
    connect_args = {} if backend == "sqlite" else {"connect_timeout": 5}
    engine = create_engine(settings.database_url, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:  # noqa: BLE001 - any driver error is the finding
        return Check("database", "fail", t.DB_DOWN.format(error=one_line(exc)), t.DB_DOWN_FIX)
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(settings.database_url))
    head = script.get_current_head()
    if current == head:
        return Check("database", "pass", t.DB_OK.format(backend=backend, current=current))
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        return Check("database", "fail", t.DB_AHEAD.format(current=current, head=head), t.DB_AHEAD_FIX)
    return Check("database", "fail", t.DB_OLD.format(current=current or "（空库）", head=head), t.DB_OLD_FIX)


LOW_DISK_GB = 0.5
WARN_DISK_GB = 2.0


def check_storage(settings: Settings) -> Check:
    """data_dir (photos, spool, backups) is writable and its disk has room; creates nothing."""
    import os
    import shutil

    path = Path(settings.data_dir)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free / 1e9
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return Check("storage", "fail", t.STORAGE_READONLY.format(path=path), t.STORAGE_READONLY_FIX.format(path=path))
    if free < LOW_DISK_GB:
        return Check("storage", "fail", t.STORAGE_LOW.format(path=path, free=free), t.STORAGE_LOW_FIX)
    if free < WARN_DISK_GB:
        return Check("storage", "warn", t.STORAGE_LOW.format(path=path, free=free), t.STORAGE_LOW_FIX)
    if existing != path:
        return Check("storage", "pass", t.STORAGE_NEW.format(path=path, free=free))
    return Check("storage", "pass", t.STORAGE_OK.format(path=path, free=free))


def check_redis(settings: Settings) -> Check:
    import re

    import redis

    if not settings.redis_url:
        return Check("redis", "skip", t.REDIS_UNSET)
    shown = re.sub(r"//[^@/]*@", "//***@", settings.redis_url)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        return Check("redis", "fail", t.REDIS_DOWN.format(url=shown, error=one_line(exc)), t.REDIS_DOWN_FIX)
    finally:
        client.close()
    return Check("redis", "pass", t.REDIS_OK.format(url=shown))


def check_corpus(settings: Settings) -> Check:
    """Reads the plan files the way the bot does; reports each file's clause count."""
    import logging

    from knowledge.ingest import load_corpus

    folder = settings.knowledge.corpus_dir
    if not folder.is_dir():
        return Check("corpus", "fail", t.CORPUS_EMPTY.format(folder=folder), t.CORPUS_EMPTY_FIX)
    quiet = logging.getLogger("knowledge")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the problems are the finding, printed once below
    try:
        loaded = load_corpus(folder)
    finally:
        quiet.setLevel(level)
    report = loaded.report
    per_file = Counter(c.file for c in loaded.clauses)
    listing = "，".join(f"{name}（{per_file[name]} 条）" for name in report.loaded)
    if report.errors:
        problems = "；".join(str(p) for p in report.errors)
        return Check("corpus", "fail", t.CORPUS_ERRORS.format(files=report.files, clauses=report.clauses,
                                                              problems=problems), t.CORPUS_ERRORS_FIX)
    if not report.clauses:
        return Check("corpus", "fail", t.CORPUS_EMPTY.format(folder=folder), t.CORPUS_EMPTY_FIX)
    return Check("corpus", "pass", t.CORPUS_OK.format(files=report.files, clauses=report.clauses, per_file=listing))
