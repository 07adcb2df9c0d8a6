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


@dataclass
class HitTest:
    question: str
    threshold: float
    decision: str  # answer | suggest | decline
    ranked: list[Ranked] = field(default_factory=list)
    terms: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (word, kind, equivalents)
    suggestions: list[str] = field(default_factory=list)


def hit_test(retriever: Any, question: str) -> HitTest:
    """Run the question the way the chat does, plus the ranking below the threshold."""
    from knowledge.query import analyse

    question = question.strip()[:200]
    result = retriever.search(question, top=3)
    threshold = float(retriever.threshold)
    snap = retriever._snapshot  # one immutable snapshot: the same index the answer came from
    plan = analyse(question, snap.synonyms)
    ranked = [Ranked(c.text, c.doc, c.section, s.score, c.clause_id, s.score >= threshold)
              for s in snap.ranker.rank(plan, limit=RANKED, floor=0.0)
              for c in (snap.index.clauses[s.number],)]
    decision = "answer" if result.answered else ("suggest" if result.suggestions else "decline")
    terms = [(term.text, term.kind, [alt for alt, _ in term.alternatives]) for term in plan.terms]
    return HitTest(question, threshold, decision, ranked, terms, list(result.suggestions))


@dataclass
class QuestionGroup:
    """Unanswered questions that say nearly the same thing, newest first."""

    questions: list[Any]  # bot.db.models.UnansweredQuestion
    nearest: list[Ranked] = field(default_factory=list)

    @property
    def lead(self) -> Any:
        return self.questions[0]


def group_questions(rows: list[Any], *, similarity: float = 72.0) -> list[QuestionGroup]:
    """Greedy grouping by token-set similarity of the question text (rapidfuzz), biggest groups first."""
    groups: list[QuestionGroup] = []
    for row in rows:
        text = row.question
        for group in groups:
            if fuzz.token_set_ratio(text, group.lead.question) >= similarity or \
                    fuzz.partial_ratio(text, group.lead.question) >= 90:
                group.questions.append(row)
                break
        else:
            groups.append(QuestionGroup([row]))
    groups.sort(key=lambda g: -len(g.questions))
    return groups
