"""Measure how well `ask` answers labelled question sets: confident precision, answered share, reach.

Usage (from the project root):
    .venv/bin/python bench/measure_answers.py [--tags] [--table] [SET.jsonl …]

Default sets: the blind dev and held-out sets, the older tuning sets and the shared eval set. Per set
(and per tag with --tags) it prints, over the answerable questions:
- precision: of the confident answers, the share whose first hit is a right clause;
- answered: the share answered confidently;
- reached: the share whose right clause is the confident answer or in the 您是不是想问 list;
and over the expect-null questions (off-topic and near-topic): how many got a confident answer (must
be 0) and how many a did-you-mean list. With --table, a precision/recall table across thresholds of
the decisive confidence (`SearchResult.confidence`, or the best hit's score where that is missing).
Only counts are printed, never individual questions, so a held-out set stays unseen.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data" / "knowledge"
DEFAULT_SETS = [DATA / "blind_dev.jsonl", DATA / "blind_heldout.jsonl", DATA / "blind_fresh.jsonl",
                *sorted(DATA.glob("heldout*_questions.jsonl")),
                Path("/work/shared/eval/dev_questions.jsonl")]
THRESHOLDS = [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]


def _norm(text: str) -> str:
    return re.sub(r"[\s“”\"‘’']", "", text)


def right(text: str, expect: list[list[str]]) -> bool:
    """The shared score.py rule: every phrase of one alternative is in the clause."""
    t = _norm(text)
    return any(all(_norm(k) in t for k in alt) for alt in expect)


@dataclass
class Row:
    tag: str
    answerable: bool
    answered: bool
    first_right: bool
    listed: bool  # a did-you-mean list was offered
    reached: bool  # right clause answered first, or in the list
    confidence: float
    best_right: bool  # the best clause (answered or not) is right


def run(retriever: object, questions: list[dict]) -> list[Row]:
    rows = []
    for q in questions:
        r = retriever.search(q["q"], top=3)  # type: ignore[attr-defined]
        dym = list(getattr(r, "did_you_mean", []) or [])
        best = r.hits[0] if r.hits else (dym[0] if dym else getattr(r, "best_guess", None))
        confidence = getattr(r, "confidence", None)
        if confidence is None:
            confidence = best.score if best is not None else 0.0
        expect = q["expect"]
        if expect is None:
            rows.append(Row(q["tag"], False, r.answered, False, bool(dym), False, confidence, False))
            continue
        first = bool(r.hits) and r.answered and right(r.hits[0].text, expect)
        reached = first or any(right(h.text, expect) for h in dym)
        rows.append(Row(q["tag"], True, r.answered, first, bool(dym), reached, confidence,
                        best is not None and right(best.text, expect)))
    return rows


def summary(rows: list[Row]) -> str:
    ans = [r for r in rows if r.answerable]
    out = [r for r in rows if not r.answerable]
    parts = []
    if ans:
        n_conf = sum(r.answered for r in ans)
        prec = sum(r.first_right for r in ans) / n_conf if n_conf else float("nan")
        parts.append(f"n={len(ans):3d} precision {prec:6.1%} answered {n_conf / len(ans):6.1%} "
                     f"reached {sum(r.reached for r in ans) / len(ans):6.1%} (list {sum(r.listed for r in ans)})")
    if out:
        parts.append(f"null n={len(out):2d} confident {sum(r.answered for r in out)} lists {sum(r.listed for r in out)}")
    return "  ".join(parts)


def table(rows: list[Row]) -> str:
    ans = [r for r in rows if r.answerable]
    out = [r for r in rows if not r.answerable]
    lines = ["    threshold  precision  answered  off-topic-confident"]
    for t in THRESHOLDS:
        conf = [r for r in ans if r.confidence >= t]
        prec = sum(r.best_right for r in conf) / len(conf) if conf else float("nan")
        lines.append(f"    {t:9.2f}  {prec:9.1%}  {len(conf) / max(1, len(ans)):8.1%}  "
                     f"{sum(r.confidence >= t for r in out):3d}/{len(out)}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--tags", action="store_true", help="also per tag")
    parser.add_argument("--table", action="store_true", help="precision/answered across thresholds")
    args = parser.parse_args()
    from bot.config import load_settings
    from knowledge.retriever import Retriever

    started = time.perf_counter()
    retriever = Retriever.load(load_settings().knowledge)
    print(f"loaded {len(retriever.clauses)} clauses in {time.perf_counter() - started:.2f} s")
    for path in args.sets or DEFAULT_SETS:
        if not path.exists():
            continue
        questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = run(retriever, questions)
        print(f"{path.name:28s} {summary(rows)}")
        if args.tags:
            by_tag: dict[str, list[Row]] = defaultdict(list)
            for row in rows:
                by_tag[row.tag].append(row)
            for tag in sorted(by_tag):
                print(f"  {tag:26s} {summary(by_tag[tag])}")
        if args.table:
            print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
