"""Engine and session set-up: SQLite in WAL mode with a busy timeout, PostgreSQL through psycopg."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import ROOT

log = logging.getLogger(__name__)
MIGRATIONS_DIR = ROOT / "migrations"
MIGRATION_LOCK_KEY = 0x7A74_6D67  # "ztmg": the advisory lock id every process migrates under


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached; callers keep what they hold and tell the user."""


class Database:
    """One engine and session factory per process; sessions are opened per unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        try:
            self._build(url, echo)
        except (ArgumentError, ImportError) as exc:  # unknown dialect or a driver that is not installed
            raise DatabaseUnavailable(f"unsupported database URL ({exc.__class__.__name__}: {exc})") from None

    def _build(self, url: str, echo: bool) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url, echo=echo, connect_args={"check_same_thread": False, "timeout": 15}, pool_size=8,
                max_overflow=16,
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(
                url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=5,
                connect_args={"connect_timeout": 5},
            )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health checks report, never raise
            log.warning("database ping failed", exc_info=True)
            return False

    def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations (also used on first run), holding the database's migration lock.

        Two processes started together (two servers, or a server and `db upgrade`) would otherwise
        both create `alembic_version` and one would crash: the second waits, then finds nothing to do.
        """
        from alembic import command

        with self.migration_lock():
            command.upgrade(alembic_config(self.url), revision)

    @contextmanager
    def migration_lock(self) -> Iterator[None]:
        """Exclusive across processes: a PostgreSQL advisory lock, or a file lock beside the SQLite file."""
        if self.is_sqlite:
            with _file_lock(self.url):
                yield
            return
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):  # noqa: ANN201 - alembic.config.Config
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


@contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """flock on `<database>.migrate.lock`; an in-memory database has no other process to race."""
    database = make_url(url).database
    if not database or database == ":memory:":
        yield
        return
    path = Path(database + ".migrate.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI objects
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
