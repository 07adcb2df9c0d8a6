"""Character n-gram inverted index over clauses: candidate generation and document frequencies.

Every clause's index text (its own words plus its heading path) is cut into character unigrams and
bigrams; each gram maps to a sorted numpy array of clause numbers. Bigrams need no word segmentation,
so a question matches whatever way the plan happened to split words, and a typo breaks only one or two
grams. Candidates are the clauses with the highest summed weight of matching grams; only those are
scored exactly, which keeps a question at a few milliseconds at 100,000 clauses.

A small index (up to SMALL_INDEX clauses, a township's plans) also keeps gram -> clause sets for the
bodies and the heading paths apart, so the ranker finds where any piece of text occurs by set lookups
(`containing`) instead of substring tests clause by clause.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from knowledge.normalize import index_text
from knowledge.segment import Clause

HEADING_JOIN = "|"  # never inside index text, so no term matches across two headings
SMALL_INDEX = 1000  # up to this many clauses, gram -> clause sets are also kept as Python sets (about
# 13 kB a clause; piece lookups become set lookups, 25-30% faster searches on such corpora)
_NOTHING: frozenset[int] = frozenset()


def grams(text: str) -> set[str]:
    """Unigrams and bigrams of an index-form string (a '|' breaks bigrams)."""
    out = set(text)
    out.discard(HEADING_JOIN)
    out.update(text[i:i + 2] for i in range(len(text) - 1) if HEADING_JOIN not in text[i:i + 2])
    return out


def build_postings(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Gram -> sorted array of the numbers of the texts containing it, built with numpy sorts.

    Each gram is encoded as (first code point << 21) | second code point (0 for a unigram) and paired
    with its text's number as one int64 (key * n + number); sorting and dropping repeats gives every
    gram's postings as a slice of one int32 array. Unigrams and bigrams are done one after the other
    to halve the peak memory. '|' and the text separator break bigrams.
    """
    n = len(texts)
    if n == 0:
        return {}
    joined = "\x00".join(texts) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.int32)
    del joined
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=n)
    owner = np.repeat(np.arange(n, dtype=np.int32), lengths)
    keep = (codes != 0) & (codes != ord(HEADING_JOIN))
    postings: dict[str, np.ndarray] = {}
    composite = codes[keep].astype(np.int64)
    composite <<= 21
    _add_postings(postings, composite, owner[keep], n)
    pair = keep[:-1] & keep[1:]
    del keep
    composite = codes[:-1][pair].astype(np.int64)
    composite <<= 21
    composite |= codes[1:][pair]
    _add_postings(postings, composite, owner[:-1][pair], n)
    return postings


def _add_postings(postings: dict[str, np.ndarray], composite: np.ndarray, owners: np.ndarray, n: int) -> None:
    """Sort (gram key, text number) pairs, drop repeats, and slice them into per-gram arrays."""
    if not len(composite):
        return
    composite *= n
    composite += owners
    del owners
    composite.sort()  # np.unique's hash path is several times slower on tens of millions of keys
    fresh = np.empty(len(composite), dtype=bool)
    fresh[:1] = True
    np.not_equal(composite[1:], composite[:-1], out=fresh[1:])
    composite = composite[fresh]
    del fresh
    numbers = (composite % n).astype(np.int32)
    composite //= n
    starts = np.flatnonzero(composite[1:] != composite[:-1]) + 1
    bounds = np.concatenate([[0], starts, [len(composite)]]).tolist()
    firsts = composite[bounds[:-1]].tolist()
    del composite
    for i, key in enumerate(firsts):
        second = key & 0x1FFFFF
        gram = chr(key >> 21) + (chr(second) if second else "")
        postings[gram] = numbers[bounds[i]:bounds[i + 1]]


def _gram_sets(bodies: list[str], heads: list[str]) -> tuple[dict[str, frozenset[int]], dict[str, frozenset[int]]]:
    """Gram -> clauses with it in the body, and gram -> clauses with it in the heading path."""
    in_bodies = {g: frozenset(p.tolist()) for g, p in build_postings(bodies).items()}
    owners: dict[str, list[int]] = {}
    for number, head in enumerate(heads):
        owners.setdefault(head, []).append(number)
    distinct = list(owners)
    in_heads = {g: frozenset(n for k in p.tolist() for n in owners[distinct[k]])
                for g, p in build_postings(distinct).items()}
    return in_bodies, in_heads


