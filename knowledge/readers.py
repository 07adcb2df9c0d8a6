"""Read plan files (.txt, .md, .docx, .pdf) into raw lines, each with an explicit heading level when the format has one.

Plain text has no explicit levels (headings are found later from their numbering). Markdown `#` headings
and Word "Heading N"/"标题 N"/"Title" paragraphs carry one; Word numbered-list paragraphs are marked as
list items (their number is not in the text). A PDF is read through its text layer with pypdf (the
maintained pure-Python PDF library); its lines are as typeset, so a paragraph comes back broken
across lines and is rejoined later. A file that cannot be read raises `UnreadableFile` with a short
reason in the office's words (texts.py), saying what to do: an old .doc or a .wps file should be saved
as .docx, a scanned PDF has no text to read. The loader reports it by name and carries on with the rest.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from knowledge import texts

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".docx", ".pdf")
# Formats an office may well drop in that we cannot read, each with what to do about it.
KNOWN_UNSUPPORTED = {".doc": texts.READ_OLD_WORD, ".wps": texts.READ_WPS, ".et": texts.READ_SHEET,
                     ".xls": texts.READ_SHEET, ".xlsx": texts.READ_SHEET, ".rtf": texts.READ_OLD_WORD,
                     ".ppt": texts.READ_SLIDES, ".pptx": texts.READ_SLIDES, ".dps": texts.READ_SLIDES,
                     ".jpg": texts.READ_IMAGE, ".jpeg": texts.READ_IMAGE, ".png": texts.READ_IMAGE,
                     ".ofd": texts.READ_OFD, ".html": texts.READ_HTML, ".htm": texts.READ_HTML}
MAX_FILE_BYTES = 20 * 1024 * 1024
MIN_PDF_CHARS_PER_PAGE = 20  # fewer letters than this on average: a scan, not a text layer


class UnreadableFile(Exception):
    """A plan file that could not be read; the message says why, in a few words."""


@dataclass(frozen=True)
class SourceLine:
    text: str
    level: int | None = None  # 0 = document title, 1 = top heading (# / Heading 1); None = body or numbered
    list_item: bool = False  # a Word numbered/bulleted paragraph: an item of its own, never a heading


def unsupported_reason(path: Path) -> str:
    """What the load report says about a file whose type cannot be read, with what to do."""
    return KNOWN_UNSUPPORTED.get(path.suffix.lower(), texts.READ_UNKNOWN.format(suffix=path.suffix or "(无)"))


def read_file(path: Path) -> list[SourceLine]:
    """The file's lines; raises UnreadableFile."""
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"cannot stat: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(texts.READ_TOO_LARGE.format(size=size))
    if suffix == ".docx":
        return _read_docx(path)
    if suffix == ".pdf":
        return _read_pdf(path)
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(unsupported_reason(path))
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
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2: an old .doc/.wps saved under another name
        raise UnreadableFile(texts.READ_OLD_WORD)
    if b"\x00" in data[:4096]:
        raise UnreadableFile(texts.READ_BINARY)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(texts.READ_ENCODING)


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
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError):
        if _read_bytes(path)[:4] == b"\xd0\xcf\x11\xe0":
            raise UnreadableFile(texts.READ_OLD_WORD) from None
        raise UnreadableFile(texts.READ_BAD_DOCX) from None
    out: list[SourceLine] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = docx.text.paragraph.Paragraph(child, document)
            level = _docx_level(para)
            out.append(SourceLine(para.text, level=level, list_item=level is None and _docx_is_list(para)))
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


def _docx_is_list(para: object) -> bool:
    """A numbered or bulleted paragraph, by its list style or its own numbering properties."""
    style = getattr(para, "style", None)
    name = (getattr(style, "name", "") or "").lower()
    if name.startswith(("list", "列表")):
        return True
    element = getattr(para, "_p", None)
    ppr = getattr(element, "pPr", None)
    return ppr is not None and getattr(ppr, "numPr", None) is not None


def _read_pdf(path: Path) -> list[SourceLine]:
    """The text layer's lines, page by page; a PDF with (almost) no text is a scan and is refused."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        raise UnreadableFile("pypdf is not installed") from None
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise UnreadableFile(texts.READ_PDF_LOCKED)
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError):
        raise UnreadableFile(texts.READ_BAD_PDF) from None
    letters = sum(len(re.sub(r"\s", "", p)) for p in pages)
    if not pages or letters < MIN_PDF_CHARS_PER_PAGE * len(pages):
        raise UnreadableFile(texts.READ_SCANNED_PDF)
    return [SourceLine(line) for page in pages for line in page.splitlines()]
