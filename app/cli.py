"""The command line: `python run.py VERB …`. Verbs live beside what they drive; this file routes."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings, load_settings
from bot.db.database import DatabaseUnavailable
from bot.logs import configure_logging

# What runs beside the HTTP server in every server process (see app.serve).
SERVE_HOOKS = ("app.services:warm_up", "app.upkeep:start_upkeep", "scheduler.runner:start_hook",
               "app.backup_schedule:start_hook")
# Packages that add verbs through a `register(subparsers)` function.
VERB_MODULES = ("app.cli_knowledge", "app.cli_tracking", "app.cli_scheduler", "app.doctor", "app.cli_backup")


class UsageError(Exception):
    """Bad usage or input: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="run.py", description="统战助手")
    sub = parser.add_subparsers(dest="verb", parser_class=_Parser)
    serve = sub.add_parser("serve", help="HTTP server: callback, health, admin, reminder scheduler")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    chat = sub.add_parser("chat", help="talk to the bot in the terminal as a WeCom user")
    chat.add_argument("--user")
    chat.add_argument("--message")
    chat.add_argument("--at", metavar="ISO8601", help="the local time the message is sent")
    chat.add_argument("--jsonl", action="store_true", help="a scripted conversation: JSON lines in and out")
    chat.set_defaults(func=cmd_chat)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_verb", parser_class=_Parser, required=True)
    db_sub.add_parser("upgrade", help="apply schema migrations").set_defaults(func=cmd_db_upgrade)
    for name in VERB_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str]) -> int:
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(list(argv) or ["serve"])
        settings = load_settings()
    except UsageError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        if args is not None and getattr(args, "on_config_error", None):  # the doctor reports it as a finding
            return int(args.on_config_error(args, exc))
        print(f"config: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    if args.verb != "db":
        logging.getLogger("alembic").setLevel(logging.WARNING)  # first-run migration chatter
    try:
        return int(args.func(args, settings) or 0)
    except UsageError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, DatabaseUnavailable) as exc:
        print(database_error_line(settings.database_url, exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`… | head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def database_error_line(url: str, exc: BaseException) -> str:
    """One line naming DATABASE_URL (password masked) and the driver's first line of complaint."""
    from app import texts
    from bot.redact import redact

    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    short = reason[0] if reason else exc.__class__.__name__
    masked = re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)
    return "run.py: " + redact(texts.DB_UNREACHABLE.format(url=masked, reason=short[:200]))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.serve import serve

    return serve(settings, host=args.host or settings.host, port=args.port or settings.port, workers=args.workers,
                 hooks=SERVE_HOOKS)


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.database import Database

    db = Database(settings.database_url)
    db.upgrade()
    print("database is up to date")
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli_chat import cmd_chat as chat

    return chat(args, settings)
