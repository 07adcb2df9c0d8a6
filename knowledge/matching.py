"""Where a question's pieces occur among its candidate clauses, and how well each term matches each one.

The ranker needs, for a few dozen pieces of text (a term's forms, their bigrams, the question's phrase
bigrams, quoted phrases), which candidates contain each in the body and which in the heading path.
Two exact ways to answer, both memoised per question:
- IndexedPieces: a small index (knowledge.index.SMALL_INDEX) keeps gram -> clause sets, so a piece is
  a set lookup (a longer piece: an intersection of its bigrams' sets, then checked);
- ScannedPieces: otherwise a substring test per candidate (at most CANDIDATES of them), after one test
  on all their texts joined, which rules out the many pieces that occur in none.
term_matches() then scores one term against every candidate at once from those sets, with exactly
the steps (and floating-point operations) of term_match() on one clause.
"""

from __future__ import annotations

from collections.abc import Collection

from knowledge.index import HEADING_JOIN, ClauseIndex, term_grams
from knowledge.query import Term

HEADING_MATCH = 0.7
PARTIAL_MATCH = 0.8

Form = tuple[str, float, float, "tuple[str, ...] | None"]  # form, factor, factor in the heading, partial grams
Places = tuple[Collection[int], Collection[int]]  # clause numbers with a piece in the body, in the heading path
_SEPARATOR = "\x00"  # never in index text: joins the candidates' texts for one quick "is it anywhere" test


def prepare(term: Term) -> tuple[Form, ...]:
    """A term's forms with what matching needs precomputed: the heading factor, and the bigrams of a
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


def term_match(term: Term, body: str, head: str) -> float:
    """How well one clause (body text, heading path) contains the term, in [0, 1]: 1 for the word in
    the body, its factor for an equivalent, HEADING_MATCH times that in the heading path only, and
    PARTIAL_MATCH times the share of a long word's bigrams when at least half are there (typos)."""
    best = 0.0
    for form, factor, in_head, grams in prepare(term):
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


class IndexedPieces:
    """Places of pieces among the candidates, from a small index's gram sets.

    `everything` says the candidates are all the clauses with any of the question's grams (an index of
    at most CANDIDATES clauses). Then no lookup needs narrowing down to them: a term's forms and their
    bigrams are made of those grams, so they are only ever found in candidates, and other pieces
    (phrase bigrams, quoted phrases) are only asked about pool clauses. Only a piece the gram sets
    cannot answer (empty, or with a heading break) is narrowed anyway.
    """

    def __init__(self, index: ClauseIndex, candidates: set[int], everything: bool = False) -> None:
        self._index = index
        self._candidates = candidates
        self._everything = everything
        self._found: dict[str, Places] = {}

    def where(self, piece: str) -> Places:
        found = self._found.get(piece)
        if found is None:
            body, head = self._index.containing(piece)
            if not self._everything or not piece or HEADING_JOIN in piece or _SEPARATOR in piece:
                body, head = body & self._candidates, head & self._candidates
            found = self._found[piece] = (body, head)
        return found


class ScannedPieces:
    """Places of pieces among the candidates, by substring tests on their texts.

    Most pieces (synonyms above all) are in no candidate: one test on all the texts joined rules that
    out at C speed (the joined text contains every text whole, so that test is never wrong). Heading
    paths are shared by many clauses, so each distinct one is tested once.
    """

    def __init__(self, index: ClauseIndex, candidates: list[int]) -> None:
        self._bodies = [(n, index.bodies[n]) for n in candidates]
        groups: dict[str, list[int]] = {}
        for number in candidates:
            groups.setdefault(index.heads[number], []).append(number)
        self._groups = groups
        self._body_text = _SEPARATOR.join(body for _, body in self._bodies)
        self._head_text = _SEPARATOR.join(groups)
        self._found: dict[str, Places] = {}

    def where(self, piece: str) -> Places:
        found = self._found.get(piece)
        if found is None:
            body = {n for n, text in self._bodies if piece in text} if piece in self._body_text else set()
            head: set[int] = set()
            if piece in self._head_text:
                for text, numbers in self._groups.items():
                    if piece in text:
                        head.update(numbers)
            found = self._found[piece] = (body, head)
        return found


def term_matches(forms: tuple[Form, ...], pieces: IndexedPieces | ScannedPieces) -> dict[int, float]:
    """term_match of one term against every candidate, as {clause number: match} for matches above 0.

    The steps of term_match taken for all candidates at once, with set operations: forms in order; a
    form in the body settles a clause, one in the heading path raises its best, and a word (factor 1)
    in neither earns partial credit for its bigrams (a clause with none of them gets none)."""
    settled: dict[int, float] = {}
    best: dict[int, float] = {}
    for form, factor, in_head, grams in forms:
        body, head = pieces.where(form)
        if body:
            fresh = body.difference(settled)
            if factor >= 1.0:
                settled.update(dict.fromkeys(fresh, factor))
            else:
                raised = fresh.intersection(best)
                settled.update(dict.fromkeys(fresh, max(0.0, factor)))
                for number in raised:
                    settled[number] = max(best[number], factor)
        if head:
            pending = head.difference(settled)
            if pending:
                raised = pending.intersection(best)
                for number in raised:
                    best[number] = max(best[number], in_head)
                best.update(dict.fromkeys(pending.difference(raised), max(0.0, in_head)))
        if grams is None:
            continue
        found = [pieces.where(g) for g in grams]
        spots: set[int] = set()
        for gram_body, gram_head in found:
            spots.update(gram_body)
            spots.update(gram_head)
        spots.difference_update(settled)
        spots.difference_update(head)
        for number in spots:
            so_far = best.get(number, 0.0)
            if so_far >= PARTIAL_MATCH:
                continue
            share = sum([number in gram_body for gram_body, _ in found]) / len(grams)
            if share >= 0.5:
                best[number] = max(so_far, PARTIAL_MATCH * share)
            else:
                share = sum([number in gram_head for _, gram_head in found]) / len(grams)
                if share >= 0.5:
                    best[number] = max(so_far, PARTIAL_MATCH * share * HEADING_MATCH)
    for number in best.keys() - settled.keys():
        value = best[number]
        if value:
            settled[number] = value
    return settled


def fuzzy_most(counts: tuple[tuple[str, int], ...], size: int, text: str) -> float:
    """An upper bound of fuzz.partial_ratio(asked, text) / 100, `counts` being asked's characters and
    `size` its length.

    partial_ratio is fuzz.ratio, 2 * LCS / (len(a) + len(b)), of the shorter string `a` (length m)
    against some part `b` of the longer one (or of the two whole strings). The LCS is at most the c
    characters the two strings have in common (as multisets) and at most len(b), so the ratio is at
    most 2c / (m + c). A little is added for floating point; the ranker's margin covers far more.
    """
    common = 0
    for char, count in counts:
        found = text.count(char)
        common += count if count < found else found
    shorter = min(size, len(text))
    return min(1.0, 2 * common / (shorter + common) + 1e-9) if common else 0.0
