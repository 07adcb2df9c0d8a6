"""Phone-typing slips in a question: pinyin-input homophones and shape-alike characters.

A liaison typing pinyin picks the wrong character of the same sound (统站 for 统战, 宗交 for 宗教, 越报
for 月报) or, in a hurry, a near sound (zh/z, ch/c, sh/s, n/l, an/ang, en/eng, in/ing are often not
told apart); a handwriting or stroke input gives a character of similar shape (冶 for 治). A question
word that no clause contains is therefore also looked for as the words of the corpus that sound the
same (pypinyin, every reading of a polyphonic character) or differ by one shape-alike character. Only
words the corpus really has are proposed, at a lower factor than a synonym, so a slip never outranks
the word typed right, and a word of another field (社保, 天气) rarely finds a partner.

Only corpus bigrams that are words (jieba's dictionary or the plans' domain words) are proposed for
a sound, never the two halves of neighbouring words. The corpus bigrams are keyed by sound once per index, lazily (the first question with an unknown word
pays a few milliseconds on a township's plans, about a second at 100,000 clauses).
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from functools import lru_cache
from itertools import product

from pypinyin import Style, lazy_pinyin, pinyin

from knowledge.index import ClauseIndex
from knowledge.query import CONTENT, QueryPlan, Term
from knowledge.tokenizer import get_tokenizer

SLIP_FACTOR = 0.7
MAX_VARIANTS = 6
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"), ("iang", "ian"), ("uang", "uan"))

# Characters that look alike and are confused in handwriting and stroke input; general pairs from the
# usual 形近字 lists, each group mutual.
SHAPE_GROUPS = (
    "治冶", "己已巳", "未末", "戊戌戍", "拨拔", "候侯", "辨辩辫瓣", "即既", "崇祟", "徽微", "杨扬", "茶荼",
    "准淮", "体休", "免兔", "人入八", "王玉", "天夭", "士土", "日曰", "衰哀衷", "贫贪", "综棕粽", "纷粉",
    "析折", "历厉", "拆折", "券卷", "祖袓", "陷馅", "狠狼", "幕暮墓慕募", "密蜜", "堤提", "竞竟",
    "副幅福富", "侍待", "情晴请清", "浅线钱", "织职识帜", "访仿纺防", "谈淡", "健建键", "桥侨", "胞饱抱泡",
    "族旅", "责贵", "宗综", "教孝", "策荣", "督叔", "奋夺", "惧俱", "护沪", "倡唱", "稳隐",
)


def _shape_neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for group in SHAPE_GROUPS:
        for ch in group:
            out[ch] = "".join(dict.fromkeys(out.get(ch, "") + group.replace(ch, "")))
    return out


SHAPES = _shape_neighbours()


def _loose(syllable: str) -> str:
    """A toneless syllable with the sounds phone typists mix up made the same."""
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


@lru_cache(maxsize=65536)
def _reading(word: str) -> tuple[str, ...]:
    """The usual toneless reading of a word (pypinyin's phrase-aware default)."""
    return tuple(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


@lru_cache(maxsize=65536)
def char_sounds(ch: str) -> tuple[str, ...]:
    """Every loose reading of one character (several for 长, 行, 重 …)."""
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    if not readings:
        return ()
    return tuple(dict.fromkeys(_loose(r) for r in readings[0] if r))


def word_keys(word: str) -> list[tuple[str, ...]]:
    """The sound keys of a word: one per combination of its characters' readings (bounded)."""
    sounds = [char_sounds(ch) for ch in word]
    if not all(sounds):
        return []
    keys = []
    for combo in product(*sounds):
        keys.append(combo)
        if len(keys) >= 8:
            break
    return keys


class SlipFixer:
    """Adds to a question's unknown words the corpus words they are likely slips for."""

    def __init__(self, index: ClauseIndex) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._by_sound: dict[tuple[str, ...], tuple[str, ...]] | None = None
        self._memo: dict[Term, Term] = {}

    def _sounds(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        """Corpus bigram -> by sound key, made on first use."""
        if self._by_sound is None:
            with self._lock:
                if self._by_sound is None:
                    words = get_tokenizer().FREQ  # jieba's words and the plans' domain words
                    found: dict[tuple[str, ...], list[str]] = {}
                    for gram in self.index.bigrams():
                        if _HAN.match(gram) and words.get(gram):  # a word, not two halves ("格和")
                            for key in word_keys(gram):
                                found.setdefault(key, []).append(gram)
                    self._by_sound = {k: tuple(v) for k, v in found.items()}
        return self._by_sound

    def prepare(self) -> None:
        """Make the sound map now (a warm-up), rather than on the first question with an unknown word."""
        self._sounds()

    def _known(self, word: str) -> bool:
        return self.index.df(word) > 0

    def _pairs(self, gram: str, strict: bool = False) -> list[str]:
        """Corpus bigrams that sound like `gram` or differ from it by one shape-alike character;
        `strict`: only those read exactly alike, tones aside (for a real word typed)."""
        sounds = self._sounds()
        out: dict[str, None] = {}
        reading = _reading(gram) if strict else None
        for key in word_keys(gram):
            for other in sounds.get(key, ()):
                if reading is None or _reading(other) == reading:
                    out.setdefault(other, None)
        if strict:
            out.pop(gram, None)
            return list(out)
        for i, ch in enumerate(gram):
            for alike in SHAPES.get(ch, ""):
                other = gram[:i] + alike + gram[i + 1:]
                if self._known(other):
                    out.setdefault(other, None)
        out.pop(gram, None)
        return list(out)

    def variants(self, word: str) -> list[str]:
        """Corpus words `word` may be a slip for (empty when the corpus has the word itself). A real
        word of the language (工伤 for 工商, but also 家里, 城里 typed right) is only taken for a corpus
        word read exactly the same, tones aside, in its usual reading; a non-word (统站) for any
        near sound or shape."""
        if len(word) < 2 or not _HAN.match(word) or self._known(word):
            return []
        strict = bool(get_tokenizer().FREQ.get(word))
        out: dict[str, None] = {}
        for i in range(len(word) - 1):
            gram = word[i:i + 2]
            if self._known(gram):
                continue
            for other in self._pairs(gram, strict):
                fixed = word[:i] + other + word[i + 2:]
                if fixed != word and self._known(fixed):
                    out.setdefault(fixed, None)
                if len(out) >= MAX_VARIANTS:
                    return list(out)
        return list(out)

    def _fix(self, term: Term) -> Term:
        fixed = self._memo.get(term)
        if fixed is None:
            have = {a for a, _ in term.alternatives}
            extra = [(v, SLIP_FACTOR) for v in self.variants(term.text) if v not in have]
            fixed = replace(term, alternatives=term.alternatives + tuple(extra)) if extra else term
            if len(self._memo) >= 8192:
                self._memo.clear()
            self._memo[term] = fixed
        return fixed

    def expand(self, plan: QueryPlan) -> QueryPlan:
        """The plan with slip variants added to its content words; two neighbouring single characters
        that jieba left apart because together they are no word (住 线) are also tried as one."""
        terms = [self._fix(t) if t.kind == CONTENT else t for t in plan.terms]
        seen = {t.text for t in terms}
        for first, second in zip(plan.terms, plan.terms[1:], strict=False):
            joined = first.text + second.text
            if (len(first.text) == 1 and len(second.text) == 1 and first.kind == second.kind == CONTENT
                    and joined not in seen and joined in plan.phrase):
                variants = self.variants(joined)
                if variants:
                    seen.add(joined)
                    terms.append(Term(joined, CONTENT, tuple((v, SLIP_FACTOR) for v in variants)))
        fixed = tuple(terms)
        return plan if fixed == plan.terms else replace(plan, terms=fixed)
