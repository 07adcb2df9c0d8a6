"""Policy questions: the fallback for any text no other route took, plus "2" to pick and 有用/没用 feedback.

Not confident but plausible: a 您是不是想问 list (a Reply with buttons; pick by number). Picking a
candidate or saying 有用 teaches the knowledge base (knowledge.learning: +1 for question -> clause),
没用 lowers it (-1); later similar questions answer from what was taught.

The answer is the best clause with its heading path and document; close runners-up are listed with
numbers, and the list is kept in the state store (its own key, so a report's pending follow-up in the
conversation is never overwritten) for `conversation_ttl_s`. Declined questions go to
UnansweredQuestion and feedback on the last answer to AnswerFeedback, for the office to review; a
database failure there is logged and never costs the user the answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from bot import metrics
from bot.db.database import DatabaseUnavailable
from bot.db.models import AnswerFeedback
from bot.dispatcher import Router
from bot.filters import any_text, normalize_command
from knowledge import texts
from knowledge.learning import LinkStore, store_for
from knowledge.render import render_answer, render_hit
from knowledge.retriever import Hit

if TYPE_CHECKING:
    from bot.context import HandlerContext
    from bot.messages import IncomingMessage

log = logging.getLogger(__name__)
router = Router("questions")

CHOICES_KEY = "kb:choices:{user}"
LAST_KEY = "kb:last:{user}"
LAST_TTL_S = 24 * 3600  # feedback may come a while after the answer
HELPFUL_WORDS = frozenset({"有用", "有帮助", "很有用", "有用的", "有用谢谢", "谢谢有用", "👍"})
UNHELPFUL_WORDS = frozenset({"没用", "没有用", "无用", "没帮助", "没有帮助", "不对", "不准确", "答非所问", "👎"})
_PICK = re.compile(r"^第?\s*(?P<n>\d{1,2})\s*(?:条|个|项)?$")
_WORTH_LOGGING = re.compile(r"[\u4e00-\u9fffA-Za-z]{2}")


def _pick(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
    """A bare number while a numbered list of clauses is on offer."""
    m = _PICK.match(normalize_command(msg.text))
    if m is None:
        return None
    choices = ctx.state.get_json(CHOICES_KEY.format(user=ctx.user))
    if not choices or not choices.get("hits"):
        return None
    return {"choices": choices, "n": int(m.group("n"))}


def _feedback(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
    text = normalize_command(msg.text)
    if text in HELPFUL_WORDS:
        return {"helpful": True}
    if text in UNHELPFUL_WORDS:
        return {"helpful": False}
    return None


@router.route(_pick, inline=True)
def show_choice(msg: IncomingMessage, ctx: HandlerContext, choices: dict[str, Any], n: int) -> str:
    hits = [Hit(**h) for h in choices["hits"]]
    if not 1 <= n <= len(hits):
        return texts.CHOICE_OUT_OF_RANGE.format(n=len(hits))
    hit = hits[n - 1]
    question = choices.get("question", "")
    if choices.get("did_you_mean") and question:
        _teach(ctx, question, hit, +1)  # the liaison says which clause the question meant
    _remember_last(ctx, question, hit)
    others = [(i, h) for i, h in enumerate(hits, 1) if i != n]
    return render_hit(hit, others)


@router.route(_feedback)
def feedback(msg: IncomingMessage, ctx: HandlerContext, helpful: bool) -> str:
    key = LAST_KEY.format(user=ctx.user)
    last = ctx.state.get_json(key)
    if not last:
        return texts.FEEDBACK_NOTHING
    row = AnswerFeedback(userid=ctx.user, question=last.get("question", ""), doc=last.get("doc", "")[:255],
                         section=last.get("section", "")[:512], answer_text=last.get("text", ""), helpful=helpful)
    if _store(ctx, row):
        ctx.state.delete(key)  # one vote per answer
        if last.get("question") and last.get("text"):
            _teach(ctx, last["question"], Hit(last["text"], last.get("doc", ""), last.get("section", ""), 0.0,
                                             last.get("clause_id", "")), +1 if helpful else -1)
    return texts.FEEDBACK_THANKS if helpful else texts.FEEDBACK_SORRY


@router.route(any_text, inline=True)
def answer(msg: IncomingMessage, ctx: HandlerContext) -> str:
    question = msg.text
    _learning(ctx)
    result = ctx.retriever.search(question, top=ctx.settings.knowledge.top)
    metrics.answer(result)
    reply, choices = render_answer(result)
    choices_key = CHOICES_KEY.format(user=ctx.user)
    if not result.answered:
        if choices:  # 您是不是想问: the list stays on offer like runners-up, and a pick teaches
            ctx.state.write({choices_key: ({"question": question, "hits": [asdict(h) for h in choices],
                                            "did_you_mean": True}, ctx.settings.conversation_ttl_s)})
        else:
            ctx.state.delete(choices_key)
        if _WORTH_LOGGING.search(question):
            guess = result.best_guess
            assert ctx.services.review_log is not None, "review log not wired"
            ctx.services.review_log.add({  # for the office's review, written behind the reply
                "userid": ctx.user, "question": question[:2000], "best_score": guess.score if guess else None,
                "best_text": guess.text if guess else None, "created_at": ctx.clock.now(),
            })
        return reply
    last = _last_record(ctx.user, question, result.hits[0])
    if choices:
        sets = {choices_key: ({"question": question, "hits": [asdict(h) for h in choices]},
                              ctx.settings.conversation_ttl_s), **last}
        ctx.state.write(sets)
    else:
        ctx.state.write(last, deletes=(choices_key,))
    return reply


def _last_record(user: str, question: str, hit: Hit) -> dict[str, tuple[Any, int | None]]:
    """The answer a later 有用/没用 refers to, as a state write."""
    record = {"question": question, "doc": hit.doc, "section": hit.section, "text": hit.text,
              "clause_id": hit.clause_id}
    return {LAST_KEY.format(user=user): (record, LAST_TTL_S)}


def _remember_last(ctx: HandlerContext, question: str, hit: Hit) -> None:
    ctx.state.write(_last_record(ctx.user, question, hit))


def _store(ctx: HandlerContext, row: AnswerFeedback) -> bool:
    """Insert one feedback row; False (logged) when the database is away."""
    try:
        with ctx.db.session() as session:
            session.add(row)
        return True
    except (SQLAlchemyError, DatabaseUnavailable):
        log.warning("questions: could not store %s for user %s", type(row).__name__, ctx.user, exc_info=True)
        return False


def _learning(ctx: HandlerContext) -> LinkStore | None:
    """The retriever's learning store, attached on first use (one per process, over ctx.db)."""
    return store_for(ctx.retriever, ctx.db)


def _teach(ctx: HandlerContext, question: str, hit: Hit, delta: int) -> None:
    """Add `delta` to question -> clause; a database failure is logged and costs the user nothing."""
    store = _learning(ctx)
    if store is None or not hit.text:
        return
    try:
        store.vote(question, hit.doc, hit.text, delta)
    except (SQLAlchemyError, DatabaseUnavailable, ValueError):
        log.warning("questions: could not store what user %s taught", ctx.user, exc_info=True)
