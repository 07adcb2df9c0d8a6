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

from bisect import insort
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
_MARGIN = 1e-4  # more than rounding a score to 4 places can add: a bound this far below the bar is safe


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


_Form = tuple[str, float, float, "tuple[str, ...] | None"]  # form, factor, factor in the heading, partial grams
_SEPARATOR = "\x00"  # never in index text: joins the candidates' texts for one quick "is it anywhere" test


def _prepare(term: Term) -> tuple[_Form, ...]:
    """A term's forms with what term_match needs precomputed: the heading factor, and the bigrams of a
    form that earns partial credit (the word itself, three characters or more)."""
    return tuple((form, factor, factor * HEADING_MATCH,
                  tuple(term_grams(form)) if factor >= 1.0 and len(form) >= 3 else None)
                 for form, factor in term.forms)


def _gram_share(grams: tuple[str, ...], text: str) -> float:
    found = 0
    for gram in grams:
        if gram in text:
            found += 1
    return found / len(grams)


def _match(forms: tuple[_Form, ...], body: str, head: str) -> float:
    """term_match over prepared forms."""
    best = 0.0
    for form, factor, in_head, grams in forms:
        if form in body:
            return factor if factor >= 1.0 else max(best, factor)
        if form in head:
            best = max(best, in_head)
        elif grams is not None and best < PARTIAL_MATCH:
            share = _gram_share(grams, body)
            if share >= 0.5:
                best = max(best, PARTIAL_MATCH * share)
            else:
                share = _gram_share(grams, head)
                if share >= 0.5:
                    best = max(best, PARTIAL_MATCH * share * HEADING_MATCH)
    return best


def term_match(term: Term, body: str, head: str) -> float:
    """How well one clause (body text, heading path) contains the term, in [0, 1]."""
    return _match(_prepare(term), body, head)


class _CandidateTexts:
    """Which of one question's candidates contain a piece of text, in the body and in the heading path.

    Most pieces (synonyms above all) are in none of them: one substring test on all the texts joined
    rules that out at C speed, and only a piece that is somewhere is looked for clause by clause.
    Heading paths are shared by many clauses, so each distinct one is tested once. Answers are exact
    (substring tests, not n-gram postings) and remembered for the question.
    """

    def __init__(self, bodies: list[str], heads: list[str]) -> None:
        self._bodies = bodies
        groups: dict[str, list[int]] = {}
        for position, head in enumerate(heads):
            groups.setdefault(head, []).append(position)
        self._groups = groups
        self._body_text = _SEPARATOR.join(bodies)
        self._head_text = _SEPARATOR.join(groups)
        self._found: dict[str, tuple[set[int], set[int]]] = {}

    def where(self, piece: str) -> tuple[set[int], set[int]]:
        """(positions of the candidates whose body contains `piece`, those whose heading path does)."""
        found = self._found.get(piece)
        if found is None:
            # The joined texts contain every text whole, so "not in the joined text" is never wrong.
            body = {i for i, text in enumerate(self._bodies) if piece in text} if piece in self._body_text else set()
            head: set[int] = set()
            if piece in self._head_text:
                for text, positions in self._groups.items():
                    if piece in text:
                        head.update(positions)
            found = self._found[piece] = (body, head)
        return found

    def matches(self, forms: tuple[_Form, ...]) -> dict[int, float]:
        """term_match of one term against every candidate, as {position: match} for matches above 0.

        The same steps as _match, taken for all candidates at once through the sets of where():
        forms in order; a form in the body settles a candidate, one in the heading path raises its
        best, and a word (factor 1) in neither earns partial credit for most of its bigrams."""
        settled: dict[int, float] = {}
        best: dict[int, float] = {}
        for form, factor, in_head, grams in forms:
            body, head = self.where(form)
            for position in body:
                if position not in settled:
                    settled[position] = factor if factor >= 1.0 else max(best.get(position, 0.0), factor)
            for position in head:
                if position not in settled:
                    best[position] = max(best.get(position, 0.0), in_head)
            if grams is None:
                continue
            found = [self.where(g) for g in grams]
            spots: set[int] = set()
            for gram_body, gram_head in found:
                spots |= gram_body
                spots |= gram_head
            for position in spots:
                if position in settled or position in head:
                    continue
                so_far = best.get(position, 0.0)
                if so_far >= PARTIAL_MATCH:
                    continue
                share = sum([position in gram_body for gram_body, _ in found]) / len(grams)
                if share >= 0.5:
                    best[position] = max(so_far, PARTIAL_MATCH * share)
                else:
                    share = sum([position in gram_head for _, gram_head in found]) / len(grams)
                    if share >= 0.5:
                        best[position] = max(so_far, PARTIAL_MATCH * share * HEADING_MATCH)
        for position, value in best.items():
            if value and position not in settled:
                settled[position] = value
        return settled


