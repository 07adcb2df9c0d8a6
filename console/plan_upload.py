"""知识库 uploads: a plan file is checked in a staging folder first (its load report: clauses,
sections, lines dropped as page furniture, tasks it would propose), and only goes live, into the
corpus folder, when the office confirms. Removing a file takes it out of the corpus folder."""

from __future__ import annotations

import re
import secrets
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.ingest import load_corpus, read_document
from knowledge.readers import SUPPORTED_SUFFIXES, UnreadableFile, unsupported_reason
from knowledge.segment import Clause

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_SUFFIXES = tuple(sorted({*SUPPORTED_SUFFIXES}))
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_BAD_NAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")


class UploadRefused(ValueError):
    """The file may not be staged (type, size, name, unreadable); the message is for the office."""


@dataclass
class FileReport:
    """What one plan file would bring: its clauses by section and the tasks found in it."""

    name: str
    token: str
    title: str
    title_found: bool
    clauses: list[Clause]
    dropped: list[tuple[str, str]]  # (text, why) of every line left out as page furniture
    sections: list[tuple[str, int]]
    tasks: list[object] = field(default_factory=list)  # tracking.taskspec.TaskSpec
    replaces: bool = False


def safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip()
    if not base or base.startswith(".") or _BAD_NAME.search(base) or len(base) > 120:
        raise UploadRefused("文件名不可用")
    return base


def stage(uploads: Path, name: str, content: bytes) -> tuple[str, Path]:
    """Keep the upload under uploads/<token>/<name>; refuses a wrong type or a file too large."""
    name = safe_name(name)
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadRefused(f"type:{unsupported_reason(Path(name))}")
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRefused("size")
    token = secrets.token_urlsafe(12)
    folder = uploads / token
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return token, path


def staged(uploads: Path, token: str) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    folder = uploads / token
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    return files[0] if len(files) == 1 else None


def check(path: Path, token: str, corpus_dir: Path) -> FileReport:
    """One staged file read exactly as the corpus would read it (knowledge.ingest.read_document), and
    the tasks the plans issue's extraction would propose from its clauses."""
    from tracking.extract import extract_from_clauses

    try:
        reading = read_document(path)
    except UnreadableFile as exc:
        raise UploadRefused(f"unreadable:{exc}") from None
    except Exception as exc:  # noqa: BLE001 - a malformed upload is refused, never a crash
        raise UploadRefused(f"unreadable:{exc.__class__.__name__}") from None
    clauses = list(reading.clauses)
    if not clauses:
        raise UploadRefused("empty")
    sections = Counter(c.section or c.doc for c in clauses)
    return FileReport(path.name, token, reading.title, reading.title_found, clauses,
                      [(d.text, d.reason) for d in reading.dropped], list(sections.items()),
                      extract_from_clauses(clauses), (corpus_dir / path.name).exists())


def refresh_task_proposals(corpus_dir: Path, tasks_file: Path) -> list[str]:
    """Fold the corpus's tasks into tasks.yaml as proposals (the plans issue's rules: the office's
    edits kept, a removed file's proposals retired); returns the keys newly proposed."""
    from tracking.extract import extract_from_clauses
    from tracking.proposals import refresh_proposals

    loaded = load_corpus(corpus_dir)
    result = refresh_proposals(tasks_file, extract_from_clauses(loaded.clauses),
                               [p.file for p in loaded.report.errors])
    return list(result.added)


def go_live(uploads: Path, token: str, corpus_dir: Path) -> str | None:
    """Move the staged file into the corpus folder (replacing a file of the same name atomically)."""
    path = staged(uploads, token)
    if path is None:
        return None
    corpus_dir.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(corpus_dir / path.name))
    shutil.rmtree(path.parent, ignore_errors=True)
    return path.name


def remove(corpus_dir: Path, name: str) -> bool:
    try:
        target = corpus_dir / safe_name(name)
    except UploadRefused:
        return False
    if not target.is_file():
        return False
    target.unlink()
    return True


def corpus_files(corpus_dir: Path, clauses: list[Clause]) -> list[tuple[str, int, int]]:
    """(file name, clauses live, size in bytes) of the corpus folder's plan files."""
    counts = Counter(c.file for c in clauses)
    if not corpus_dir.is_dir():
        return []
    return [(p.name, counts.get(p.name, 0), p.stat().st_size) for p in sorted(corpus_dir.iterdir())
            if p.is_file() and p.suffix.lower() in ALLOWED_SUFFIXES and not p.name.startswith(".")]
