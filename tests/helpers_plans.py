"""Helpers that write plan files the way offices receive them: Word files and PDFs with a text layer.

`write_text_pdf` is a small PDF writer of our own: no PDF-writing library is installed (reportlab
and fpdf2 are not among the project's pinned packages, and neither ships a CJK font). It writes a
real PDF 1.4 whose text layer is a Type0 font in Identity-H encoding with a ToUnicode map, which
is exactly what a PDF text library reads back; viewers without the named font show boxes, which
does not matter for a text layer. `write_scanned_pdf` writes a page that holds only a drawn
rectangle, like a scan: no text layer at all.
"""

from __future__ import annotations

from pathlib import Path

PAGE_W, PAGE_H = 595, 842
FONT_SIZE = 12
LEADING = 18
CHARS_PER_LINE = 38
LINES_PER_PAGE = 40


def _wrap(lines: list[str], width: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        if not line:
            out.append("")
        while line:
            out.append(line[:width])
            line = line[width:]
    return out


def _hex(text: str) -> str:
    return "".join(f"{ord(ch):04X}" if ord(ch) <= 0xFFFF else "FFFD" for ch in text)


def _to_unicode_cmap() -> bytes:
    ranges = "\n".join(f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256))
    body = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"100 beginbfrange\n{ranges[: ranges.index(chr(10) + '<64')]}\nendbfrange\n"
        f"100 beginbfrange\n{ranges[ranges.index('<64'): ranges.index(chr(10) + '<C8')]}\nendbfrange\n"
        f"56 beginbfrange\n{ranges[ranges.index('<C8'):]}\nendbfrange\n"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
    return body.encode("ascii")


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes) -> bytes:
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def write_text_pdf(path: Path, lines: list[str], width: int = CHARS_PER_LINE) -> Path:
    """A PDF whose text layer holds `lines`, each wrapped at `width` characters as a typesetter would."""
    wrapped = _wrap(lines, width)
    pages = [wrapped[i:i + LINES_PER_PAGE] for i in range(0, len(wrapped), LINES_PER_PAGE)] or [[]]
    # 1 catalog, 2 pages, 3 font, 4 descendant, 5 tounicode, then (page, content) pairs
    kids = " ".join(f"{6 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        b"/DescendantFonts [4 0 R] /ToUnicode 5 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        _stream(_to_unicode_cmap()),
    ]
    for n, page in enumerate(pages):
        ops = [f"BT /F1 {FONT_SIZE} Tf {LEADING} TL 50 {PAGE_H - 60} Td"]
        for line in page:
            ops.append(f"<{_hex(line)}> Tj T*")
        ops.append("ET")
        content = "\n".join(ops).encode("ascii")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {7 + 2 * n} 0 R >>".encode()
        )
        objects.append(_stream(content))
    path.write_bytes(_pdf(objects))
    return path


def write_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF like a scan: pages with drawn content and no text layer."""
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    for n in range(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                       f"/Resources << >> /Contents {4 + 2 * n} 0 R >>".encode())
        objects.append(_stream(b"0.5 g 50 50 495 742 re f"))
    path.write_bytes(_pdf(objects))
    return path


def write_plan_docx(path: Path, source: str) -> Path:
    """A .docx from a small markup: `T: ` title, `# `/`## ` headings, `- ` numbered items, `|a|b|` table rows."""
    import docx

    document = docx.Document()
    table_rows: list[list[str]] = []

    def flush_table() -> None:
        if not table_rows:
            return
        cols = max(len(r) for r in table_rows)
        grid = document.add_table(rows=len(table_rows), cols=cols)
        for r, row in enumerate(table_rows):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
        table_rows.clear()

    for line in source.splitlines():
        if line.startswith("|"):
            table_rows.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        flush_table()
        if line.startswith("T: "):
            document.add_heading(line[3:], level=0)
        elif line.startswith("## "):
            document.add_heading(line[3:], level=2)
        elif line.startswith("# "):
            document.add_heading(line[2:], level=1)
        elif line.startswith("- "):
            document.add_paragraph(line[2:], style="List Number")
        elif line.strip():
            document.add_paragraph(line)
    flush_table()
    document.save(str(path))
    return path
