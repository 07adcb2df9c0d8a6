"""`python run.py doctor [--public-url URL] [--json]`: check a deployment, each finding with its fix.

Exit status 0 when nothing failed (warnings and skips allowed), 1 otherwise. The checks only read:
no migration, no message, no file is written. A check that depends on an earlier one that failed
is reported as skipped, with the reason, rather than failing a second time.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from app import doctor_texts as t
from app.doctor_local import (
    Check,
    check_config,
    check_corpus,
    check_database,
    check_redis,
    check_storage,
    check_wecom_settings,
)

if TYPE_CHECKING:
    from bot.config import Settings

LOCAL_CHECKS = ("database", "redis", "corpus")


def register(subparsers: Any) -> None:
    doctor = subparsers.add_parser("doctor", help="check the deployment (config, database, WeCom, callback)")
    doctor.add_argument("--public-url", help="the callback URL as WeCom calls it, e.g. https://bot.example.cn/wecom/callback")
    doctor.add_argument("--json", action="store_true", help="one JSON object: {ok, checks: [...]}")
    doctor.set_defaults(func=cmd_doctor, on_config_error=cmd_doctor_bad_config)


def run_checks(settings: Settings, *, public_url: str | None = None, config_path: str = "config.yaml") -> list[Check]:
    """Every check, in the order an operator would fix them."""
    from app.doctor_wecom import WeComProbe, check_callback, check_ip_and_agent, check_skew, check_token

    checks = [check_config(settings, config_path), check_wecom_settings(settings), check_database(settings),
              check_storage(settings), check_redis(settings), check_corpus(settings)]
    w = settings.wecom
    if w.corp_id and w.secret and w.agent_id is not None:
        probe = WeComProbe(settings)
        try:
            token_check, token = check_token(probe, settings)
            checks.append(token_check)
            if token is None:
                checks += [Check("wecom_ip", "skip", t.SKIP_NO_TOKEN), Check("wecom_agent", "skip", t.SKIP_NO_TOKEN)]
            else:
                checks += list(check_ip_and_agent(probe, settings, token))
            checks.append(check_skew(probe, settings))
        finally:
            probe.close()
    else:
        checks += [Check(cid, "skip", t.SKIP_WECOM_UNSET) for cid in ("wecom_token", "wecom_ip", "wecom_agent",
                                                                     "time_skew")]
    if not public_url:
        checks.append(Check("callback", "skip", t.CALLBACK_NOT_ASKED))
    elif not w.callback_ready:
        checks.append(Check("callback", "skip", t.SKIP_WECOM_UNSET))
    else:
        checks.append(check_callback(settings, public_url))
    return checks


def config_failure(error: str) -> list[Check]:
    """What is left to say when the configuration itself does not load."""
    ids = ("wecom_settings", "database", "storage", "redis", "corpus", "wecom_token", "wecom_ip", "wecom_agent", "time_skew",
           "callback")
    return [Check("config", "fail", t.CONFIG_BAD.format(error=error), t.CONFIG_BAD_FIX)] + [
        Check(cid, "skip", t.SKIP_NO_CONFIG) for cid in ids]


def passed(checks: list[Check]) -> bool:
    return not any(c.status == "fail" for c in checks)


def render_text(checks: list[Check]) -> str:
    lines = [t.HEADER]
    for c in checks:
        lines.append(f"[{t.STATUS[c.status]}] {c.title}：{c.detail}")
        if c.fix and c.status in ("fail", "warn"):
            lines.append(f"       {t.FIX}{c.fix}")
    counts = {s: sum(1 for c in checks if c.status == s) for s in t.STATUS}
    summary = t.SUMMARY_OK if passed(checks) else t.SUMMARY_FAIL
    lines.append(summary.format(passed=counts["pass"], warned=counts["warn"], failed=counts["fail"],
                                skipped=counts["skip"]))
    return "\n".join(lines) + "\n"


def emit(checks: list[Check], as_json: bool, out: TextIO) -> int:
    if as_json:
        out.write(json.dumps({"ok": passed(checks), "checks": [c.as_json() for c in checks]}, ensure_ascii=False)
                  + "\n")
    else:
        out.write(render_text(checks))
    out.flush()
    return 0 if passed(checks) else 1


def _config_path() -> str:
    import os

    from bot.config import DEFAULT_CONFIG

    return os.environ.get("BOT_CONFIG") or str(DEFAULT_CONFIG)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    return emit(run_checks(settings, public_url=args.public_url, config_path=_config_path()), args.json, sys.stdout)


def cmd_doctor_bad_config(args: argparse.Namespace, error: Exception) -> int:
    """Called by run.py when the configuration does not load: that is the doctor's first finding."""
    return emit(config_failure(str(error)), args.json, sys.stdout)
