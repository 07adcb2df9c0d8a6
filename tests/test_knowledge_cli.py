"""`python run.py ask` as INTERFACE.md promises: one question, stdin batch, --json, --top, bad usage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ROOT


def run_ask(*args: str, stdin: str | None = None, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if config is not None:
        env["BOT_CONFIG"] = str(config)
    return subprocess.run([sys.executable, "run.py", "ask", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=60, env=env)


def test_one_question_as_json() -> None:
    proc = run_ask("--json", "宗教信息员一年培训几回")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert set(row) == {"question", "answered", "hits", "did_you_mean"}
    assert row["question"] == "宗教信息员一年培训几回" and row["answered"] is True
    assert row["did_you_mean"] == []  # only when not answered
    assert 1 <= len(row["hits"]) <= 3
    assert set(row["hits"][0]) == {"text", "doc", "section", "score"}
    assert "全年不少于4次" in row["hits"][0]["text"]
    assert row["hits"][0]["section"].startswith("五、宗教工作 > ")


def test_stdin_batch_one_line_per_question_in_order() -> None:
    questions = ["统战信息每个月要报几篇", "", "明天会下雨吗", "党外知识分子思相政治工作"]
    proc = run_ask("--json", "--top", "1", stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in rows] == [q for q in questions if q]  # blank lines skipped
    assert [r["answered"] for r in rows] == [True, False, True]
    assert rows[1]["hits"] == []
    assert all(len(r["hits"]) <= 1 for r in rows)
    assert "每月至少报送3篇" in rows[0]["hits"][0]["text"]


def test_did_you_mean_rows_have_the_shape_of_hits() -> None:
    proc = run_ask("--json", "信耶稣的私下聚会怎么管")  # plausible clauses, none confident
    row = json.loads(proc.stdout)
    assert row["answered"] is False and row["hits"] == []
    assert 1 <= len(row["did_you_mean"]) <= 3
    assert set(row["did_you_mean"][0]) == {"text", "doc", "section", "score"}
    assert "宗教" in row["did_you_mean"][0]["section"]
    off = json.loads(run_ask("--json", "驾照到期了去哪换").stdout)
    assert off["answered"] is False and off["did_you_mean"] == []
    text = run_ask("信耶稣的私下聚会怎么管").stdout
    assert "您是不是想问" in text and "\n1. " in text


def test_readable_text_output() -> None:
    proc = run_ask("统战信息每个月要报几篇")
    assert proc.returncode == 0
    assert proc.stdout.startswith("问：统战信息每个月要报几篇\n1. ")
    assert "出处：《乡镇街道2024年统战工作要点》 十一、信息工作" in proc.stdout
    declined = run_ask("今天天气怎么样")
    assert "没有找到相关规定" in declined.stdout


@pytest.mark.parametrize("args", [("--top", "0", "问题"), ("--top", "x", "问题"), ("--nope",)])
def test_bad_usage_exits_2_with_one_line(args: tuple[str, ...]) -> None:
    proc = run_ask(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unreadable_file_is_named_on_stderr_and_the_rest_answers(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plan.txt").write_text("一、信息工作\n每月报送工作动态信息不少于3篇。\n", encoding="utf-8")
    (corpus / "bad.docx").write_bytes(b"not a docx")
    config = tmp_path / "config.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'x.db'}\nknowledge:\n  corpus_dir: {corpus}\n",
                      encoding="utf-8")
    proc = run_ask("--json", "每月报送几篇信息", config=config)
    assert proc.returncode == 0
    assert "bad.docx" in proc.stderr
    assert json.loads(proc.stdout)["answered"] is True
