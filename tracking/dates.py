"""Activity dates in report text: 今天, 昨天, 上周五, 3月5日, 3.5, 2026-03-05, 十一月五日, 上个月底, 元旦当天 …

Pure functions. Dates are resolved against the reporter's local `today`. A month and day without a
year means this year unless that is more than a month ahead (then last year: "12月30日" said on 3
January). A date that still lies ahead is returned as is; the caller asks whether it is a plan.
Vague times (前几天, 最近, 上周, 国庆节前) are found too, with no value: the caller asks for the day.
An explicit date anywhere wins over a festival name, and a festival over a vague time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tracking.festivals import festival_spans, find_festival
from tracking.numbers import to_int

_CN = "零〇○一二两三四五六七八九十"
_M = rf"(?:1[0-2]|0?[1-9]|[{_CN}]{{1,3}})"
_D = rf"(?:3[01]|[12]\d|0?[1-9]|[{_CN}]{{1,3}})"
_Y = r"(?:20\d\d|[二][〇零○][一二三四五六七八九〇零○]{2})"
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
RELATIVE_DAYS = {"大前天": 3, "前天": 2, "前日": 2, "昨天": 1, "昨日": 1, "昨晚": 1, "昨儿": 1,
                 "今天": 0, "今日": 0, "今晚": 0, "今早": 0, "今儿": 0, "当天": 0, "当日": 0,
                 "明天": -1, "明日": -1, "明早": -1, "明晚": -1, "后天": -2, "大后天": -3}
VAGUE = re.compile(
    r"前几天|前些天|前些日子|前两天|前段时间|前阵子|这几天|这两天|最近|近日|近期|日前|近来|"
    r"上周(?![一二三四五六日天末1-7])|上个?星期(?![一二三四五六日天1-7])|上个?礼拜(?![一二三四五六日天1-7])|"
    r"上个?月(?![底末]|\s*[\d一二三四五六七八九十])|(?:上个?|本|这个?)?月初|"
    r"月中|上旬|中旬|下旬|年初|年底|年末|前不久"
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ymd", re.compile(rf"(?<!\d)(?P<y>{_Y})\s*(?:年|[-/.])\s*(?P<m>{_M})\s*(?:月|[-/.])\s*(?P<d>{_D})\s*[日号]?")),
    ("md", re.compile(rf"(?<![\d年])(?P<m>{_M})\s*月\s*(?P<d>{_D})\s*(?:[日号]|(?=[^\d{_CN}]|$))")),
    ("md_num", re.compile(r"(?<![\d.:/年-])(?P<m>1[0-2]|0?[1-9])[./-](?P<d>3[01]|[12]\d|0?[1-9])"
                          r"(?![\d.%/-]|\s*[万千亿元%人名位个次户天岁年])")),
    ("weekend", re.compile(r"(?P<w>上上个?|上个?|本|这个?)?(?:周末|礼拜天?末)")),
    ("relative", re.compile("|".join(sorted(RELATIVE_DAYS, key=len, reverse=True)))),
    ("weekday", re.compile(r"(?P<w>上上个?|上个?|本|这个?|下个?)?(?:周|星期|礼拜)(?P<d>[一二三四五六日天1-7])")),
    ("month_day", re.compile(rf"(?P<mo>上个?月|本月|这个?月|下个?月)\s*(?P<d>{_D})\s*[日号]")),
    ("month_edge", re.compile(r"(?P<mo>上个?月|本月|这个?月|下个?月)?(?P<edge>底|末)")),
    ("day", re.compile(rf"(?<![\d月{_CN}])(?P<d>3[01]|[12]\d|0?[1-9])\s*[日号](?![楼院门线馆厅栋室])")),
]


@dataclass(frozen=True, slots=True)
class DateMatch:
    """A date found in text and where: the caller removes [start, end) from the activity text."""

    value: date | None  # None: a vague time (前几天, 国庆节前): ask which day
    start: int
    end: int
    form: str


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _infer_year(month: int, day: int, today: date) -> date | None:
    candidate = _safe(today.year, month, day)
    if candidate is None:
        return _safe(today.year - 1, month, day)  # 2月29日 in a year that has none
    if candidate - today > timedelta(days=31):
        return _safe(today.year - 1, month, day)
    return candidate


def _resolve(form: str, m: re.Match[str], today: date) -> date | None:
    g = m.groupdict()
    if form == "ymd":
        y, mo, d = to_int(g["y"]), to_int(g["m"]), to_int(g["d"])
        return None if None in (y, mo, d) else _safe(y, mo, d)  # type: ignore[arg-type]
    if form in ("md", "md_num"):
        mo, d = to_int(g["m"]), to_int(g["d"])
        if mo is None or d is None or not 1 <= mo <= 12:
            return None
        return _infer_year(mo, d, today)
    if form == "relative":
        return today - timedelta(days=RELATIVE_DAYS[m.group(0)])
    if form == "weekday":
        which = (g["w"] or "").replace("个", "")
        monday = today - timedelta(days=today.weekday())
        day = monday + timedelta(days=WEEKDAYS[g["d"]])
        if which == "上":
            return day - timedelta(days=7)
        if which == "上上":
            return day - timedelta(days=14)
        if which == "下":
            return day + timedelta(days=7)
        if which == "" and day > today:  # a bare 周五 means the last one
            return day - timedelta(days=7)
        return day
    if form == "weekend":
        which = (g["w"] or "").replace("个", "")
        saturday = today - timedelta(days=today.weekday()) + timedelta(days=5)
        back = {"上": 7, "上上": 14}.get(which, 0)
        if which == "" and saturday > today:
            back = 7
        return saturday - timedelta(days=back)
    if form == "month_day":
        d = to_int(g["d"])
        if d is None:
            return None
        year, month = _month_of(g["mo"], today)
        return _safe(year, month, d)
    if form == "month_edge":
        if not g["mo"] and (m.start() == 0 or m.string[m.start() - 1] != "月"):
            return None  # 底, 初 inside other words; only 月底 / 上个月底 …
        year, month = _month_of(g["mo"] or "本月", today)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return nxt - timedelta(days=1)
    if form == "day":
        d = int(g["d"])
        candidate = _safe(today.year, today.month, d)
        if candidate is None or candidate > today:
            prev = today.replace(day=1) - timedelta(days=1)
            return _safe(prev.year, prev.month, d)
        return candidate
    return None


def _month_of(word: str, today: date) -> tuple[int, int]:
    """(year, month) of 上个月 / 本月 / 下个月 said on `today`."""
    if word.startswith("上"):
        prev = today.replace(day=1) - timedelta(days=1)
        return prev.year, prev.month
    if word.startswith("下"):
        return today.year + (today.month == 12), today.month % 12 + 1
    return today.year, today.month


def _explicit(text: str, today: date, skip: list[tuple[int, int]]) -> DateMatch | None:
    best: DateMatch | None = None
    for form, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and m.end() > start for start, end in skip):
                continue  # 当天 inside 元旦当天
            value = _resolve(form, m, today)
            if value is None:
                continue
            start = m.start() - 1 if form == "month_edge" and not m.group("mo") else m.start()  # 月底: the 月 too
            cand = DateMatch(value, start, m.end(), form)
            if best is None or (cand.start, -(cand.end - cand.start)) < (best.start, -(best.end - best.start)):
                best = cand
            break
    return best


PLAN_WORDS = re.compile(r"准备|计划|打算|将要|将于|拟于|拟在|预计|届时|即将|要搞|要开|要办")


def find_date(text: str, today: date) -> DateMatch | None:
    """The activity's date in `text`, resolved against local `today`; `value` is None for a vague time.

    An explicit date (leftmost, longest) wins, then a festival (元旦当天), then a vague word (前几天).
    A bare day or weekday said with a plan word (准备, 计划 …) is the next such day, not the last."""
    festival = find_festival(text, today)
    explicit = _explicit(text, today, festival_spans(text) if festival else [])
    if explicit is not None:
        if explicit.form in ("day", "weekday") and explicit.value is not None and explicit.value < today \
                and PLAN_WORDS.search(text):
            return DateMatch(_forward(explicit, text, today), explicit.start, explicit.end, explicit.form)
        return explicit
    if festival is not None:
        return DateMatch(festival.value, festival.start, festival.end, "festival")  # type: ignore[arg-type]
    vague = VAGUE.search(text)
    if vague is not None:
        return DateMatch(None, vague.start(), vague.end(), "vague")  # type: ignore[arg-type]
    return None


def _forward(found: DateMatch, text: str, today: date) -> date:
    """The next occurrence of a bare day (8号) or weekday (周五) instead of the last one."""
    assert found.value is not None
    if found.form == "weekday":
        word = text[found.start:found.end]
        return found.value + timedelta(days=7) if not word.startswith(("上", "本", "这")) else found.value
    nxt = found.value
    for _ in range(2):  # the same day of the next month that has it
        month = nxt.month % 12 + 1
        candidate = _safe(nxt.year + (nxt.month == 12), month, found.value.day)
        if candidate is not None and candidate >= today:
            return candidate
        nxt = date(nxt.year + (nxt.month == 12), month, 1)
    return found.value


def parse_date_answer(text: str, today: date) -> date | None:
    """A reply that is only a date (used when the bot asked for one)."""
    found = find_date(text, today)
    if found is None or found.value is None:
        return None
    rest = (text[:found.start] + text[found.end:]).strip(" ，,。.是的就在")
    return found.value if len(rest) <= 4 else None
