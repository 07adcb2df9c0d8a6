"""The ranker as it was before it was made fast (scoring every candidate and every pool clause in full),
kept as the definition the fast one must reproduce exactly. Shares only the constants and term_weight."""

from __future__ import annotations

from rapidfuzz import fuzz

from knowledge import ranker as fast
from knowledge.index import ClauseIndex, term_grams
from knowledge.query import CONTENT, QueryPlan, Term


def _bigram_share(word: str, text: str) -> float:
    grams = term_grams(word)
    return sum(g in text for g in grams) / len(grams) if grams else 0.0


def reference_term_match(term: Term, body: str, head: str) -> float:
    best = 0.0
    for form, factor in term.forms:
        if form in body:
            return factor if factor >= 1.0 else max(best, factor)
        if form in head:
            best = max(best, factor * fast.HEADING_MATCH)
        elif factor >= 1.0 and len(form) >= 3 and best < fast.PARTIAL_MATCH:
            share = _bigram_share(form, body)
            if share >= 0.5:
                best = max(best, fast.PARTIAL_MATCH * share)
            else:
                share = _bigram_share(form, head)
                if share >= 0.5:
                    best = max(best, fast.PARTIAL_MATCH * share * fast.HEADING_MATCH)
    return best


def _share(pairs: list[tuple[str, float]], body: str, head: str) -> float:
    return sum(w if g in body else (w * fast.HEADING_MATCH if g in head else 0.0) for g, w in pairs)


def _phrase_bigrams(index: ClauseIndex, plan: QueryPlan) -> list[tuple[str, float]]:
    text, asked = plan.phrase, plan.question_chars
    rare = index.idf(1)
    weights: dict[str, float] = {}
    for i in range(len(text) - 1):
        gram = text[i:i + 2]
        factor = (0.5 if i in asked else 1.0) * (0.5 if i + 1 in asked else 1.0)
        weight = min(index.idf(len(index.postings(gram))), rare) * factor
        weights[gram] = max(weights.get(gram, 0.0), weight)
    return list(weights.items())


def reference_rank(index: ClauseIndex, plan: QueryPlan, limit: int, candidates: int = fast.CANDIDATES,
                   pool: int = fast.FUZZY_POOL) -> list[tuple[int, float, float, float, float]]:
    """(number, score, coverage, bigrams, fuzzy) of the `limit` best clauses, best first."""
    if not plan.content_terms or not index.size:
        return []
    weights = [fast.term_weight(t, index) for t in plan.terms]
    total = sum(weights)
    if total <= 0:
        return []
    lookups: list[tuple[str, float]] = []
    for term, weight in zip(plan.terms, weights, strict=True):
        for form, factor in term.forms:
            grams = term_grams(form)
            lookups.extend((g, weight * factor / len(grams)) for g in grams)
    numbers = index.candidates(lookups, candidates)
    content = [(t, w) for t, w in zip(plan.terms, weights, strict=True) if t.kind == CONTENT]
    content_total = sum(w for _, w in content)
    quoted = [(p, index.idf(df)) for p in plan.asked_phrases if (df := index.df(p)) > 0]
    quoted_total = sum(w for _, w in quoted)
    specificity = min(1.0, (content_total + sum(w for p, w in quoted if len(p) >= 3))
                      / (fast.SPECIFIC_ENOUGH * index.idf(1)))
    covered: list[tuple[float, int]] = []
    for number in numbers.tolist():
        body, head = index.bodies[number], index.heads[number]
        got = sum(w * reference_term_match(t, body, head) for t, w in zip(plan.terms, weights, strict=True))
        covered.append((got / total, number))
    covered.sort(key=lambda x: (-x[0], x[1]))
    pairs = _phrase_bigrams(index, plan)
    pair_total = sum(w for _, w in pairs)
    scored = []
    for coverage, number in covered[:pool]:
        clause = index.clauses[number]
        body, head = index.bodies[number], index.heads[number]
        fuzzy = fuzz.partial_ratio(plan.content, body) / 100 if len(plan.content) > 1 else 0.0
        bigrams = _share(pairs, body, head) / pair_total if pair_total else 0.0
        context = sum(w for t, w in content if any(f in head for f, _ in t.forms)) / content_total
        quote = sum(w for p, w in quoted if p in body) / quoted_total if quoted_total else 0.0
        score = min(1.0, fast.COVERAGE_WEIGHT * coverage + fast.BIGRAM_WEIGHT * bigrams
                    + fast.FUZZY_WEIGHT * fuzzy + fast.CONTEXT_WEIGHT * context
                    + fast.QUOTED_WEIGHT * quote) * specificity
        if clause.is_heading and clause.has_children:
            score *= fast.PARENT_HEADING_FACTOR
        scored.append((number, round(score, 4), round(coverage, 4), round(bigrams, 4), round(fuzzy, 4)))
    scored.sort(key=lambda s: (-s[1], s[0]))
    return scored[:limit]
