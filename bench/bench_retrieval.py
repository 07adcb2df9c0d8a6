#!/usr/bin/env python3
"""Retrieval benchmark: index build time, question latency (median, p99) and memory at 100,000 clauses.

The synthetic corpus recombines the shipped plans' own words: a word-level Markov chain trained on the
real clauses writes new clauses of realistic length and vocabulary, under randomly drawn real heading
paths. Questions are short word runs cut from random synthetic clauses (answerable), the held-out
question files (phone-style), and off-topic phrases, so every code path of the ranker is timed.

It also times `run.py ask` starting cold on the shipped corpus (a new process each run).

Run from the project root, pinned to one core:
    .venv/bin/python bench/bench_retrieval.py [--clauses 100000] [--queries 2000] [--seed 7] [--cold-runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.ingest import load_corpus  # noqa: E402
from knowledge.retriever import Retriever  # noqa: E402
from knowledge.segment import Clause  # noqa: E402
from knowledge.tokenizer import cut  # noqa: E402

OFF_TOPIC = ["今天天气怎么样", "工资什么时候发", "帮我订一张火车票", "我想请假", "hello", "asdfgh", "附近有什么好吃的",
             "快递到了吗", "股票会涨吗", "明天几点上班"]


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc (Linux)."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _ = line.split()
                values[key] = int(amount) / 1024
    return values.get("VmRSS:", 0.0), values.get("VmHWM:", 0.0)


def cold_ask_seconds(runs: int) -> list[float]:
    """Wall time of `python run.py ask --json QUESTION`, each in a fresh process."""
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "run.py", "ask", "--json", "宗教信息员一年培训几回"], cwd=ROOT, check=True,
                       capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def train_chain(clauses: list[Clause]) -> tuple[dict[str, list[str]], list[str]]:
    """Word bigram successors and clause-opening words from the real corpus."""
    successors: dict[str, list[str]] = defaultdict(list)
    starts: list[str] = []
    for clause in clauses:
        words = cut(clause.text)
        if not words:
            continue
        starts.append(words[0])
        for a, b in zip(words, words[1:], strict=False):
            successors[a].append(b)
    return successors, starts


def synthesise(n: int, real: list[Clause], rng: random.Random) -> list[Clause]:
    """n new clauses written by the Markov chain, each under a real clause's heading path."""
    successors, starts = train_chain(real)
    words = list(successors)
    out: list[Clause] = []
    for i in range(n):
        target = rng.choice((30, 50, 70, 90, 120, 150))
        word = rng.choice(starts)
        parts = [word]
        length = len(word)
        while length < target:
            options = successors.get(word)
            word = rng.choice(options) if options and rng.random() > 0.05 else rng.choice(words)
            parts.append(word)
            length += len(word)
        text = "".join(parts)
        if not text.endswith("。"):
            text += "。"
        like = rng.choice(real)
        out.append(Clause(text=text, doc=f"合成文档{i // 500:03d}", file=f"synthetic_{i // 500:03d}.txt",
                          section=like.section, headings=like.headings, clause_id=f"synthetic#{i}"))
    return out


def make_queries(clauses: list[Clause], count: int, rng: random.Random) -> list[str]:
    """Answerable word runs, held-out phone questions and off-topic ones, shuffled."""
    phone: list[str] = []
    for name in ("heldout_questions.jsonl", "heldout2_questions.jsonl", "blind_dev.jsonl"):
        path = ROOT / "tests" / "data" / "knowledge" / name
        if path.exists():
            phone += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    queries: list[str] = []
    while len(queries) < count:
        roll = rng.random()
        if roll < 0.6:
            words = cut(rng.choice(clauses).text)
            start = rng.randrange(max(1, len(words) - 4))
            queries.append("".join(words[start:start + rng.randint(2, 5)]) + rng.choice(("", "吗", "怎么做", "有什么要求")))
        elif roll < 0.9 and phone:
            queries.append(rng.choice(phone))
        else:
            queries.append(rng.choice(OFF_TOPIC))
    return queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clauses", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--all-cores", action="store_true", help="do not pin the process to one core")
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false",
                        help="skip the second, traced build")
    parser.add_argument("--cold-runs", type=int, default=5, help="cold `run.py ask` starts to time (0: none)")
    args = parser.parse_args()
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = random.Random(args.seed)

    real = load_corpus(ROOT / "knowledge" / "corpus").clauses
    started = time.perf_counter()
    clauses = synthesise(args.clauses, real, rng)
    generated = time.perf_counter() - started
    rss_before, _ = rss_mb()

    started = time.perf_counter()
    retriever = Retriever.from_clauses(clauses)
    build = time.perf_counter() - started
    rss_after, rss_peak = rss_mb()
    traced_now = traced_peak = 0
    if args.tracemalloc:  # a second, traced build: tracemalloc slows building about twofold
        tracemalloc.start()
        traced = Retriever.from_clauses(clauses)
        traced_now, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del traced

    queries = make_queries(clauses, args.queries, rng)
    started = time.perf_counter()
    retriever._snapshot.slips.prepare()  # the sound map of typing slips, made on the first unknown word
    slips = time.perf_counter() - started
    for q in queries[:50]:  # warm caches (tokenizer, allocator) before timing
        retriever.search(q)
    latencies: list[float] = []
    answered = listed = 0
    for q in queries:
        t0 = time.perf_counter()
        result = retriever.search(q)
        latencies.append((time.perf_counter() - t0) * 1000)
        answered += result.answered
        listed += bool(result.did_you_mean)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * len(latencies))) - 1)]
    index_mb = retriever._snapshot.index.memory_bytes() / 2**20

    print(f"clauses            {len(clauses):,} (synthetic, generated in {generated:.1f}s), "
          f"mean length {statistics.mean(len(c.text) for c in clauses):.0f} chars")
    print(f"index build        {build:.2f} s (+ {slips:.2f} s for the typing-slip sound map, on first need)")
    print(f"queries            {len(queries):,} on {'all cores' if args.all_cores else 'one core'}, "
          f"{answered / len(queries):.0%} answered, {listed / len(queries):.0%} did-you-mean lists")
    print(f"latency            median {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms, "
          f"max {latencies[-1]:.2f} ms")
    print(f"memory             index postings {index_mb:.0f} MB; RSS {rss_before:.0f} MB with the clauses, "
          f"{rss_after:.0f} MB with the index (build peak {rss_peak:.0f} MB)")
    if args.cold_runs:
        cold = cold_ask_seconds(args.cold_runs)
        print(f"cold ask           shipped corpus, {len(cold)} fresh processes: median {statistics.median(cold):.2f} s, "
              f"max {max(cold):.2f} s")
    if args.tracemalloc:
        print(f"tracemalloc        a build allocates {traced_now / 2**20:.0f} MB that it keeps, "
              f"{traced_peak / 2**20:.0f} MB at its peak")
    return 0


if __name__ == "__main__":
    sys.exit(main())
