"""命中测试: what the bot would do with a question, shown to the office before it tells liaisons to
ask it: the ranked clauses with scores, the threshold, the words it recognised (with synonyms) and
the decision (answer, suggest, decline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

RANKED = 8


@dataclass(frozen=True)
class Ranked:
    text: str
    doc: str
    section: str
    score: float
    clause_id: str
    above: bool  # at or above the threshold
    matched: tuple[str, ...] = ()  # the question's words (or their equivalents) found in the clause


@dataclass(frozen=True)
class TermView:
    word: str
    kind: str  # content | question | stop
    known: bool  # some clause has the word itself
    alternatives: tuple[tuple[str, str], ...]  # (text, synonym | colloquial | slip) that clauses have


@dataclass
class HitTest:
    question: str
    threshold: float
    decision: str  # answer | suggest | decline
    ranked: list[Ranked] = field(default_factory=list)
    terms: list[TermView] = field(default_factory=list)
    unknown_share: float = 0.0
    learned: str = ""  # answer | not_in_plans when something taught decided


def hit_test(retriever: Any, question: str) -> HitTest:
    """Run the question through the knowledge domain's explain (the same search the chat runs)."""
    question = question.strip()[:200]
    found = retriever.explain(question, top=RANKED)
    threshold = float(found["threshold"])
    ids = {(c.doc, c.text): c.clause_id for c in retriever.clauses}
    ranked = [Ranked(c["text"], c["doc"], c["section"], float(c["score"]), ids.get((c["doc"], c["text"]), ""),
                     float(c["score"]) >= threshold, tuple(c.get("matched") or ())) for c in found["clauses"]]
    terms = [TermView(t["word"], t["kind"], bool(t.get("known")),
                      tuple((a["text"], a["kind"]) for a in t.get("alternatives") or ())) for t in found["terms"]]
    return HitTest(question, threshold, str(found["outcome"]), ranked, terms, float(found.get("unknown_share", 0)),
                   str(found.get("learned") or ""))


@dataclass
class QuestionGroup:
    """Unanswered questions that say nearly the same thing, newest first."""

    questions: list[Any]  # bot.db.models.UnansweredQuestion
    nearest: list[Ranked] = field(default_factory=list)
    links: list[Any] = field(default_factory=list)  # knowledge.learning.Link already taught for it

    @property
    def lead(self) -> Any:
        return self.questions[0]


def _chars(text: str) -> str:
    """A question as space-separated characters: Chinese has no spaces, so rapidfuzz's token-set
    comparison then works on characters (word order and filler words matter less)."""
    return " ".join(ch for ch in text if not ch.isspace() and ch not in "，。？！?!,.、")


def group_questions(rows: list[Any], *, similarity: float = 72.0) -> list[QuestionGroup]:
    """Greedy grouping by character token-set similarity (rapidfuzz), biggest groups first.

    Measured on the demo's questions: rephrasings of one question score 89-96 ("宗教场所消防检查多久
    一次" / "宗教场所消防要多久查一次"), different questions 44-50."""
    groups: list[tuple[str, QuestionGroup]] = []
    for row in rows:
        key = _chars(row.question)
        for lead, group in groups:
            if fuzz.token_set_ratio(key, lead) >= similarity:
                group.questions.append(row)
                break
        else:
            groups.append((key, QuestionGroup([row])))
    out = [g for _, g in groups]
    out.sort(key=lambda g: -len(g.questions))
    return out
