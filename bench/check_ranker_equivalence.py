#!/usr/bin/env python3
"""Check that a change to the ranker (or index, query analysis, tokenizer) leaves every answer unchanged.

Runs a fixed question set through `Retriever.search(q, top=5)` and `search(q, top=1)` and records, per
question, (answered, [(clause_id, round(score, 6)) …], suggestions, best guess) plus the ranker's own
top five (number, score, coverage, bigrams, fuzzy). `--save FILE` writes them; `--compare FILE` reports
every difference (exit 1 when there is any). The questions: the dev and held-out sets, and a few
hundred seeded synthetic variants of them and of the corpus clauses (substrings, concatenations, typos,
punctuation and width noise, empty, over-long), so untypical paths are covered too.

`--synthetic-clauses N` runs on bench_retrieval's synthetic corpus of N clauses instead of the shipped
one, with its query mix added, where the index's candidate cut (CANDIDATES) really selects.
`--rev REV` computes the baseline from the knowledge package as committed at REV (extracted with
`git archive` into a temporary folder; the working tree is not touched) and compares with it.
`--time` also prints the median ms of an uncached search over the held-out questions.

From the project root:
    .venv/bin/python bench/check_ranker_equivalence.py --save /tmp/ranker_base.json     # before a change
    .venv/bin/python bench/check_ranker_equivalence.py --compare /tmp/ranker_base.json  # after it
    .venv/bin/python bench/check_ranker_equivalence.py --rev HEAD~3 --synthetic-clauses 20000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = [ROOT.parent / "shared" / "eval" / "dev_questions.jsonl",
                  *sorted((ROOT / "tests" / "data" / "knowledge").glob("heldout*_questions.jsonl"))]
TOPS = (5, 1)
NOISE = "，。？！ 、“”《》()?!.,~ 　"
SIMILAR = {"统": "通", "战": "站", "工": "公", "作": "做", "宗": "综", "教": "叫", "民": "名", "族": "足",
           "培": "陪", "训": "讯", "次": "此", "会": "汇", "议": "意", "员": "园", "干": "千", "部": "步"}
OFF_TOPIC = ["今天天气怎么样", "工资什么时候发", "帮我订一张火车票", "hello world", "asdfgh", "123456", "？？？",
             "的的的的", "怎么", "什么", "有没有", "要求", "工作", "统战", "一", "a", ""]


def read_questions() -> list[str]:
    questions: list[str] = []
    for path in QUESTION_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                questions.append(json.loads(line)["q"])
    return questions


def _piece(text: str, rng: random.Random, low: int = 2, high: int = 24) -> str:
    if len(text) <= low:
        return text
    size = rng.randint(low, min(high, len(text)))
    start = rng.randrange(len(text) - size + 1)
    return text[start:start + size]


def _typo(text: str, rng: random.Random) -> str:
    if not text:
        return text
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(chars))
        roll = rng.random()
        if roll < 0.25 and len(chars) > 1:
            del chars[i]
        elif roll < 0.5 and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif roll < 0.75:
            chars[i] = SIMILAR.get(chars[i], rng.choice("的了是在有和就不人都一上也很到说要去你会着没看好自己这"))
        else:
            chars.insert(i, rng.choice(NOISE + "啊吧呢吗"))
    return "".join(chars)


def _noise(text: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        out.append(ch)
        if rng.random() < 0.15:
            out.append(rng.choice(NOISE))
    text = "".join(out)
    if rng.random() < 0.5:  # full-width digits and letters
        text = text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    return text


def synthetic_questions(questions: list[str], clause_texts: list[str], count: int, seed: int) -> list[str]:
    """Seeded variants of the questions and the clauses, for paths the real questions rarely take."""
    rng = random.Random(seed)
    out = list(OFF_TOPIC)
    out.append("统一战线工作" * 40)  # over MAX_QUESTION_CHARS
    makers = [
        lambda: _piece(rng.choice(clause_texts), rng),
        lambda: _piece(rng.choice(clause_texts), rng, 6, 60),
        lambda: _piece(rng.choice(clause_texts), rng, 2, 8) + _piece(rng.choice(clause_texts), rng, 2, 8),
        lambda: _piece(rng.choice(clause_texts), rng) + rng.choice(("吗", "怎么做", "有什么要求", "几次", "谁来干")),
        lambda: _typo(rng.choice(questions), rng),
        lambda: _typo(_piece(rng.choice(clause_texts), rng, 4, 20), rng),
        lambda: rng.choice(questions) + rng.choice(questions),
        lambda: _piece(rng.choice(questions), rng, 1, 12),
        lambda: _noise(rng.choice(questions), rng),
        lambda: rng.choice(questions) + _piece(rng.choice(clause_texts), rng, 2, 10),
        lambda: "“" + _piece(rng.choice(clause_texts), rng, 3, 6) + "”" + rng.choice(("是什么意思", "怎么理解", "")),
    ]
    while len(out) < count:
        out.append(rng.choice(makers)())
    return out


def _record(retriever: Any, question: str) -> dict[str, Any]:
    from knowledge.query import analyse

    row: dict[str, Any] = {"q": question}
    for top in TOPS:
        result = retriever.search(question, top=top)
        guess = result.best_guess
        row[f"top{top}"] = [result.answered, [[h.clause_id, round(h.score, 6)] for h in result.hits],
                            result.suggestions,
                            None if guess is None else [guess.clause_id, round(guess.score, 6)]]
    snap = retriever._snapshot
    plan = analyse(question[:200], snap.synonyms)
    row["ranked"] = [[s.number, s.score, s.coverage, s.bigrams, s.fuzzy] for s in snap.ranker.rank(plan, limit=5)]
    return row


def build(synthetic_clauses: int, seed: int) -> tuple[Any, list[str]]:
    """The retriever (shipped or synthetic corpus) and the question list to run through it."""
    from knowledge.ingest import load_corpus
    from knowledge.retriever import Retriever

    clauses = load_corpus(ROOT / "knowledge" / "corpus").clauses
    questions = read_questions()
    extra: list[str] = []
    if synthetic_clauses:
        sys.path.insert(1, str(ROOT / "bench"))
        from bench_retrieval import make_queries, synthesise

        rng = random.Random(seed)
        clauses = synthesise(synthetic_clauses, clauses, rng)
        extra = make_queries(clauses, 600, rng)
    texts = [c.text for c in clauses]
    retriever = Retriever.from_clauses(clauses)
    questions = questions + synthetic_questions(questions, texts, 600, seed) + extra
    return retriever, list(dict.fromkeys(questions))


def _forget_words(retriever: Any) -> None:
    """Drop what the knowledge package remembers about words and terms (where it has such memos)."""
    import knowledge.query as query

    for name in ("_term", "_kind", "_is_question", "_index_token"):
        clear = getattr(getattr(query, name, None), "cache_clear", None)
        if clear:
            clear()
    getattr(query, "_TERMS", {}).clear()
    terms = getattr(retriever._snapshot.ranker, "_terms", None)
    if terms is not None:
        terms.clear()


def time_searches(retriever: Any, rounds: int = 20) -> dict[str, float]:
    """Median ms of one search without the answer cache (question analysis, ranking, suggestions):
    the 96 questions of heldout_questions.jsonl asked over and over ("repeated"); every held-out
    question asked once, in order, on a fresh retriever ("first asking"); and the same with every memo
    of words and terms dropped before each question ("cold words")."""
    def ask(target: Any, question: str) -> None:
        search = getattr(target, "_search", None)  # the answer cache would time dictionary lookups
        if search:
            search(target._snapshot, question, 3)
        else:
            target.search(question)

    def lines(path: Path) -> list[str]:
        return [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    repeated = lines(ROOT / "tests" / "data" / "knowledge" / "heldout_questions.jsonl")
    for q in repeated:
        ask(retriever, q)
    per_round = []
    for _ in range(rounds):
        started = time.perf_counter()
        for q in repeated:
            ask(retriever, q)
        per_round.append((time.perf_counter() - started) * 1000 / len(repeated))
    figures = {"repeated": statistics.median(per_round)}
    everything = list(dict.fromkeys(q for path in QUESTION_FILES if "heldout" in path.name for q in lines(path)))
    for label, forget in (("first asking", False), ("cold words", True)):
        fresh = type(retriever).from_clauses(retriever.clauses)
        times = []
        for q in everything:
            if forget:
                _forget_words(fresh)
            started = time.perf_counter()
            ask(fresh, q)
            times.append((time.perf_counter() - started) * 1000)
        figures[label] = statistics.median(times)
    return figures


def compare(base: list[dict[str, Any]], now: list[dict[str, Any]]) -> int:
    """Print every difference; the number of questions that differ."""
    if [r["q"] for r in base] != [r["q"] for r in now]:
        print("question lists differ (different seed, question files or corpus?)")
        return max(len(base), len(now))
    differ = 0
    for old, new in zip(base, now, strict=True):
        if old != new:
            differ += 1
            print(f"DIFF {old['q']!r}")
            for key in old:
                if old[key] != new.get(key):
                    print(f"  {key}: {old[key]}\n  {' ' * len(key)}  {new.get(key)}")
    return differ


def from_revision(rev: str, argv: list[str]) -> list[dict[str, Any]]:
    """Rows computed by the knowledge package as committed at `rev`, in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", rev, "knowledge"], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        out = Path(tmp) / "rows.json"
        done = subprocess.run([sys.executable, __file__, "--code", tmp, "--save", str(out), *argv], check=True,
                              capture_output=True, text=True)
        print("".join(line + "\n" for line in done.stdout.splitlines() if line.startswith("baseline")), end="")
        return json.loads(out.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="write the rows to this JSON file")
    parser.add_argument("--compare", type=Path, help="compare with the rows in this JSON file")
    parser.add_argument("--rev", help="compare with the knowledge package as committed at this git revision")
    parser.add_argument("--synthetic-clauses", type=int, default=0, help="synthetic corpus of this size")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--time", action="store_true", help="also time uncached searches (one core)")
    parser.add_argument("--code", help=argparse.SUPPRESS)  # where to import the knowledge package from
    args = parser.parse_args()
    sys.path.insert(0, args.code or str(ROOT))
    started = time.perf_counter()
    retriever, questions = build(args.synthetic_clauses, args.seed)
    built = time.perf_counter() - started
    if args.time:  # first, on a quiet heap: this script's own rows are not the bot's
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
        for label, ms in time_searches(retriever).items():
            print(f"{'baseline ' if args.code else ''}uncached search  {label:13s} median {ms:.3f} ms per question")
    started = time.perf_counter()
    rows = [_record(retriever, q) for q in questions]
    ran = time.perf_counter() - started
    print(f"{len(questions)} questions on {retriever._snapshot.index.size:,} clauses "
          f"(built in {built:.1f} s, checked in {ran:.1f} s)")
    if args.save:
        args.save.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
        print(f"saved {len(rows)} rows to {args.save}")
    base: list[dict[str, Any]] | None = None
    if args.rev:
        base = from_revision(args.rev, ["--synthetic-clauses", str(args.synthetic_clauses), "--seed", str(args.seed)]
                             + (["--time"] if args.time else []))
    elif args.compare:
        base = json.loads(args.compare.read_text(encoding="utf-8"))
    if base is not None:
        differ = compare(base, rows)
        print(f"differences: {differ} of {len(rows)} questions")
        return 1 if differ else 0
    return 0

if __name__ == "__main__":
    sys.exit(main())
