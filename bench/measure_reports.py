"""Reports as liaisons type them: each labelled message driven through `run.py chat --jsonl`.

    .venv/bin/python bench/measure_reports.py                       # every set
    .venv/bin/python bench/measure_reports.py --set blind_dev       # one set
    .venv/bin/python bench/measure_reports.py --root /tmp/old-main  # another checkout (the 'before' figure)
    .venv/bin/python bench/measure_reports.py --misses              # also list what went wrong

Each set runs on a scratch SQLite database with one roster user per message (that message's own
village), so messages never see each other's conversation or reports. A message is sent at its
`today` 10:00 local time. When the bot asks whether to record the message as a report (a reply
with 「是」 in a 回复「是」… prompt), the script answers 是 once. Then `reports list --json` says what
was stored. A checkout whose `chat` has no `--jsonl` (the code before issue 10) is driven by this
script's own `--driver` mode instead: the same JSON lines through that checkout's processor, with
its clock set to the message's time.

Figures per set: stored share of the reports that should be stored now (not plans, not "ask the
date"); of those, date / count / village / task / activity right (over the same denominator: a
report not stored is wrong in every field); plans not counted as done; unclear dates asked; false
reports (stored or offered for recording) on non-reports; follow-up questions (any reply that asks
for something other than the record confirmation) over all messages and over messages that needed none.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "reports"
SETS = {  # name -> (messages, tasks file)
    "blind_dev": ("blind_dev.jsonl", "blind_tasks.yaml"),
    "blind_heldout": ("blind_heldout.jsonl", "blind_tasks.yaml"),
    "messages": ("messages.jsonl", "tasks.yaml"),
    "heldout": ("heldout.jsonl", "tasks.yaml"),
}
ROSTER_VILLAGES = ["红山郡社区", "东风村", "新华社区", "幸福村", "团结嘎查", "长青村", "和平社区", "前进村"]
CONFIRM_MARKS = ("回复「是」记录", "回复“是”记录", "记为一条报送", "要记录为报送", "是否记录")
ASK_MARKS = ("请回复", "回复「是」", "回复编号", "回复「取消」", "请简单说", "请发")
STORED_MARK = "报送编号"


def load_set(path: Path) -> list[dict[str, Any]]:
    """Rows in the blind set's shape; the older sets (a context line first) are converted."""
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    if lines and "context" in lines[0]:
        ctx = lines[0]["context"]
        return [{"text": r["text"], "today": ctx["today"], "own_village": ctx["own_village"], "is_report": True,
                 "date": r["date"], "plan": False, "ask": False, "participants": r["participants"],
                 "village": r["village"], "task": r["task"], "activity_contains": r["activity_contains"],
                 "style": "legacy"} for r in lines[1:]]
    return lines


def _context_villages(path: Path) -> list[str]:
    """The roster villages an older set names in its context line (the blind set uses ROSTER_VILLAGES)."""
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    return list(first.get("context", {}).get("villages", []))


