"""Split one cleaned plan document into clauses that keep their heading path.

Headings are found from their numbering (一、/第X章 > (一) > 1./第X条 > 一是… > (1)), from Markdown/Word heading levels,
and, in documents written that way, from run-in headings: a short phrase, a space, then the body
("强化政治引领 引导广大…", "多党合作方面 支持…"). A clause is one item or paragraph; paragraphs
longer than a phone screen are cut at sentence boundaries into groups of at most MAX_CLAUSE_CHARS
(a sentence longer than that at its commas, never at a 、 inside a phrase).
A clause's `section` is the path of the headings that enclose it; its own title stays in its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

MAX_CLAUSE_CHARS = 150
MIN_TAIL_CHARS = 25
MAX_TITLE_CHARS = 40
SECTION_SEPARATOR = " > "

_LABELS: tuple[tuple[float, re.Pattern[str]], ...] = (
    (1, re.compile(r"^(?:[一二三四五六七八九十百]{1,3}、|第[一二三四五六七八九十百]{1,3}[章节部分篇][、 ]?)")),
    (2, re.compile(r"^\([一二三四五六七八九十]{1,3}\)")),
    (3, re.compile(r"^(?:\d{1,2}(?:\.(?!\d)|、)|第[一二三四五六七八九十百]{1,4}条)")),
    (3.5, re.compile(r"^[一二三四五六七八九十]{1,2}是(?=[^,,。;]{2,30}[。;:,,])")),
    (4, re.compile(r"^\(\d{1,2}\)")),
)
_RUN_IN = re.compile(r"^([^ ,;:!?。]{2,30}?[\u4e00-\u9fff”》)]) (?=[\u4e00-\u9fff“《(])")
_SENTENCE_END = re.compile(r"[。!?;…][”’)]*$")
_SENTENCE = re.compile(r"[^。!?;]+(?:[。!?;]+[”’)]*)?|[。!?;]+")
_COMMA_PART = re.compile(r"[^,:]+[,:]?")  # never at 、: it joins the items of one phrase
_TITLE_STOP = re.compile(r"[。!?;]")
_PROSE = re.compile(r"[,,;:。]")


@dataclass(frozen=True)
class Clause:
    """One answerable unit of a plan document."""

    text: str  # display form, as the plan wrote it (typos included)
    doc: str  # the document's title
    file: str  # file name in the corpus folder
    section: str  # heading path, e.g. "五、宗教工作 > (三)着力提高宗教事务法治化管理水平"
    headings: tuple[str, ...]  # the same titles without numbering, for matching
    clause_id: str  # "<file>#<n>", stable while the file is unchanged
    is_heading: bool = False  # the text is only a heading line
    has_children: bool = False  # other clauses sit under this heading
    continues: bool = False  # a long paragraph was cut here: its text goes on in the next clause


@dataclass
class _Heading:
    level: float
    title: str  # with numbering, for display
    bare: str  # without numbering, for matching
    run_in: bool = False
    clause_index: int | None = None


@dataclass
class _Builder:
    doc: str
    file: str
    clauses: list[Clause] = field(default_factory=list)
    stack: list[_Heading] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def push(self, heading: _Heading) -> None:
        while self.stack and self.stack[-1].level >= heading.level:
            self.stack.pop()
        self.stack.append(heading)

    def add(self, text: str, own: _Heading | None = None) -> None:
        """Add a line's text as one or more clauses under the current headings (minus `own`)."""
        parents = [h for h in self.stack if h is not own]
        for h in parents:
            if h.clause_index is not None:
                c = self.clauses[h.clause_index]
                if not c.has_children:
                    self.clauses[h.clause_index] = replace(c, has_children=True)
        parts = split_text(text)
        for i, part in enumerate(parts):
            path = parents + ([own] if own is not None and i > 0 else [])
            section = SECTION_SEPARATOR.join(h.title for h in path)
            if (section, part) in self.seen:  # web copies repeat paragraphs; one clause each is enough
                continue
            self.seen.add((section, part))
            is_heading = own is not None and len(parts) == 1 and _strip_end(part) == _strip_end(own.title)
            if own is not None and i == 0 and is_heading:
                own.clause_index = len(self.clauses)
            self.clauses.append(
                Clause(
                    text=part,
                    doc=self.doc,
                    file=self.file,
                    section=section,
                    headings=tuple(h.bare for h in path),
                    clause_id=f"{self.file}#{len(self.clauses) + 1}",
                    is_heading=is_heading,
                    continues=i < len(parts) - 1,
                )
            )


def _strip_end(text: str) -> str:
    return re.sub(r"[。.;; ]+$", "", text)


def label_level(line: str) -> tuple[float, str] | None:
    """(level, numbering) when the line starts with a heading number such as 一、 (一) 1. (1)."""
    for level, pattern in _LABELS:
        m = pattern.match(line)
        if m:
            return level, m.group(0)
    return None


