"""Read a short activity report: date, participants, village, activity text and the task. Pure.

"报送 昨天在红山郡社区开展民族团结宣讲,40人参加 #动态信息" -> date=yesterday, 40 people, village
红山郡社区, activity "在红山郡社区开展民族团结宣讲", the task whose title or keyword is 动态信息.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from tracking.dates import find_date
from tracking.numbers import find_participants

VILLAGE_SUFFIXES = ("居委会", "村委会", "社区", "嘎查", "村", "居")
_TAG = re.compile(r"[#＃]\s*(?P<tag>[^\s#＃，,。；;：:、!！?？]+)")
_PLACE = re.compile(r"(?:在|到|赴|于|去)(?P<v>[\u4e00-\u9fff]{2,8}?(?:社区|嘎查|村))")
# A place not on the roster, written at the start of a clause: "光明社区今天…", "今天 和平村 开展…"
_PLACE_AT_EDGE = re.compile(r"(?:^|(?<=[\s，,。；;：:、]))(?P<v>[\u4e00-\u9fff]{2,4}?(?:社区|嘎查|村))")
_NOT_A_NAME_START = "我本该各全每此这那其"
_VERBS = ("组织", "召开", "开展", "举办", "走访", "慰问", "深入", "前往", "进入", "联合", "全体", "所有")
_VILLAGE_WORD_GOES_ON = "民居两委里内干级组务集规庄"  # 村民, 村居, 村两委 …: a word, not a place name
_EDGE = " \t\r\n，,。.；;：:、!！?？~～-—()（）[]【】"
MIN_ACTIVITY_CHARS = 3
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


@dataclass(frozen=True, slots=True)
class TaskMatch:
    """The chosen task (None when unsure) and the numbered choices to offer otherwise."""

    chosen: str | None
    candidates: tuple[str, ...] = ()
    how: str = "none"  # tag | keyword | fuzzy | only | none


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

    def is_future(self, today: date) -> bool:
        return self.activity_date > today


def base_name(village: str) -> str:
    """红山郡社区 -> 红山郡 (so a report naming just 红山郡 still finds it)."""
    for suffix in VILLAGE_SUFFIXES:
        if village.endswith(suffix) and len(village) - len(suffix) >= 2:
            return village[: -len(suffix)]
    return village


def find_village(text: str, villages: Sequence[str]) -> tuple[str, int, int] | None:
    """A roster village named in the text (full or base name, longest first), else '在X社区/村'."""
    names: list[tuple[str, str]] = []
    for v in villages:
        if v:
            names.append((v, v))
            b = base_name(v)
            if b != v:
                names.append((b, v))
    names.sort(key=lambda item: len(item[0]), reverse=True)
    for name, village in names:
        for m in re.finditer(re.escape(name), text):
            pos, end = m.start(), m.end()
            if village != name:
                if text.startswith(village[len(name):], end):
                    end = pos + len(village)
                elif pos > 0 and _is_cjk(text[pos - 1]) and text[pos - 1] not in _PLACE_LEAD:
                    continue  # a bare 团结 inside 民族团结 is not 团结嘎查
            return village, pos, end
    m = _PLACE.search(text)
    if m:
        return m.group("v"), m.start("v"), m.end("v")
    for m in _PLACE_AT_EDGE.finditer(text):
        name, after = m.group("v"), text[m.end("v"):m.end("v") + 1]
        if name[0] in _NOT_A_NAME_START or name.startswith(_VERBS) or name.endswith(("乡村", "农村")):
            continue
        if name.endswith("村") and after and after in _VILLAGE_WORD_GOES_ON:
            continue
        return name, m.start("v"), m.end("v")
    return None


_PLACE_LEAD = "在到赴于去和与及、"


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _keyword_score(task: TaskRef, text: str) -> float:
    score = float(sum(len(k) for k in task.keywords if k and k in text))
    if task.title and task.title in text:
        score += 2 * len(task.title)
    return score


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


def match_task(text: str, tasks: Sequence[TaskRef]) -> TaskMatch:
    """Keywords first, fuzzy title match next; unsure -> no choice, with candidates best first."""
    if not tasks:
        return TaskMatch(None)
    scored = sorted(((_keyword_score(t, text), t) for t in tasks), key=lambda x: x[0], reverse=True)
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
    if top > 0:
        order = [t for s, t in scored if s > 0] + [t for s, t in scored if s == 0]
    else:
        order = [t for _, t in fuzzy]
    return TaskMatch(None, tuple(t.key for t in order[:MAX_CHOICES]), how="none")


def clean_activity(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text with the given spans cut out and the punctuation at the cuts tidied."""
    keep: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos:
            start = pos
        keep.append(text[pos:start])
        keep.append("，")
        pos = max(pos, end)
    keep.append(text[pos:])
    out = "".join(keep)
    out = re.sub(r"\s+", " ", out)
    out = re.sub(r"(\s*[，,；;。、]\s*)+", lambda m: m.group(0).strip()[0], out)
    out = out.strip(_EDGE)
    return out


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
    body = text if not tag_m else text[: tag_m.start()] + " " * (tag_m.end() - tag_m.start()) + text[tag_m.end():]
    found_date = find_date(body, today)
    if found_date:
        spans.append((found_date.start, found_date.end))
        body = body[: found_date.start] + " " * (found_date.end - found_date.start) + body[found_date.end:]
    count = find_participants(body)
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
    task = match_tag(tag, tasks) if tag else match_task(text, tasks)
    if task.chosen is None and tasks:
        missing.append("task")
    return ParsedReport(
        activity_date=found_date.value if found_date else today,
        date_given=found_date is not None,
        participants=count.value if count else None,
        participants_approx=count.approximate if count else False,
        village=village,
        village_named=village_hit is not None,
        activity=activity,
        tag=tag,
        task=task,
        missing=tuple(missing),
    )
