"""Chinese and Arabic numerals, and participant counts in report text. Pure functions.

Counts as people write them: 40人, 四十余人, 约30名, 参加人数：15, 近百人, 十几个人 (10), 十五六个人 (15),
二三十人 (20), and lists of groups (党员12人、群众28人 -> 40). A range or approximation is stored as its
lower bound (近百 -> 100), flagged approximate, with the original wording kept beside it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

with warnings.catch_warnings():  # cn2an's import warns about a missing optional dependency
    warnings.simplefilter("ignore")
    import cn2an

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
    if any(ch in UNITS or ch in BIG_UNITS for ch in s):
        try:  # cn2an knows the financial forms (伍拾) and the odd spellings; our loop is the fallback
            value = cn2an.cn2an(s, "normal")
            return int(value) if float(value).is_integer() else None
        except ValueError:
            pass
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
    text: str = ""  # the wording it came from: 十五六个人, 党员12人、群众28人


_DIG = "一二两三四五六七八九"
_CN_RANGE = re.compile(rf"^(?P<a>[{_DIG}])(?P<b>[{_DIG}])(?P<u>[十百千万])$")  # 二三十, 两三百
_CN_TEEN_RANGE = re.compile(rf"^(?P<t>[{_DIG}]?)十(?P<a>[{_DIG}])(?P<b>[{_DIG}])$")  # 十五六, 二十五六
_CN_SOME = re.compile(rf"^(?P<t>[{_DIG}]?)(?P<u>十|百)几$")  # 十几, 二十几, 百几
_SOME_TENS = re.compile(r"^几(?P<u>十|百|千)$")  # 几十
_CN_PAIR = re.compile(rf"^(?P<a>[{_DIG}])(?P<b>[{_DIG}])$")  # 七八 (个人), 三五
_MIXED = re.compile(r"^(?P<n>\d+)(?P<u>[十百千万])$")  # 1百, 2千
AMOUNT = rf"(?:\d+[十百千万]?|[{CN_NUM_CHARS}几]+)"


def parse_amount(token: str) -> tuple[int, bool] | None:
    """'40' -> (40, False); '十五六' -> (15, True); '二三十' -> (20, True); '十几' -> (10, True)."""
    if token.isdigit():
        return int(token), False
    m = _CN_PAIR.match(token)
    if m and 0 < DIGITS[m["b"]] - DIGITS[m["a"]] <= 2:
        return DIGITS[m["a"]], True  # 七八个人: a range, not 78
    exact = cn_to_int(token)
    if exact is not None:
        return exact, False
    m = _CN_RANGE.match(token)
    if m and DIGITS[m["b"]] - DIGITS[m["a"]] in (1, 2) or m and m["a"] + m["b"] in ("一二", "两三"):
        return DIGITS[m["a"]] * UNITS.get(m["u"], BIG_UNITS.get(m["u"], 1)), True
    m = _CN_TEEN_RANGE.match(token)
    if m and DIGITS[m["b"]] > DIGITS[m["a"]]:
        return (DIGITS[m["t"]] if m["t"] else 1) * 10 + DIGITS[m["a"]], True
    m = _CN_SOME.match(token)
    if m:
        return (DIGITS[m["t"]] if m["t"] else 1) * UNITS[m["u"]], True
    m = _SOME_TENS.match(token)
    if m:
        return UNITS[m["u"]], True
    m = _MIXED.match(token)
    if m:
        return int(m["n"]) * UNITS.get(m["u"], BIG_UNITS.get(m["u"], 1)), False
    return None


_APPROX_PRE = ("约", "大约", "大概", "近", "将近", "接近", "超过", "逾", "上", "数", "差不多")
_TOTAL_WORDS = ("共", "共计", "合计", "总计", "累计", "一共", "总共")
_PRE = "|".join(sorted((*_APPROX_PRE, *_TOTAL_WORDS, "预计", "计", "有", "达"), key=len, reverse=True))
PERSON_NOUNS = ("小朋友", "孩子", "学生", "师生", "居民", "村民", "群众", "牧民", "党员", "志愿者", "代表", "干部",
                "家长", "老人", "同志", "青少年", "妇女", "儿童", "选手", "人员", "信息员", "网格员", "观众", "游客")
_NOUN = "|".join(sorted(PERSON_NOUNS, key=len, reverse=True))
_ATTEND = r"参加|参与|参会|出席|到场|到会|观看|受益"
_COUNT = re.compile(
    rf"(?P<pre>{_PRE})?\s*(?P<num>{AMOUNT})\s*(?P<approx>余|多|来|几)?\s*"
    rf"(?:(?:个)?(?P<unit>人次|人|名|位)|个(?P<noun>{_NOUN})|(?P<bare>个)(?=$|[\s，,。；;!！]))"
    rf"(?P<post>左右|上下)?(?P<verb>{_ATTEND})?"
)
_LABELLED = re.compile(rf"(?:{_ATTEND})?人数\s*[:：为是约共达]*\s*(?P<num>{AMOUNT})\s*(?P<approx>余|多)?\s*(?:人|名)?")
_ACTUAL = ("实到", "实际到场", "实际参加", "实际", "到场")  # the count that came, over the one expected
_BARE_LEAD = ("来了", "到了", "参加", "参与", "去了", "有")
# A group and its number with no unit, ending a clause: 村民六十多, 群众三百余
_NOUN_THEN_NUMBER = re.compile(rf"(?:{_NOUN})\s*(?P<num>{AMOUNT})\s*(?P<approx>余|多|来)?(?=$|[\s，,。；;!！])")
_NOT_A_SUM = re.compile(r"其中|实到|实际|包括|含|计划|预计|另|以及其他|[\d。；;!！?？]")
MAX_SUM_GAP = 8


def _candidates(text: str) -> list[tuple[int, CountMatch]]:
    found: list[tuple[int, CountMatch]] = []
    for m in _LABELLED.finditer(text):
        amount = parse_amount(m.group("num"))
        if amount is not None and amount[0] > 0:
            found.append((3, CountMatch(amount[0], m.start(), m.end(), amount[1] or bool(m.group("approx")),
                                        m.group(0).strip())))
    for m in _COUNT.finditer(text):
        amount = parse_amount(m.group("num"))
        if amount is None or amount[0] <= 0:
            continue
        end = m.end()
        after = text[end:end + 1] if not m.group("verb") and not m.group("post") else ""
        unit = m.group("unit")
        if unit == "名" and after in ("单", "义", "称", "额", "片", "次"):
            continue
        if unit == "人" and after in ("民", "士", "大", "才"):  # 人民, 人士, 人大: words, not a head count
            continue
        if m.group("bare") and not text[:m.start("num")].rstrip().endswith(_BARE_LEAD):
            continue
        if text[max(0, m.start() - 1):m.start()].isdigit():
            continue
        pre = m.group("pre") or ""
        actual = text[max(0, m.start() - 4):m.start()].endswith(_ACTUAL)
        rank = 3 if actual else 2 if pre in _TOTAL_WORDS else 1 if m.group("verb") else 0
        approx = amount[1] or bool(m.group("approx") or m.group("post")) or pre in _APPROX_PRE
        if pre == "上" and amount[0] not in (100, 1000, 10_000):
            approx = False  # 上百 is approximate; 上 before other numbers is another word
        found.append((rank, CountMatch(amount[0], m.start(), end, approx, m.group(0).strip())))
    if not found:
        for m in _NOUN_THEN_NUMBER.finditer(text):
            amount = parse_amount(m.group("num"))
            if amount is not None and amount[0] > 1:
                found.append((0, CountMatch(amount[0], m.start("num"), m.end(), amount[1] or bool(m.group("approx")),
                                            m.group(0).strip())))
    return found


def _sums(text: str, found: list[tuple[int, CountMatch]]) -> list[tuple[int, CountMatch]]:
    """Counts of groups listed one after another (党员12人、群众28人) add up."""
    singles = sorted((c for c in found if not any(c[1].text.startswith(w) for w in _TOTAL_WORDS)),
                     key=lambda c: c[1].start)
    out: list[tuple[int, CountMatch]] = []
    run: list[tuple[int, CountMatch]] = []
    for cand in [*singles, None]:
        if cand is not None and run:
            gap = text[run[-1][1].end:cand[1].start]
            if cand[1].start >= run[-1][1].end and len(gap) <= MAX_SUM_GAP and not _NOT_A_SUM.search(gap):
                run.append(cand)
                continue
        if len(run) > 1:
            first, last = run[0][1], run[-1][1]
            out.append((max(r for r, _ in run), CountMatch(sum(c.value for _, c in run), first.start, last.end,
                                                           any(c.approximate for _, c in run),
                                                           text[first.start:last.end].strip())))
        run = [cand] if cand is not None else []
    return out


def find_participants(text: str) -> CountMatch | None:
    """The number of people at the activity: '40人', '四十余人', '约40名', '参加人数：40', '党员12人、群众28人'.

    With several counts, a total (共/合计…) or a labelled 人数 wins, then one followed by 参加/出席,
    then the largest (a list of groups counts as its sum).
    """
    found = _candidates(text)
    if not found:
        return None
    found += _sums(text, found)
    found.sort(key=lambda item: (item[0], item[1].value), reverse=True)
    return found[0][1]