def heading_title(rest: str) -> tuple[str, bool]:
    """The title part of a heading line's text (after its numbering) and whether it is run-in."""
    m = _RUN_IN.match(rest)
    if m:
        return m.group(1), True
    stop = _TITLE_STOP.search(rest)
    title = rest[: stop.start()] if stop else rest
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1] + "…"
    return title, False


def split_text(text: str) -> list[str]:
    """Cut a long paragraph at sentence (then comma) boundaries into phone-sized groups."""
    if len(text) <= MAX_CLAUSE_CHARS:
        return [text]
    pieces: list[str] = []
    for sentence in _SENTENCE.findall(text):
        if len(sentence) <= MAX_CLAUSE_CHARS:
            pieces.append(sentence)
            continue
        for part in _COMMA_PART.findall(sentence):  # a run with no punctuation at all is cut hard
            pieces.extend(part[i:i + MAX_CLAUSE_CHARS] for i in range(0, len(part), MAX_CLAUSE_CHARS))
    groups: list[list[str]] = []
    for piece in pieces:
        if groups and sum(map(len, groups[-1])) + len(piece) <= MAX_CLAUSE_CHARS:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    if len(groups) > 1 and sum(map(len, groups[-1])) < MIN_TAIL_CHARS:
        if sum(map(len, groups[-2])) + sum(map(len, groups[-1])) <= MAX_CLAUSE_CHARS:
            groups[-2].extend(groups.pop())
        else:  # too long together: hand the previous group's last pieces to the short tail instead
            while len(groups[-2]) > 1 and sum(map(len, groups[-1])) < MIN_TAIL_CHARS:
                groups[-1].insert(0, groups[-2].pop())
    return [g.strip() for g in ("".join(x) for x in groups) if g.strip()]


def join_broken_lines(lines: list[str], width: int | None = None) -> list[str]:
    """Rejoin a paragraph that a web copy broke mid-sentence ("…审" + "视统战工作…").

    With `width` (the line width of a typeset page, e.g. a PDF's longest line) a line as wide as the
    page that does not end a sentence runs on into the next, whatever its length.
    """
    out: list[str] = []
    for line in lines:
        if width and out and len(out[-1]) >= max(8, int(0.85 * width)) and not _SENTENCE_END.search(out[-1]) \
                and label_level(line) is None:
            out[-1] += line
            continue
        if (
            out
            and len(out[-1]) >= 30
            and not _SENTENCE_END.search(out[-1])
            and (_PROSE.search(out[-1]) or len(out[-1]) >= 45)  # a long title is not a broken paragraph
            and label_level(line) is None
            and not _RUN_IN.match(line)
        ):
            out[-1] += line
        else:
            out.append(line)
    return out


def find_title(lines: list[str], levels: list[int | None]) -> str | None:
    """The document's title: a Word Title, or a short first line without sentence punctuation."""
    if not lines:
        return None
    if levels[0] == 0 or (levels[0] in (None, 1) and len(lines[0]) <= MAX_TITLE_CHARS
                           and not re.search(r"[,。;!?]", lines[0]) and label_level(lines[0]) is None
                           and not _RUN_IN.match(lines[0])):
        return lines[0]
    return None


def segment(lines: list[str], levels: list[int | None], file: str, fallback_title: str,
            title: str | None = None) -> list[Clause]:
    """Clauses of one document; `lines` are cleaned display lines, `levels` their explicit heading levels.

    With `title` given (the caller found it, see knowledge/titles.py) `lines` are the body only;
    without it the first line is the title when it looks like one.
    """
    if title is None:
        title = find_title(lines, levels)
        if title is not None:
            lines, levels = lines[1:], levels[1:]
    doc = title or fallback_title
    b = _Builder(doc=doc, file=file)
    uses_run_in = sum(1 for line in lines if _RUN_IN.match(line)) >= 2
    for i, line in enumerate(lines):
        explicit = levels[i]
        if explicit is not None and explicit > 0:
            bare = line.rstrip("。")
            head = _Heading(explicit - 10, line, _strip_label(bare))
            b.push(head)
            b.add(line, own=head)
            continue
        labelled = label_level(line)
        if labelled is not None:
            level, label = labelled
            rest = line[len(label):].lstrip()
            name, _ = heading_title(rest)
            head = _Heading(level, label + name, name)
            b.push(head)
            b.add(line, own=head)
            continue
        m = _RUN_IN.match(line) if uses_run_in else None
        next_is_body = i + 1 < len(lines) and label_level(lines[i + 1]) is None
        standalone = (uses_run_in and next_is_body and len(line) <= 25
                      and not re.search(r"[,。;!?]", line))
        if m or standalone:
            name = m.group(1) if m else line
            if not b.stack and title and (name in title or title.startswith(name)):
                b.add(line[len(name):].strip() if m else line)  # the title repeated as a run-in
                continue
            base = next((h.level for h in reversed(b.stack) if not h.run_in), 0)
            head = _Heading(base + 0.5, name, name, run_in=True)
            b.push(head)
            b.add(line, own=head)
            continue
        b.add(line)
    return b.clauses


def _strip_label(text: str) -> str:
    labelled = label_level(text)
    return text[len(labelled[1]):].lstrip() if labelled else text
