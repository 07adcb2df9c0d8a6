"""Phone replies for knowledge answers: the clause, where it stands, and a short numbered list of runners-up.

Pure functions, no I/O. Every reply fits WeCom's 2048-byte text limit: the clause is shortened (never
the source line) when a long user document would overflow it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.messages import Button, Reply
from knowledge import texts
from knowledge.retriever import Hit, SearchResult

MAX_REPLY_BYTES = 2048
RUNNER_UP_GAP = 0.15  # runners-up within this score of the best are offered as "回复数字查看"
PREVIEW_CHARS = 26
_LABEL = re.compile(r"^(?:[一二三四五六七八九十百]{1,3}、|\([一二三四五六七八九十]{1,3}\)|\d{1,2}[.、]|\(\d{1,2}\))")


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def source_line(hit: Hit) -> str:
    section = f" {hit.section}" if hit.section else ""
    return texts.SOURCE.format(doc=hit.doc, section=section)


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The start of a clause for a list entry, without its numbering."""
    bare = _LABEL.sub("", text).strip()
    return bare if len(bare) <= limit else bare[: limit - 1] + "…"


def runners_up(result: SearchResult, gap: float = RUNNER_UP_GAP) -> list[Hit]:
    """Hits after the first that score close enough to it to be worth offering."""
    if not result.hits:
        return []
    best = result.hits[0].score
    return [h for h in result.hits[1:] if best - h.score <= gap]


def _fit(body: str, tail: str, limit: int) -> str:
    """body + tail within `limit` bytes, shortening the body with an ellipsis when needed."""
    if utf8_len(body + tail) <= limit:
        return body + tail
    budget = limit - utf8_len(tail) - utf8_len("…")
    cut = body
    while cut and utf8_len(cut) > budget:
        cut = cut[: max(0, len(cut) - max(1, (utf8_len(cut) - budget) // 3))]
    return cut + "…" + tail


def render_hit(hit: Hit, others: Sequence[tuple[int, Hit]] = (), limit: int = MAX_REPLY_BYTES) -> str:
    """One clause with its source, then the numbered others (n, hit) and the feedback hint."""
    tail = ("\n" + texts.CONTINUES if hit.continues else "") + "\n" + source_line(hit)
    if others:
        lines = [texts.MORE_HEADER] + [texts.MORE_ITEM.format(n=n, preview=preview(h.text)) for n, h in others]
        tail += "\n\n" + "\n".join(lines)
    tail += "\n" + texts.FEEDBACK_HINT
    return _fit(hit.text, tail, limit)


def render_did_you_mean(hits: Sequence[Hit], limit: int = MAX_REPLY_BYTES) -> Reply:
    """您是不是想问 with numbered candidates: a Reply of kind did_you_mean whose buttons stand for
    "1", "2", … (the text twin is the numbered list, which is what a user without cards types)."""
    lines = [texts.DID_YOU_MEAN_HEADER]
    lines += [texts.DID_YOU_MEAN_ITEM.format(n=n, preview=preview(h.text)) for n, h in enumerate(hits, 1)]
    lines.append(texts.DID_YOU_MEAN_FOOTER)
    buttons = tuple(Button(key=f"kb_pick_{n}", label=f"{n}. {preview(h.text, 14)}", command=str(n))
                    for n, h in enumerate(hits, 1))
    return Reply(_fit("\n".join(lines), "", limit), kind="did_you_mean", title=texts.DID_YOU_MEAN_TITLE,
                 buttons=buttons)


def render_answer(result: SearchResult, limit: int = MAX_REPLY_BYTES) -> tuple[str, list[Hit]]:
    """The reply to a question and the numbered choices it offers (first = the answer shown; for a
    did-you-mean list, the candidates)."""
    if not result.answered and result.did_you_mean:
        return render_did_you_mean(result.did_you_mean, limit), list(result.did_you_mean)
    if not result.answered or not result.hits:
        return render_decline(result), []
    others = runners_up(result)
    choices = [result.hits[0], *others]
    numbered = [(i, h) for i, h in enumerate(choices, 1)][1:]
    return render_hit(result.hits[0], numbered, limit), choices if others else []


def render_decline(result: SearchResult) -> str:
    if result.suggestions:
        return texts.NOT_FOUND_SUGGEST.format(topics=texts.TOPIC_SEPARATOR.join(result.suggestions))
    return texts.NOT_FOUND
