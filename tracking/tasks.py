"""Tasks: kept in the office's editable tasks.yaml, synced into the DB.

Extraction lives in tracking/extract.py (it reads the knowledge base's clauses; app/plans.py wires the
two), proposals and approval in tracking/proposals.py. Here: `load_tasks_file` validates the YAML
(old files with `active: true|false` and no `status` still load), `write_tasks_file` writes it back,
`sync_tasks` upserts it into the database by key (idempotent). Only `status: active` tasks are
reminded; proposed ones are in the database too (the admin pages list them) with `active` false.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Report, Task
from bot.periods import CADENCES
from tracking.extract import extract_from_clauses, from_sentence, task_key
from tracking.taskspec import AUDIENCES, STATUSES, TaskSpec, keywords_for

if TYPE_CHECKING:
    from bot.context import Services

__all__ = ["TaskSpec", "TasksFileError", "extract_from_clauses", "extract_from_text", "keywords_for",
           "load_tasks_file", "sync_tasks", "task_key", "write_tasks_file"]
FILTER_KEYS = ("roles", "villages", "userids")
_HEAD1 = re.compile(r"^([一二三四五六七八九十]+)、\s*(.+)$")
_HEAD2 = re.compile(r"^[（(]([一二三四五六七八九十]+)[)）]\s*(.+)$")


class TasksFileError(ValueError):
    """The tasks file is unreadable or a task in it is invalid; the message names the task and field."""


def extract_from_text(text: str, doc: str = "", file: str = "") -> list[TaskSpec]:
    """The obligations of plain plan text, line by line under its 一、/(一) headings (for quick checks and
    tests; the corpus goes through the knowledge base's clauses, see app/plans.py)."""
    found: list[TaskSpec] = []
    seen: set[str] = set()
    h1 = h2 = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if m := _HEAD1.match(line):
            h1, h2 = line if len(line) < 40 else f"{m.group(1)}、{m.group(2)[:20]}", ""
        elif m := _HEAD2.match(line):
            h2 = re.split(r"[。；]", line)[0][:40]
        section = " > ".join(x for x in (h1, h2) if x)
        for sentence in re.split(r"(?<=[。；;！!])", line):
            for spec in from_sentence(sentence.strip(), section, doc, file, source=sentence.strip().rstrip("。；;！!")):
                if spec.key not in seen:
                    seen.add(spec.key)
                    found.append(spec)
    return found


HEADER = """\
# 统战助手 任务清单（由工作要点自动提取，办公室可直接修改本文件）
# 每项任务：
#   key        唯一标识，请勿重复；改名后视为新任务
#   title      任务名称（报送时可用 #名称 指定）
#   cadence    周期：weekly 每周 / semimonthly 每半月 / monthly 每月 / quarterly 每季度 / half-yearly 每半年 /
#              yearly 每年 / once 一次性（需填 due_date: YYYY-MM-DD）
#   target     每个周期应完成的次数
#   deadline_day  可选，每期最后一个月的几号前完成（如 28）；不填表示到期末
#   audience   liaisons 村居联络员 / office 街道统战办 / other 其他单位（只记录，不提醒）
#   audience_filter  可选，进一步限定：roles / villages / userids 列表
#   keywords   关键词，报送内容含这些词时自动归入此任务
#   reminder_stages  提醒时间，null 表示用系统默认；如 [{days_before: 7, time: "09:30"}]
#   status     proposed 待确认（从工作要点读出，确认前不提醒）/ active 启用 / inactive 停用
#              确认：python run.py tasks approve KEY 或 all；本文件中办公室的修改不会被重新提取覆盖
#   source     出处：文档、文件、章节与原文
"""


def write_tasks_file(specs: Iterable[TaskSpec], path: Path) -> None:
    """Write the tasks file whole: to a temporary file beside it, then renamed over it, so a reader
    (or a crash) never sees half a file."""
    path = Path(path)
    body = yaml.safe_dump({"tasks": [s.to_yaml() for s in specs]}, allow_unicode=True, sort_keys=False,
                          width=200)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(HEADER + body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def tasks_file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside the tasks file while it is read, changed and written back
    (every serving process may refresh proposals after a corpus change)."""
    lock = Path(path).with_name(f".{Path(path).name}.lock")
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- the file


def load_tasks_file(path: Path) -> list[TaskSpec]:
    """Read and validate tasks.yaml; raises TasksFileError naming the task and field."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise TasksFileError(f"tasks file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise TasksFileError(f"tasks file {path}: not valid YAML ({exc.__class__.__name__})") from None
    items = raw.get("tasks") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise TasksFileError(f"tasks file {path}: needs a top-level 'tasks:' list")
    specs: list[TaskSpec] = []
    keys: set[str] = set()
    for i, item in enumerate(items, 1):
        spec = _spec(item, i)
        if spec.key in keys:
            raise TasksFileError(f"task {i} ({spec.key}): duplicate key")
        keys.add(spec.key)
        specs.append(spec)
    return specs


def _spec(item: Any, i: int) -> TaskSpec:
    if not isinstance(item, dict):
        raise TasksFileError(f"task {i}: must be a mapping")
    name = f"task {i} ({item.get('key', '?')})"

    def bad(fld: str, why: str) -> TasksFileError:
        return TasksFileError(f"{name}: {fld} {why}")

    key, title = str(item.get("key") or "").strip(), str(item.get("title") or "").strip()
    if not key or len(key) > 64:
        raise bad("key", "is required (at most 64 characters)")
    if not title:
        raise bad("title", "is required")
    cadence = item.get("cadence")
    if cadence not in CADENCES:
        raise bad("cadence", f"must be one of {', '.join(CADENCES)}")
    target = item.get("target", 1)
    if not isinstance(target, int) or isinstance(target, bool) or target < 1:
        raise bad("target", "must be a whole number >= 1")
    audience = item.get("audience", "liaisons")
    if audience not in AUDIENCES:
        raise bad("audience", "must be liaisons, office or other")
    due = item.get("due_date")
    if isinstance(due, str):
        try:
            due = date.fromisoformat(due)
        except ValueError:
            raise bad("due_date", "must be YYYY-MM-DD") from None
    if due is not None and not isinstance(due, date):
        raise bad("due_date", "must be YYYY-MM-DD")
    if cadence == "once" and due is None:
        raise bad("due_date", "is required for a once task")
    deadline = item.get("deadline_day")
    if deadline is not None and (not isinstance(deadline, int) or isinstance(deadline, bool) or not 1 <= deadline <= 31):
        raise bad("deadline_day", "must be a day of the month, 1 to 31")
    status = item.get("status")
    if status is None:
        status = "active" if item.get("active", True) else "inactive"
    if status not in STATUSES:
        raise bad("status", f"must be one of {', '.join(STATUSES)}")
    keywords = item.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise bad("keywords", "must be a list of words")
    flt = item.get("audience_filter") or {}
    if not isinstance(flt, dict) or any(k not in FILTER_KEYS or not isinstance(v, list) for k, v in flt.items()):
        raise bad("audience_filter", "may only hold lists under roles, villages, userids")
    stages = item.get("reminder_stages")
    if stages is not None and (not isinstance(stages, list) or not all(
        isinstance(s, dict) and isinstance(s.get("days_before"), int)
        and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(s.get("time", ""))) for s in stages
    )):
        raise bad("reminder_stages", "must be null or a list of {days_before: int, time: HH:MM}")
    source = item.get("source") or {}
    if not isinstance(source, dict):
        raise bad("source", "must be a mapping")
    return TaskSpec(key, title, cadence, target, audience, [k.strip() for k in keywords if k.strip()], due,
                    {k: [str(x) for x in v] for k, v in flt.items()}, stages, status,
                    str(source.get("doc", "")), str(source.get("section", "")), str(source.get("clause", "")),
                    deadline_day=deadline, source_file=str(source.get("file", "")))


def sync_tasks(session: Session, path: Path) -> list[Task]:
    """Upsert the file's tasks by key; tasks no longer in the file are deactivated (reports keep them)."""
    specs = load_tasks_file(path)
    existing = {t.key: t for t in session.scalars(select(Task)).all()}
    result: list[Task] = []
    for spec in specs:
        task = existing.pop(spec.key, None)
        if task is None:
            task = Task(key=spec.key)
            session.add(task)
        values = {"title": spec.title, "keywords": list(spec.keywords), "cadence": spec.cadence,
                  "target": spec.target, "due_date": spec.due_date, "audience": spec.audience,
                  "audience_filter": dict(spec.audience_filter), "reminder_stages": spec.reminder_stages,
                  "source_doc": spec.source_doc, "source_section": spec.source_section[:512],
                  "source_text": spec.source_text, "source_file": spec.source_file[:255],
                  "deadline_day": spec.deadline_day, "status": spec.status, "active": spec.active}
        for attr, value in values.items():
            if getattr(task, attr, None) != value:
                setattr(task, attr, value)
        result.append(task)
    for gone in existing.values():
        if gone.status == "proposed" and not session.scalar(select(Report.id).where(Report.task_id == gone.id).limit(1)):
            session.delete(gone)  # a retired proposal was never a task anyone worked on
        elif gone.active or gone.status == "active":
            gone.active = False
            gone.status = "inactive"
    session.flush()
    return result


_sync_lock = threading.Lock()


def ensure_tasks(services: Services) -> None:
    """Sync the tasks file into the database when it changed since this process last synced it."""
    active_tasks(services)


def active_tasks(services: Services) -> list[Task]:
    """The active tasks (detached, read-only), re-read only when the tasks file changes.

    The tasks table is written only by sync_tasks from this same file, so the file's mtime is a
    sound cache key for every process that reads it.
    """
    path = Path(services.settings.tasks_file)
    try:
        stamp: int | None = path.stat().st_mtime_ns
    except FileNotFoundError:
        stamp = None
    marker = ("tasks_synced", str(path), services.db.url)
    cached = services.extras.get(marker)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _sync_lock:
        cached = services.extras.get(marker)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        with services.db.session() as session:
            if stamp is not None:
                sync_tasks(session, path)
            tasks = list(session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id)).all())
        services.extras[marker] = (stamp, tasks)
        return tasks
