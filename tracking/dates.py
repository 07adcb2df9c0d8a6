"""Activity dates in report text: 今天, 昨天, 上周五, 3月5日, 3.5, 2026-03-05, 十一月五日 … Pure functions.

Dates are resolved against the reporter's local `today`. A month and day without a year means this
year unless that is more than a month ahead (then last year: "12月30日" said on 3 January). A
date that still lies ahead is returned as is; the caller questions it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tracking.numbers import to_int

_CN = "零〇○一二两三四五六七八九十"
_M = rf"(?:1[0-2]|0?[1-9]|[{_CN}]{{1,3}})"
_D = rf"(?:3[01]|[12]\d|0?[1-9]|[{_CN}]{{1,3}})"
_Y = r"(?:20\d\d|[二][〇零○][一二三四五六七八九〇零○]{2})"
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
RELATIVE_DAYS = {"大前天": 3, "前天": 2, "前日": 2, "昨天": 1, "昨日": 1, "昨晚": 1, "昨儿": 1,
                 "今天": 0, "今日": 0, "今晚": 0, "今早": 0, "今儿": 0, "当天": 0, "当日": 0}

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ymd", re.compile(rf"(?<!\d)(?P<y>{_Y})\s*(?:年|[-/.])\s*(?P<m>{_M})\s*(?:月|[-/.])\s*(?P<d>{_D})\s*[日号]?")),
    ("md", re.compile(rf"(?<![\d年])(?P<m>{_M})\s*月\s*(?P<d>{_D})\s*(?:[日号]|(?=[^\d{_CN}]|$))")),
    ("md_num", re.compile(r"(?<![\d.:/年-])(?P<m>1[0-2]|0?[1-9])[./-](?P<d>3[01]|[12]\d|0?[1-9])"
                          r"(?![\d.%/-]|\s*[万千亿元%人名位个次户天岁年])")),
    ("weekend", re.compile(r"(?P<w>上上个?|上个?|本|这个?)?(?:周末|礼拜天?末)")),
    ("relative", re.compile("|".join(sorted(RELATIVE_DAYS, key=len, reverse=True)))),
    ("weekday", re.compile(r"(?P<w>上上个?|上个?|本|这个?|下个?)?(?:周|星期|礼拜)(?P<d>[一二三四五六日天1-7])")),
    ("month_day", re.compile(rf"(?P<mo>上个?月|本月|这个?月)\s*(?P<d>{_D})\s*[日号]")),
    ("day", re.compile(rf"(?<![\d月{_CN}])(?P<d>3[01]|[12]\d|0?[1-9])\s*[日号](?![楼院门线馆厅栋室])")),
]


@dataclass(frozen=True, slots=True)
class DateMatch:
    """A date found in text and where: the caller removes [start, end) from the activity text."""

    value: date
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
        if g["mo"].startswith("上"):
            first = today.replace(day=1) - timedelta(days=1)
            return _safe(first.year, first.month, d)
        return _safe(today.year, today.month, d)
    if form == "day":
        d = int(g["d"])
        candidate = _safe(today.year, today.month, d)
        if candidate is None or candidate > today:
            prev = today.replace(day=1) - timedelta(days=1)
            return _safe(prev.year, prev.month, d)
        return candidate
    return None


def find_date(text: str, today: date) -> DateMatch | None:
    """The first (leftmost, longest) date expression in `text`, resolved against local `today`."""
    best: DateMatch | None = None
    for form, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            value = _resolve(form, m, today)
            if value is None:
                continue
            cand = DateMatch(value, m.start(), m.end(), form)
            if best is None or (cand.start, -(cand.end - cand.start)) < (best.start, -(best.end - best.start)):
                best = cand
            break
    return best


def parse_date_answer(text: str, today: date) -> date | None:
    """A reply that is only a date (used when the bot asked for one)."""
    found = find_date(text, today)
    if found is None:
        return None
    rest = (text[:found.start] + text[found.end:]).strip(" ，,。.是的就在")
    return found.value if len(rest) <= 4 else None
