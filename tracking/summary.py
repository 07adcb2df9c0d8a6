"""The activity text of a report: the message without date, count and filler, and its short summary. Pure.

The full message is kept as the report's raw text; the activity is what the message says was done,
and the summary (at most SUMMARY_CHARS) is cut at a sentence or clause boundary, never mid-word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tracking.numbers import PERSON_NOUNS

SUMMARY_CHARS = 200
EDGE = " \t\r\n，,。.；;：:、!！?？~～-—()（）[]【】"
# Words that carry no content at the edges of a report: greetings, "report this", "please note".
_FILLER = re.compile(
    r"^(?:(?:领导|老师|主任|书记)?(?:您好|你好|在吗|在不在)[，,！!。\s]*|(?:先|再)?(?:报|汇报|上报|报送|登记|录|记)一下[哈啊吧呀]?"
    r"[，,！!。\s]*|麻烦(?:登记|记录)一下[，,。\s]*)+"
)
_TAIL_FILLER = re.compile(r"[，,。\s]*(?:先报一下|报一下|请查收|请审核|谢谢|辛苦了?)[。！!~～]*$")
# What is left of a head count once its number is cut out: 来了, 参会, 居民, 参加的志愿者, 预计 …
_COUNT_LEFTOVER = "|".join(sorted((*PERSON_NOUNS, "来了", "到了", "去了", "派了", "通知了", "参加的", "参与的", "参会的",
                                   "参加", "参与", "参会", "出席", "到场的", "到场", "到会", "观看", "人数", "一行", "共计",
                                   "合计", "一共", "总共", "共", "约", "大约", "大概", "近", "预计", "有", "的", "们",
                                   "群众", "现场", "各族", "和"), key=len, reverse=True))
_LEFTOVER_CLAUSE = re.compile(rf"(?:^|[，,、\s])(?:{_COUNT_LEFTOVER})+$")
_LEAD_TIME = re.compile(r"^(?:[(（]?(?:周|星期)[一二三四五六日天][)）]?|上午|下午|中午|晚上|早上|傍晚|那天|当天)"
                        r"\s*(?:\d{1,2}\s*[点:：]\s*(?:半|\d{1,2}分?)?)?\s*")
_CLAUSE_END = "。！!；;\n"
_SOFT_END = "，,、 "


def clean_activity(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text with the given spans cut out, filler words dropped and the punctuation at the cuts tidied."""
    keep: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos:
            start = pos
        keep.append(text[pos:start])
        left, right = text[start - 1:start], text[end:end + 1]
        if left and right and left not in EDGE and right not in EDGE and not _joins(left, right):
            keep.append(" ")  # 11.3 长青村: the cut leaves a gap, not a comma
        pos = max(pos, end)
    keep.append(text[pos:])
    out = "".join(keep)
    out = re.sub(r"[ \t\r\f\v]+", " ", out)
    out = re.sub(r"(\s*[，,；;。、]\s*)+", lambda m: m.group(0).strip()[0], out)
    out = re.sub(r"\s*\n\s*", "\n", out)
    out = out.strip(EDGE)
    out = _FILLER.sub("", out).strip(EDGE)
    out = _TAIL_FILLER.sub("", out).strip(EDGE)
    out = re.sub(r"[（(]\s*[)）]", "", out).strip(EDGE)
    for _ in range(3):  # 来了 / 居民 / 参加的志愿者 left dangling where the count was
        trimmed = _LEFTOVER_CLAUSE.sub("", out).strip(EDGE)
        if trimmed == out or not trimmed:
            break
        out = trimmed
    lead = _LEAD_TIME.sub("", out).strip(EDGE)
    return lead or out


def _joins(left: str, right: str) -> bool:
    """Two Chinese characters meet where a date was cut out (咱社区|搞了): join them without a gap."""
    return "\u4e00" <= left <= "\u9fff" and "\u4e00" <= right <= "\u9fff"


def summarise(activity: str, limit: int = SUMMARY_CHARS) -> str:
    """At most `limit` characters: whole sentences if they fit, else whole clauses, else a cut at a space."""
    text = re.sub(r"\s*\n\s*", "。", activity.strip()).strip(EDGE)
    text = re.sub(r"。{2,}", "。", text)
    if len(text) <= limit:
        return text
    for ends in (_CLAUSE_END, _CLAUSE_END + _SOFT_END):
        cut = max((i for i in range(limit) if text[i] in ends), default=-1)
        if cut >= limit // 3:
            return text[:cut].strip(EDGE) + "…"
    return text[:limit - 1].strip(EDGE) + "…"


def clip(text: str, n: int) -> str:
    """A one-line preview of at most n characters, cut at a clause boundary when one is near."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= n:
        return flat
    cut = max((i for i in range(n - 1) if flat[i] in _CLAUSE_END + _SOFT_END), default=-1)
    return (flat[:cut] if cut >= n // 2 else flat[:n - 1]).strip(EDGE) + "…"
