"""Shared fixtures: real SQLite and PostgreSQL, real Redis, a fixed clock, the WeCom API double.

Backends that are unreachable are skipped on a developer's machine and fail the run under CI
(CI=true), so a green CI always means the PostgreSQL and Redis legs really ran.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.clock import FixedClock
from bot.config import Settings, build_settings
from bot.db.database import Database
from bot.db.models import Base
from bot.state.base import StateStore
from bot.state.memory import MemoryStateStore
from bot.state.redis import RedisStateStore
from bot.state.sqlite import SQLiteStateStore

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_USED_BACKENDS: set[str] = set()


def _unavailable(what: str, exc: BaseException) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI but unreachable: {exc}")
    pytest.skip(f"{what} unreachable: {exc}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI, a run that never touched PostgreSQL or Redis is a failed run, not a pass."""
    if not IN_CI or exitstatus != 0 or session.testscollected < 20:
        return
    missing = {"postgres", "redis"} - _USED_BACKENDS
    if missing:
        print(f"\nCI: these backends never ran: {sorted(missing)}")
        session.exitstatus = 1


# ---------------------------------------------------------------- PostgreSQL


@contextmanager
def scratch_pg_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database named `prefix` + a random suffix; dropped afterwards."""
    admin = make_url(PG_ADMIN_URL)
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", exc)
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error:
            pass


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database for this test session, migrated to head."""
    with scratch_pg_database("ztbot_test_") as url:
        Database(url).upgrade()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrations run once)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


def _truncate_all(db: Database) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def make_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if kind == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Database(f"sqlite:///{path}")
    url = request.getfixturevalue("pg_url")
    db = Database(url)
    _truncate_all(db)
    _USED_BACKENDS.add("postgres")
    return db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite file and real PostgreSQL."""
    database = make_database(request.param, request, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = make_database("sqlite", request, tmp_path)
    yield database
    database.dispose()


# ---------------------------------------------------------------- state


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    yield client
    client.close()


def make_redis_store(client: redis.Redis) -> RedisStateStore:
    _USED_BACKENDS.add("redis")
    return RedisStateStore(client, prefix=f"ztbot-test:{uuid.uuid4().hex[:12]}:")


@pytest.fixture
def redis_prefix() -> str:
    return f"ztbot-test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """The state store: in-process memory, the SQLite state file and a real Redis (isolated by a
    per-test key prefix)."""
    if request.param == "memory":
        yield MemoryStateStore()
        return
    if request.param == "sqlite":
        store = SQLiteStateStore(tmp_path / "state.db")
        yield store
        store.close()
        return
    client = request.getfixturevalue("redis_client")
    store = make_redis_store(client)
    yield store
    keys = list(client.scan_iter(match=store.prefix + "*", count=1000))
    if keys:
        client.delete(*keys)


# ---------------------------------------------------------------- clock, settings, services

DEFAULT_NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Asia/Shanghai


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


# The reminder defaults before issue 13 (09:30, no statutory holidays, no spread, text not cards): the
# dates, times and texts of the tests written against them. Tests of today's defaults pass
# legacy_reminders=False (or use build_settings).
LEGACY_REMINDERS: dict[str, object] = {
    "holidays": "none",
    "default_stages": [{"days_before": 7, "time": "09:30"}, {"days_before": 1, "time": "09:30"}],
    "escalation_time": "09:30",
    "spread_minutes": 0,
}


def make_settings(tmp_path: Path, *, legacy_reminders: bool = True, **overrides: object) -> Settings:
    raw: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'unused.db'}",
        "data_dir": str(tmp_path / "data"),
    }
    reminders = dict(overrides.pop("reminders", None) or {})  # type: ignore[call-overload]
    wecom = dict(overrides.pop("wecom", None) or {})  # type: ignore[call-overload]
    raw.update(overrides)
    raw["reminders"] = {**(LEGACY_REMINDERS if legacy_reminders else {}), **reminders}
    raw["wecom"] = {**({"cards": "off"} if legacy_reminders else {}), **wecom}  # text reminders, as before cards
    return build_settings(raw)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def wecom_api() -> Iterator[object]:
    """The local HTTP double of the WeCom API, speaking its wire format."""
    from bot.testing.wecom_double import WeComDouble

    with WeComDouble() as api:
        yield api


@pytest.fixture
def services(db: Database, settings: Settings, clock: FixedClock) -> Iterator[object]:
    """The whole bot on a real database (SQLite and PostgreSQL) with in-process state."""
    from app.services import build_services
    from bot.wecom.sender import LogSender

    svc = build_services(settings, clock=clock, sender=LogSender(), db=db, state=MemoryStateStore())
    yield svc
    svc.close()


@pytest.fixture
def chat(services: object) -> object:
    from bot.testing.chat import ChatDriver

    return ChatDriver(services)  # type: ignore[arg-type]