def _env(workdir: Path, tasks: Path) -> dict[str, str]:
    config = workdir / "config.yaml"
    config.write_text(f"tasks_file: {tasks}\ndata_dir: {workdir / 'data'}\nlog_level: WARNING\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "REDIS_URL", "DATABASE_URL"))}
    env.update({"BOT_CONFIG": str(config), "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
                "PYTHONPATH": "", "BOT_TIMEZONE": "Asia/Shanghai"})
    return env


def _has_jsonl(root: Path, env: dict[str, str]) -> bool:
    out = subprocess.run([sys.executable, "run.py", "chat", "--help"], cwd=root, env=env, capture_output=True,
                         text=True)
    return "--jsonl" in out.stdout


class Chat:
    """A `chat --jsonl` process (or this script's --driver for old code): one line in, one line out."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        cmd = [sys.executable, "run.py", "chat", "--jsonl"] if _has_jsonl(root, env) else [
            sys.executable, str(Path(__file__).resolve()), "--driver", str(root)]
        self.mode = "chat --jsonl" if cmd[2] == "chat" else "in-process driver"
        self.proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, encoding="utf-8", bufsize=1)

    def send(self, user: str, text: str, at: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"user": user, "text": text, "at": at}, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("chat process ended early")
        return json.loads(line)["reply"] or ""

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def asks_to_record(reply: str) -> bool:
    return any(m in reply for m in CONFIRM_MARKS)


def is_followup(reply: str) -> bool:
    """A reply that waits for an answer about the report (not a stored confirmation, not an answer)."""
    if STORED_MARK in reply or asks_to_record(reply):
        return False
    return any(m in reply for m in ASK_MARKS)


def run_set(root: Path, name: str, show_misses: bool) -> dict[str, Any]:
    messages, tasks = SETS[name]
    rows = load_set(DATA / messages)
    with tempfile.TemporaryDirectory(prefix="measure-reports-") as tmp:
        work = Path(tmp)
        env = _env(work, DATA / tasks)
        roster = work / "roster.csv"
        villages = sorted({*ROSTER_VILLAGES, *(r["own_village"] for r in rows), *_context_villages(DATA / messages)})
        roster.write_text("userid,name,village,role\n" + "".join(
            f"m{i},联络员{i},{r['own_village']},liaison\n" for i, r in enumerate(rows)) + "".join(
            f"v{i},村居{i},{v},liaison\n" for i, v in enumerate(villages)), encoding="utf-8")
        subprocess.run([sys.executable, "run.py", "roster", "import", str(roster)], cwd=root, env=env, check=True,
                       capture_output=True)
        chat = Chat(root, env)
        replies: list[tuple[str, str | None]] = []
        try:
            for i, r in enumerate(rows):
                at = f"{r['today']}T10:00:00"
                first = chat.send(f"m{i}", r["text"], at)
                second = chat.send(f"m{i}", "是", at) if asks_to_record(first) else None
                replies.append((first, second))
        finally:
            chat.close()
        listed = subprocess.run([sys.executable, "run.py", "reports", "list", "--json"], cwd=root, env=env,
                                check=True, capture_output=True, text=True).stdout
    stored: dict[str, dict[str, Any]] = {}
    for line in listed.splitlines():
        rec = json.loads(line)
        if rec.get("status", "active") == "active":
            stored.setdefault(rec["userid"], rec)
    return score(name, rows, replies, stored, chat.mode, show_misses)


def _task_key(title: str | None, tasks_file: Path) -> str | None:
    import yaml

    if title is None:
        return None
    for t in yaml.safe_load(tasks_file.read_text(encoding="utf-8"))["tasks"]:
        if t["title"] == title:
            return t["key"]
    return title


def score(name: str, rows: list[dict[str, Any]], replies: list[tuple[str, str | None]],
          stored: dict[str, dict[str, Any]], mode: str, show_misses: bool) -> dict[str, Any]:
    tasks_file = DATA / SETS[name][1]
    c: Counter[str] = Counter()
    misses: list[str] = []
    for i, (r, (first, second)) in enumerate(zip(rows, replies, strict=True)):
        rec = stored.get(f"m{i}")
        followup = is_followup(first) or (second is not None and is_followup(second))
        c["messages"] += 1
        c["followups"] += followup
        c["confirm_asked"] += asks_to_record(first)
        if not r["is_report"]:
            c["non_reports"] += 1
            c["false_stored"] += rec is not None
            c["false_offered"] += asks_to_record(first)
            if rec is not None or asks_to_record(first):
                misses.append(f"  [false report] {r['text'][:60]!r} -> {first[:60]!r}")
            continue
        if r["plan"]:
            c["plans"] += 1
            c["plans_held"] += rec is None
            c["followups_needed"] += 1
            if rec is not None:
                misses.append(f"  [plan counted] {r['text'][:60]!r} -> {rec['date']}")
            continue
        if r["ask"]:
            c["asks"] += 1
            c["asks_asked"] += rec is None and followup
            c["followups_needed"] += 1
            if not (rec is None and followup):
                misses.append(f"  [date not asked] {r['text'][:60]!r} -> {first[:80]!r}")
            continue
        c["reports"] += 1
        c["no_followup_needed"] += 1
        c["needless_followups"] += followup
        if rec is None:
            misses.append(f"  [not stored] {r['text'][:70]!r} -> {(second or first)[:90]!r}")
            continue
        c["stored"] += 1
        got = {"date": rec["date"], "count": rec["participants"], "village": rec["village"],
               "task": _task_key(rec["task"], tasks_file),
               "activity": r["activity_contains"] in (rec["activity"] + (rec.get("summary") or ""))}
        want = {"date": r["date"], "count": r["participants"], "village": r["village"], "task": r["task"],
                "activity": True}
        for fld in got:
            if got[fld] == want[fld]:
                c[f"{fld}_right"] += 1
            else:
                shown = rec["activity"][:40] if fld == "activity" else got[fld]
                misses.append(f"  [{fld}] {r['text'][:60]!r}: want {want[fld]!r}, got {shown!r}")
    print_figures(name, mode, c)
    if show_misses:
        print("\n".join(misses) or "  (none)")
    return dict(c)


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}% ({n}/{d})" if d else "    -"


def print_figures(name: str, mode: str, c: Counter[str]) -> None:
    n = c["reports"]
    print(f"\n{name}: {c['messages']} messages via {mode}")
    print(f"  stored                  {_pct(c['stored'], n)}  of reports to store now")
    for fld in ("date", "count", "village", "task", "activity"):
        print(f"  {fld:<8} right          {_pct(c[f'{fld}_right'], n)}")
    print(f"  plans not counted       {_pct(c['plans_held'], c['plans'])}")
    print(f"  unclear dates asked     {_pct(c['asks_asked'], c['asks'])}")
    print(f"  false reports           {_pct(c['false_stored'], c['non_reports'])} stored, "
          f"{_pct(c['false_offered'], c['non_reports'])} offered for recording")
    print(f"  record confirmations    {_pct(c['confirm_asked'], c['messages'])} of messages")
    print(f"  follow-up questions     {_pct(c['followups'], c['messages'])} of messages; "
          f"needless {_pct(c['needless_followups'], c['no_followup_needed'])}")


# ---------------------------------------------------------------- driver for a checkout without chat --jsonl


def drive(root: Path) -> int:
    """`chat --jsonl` for old code: the checkout's own services and processor, clock set per line."""
    sys.path.insert(0, str(root))
    os.chdir(root)
    import logging
    import uuid
    from datetime import datetime

    from app.services import build_services  # type: ignore[import-not-found]
    from bot.clock import FixedClock  # type: ignore[import-not-found]
    from bot.config import load_settings  # type: ignore[import-not-found]
    from bot.messages import IncomingMessage  # type: ignore[import-not-found]

    logging.basicConfig(level=logging.WARNING)
    settings = load_settings()
    clock = FixedClock(datetime.now().astimezone())
    services = build_services(settings, clock=clock)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            item = json.loads(line)
            at = datetime.fromisoformat(item["at"]).replace(tzinfo=settings.tz)
            clock.set(at)
            msg = IncomingMessage(user=item["user"], type="text", content=item["text"], msg_id=uuid.uuid4().hex,
                                  create_time=int(at.timestamp()))
            reply = services.processor.process(msg, budget_s=None)
            print(json.dumps({"user": item["user"], "text": item["text"], "reply": reply}, ensure_ascii=False),
                  flush=True)
    finally:
        services.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", choices=sorted(SETS), help="one set (repeatable); default all")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--misses", action="store_true", help="list each wrong field")
    parser.add_argument("--driver", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.driver:
        return drive(args.driver)
    for name in args.set or list(SETS):
        run_set(args.root.resolve(), name, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
