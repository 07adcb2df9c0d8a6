"""`run.py backup` / `run.py restore`: backup → wipe → restore gives the same reports, photos and corpus;
on SQLite (online backup API) and PostgreSQL (pg_dump); the daily scheduled backup and its retention."""

from __future__ import annotations

import json
import shutil
import tarfile
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.backup_schedule import prune, run_backup, start_hook
from app.cli import main
from app.services import build_services
from bot.clock import FixedClock
from bot.config import Settings, load_settings
from bot.db.database import Database
from bot.db.models import ReportPhoto
from bot.state.memory import MemoryStateStore
from bot.testing.chat import ChatDriver
from bot.wecom.sender import LogSender
from scheduler.leader import SoleLeader
from tests.conftest import DEFAULT_NOW, _truncate_all
from tests.helpers_reports import seed, write_tasks

CORPUS = Path(__file__).resolve().parent.parent / "knowledge" / "corpus"
PHOTO = b"\xff\xd8\xff\xe0 a small jpeg body"


def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    """A config file with its own database, data folder, corpus copy and tasks file; BOT_CONFIG points at it."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"database_url": database_url, "data_dir": str(tmp_path / "data"),
                                   "tasks_file": str(write_tasks(tmp_path)),
                                   "knowledge": {"corpus_dir": str(corpus)}}), encoding="utf-8")
    for name in ("DATABASE_URL", "REDIS_URL", "WECOM_SECRET", "WECOM_CORP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_CONFIG", str(cfg))
    return load_settings(cfg)


def converse(settings: Settings) -> None:
    """Reports (one with a photo) through the real processor, on the configured database."""
    db = Database(settings.database_url)
    db.upgrade()
    seed(db, settings.tasks_file)
    sender = LogSender(media={"m-1": (PHOTO, "image/jpeg")})
    services = build_services(settings, clock=FixedClock(DEFAULT_NOW), sender=sender, db=db,
                              state=MemoryStateStore())
    chat = ChatDriver(services)
    try:
        assert "报送编号" in (chat.send("li", "报送 昨天在红山郡社区开展民族团结宣讲，40人参加") or "")
        chat.photo("li", "m-1")
        assert "报送编号" in (chat.send("wang", "汇报 今天开展走访慰问，12人") or "")
        deadline = time.monotonic() + 10
        while True:
            with db.session() as s:
                if s.scalars(select(ReportPhoto.status)).all() == ["fetched"]:
                    break
            assert time.monotonic() < deadline, "photo never fetched"
            time.sleep(0.05)
    finally:
        services.close()
        db.dispose()


def reports_json(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    assert main(["reports", "list", "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def round_trip(settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], wipe_db) -> None:  # noqa: ANN001
    converse(settings)
    before = reports_json(capsys)
    assert len(before) == 2 and sum(r["photos"] for r in before) == 1
    photos, corpus = tree(Path(settings.data_dir) / "photos"), tree(settings.knowledge.corpus_dir)
    archive = tmp_path / "backups" / "ztbot.tar.gz"
    assert main(["backup", str(archive)]) == 0
    assert "报送 2 条" in capsys.readouterr().out
    assert archive.stat().st_mode & 0o077 == 0  # holds the roster and every report: owner only
    wipe_db()
    shutil.rmtree(Path(settings.data_dir) / "photos")
    shutil.rmtree(settings.knowledge.corpus_dir)
    assert reports_json(capsys) == []
    assert main(["restore", str(archive)]) == 0
    assert "报送 2 条" in capsys.readouterr().out
    assert reports_json(capsys) == before
    assert tree(Path(settings.data_dir) / "photos") == photos and photos
    assert tree(settings.knowledge.corpus_dir) == corpus


def test_sqlite_backup_wipe_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    db_file = tmp_path / "data" / "bot.db"
    settings = deployment(tmp_path, monkeypatch, f"sqlite:///{db_file}")

    def wipe() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        Database(settings.database_url).upgrade()  # a fresh, empty database

    round_trip(settings, tmp_path, capsys, wipe)
    assert list(db_file.parent.glob("bot.db.before-restore-*"))  # the replaced (empty) database is kept


@pytest.mark.postgres
def test_postgresql_backup_wipe_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], pg_url: str) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    db = Database(pg_url)
    _truncate_all(db)
    settings = deployment(tmp_path, monkeypatch, pg_url)
    try:
        round_trip(settings, tmp_path, capsys, lambda: _truncate_all(db))
    finally:
        _truncate_all(db)
        db.dispose()


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    deployment(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'bot.db'}")
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        tar.add(__file__, "notes.txt")
    assert main(["restore", str(foreign)]) == 1
    assert "not a 统战助手 backup" in capsys.readouterr().err
    (tmp_path / "garbage.tar.gz").write_bytes(b"not gzip")
    assert main(["restore", str(tmp_path / "garbage.tar.gz")]) == 1
    assert main(["restore", str(tmp_path / "missing.tar.gz")]) == 2


def test_daily_backup_keeps_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_file = tmp_path / "data" / "bot.db"
    settings = deployment(tmp_path, monkeypatch, f"sqlite:///{db_file}")
    settings = settings.with_overrides(backup=type(settings.backup)(enabled=True, time="02:30",
                                                                     dir=tmp_path / "data" / "backups", keep=3))
    converse(settings)
    services = build_services(settings, clock=FixedClock(DEFAULT_NOW), sender=LogSender(),
                              state=MemoryStateStore(), migrate=False)
    try:
        made = [run_backup(services, SoleLeader(), datetime(2026, 11, day, 2, 30)) for day in range(1, 6)]
        assert all(made)
        kept = sorted(p.name for p in (tmp_path / "data" / "backups").glob("*.tar.gz"))
        assert kept == [p.name for p in made[-3:]]  # type: ignore[union-attr]
        with tarfile.open(made[-1]) as tar:  # type: ignore[arg-type]
            names = tar.getnames()
        assert not any(n.startswith("data/backups") for n in names)  # backups never contain backups
        assert "database.sqlite3" in names and any(n.startswith("data/photos/") for n in names)
        stop = start_hook(services)
        assert stop is not None
        job = services.extras["backup_scheduler"].get_job("daily-backup")
        local = job.next_run_time.astimezone(settings.tz)
        assert (local.hour, local.minute) == (2, 30)
        stop()
    finally:
        services.close()
    off = settings.with_overrides(backup=type(settings.backup)())
    assert off.backup.enabled is False
    services = build_services(off, sender=LogSender(), state=MemoryStateStore(), migrate=False)
    try:
        assert start_hook(services) is None
    finally:
        services.close()


def test_prune_only_touches_scheduled_backups(tmp_path: Path) -> None:
    for name in ("ztbot-20261101-023000.tar.gz", "ztbot-20261102-023000.tar.gz", "manual.tar.gz"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in prune(tmp_path, 1)] == ["ztbot-20261101-023000.tar.gz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manual.tar.gz", "ztbot-20261102-023000.tar.gz"]
