"""Tasks: drawn from the plan corpus once, kept in the office's editable tasks.yaml, synced into the DB.

`extract_tasks` finds the countable obligations in the plan text ("每月至少报送3篇工作动态信息",
"全年培训会议不少于四次", "年初有计划、年终有总结") and keeps the clause each came from.
`load_tasks_file` validates the YAML; `sync_tasks` upserts it by key (idempotent).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Task
from bot.periods import CADENCES
from tracking.numbers import NUM, to_int

if TYPE_CHECKING:
    from bot.context import Services

CADENCE_WORDS = {"每月": "monthly", "每个月": "monthly", "每季度": "quarterly", "每个季度": "quarterly",
                 "每年": "yearly", "全年": "yearly", "年度": "yearly"}
AUDIENCES = ("liaisons", "office")
FILTER_KEYS = ("roles", "villages", "userids")
_CAD = "|".join(sorted(CADENCE_WORDS, key=len, reverse=True))
_COUNT = re.compile(rf"(?:至少|不少于|不低于|达到)?\s*(?:报送|召开|开展|组织|举办)?\s*(?P<n>{NUM})\s*(?P<unit>篇|次|场|期)")
_CAD_RE = re.compile(_CAD)
_PLAN_SUMMARY = re.compile(r"年初有计划[、，,]\s*年终有总结")
_HEAD1 = re.compile(r"^([一二三四五六七八九十]+)、\s*(.+)$")
_HEAD2 = re.compile(r"^[（(]([一二三四五六七八九十]+)[)）]\s*(.+)$")
_LEAD = re.compile(r"^(?:\d+[.、．]\s*|[（(][一二三四五六七八九十\d]+[)）]\s*)")
_SUBJECTS = ("党工委", "街道", "做到", "要", "坚持")
_FILLERS = ("至少", "不少于", "不低于", "达到")
# Plain typos in the source text, corrected in titles only (the clause is kept verbatim).
TITLE_FIXES = {"两点特色": "亮点特色"}
STOPWORDS = {"工作", "类", "或", "和", "及", "的", "有", "会议", "信息", "召开", "组织", "参加", "开展", "专题", "研究"}
RELATED = {"总结": ["做法", "经验"], "经验总结": ["经验", "总结", "做法"], "亮点": ["典型", "创新", "品牌"], "培训": ["授课", "培训班"],
           "研讨": ["研判", "分析会"], "计划": ["方案", "年度计划"], "学习": ["专题学习", "学习会"]}
# A "工作动态" report is any activity a liaison did; these words make it the natural match.
ACTIVITY_WORDS = ["活动", "开展", "组织", "举办", "宣讲", "宣传", "走访", "慰问", "座谈", "调研", "联谊",
                  "志愿", "服务", "动态", "讲座", "参观", "交流", "节日", "会议", "召开", "检查", "排查",
                  "培训", "学习", "庆祝", "文艺", "演出", "比赛", "竞赛", "义诊", "帮扶", "入户", "联欢", "晚会"]


class TasksFileError(ValueError):
    """The tasks file is unreadable or a task in it is invalid; the message names the task and field."""


@dataclass
class TaskSpec:
    """One task as written in tasks.yaml."""

    key: str
    title: str
    cadence: str
    target: int
    audience: str = "liaisons"
    keywords: list[str] = field(default_factory=list)
    due_date: date | None = None
    audience_filter: dict[str, list[str]] = field(default_factory=dict)
    reminder_stages: list[dict[str, Any]] | None = None
    active: bool = True
    source_doc: str = ""
    source_section: str = ""
    source_text: str = ""

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "title": self.title, "cadence": self.cadence,
                               "target": self.target, "audience": self.audience}
        if self.due_date:
            out["due_date"] = self.due_date.isoformat()
        out["keywords"] = list(self.keywords)
        if self.audience_filter:
            out["audience_filter"] = self.audience_filter
        out["reminder_stages"] = self.reminder_stages
        out["active"] = self.active
        out["source"] = {"doc": self.source_doc, "section": self.source_section, "clause": self.source_text}
        return out


# ---------------------------------------------------------------- extraction


def _keywords(title: str) -> list[str]:
    import jieba  # slow to load; only the extractor needs it

    words: list[str] = []
    for w in jieba.lcut(title):
        if len(w) >= 2 and w not in STOPWORDS and w not in words:
            words.append(w)
        for extra in RELATED.get(w, []):
            if extra not in words:
                words.append(extra)
    if "动态" in title:
        words += [w for w in ACTIVITY_WORDS if w not in words]
    return words


def _fix(title: str) -> str:
    for wrong, right in TITLE_FIXES.items():
        title = title.replace(wrong, right)
    return title


def _what(clause: str) -> str:
    text = _LEAD.sub("", clause)
    text = _CAD_RE.sub("", text)
    text = _COUNT.sub("", text)
    for word in _FILLERS:
        text = text.replace(word, "")
    for subject in _SUBJECTS:
        if text.startswith(subject):
            text = text[len(subject):]
    text = re.sub(r"^(?:报送|召开|组织)", "", text)
    return text.strip(" ，,。；;、：:")


def _key(cadence: str, title: str) -> str:
    return f"{cadence}-{hashlib.sha1(title.encode('utf-8')).hexdigest()[:6]}"


def _audience(clause: str, section: str) -> str:
    return "liaisons" if ("报送" in clause or "村居" in clause or "联络员" in clause) else "office"


def extract_from_text(text: str, doc: str = "") -> list[TaskSpec]:
    """The countable obligations in one document, each with its clause and section heading path."""
    found: list[TaskSpec] = []
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
        for sentence in re.split(r"[。；;！!]", line):
            found.extend(_from_sentence(sentence.strip(), section, doc))
    return found


def _from_sentence(sentence: str, section: str, doc: str) -> list[TaskSpec]:
    out: list[TaskSpec] = []
    if _PLAN_SUMMARY.search(sentence):
        for title in ("年度计划", "年终总结"):
            subject = section.split(" > ")[0].split("、")[-1] if section else ""
            full = f"{subject}{title}" if subject and len(subject) <= 8 else title
            out.append(TaskSpec(_key("yearly", full), full, "yearly", 1, "office", _keywords(full),
                                source_doc=doc, source_section=section, source_text=sentence))
        return out
    clauses = [c for c in re.split(r"[，,]", sentence) if c.strip()]
    cadence: str | None = None
    previous = ""
    for clause in clauses:
        cad = _CAD_RE.search(clause)
        if cad:
            cadence = CADENCE_WORDS[cad.group(0)]
        count = _COUNT.search(clause)
        if count and cadence and count.group("unit") and (cad or cadence):
            target = to_int(count.group("n"))
            what = _what(clause) or _what(previous)
            if target and what and not what.isdigit():
                title = _fix(what)
                subject = section.split(" > ")[0].split("、", 1)[-1] if section else ""
                if len(title) <= 4 and subject and len(subject) <= 6 and subject not in title:
                    title = subject + title
                keywords = _keywords(title) + (["研究"] if title.startswith("研究") else [])
                out.append(TaskSpec(_key(cadence, title), title, cadence, target, _audience(sentence, section),
                                    keywords, source_doc=doc, source_section=section,
                                    source_text=sentence))
        previous = clause
    return out


def extract_tasks(corpus_dir: Path) -> list[TaskSpec]:
    """Every countable obligation in the corpus, de-duplicated by key, in document order."""
    seen: set[str] = set()
    out: list[TaskSpec] = []
    for path in sorted(corpus_dir.glob("*.txt")):
        for spec in extract_from_text(path.read_text(encoding="utf-8"), path.name):
            if spec.key not in seen:
                seen.add(spec.key)
                out.append(spec)
    out.sort(key=lambda s: s.audience != "liaisons")  # liaisons' tasks first: they are what most people see
    return out


HEADER = """\
# 统战助手 任务清单（由工作要点自动提取，办公室可直接修改本文件）
# 每项任务：
#   key        唯一标识，请勿重复；改名后视为新任务
#   title      任务名称（报送时可用 #名称 指定）
#   cadence    周期：monthly 每月 / quarterly 每季度 / yearly 每年 / once 一次性（需填 due_date: YYYY-MM-DD）
#   target     每个周期应完成的次数
#   audience   liaisons 村居联络员 / office 街道统战办
#   audience_filter  可选，进一步限定：roles / villages / userids 列表
#   keywords   关键词，报送内容含这些词时自动归入此任务
#   reminder_stages  提醒时间，null 表示用系统默认；如 [{days_before: 7, time: "09:30"}]
#   active     false 表示停用
#   source     出处：文件、章节与原文
"""


def write_tasks_file(specs: Iterable[TaskSpec], path: Path) -> None:
    body = yaml.safe_dump({"tasks": [s.to_yaml() for s in specs]}, allow_unicode=True, sort_keys=False,
                          width=200)
    path.write_text(HEADER + body, encoding="utf-8")


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
        raise bad("audience", "must be liaisons or office")
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
                    {k: [str(x) for x in v] for k, v in flt.items()}, stages, bool(item.get("active", True)),
                    str(source.get("doc", "")), str(source.get("section", "")), str(source.get("clause", "")))


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
                  "source_text": spec.source_text, "active": spec.active}
        for attr, value in values.items():
            if getattr(task, attr, None) != value:
                setattr(task, attr, value)
        result.append(task)
    for gone in existing.values():
        if gone.active:
            gone.active = False
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
