"""Tiny HTML rendering for the admin pages: escaped tables in a phone-friendly layout. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from console import texts

_STYLE = """
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#b71c1c;color:#fff;padding:10px 14px;font-size:18px}
nav a{display:inline-block;margin:8px 10px 0 0;color:#b71c1c;text-decoration:none}
main{padding:10px 14px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{border:1px solid #ddd;padding:6px;text-align:left;vertical-align:top}
th{background:#fafafa}
.behind{color:#c62828;font-weight:bold}.ok{color:#2e7d32}
form{margin:8px 0}.note{color:#555;font-size:13px}
.wrap{overflow-x:auto}
"""


def page(title: str, body: str) -> str:
    nav = "".join(f'<a href="{href}">{escape(label)}</a>' for href, label in texts.NAV)
    return (
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{escape(title)} · {escape(texts.TITLE)}</title><style>{_STYLE}</style></head>"
        f"<body><header>{escape(texts.TITLE)}</header><main><nav>{nav}</nav><h2>{escape(title)}</h2>"
        f"{body}</main></body></html>"
    )


def table(head: Sequence[str], rows: Iterable[Sequence[object]], *, raw_columns: frozenset[int] = frozenset()) -> str:
    """A table; cells are escaped except the columns listed in raw_columns (already-safe HTML)."""
    body = []
    for row in rows:
        cells = "".join(
            f"<td>{cell if i in raw_columns else escape('' if cell is None else str(cell))}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(head)}">{escape(texts.EMPTY)}</td></tr>')
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f'<div class="wrap"><table><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def ratio(done: int, target: int) -> str:
    css = "ok" if done >= target else "behind"
    return f'<span class="{css}">{done}/{target}</span>'
