"""Read plan files (.txt, .md, .docx) into raw lines, each with an explicit heading level when the format has one.

Plain text has no explicit levels (headings are found later from their numbering). Markdown `#` headings
and Word "Heading N"/"标题 N"/"Title" paragraphs carry one. A file that cannot be read raises
`UnreadableFile` with a short reason; the loader reports it by name and carries on with the rest.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".docx")
MAX_FILE_BYTES = 20 * 1024 * 1024


class UnreadableFile(Exception):
    """A plan file that could not be read; the message says why, in a few words."""


@dataclass(frozen=True)
class SourceLine:
    text: str
    level: int | None = None  # 0 = document title, 1 = top heading (# / Heading 1); None = body or numbered


def read_file(path: Path) -> list[SourceLine]:
    """The file's lines; raises UnreadableFile."""
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"cannot stat: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"too large ({size} bytes)")
    if suffix == ".docx":
        return _read_docx(path)
    text = _decode(_read_bytes(path))
    if suffix in (".md", ".markdown"):
        return _markdown_lines(text)
    return [SourceLine(line) for line in text.splitlines()]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot open: {exc.strerror or exc}") from None


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise UnreadableFile("binary content, not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("not UTF-8 or GB18030 text")


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|>+)\s+")
_MD_RULE = re.compile(r"^\s*([-*_=])\s*(\1\s*){2,}$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`|~~)")
_HTML_TAG = re.compile(r"<[^>]{1,200}>")


def _markdown_lines(text: str) -> list[SourceLine]:
    out: list[SourceLine] = []
    in_code = False
    for raw in text.splitlines():
        if raw.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code or _MD_RULE.match(raw):
            continue
        line = _HTML_TAG.sub("", _MD_LINK.sub(r"\1", raw))
        m = _MD_HEADING.match(line)
        if m:
            out.append(SourceLine(_MD_EMPHASIS.sub("", m.group(2)), level=len(m.group(1))))
            continue
        line = _MD_LIST.sub("", line)
        if line.strip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            line = ",".join(c for c in cells if c)
        out.append(SourceLine(_MD_EMPHASIS.sub("", line)))
    return out


_DOCX_HEADING = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def _read_docx(path: Path) -> list[SourceLine]:
    try:
        import docx  # python-docx; imported here so plain-text corpora start faster
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        raise UnreadableFile("python-docx is not installed") from None
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(f"not a readable .docx ({exc.__class__.__name__})") from None
    out: list[SourceLine] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = docx.text.paragraph.Paragraph(child, document)
            out.append(SourceLine(para.text, level=_docx_level(para)))
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            for row in table.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = cell.text.strip()
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                out.append(SourceLine(",".join(cells)))
    return out


def _docx_level(para: object) -> int | None:
    style = getattr(para, "style", None)
    name = (getattr(style, "name", "") or "").strip()
    if name.lower() == "title":
        return 0
    m = _DOCX_HEADING.match(name)
    return int(m.group(1)) if m else None
