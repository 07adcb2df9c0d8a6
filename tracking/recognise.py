"""Is this message a report? A trigger word in any of its forms, or a message that reads as one. Pure.

Triggers follow a rule, not a list: an optional bracket or # (【报送】, #报送), an optional greeting
clause (领导在吗), then a report verb. Strong verbs (报送, 上报, 汇报, 报备, and the slip 保送) stand
alone; weak ones (报, 交, 录, 记, 登记, 提交, 备案) need "一下/个/一条" or an object (活动, 信息):
报个活动, 交个活动, 录一下, 登记一下活动. Traditional characters are folded first (報送).

Without a trigger, a message is a report *candidate* when it reads as an account of an activity:
an activity verb and at least one more of a date, a head count, a place. Questions never are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from tracking.dates import find_date
from tracking.numbers import find_participants

_OPEN = r"[\s【\[（(#＃「“\"']*"
_GREETING = r"(?:(?:领导|老师|主任|书记|各位|您|你)?(?:好|您好|你好|在吗|在不在|早上好|下午好)[，,！!。~～\s]+)?"
_STRONG = ("报送", "保送", "抱送", "上报", "汇报", "报备")
_WEAK = ("提交", "登记", "备案", "报", "交", "录", "记")
_TRIGGER = re.compile(
    rf"^{_OPEN}{_GREETING}(?:先|再|来|我来|我)?(?P<verb>{'|'.join(_STRONG + _WEAK)})"
    r"(?P<suffix>一下子?|一个|一条|一则|个|条|下)?(?P<obj>活动|信息|动态|材料|工作)?(?P<particle>[哈啊吧呀嘛]*)"
    r"(?P<close>[】\]）)」”\"']|[\s:：,，、!！。.~～]+|$)?"
)
# 报一下培训 …: the word after "verb + 一下/个" names what is reported; kept at the head of the rest
_WORD_TRIGGER = re.compile(
    rf"^{_OPEN}{_GREETING}(?:先|再|来|我来|我)?(?:{'|'.join(_STRONG + _WEAK)})(?:一下|一个|个)"
    r"(?P<word>[\u4e00-\u9fff]{2,4})(?:[\s:：,，、!！。]+)"
)
_LABEL_TRIGGER = re.compile(r"^(?P<label>[^：:，,。\n]{2,16}?)(?:报送|上报)[：:]")
# Words that make a message a question, whatever else it holds.
_STRONG_QUESTION = re.compile(r"[?？]|请问|吗[\s。~～!！]*$|呢[\s。~～]*$|么[\s。]*$|有没有|要不要|需不需要|是不是|能不能|可不可以")
_QUESTION_WORDS = ("什么", "怎么", "怎样", "多少", "几篇", "几次", "几个", "几张", "几份", "如何", "哪些", "哪里",
                   "哪个", "哪儿", "要求", "是否", "能否", "可以吗", "还是", "模板", "咋", "啥")
ACTIVITY_VERBS = re.compile(
    r"开展|组织|举办|举行|召开|开了|搞了|办了|搞个|办个|走访|慰问|宣讲|宣传|座谈|培训|学习|参加|参与|联欢|联谊|"
    r"义诊|表彰|揭牌|志愿|演出|汇演|比赛|讲座|检查|排查|调研|入户|送去|送了|观看|活动|会议|大会|接待|走秀|"
    r"完成|做好|定了|通过|提交|讲了|讲解|授课|放映|放了|演了|唱了|跳了|包了"
)
_DONE = re.compile(r"已完成|完成了|已经完成|做好了|写好了|定了|已提交|交了|已上交|通过了|已通过")
_PLACE_WORDS = re.compile(r"社区|村|嘎查|广场|会议室|党群服务中心|文化站|活动室|学校|小学|中学|幼儿园|体育馆")
LONG_TEXT = 150


@dataclass(frozen=True, slots=True)
class Trigger:
    """Where the trigger ends; `rest` is the report text after it (a task label before 报送： is kept)."""

    rest: str
    word: str


@lru_cache(maxsize=2048)
def fold(text: str) -> str:
    """Traditional to simplified characters (報送 -> 报送), so one rule reads both."""
    try:
        import opencc
    except ImportError:  # pragma: no cover - a pinned dependency
        return text
    return _converter(opencc).convert(text)


@lru_cache(maxsize=1)
def _converter(opencc):  # noqa: ANN001, ANN202 - the module, its converter
    return opencc.OpenCC("t2s")


def find_trigger(text: str) -> Trigger | None:
    """A report trigger at the start of the message (or a label ending in 报送：), else None."""
    folded = fold(text)
    m = _TRIGGER.match(folded)
    if m:
        verb = m.group("verb")
        strong = verb in _STRONG
        if strong or m.group("suffix") or m.group("obj"):
            if strong or m.group("close") is not None:
                return Trigger(text[m.end():].lstrip(" :：,，、!！。.~～】]）)"), verb)
    word = _WORD_TRIGGER.match(folded)
    if word:
        return Trigger(word.group("word") + " " + text[word.end():], "报送")
    label = _LABEL_TRIGGER.match(folded)
    if label:
        return Trigger(text[:label.end("label")] + "：" + text[label.end():], "报送")
    return None


def looks_like_question(text: str) -> bool:
    """A question (to answer from the knowledge base), not an account of what was done."""
    t = text.strip()
    if len(t) > LONG_TEXT:  # a long account may well contain 要求 or 如何; only a question mark decides
        return t.endswith(("?", "？", "吗"))
    if _STRONG_QUESTION.search(t):
        return True
    return any(w in t for w in _QUESTION_WORDS) and find_date(t, date(2000, 1, 1)) is None \
        and find_participants(t) is None


@dataclass(frozen=True, slots=True)
class Signals:
    """What makes a message read as a report."""

    verb: bool
    date: bool
    count: bool
    place: bool

    @property
    def score(self) -> int:
        return int(self.verb) + int(self.date) + int(self.count) + int(self.place)


def signals(text: str, today: date, villages: tuple[str, ...] = ()) -> Signals:
    return Signals(
        verb=ACTIVITY_VERBS.search(text) is not None,
        date=find_date(text, today) is not None,
        count=find_participants(text) is not None,
        place=_PLACE_WORDS.search(text) is not None or any(v and v[:2] in text for v in villages),
    )


def is_report_candidate(text: str, today: date, villages: tuple[str, ...] = (),
                        task_titles: tuple[str, ...] = ()) -> bool:
    """An account of an activity without a trigger word: a verb plus a date, a count or a place; or a
    date, a count and a place together; or a task's title said to be done (民族工作年终总结 已完成)."""
    t = text.strip()
    if len(t) < 6 or looks_like_question(t):
        return False
    if _DONE.search(t) and any(title and title in t for title in task_titles):
        return True
    found = signals(t, today, villages)
    if found.date and found.count and found.place:
        return True
    done = re.search(r"(?:开展|组织|举办|召开|开|搞|办|走访|慰问|参加)了", t) is not None
    return found.verb and found.score >= 2 and (found.date or found.count or done)
