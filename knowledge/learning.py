"""The learning store: what liaisons and the office taught the knowledge base, shared by every process.

One table (bot.db.models.AnswerLink). A row links a normalised question to one clause (verdict
`clause`), or marks the question "not in our plans" (verdict `none`). Clauses are named by document
and text, never by position, so a link survives reloads; when a plan is edited, `relink` finds the
clause again (the most similar text in the same document) or marks the link `orphaned` with a note.

- A liaison who picks a 您是不是想问 candidate, or says 有用, adds +1 to (question, clause); 没用
  subtracts 1. The office's link (console) starts at OFFICE_WEIGHT, its "not in our plans" too.
- The retriever asks `lookup(question)`: the links of the same normalised question, or of the most
  similar one taught (rapidfuzz ratio >= SIMILAR). A positive link answers with confidence, a
  negative one keeps its clause from being a confident answer.

For the console (命中测试, 未答问题): `store_for(retriever, db)` is the process's store; its `link`
(question -> clause, by document title and clause text as `knowledge list --json` shows them),
`mark_not_in_plans` and `all_links` are the office's actions; `Retriever.explain(question)` shows
how a question is searched.

Reads come from an in-memory copy refreshed from the database every REFRESH_S seconds (and at once
after this process writes), so a question costs no query and other processes' teaching arrives
within seconds. A database that is away leaves the copy as it was (logged): learning is a bonus,
never a reason not to answer.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.db.database import DatabaseUnavailable
from bot.db.models import AnswerLink
from knowledge.normalize import BREAK, index_text

if TYPE_CHECKING:
    from bot.db.database import Database
    from knowledge.segment import Clause

log = logging.getLogger(__name__)

CLAUSE, NONE = "clause", "none"
ACTIVE, ORPHANED = "active", "orphaned"
OFFICE_WEIGHT = 5
SIMILAR = 92  # rapidfuzz ratio between normalised questions that counts as "the same question" (a
# particle more or less, not 每月 for 每年: one changed character of ten is 90)
REFRESH_S = 5.0
RELINK_SIMILAR = 80  # an edited clause is still "the same" down to this ratio (same document)
KEY_CHARS = 255


def question_key(question: str) -> str:
    """The normalised question: index form (width, case, traditional folded, typo table), no
    punctuation or spaces, so "统战信息 每月报几篇？" and "統戰信息每月報幾篇" are one question."""
    return index_text(question).replace(BREAK, "")[:KEY_CHARS]


def clause_key(doc: str, text: str) -> str:
    return hashlib.sha1(f"{doc}\x00{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    question_key: str
    question: str
    verdict: str
    doc: str
    clause_text: str
    weight: int
    source: str


class LinkStore:
    """Question -> clause links in the database, with a refreshed in-memory copy for lookups."""

    def __init__(self, db: Database, refresh_s: float = REFRESH_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._links: dict[str, tuple[Link, ...]] = {}
        self._keys: list[str] = []
        self._loaded_at: float | None = None
        self._signature: tuple[object, ...] = ()
        self.version = 0  # changes whenever the copy changes (the retriever's answer cache keys on it)

    # reading
    def _refresh(self, force: bool = False) -> None:
        now = self._clock()
        if not force and self._loaded_at is not None and now - self._loaded_at < self.refresh_s:
            return
        try:
            with self.db.session() as session:
                rows = session.execute(select(AnswerLink).where(AnswerLink.status == ACTIVE)).scalars().all()
                links = [Link(r.question_key, r.question, r.verdict, r.doc, r.clause_text, r.weight, r.source)
                         for r in rows]
        except (SQLAlchemyError, DatabaseUnavailable):
            log.warning("learning: cannot read answer links; keeping the copy in memory", exc_info=True)
            self._loaded_at = now
            return
        grouped: dict[str, list[Link]] = {}
        for link in links:
            grouped.setdefault(link.question_key, []).append(link)
        signature = tuple(sorted((x.question_key, x.verdict, x.doc, x.clause_text, x.weight) for x in links))
        with self._lock:
            self._loaded_at = now
            if signature != self._signature:
                self._signature = signature
                self._links = {k: tuple(v) for k, v in grouped.items()}
                self._keys = list(self._links)
                self.version += 1

    def current_version(self) -> int:
        """The version after refreshing the copy when it is due."""
        self._refresh()
        return self.version

    def lookup(self, question: str) -> tuple[Link, ...]:
        """The links taught for this question, or for the most similar question taught."""
        self._refresh()
        key = question_key(question)
        found = self._links.get(key)
        if found is not None or not key or not self._keys:
            return found or ()
        best = process.extractOne(key, self._keys, scorer=fuzz.ratio, score_cutoff=SIMILAR)
        return self._links.get(best[0], ()) if best else ()

    def all_links(self, include_orphaned: bool = True) -> list[AnswerLink]:
        """Every row, newest first, for the office's pages."""
        with self.db.session() as session:
            query = select(AnswerLink).order_by(AnswerLink.updated_at.desc(), AnswerLink.id.desc())
            if not include_orphaned:
                query = query.where(AnswerLink.status == ACTIVE)
            rows = list(session.execute(query).scalars().all())
            session.expunge_all()
            return rows

    # writing
    def vote(self, question: str, doc: str, clause_text: str, delta: int, source: str = "user") -> None:
        """Add `delta` to the link question -> clause (created at `delta` when new)."""
        self._upsert(question, CLAUSE, doc, clause_text, delta, source)

    def link(self, question: str, doc: str, clause_text: str) -> None:
        """The office says: this clause answers this question (console, 未答问题)."""
        self._upsert(question, CLAUSE, doc, clause_text, OFFICE_WEIGHT, "office", at_least=True)

    def mark_not_in_plans(self, question: str) -> None:
        """The office says: our plans do not answer this question; the bot declines it honestly."""
        self._upsert(question, NONE, "", "", OFFICE_WEIGHT, "office", at_least=True)

    def _upsert(self, question: str, verdict: str, doc: str, text: str, delta: int, source: str,
                at_least: bool = False) -> None:
        key = question_key(question)
        if not key:
            raise ValueError("empty question")
        ckey = clause_key(doc, text) if verdict == CLAUSE else ""
        for attempt in range(2):
            try:
                with self.db.session() as session:
                    row = session.execute(select(AnswerLink).where(
                        AnswerLink.question_key == key, AnswerLink.verdict == verdict,
                        AnswerLink.clause_key == ckey)).scalar_one_or_none()
                    now = datetime.now(timezone.utc)
                    if row is None:
                        session.add(AnswerLink(question_key=key, question=question[:2000], verdict=verdict, doc=doc,
                                               clause_text=text, clause_key=ckey, weight=delta, source=source,
                                               status=ACTIVE, note="", created_at=now, updated_at=now))
                    else:
                        row.weight = max(row.weight, delta) if at_least else row.weight + delta
                        if source == "office":
                            row.source = source
                        row.status, row.updated_at = ACTIVE, now
                break
            except IntegrityError:  # another process created the same row just now: update it instead
                if attempt:
                    raise
        self._refresh(force=True)

    def relink(self, clauses: Sequence[Clause]) -> list[str]:
        """Find every active link's clause again after a (re)load: the same text in the same document,
        else the most similar text there (a plan edited); a link whose clause is gone is marked
        orphaned with a note. Returns the notes (one line per change)."""
        by_doc: dict[str, list[str]] = {}
        for clause in clauses:
            by_doc.setdefault(clause.doc, []).append(clause.text)
        exact = {(c.doc, c.text) for c in clauses}
        notes: list[str] = []
        try:
            with self.db.session() as session:
                rows = session.execute(select(AnswerLink).where(AnswerLink.status == ACTIVE,
                                                                AnswerLink.verdict == CLAUSE)).scalars().all()
                for row in rows:
                    if (row.doc, row.clause_text) in exact:
                        continue
                    found = process.extractOne(row.clause_text, by_doc.get(row.doc, []), scorer=fuzz.ratio,
                                               score_cutoff=RELINK_SIMILAR)
                    now = datetime.now(timezone.utc)
                    if found:
                        note = f"relinked: clause edited in {row.doc}"
                        row.clause_text, row.clause_key = found[0], clause_key(row.doc, found[0])
                    else:
                        note = f"orphaned: clause no longer in {row.doc or 'the plans'}: {row.clause_text[:60]}"
                        row.status = ORPHANED
                    row.note, row.updated_at = note, now
                    notes.append(note)
                    session.flush()
        except IntegrityError:  # two links became one: keep the stored ones, try again on next reload
            log.warning("learning: relink collided with an existing link", exc_info=True)
        except (SQLAlchemyError, DatabaseUnavailable):
            log.warning("learning: cannot relink answer links", exc_info=True)
            return notes
        for note in notes:
            log.info("learning: %s", note)
        self._refresh(force=True)
        return notes


def store_for(retriever: object, db: Database) -> LinkStore | None:
    """The retriever's learning store, attached over `db` on first use (one per process, so what the
    office teaches on the console counts at once in this process, within REFRESH_S in the others).
    None for a retriever without learning (a test double)."""
    attach = getattr(retriever, "attach_learning", None)
    if attach is None:
        return None
    if getattr(retriever, "learning", None) is None:
        attach(LinkStore(db))
    return retriever.learning  # type: ignore[attr-defined, no-any-return]
