"""Score candidate clauses for a question: weighted term coverage, phrase evidence, rapidfuzz.

score = 0.57 coverage + 0.20 phrase bigrams + 0.18 fuzzy + 0.05 section context + 0.10 quoted phrase,
capped at 1, times a specificity factor, where
- coverage = sum(weight * match) / sum(weight) over the question's terms; weight is the term's idf
  (question words only through their equivalents and at a quarter, single characters at half, words
  the corpus never uses in full, which is what sinks off-topic questions); match is 1 for the term in
  the clause, 0.9 for a synonym, 0.7 for a hit only in the heading path, and partial credit for most
  of a long word's bigrams (typos);
- phrase bigrams = idf-weighted share of the question's own bigrams found in the clause (word order,
  tokenisation slips), question-word bigrams discounted;
- fuzzy = rapidfuzz partial_ratio of the question's content words against the clause;
- specificity < 1 only for questions whose words are all very common ("工作"), which are too vague
  for any one clause to be a confident answer.
Scores fall in [0, 1]; the retriever's threshold (0.5) decides what is an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from knowledge.index import ClauseIndex, term_grams
from knowledge.query import CONTENT, QueryPlan, Term

COVERAGE_WEIGHT = 0.57
BIGRAM_WEIGHT = 0.2
FUZZY_WEIGHT = 0.18
QUOTED_WEIGHT = 0.1  # the plan says the asked phrase itself ("谁来干"): added on top, score capped at 1
CONTEXT_WEIGHT = 0.05  # content words also in the heading path: the clause sits in the asked-about section
SPECIFIC_ENOUGH = 0.5  # content weight, as a share of one rare word's, below which a question is too vague
QUESTION_WORD_FACTOR = 0.25
SINGLE_CHAR_FACTOR = 0.5
UNKNOWN_FACTOR = 1.0
HEADING_MATCH = 0.7
PARTIAL_MATCH = 0.8
PARENT_HEADING_FACTOR = 0.95  # a bare heading loses ties against the items under it
CANDIDATES = 200
FUZZY_POOL = 40


@dataclass(frozen=True)
class Scored:
    number: int  # clause number in the index
    score: float
    coverage: float
    bigrams: float
    fuzzy: float


def term_weight(term: Term, index: ClauseIndex) -> float:
    """How much finding this term says about a clause."""
    df = index.df(term.text) if term.kind == CONTENT else 0
    if df == 0:
        df = max((index.df(alt) for alt, _ in term.alternatives), default=0)
    weight = index.idf(df) * (UNKNOWN_FACTOR if df == 0 else 1.0)
    if term.kind != CONTENT:
        weight *= QUESTION_WORD_FACTOR
    elif len(term.text) == 1:
        weight *= SINGLE_CHAR_FACTOR
    return weight


def _bigram_share(word: str, text: str) -> float:
    grams = term_grams(word)
    return sum(g in text for g in grams) / len(grams) if grams else 0.0


def term_match(term: Term, body: str, head: str) -> float:
    """How well one clause (body text, heading path) contains the term, in [0, 1]."""
    best = 0.0
    for form, factor in term.forms:
        if form in body:
            return factor if factor >= 1.0 else max(best, factor)
        if form in head:
            best = max(best, factor * HEADING_MATCH)
        elif factor >= 1.0 and len(form) >= 3 and best < PARTIAL_MATCH:
            share = _bigram_share(form, body)
            if share >= 0.5:
                best = max(best, PARTIAL_MATCH * share)
            else:
                share = _bigram_share(form, head)
                if share >= 0.5:
                    best = max(best, PARTIAL_MATCH * share * HEADING_MATCH)
    return best


def _share(pairs: list[tuple[str, float]], body: str, head: str) -> float:
    """Weight of the question's bigrams found in the clause (in its heading path at HEADING_MATCH)."""
    return sum(w if g in body else (w * HEADING_MATCH if g in head else 0.0) for g, w in pairs)


