"""Turn a phone-typed question into weighted terms: content words, discounted question words, synonyms.

"宗教信息员一年培训几回" -> 宗教, 信息员 (~联络员), 1年 (~全年), 培训, 几回 (question: ~不少于), 回 (~次).
Stop words (的, 了, 我们 …) carry no weight. Question words (怎么, 什么, 几次, 要不要, and words made
only of them such as 干什么) count only through equivalents that answer them (几次 -> 不少于) and,
with their neighbours, as quoted phrases ("谁来干", "干得好") when a plan says exactly that; so a
clause is never chosen because it happens to contain "有" or "怎么".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from weakref import WeakKeyDictionary

from knowledge.normalize import display_text, fold_traditional, index_token
from knowledge.synonyms import SYNONYM_FACTOR, SynonymTable
from knowledge.tokenizer import cut
from knowledge.typos import fix_typos

STOPWORDS = frozenset(
    "的 地 得 了 着 过 吗 呢 吧 啊 呀 哦 嘛 么 哈 呗 啦 噢 嗯 哇 请问 请 问 问一下 一下 想 想问 想知道 知道 "
    "我 我们 你 您 你们 他 她 它 他们 咱 咱们 俺 大家 自己 这 那 这个 那个 这些 那些 这里 那里 "
    "是 就 都 也 还 又 再 才 和 与 及 跟 同 或 或者 在 对 给 把 被 让 从 向 于 上 里 中 个 些 点 一些 有点 "
    "一点 到底 究竟 具体 主要 关于 有关 相关 方面 之类 等等 什么样 的话 呢 还是 就是 一般 平时 现在 目前 "
    "今年 老师 书记 主任 麻烦 谢谢 你好 您好 一个 1个".split()
)
QUESTION_WORDS = frozenset(
    "怎么 怎样 怎么样 如何 咋 咋办 怎么办 咋整 怎么做 咋做 怎么弄 为什么 为啥 什么 啥 啥子 哪 哪些 哪个 哪里 "
    "哪儿 几 多少 多久 多长 多大 几个 谁 是否 要不要 需不需要 是不是 有没有 能不能 可不可以 该不该 "
    "要 需要 应该 应当 得 必须 该 可以 能 会 有 没有 做 干 搞 弄 办 算 行 吗 要求 规定 "
    "什么时候 啥时候 何时 几时 多长时间 时候 干嘛 干吗 意思 含义 指的是 指什么".split()
)
# Question words that carry meaning of their own in the plans (次数), so they keep their synonyms.
_HOW_MANY = re.compile(r"^(几|多少)(次|篇|回|个|项|名|人|天|周|月|年|条|批|期|场|轮|遍|趟)$")

_NUMERAL = re.compile(r"^[零〇一二两三四五六七八九十百\d]+$")
_MEASURE_START = frozenset("次篇个项名人天周月年条批期场轮回家所户份类季")

CONTENT, QUESTION, STOP = "content", "question", "stop"


@dataclass(frozen=True)
class Term:
    """One query word in index form with its equivalents (text, factor) and its kind."""

    text: str
    kind: str
    alternatives: tuple[tuple[str, float], ...]

    @property
    def forms(self) -> tuple[tuple[str, float], ...]:
        """What to look for: the word and its equivalents; a question word only through its equivalents
        (几次 -> 不少于), since a plan that happens to contain "有" or "哪" is no better an answer."""
        if self.kind != CONTENT:
            return self.alternatives
        return ((self.text, 1.0), *self.alternatives)


@dataclass(frozen=True)
class QueryPlan:
    question: str
    terms: tuple[Term, ...]
    content: str  # the content words run together, for fuzzy comparison
    phrase: str = ""  # content and question words run together, in order, for phrase (bigram) evidence
    asked_phrases: tuple[str, ...] = ()  # a question word with its neighbours ("谁来干"): a bonus if quoted
    question_chars: frozenset[int] = frozenset()  # positions in `phrase` that belong to question words

    @property
    def content_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.kind == CONTENT)


WORD_MEMO = 8192  # words whose analysis is remembered: liaisons ask about the same few hundred words

# Pure functions of a word, remembered (thread-safe) because each costs microseconds and words recur.
_index_token = lru_cache(maxsize=WORD_MEMO)(index_token)


def _tokens(question: str) -> list[str]:
    text = fix_typos(fold_traditional(display_text(question).lower()))
    out: list[str] = []
    for word in cut(text):
        if out and (_HOW_MANY.match(out[-1] + word) or out[-1] + word in QUESTION_WORDS):
            out[-1] += word  # "几" + "篇" -> "几篇", "要" + "不要" -> "要不要"
        elif len(out) >= 2 and out[-2] + out[-1] + word in QUESTION_WORDS:
            out[-2:] = [out[-2] + out[-1] + word]
        elif out and _NUMERAL.match(out[-1]) and word[0] in _MEASURE_START:
            out[-1] += word  # "两" + "月" -> "两月", indexed as "2月" like the clause text
        else:
            out.append(word)
    return out


def _merge_phrases(tokens: list[str], synonyms: SynonymTable) -> list[str]:
    """Join neighbouring tokens that together spell a synonym-table phrase ("每个"+"月" -> "每个月")."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for span in (3, 2):
            if i + span <= len(tokens):
                joined = "".join(tokens[i:i + span])
                if _index_token(joined) in synonyms.phrases:
                    out.append(joined)
                    i += span
                    break
        else:
            out.append(tokens[i])
            i += 1
    return out


