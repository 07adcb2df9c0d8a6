"""Exactly once across processes: two servers store the same WeCom message at the same moment."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.db.database import Database
from bot.db.models import Base, Report, ReportAudit
from tests.helpers_reports import report_in_process, seed, write_tasks


@pytest.mark.postgres
def test_two_processes_one_message_one_report(pg_url: str, tmp_path: Path) -> None:
    db = Database(pg_url)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(t.name for t in Base.metadata.sorted_tables)} RESTART IDENTITY CASCADE"))
    tasks = write_tasks(tmp_path)
    seed(db, tasks)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(3), ctx.Queue()
    fields = {"user": "li", "type": "text", "content": "报送 今天开展宣讲，30人参加", "msg_id": "twin-1",
              "create_time": 1_790_000_000}
    procs = [ctx.Process(target=report_in_process,
                         args=(pg_url, str(tmp_path / f"data{i}"), str(tasks), fields, barrier, out))
             for i in range(3)]
    for p in procs:
        p.start()
    replies = [out.get(timeout=90) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert all("报送编号 1" in r for r in replies), replies
    with db.session() as s:
        assert s.scalar(select(func.count(Report.id))) == 1
        assert s.scalar(select(func.count(ReportAudit.id))) == 1
    db.dispose()