def term_grams(term: str) -> list[str]:
    """The grams a query term is looked up by: its bigrams, or itself when it is one character."""
    if len(term) <= 1:
        return [term] if term else []
    return [term[i:i + 2] for i in range(len(term) - 1)]


class ClauseIndex:
    """Immutable after construction, so any number of threads may read it."""

    def __init__(self, clauses: Sequence[Clause]) -> None:
        self.clauses = list(clauses)
        self.bodies = [index_text(c.text) for c in self.clauses]
        head_cache: dict[tuple[str, ...], str] = {}
        self.heads = []
        for c in self.clauses:
            head = head_cache.get(c.headings)
            if head is None:
                head = head_cache[c.headings] = HEADING_JOIN.join(index_text(h) for h in c.headings)
            self.heads.append(head)
        self.size = len(self.clauses)
        self._postings = build_postings([f"{b}{HEADING_JOIN}{h}" for b, h in zip(self.bodies, self.heads, strict=True)])
        self._empty = np.zeros(0, dtype=np.int32)
        self.small = self.size <= SMALL_INDEX
        self._in_bodies: dict[str, frozenset[int]] = {}
        self._in_heads: dict[str, frozenset[int]] = {}
        if self.small:
            self._in_bodies, self._in_heads = _gram_sets(self.bodies, self.heads)

    def postings(self, gram: str) -> np.ndarray:
        return self._postings.get(gram, self._empty)

    def bigrams(self) -> list[str]:
        """Every two-character gram of the corpus (bodies and heading paths)."""
        return [g for g in self._postings if len(g) == 2]

    def df(self, term: str) -> int:
        """Clauses that can contain `term`: exact for one or two characters, an upper bound beyond."""
        found = [len(self.postings(g)) for g in term_grams(term)]
        return min(found) if found else 0

    def idf(self, df: float) -> float:
        """BM25-style inverse document frequency, always positive."""
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def candidates(self, weighted_grams: Sequence[tuple[str, float]], limit: int) -> np.ndarray:
        """Clause numbers with the highest summed gram weight, best first (at most `limit`)."""
        if not self.size or not weighted_grams:
            return self._empty
        scores = np.zeros(self.size, dtype=np.float32)
        for gram, weight in weighted_grams:
            postings = self.postings(gram)
            if len(postings):
                scores[postings] += weight
        nonzero = int(np.count_nonzero(scores))
        if nonzero == 0:
            return self._empty
        k = min(limit, nonzero)
        if k < self.size:
            top = np.argpartition(-scores, k - 1)[:k]
        else:
            top = np.arange(self.size)
        return top[np.argsort(-scores[top], kind="stable")]

    def clauses_with(self, grams: Sequence[str]) -> set[int]:
        """Clauses containing any of the grams (as candidates() would find them; small indexes only)."""
        out: set[int] = set()
        for gram in grams:
            out |= self._in_bodies.get(gram, _NOTHING)
            out |= self._in_heads.get(gram, _NOTHING)
        return out

    def containing(self, piece: str) -> tuple[frozenset[int], frozenset[int]]:
        """(clauses whose body contains `piece`, clauses whose heading path does); exact substring
        semantics, from the gram sets (small indexes only)."""
        if not piece or HEADING_JOIN in piece or "\x00" in piece:  # never a gram: look at every clause
            return (frozenset(n for n, body in enumerate(self.bodies) if piece in body),
                    frozenset(n for n, head in enumerate(self.heads) if piece in head))
        if len(piece) <= 2:
            return self._in_bodies.get(piece, _NOTHING), self._in_heads.get(piece, _NOTHING)
        grams = term_grams(piece)
        return (self._verified(grams, self._in_bodies, self.bodies, piece),
                self._verified(grams, self._in_heads, self.heads, piece))

    @staticmethod
    def _verified(grams: list[str], sets: dict[str, frozenset[int]], texts: list[str], piece: str) -> frozenset[int]:
        """Clauses whose text has every bigram of `piece` and, checked, the piece itself."""
        found = sets.get(grams[0], _NOTHING)
        for gram in grams[1:]:
            if not found:
                return _NOTHING
            found = found & sets.get(gram, _NOTHING)
        return frozenset(n for n in found if piece in texts[n])

    def memory_bytes(self) -> int:
        """Bytes held by the postings arrays (not counting the clause strings)."""
        return sum(p.nbytes for p in self._postings.values())
