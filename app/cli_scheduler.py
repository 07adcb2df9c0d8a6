"""`run.py remind [--at ISO8601] [--dry-run] [--json]`: one reminder pass, as INTERFACE.md promises."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from scheduler.engine import PassReport


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    p = subparsers.add_parser("remind", help="one reminder pass as if the clock read --at (default: now)")
    p.add_argument("--at", help="ISO 8601 instant; without an offset it is office-local time")
    p.add_argument("--dry-run", action="store_true", help="show what would be sent; claim and send nothing")
    p.add_argument("--json", action="store_true", help="one JSON object per recipient considered")
    p.set_defaults(func=cmd_remind)


def parse_at(value: str, settings: Settings) -> datetime:
    """'2026-11-23T09:30' (office-local), '2026-11-23T01:30Z' or with an offset -> aware UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        at = at.replace(tzinfo=settings.tz)
    return at.astimezone(timezone.utc)


def cmd_remind(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import build_services
    from bot.clock import FixedClock
    from bot.config import ConfigError
    from bot.wecom.sender import LogSender
    from scheduler.engine import ReminderEngine
    from scheduler.runner import sync_tasks_file
    from scheduler.stages import QuietRules
    from tracking.tasks import TasksFileError

    clock = None
    if args.at:
        try:
            clock = FixedClock(parse_at(args.at, settings))
        except ValueError:
            print(f"remind: --at is not an ISO 8601 date-time: {args.at!r}", file=sys.stderr)
            return 2
    try:
        QuietRules.build(settings.tz, settings.reminders.quiet_start, settings.reminders.quiet_end,
                         settings.reminders.off_days)
    except ConfigError as exc:
        print(f"config: {exc}", file=sys.stderr)
        return 2
    services = build_services(settings, clock=clock)
    dry_run = args.dry_run
    if not dry_run and isinstance(services.sender, LogSender):
        # Claiming rows without a way to send would use up this stage's reminders for nothing.
        print("remind: WECOM_SECRET is not set, so nothing can be sent: this is a dry run", file=sys.stderr)
        dry_run = True
    try:
        try:
            sync_tasks_file(services)
        except TasksFileError as exc:
            print(f"remind: tasks file {settings.tasks_file}: {exc}", file=sys.stderr)
            return 2
        report = ReminderEngine(services).run_pass(services.clock.now(), dry_run=dry_run)
    finally:
        services.close()
    if args.json:
        print_json(report)
    else:
        print_summary(report, settings)
    return 1 if any(c.status == "failed" for c in report.candidates) else 0


def print_json(report: PassReport) -> None:
    out = sys.stdout
    for c in report.candidates:
        out.write(json.dumps({"userid": c.person.userid, "task": c.task_title, "period": c.period.key,
                              "done": c.done, "target": c.target, "status": c.status},
                             ensure_ascii=False) + "\n")
    out.flush()


def print_summary(report: PassReport, settings: Settings) -> None:
    local = report.now.astimezone(settings.tz)
    counts = report.counts()
    order = ("sent", "already-sent", "on-track", "not-due", "quiet-hours", "failed", "dry-run")
    parts = ", ".join(f"{k} {counts[k]}" for k in order if counts.get(k))
    print(f"reminder pass at {local.isoformat(timespec='minutes')}{' (dry run)' if report.dry_run else ''}: "
          f"{parts or 'nobody to consider'}")
    print(f"messages sent {report.messages}, API calls {report.calls}, {report.seconds:.2f}s")
    for e in report.escalations:
        print(f"office summary to {e.admin}: {e.task_title} {e.period_key}, {e.behind} behind: {e.status}")
    for u in report.undelivered:
        print(f"undelivered: {u.userid} ({u.reason})")
