"""Cost of the metrics hooks on the message path: per-event microseconds (prints figures, asserts nothing).

    .venv/bin/python bench/bench_metrics.py
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import metrics  # noqa: E402


class _Answered:
    answered = True


def _timer() -> None:
    with metrics.REPLY_SECONDS.time():
        pass


def main() -> None:
    n = 200_000
    cases = {
        "callback counter (cached child)": lambda: metrics.callback("replied"),
        "callback counter (labels() each time)": lambda: metrics.CALLBACKS.labels("replied").inc(),
        "reply latency histogram": _timer,
        "answer band": lambda: metrics.answer(_Answered),
        "exposition (one scrape)": metrics.exposition,
    }
    for name, fn in cases.items():
        runs = n if "scrape" not in name else 2_000
        best = min(timeit.repeat(fn, number=runs, repeat=3)) / runs
        print(f"{name:40s} {best * 1e6:8.2f} µs")


if __name__ == "__main__":
    main()
