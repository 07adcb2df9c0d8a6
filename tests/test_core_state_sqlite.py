"""The SQLite state file across processes: claim once, per-user order, exactly-once, kill -9, sweeping.

The same checks the Redis mode has (tests/test_core_processor.py), on the embedded default's
shared store; the single-process contract is the shared suite in tests/test_core_state.py.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.database import Database
from bot.db.models import InboundMessage
from bot.state.sqlite import SWEEP_EVERY, SQLiteStateStore
from tests.helpers_state import claim_at_barrier, deliver_same, deliver_sequence, write_then_die

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def shared(tmp_path: Path, sqlite_template: Path) -> tuple[str, str, str]:
    """A migrated SQLite database, a state file path and a data folder, for several processes."""
    shutil.copy(sqlite_template, tmp_path / "bot.db")
    return f"sqlite:///{tmp_path / 'bot.db'}", str(tmp_path / "state.db"), str(tmp_path / "data")


def _run_all(target, args_list: list[tuple]) -> list:  # noqa: ANN001
    out = SPAWN.Queue()
    barrier = SPAWN.Barrier(len(args_list))
    procs = [SPAWN.Process(target=target, args=(*args, barrier, out)) for args in args_list]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return results


def test_claim_is_won_once_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    SQLiteStateStore(path).close()  # the schema exists before the race
    wins = _run_all(claim_at_barrier, [(path,)] * 4)
    assert wins.count(True) == 1


def test_two_processes_same_message_same_moment_on_the_state_file(shared: tuple[str, str, str]) -> None:
    """Two bot processes on the embedded default get the same delivery at once: one side effect, one reply."""
    db_url, state_path, data_dir = shared
    fields = {"user": "twin", "type": "text", "content": "统战信息", "msg_id": "twin-1", "create_time": 1}
    replies = _run_all(deliver_same, [(db_url, state_path, data_dir, fields)] * 2)
    assert replies[0] == replies[1] == "已处理 统战信息 #1"
    assert SQLiteStateStore(state_path).get("side-effects") == "1"
    db = Database(db_url)
    with db.session() as s:
        rows = s.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.msg_key == "m:twin-1"))
    db.dispose()
    assert rows == 1


def test_one_users_messages_never_overlap_across_processes(shared: tuple[str, str, str]) -> None:
    db_url, state_path, data_dir = shared
    texts = [f"m{i}" for i in range(4)]
    replies = _run_all(deliver_sequence, [(db_url, state_path, data_dir, "u1", texts)] * 2)
    assert replies == [["ok"] * 4] * 2
    spans = sorted(SQLiteStateStore(state_path).get_json("spans"))
    assert len(spans) == 8  # no read-modify-write lost: every message saw the one before it
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1)), "one user's messages overlapped"


def test_committed_state_survives_kill9(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    proc = SPAWN.Process(target=write_then_die, args=(path,))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == -9
    store = SQLiteStateStore(path)
    assert store.get_json("conv:u1") == {"kind": "report", "need": "activity"}
    assert json.loads(store.get("dedupe:m:1"))["r"] == "已修改"
    assert store.try_acquire("user:u1", 5) is not None  # the finished message released its lock


def test_expired_rows_are_swept_so_the_file_stays_bounded(tmp_path: Path) -> None:
    now = [1000.0]
    store = SQLiteStateStore(tmp_path / "state.db", clock=lambda: now[0])
    for i in range(SWEEP_EVERY):
        store.set(f"dedupe:{i}", "x" * 100, 10)
    now[0] += 60
    for i in range(SWEEP_EVERY):
        store.set("live", str(i), None)
    assert list(store.keys("")) == ["live"]
    count = store._query("SELECT count(*) FROM kv", ())[0][0]  # noqa: SLF001 - rows, not just visible keys
    assert count == 1


def test_drop_pending_forgets_claims_of_a_dead_process(tmp_path: Path) -> None:
    store = SQLiteStateStore(tmp_path / "state.db")
    store.claim("dedupe:m:1", "pending", 600)
    store.claim("dedupe:m:2", '{"r":"x","via":"passive"}', 600)
    store.claim("conv:pending", "pending", 600)  # not a dedupe key: kept
    assert store.drop_pending("dedupe:", "pending") == 1
    assert store.get("dedupe:m:1") is None and store.get("dedupe:m:2") is not None
    assert store.get("conv:pending") == "pending"
