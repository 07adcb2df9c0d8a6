"""Read a short activity report: date, participants, village, activity text and the task. Pure.

"报送 昨天在红山郡社区开展民族团结宣讲,40人参加 #动态信息" -> date=yesterday, 40 people, village
红山郡社区, activity "在红山郡社区开展民族团结宣讲", the task whose title or keyword is 动态信息.

The village is always one of the roster's (named in full, by its base name 红山郡, or close to it:
红山社区) or else the reporter's own (我村, 本社区, 社区 … and no name at all): never a free string.
Tasks are chosen by keywords weighted by how few tasks share them, and by how much of a task's
title the text repeats; a leading label ("亮点信息：…") or a #tag names the task outright.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher

from rapidfuzz import fuzz

from tracking.dates import find_date
from tracking.numbers import find_participants
from tracking.summary import clean_activity, summarise

VILLAGE_SUFFIXES = ("居委会", "村委会", "社区", "嘎查", "村", "居")
_TAG = re.compile(r"[#＃]\s*(?P<tag>[^\s#＃，,。；;：:、!！?？]+)")
# A place-like name: "红山社区", "东方红村" (compared with the roster, never stored as written)
_SUFFIX = re.compile(r"社区|嘎查|村(?![民居两委里内干级组务集规庄])")
_NOT_A_NAME_START = "我本该各全每此这那其咱俺在到赴于去和与及"
# After a bare base name (东风, 红山郡) comes a verb, a time or a break; else it is part of a word (幸福感)
_BASE_NAME_GOES_ON = "开组召举搞今昨前本上这于在的办联全委党居"
_LABEL = re.compile(r"^(?P<label>[^：:，,。\n]{2,16})[：:]")
_LEAD_WORD = re.compile(r"^(?P<label>[\u4e00-\u9fff]{2,6})\s+")  # 培训 今天在…: a word set apart first
MIN_ACTIVITY_CHARS = 3
TITLE_RUN_MIN = 5  # a run of this many title characters in the text counts toward that task
FUZZY_VILLAGE = 80
# A task other than the everyday one needs at least this much evidence (one 2-character word of its own)
SPECIFIC_EVIDENCE = 2.0
CADENCE_ORDER = ("weekly", "semimonthly", "monthly", "quarterly", "half-yearly", "yearly", "once")
LONG_TEXT = 150  # a longer message is a write-up: its headline and first sentence say what it is
FOCUS_CHARS = 120
HEADLINE_CHARS = 40
LEAD_MIN_CHARS = 40
_SENTENCE_END = re.compile(r"[。！!；;]")
_ACTIVITY = re.compile(r"开展|组织|举办|举行|召开|开了|搞了|办了|走访|慰问|宣讲|宣传|座谈|参加|参与|活动|会|赛|演出|义诊|"
                       r"表彰|服务|学习|讲座|培训|检查|调研|入户|送")
KEYWORD_MARGIN = 2.0  # the best task must score at least this many times the second
FUZZY_PICK = 85
FUZZY_MARGIN = 10
MAX_CHOICES = 6


@dataclass(frozen=True, slots=True)
class TaskRef:
    """What the parser needs to know about a task."""

    key: str
    title: str
    keywords: tuple[str, ...] = ()
    cadence: str = ""


@dataclass(frozen=True, slots=True)
class TaskMatch:
    """The chosen task (None when unsure) and the numbered choices to offer otherwise."""

    chosen: str | None
    candidates: tuple[str, ...] = ()
    how: str = "none"  # tag | label | keyword | fuzzy | only | default | none


@dataclass(frozen=True, slots=True)
class ParsedReport:
    activity_date: date
    date_given: bool
    participants: int | None
    participants_approx: bool
    village: str
    village_named: bool
    activity: str
    tag: str | None
    task: TaskMatch
    missing: tuple[str, ...] = field(default=())
    date_vague: bool = False  # 前几天, 最近, 国庆节前: the day must be asked
    participants_text: str | None = None  # the wording of the count: 十五六个人, 党员12人、群众28人
    summary: str = ""  # at most SUMMARY_CHARS, cut at a clause boundary

    def is_future(self, today: date) -> bool:
        return self.activity_date > today


def base_name(village: str) -> str:
    """红山郡社区 -> 红山郡 (so a report naming just 红山郡 still finds it)."""
    for suffix in VILLAGE_SUFFIXES:
        if village.endswith(suffix) and len(village) - len(suffix) >= 2:
            return village[: -len(suffix)]
    return village


def find_village(text: str, villages: Sequence[str]) -> tuple[str, int, int] | None:
    """The roster village the text names (leftmost; full name, base name, or a close spelling), else None."""
    best: tuple[str, int, int] | None = None
    for v in villages:
        if not v:
            continue
        for name in {v, base_name(v)}:
            for m in re.finditer(re.escape(name), text):
                pos, end = m.start(), m.end()
                if name != v:
                    if text.startswith(v[len(name):], end):
                        end = pos + len(v)
                    elif not _base_name_here(text, pos, end):
                        continue
                if best is None or (pos, -(end - pos)) < (best[1], -(best[2] - best[1])):
                    best = (v, pos, end)
                break
    if best is not None:
        return best
    for m in _SUFFIX.finditer(text):
        scored = []
        for length in range(2, 5):  # the name before the suffix: try 2 to 4 characters
            start = m.start() - length
            name = text[start:m.end()]
            if start < 0 or not all(_is_cjk(ch) for ch in name) or name[0] in _NOT_A_NAME_START:
                continue
            scored += [(fuzz.ratio(name, v), start, v) for v in villages if v]
        if scored:
            score, start, village = max(scored)
            if score >= FUZZY_VILLAGE:
                return village, start, m.end()
    return None


def _base_name_here(text: str, pos: int, end: int) -> bool:
    """A bare base name (东风 for 东风村) stands for the village only between a lead-in and a verb or break."""
    before = text[pos - 1] if pos > 0 else ""
    after = text[end] if end < len(text) else ""
    if before and _is_cjk(before) and before not in _PLACE_LEAD:
        return False  # 民族团结 is not 团结嘎查
    return not after or not _is_cjk(after) or after in _BASE_NAME_GOES_ON


_PLACE_LEAD = "在到赴于去和与及、"


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _shared(tasks: Sequence[TaskRef]) -> Counter[str]:
    """How many tasks list each keyword: a word every task shares says little about which one."""
    return Counter(k for t in tasks for k in set(t.keywords) if k)


def _title_run(title: str, text: str, tasks: Sequence[TaskRef]) -> float:
    """The longest run of the title found in the text, worth less when other titles share it."""
    if not title or not text:
        return 0.0
    m = SequenceMatcher(None, title, text, autojunk=False).find_longest_match(0, len(title), 0, len(text))
    if m.size < TITLE_RUN_MIN:
        return 0.0
    run = title[m.a:m.a + m.size]
    sharing = sum(1 for t in tasks if run in t.title) or 1
    return 1.5 * m.size / sharing


def _keyword_score(task: TaskRef, text: str, shared: Counter[str] | None = None,
                   tasks: Sequence[TaskRef] = ()) -> float:
    score = sum(len(k) / (shared[k] if shared else 1) for k in task.keywords if k and k in text)
    if task.title and task.title in text:
        score += 2 * len(task.title)
    elif tasks:
        score += _title_run(task.title, text, tasks)
    return float(score)


def match_tag(tag: str, tasks: Sequence[TaskRef]) -> TaskMatch:
    """A `#tag`: a task whose title or keyword contains it (or is contained in it), else fuzzy."""
    hits = [t for t in tasks if tag in t.title or (t.title and t.title in tag)
            or any(tag == k or (len(k) >= 2 and (k in tag or tag in k)) for k in t.keywords)]
    if len(hits) == 1:
        return TaskMatch(hits[0].key, how="tag")
    pool = hits or list(tasks)
    scored = sorted(((fuzz.WRatio(tag, t.title), t) for t in pool), key=lambda x: x[0], reverse=True)
    if scored and (len(scored) == 1 or scored[0][0] - scored[1][0] >= FUZZY_MARGIN) and (
        hits or scored[0][0] >= FUZZY_PICK
    ):
        return TaskMatch(scored[0][1].key, how="tag")
    return TaskMatch(None, tuple(t.key for _, t in scored[:MAX_CHOICES]), how="none")


def everyday_task(tasks: Sequence[TaskRef]) -> TaskRef | None:
    """The one task with the shortest cadence (工作动态信息, monthly): what any activity report feeds."""
    ranked = sorted((CADENCE_ORDER.index(t.cadence), i) for i, t in enumerate(tasks) if t.cadence in CADENCE_ORDER)
    if not ranked or len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        return None
    return tasks[ranked[0][1]]


def match_task(text: str, tasks: Sequence[TaskRef]) -> TaskMatch:
    """Keywords first, fuzzy title match next; an activity with no task's own words counts toward the
    everyday task; unsure -> no choice, with candidates best first. A long write-up is judged by its
    headline and first sentence first."""
    if not tasks:
        return TaskMatch(None)
    if len(text) > LONG_TEXT:
        head = text.strip().splitlines()[0]
        for part in ([head] if len(head) <= HEADLINE_CHARS else []) + [_focus(text)]:
            focused = _match_task(part, tasks)
            if focused.chosen is not None:
                return focused
    return _match_task(text, tasks)


def _focus(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    head = lines[0] if lines else text
    body = "".join(lines[1:]) if len(lines) > 1 else text[len(head):]
    first = re.split(r"[。！!；;]", body, maxsplit=1)[0]
    return f"{head}。{first}"[:FOCUS_CHARS]


def _match_task(text: str, tasks: Sequence[TaskRef]) -> TaskMatch:
    shared = _shared(tasks)
    scored = sorted(((_keyword_score(t, text, shared, tasks), t) for t in tasks), key=lambda x: x[0],
                    reverse=True)
    top = scored[0][0]
    second = scored[1][0] if len(scored) > 1 else 0.0
    if top > 0 and (second == 0 or top >= KEYWORD_MARGIN * second):
        return TaskMatch(scored[0][1].key, how="keyword")
    fuzzy = sorted(((fuzz.partial_ratio(t.title, text), t) for t in tasks), key=lambda x: x[0], reverse=True)
    f_top = fuzzy[0][0]
    f_second = fuzzy[1][0] if len(fuzzy) > 1 else 0.0
    if top == 0 and f_top >= FUZZY_PICK and f_top - f_second >= FUZZY_MARGIN:
        return TaskMatch(fuzzy[0][1].key, how="fuzzy")
    if len(tasks) == 1:
        return TaskMatch(tasks[0].key, how="only")
    everyday = everyday_task(tasks)
    if everyday is not None and _ACTIVITY.search(text):
        specific = max((sc for sc, t in scored if t.key != everyday.key), default=0.0)
        if specific < SPECIFIC_EVIDENCE:
            return TaskMatch(everyday.key, how="default")
    if top > 0:
        order = [t for s, t in scored if s > 0] + [t for s, t in scored if s == 0]
    else:
        order = [t for _, t in fuzzy]
    return TaskMatch(None, tuple(t.key for t in order[:MAX_CHOICES]), how="none")


def meaningful_chars(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


def parse_report(
    text: str,
    *,
    today: date,
    own_village: str,
    villages: Sequence[str] = (),
    tasks: Sequence[TaskRef] = (),
) -> ParsedReport:
    """Parse the text after the command word. Missing essentials are listed in `missing`."""
    text = text.strip()
    spans: list[tuple[int, int]] = []
    tag_m = _TAG.search(text)
    tag = tag_m.group("tag") if tag_m else None
    if tag_m:
        spans.append((tag_m.start(), tag_m.end()))
    body = _blank(text, tag_m.start(), tag_m.end()) if tag_m else text
    # A long write-up states its date and head count up front; later ones are context (端午 in a year's summary).
    lead = _lead_end(text) if len(text) > LONG_TEXT else len(text)
    found_date = find_date(body[:lead], today)
    if found_date is None and lead < len(text):
        found_date = find_date(body, today)
        if found_date is not None and found_date.form in ("festival", "vague"):
            found_date = None
    if found_date:
        spans.append((found_date.start, found_date.end))
        body = _blank(body, found_date.start, found_date.end)
    count = find_participants(body[:lead])
    if count:
        spans.append((count.start, count.end))
    village_hit = find_village(body, villages)
    village = village_hit[0] if village_hit else own_village
    activity = clean_activity(text, spans)
    rest = activity
    if village_hit:
        rest = rest.replace(village_hit[0], "").replace(base_name(village_hit[0]), "")
    missing: list[str] = []
    if meaningful_chars(rest.replace("在", "")) < MIN_ACTIVITY_CHARS:
        missing.append("activity")
    task = _choose_task(text, tag, tasks)
    if task.chosen is None and tasks:
        missing.append("task")
    vague = found_date is not None and found_date.value is None
    return ParsedReport(
        activity_date=found_date.value if found_date and found_date.value else today,
        date_given=found_date is not None and not vague,
        participants=count.value if count else None,
        participants_approx=count.approximate if count else False,
        village=village,
        village_named=village_hit is not None,
        activity=activity,
        tag=tag,
        task=task,
        missing=tuple(missing),
        date_vague=vague,
        participants_text=count.text if count else None,
        summary=summarise(activity),
    )


def _lead_end(text: str) -> int:
    """Where the headline and the lead after it end: the first sentence, or two when the first is short
    (an opening slogan such as 粽叶飘香迎端午，民族团结一家亲。)."""
    first_break = text.find("\n")
    start = first_break + 1 if 0 <= first_break <= HEADLINE_CHARS else 0
    end = start
    for _ in range(2):
        m = _SENTENCE_END.search(text, end)
        if m is None:
            return len(text)
        end = m.end()
        if end - start >= LEAD_MIN_CHARS:
            break
    return end


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _choose_task(text: str, tag: str | None, tasks: Sequence[TaskRef]) -> TaskMatch:
    """A #tag, else a leading label that names a task (亮点信息：…), else keywords and title."""
    if tag:
        return match_tag(tag, tasks)
    label = _LABEL.match(text) or _LEAD_WORD.match(text)
    if label and tasks:
        by_label = match_tag(label.group("label").strip(), tasks)
        if by_label.chosen is not None and _keyword_score(
                next(t for t in tasks if t.key == by_label.chosen), label.group("label"), None, tasks) > 0:
            return TaskMatch(by_label.chosen, how="label")
    return match_task(text, tasks)
