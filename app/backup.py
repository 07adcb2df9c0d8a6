"""Backups: one .tar.gz with the database, data_dir (photos, the report spool), the corpus and tasks file.

SQLite is copied with SQLite's online backup API (consistent while the server writes, WAL
included); PostgreSQL (and the PostgreSQL-compatible openGauss/KingbaseES, with their own dump
tools) with `pg_dump --format=custom`, restored with `pg_restore --clean`. The password goes to
pg_dump through PGPASSWORD, never on its command line. Restore replaces the database, photos,
spool, corpus and tasks file with the archive's; a replaced SQLite file is kept beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from bot.config import Settings

FORMAT = "ztbot-backup"
VERSION = 1
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
# data_dir entries that are not data to keep: the database itself (copied properly instead), backups.
_SKIP_IN_DATA = ("backups",)
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why (one line, for the CLI)."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str  # sqlite | postgresql
    revision: str | None
    rows: dict[str, int]
    files: int

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "created_at": self.created_at, "database": self.database,
                "revision": self.revision, "rows": self.rows, "files": self.files}


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL: an in-memory SQLite database cannot be backed up")
    return Path(url.database).resolve()


def _pg_env(url: URL) -> dict[str, str]:
    """libpq environment for pg_dump/pg_restore (keeps the password out of the process list)."""
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} not found: install the PostgreSQL client tools (apt-get install postgresql-client)")
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {' '.join(done.stderr.split())[:300]}")


def _row_counts(settings: Settings) -> tuple[str | None, dict[str, int]]:
    """Alembic revision and rows per table: written into the manifest, shown after a restore."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, func, inspect, select

    from bot.db.models import Base

    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
            present = set(inspect(conn).get_table_names())
            rows = {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                    for t in Base.metadata.sorted_tables if t.name in present}
    finally:
        engine.dispose()
    return revision, rows


def _data_entries(settings: Settings, db_file: Path | None) -> list[Path]:
    data_dir = Path(settings.data_dir)
    if not data_dir.is_dir():
        return []
    skip = {data_dir / name for name in _SKIP_IN_DATA}
    if db_file is not None:
        skip |= {Path(str(db_file) + suffix) for suffix in _SQLITE_SUFFIXES}
    backup_dir = Path(settings.backup.dir).resolve()
    out = []
    for path in sorted(data_dir.rglob("*")):
        resolved = path.resolve()
        if path in skip or resolved in skip or resolved == backup_dir or backup_dir in resolved.parents:
            continue
        if any(parent in skip for parent in path.parents) or not path.is_file() or path.name.endswith(".lock"):
            continue
        out.append(path)
    return out


def create_backup(settings: Settings, target: Path) -> Manifest:
    """Write the archive to `target` (atomically: a temporary file renamed when complete)."""
    url = make_url(settings.database_url)
    kind = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    revision, rows = _row_counts(settings)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        dump = Path(work) / (SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER)
        db_file = None
        if kind == "sqlite":
            db_file = _sqlite_path(url)
            if not db_file.exists():
                raise BackupError(f"database file {db_file} does not exist")
            with closing(sqlite3.connect(db_file)) as src, closing(sqlite3.connect(dump)) as dst:
                src.backup(dst)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump)], _pg_env(url))
        files = _data_entries(settings, db_file)
        corpus = Path(settings.knowledge.corpus_dir)
        corpus_files = sorted(p for p in corpus.rglob("*") if p.is_file()) if corpus.is_dir() else []
        manifest = Manifest(datetime.now(timezone.utc).isoformat(timespec="seconds"), kind, revision, rows,
                            len(files) + len(corpus_files))
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            raw = json.dumps(manifest.as_json(), ensure_ascii=False, indent=1).encode("utf-8")
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(raw), int(time.time()), 0o600
            import io

            tar.addfile(info, io.BytesIO(raw))
            tar.add(dump, dump.name)
            for path in files:
                tar.add(path, "data/" + path.relative_to(settings.data_dir).as_posix())
            for path in corpus_files:
                tar.add(path, "corpus/" + path.relative_to(corpus).as_posix())
            if Path(settings.tasks_file).is_file():
                tar.add(settings.tasks_file, "tasks.yaml")
        os.chmod(partial, 0o600)  # it holds every report and the roster
        os.replace(partial, target)
    return manifest


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile("manifest.json")
        manifest = json.loads(member.read()) if member else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("not a 统战助手 backup (manifest.json missing or foreign)")
    if int(manifest.get("version", 0)) > VERSION:
        raise BackupError(f"backup format {manifest.get('version')} is newer than this program understands")
    return manifest


def _replace_dir(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    if source.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))


def restore_backup(settings: Settings, archive: Path) -> dict[str, Any]:
    """Replace database, data, corpus and tasks file with the archive's; returns its manifest.

    Stop the server first: a running process keeps writing to what is being replaced.
    """
    url = make_url(settings.database_url)
    kind = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive}: {exc.__class__.__name__}") from None
    with tar, tempfile.TemporaryDirectory(prefix=".restore-", dir=Path(settings.data_dir).parent) as work:
        manifest = read_manifest(tar)
        if manifest["database"] != kind:
            raise BackupError(f"the backup holds a {manifest['database']} database, DATABASE_URL is {kind}")
        tar.extractall(work, filter="data")  # refuses absolute paths, .. and device files
        staged = Path(work)
        if kind == "sqlite":
            db_file = _sqlite_path(url)
            db_file.parent.mkdir(parents=True, exist_ok=True)
            fresh = db_file.with_name(db_file.name + ".restoring")
            with closing(sqlite3.connect(staged / SQLITE_MEMBER)) as src, closing(sqlite3.connect(fresh)) as dst:
                src.backup(dst)
            if db_file.exists():
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                with closing(sqlite3.connect(db_file)) as old, \
                        closing(sqlite3.connect(db_file.with_name(f"{db_file.name}.before-restore-{stamp}"))) as keep:
                    old.backup(keep)
            for suffix in _SQLITE_SUFFIXES[1:]:
                Path(str(db_file) + suffix).unlink(missing_ok=True)
            os.replace(fresh, db_file)
        else:
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                  "--dbname", str(url.database), str(staged / PG_MEMBER)], _pg_env(url))
        data_dir = Path(settings.data_dir)
        for sub in ("photos", "spool"):
            _replace_dir(staged / "data" / sub, data_dir / sub)
        for path in sorted((staged / "data").rglob("*")) if (staged / "data").is_dir() else []:
            if path.is_file():  # anything else the data folder held
                dest = data_dir / path.relative_to(staged / "data")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(path), str(dest))
        if (staged / "corpus").is_dir():
            _replace_dir(staged / "corpus", Path(settings.knowledge.corpus_dir))
        if (staged / "tasks.yaml").is_file():
            shutil.copyfile(staged / "tasks.yaml", settings.tasks_file)
    return manifest
