"""The knowledge base as the rest of the bot sees it: load a corpus folder, answer questions, reload.

Three outcomes (SearchResult.outcome): a confident answer, when the best clause scores at least the
threshold and the words the plans never use are at most ANSWER_UNKNOWN_MAX of the question's weight;
a short 您是不是想问 list (`did_you_mean`) when the best is not confident but plausible (at least
SUGGEST_FLOOR, or SHORT_SUGGEST_FLOOR for a question of few words; unknown share at most
SUGGEST_UNKNOWN_MAX); else an honest decline with topics. The bounds were fitted on labelled question
sets (bench/measure_answers.py prints precision and recall across thresholds). What liaisons and the office taught (knowledge.learning) comes first.

`search` is pure CPU over an immutable snapshot (clauses, n-gram index, synonym table); `reload`
builds a new snapshot and swaps one reference, so questions in flight finish on the old one and no
lock is needed on the read path.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from knowledge.index import ClauseIndex
from knowledge.ingest import LoadReport, load_corpus
from knowledge.normalize import index_text
from knowledge.query import CONTENT, QueryPlan, analyse
from knowledge.ranker import Ranker, Scored, term_weight
from knowledge.segment import Clause
from knowledge.slips import SlipFixer
from knowledge.synonyms import SynonymTable
from knowledge.typos import fix_typos

if TYPE_CHECKING:
    from bot.config import KnowledgeSettings
    from knowledge.learning import Link, LinkStore

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5
RUNNER_UP_FLOOR = 0.8  # runners-up shown only while at least this share of the threshold
MAX_SUGGESTIONS = 3
ANSWER_CACHE_SIZE = 4096
MAX_QUESTION_CHARS = 200  # a pasted essay is not a question; this also bounds the work per message
SUGGEST_FLOOR = 0.15  # below this even the best clause is not worth offering
SUGGEST_SHARE = 0.5  # a runner-up is offered only while at least this share of the best one's score
ANSWER_UNKNOWN_MAX = 0.4  # share of the question's weight in words the plans never use, above which
SUGGEST_UNKNOWN_MAX = 0.6  # ... no answer is confident, and ... no list is offered
SHORT_QUESTION_TERMS = 3  # a question of at most this many content words is "short": one or two matching
SHORT_SUGGEST_FLOOR = 0.45  # ... words (民族, 宗教) are weak evidence, so its list needs this best score
CLEAR_LEAD_BAND = 0.1  # a best clause this far below the threshold is still an answer when it is known-worded
CLEAR_LEAD_MARGIN = 0.02  # ... and leads the runner-up by this much (a tie means the question names no one clause)
CLEAR_LEAD_BIGRAMS = 0.1  # ... and has some of the question's own wording (not only equivalents) in order
SLIP_ONLY = 0.5  # a word known only through a typing-slip variant counts this much as unknown
ANSWER, SUGGEST, DECLINE = "answer", "suggest", "decline"
OUT_OF_PLAN = Path(__file__).resolve().parent / "lexicon" / "out_of_plan.txt"
_HAN = re.compile(r"[\u4e00-\u9fff]")  # a list needs two Chinese characters of content: "2" is no question


@dataclass(frozen=True)
class Hit:
    text: str
    doc: str
    section: str
    score: float
    clause_id: str
    continues: bool = False  # the plan's paragraph goes on after this clause (the reply says so)


@dataclass(frozen=True)
class SearchResult:
    question: str
    answered: bool
    hits: list[Hit]
    suggestions: list[str]
    best_guess: Hit | None = None  # when declined: the nearest clause, for the office's review only
    did_you_mean: list[Hit] = field(default_factory=list)  # 您是不是想问 candidates, when not answered
    confidence: float = 0.0  # the best score, 0 when the unknown-word gate rules an answer out
    unknown_share: float = 0.0  # share of the question's weight in words the plans never use
    learned: str = ""  # "answer" / "not_in_plans" when a taught link decided, else ""

    @property
    def outcome(self) -> str:
        """answer, suggest (a did-you-mean list) or decline."""
        return ANSWER if self.answered else SUGGEST if self.did_you_mean else DECLINE


@dataclass(frozen=True)
class _Snapshot:
    index: ClauseIndex
    ranker: Ranker
    slips: SlipFixer
    synonyms: SynonymTable
    topics: tuple[str, ...]
    top_topics: tuple[str, ...]  # top-level headings only, the fallback suggestions
    report: LoadReport
    foreign: tuple[str, ...] = ()  # out-of-plan words no clause of this corpus contains
    answers: AnswerCache = field(default_factory=lambda: AnswerCache(ANSWER_CACHE_SIZE))
    _numbers: dict[tuple[str, str], int] = field(default_factory=dict)

    def numbers(self) -> dict[tuple[str, str], int]:
        """(document, clause text) -> clause number, made on first use (taught links name clauses so)."""
        if not self._numbers:
            for number, clause in enumerate(self.index.clauses):
                self._numbers.setdefault((clause.doc, clause.text), number)
        return self._numbers


class AnswerCache:
    """Recent answers by exact question text: liaisons ask the same few things over and over.

    Lives in the snapshot, so a reload starts with an empty cache and can never serve stale clauses.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int, int], SearchResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, int]) -> SearchResult | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, int, int], result: SearchResult) -> None:
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def _topics(clauses: Sequence[Clause]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Distinct heading titles (without numbering) in document order, all and top-level only,
    for "you could ask about…"; shown as prompts to type, so with the plan's typos fixed."""
    seen: dict[str, None] = {}
    top: dict[str, None] = {}
    for headings in dict.fromkeys(c.headings for c in clauses):
        for depth, heading in enumerate(headings):
            if 2 <= len(heading) <= 30:
                seen.setdefault(fix_typos(heading), None)
                if depth == 0:
                    top.setdefault(fix_typos(heading), None)
    return tuple(seen), tuple(top)


def _out_of_plan_words() -> tuple[str, ...]:
    """lexicon/out_of_plan.txt in index form: what people ask that work plans never hold."""
    words = []
    for line in OUT_OF_PLAN.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(index_text(line))
    return tuple(dict.fromkeys(w for w in words if w))


def _freeze_heap() -> None:
    """Keep the cyclic collector from walking a big corpus's hundreds of thousands of long-lived
    objects on every full collection (tens of ms of pause in the middle of a question). Garbage is
    collected first so that nothing collectable is frozen with them."""
    gc.collect()
    gc.freeze()


class Retriever:
    """Answers questions from the plan documents in one folder."""

    def __init__(
        self,
        corpus_dir: Path,
        threshold: float = DEFAULT_THRESHOLD,
        top: int = 3,
        synonyms: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.threshold = threshold
        self.default_top = top
        self._extra_synonyms = dict(synonyms or {})
        self._fixed_clauses: list[Clause] | None = None
        self._reload_lock = threading.Lock()
        self.learning: LinkStore | None = None
        self._snapshot = self._build()

    @classmethod
    def load(cls, settings: KnowledgeSettings) -> Retriever:
        """A retriever over settings.corpus_dir, with the office's threshold, top and synonyms."""
        return cls(settings.corpus_dir, settings.threshold, settings.top, settings.synonyms)

    @classmethod
    def from_clauses(
        cls, clauses: Sequence[Clause], threshold: float = DEFAULT_THRESHOLD,
        synonyms: Mapping[str, Sequence[str]] | None = None,
    ) -> Retriever:
        """A retriever over ready-made clauses (benchmarks, tests); reload() rebuilds from the same ones."""
        self = cls.__new__(cls)
        self.corpus_dir = Path()
        self.threshold = threshold
        self.default_top = 3
        self._extra_synonyms = dict(synonyms or {})
        self._fixed_clauses = list(clauses)
        self._reload_lock = threading.Lock()
        self.learning = None
        self._snapshot = self._build()
        return self

    def attach_learning(self, store: LinkStore) -> None:
        """Answer from what liaisons and the office taught (and re-find its clauses on every reload)."""
        with self._reload_lock:
            if self.learning is None:
                store.relink(self._snapshot.index.clauses)
                self.learning = store

    def _build(self) -> _Snapshot:
        if self._fixed_clauses is not None:
            clauses = self._fixed_clauses
            report = LoadReport(corpus_dir="(in memory)", clauses=len(clauses))
        else:
            loaded = load_corpus(self.corpus_dir)
            clauses, report = loaded.clauses, loaded.report
        index = ClauseIndex(clauses)
        table = SynonymTable.build(self._extra_synonyms)
        foreign = tuple(w for w in _out_of_plan_words() if not index.containing(w)[0] and not index.containing(w)[1]) \
            if index.small else tuple(w for w in _out_of_plan_words() if index.df(w) == 0)
        snapshot = _Snapshot(index, Ranker(index), SlipFixer(index), table, *_topics(clauses), report, foreign)
        _freeze_heap()
        return snapshot

    def reload(self) -> LoadReport:
        """Re-read the corpus folder (new, changed and removed files) without a restart."""
        with self._reload_lock:
            snapshot = self._build()
            self._snapshot = snapshot
            if self.learning is not None:
                self.learning.relink(snapshot.index.clauses)
        return snapshot.report

    def use_synonyms(self, synonyms: Mapping[str, Sequence[str]]) -> LoadReport:
        """Replace the office's synonym table (config.yaml's plus the console's) and rebuild."""
        self._extra_synonyms = {str(k): list(v) for k, v in synonyms.items()}
        return self.reload()

    @property
    def report(self) -> LoadReport:
        return self._snapshot.report

    @property
    def clauses(self) -> list[Clause]:
        return self._snapshot.index.clauses

    def topics(self) -> list[str]:
        """Headings the knowledge base knows, in document order."""
        return list(self._snapshot.topics)

    def search(self, question: str, top: int = 3) -> SearchResult:
        """Best clauses for a question: a confident answer, a did-you-mean list, or a decline."""
        snap = self._snapshot
        version = self.learning.current_version() if self.learning is not None else 0
        key = (question, top, version)
        cached = snap.answers.get(key)
        if cached is not None:
            return cached
        result = self._search(snap, question, top)
        snap.answers.put(key, result)
        return result

    def _plan(self, snap: _Snapshot, question: str) -> QueryPlan:
        return snap.slips.expand(analyse(question[:MAX_QUESTION_CHARS], snap.synonyms))

    @staticmethod
    def unknown_share(snap: _Snapshot, plan: QueryPlan) -> float:
        """The share of the question's content weight in words no clause has, itself or through a
        synonym (words known only through a typing-slip variant count SLIP_ONLY): high for questions
        about something else (社保, 天气), which the plans' words around them must not answer."""
        from knowledge.slips import SLIP_FACTOR

        index = snap.index
        total = unknown = 0.0
        for term in plan.terms:
            if term.kind != CONTENT:
                continue
            weight = term_weight(term, index)
            total += weight
            if index.df(term.text) > 0 or any(index.df(a) > 0 for a, f in term.alternatives if f > SLIP_FACTOR):
                continue
            unknown += weight * (SLIP_ONLY if any(index.df(a) > 0 for a, _ in term.alternatives) else 1.0)
        return unknown / total if total else 1.0

    @staticmethod
    def asks_outside(snap: _Snapshot, question: str) -> bool:
        """The question names something of lexicon/out_of_plan.txt that no clause contains."""
        text = index_text(question[:MAX_QUESTION_CHARS])
        return any(word in text for word in snap.foreign)

    def _search(self, snap: _Snapshot, question: str, top: int) -> SearchResult:
        plan = self._plan(snap, question)
        limit = max(top, 1)
        ranked = snap.ranker.rank(plan, limit=limit, floor=SUGGEST_FLOOR)
        unknown = self.unknown_share(snap, plan)
        links = self.learning.lookup(question) if self.learning is not None else ()
        if links:
            taught = self._taught(snap, question, plan, ranked, links, limit, unknown)
            if taught is not None:
                return taught
        return self._decide(snap, question, plan, ranked, limit, unknown)

    def _decide(self, snap: _Snapshot, question: str, plan: QueryPlan, ranked: list[Scored], limit: int,
                unknown: float, barred: frozenset[int] = frozenset()) -> SearchResult:
        """The three outcomes from the ranked clauses (`barred`: clauses 没用 ruled out as answers)."""
        hits = [self._hit(snap, s.number, s.score) for s in ranked[:limit]]
        best = hits[0].score if hits else 0.0
        if snap.foreign and self.asks_outside(snap, question):
            unknown = 1.0  # about something work plans never hold (a fee, a phone number, a holiday)
        confidence = best if unknown <= ANSWER_UNKNOWN_MAX else 0.0
        if hits and self._confident(confidence, ranked) and ranked[0].number not in barred:
            floor = self.threshold * RUNNER_UP_FLOOR
            kept = [hits[0]] + [h for h in hits[1:limit] if h.score >= floor]
            return SearchResult(question, True, kept, [], confidence=confidence, unknown_share=unknown)
        guess = hits[0] if hits else None
        offered: list[Hit] = []
        if best >= self._suggest_floor(plan) and unknown <= SUGGEST_UNKNOWN_MAX and len(_HAN.findall(plan.content)) >= 2:
            offered = [h for h in hits if h.score >= max(SUGGEST_FLOOR, best * SUGGEST_SHARE)]
        return SearchResult(question, False, [], [] if offered else self._suggest(snap, plan.content), guess,
                            did_you_mean=offered, confidence=confidence, unknown_share=unknown)

    def _confident(self, confidence: float, ranked: list[Scored]) -> bool:
        """At least the threshold, or within CLEAR_LEAD_BAND below it with a clear lead over the
        runner-up and some of the question's own wording in the clause: checked across every labelled
        set (bench/measure_answers.py), where the band adds answers at about the same precision, while
        ties, and clauses reached only through equivalents, were as often wrong or off-topic as right."""
        if confidence >= self.threshold:
            return True
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        return (confidence >= self.threshold - CLEAR_LEAD_BAND and confidence - runner_up >= CLEAR_LEAD_MARGIN
                and ranked[0].bigrams >= CLEAR_LEAD_BIGRAMS)

    @staticmethod
    def _suggest_floor(plan: QueryPlan) -> float:
        """The best score a did-you-mean list needs. A short question whose best clause is weak is
        mostly one near the plans but not in them (checked across every labelled set: such lists were
        all for expect-null questions), so it gets the honest decline with topics instead."""
        short = sum(1 for term in plan.terms if term.kind == CONTENT) <= SHORT_QUESTION_TERMS
        return SHORT_SUGGEST_FLOOR if short else SUGGEST_FLOOR

    def _taught(self, snap: _Snapshot, question: str, plan: QueryPlan, ranked: list[Scored],
                links: tuple[Link, ...], limit: int, unknown: float) -> SearchResult | None:
        """The result a taught link decides, or None (nothing taught applies to these clauses)."""
        from knowledge.learning import NONE

        numbers = snap.numbers()
        scores = {s.number: s.score for s in ranked}
        good = sorted(((link.weight, numbers[(link.doc, link.clause_text)]) for link in links
                       if link.weight > 0 and link.verdict != NONE and (link.doc, link.clause_text) in numbers),
                      reverse=True)
        refused = max((link.weight for link in links if link.verdict == NONE), default=0)
        if refused > 0 and (not good or refused >= good[0][0]):
            return SearchResult(question, False, [], self._suggest(snap, plan.content), None,
                                unknown_share=unknown, learned="not_in_plans")
        if good:
            number = good[0][1]
            first = self._hit(snap, number, max(scores.get(number, 0.0), self.threshold))
            others = [self._hit(snap, s.number, s.score) for s in ranked
                      if s.number != number and s.score >= self.threshold * RUNNER_UP_FLOOR][:limit - 1]
            return SearchResult(question, True, [first, *others], [], confidence=first.score,
                                unknown_share=unknown, learned="answer")
        barred = frozenset(numbers[(x.doc, x.clause_text)] for x in links
                           if x.weight < 0 and (x.doc, x.clause_text) in numbers)
        if barred:
            return self._decide(snap, question, plan, ranked, limit, unknown, barred)
        return None

    def explain(self, question: str, top: int = 10) -> dict[str, Any]:
        """How a question is searched, for the console's 命中测试 page: {question, outcome, threshold,
        suggest_floor, unknown_share, unknown_max, learned, terms: [{word, kind, weight, known,
        alternatives: [{text, factor, kind (synonym | colloquial | slip)}]}], clauses: [{rank, doc,
        section, text, score, coverage, bigrams, fuzzy, matched: [words and equivalents found]}]}.
        `outcome` is what `search` decides (answer / suggest / decline); the ranking is shown to
        `top` places whatever the outcome."""
        from knowledge.slips import SLIP_FACTOR
        from knowledge.synonyms import COLLOQUIAL_FACTOR

        snap = self._snapshot
        plan = self._plan(snap, question)
        result = self.search(question, top=max(1, self.default_top))
        index = snap.index

        def kind(factor: float) -> str:
            return "slip" if factor <= SLIP_FACTOR else "colloquial" if factor <= COLLOQUIAL_FACTOR else "synonym"

        terms = [{"word": t.text, "kind": t.kind, "weight": round(term_weight(t, index), 3),
                  "known": index.df(t.text) > 0,
                  "alternatives": [{"text": a, "factor": f, "kind": kind(f)} for a, f in t.alternatives
                                   if index.df(a) > 0]} for t in plan.terms]
        clauses = []
        for rank, scored in enumerate(snap.ranker.rank(plan, limit=top), 1):
            clause = index.clauses[scored.number]
            text = index.bodies[scored.number] + "|" + index.heads[scored.number]
            matched = [form for t in plan.terms for form, _ in ((t.text, 1.0), *t.alternatives) if form in text]
            clauses.append({"rank": rank, "doc": clause.doc, "section": clause.section, "text": clause.text,
                            "score": scored.score, "coverage": scored.coverage, "bigrams": scored.bigrams,
                            "fuzzy": scored.fuzzy, "matched": list(dict.fromkeys(matched))})
        return {"question": question, "outcome": result.outcome, "threshold": self.threshold,
                "suggest_floor": self._suggest_floor(plan), "unknown_share": round(result.unknown_share, 3),
                "unknown_max": ANSWER_UNKNOWN_MAX, "learned": result.learned, "terms": terms, "clauses": clauses,
                "answer": [asdict(h) for h in result.hits], "did_you_mean": [asdict(h) for h in result.did_you_mean]}

    @staticmethod
    def _hit(snap: _Snapshot, number: int, score: float) -> Hit:
        clause = snap.index.clauses[number]
        return Hit(clause.text, clause.doc, clause.section, score, clause.clause_id, clause.continues)

    def _suggest(self, snap: _Snapshot, content: str) -> list[str]:
        """Topics nearest the question; the first few top-level topics when nothing is near."""
        if content and snap.topics:
            found = process.extract(content, snap.topics, scorer=fuzz.partial_ratio, limit=MAX_SUGGESTIONS,
                                    score_cutoff=50)
            if found:
                return [topic for topic, _, _ in found]
        return list((snap.top_topics or snap.topics)[:MAX_SUGGESTIONS])
