"""Find every recurring or dated obligation in a plan's clauses, as task proposals with their source.

What a plan writes, and what it becomes:

* a cadence: 每周 / 每半月, 半月一… / 每月, 一月一… / 每季度, 每季, 季度一… / 每半年, 半年一… /
  每年, 全年, 年内 (weekly … yearly), or a one-off date (年底前, 6月底前, 2024年1月26日前: `once`);
* a count in any counting unit (3篇, 两次, 5名, 五条以上 …), or an implied one: a cadence right before
  an action ("每月召开例会", "每季度信息通报", "半年一总结") is once per period;
* a deadline within the period: 每月28日前 / 次月5日前 (deadline_day), 每季度末 (the period's end);
* enumerations split into one task each ("每月召开一次A、每季度听取一次B" is two tasks);
* who it is on: village liaisons (联络员, 信息员, 村(社区) … as the subject, or 报送 with no addressee),
  the office, or someone else the bot does not remind (the county, parties, an association's secretariat).

Clauses are matched on their simplified-character form (OpenCC t2s) so a traditional-character
plan yields the same tasks; the source clause is kept as the plan wrote it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Protocol

from tracking.numbers import NUM, to_int
from tracking.taskspec import TaskSpec, keywords_for

# Cadence words, longest first; "strong" ones (每…, X一Y) imply a count of one before an action.
_CADENCES: tuple[tuple[str, str, bool], ...] = (
    (r"每个?星期|每一?周|一周(?=一[次回])", "weekly", True),
    (r"每半个?月|半月一(?=[\u4e00-\u9fff])", "semimonthly", True),
    (r"每半年度?|半年一(?=[\u4e00-\u9fff])", "half-yearly", True),
    (r"每一?个?季度|每季(?!度)|季度一(?=[\u4e00-\u9fff])", "quarterly", True),
    (r"每一?个?月|月月|一月(?=一[次回])|一月一(?=[\u4e00-\u9fff])|(?:次月|下月)(?=\d{1,2}日)", "monthly", True),
    (r"每一?年|一年一(?=[\u4e00-\u9fff])", "yearly", True),
    (r"按季度?", "quarterly", False),
    (r"按月", "monthly", False),
    (r"全年|年内|年度内|年度", "yearly", False),
)
_CAD_RE = re.compile("|".join(f"(?P<c{i}>{p})" for i, (p, _, _) in enumerate(_CADENCES)))
_UNITS = "篇|次|场|期|名|条|份|户|个|项|件|批|回|轮"  # not 人/人次: a head count is how many came, not a target
_COUNT = re.compile(
    rf"(?P<pre>至少|不少于|不低于|不得少于|达到|最少)?\s*(?:报送|召开|开展|组织|举办|听取|进行)?\s*"
    rf"(?P<n>{NUM})\s*(?P<unit>{_UNITS})(?P<post>以上|及以上|或以上)?"
)
_X_ONE_Y = re.compile(r"(?:半月|月|季度|半年|年|周)一(?P<what>[\u4e00-\u9fff]{2,4})")
_ACTION = re.compile(r"^(?:(?:至少|都要|要|须|必须|应|均|定期|坚持|向[^,,。;]{1,24}?|(?:在|于|对|按)[^,,。;]{1,12}?)?)"
                     r"(召开|开展|组织|举办|报送|上报|报告|汇报|研究|听取|进行|走访|通报|汇总|检查|排查|巡查|"
                     r"学习|培训|分析|研判|提交|填报|督查|督导|考评|考核|评议|总结|慰问|座谈|联系|召集|更新)")
_NOUN_ACTION = re.compile(r"^[\u4e00-\u9fff]{0,6}(通报|例会|研判|汇报|报告|总结|考评|督查|排查|巡查)(?![\u4e00-\u9fff]{3})")
_DEADLINE = re.compile(r"(?:每月|次月|下月|当月)?(?P<day>\d{1,2})日(?:前|之前|以前)")
_PERIOD_END = re.compile(r"(?:每季度?|每月|每半年|每年|季|月|年)(?:末|底)")
_ONCE = re.compile(r"(?:(?P<y>20\d{2})年)?(?:(?P<m>\d{1,2})月(?:(?P<end>底|末)|(?P<d>\d{1,2})日)|(?P<ye>年底|年末))"
                   r"(?:前|之前|以前)")
_END_PHRASE = re.compile(r"(?:(?:年底|年末|年终|月底|月末|季末|季度末|\d{1,2}月(?:底|末|\d{1,2}日))(?:前|之前|以前)?|"
                         r"(?:末|底)(?:前|之前|以前))")
_WEEKDAY = re.compile(r"^[一二三四五六日](?![次篇场期个项回名条份户件批轮])(?=[\u4e00-\u9fff])")
_PLAN = re.compile(r"年初[^,,。;、]{0,6}计划")
_SUMMARY = re.compile(r"年(?:终|底|末)[^,,。;、]{0,6}总结")
_LEAD = re.compile(r"^(?:\d+[.、]\s*|\(?[一二三四五六七八九十\d]+\)\s*|[一二三四五六七八九十]是)")
_WHERE = re.compile(r"^(?:在|于)[^,;。]{1,10}?(?:内|上|中)(?=[\u4e00-\u9fff]{2})")  # "在一定范围内通报…"
_RECIPIENT = re.compile(r"向[^,,。;]{1,30}?(?=汇报|上报|报送|报告|提交|报)")
_SUBJECTS = ("党工委", "街道", "做到", "要", "坚持", "都要", "须", "必须", "均")
_FILLERS = ("至少", "不少于", "不低于", "不得少于", "达到", "最少", "以上", "定期")
_LEAD_VERBS = ("报送", "召开", "组织", "进行", "举办", "开展")
_TRAILING = re.compile(r"(?:\([^)]{0,12}\)|的?(?:动态监管|工作)?(?:机制|制度|做法))$")
_LIAISON = re.compile(r"联络员|信息员|网格员|协管员|村\(社区\)|村\(居\)|村居|各村|村级|社区")
_OTHER = re.compile(r"民主党派|统战团体|工商联|商会|秘书处|小组|会员|(县|市|区|省|旗)级领导|各辖市|"
                    r"(县|市|区|省|旗)(委|政府|政协|民宗局|统战部)(?!统战)")
_OFFICE = re.compile(r"乡镇|街道|镇|党\(工\)委|党工委|党委|统战委员|统战办|我镇|本单位|党支部|支部|工作室")
_YEAR = re.compile(r"(20\d{2})年")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PUNCT_ENDS = re.compile(r"^[\s,;。、:]+|[\s,;。、:]+$")
TITLE_FIXES = {"两点特色": "亮点特色"}  # plain typos of the text, corrected in titles only
MAX_TITLE = 40


class ClauseLike(Protocol):
    """What extraction needs of a clause (knowledge.segment.Clause has it)."""

    text: str
    doc: str
    file: str
    section: str


@lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202 - opencc has no type hints
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Simplified characters, for matching only."""
    return text if text.isascii() else _t2s().convert(text)