class Ranker:
    """Stateless scoring over one ClauseIndex; safe to share between threads."""

    def __init__(self, index: ClauseIndex) -> None:
        self.index = index
        self._rare_idf = index.idf(1)
        self._parents = frozenset(i for i, c in enumerate(index.clauses) if c.is_heading and c.has_children)

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
        them, the full score on the FUZZY_POOL best by coverage.

        Exactly the scores of scoring every clause of the pool, found with less work: a term is matched
        only against the candidates that contain one of its pieces (a clause without any scores 0), and
        pool clauses are scored in coverage order, best first, stopping once not even perfect phrase,
        fuzzy, context and quote scores could lift the next one into the `limit` best (the costly fuzzy
        comparison is skipped the same way when only it could).
        """
        index = self.index
        if not plan.content_terms or not index.size or limit <= 0:
            return []
        terms = plan.terms
        weights = [term_weight(t, index) for t in terms]
        total = sum(weights)
        if total <= 0:
            return []
        prepared = [_prepare(t) for t in terms]
        lookups: list[tuple[str, float]] = []
        for forms, weight in zip(prepared, weights, strict=True):
            for form, factor, _, _ in forms:
                grams = term_grams(form)
                lookups.extend((g, weight * factor / len(grams)) for g in grams)
        numbers: list[int] = index.candidates(lookups, CANDIDATES).tolist()
        texts = _CandidateTexts([index.bodies[n] for n in numbers], [index.heads[n] for n in numbers])
        found: dict[int, list[float]] = {}  # candidate position -> its terms' nonzero weighted matches, in term order
        for forms, weight in zip(prepared, weights, strict=True):
            for position, match in texts.matches(forms).items():
                if match:
                    found.setdefault(position, []).append(weight * match)
        # Zero matches are left out of the sums: adding 0.0 never changes a float sum.
        covered = sorted((-(sum(found[i]) / total) if i in found else -0.0, number, i)
                         for i, number in enumerate(numbers))
        return self._score(plan, terms, weights, covered[:FUZZY_POOL], texts, limit)

    def _score(self, plan: QueryPlan, terms: tuple[Term, ...], weights: list[float],
               pool: list[tuple[float, int, int]], texts: _CandidateTexts, limit: int) -> list[Scored]:
        """The full score of the pool ((negated coverage, clause number, candidate position), best
        coverage first), `limit` best."""
        index = self.index
        content = [(t, w) for t, w in zip(terms, weights, strict=True) if t.kind == CONTENT]
        content_total = sum(w for _, w in content)
        # A clause sits in the asked-about section when a content word (or equivalent) is in its heading path.
        sections: list[tuple[set[int], float]] = []
        for term, weight in content:
            heads: set[int] = set()
            for form, _ in term.forms:
                heads |= texts.where(form)[1]
            sections.append((heads, weight))
        # A question word quoted with its neighbours ("谁来干", "怎么看") where the plan itself says so.
        quoted = [(p, index.idf(df)) for p in plan.asked_phrases if (df := index.df(p)) > 0]
        quoted_total = sum(w for _, w in quoted)
        quotes = [(texts.where(p)[0], w) for p, w in quoted]
        # "工作" or "统战" alone match half the plan: no single clause can be a confident answer
        # (a quoted phrase such as "干得好" is specific, though its words alone are not).
        specificity = min(1.0, (content_total + sum(w for p, w in quoted if len(p) >= 3))
                          / (SPECIFIC_ENOUGH * self._rare_idf))
        pairs = [(w, w * HEADING_MATCH, *texts.where(g)) for g, w in self._phrase_bigrams(plan)]
        pair_total = sum(w for w, _, _, _ in pairs)
        asked = plan.content
        fuzzy_most = 1.0 if len(asked) > 1 else 0.0
        # The most a clause of this coverage can score, with perfect phrase, fuzzy, context and quote parts.
        rest_most = (BIGRAM_WEIGHT * (1.0 if pair_total else 0.0) + FUZZY_WEIGHT * fuzzy_most + CONTEXT_WEIGHT
                     + QUOTED_WEIGHT * (1.0 if quoted_total else 0.0))
        best: list[tuple[float, int, float, float, float]] = []  # (-rounded score, number, coverage, bigrams, fuzzy)
        bar = -1.0  # the limit-th best rounded score so far; a clause must be able to reach it
        for negated, number, position in pool:
            coverage = -negated
            if bar >= 0 and min(1.0, COVERAGE_WEIGHT * coverage + rest_most) * specificity + _MARGIN < bar:
                break  # the pool is in coverage order: no later clause can reach the bar either
            # Zero parts are left out of the sums (adding 0.0 never changes a float sum).
            share = sum([w if position in body else in_head for w, in_head, body, head in pairs
                         if position in body or position in head])
            bigrams = share / pair_total if pair_total else 0.0
            context = sum([w for heads, w in sections if position in heads]) / content_total
            quote = sum([w for bodies, w in quotes if position in bodies]) / quoted_total if quoted_total else 0.0
            factor = PARENT_HEADING_FACTOR if number in self._parents else 1.0
            if bar >= 0 and fuzzy_most and min(
                    1.0, COVERAGE_WEIGHT * coverage + BIGRAM_WEIGHT * bigrams + FUZZY_WEIGHT * fuzzy_most
                    + CONTEXT_WEIGHT * context + QUOTED_WEIGHT * quote) * specificity * factor + _MARGIN < bar:
                continue  # not even a perfect fuzzy score would do: skip the costly comparison
            fuzzy = fuzz.partial_ratio(asked, index.bodies[number]) / 100 if len(asked) > 1 else 0.0
            score = min(1.0, COVERAGE_WEIGHT * coverage + BIGRAM_WEIGHT * bigrams + FUZZY_WEIGHT * fuzzy
                        + CONTEXT_WEIGHT * context + QUOTED_WEIGHT * quote) * specificity
            if factor != 1.0:
                score *= factor
            insort(best, (-round(score, 4), number, coverage, bigrams, fuzzy))
            if len(best) > limit:
                best.pop()
            if len(best) == limit:
                bar = -best[-1][0]
        return [Scored(number, -negated, round(coverage, 4), round(bigrams, 4), round(fuzzy, 4))
                for negated, number, coverage, bigrams, fuzzy in best]
