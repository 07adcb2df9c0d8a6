"""Plan files → the knowledge base's reading → task proposals: the one wiring of knowledge/ and tracking/.

The knowledge base and task extraction read the same cleaned clauses (knowledge.ingest), so a plan
the bot answers from is a plan it proposes tasks from, in every format it reads.

* `corpus_tasks(corpus_dir)`: every obligation of the corpus (and the load report);
* `check_plan(path)`: one file's load report without adding it: title, clauses, furniture dropped
  and why, the tasks it would propose (`knowledge check FILE`);
* `propose_from_corpus(corpus_dir, tasks_file)`: fold the corpus's tasks into tasks.yaml as proposals
  (tracking.proposals rules: office edits kept, removed files retire their proposals only).

The admin pages (a face) cannot import this module; they call the same two steps themselves:
`knowledge.ingest.read_document(path)` / `load_corpus(dir)`, then
`tracking.extract.extract_from_clauses(clauses)` and `tracking.proposals.refresh_proposals(...)` /
`approve_tasks(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from knowledge.ingest import DocumentReading, LoadReport, load_corpus, read_document
from knowledge.readers import SUPPORTED_SUFFIXES, UnreadableFile, unsupported_reason
from tracking.extract import extract_from_clauses
from tracking.proposals import MergeResult, refresh_proposals
from tracking.taskspec import TaskSpec


@dataclass(frozen=True)
class PlanCheck:
    """The load report of one plan file: what was read, what was dropped, what tasks it gives."""

    file: str
    problem: str | None = None  # why it could not be read (what to do), or None
    reading: DocumentReading | None = None
    tasks: list[TaskSpec] = field(default_factory=list)


def corpus_tasks(corpus_dir: Path) -> tuple[list[TaskSpec], LoadReport]:
    """Every obligation of the corpus's plan files, in file order, and the corpus load report."""
    loaded = load_corpus(Path(corpus_dir))
    return extract_from_clauses(loaded.clauses), loaded.report


def check_plan(path: Path) -> PlanCheck:
    """Read one file as the corpus would, without adding it anywhere."""
    path = Path(path)
    if not path.is_file():
        return PlanCheck(path.name, problem="文件不存在")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return PlanCheck(path.name, problem=unsupported_reason(path))
    try:
        reading = read_document(path)
    except UnreadableFile as exc:
        return PlanCheck(path.name, problem=str(exc))
    return PlanCheck(path.name, reading=reading, tasks=extract_from_clauses(reading.clauses))


def propose_from_corpus(corpus_dir: Path, tasks_file: Path, write: bool = True) -> tuple[MergeResult, LoadReport]:
    """Fold the corpus's tasks into the tasks file as proposals; files that failed to read keep theirs."""
    specs, report = corpus_tasks(corpus_dir)
    unreadable = [p.file for p in report.errors]
    return refresh_proposals(Path(tasks_file), specs, unreadable, write=write), report