def task_key(cadence: str, title: str) -> str:
    """A task's stable key: its cadence and a hash of its title (an office may rename the key)."""
    return f"{cadence}-{hashlib.sha1(title.encode('utf-8')).hexdigest()[:6]}"


def _cadence(m: re.Match[str]) -> tuple[str, bool]:
    i = int(next(k for k, v in m.groupdict().items() if v)[1:])
    return _CADENCES[i][1], _CADENCES[i][2]


def _subject_of(section: str) -> str:
    top = section.split(" > ")[0] if section else ""
    return _PUNCT_ENDS.sub("", top.split("、", 1)[-1]) if "、" in top else ""


def _title(text: str, section: str) -> str:
    """The obligation's name: the clause part without numbering, cadence, count, subject and addressee."""
    text = _LEAD.sub("", text)
    text = _CAD_RE.sub("", text)
    text = _DEADLINE.sub("", text)
    text = _COUNT.sub("", text)
    text = _RECIPIENT.sub("", text)
    text = _WHERE.sub("", text)
    for word in _FILLERS:
        text = text.replace(word, "")
    for subject in _SUBJECTS:
        if text.startswith(subject):
            text = text[len(subject):]
    for verb in _LEAD_VERBS:
        if text.startswith(verb) and len(text) > len(verb) + 1:
            text = text[len(verb):]
            break
    text = _TRAILING.sub("", _PUNCT_ENDS.sub("", text))
    for wrong, right in TITLE_FIXES.items():
        text = text.replace(wrong, right)
    text = _PUNCT_ENDS.sub("", text)
    subject = _subject_of(section)
    if 0 < len(text) <= 4 and subject and len(subject) <= 6 and subject not in text:
        text = subject + text
    return text[:MAX_TITLE]


