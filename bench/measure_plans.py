#!/usr/bin/env python3
"""Measure how well plan files nobody tuned for are read: tasks, furniture and titles.

The collection is tests/data/plans/{dev,heldout}/ with a hand-made labels.yaml each (real public
plan texts as web copies, Word files, PDFs and traditional-character copies; see
tests/data/plans/README.md). Each file is read alone, as an office dropping it in would see it:
its clauses (`knowledge.ingest.document_clauses`) and the tasks it would propose
(`app.plans.check_plan`; on the code before issue 8, `tracking.tasks.extract_tasks` on a folder
holding only that file, which is how the "before" figures were taken).

Figures per split:
* task recall: labelled obligations found with the right cadence, count and deadline / labelled;
* task precision: extracted tasks that are a labelled obligation, right in all of those / extracted
  (tasks matching a label marked optional count neither way);
* audience: right audience among the tasks found;
* furniture share: clauses that are page furniture / all clauses;
* titles: files whose document title is the labelled one.

Run from the project root:  .venv/bin/python bench/measure_plans.py [--split dev|heldout|both] [--verbose]
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.ingest import document_clauses  # noqa: E402
from knowledge.normalize import display_text  # noqa: E402
from knowledge.readers import UnreadableFile  # noqa: E402

try:  # the reading used by everything (issue 8); before it, extraction read *.txt files itself
    from app.plans import check_plan  # noqa: E402
except ImportError:  # pragma: no cover - only to measure the code as it was
    check_plan = None

PLANS = ROOT / "tests" / "data" / "plans"


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", display_text(str(text)))


@dataclass
class Score:
    labels: int = 0
    extracted: int = 0
    correct: int = 0  # extracted tasks right in cadence, count and deadline
    found: int = 0  # labels matched right
    audience_ok: int = 0
    ignored: int = 0
    clauses: int = 0
    furniture: int = 0
    titles_ok: int = 0
    files: int = 0
    notes: list[str] = field(default_factory=list)


def _is_furniture(text: str, line: str) -> bool:
    """The clause is a labelled furniture line, a good part of one, a bare fragment of one, or holds one."""
    if not text:
        return False
    if text == line or (len(line) >= 6 and line in text):
        return True
    return text in line and (2 * len(text) >= len(line) or not re.search(r"[\u4e00-\u9fff]", text))


def _fold(label: dict[str, Any], s2t: Any) -> dict[str, Any]:
    """A label written in simplified characters, for a traditional-character file."""
    if not s2t:
        return label
    return {k: s2t.convert(v) if isinstance(v, str) and k in ("anchor", "what", "title") else v
            for k, v in label.items()}


def _tasks_of(path: Path) -> list[Any]:
    """The tasks an office dropping this one file in would get."""
    if check_plan is not None:
        return list(check_plan(path).tasks)
    from tracking.tasks import extract_tasks  # the code before issue 8

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(path, Path(tmp) / path.name)
        return list(extract_tasks(Path(tmp)))


def _due_md(spec: Any) -> str | None:
    due = getattr(spec, "due_date", None)
    return due.strftime("%m-%d") if due else None


def score_file(path: Path, label: dict[str, Any], score: Score, verbose: bool) -> None:
    s2t = None
    if label.get("traditional"):
        import opencc

        s2t = opencc.OpenCC("s2t")
    score.files += 1
    title = _fold({"title": label["title"]}, s2t)["title"]
    try:
        clauses = document_clauses(path)
    except UnreadableFile as exc:
        clauses = []
        score.notes.append(f"{path.name}: unreadable ({exc})")
    doc = clauses[0].doc if clauses else ""
    if _norm(doc) == _norm(title):
        score.titles_ok += 1
    elif verbose:
        score.notes.append(f"{path.name}: title {doc!r}, want {title!r}")
    furniture = [_norm(s2t.convert(str(f)) if s2t else f) for f in label.get("furniture") or []]
    for c in clauses:
        text = _norm(c.text)
        score.clauses += 1
        if any(_is_furniture(text, f) for f in furniture):
            score.furniture += 1
            if verbose:
                score.notes.append(f"{path.name}: furniture clause {c.text[:50]!r}")
    wanted = [_fold(t, s2t) for t in label.get("tasks") or []]
    optional = [_fold(t, s2t) for t in label.get("optional") or []]
    score.labels += len(wanted)
    taken: set[int] = set()
    specs = _tasks_of(path)
    score.extracted += len(specs)
    for spec in specs:
        clause = _norm(getattr(spec, "source_text", ""))
        cands = [i for i, t in enumerate(wanted)
                 if i not in taken and t["cadence"] == spec.cadence and _norm(t["anchor"]) in clause]
        cands.sort(key=lambda i: wanted[i].get("what", "") not in spec.title)
        if not cands:
            if any(_norm(o["anchor"]) in clause and o.get("cadence", spec.cadence) == spec.cadence for o in optional):
                score.ignored += 1
                continue
            if verbose:
                score.notes.append(f"{path.name}: extra {spec.cadence} x{spec.target} {spec.title!r} "
                                   f"<- {getattr(spec, 'source_text', '')[:40]!r}")
            continue
        i = cands[0]
        want = wanted[i]
        right = (spec.target == want.get("target", 1)
                 and getattr(spec, "deadline_day", None) == want.get("deadline_day")
                 and (want["cadence"] != "once" or _due_md(spec) == want.get("due")))
        if not right:
            if verbose:
                score.notes.append(f"{path.name}: wrong {spec.cadence} x{spec.target} "
                                   f"deadline={getattr(spec, 'deadline_day', None)} due={_due_md(spec)} "
                                   f"{spec.title!r}, want {want}")
            continue
        taken.add(i)
        score.correct += 1
        score.found += 1
        if spec.audience == want.get("audience"):
            score.audience_ok += 1
        elif verbose:
            score.notes.append(f"{path.name}: audience {spec.audience} for {spec.title!r}, want {want.get('audience')}")
    if verbose:
        for i, want in enumerate(wanted):
            if i not in taken:
                score.notes.append(f"{path.name}: missed {want}")


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.0f}%" if d else f"{n}/0"


def measure(split: str, verbose: bool) -> Score:
    folder = PLANS / split
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
    score = Score()
    for name, label in labels.items():
        score_file(folder / name, label, score, verbose)
    return score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "heldout", "both"), default="both")
    parser.add_argument("--verbose", action="store_true", help="list every miss, extra and furniture clause")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    splits = ("dev", "heldout") if args.split == "both" else (args.split,)
    for split in splits:
        s = measure(split, args.verbose)
        print(f"[{split}] {s.files} files, {s.labels} labelled obligations, {s.extracted} tasks extracted "
              f"({s.ignored} optional)")
        print(f"  task recall     {_pct(s.found, s.labels)}")
        print(f"  task precision  {_pct(s.correct, s.extracted - s.ignored)}")
        print(f"  audience right  {_pct(s.audience_ok, s.found)}")
        print(f"  furniture share {_pct(s.furniture, s.clauses)} of clauses")
        print(f"  titles right    {_pct(s.titles_ok, s.files)}")
        for note in s.notes:
            print("   -", note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
