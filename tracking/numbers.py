"""Chinese and Arabic numerals, and participant counts in report text. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3,
          "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
          "九": 9, "玖": 9}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000}
CN_NUM_CHARS = "".join(DIGITS) + "".join(UNITS) + "".join(BIG_UNITS) + "廿卅"
NUM = rf"(?:\d+|[{CN_NUM_CHARS}]+)"


def cn_to_int(text: str) -> int | None:
    """'四十' -> 40, '一百二十' -> 120, '十一' -> 11, '二〇二六' -> 2026, '45' -> 45; None if not a number."""
    s = text.strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    s = s.replace("廿", "二十").replace("卅", "三十")
    if any(ch not in DIGITS and ch not in UNITS and ch not in BIG_UNITS for ch in s):
        return None
    if all(ch in DIGITS for ch in s):  # digit by digit: 二〇二六
        return int("".join(str(DIGITS[ch]) for ch in s)) if len(s) > 1 else DIGITS[s]
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in DIGITS:
            if digit is not None and DIGITS[ch] != 0:
                return None  # two digits in a row without a unit, e.g. 四五十
            digit = DIGITS[ch] if DIGITS[ch] != 0 else None
        elif ch in UNITS:
            section += (1 if digit is None else digit) * UNITS[ch]
            digit = None
        else:
            total += (section + (digit or 0)) * BIG_UNITS[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def int_to_cn(n: int) -> str:
    """The inverse of cn_to_int for 0 <= n < 100000, as people write it (十一, 一百零五, 二千)."""
    if n < 0 or n >= 100_000:
        raise ValueError("out of range")
    if n == 0:
        return "零"
    names = "零一二三四五六七八九"
    parts: list[str] = []
    units = [(10_000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")]
    zero_pending = False
    started = False
    for value, unit in units:
        d = n // value % 10 if value < 10_000 else n // value
        if d == 0:
            if started:
                zero_pending = True
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        if not (unit == "十" and d == 1 and not started):
            parts.append(names[d])
        parts.append(unit)
        started = True
    return "".join(parts)


def to_int(token: str) -> int | None:
    """An Arabic or Chinese numeral token."""
    return int(token) if token.isdigit() else cn_to_int(token)


@dataclass(frozen=True, slots=True)
class CountMatch:
    value: int
    start: int
    end: int
    approximate: bool


_COUNT = re.compile(
    rf"(?P<pre>约|大约|近|将近|超过|逾|共|共计|合计|总计|累计|计|有)?\s*(?P<num>{NUM})\s*"
    r"(?P<approx>余|多|来)?\s*(?:个)?(?P<unit>人次|人|名|位)"
    r"(?P<post>参加|参与|参会|出席|到场|次)?"
)
_LABELLED = re.compile(rf"(?:参加|参与|参会|出席)?人数\s*[:：为是约共]*\s*(?P<num>{NUM})\s*(?P<approx>余|多)?\s*人?")
_TOTAL_WORDS = ("共", "共计", "合计", "总计", "累计")


def find_participants(text: str) -> CountMatch | None:
    """The number of people at the activity: '40人', '四十余人', '约40名', '参加人数：40'.

    With several counts, a total (共/合计…) wins, then one followed by 参加/出席, then the largest.
    """
    found: list[tuple[int, CountMatch]] = []
    for m in _LABELLED.finditer(text):
        value = to_int(m.group("num"))
        if value is not None and value > 0:
            found.append((3, CountMatch(value, m.start(), m.end(), bool(m.group("approx")))))
    for m in _COUNT.finditer(text):
        value = to_int(m.group("num"))
        if value is None or value <= 0:
            continue
        after = text[m.end("unit"):m.end("unit") + 1]
        unit = m.group("unit")
        if unit == "名" and after in ("单", "义", "称", "额"):
            continue
        if unit == "人" and after == "民":  # 人民…, not a head count
            continue
        before = text[max(0, m.start() - 1):m.start()]
        if before.isdigit():
            continue
        pre = m.group("pre") or ""
        rank = 2 if pre in _TOTAL_WORDS else 1 if m.group("post") in ("参加", "参与", "参会", "出席", "到场") else 0
        approx = bool(m.group("approx")) or pre in ("约", "大约", "近", "将近", "超过", "逾")
        found.append((rank, CountMatch(value, m.start(), m.end(), approx)))
    if not found:
        return None
    found.sort(key=lambda item: (item[0], item[1].value), reverse=True)
    return found[0][1]