def _audience(subject: str, unit: str) -> str:
    if _LIAISON.search(subject):
        return "liaisons"
    if _OTHER.search(subject) and not _OFFICE.search(subject):
        return "other"
    if "报送" in unit and not _RECIPIENT.search(unit):
        return "liaisons"
    return "office"


def _units(part: str) -> list[str]:
    """A comma part cut before each of its cadence words after the first (enumerations)."""
    starts = [m.start() for m in _CAD_RE.finditer(part) if _cadence(m)[1]]  # "年度…" inside is no new item
    if len(starts) <= 1:
        return [part]
    cuts = [0] + starts[1:]
    return [part[a:b] for a, b in zip(cuts, cuts[1:] + [len(part)], strict=True)]


def _doc_year(doc: str, today: date) -> int:
    m = _YEAR.search(doc)
    return int(m.group(1)) if m else today.year


def _once_date(m: re.Match[str], year: int) -> date | None:
    y = int(m.group("y")) if m.group("y") else year
    try:
        if m.group("ye"):
            return date(y, 12, 31)
        month = int(m.group("m"))
        if m.group("d"):
            return date(y, month, int(m.group("d")))
        nxt = date(y + (month == 12), month % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    except ValueError:
        return None


def from_sentence(sentence: str, section: str = "", doc: str = "", file: str = "",
                  today: date | None = None, source: str | None = None) -> list[TaskSpec]:
    """The obligations of one sentence (matched on its simplified form); `source` is the clause to cite."""
    today = today or date.today()
    text = fold(sentence)
    cite = source if source is not None else sentence
    out: list[TaskSpec] = []

    def add(cadence: str, title: str, target: int, audience: str, deadline: int | None = None,
            due: date | None = None) -> None:
        if not title or title.isdigit() or target < 1 or any(o.key == task_key(cadence, title) for o in out):
            return
        out.append(TaskSpec(task_key(cadence, title), title, cadence, target, audience, keywords_for(title), due,
                            deadline_day=deadline, status="proposed", source_doc=doc,
                            source_section=section, source_text=cite, source_file=file))

    plan, summary = _PLAN.search(text), _SUMMARY.search(text)
    if plan or summary:
        subject = _subject_of(section)
        for found, name in ((plan, "年度计划"), (summary, "年终总结")):
            if found:
                full = f"{subject}{name}" if subject and len(subject) <= 8 else name
                add("yearly", full, 1, "office")
        rest = text
        for found in (plan, summary):
            if found:
                rest = rest.replace(found.group(0), "")
        text = rest
    cadence: str | None = None
    previous = ""
    sentence_subject = ""
    spoken = ""  # the sentence up to the current unit: its subject, when a unit has none of its own
    for part in re.split(r"[,,::]", text):
        for unit in _units(part):
            spoken_before, spoken = spoken, spoken + unit
            if not unit.strip():
                continue
            cad = _CAD_RE.search(unit)
            weak_only = cad is not None and not _cadence(cad)[1] and not _COUNT.search(unit)
            once = _ONCE.search(unit) if cad is None or weak_only else None
            if once is not None:
                due = _once_date(once, _doc_year(doc, today))
                rest = unit[once.end():]
                title = _title(re.sub(r"^(?:并|再)?(?:将|把)?", "", unit[: once.start()]).rstrip("于在") + rest, section)
                if due and len(_CJK.findall(rest)) >= 2 and title:
                    add("once", title, 1, _audience(spoken_before + unit[: once.start()], unit), due=due)
                previous = unit
                continue
            inherited = cad is None
            strong = False
            before = cadence
            if cad:
                cadence, strong = _cadence(cad)
                subject = unit[: cad.start()]
                sentence_subject = subject or sentence_subject
            elif cadence is None:
                previous = unit
                continue
            assert cadence is not None
            count = _COUNT.search(unit)
            after = unit[cad.end():] if cad else unit
            deadline = None
            dl = _DEADLINE.search(after)
            if dl and cadence in ("monthly", "quarterly", "half-yearly", "yearly") and dl.start() <= 2:
                deadline = int(dl.group("day"))
                after = after[dl.end():]
            elif _PERIOD_END.search(unit):
                deadline = None
            end = _END_PHRASE.match(after)
            if end:  # "每年年底前报送…": due by the period's end, said in words
                after = after[end.end():]
            target: int | None = None
            if count and (not inherited or count.group("pre") or count.group("post")):
                target = to_int(count.group("n"))
            elif cad and strong and not count:
                xy = _X_ONE_Y.match(unit[cad.start():])
                if xy or _ACTION.search(after.lstrip()) or _NOUN_ACTION.search(after.lstrip()):
                    target = 1
            last = out[-1] if out else None
            if (deadline is not None and not count and last is not None and last.cadence == cadence
                    and last.deadline_day is None):
                last.deadline_day = deadline  # "…不少于2篇,于每月25日前报送": the deadline of the same task
                previous = unit
                continue
            if not target:
                if cad and not strong:
                    cadence = before  # a bare "全年…" with nothing counted does not set the sentence's cadence
                previous = unit
                continue
            own = unit[cad.end():] if cad else unit
            if cad:
                own = _END_PHRASE.sub("", _WEEKDAY.sub("", own) if cadence == "weekly" else own, count=1) \
                    if _END_PHRASE.match(own) or cadence == "weekly" else own
            if cad and len(_title(own, "")) < 2:
                own = unit[: cad.start()]  # object before the cadence: "支委会议每季度不少于1次"
            title = _title(own, section) or _title(previous, section)
            audience = _audience(sentence_subject, unit)
            add(cadence, title, target, audience, deadline)
            previous = unit
    return out


def _headline(sentence: str) -> bool:
    return len(_LEAD.sub("", sentence)) <= 10


def from_clause(clause: ClauseLike, today: date | None = None) -> list[TaskSpec]:
    """The obligations of one clause, sentence by sentence; a short run-in headline ("一是半月一汇报。")
    that only names what its body then says gives no task of its own."""
    found: list[tuple[bool, TaskSpec]] = []
    for sentence in re.split(r"(?<=[。;;!!])", clause.text):
        if sentence.strip():
            for spec in from_sentence(sentence.strip(), clause.section, clause.doc, clause.file, today,
                                      source=clause.text):
                found.append((_headline(sentence), spec))
    out: list[TaskSpec] = []
    for headline, spec in found:
        if headline and any(not h and o.cadence == spec.cadence for h, o in found):
            continue
        if any(o is not spec and o.cadence == spec.cadence and o.target == spec.target
               and spec.title in o.title and spec.title != o.title for _, o in found):
            continue
        out.append(spec)
    return out


def extract_from_clauses(clauses: Iterable[ClauseLike], today: date | None = None) -> list[TaskSpec]:
    """Every obligation of the clauses, de-duplicated by key, in document order, liaisons' first."""
    seen: set[str] = set()
    out: list[TaskSpec] = []
    for clause in clauses:
        for spec in from_clause(clause, today):
            if spec.key not in seen:
                seen.add(spec.key)
                out.append(spec)
    out.sort(key=lambda s: s.audience != "liaisons")  # liaisons' tasks first: they are what most people see
    return out
