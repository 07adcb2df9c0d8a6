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

The scores are computed exactly as defined above (tests/helpers_ranker.py keeps the plain version the
tests compare against), but with far less work per question: a term's matches come from piece
lookups (knowledge.matching) and are remembered per index, and only the pool clauses that could still
reach the result get the costly fuzzy comparison (see Ranker.rank).
"""

from __future__ import annotations

from bisect import insort
from collections import Counter
from collections.abc import Collection
from typing import NamedTuple

from rapidfuzz import fuzz

from knowledge.index import HEADING_JOIN, ClauseIndex, term_grams
from knowledge.matching import (
    HEADING_MATCH,
    PARTIAL_MATCH,
    Form,
    IndexedPieces,
    ScannedPieces,
    fuzzy_most,
    prepare,
    term_match,
    term_matches,
)
from knowledge.query import CONTENT, QueryPlan, Term

__all__ = ["HEADING_MATCH", "PARTIAL_MATCH", "Ranker", "Scored", "term_match", "term_weight"]

COVERAGE_WEIGHT = 0.57
BIGRAM_WEIGHT = 0.2
FUZZY_WEIGHT = 0.18
QUOTED_WEIGHT = 0.1  # the plan says the asked phrase itself ("谁来干"): added on top, score capped at 1
CONTEXT_WEIGHT = 0.05  # content words also in the heading path: the clause sits in the asked-about section
SPECIFIC_ENOUGH = 0.5  # content weight, as a share of one rare word's, below which a question is too vague
QUESTION_WORD_FACTOR = 0.25
SINGLE_CHAR_FACTOR = 0.5
UNKNOWN_FACTOR = 1.0
PARENT_HEADING_FACTOR = 0.95  # a bare heading loses ties against the items under it
CANDIDATES = 200
FUZZY_POOL = 40
TERM_MEMO = 4096  # terms whose corpus statistics and matches a Ranker remembers (cleared when full)
_MARGIN = 1e-4  # more than rounding a score to 4 places can add: a bound this far below the bar is safe


class Scored(NamedTuple):
    """One ranked clause (a named tuple: immutable, and made several times faster than a frozen dataclass)."""

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


class _TermData(NamedTuple):
    """What one term means against one index; the same in every question that uses the term."""

    weight: float
    forms: tuple[Form, ...]
    lookups: tuple[tuple[str, float], ...]  # (gram, share of the weight) for the index's candidate search
    reach: frozenset[int]  # clauses with any of the term's grams (an index within CANDIDATES only, else empty)
    matches: tuple[tuple[int, float], ...] | None  # (clause, weight * term_match) above 0, where known
    heads: frozenset[int] | None  # clauses whose heading path has one of the forms, where known


class Ranker:
    """Scoring over one ClauseIndex; safe to share between threads.

    The only state is memos of per-term data (weight, forms, and on an index within CANDIDATES the
    term's matches against every clause) and of bigram and asked-phrase rarity, which depend on
    nothing but their key and the immutable index, so that work is done once per index rather than
    once per question. A memo that fills up is cleared (dictionary operations stay thread-safe).
    """

    def __init__(self, index: ClauseIndex) -> None:
        self.index = index
        self._rare_idf = index.idf(1)
        self._parents = frozenset(i for i, c in enumerate(index.clauses) if c.is_heading and c.has_children)
        self._whole = index.small and index.size <= CANDIDATES  # every clause with a question gram is a candidate
        self._terms: dict[Term, _TermData] = {}
        self._rarity: dict[str, float] = {}  # bigram -> its idf, capped at a rare word's
        self._quotable: dict[str, float] = {}  # asked phrase -> its idf, 0 when no clause can have it

    @staticmethod
    def _remember(memo: dict[str, float], key: str, value: float) -> float:
        """Store `value` under `key` (clearing a full memo first) and return it."""
        if len(memo) >= TERM_MEMO * 8:
            memo.clear()
        memo[key] = value
        return value

    def _term(self, term: Term) -> _TermData:
        """The term's data, from the memo or described now."""
        data = self._terms.get(term)
        if data is None:
            data = self._describe(term)
            if len(self._terms) >= TERM_MEMO:
                self._terms.clear()  # simple and thread-safe: a busy office re-learns its few hundred words
            self._terms[term] = data
        return data

    def _describe(self, term: Term) -> _TermData:
        """Weight, prepared forms, candidate-search grams and, on an index within CANDIDATES, where the
        term reaches and its weighted match on every clause (unless a form depends on the question)."""
        index = self.index
        weight = term_weight(term, index)
        forms = prepare(term)
        lookups: list[tuple[str, float]] = []
        for form, factor, _, _ in forms:
            grams = term_grams(form)
            lookups.extend((g, weight * factor / len(grams)) for g in grams)
        if not self._whole:
            return _TermData(weight, forms, tuple(lookups), frozenset(), None, None)
        reach = frozenset(index.clauses_with([g for g, _ in lookups]))
        if not all(form and HEADING_JOIN not in form for form, _, _, _ in forms):
            return _TermData(weight, forms, tuple(lookups), reach, None, None)  # such forms depend on the question
        pieces = IndexedPieces(index, set(), everything=True)  # clean forms: never narrowed
        found = term_matches(forms, pieces)
        matches = tuple((n, weight * match) for n, match in found.items() if match)
        heads: frozenset[int] = frozenset().union(*[pieces.where(form)[1] for form, _, _, _ in forms])
        return _TermData(weight, forms, tuple(lookups), reach, matches, heads)

    def _phrase_bigrams(self, plan: QueryPlan) -> list[tuple[str, float]]:
        """Distinct bigrams of the question's words in order, weighted by idf (unseen ones as if rare);
        a bigram inside a question word counts a quarter, one straddling a question word half, so
        a plan's own "谁来干" still counts but "怎么" alone never decides."""
        text, asked = plan.phrase, plan.question_chars
        weights: dict[str, float] = {}
        for i in range(len(text) - 1):
            gram = text[i:i + 2]
            factor = (0.5 if i in asked else 1.0) * (0.5 if i + 1 in asked else 1.0)
            rarity = self._rarity.get(gram)
            if rarity is None:
                rarity = self._remember(self._rarity, gram, min(self.index.idf(len(self.index.postings(gram))),
                                                                 self._rare_idf))
            weight = rarity * factor
            weights[gram] = max(weights.get(gram, 0.0), weight)
        return list(weights.items())

    def rank(self, plan: QueryPlan, limit: int = 10, floor: float = 0.0) -> list[Scored]:
        """The best `limit` clauses, best first: candidates from the index, coverage on CANDIDATES of
        them, the full score on the FUZZY_POOL best by coverage. Runners-up (all but the first) that
        score below `floor` are left out (the retriever shows none of them), which saves work.

        Exactly the scores of scoring every clause of the pool, found with less work: each piece of the
        question is looked up once (knowledge.matching), a term is scored only where one of its pieces
        occurs (and its matches are remembered per index), and the pool's cheap score parts are summed
        first, so the costly fuzzy comparison runs best bound first and stops once not even a perfect
        fuzzy score (or the best its characters allow) could bring a clause into the result.
        """
        index = self.index
        if not plan.content_terms or not index.size or limit <= 0:
            return []
        terms = plan.terms
        data = [self._term(t) for t in terms]
        total = sum([d.weight for d in data])
        if total <= 0:
            return []
        pieces: IndexedPieces | ScannedPieces
        if self._whole:
            # Every clause with one of the grams is a candidate (all weights are positive): no scores needed.
            candidates: set[int] = set().union(*[d.reach for d in data])
            pieces = IndexedPieces(index, candidates, everything=True)
        else:
            numbers: list[int] = index.candidates([x for d in data for x in d.lookups], CANDIDATES).tolist()
            candidates = set(numbers)
            pieces = IndexedPieces(index, candidates) if index.small else ScannedPieces(index, numbers)
        found: dict[int, list[float]] = {}  # clause -> its terms' nonzero weighted matches, in term order
        for d in data:
            matches = d.matches
            if matches is None:
                matches = [(n, d.weight * match) for n, match in term_matches(d.forms, pieces).items() if match]
            for number, weighted in matches:
                found.setdefault(number, []).append(weighted)
        # Zero matches are left out of the sums (adding 0.0 never changes a float sum); clauses with
        # none have coverage 0 and come last, by number.
        covered = sorted((-(sum(matches) / total), number) for number, matches in found.items())
        if len(covered) < FUZZY_POOL:
            covered += [(-0.0, n) for n in sorted(candidates.difference(found))[:FUZZY_POOL - len(covered)]]
        return self._score(plan, list(zip(terms, data, strict=True)), covered[:FUZZY_POOL], pieces, limit, floor)

    def _score(self, plan: QueryPlan, terms: list[tuple[Term, _TermData]], pool: list[tuple[float, int]],
               pieces: IndexedPieces | ScannedPieces, limit: int, floor: float) -> list[Scored]:
        """The full score of the pool ((negated coverage, clause number), best coverage first), `limit` best."""
        index = self.index
        content = [(t, d) for t, d in terms if t.kind == CONTENT]
        content_total = sum(d.weight for _, d in content)
        # A clause sits in the asked-about section when a content word (or equivalent) is in its heading path.
        sections: list[tuple[Collection[int], float]] = []
        for term, d in content:
            heads = d.heads
            if heads is None:
                heads = set().union(*[pieces.where(form)[1] for form, _ in term.forms])
            if heads:
                sections.append((heads, d.weight))
        # A question word quoted with its neighbours ("谁来干", "怎么看") where the plan itself says so.
        quoted: list[tuple[str, float]] = []
        for phrase in plan.asked_phrases:
            weight = self._quotable.get(phrase)
            if weight is None:
                df = index.df(phrase)
                weight = self._remember(self._quotable, phrase, index.idf(df) if df > 0 else 0.0)
            if weight:
                quoted.append((phrase, weight))
        quoted_total = sum(w for _, w in quoted)
        quotes = [(bodies, w) for p, w in quoted if (bodies := pieces.where(p)[0])]
        # "工作" or "统战" alone match half the plan: no single clause can be a confident answer
        # (a quoted phrase such as "干得好" is specific, though its words alone are not).
        specificity = min(1.0, (content_total + sum(w for p, w in quoted if len(p) >= 3))
                          / (SPECIFIC_ENOUGH * self._rare_idf))
        # The phrase bigrams each pool clause has, in question order (at HEADING_MATCH in the heading path only).
        pairs = self._phrase_bigrams(plan)
        pair_total = sum(w for _, w in pairs)
        numbers = {number for _, number in pool}
        shares: dict[int, list[float]] = {}
        for gram, weight in pairs:
            body, head = pieces.where(gram)
            if body:
                for number in numbers.intersection(body):
                    shares.setdefault(number, []).append(weight)
            if head:
                in_head = weight * HEADING_MATCH
                for number in numbers.intersection(head).difference(body):
                    shares.setdefault(number, []).append(in_head)
        asked = plan.content
        fuzzy_at_most = 1.0 if len(asked) > 1 else 0.0
        # Everything but the fuzzy part, and the most the clause could score with a perfect one. Zero
        # parts are left out of the sums (adding 0.0 never changes a float sum).
        rows: list[tuple[float, int, float, float, float, float, float]] = []
        for negated, number in pool:
            coverage = -negated
            found = shares.get(number)
            bigrams = sum(found) / pair_total if found else 0.0
            context = sum([w for heads, w in sections if number in heads]) / content_total if sections else 0.0
            quote = sum([w for bodies, w in quotes if number in bodies]) / quoted_total if quotes else 0.0
            factor = PARENT_HEADING_FACTOR if number in self._parents else 1.0
            most = (COVERAGE_WEIGHT * coverage + BIGRAM_WEIGHT * bigrams + FUZZY_WEIGHT * fuzzy_at_most
                    + CONTEXT_WEIGHT * context + QUOTED_WEIGHT * quote)
            rows.append((-(most if most < 1.0 else 1.0) * specificity * factor, number, coverage, bigrams, context,
                         quote, factor))
        rows.sort()
        asked_counts = tuple(Counter(asked).items())
        best: list[tuple[float, int, float, float, float]] = []  # (-rounded score, number, coverage, bigrams, fuzzy)
        # A clause must be able to reach the bar to change the result: the limit-th best rounded score
        # so far, or, below the floor, the best (only a new first place is shown there).
        bar = -1.0
        for negated_most, number, coverage, bigrams, context, quote, factor in rows:
            if bar >= 0 and -negated_most + _MARGIN < bar:
                break  # best bound first: no later clause can reach the bar either
            body = index.bodies[number]
            if bar >= 0 and fuzzy_at_most and min(
                    1.0, COVERAGE_WEIGHT * coverage + BIGRAM_WEIGHT * bigrams
                    + FUZZY_WEIGHT * fuzzy_most(asked_counts, len(asked), body)
                    + CONTEXT_WEIGHT * context + QUOTED_WEIGHT * quote) * specificity * factor + _MARGIN < bar:
                continue  # not even the best fuzzy score its characters allow would do: skip the comparison
            fuzzy = fuzz.partial_ratio(asked, body) / 100 if fuzzy_at_most else 0.0
            score = min(1.0, COVERAGE_WEIGHT * coverage + BIGRAM_WEIGHT * bigrams + FUZZY_WEIGHT * fuzzy
                        + CONTEXT_WEIGHT * context + QUOTED_WEIGHT * quote) * specificity
            if factor != 1.0:
                score *= factor
            insort(best, (-round(score, 4), number, coverage, bigrams, fuzzy))
            if len(best) > limit:
                best.pop()
            if len(best) == limit:
                bar = -best[-1][0]
            if floor > 0:
                bar = max(bar, min(floor, -best[0][0]))
        return [Scored(number, -negated, round(coverage, 4), round(bigrams, 4), round(fuzzy, 4))
                for rank, (negated, number, coverage, bigrams, fuzzy) in enumerate(best)
                if rank == 0 or -negated >= floor]
