"""Character n-gram inverted index over clauses: candidate generation and document frequencies.

Every clause's index text (its own words plus its heading path) is cut into character unigrams and
bigrams; each gram maps to a sorted numpy array of clause numbers. Bigrams need no word segmentation,
so a question matches whatever way the plan happened to split words, and a typo breaks only one or two
grams. Candidates are the clauses with the highest summed weight of matching grams; only those are
scored exactly, which keeps a question at a few milliseconds at 100,000 clauses.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence

import numpy as np

from knowledge.normalize import index_text
from knowledge.segment import Clause

HEADING_JOIN = "|"  # never inside index text, so no term matches across two headings


def grams(text: str) -> set[str]:
    """Unigrams and bigrams of an index-form string (a '|' breaks bigrams)."""
    out = set(text)
    out.discard(HEADING_JOIN)
    out.update(text[i:i + 2] for i in range(len(text) - 1) if HEADING_JOIN not in text[i:i + 2])
    return out


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
        self.heads = [HEADING_JOIN.join(index_text(h) for h in c.headings) for c in self.clauses]
        self.size = len(self.clauses)
        building: dict[str, array] = {}
        for number, (body, head) in enumerate(zip(self.bodies, self.heads, strict=True)):
            for gram in grams(body) | grams(head):
                postings = building.get(gram)
                if postings is None:
                    postings = building[gram] = array("i")
                postings.append(number)
        self._postings = {g: np.frombuffer(p, dtype=np.int32) for g, p in building.items()}
        self._empty = np.zeros(0, dtype=np.int32)

    def postings(self, gram: str) -> np.ndarray:
        return self._postings.get(gram, self._empty)

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

    def memory_bytes(self) -> int:
        """Bytes held by the postings arrays (not counting the clause strings)."""
        return sum(p.nbytes for p in self._postings.values())