class Ranker:
    """Stateless scoring over one ClauseIndex; safe to share between threads."""

    def __init__(self, index: ClauseIndex) -> None:
        self.index = index
        self._rare_idf = index.idf(1)

    def _phrase_bigrams(self, plan: QueryPlan) -> list[tuple[str, float]]:
        """Distinct bigrams of the question's words in order, weighted by idf (unseen ones as if rare);
        a bigram inside a question word counts a quarter, one straddling a question word half, so
        a plan's own "谁来干" still counts but "怎么" alone never decides."""
        text, asked = plan.phrase, plan.question_chars
        weights: dict[str, float] = {}
        for i in range(len(text) - 1):
            gram = text[i:i + 2]
            factor = (0.5 if i in asked else 1.0) * (0.5 if i + 1 in asked else 1.0)
            weight = min(self.index.idf(len(self.index.postings(gram))), self._rare_idf) * factor
            weights[gram] = max(weights.get(gram, 0.0), weight)
        return list(weights.items())

    def rank(self, plan: QueryPlan, limit: int = 10) -> list[Scored]:
        """The best `limit` clauses, best first: candidates from the index, coverage on CANDIDATES of
        them, the full score on the FUZZY_POOL best by coverage."""
        if not plan.content_terms or not self.index.size:
            return []
        weights = [term_weight(t, self.index) for t in plan.terms]
        total = sum(weights)
        if total <= 0:
            return []
        lookups: list[tuple[str, float]] = []
        for term, weight in zip(plan.terms, weights, strict=True):
            for form, factor in term.forms:
                grams = term_grams(form)
                lookups.extend((g, weight * factor / len(grams)) for g in grams)
        numbers = self.index.candidates(lookups, CANDIDATES)
        content = [(t, w) for t, w in zip(plan.terms, weights, strict=True) if t.kind == CONTENT]
        content_total = sum(w for _, w in content)
        # A question word quoted with its neighbours ("谁来干", "怎么看") where the plan itself says so.
        quoted = [(p, self.index.idf(df)) for p in plan.asked_phrases if (df := self.index.df(p)) > 0]
        quoted_total = sum(w for _, w in quoted)
        # "工作" or "统战" alone match half the plan: no single clause can be a confident answer
        # (a quoted phrase such as "干得好" is specific, though its words alone are not).
        specificity = min(1.0, (content_total + sum(w for p, w in quoted if len(p) >= 3))
                          / (SPECIFIC_ENOUGH * self._rare_idf))
        covered: list[tuple[float, int]] = []
        for number in numbers.tolist():
            body, head = self.index.bodies[number], self.index.heads[number]
            got = sum(w * term_match(t, body, head) for t, w in zip(plan.terms, weights, strict=True))
            covered.append((got / total, number))
        covered.sort(key=lambda x: (-x[0], x[1]))
        pairs = self._phrase_bigrams(plan)
        pair_total = sum(w for _, w in pairs)
        scored: list[Scored] = []
        for coverage, number in covered[:FUZZY_POOL]:
            clause = self.index.clauses[number]
            body, head = self.index.bodies[number], self.index.heads[number]
            fuzzy = fuzz.partial_ratio(plan.content, body) / 100 if len(plan.content) > 1 else 0.0
            bigrams = _share(pairs, body, head) / pair_total if pair_total else 0.0
            context = sum(w for t, w in content if any(f in head for f, _ in t.forms)) / content_total
            quote = sum(w for p, w in quoted if p in body) / quoted_total if quoted_total else 0.0
            score = min(1.0, COVERAGE_WEIGHT * coverage + BIGRAM_WEIGHT * bigrams + FUZZY_WEIGHT * fuzzy
                        + CONTEXT_WEIGHT * context + QUOTED_WEIGHT * quote) * specificity
            if clause.is_heading and clause.has_children:
                score *= PARENT_HEADING_FACTOR
            scored.append(Scored(number, round(score, 4), round(coverage, 4), round(bigrams, 4), round(fuzzy, 4)))
        scored.sort(key=lambda s: (-s.score, s.number))
        return scored[:limit]
