"""Parse accuracy of the report reader on a labelled message set (used by the bench and a test)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from bot.filters import normalize_command
from tracking.report_parser import TaskRef, parse_report

FIELDS = ("date", "participants", "village", "task", "activity")
COMMAND_WORDS = ("报送", "上报", "汇报")


@dataclass
class AccuracyResult:
    total: int = 0
    correct: dict[str, int] = field(default_factory=lambda: {f: 0 for f in FIELDS})
    misses: list[tuple[str, str, object, object]] = field(default_factory=list)

    def rate(self, fld: str) -> float:
        return self.correct[fld] / self.total if self.total else 0.0

    @property
    def all_fields(self) -> float:
        return sum(self.correct.values()) / (self.total * len(FIELDS)) if self.total else 0.0


def strip_command(text: str) -> str:
    text = normalize_command(text)
    for word in COMMAND_WORDS:
        if text.startswith(word):
            return text[len(word):].lstrip(" :：,，、")
    return text


def evaluate(messages: Path, tasks_file: Path) -> AccuracyResult:
    lines = [json.loads(line) for line in messages.read_text(encoding="utf-8").splitlines() if line.strip()]
    ctx = lines[0]["context"]
    tasks = [TaskRef(t["key"], t["title"], tuple(t.get("keywords") or ()))
             for t in yaml.safe_load(tasks_file.read_text(encoding="utf-8"))["tasks"]]
    today = date.fromisoformat(ctx["today"])
    result = AccuracyResult()
    for item in lines[1:]:
        parsed = parse_report(strip_command(item["text"]), today=today, own_village=ctx["own_village"],
                              villages=ctx["villages"], tasks=tasks)
        got = {"date": parsed.activity_date.isoformat(), "participants": parsed.participants,
               "village": parsed.village, "task": parsed.task.chosen,
               "activity": item["activity_contains"] in parsed.activity}
        want = {"date": item["date"], "participants": item["participants"], "village": item["village"],
                "task": item["task"], "activity": True}
        result.total += 1
        for fld in FIELDS:
            if got[fld] == want[fld]:
                result.correct[fld] += 1
            else:
                result.misses.append((item["text"], fld, want[fld], parsed.activity if fld == "activity" else got[fld]))
    return result
