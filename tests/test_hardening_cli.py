"""Audit finding 11: an unreachable or unsupported DATABASE_URL printed a 27–125-line traceback and
exited 1; every verb now prints one line naming DATABASE_URL and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ROOT

URLS = {
    "unreachable_postgres": "postgresql+psycopg://ztbot:s3cretpw@127.0.0.1:1/none",
    "unsupported_dialect": "mysql://ztbot:s3cretpw@127.0.0.1/none",
    "unknown_scheme": "nosuchdb://x/y",
}
VERBS = [["roster", "list"], ["reports", "list"], ["tasks", "list"], ["serve", "--port", "0"],
         ["chat", "--user", "li", "--message", "你好"], ["remind", "--dry-run"]]


@pytest.mark.parametrize("kind", sorted(URLS))
@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v[0])
def test_database_error_printed_a_traceback_and_exit_1(tmp_path: Path, kind: str, verb: list[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"tasks_file: {tmp_path / 'none.yaml'}\ndata_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "REDIS_", "DATABASE_", "BOT_"))}
    env.update({"BOT_CONFIG": str(config), "DATABASE_URL": URLS[kind]})
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), *verb], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert "DATABASE_URL" in lines[0] and "Traceback" not in proc.stderr
    assert "s3cretpw" not in proc.stderr
