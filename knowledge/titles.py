"""Find a plan document's title the way a person would, among the first lines of what was read.

A Word "Title" paragraph is the title. Otherwise the candidates are the first few kept lines that
could be a headline (short, no sentence punctuation, not an item or an addressee, not a document
number), scored on what a reader looks at: the headline of a web copy stands right after the
breadcrumb and right before the publishing data; it is often repeated on the page; it usually
names a kind of document (要点, 计划, 制度, 办法, 通知, 总结 …); a bare organisation or site name
(…统战部, …网) is a masthead, not a title. No candidate: the file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.clean import fold

MAX_TITLE_CHARS = 60
LOOK_AT = 6  # kept lines looked at; a title further down is not a title a reader sees

_GENRE = re.compile(r"要点|计划|规划|制度|办法|细则|方案|通知|意见|规定|总结|报告|措施|举措|机制|考评|考核|决定|条例|"
                    r"汇报|纪要|安排|职责|章程|守则|清单|实施|通报|公告|函")
_ORG_END = re.compile(r"(部|委|局|办|院|会|厅|处|政府|委员会|中心|网|站|室|馆|组)$")
_DOC_NUMBER = re.compile(r"〔\d{4}〕\s*\d+\s*号$|\[\d{4}\]\s*\d+\s*号$")
_SENTENCE = re.compile(r"[。;!?,,]")
_LABEL = re.compile(r"^(?:[一二三四五六七八九十]+[、是]|\(?[一二三四五六七八九十\d]+[)\.、]|第[一二三四五六七八九十百\d]+[章节条])")


@dataclass(frozen=True)
class Line:
    """A kept line with what stood around it before cleaning."""

    text: str
    level: int | None = None
    after_nav: bool = False  # a breadcrumb was dropped just before it
    before_meta: bool = False  # publishing data (date, source, author, byline) was dropped just after it
    before_dropped: bool = False  # any furniture was dropped just after it


def _candidate(text: str) -> bool:
    folded = fold(text)
    return (4 <= len(text) <= MAX_TITLE_CHARS and not _SENTENCE.search(folded.rstrip("!"))
            and not folded.endswith((":", ":", "。")) and not _DOC_NUMBER.search(folded))


def _score(i: int, line: Line, elsewhere: list[str]) -> float:
    text = fold(line.text)
    score = -0.5 * i
    if line.before_meta:
        score += 3
    elif line.before_dropped:
        score += 2
    if line.after_nav:
        score += 2
    if _GENRE.search(text):
        score += 2
    elif _ORG_END.search(text) and len(text) <= 16:
        score -= 3
    if any(text in other for other in elsewhere):
        score += 2
    return score


def find_title(lines: list[Line], dropped_texts: list[str]) -> int | None:
    """Index of the title among `lines`, or None; `dropped_texts` are the furniture lines of the page."""
    if not lines:
        return None
    for i, line in enumerate(lines[:LOOK_AT]):
        if line.level == 0:
            return i
    best: tuple[float, int] | None = None
    for i, line in enumerate(lines[:LOOK_AT]):
        if (line.level is not None and line.level > 0 and i > 0) or _LABEL.match(fold(line.text)):
            break  # the body's headings or items have begun: a title stands above them
        if not _candidate(line.text):
            continue
        elsewhere = [fold(t) for t in dropped_texts] + [fold(x.text) for j, x in enumerate(lines) if j != i]
        score = _score(i, line, elsewhere)
        if best is None or score > best[0]:
            best = (score, i)
    if best is None or best[0] < -1:
        return None
    return best[1]
