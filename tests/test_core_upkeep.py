"""Per-process upkeep under serve: a report spooled during an outage is written once the hook runs."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from app.upkeep import start_upkeep
from bot.db.models import Report
from tests.helpers_reports import use_test_tasks
from tracking.service import spool_of


def test_upkeep_drains_spool_at_start_and_stops_promptly(services, tmp_path: Path) -> None:
    use_test_tasks(services, tmp_path)
    spool_of(services).append({"source_msg_key": "m:spooled-1", "userid": "li", "text": "今天开展走访，12人",
                               "today": "2026-11-20"})
    stop = start_upkeep(services, interval_s=0.05)
    try:
        deadline = time.monotonic() + 5
        while spool_of(services).has_pending() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        started = time.monotonic()
        stop()
        assert time.monotonic() - started < 2
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Report).where(Report.source_msg_key == "m:spooled-1")) == 1


def test_new_plan_file_is_picked_up_without_restart(settings, tmp_path: Path, request) -> None:
    """An office drops a plan into the corpus folder while serving: questions find it within a round."""
    import shutil
    from dataclasses import replace

    from app.services import build_services
    from bot.config import ROOT
    from bot.state.memory import MemoryStateStore
    from bot.wecom.sender import LogSender
    from tests.conftest import make_database

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in (ROOT / "knowledge" / "corpus").glob("*.txt"):
        shutil.copy(f, corpus)
    shutil.copy(ROOT / "tasks.yaml", tmp_path / "tasks.yaml")  # proposals are written there, not into the repo
    settings = replace(settings, tasks_file=tmp_path / "tasks.yaml",
                       knowledge=replace(settings.knowledge, corpus_dir=corpus))
    db = make_database("sqlite", request, tmp_path)
    services = build_services(settings, sender=LogSender(), db=db, state=MemoryStateStore())
    question = "河道保洁志愿服务队每周巡河几次"
    try:
        assert services.retriever.search(question).answered is False
        stop = start_upkeep(services, interval_s=0.05)
        try:
            (corpus / "河湖长制.txt").write_text(
                "村级河湖管理要点\\n一、河道保洁\\n(一)组建河道保洁志愿服务队,每周巡河不少于两次。\\n", encoding="utf-8")
            deadline = time.monotonic() + 10
            while not services.retriever.search(question).answered and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop()
        hits = services.retriever.search(question).hits
        assert hits and "每周巡河不少于两次" in hits[0].text
    finally:
        services.close()


def test_new_plan_file_while_serving_becomes_proposed_tasks(settings, tmp_path: Path, request) -> None:
    """The tasks of a plan dropped in while serving are recorded as proposals; the office's tasks stay."""
    import shutil
    from dataclasses import replace

    from app.services import build_services
    from bot.config import ROOT
    from bot.state.memory import MemoryStateStore
    from bot.wecom.sender import LogSender
    from tests.conftest import make_database
    from tracking.tasks import load_tasks_file

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in (ROOT / "knowledge" / "corpus").glob("*.txt"):
        shutil.copy(f, corpus)
    tasks_file = tmp_path / "tasks.yaml"
    shutil.copy(ROOT / "tasks.yaml", tasks_file)
    before = {t.key: t for t in load_tasks_file(tasks_file)}
    settings = replace(settings, tasks_file=tasks_file, knowledge=replace(settings.knowledge, corpus_dir=corpus))
    db = make_database("sqlite", request, tmp_path)
    services = build_services(settings, sender=LogSender(), db=db, state=MemoryStateStore())
    try:
        stop = start_upkeep(services, interval_s=0.05)
        try:
            (corpus / "巡河.txt").write_text("村级河湖管理要点\n一、河道保洁\n河道保洁志愿服务队每周巡河不少于两次。\n",
                                            encoding="utf-8")
            deadline = time.monotonic() + 15
            while len(load_tasks_file(tasks_file)) == len(before) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop()
        after = {t.key: t for t in load_tasks_file(tasks_file)}
        new = [t for k, t in after.items() if k not in before]
        assert [(t.cadence, t.target, t.status, t.source_file) for t in new] == [("weekly", 2, "proposed", "巡河.txt")]
        assert all(after[k] == t for k, t in before.items())  # the office's tasks exactly as they were
    finally:
        services.close()
