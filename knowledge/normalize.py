"""Text normalisation: one form for display, one for matching.

Display form (what a phone shows): NFKC (full-width letters, digits and ASCII punctuation become
half-width, as in the shipped plans), Chinese marks 。、《》 kept, straight double quotes paired into
“”, stray controls removed, and spaces between Chinese and Latin/digits dropped ("2022 年" -> "2022年").

Index form (what is matched): the display form lower-cased, traditional characters folded to simplified
(OpenCC t2s, so 黨外幹部 finds 党外干部; replies still show the document's own text), passed through
the typo table, every run
of punctuation and space turned into one "|" (no word or phrase matches across it), and Chinese
numerals before a measure word turned into digits (两次 -> 2次).
"""

from __future__ import annotations

import re
import threading
import unicodedata

from knowledge.typos import fix_typos

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"。、，；：！？《》“”‘’（）【】"
_SPACE_BEFORE_LATIN = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}]) (?=[A-Za-z0-9])")
_SPACE_AFTER_LATIN = re.compile(rf"(?<=[A-Za-z0-9]) (?=[{_CJK}{_CJK_PUNCT}])")
_NON_WORD = re.compile(rf"[^0-9a-z{_CJK}]+")
BREAK = "|"  # where punctuation stood: words may not match across it ("议政、建言" is not "议政建言")
_HALFWIDTH_CJK_PUNCT = str.maketrans(
    {"\uff61": "。", "\uff64": "、", "\uff62": "“", "\uff63": "”"}
    | {chr(0x2460 + i): f"({i + 1})" for i in range(20)}  # ① .. ⑳ would become bare digits under NFKC
)

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_MEASURES = "次篇个项名人天周月年条批期场轮回家所户份类"
_NUMERAL = re.compile(rf"(?<![第统唯万])([零〇一二两三四五六七八九十百]{{1,4}})(?=季度|[{_MEASURES}])")


_fold_lock = threading.Lock()
_folder: tuple[object, frozenset[str]] | None = None  # (OpenCC t2s converter, characters it changes)


def _t2s() -> tuple[object, frozenset[str]]:
    """The converter and the set of characters it changes, made once (about 20 ms): most text has
    none of them, and a set test is far cheaper than a conversion (60 µs per 100 characters)."""
    global _folder
    if _folder is None:
        with _fold_lock:
            if _folder is None:
                import opencc

                converter = opencc.OpenCC("t2s")
                chars = [chr(c) for c in range(0x3400, 0xA000)]
                converted = converter.convert("\n".join(chars)).split("\n")
                changed = frozenset(a for a, b in zip(chars, converted, strict=False) if a != b)
                _folder = (converter, changed)
    return _folder


def fold_traditional(text: str) -> str:
    """Traditional characters to simplified (OpenCC t2s), for matching only."""
    converter, changed = _t2s()
    if changed.isdisjoint(text):
        return text
    return converter.convert(text)  # type: ignore[attr-defined]


def display_text(text: str) -> str:
    """The readable form of a line of plan text (see module doc)."""
    text = unicodedata.normalize("NFKC", text.translate(_HALFWIDTH_CJK_PUNCT))
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if " " in text:
        text = _SPACE_AFTER_LATIN.sub("", _SPACE_BEFORE_LATIN.sub("", text))
    return _pair_quotes(text)


def _pair_quotes(text: str) -> str:
    """Turn straight double quotes into Chinese “” pairs; an unpaired last quote is left alone."""
    if '"' not in text:
        return text
    parts = text.split('"')
    if len(parts) % 2 == 0:  # odd number of quotes: leave the last one straight
        head = parts[:-1]
        tail = '"' + parts[-1]
    else:
        head, tail = parts, ""
    out = [head[0]]
    for i, part in enumerate(head[1:]):
        out.append(("“" if i % 2 == 0 else "”") + part)
    return "".join(out) + tail


def chinese_number(numeral: str) -> int | None:
    """Value of a small Chinese numeral (一 .. 九百九十九), or None when it is not one."""
    if numeral == "百":
        return 100
    total, current = 0, 0
    for ch in numeral:
        if ch in _DIGITS:
            current = current * 10 + _DIGITS[ch] if current and ch in "零〇" else _DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _numeral_to_digits(match: re.Match[str]) -> str:
    value = chinese_number(match.group(1))
    return match.group(1) if value is None else str(value)


def index_text(text: str) -> str:
    """The matching form of any text (clause, heading, question or synonym)."""
    text = fold_traditional(display_text(text).lower())
    text = _NON_WORD.sub(BREAK, fix_typos(text)).strip(BREAK)
    return _NUMERAL.sub(_numeral_to_digits, text)  # after the punctuation is gone, as for question words


def index_token(token: str) -> str:
    """Matching form of one query token (no typo context needed: the question was fixed as a whole)."""
    return _NON_WORD.sub("", _NUMERAL.sub(_numeral_to_digits, token.lower()))
