"""The knowledge base as the rest of the bot sees it: load a corpus folder, answer questions, reload.

`search` is pure CPU over an immutable snapshot (clauses, n-gram index, synonym table); `reload`
builds a new snapshot and swaps one reference, so questions in flight finish on the old one and no
lock is needed on the read path.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from knowledge.index import ClauseIndex
from knowledge.ingest import LoadReport, load_corpus
from knowledge.query import analyse
from knowledge.ranker import Ranker
from knowledge.segment import Clause
from knowledge.synonyms import SynonymTable
from knowledge.typos import fix_typos

if TYPE_CHECKING:
    from bot.config import KnowledgeSettings

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5
RUNNER_UP_FLOOR = 0.8  # runners-up shown only while at least this share of the threshold
MAX_SUGGESTIONS = 3
ANSWER_CACHE_SIZE = 4096
MAX_QUESTION_CHARS = 200  # a pasted essay is not a question; this also bounds the work per message


@dataclass(frozen=True)
class Hit:
    text: str
    doc: str
    section: str
    score: float
    clause_id: str


@dataclass(frozen=True)
class SearchResult:
    question: str
    answered: bool
    hits: list[Hit]
    suggestions: list[str]
    best_guess: Hit | None = None  # when declined: the nearest clause, for the office's review only


@dataclass(frozen=True)
class _Snapshot:
    index: ClauseIndex
    ranker: Ranker
    synonyms: SynonymTable
    topics: tuple[str, ...]
    top_topics: tuple[str, ...]  # top-level headings only, the fallback suggestions
    report: LoadReport
    answers: AnswerCache = field(default_factory=lambda: AnswerCache(ANSWER_CACHE_SIZE))


class AnswerCache:
    """Recent answers by exact question text: liaisons ask the same few things over and over.

    Lives in the snapshot, so a reload starts with an empty cache and can never serve stale clauses.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int], SearchResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> SearchResult | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, int], result: SearchResult) -> None:
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
        self._snapshot = self._build()
        return self

    def _build(self) -> _Snapshot:
        if self._fixed_clauses is not None:
            clauses = self._fixed_clauses
            report = LoadReport(corpus_dir="(in memory)", clauses=len(clauses))
        else:
            loaded = load_corpus(self.corpus_dir)
            clauses, report = loaded.clauses, loaded.report
        index = ClauseIndex(clauses)
        table = SynonymTable.build(self._extra_synonyms)
        snapshot = _Snapshot(index, Ranker(index), table, *_topics(clauses), report)
        _freeze_heap()
        return snapshot

    def reload(self) -> LoadReport:
        """Re-read the corpus folder (new, changed and removed files) without a restart."""
        with self._reload_lock:
            snapshot = self._build()
            self._snapshot = snapshot
        return snapshot.report

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
        """Best clauses for a question, or answered=False with nearby topics when nothing is confident."""
        snap = self._snapshot
        key = (question, top)
        cached = snap.answers.get(key)
        if cached is not None:
            return cached
        result = self._search(snap, question, top)
        snap.answers.put(key, result)
        return result

    def _search(self, snap: _Snapshot, question: str, top: int) -> SearchResult:
        plan = analyse(question[:MAX_QUESTION_CHARS], snap.synonyms)
        ranked = snap.ranker.rank(plan, limit=max(top, 1), floor=self.threshold * RUNNER_UP_FLOOR)
        hits = [self._hit(snap, s.number, s.score) for s in ranked[:max(top, 1)]]
        if not hits or hits[0].score < self.threshold:
            guess = hits[0] if hits else None
            return SearchResult(question, False, [], self._suggest(snap, plan.content), guess)
        floor = self.threshold * RUNNER_UP_FLOOR
        kept = [hits[0]] + [h for h in hits[1:top] if h.score >= floor]
        return SearchResult(question, True, kept, [])

    @staticmethod
    def _hit(snap: _Snapshot, number: int, score: float) -> Hit:
        clause = snap.index.clauses[number]
        return Hit(clause.text, clause.doc, clause.section, score, clause.clause_id)

    def _suggest(self, snap: _Snapshot, content: str) -> list[str]:
        """Topics nearest the question; the first few top-level topics when nothing is near."""
        if content and snap.topics:
            found = process.extract(content, snap.topics, scorer=fuzz.partial_ratio, limit=MAX_SUGGESTIONS,
                                    score_cutoff=50)
            if found:
                return [topic for topic, _, _ in found]
        return list((snap.top_topics or snap.topics)[:MAX_SUGGESTIONS])
