"""Festival names in report text -> their date in a given year. Pure (calendar packages only).

Lunar festivals (春节, 元宵, 端午, 中秋 …) come from `lunardate`, the solar term 清明 from
`chinese_calendar` (which also knows the official holiday names), fixed-date days from a table.
A name means the festival day itself; "期间/假期" too (the day people write about), "前/后" are vague.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from lunardate import LunarDate

SOLAR = {  # name pattern -> (month, day)
    "元旦": (1, 1), "妇女节": (3, 8), "三八节": (3, 8), "学雷锋日": (3, 5), "学雷锋纪念日": (3, 5), "植树节": (3, 12),
    "国家安全教育日": (4, 15), "劳动节": (5, 1), "五一劳动节": (5, 1), "五一节": (5, 1), "青年节": (5, 4),
    "五四青年节": (5, 4), "儿童节": (6, 1), "六一儿童节": (6, 1), "建党节": (7, 1), "七一建党节": (7, 1),
    "建军节": (8, 1), "八一建军节": (8, 1), "教师节": (9, 10), "国庆节": (10, 1), "国庆": (10, 1),
    "宪法日": (12, 4), "国家宪法日": (12, 4), "圣诞节": (12, 25),
}
LUNAR = {  # name -> (lunar month, day); 除夕 is handled apart (the last day of the lunar year)
    "春节": (1, 1), "大年初一": (1, 1), "正月初一": (1, 1), "元宵节": (1, 15), "元宵": (1, 15), "正月十五": (1, 15),
    "龙抬头": (2, 2), "端午节": (5, 5), "端午": (5, 5), "七夕节": (7, 7), "七夕": (7, 7), "中元节": (7, 15),
    "中秋节": (8, 15), "中秋": (8, 15), "重阳节": (9, 9), "重阳": (9, 9), "腊八节": (12, 8), "腊八": (12, 8),
    "小年": (12, 23),
}
TERMS = {"清明节": "清明", "清明": "清明", "冬至": "冬至", "立春": "立春"}
EVE = ("除夕", "大年三十", "年三十")
# 大年初三, 正月初六, 正月十二: days of the first lunar month
_NEW_YEAR_DAYS = {f"{lead}初{d}": (1, i) for lead in ("大年", "正月") for i, d in enumerate("一二三四五六七八九十", 1)}
_NEW_YEAR_DAYS |= {f"正月十{d}": (1, 10 + i) for i, d in enumerate("一二三四五六七八九", 1)}
LUNAR |= _NEW_YEAR_DAYS
NAMES = sorted([*SOLAR, *LUNAR, *TERMS, *EVE], key=len, reverse=True)
# 五一/十一 alone are numbers too often; only with a holiday word after them.
SHORT_NAMES = {"五一": (5, 1), "十一": (10, 1), "六一": (6, 1), "七一": (7, 1), "八一": (8, 1)}
_SHORT_AFTER = "(?:假期|期间|当天|当日|那天|小长假|黄金周|前后)"
# 当天 / 期间 mean the day; 前一天, 后两天 shift it; 前 / 前夕 / 后 / 前后 are vague (ask).
PATTERN = re.compile(
    "(?P<name>" + "|".join(map(re.escape, NAMES)) + "|(?P<short>五一|十一|六一|七一|八一)(?=" + _SHORT_AFTER + "))"
    r"(?:节)?(?P<tail>当天|当日|那天|期间|假期(?:期间|里|中)?|小长假(?:期间)?|黄金周|"
    r"前(?P<before>[一两二三四五]|\d)天|后(?P<after>[一两二三四五]|\d)天|前夕|前后|之前|之后|前|后)?"
)
_SMALL = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5}


@dataclass(frozen=True, slots=True)
class FestivalMatch:
    value: date | None  # None: a vague time around the festival (节前, 节后)
    start: int
    end: int
    name: str


@lru_cache(maxsize=512)
def festival_day(name: str, year: int) -> date | None:
    """The day a festival name stands for in `year` (Gregorian year of the day itself)."""
    if name in SOLAR:
        m, d = SOLAR[name]
        return date(year, m, d)
    if name in SHORT_NAMES:
        m, d = SHORT_NAMES[name]
        return date(year, m, d)
    try:
        if name in LUNAR:
            m, d = LUNAR[name]
            return LunarDate(year, m, d).toSolarDate() if m < 11 else _late_lunar(year, m, d)
        if name in EVE:
            return LunarDate(year, 1, 1).toSolarDate() - timedelta(days=1)
        if name in TERMS:
            for day, term in chinese_calendar.get_solar_terms(date(year, 1, 1), date(year, 12, 31)):
                if term == TERMS[name]:
                    return day
    except (ValueError, NotImplementedError):  # outside the packages' years
        return None
    return None


def _late_lunar(year: int, month: int, day: int) -> date | None:
    """A festival of lunar month 11/12, which may fall in January of the next Gregorian year."""
    for lunar_year in (year, year - 1):
        solar = LunarDate(lunar_year, month, day).toSolarDate()
        if solar.year == year:
            return solar
    return None


def nearest(name: str, today: date, *, ahead_days: int = 62) -> date | None:
    """The occurrence nearest to `today`; one ahead only within `ahead_days` (a plan), else the last one."""
    best: date | None = None
    for year in (today.year - 1, today.year, today.year + 1):
        day = festival_day(name, year)
        if day is None or (day > today and (day - today).days > ahead_days):
            continue
        if best is None or abs((day - today).days) < abs((best - today).days):
            best = day
    return best


def find_festival(text: str, today: date) -> FestivalMatch | None:
    """The first festival named in `text`, resolved to a date near `today` (None when vague)."""
    for m in PATTERN.finditer(text):
        name = m.group("short") or m.group("name")
        day = nearest(name, today)
        if day is None:
            continue
        tail = m.group("tail") or ""
        if m.group("before"):
            day = day - timedelta(days=_count(m.group("before")))
        elif m.group("after"):
            day = day + timedelta(days=_count(m.group("after")))
        elif tail in ("前夕", "前后", "之前", "之后", "前", "后"):
            return FestivalMatch(None, m.start(), m.end(), name)
        return FestivalMatch(day, m.start(), m.end(), name)
    return None


def festival_spans(text: str) -> list[tuple[int, int]]:
    """Where festival names (with their 当天/期间 …) stand in the text."""
    return [(m.start(), m.end()) for m in PATTERN.finditer(text)]


def _count(token: str) -> int:
    return int(token) if token.isdigit() else _SMALL[token]


def holiday_name(day: date) -> str | None:
    """The official holiday `day` belongs to (chinese_calendar's English name), if any."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if on_holiday else None