@lru_cache(maxsize=WORD_MEMO)
def _kind(text: str) -> tuple[str, str]:
    """(QUESTION or CONTENT, the measure word of a how-many word such as 几篇, else "")."""
    how_many = _HOW_MANY.match(text)
    if how_many:
        return QUESTION, how_many.group(2)
    return (QUESTION if _is_question(text) else CONTENT), ""


def _is_question(text: str) -> bool:
    """A question word, or a word made only of question and stop words ("干什么", "要怎么")."""
    if text in QUESTION_WORDS:
        return True
    if len(text) < 2:
        return False
    can_end: list[bool | None] = [None] * (len(text) + 1)  # None: unreachable; True: via a question word
    can_end[0] = False
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - 4), end):
            if can_end[start] is None:
                continue
            piece = text[start:end]
            if piece in QUESTION_WORDS:
                can_end[end] = True
            elif piece in STOPWORDS and can_end[end] is not True:
                can_end[end] = can_end[start]
    return can_end[len(text)] is True


# Terms per synonym table, held weakly: a reload's new table starts afresh and the old one's terms go
# with it (a cache keyed by the table itself would keep every replaced table alive).
_TERMS: WeakKeyDictionary[SynonymTable, dict[tuple[str, str], Term]] = WeakKeyDictionary()


def _term(text: str, kind: str, synonyms: SynonymTable) -> Term:
    """_describe_term, remembered per synonym table."""
    memo = _TERMS.get(synonyms)
    if memo is None:
        memo = _TERMS.setdefault(synonyms, {})
    term = memo.get((text, kind))
    if term is None:
        if len(memo) >= WORD_MEMO:
            memo.clear()
        term = memo[(text, kind)] = _describe_term(text, kind, synonyms)
    return term


def _describe_term(text: str, kind: str, synonyms: SynonymTable) -> Term:
    """The term of one word: its equivalents from the synonym table, also for synonym phrases inside it."""
    alts = {a: synonyms.factor(text, a) for a in synonyms.alternatives(text)}
    if len(text) >= 3:  # "统战工作" also as "统一战线工作": swap a synonym phrase inside a longer word
        for size in range(min(len(text) - 1, synonyms.max_phrase_len), 1, -1):
            for start in range(len(text) - size + 1):
                part = text[start:start + size]
                for alt in synonyms.alternatives(part):
                    if len(alt) >= 2:
                        whole = text[:start] + alt + text[start + size:]
                        alts[whole] = max(alts.get(whole, 0.0), synonyms.factor(part, alt))
    alts.pop(text, None)
    if kind != CONTENT:
        alts = {a: f for a, f in alts.items() if a not in QUESTION_WORDS and not _HOW_MANY.match(a)}
    return Term(text=text, kind=kind, alternatives=tuple((a, alts[a] or SYNONYM_FACTOR) for a in sorted(alts)))


def analyse(question: str, synonyms: SynonymTable) -> QueryPlan:
    """The weighted terms of a question (weights are applied by the ranker from corpus statistics)."""
    terms: list[Term] = []
    seen: set[str] = set()
    content: list[str] = []
    phrase: list[str] = []  # every word in order, stop words too: "干得好" must stay quotable
    kinds: list[str] = []
    question_chars: set[int] = set()
    at = 0  # where the next word starts in the phrase
    for token in _merge_phrases(_tokens(question), synonyms):
        text = _index_token(token)
        if not text:
            continue
        stop = token in STOPWORDS or text in STOPWORDS
        kind, unit = _kind(text)
        phrase.append(text)
        kinds.append(STOP if stop else kind)
        if stop or kind == QUESTION:
            question_chars.update(range(at, at + len(text)))
        at += len(text)
        if stop:
            continue
        if kind == CONTENT:
            content.append(text)
        if text in seen:
            continue
        seen.add(text)
        term = _term(text, kind, synonyms)
        if term.kind == CONTENT or term.alternatives:  # a question word with nothing to look for only
            terms.append(term)  # shapes the phrase evidence
        if unit and unit not in seen:  # "几篇" also asks about 篇
            seen.add(unit)
            terms.append(_term(unit, CONTENT, synonyms))
    whole = "".join(phrase)
    if not content and len(whole) >= 3 and whole not in seen:
        # Only question words ("怎么干"): the plan may quote exactly that, so look for it as it stands.
        terms.append(Term(text=whole, kind=CONTENT, alternatives=()))
        content.append(whole)
    quoted: dict[str, None] = {}
    for i, kind in enumerate(kinds):
        if kind == QUESTION:  # the question word with up to two neighbours: "谁来", "来干", "干得好"
            for lo in range(i - 2, i + 1):
                for hi in range(max(lo + 2, i + 1), min(lo + 3, len(phrase)) + 1):
                    if lo >= 0 and CONTENT in kinds[lo:hi]:
                        quoted.setdefault("".join(phrase[lo:hi]), None)
    return QueryPlan(question=question, terms=tuple(terms), content="".join(content), phrase="".join(phrase),
                     question_chars=frozenset(question_chars), asked_phrases=tuple(quoted))
