"""Prometheus metrics of one process (prometheus-client), counted where each event happens.

Counters and the latency histogram live in one registry for the process. Queue depths are read
when /metrics is scraped, from the services the web app was built with (`queue_depths`), so
nothing has to keep a gauge up to date. Every hook is one call, cheap enough for the message path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

CALLBACKS = Counter("ztbot_callbacks", "Callback requests by outcome (replied, empty, error, refused_4xx, "
                    "unconfigured, verified)", ["outcome"], registry=REGISTRY)
REPLY_SECONDS = Histogram("ztbot_reply_seconds", "Time from a decrypted callback to its HTTP answer",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0), registry=REGISTRY)
ANSWERS = Counter("ztbot_answers", "Questions by band: answered, did_you_mean, declined", ["band"],
                  registry=REGISTRY)
REPORTS = Counter("ztbot_reports", "Activity reports: stored (new row) or spooled (database down)", ["outcome"],
                  registry=REGISTRY)
REMINDERS = Counter("ztbot_reminders", "Reminder candidates by status per pass (sent, failed, already-sent, …)",
                    ["status"], registry=REGISTRY)
STATE_ERRORS = Counter("ztbot_state_errors", "State-store (Redis) calls that failed", registry=REGISTRY)
DB_ERRORS = Counter("ztbot_db_errors", "Database writes or reads that failed on the message path or behind it",
                    ["where"], registry=REGISTRY)
BACKUPS = Counter("ztbot_backups", "Scheduled backups by outcome (ok, failed)", ["outcome"], registry=REGISTRY)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


_children: dict[tuple[int, str], Any] = {}  # labelled children, looked up once (labels() takes a lock)


def _child(metric: Counter, value: str) -> Any:
    key = (id(metric), value)
    child = _children.get(key)
    if child is None:
        child = _children.setdefault(key, metric.labels(value))
    return child


def callback(outcome: str) -> None:
    _child(CALLBACKS, outcome).inc()


def answer(result: Any) -> None:
    """One question's band, from the knowledge search result."""
    if getattr(result, "answered", False):
        band = "answered"
    elif getattr(result, "did_you_mean", None):
        band = "did_you_mean"
    else:
        band = "declined"
    _child(ANSWERS, band).inc()


def report(outcome: str) -> None:
    _child(REPORTS, outcome).inc()


def reminders(counts: dict[str, int]) -> None:
    for status, n in counts.items():
        if n:
            REMINDERS.labels(status).inc(n)


def state_error() -> None:
    STATE_ERRORS.inc()


def db_error(where: str) -> None:
    DB_ERRORS.labels(where).inc()


class QueueDepths(Collector):
    """Gauges read at scrape time: `sources` maps a queue name to a function returning its depth."""

    def __init__(self, sources: dict[str, Callable[[], int]]) -> None:
        self.sources = sources

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("ztbot_queue_depth", "Items waiting: write-behind queues and the report spool",
                                   labels=["queue"])
        for name, depth in self.sources.items():
            try:
                value = float(depth())
            except Exception:  # noqa: BLE001 - a scrape must not fail because one source did
                value = float("nan")
            family.add_metric([name], value)
        yield family


def exposition(extra: Collector | None = None) -> bytes:
    """The process's metrics in the Prometheus text format, plus `extra` (the queue depths)."""
    out = generate_latest(REGISTRY)
    if extra is not None:
        local = CollectorRegistry(auto_describe=False)
        local.register(extra)
        out += generate_latest(local)
    return out
