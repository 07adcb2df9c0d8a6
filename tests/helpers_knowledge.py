"""Helpers for the knowledge tests: write plan files of every format into a temporary corpus folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from bot.config import ROOT

SHIPPED_CORPUS = ROOT / "knowledge" / "corpus"
HELDOUT = ROOT / "tests" / "data" / "knowledge"


def copy_shipped(target: Path) -> Path:
    """A private copy of the shipped corpus (tests add and break files in it)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED_CORPUS.iterdir():
        if path.is_file():
            shutil.copy(path, target / path.name)
    return target


def write_docx(path: Path, paragraphs: list[tuple[str, str | None]], table: list[list[str]] | None = None) -> Path:
    """A real .docx made with python-docx: (text, style or None) paragraphs, then an optional table."""
    import docx

    document = docx.Document()
    for text, style in paragraphs:
        if style == "Title":
            document.add_heading(text, level=0)
        elif style and style.startswith("Heading "):
            document.add_heading(text, level=int(style.split()[1]))
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


def load_questions(name: str) -> list[dict]:
    return [json.loads(line) for line in (HELDOUT / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def expect_met(text: str, expect: list[list[str]]) -> bool:
    """The same containment rule as the shared score.py (white space and quotes ignored)."""
    def norm(s: str) -> str:
        return re.sub(r"[\s“”\"‘’']", "", s)

    return any(all(norm(k) in norm(text) for k in alt) for alt in expect)
