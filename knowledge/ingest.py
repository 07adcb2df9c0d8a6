"""Load every plan file of a corpus folder into clauses, reporting files that could not be read.

A file that fails is named in the LoadReport (and the log) and the others still load, so one bad
upload never takes the knowledge base down.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from knowledge import texts
from knowledge.clean import Dropped, clean_line
from knowledge.normalize import display_text
from knowledge.readers import SUPPORTED_SUFFIXES, SourceLine, UnreadableFile, read_file, unsupported_reason
from knowledge.segment import Clause, join_broken_lines, segment
from knowledge.titles import Line, find_title

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileProblem:
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} ({self.reason})"


@dataclass(frozen=True)
class LoadReport:
    """What a (re)load found: files loaded, clauses made, files that failed or were skipped."""

    corpus_dir: str
    loaded: tuple[str, ...] = ()  # names of the files that were read
    clauses: int = 0
    errors: tuple[FileProblem, ...] = ()
    skipped: tuple[FileProblem, ...] = ()
    seconds: float = 0.0

    @property
    def files(self) -> int:
        """How many files were read."""
        return len(self.loaded)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """One line for logs and the admin page."""
        text = f"{self.files} files, {self.clauses} clauses from {self.corpus_dir} in {self.seconds:.2f}s"
        if self.errors:
            text += "; unreadable: " + ", ".join(str(p) for p in self.errors)
        if self.skipped:
            text += "; skipped: " + ", ".join(str(p) for p in self.skipped)
        return text


@dataclass
class LoadedCorpus:
    clauses: list[Clause] = field(default_factory=list)
    report: LoadReport = field(default_factory=lambda: LoadReport(corpus_dir=""))
    readings: dict[str, DocumentReading] = field(default_factory=dict)  # by file name


@dataclass(frozen=True)
class DocumentReading:
    """One plan file as the bot read it: its title, its clauses, and what was left out as furniture.

    This is the load report of one file (`knowledge check FILE`, the admin pages): `title_found` is
    False when no line looked like a title and the file name stands in; `dropped` lists every line
    (or sentence) left out with the reason, so an office sees nothing was lost silently.
    """

    file: str
    title: str
    title_found: bool
    clauses: tuple[Clause, ...]
    dropped: tuple[Dropped, ...]


def _kept_lines(raw: list[SourceLine]) -> tuple[list[Line], list[Dropped]]:
    """Display lines with furniture removed, each marked with what stood around it."""
    kept: list[Line] = []
    dropped: list[Dropped] = []
    pending_nav = False
    for source in raw:
        text = display_text(source.text)
        if not text:
            continue
        cleaned, gone = clean_line(text)
        dropped.extend(gone)
        if not cleaned:
            reason = gone[0].reason if gone else ""
            if kept:
                last = kept[-1]
                kept[-1] = replace(last, before_dropped=True,
                                   before_meta=last.before_meta or reason in _META_REASONS)
            pending_nav = pending_nav or (reason == texts.DROP_NAV and bool(_CRUMB.search(text)))
            continue
        kept.append(Line(cleaned, level=source.level, after_nav=pending_nav))
        pending_nav = False
    return kept, dropped


_META_REASONS = (texts.DROP_META, texts.DROP_DATE, texts.DROP_BYLINE)
_CRUMB = re.compile(r">|»|›")


def read_document(path: Path) -> DocumentReading:
    """Read, clean and segment one file; raises UnreadableFile (its message says what to do)."""
    kept, dropped = _kept_lines(read_file(path))
    at = find_title([x for x in kept], [d.text for d in dropped])
    title = kept[at].text if at is not None else None
    body: list[Line] = []
    for i, line in enumerate(kept):
        if at is not None and i < at and len(line.text) <= 30 and not _SENTENCE.search(line.text):
            dropped.append(Dropped(line.text, texts.DROP_HEADER))  # a masthead above the title
            continue
        if i == at:
            continue
        if title is not None and line.text == title and line.level is None:
            dropped.append(Dropped(line.text, texts.DROP_TITLE_AGAIN))
            continue
        body.append(line)
    body = [Line(part, level=line.level if i == 0 else None) for line in body
            for i, part in enumerate(_GLUED_HEADING.split(line.text)) if part]
    explicit = any(line.level is not None for line in body)
    lines = [line.text for line in body]
    if explicit:
        levels = [line.level for line in body]
    else:
        typeset = path.suffix.lower() == ".pdf"  # lines as wide as the page run on
        lines = join_broken_lines(lines, width=max(map(len, lines), default=0) if typeset else None)
        levels = [None] * len(lines)
    doc = title or path.stem
    clauses = segment(lines, levels, file=path.name, fallback_title=doc, title=doc)
    return DocumentReading(path.name, doc, title is not None, tuple(clauses), tuple(dropped))


_SENTENCE = re.compile(r"[。;!?]")
# A numbered heading glued after the end of the previous sentence ("…如下:一、工作情况"): a new line.
_GLUED_HEADING = re.compile(r"(?<=[。;:!?])(?=(?:[一二三四五六七八九十]{1,3}、|\([一二三四五六七八九十]{1,3}\)|"
                            r"第[一二三四五六七八九十]{1,3}[章节]))")


def document_clauses(path: Path) -> list[Clause]:
    """Read, clean and segment one file; raises UnreadableFile."""
    return list(read_document(path).clauses)


def load_corpus(corpus_dir: Path) -> LoadedCorpus:
    """All clauses of the folder, files in name order; never raises for a bad file."""
    started = time.perf_counter()
    clauses: list[Clause] = []
    readings: dict[str, DocumentReading] = {}
    files: list[str] = []
    errors: list[FileProblem] = []
    skipped: list[FileProblem] = []
    if not corpus_dir.is_dir():
        errors.append(FileProblem(str(corpus_dir), "corpus folder not found"))
        paths: list[Path] = []
    else:
        paths = sorted(p for p in corpus_dir.iterdir() if not p.name.startswith((".", "~$")))
    for path in paths:
        if path.is_dir():
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append(FileProblem(path.name, unsupported_reason(path)))
            continue
        try:
            reading = read_document(path)
        except UnreadableFile as exc:
            log.warning("knowledge: cannot read %s: %s", path.name, exc)
            errors.append(FileProblem(path.name, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one malformed upload must not take the others down
            log.warning("knowledge: failed to parse %s", path.name, exc_info=True)
            errors.append(FileProblem(path.name, f"cannot parse ({exc.__class__.__name__})"))
            continue
        if not reading.clauses:
            skipped.append(FileProblem(path.name, texts.READ_NO_TEXT))
            continue
        files.append(path.name)
        readings[path.name] = reading
        clauses.extend(reading.clauses)
    report = LoadReport(
        corpus_dir=str(corpus_dir),
        loaded=tuple(files),
        clauses=len(clauses),
        errors=tuple(errors),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
    )
    log.info("knowledge: %s", report.summary())
    return LoadedCorpus(clauses=clauses, report=report, readings=readings)
