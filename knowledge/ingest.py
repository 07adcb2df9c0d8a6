"""Load every plan file of a corpus folder into clauses, reporting files that could not be read.

A file that fails is named in the LoadReport (and the log) and the others still load, so one bad
upload never takes the knowledge base down.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.clean import clean_lines
from knowledge.normalize import display_text
from knowledge.readers import SUPPORTED_SUFFIXES, UnreadableFile, read_file
from knowledge.segment import Clause, join_broken_lines, segment

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
        return text


@dataclass
class LoadedCorpus:
    clauses: list[Clause] = field(default_factory=list)
    report: LoadReport = field(default_factory=lambda: LoadReport(corpus_dir=""))


def document_clauses(path: Path) -> list[Clause]:
    """Read, clean and segment one file; raises UnreadableFile."""
    raw = read_file(path)
    pairs = [(display_text(line.text), line.level) for line in raw]
    pairs = [(text, level) for text, level in pairs if text]
    explicit = {i: level for i, (_, level) in enumerate(pairs) if level is not None}
    if explicit:
        # Cleaning and joining would lose the explicit levels' positions: keep them aside per line.
        lines, levels = [], []
        for text, level in pairs:
            cleaned, _ = clean_lines([text])
            if cleaned:
                lines.append(cleaned[0])
                levels.append(level)
    else:
        lines, _ = clean_lines([text for text, _ in pairs])
        lines = join_broken_lines(lines)
        levels = [None] * len(lines)
    return segment(lines, levels, file=path.name, fallback_title=path.stem)


def load_corpus(corpus_dir: Path) -> LoadedCorpus:
    """All clauses of the folder, files in name order; never raises for a bad file."""
    started = time.perf_counter()
    clauses: list[Clause] = []
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
            skipped.append(FileProblem(path.name, f"unsupported type {path.suffix or '(none)'}"))
            continue
        try:
            found = document_clauses(path)
        except UnreadableFile as exc:
            log.warning("knowledge: cannot read %s: %s", path.name, exc)
            errors.append(FileProblem(path.name, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one malformed upload must not take the others down
            log.warning("knowledge: failed to parse %s", path.name, exc_info=True)
            errors.append(FileProblem(path.name, f"cannot parse ({exc.__class__.__name__})"))
            continue
        if not found:
            skipped.append(FileProblem(path.name, "no text"))
            continue
        files.append(path.name)
        clauses.extend(found)
    report = LoadReport(
        corpus_dir=str(corpus_dir),
        loaded=tuple(files),
        clauses=len(clauses),
        errors=tuple(errors),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
    )
    log.info("knowledge: %s", report.summary())
    return LoadedCorpus(clauses=clauses, report=report)
