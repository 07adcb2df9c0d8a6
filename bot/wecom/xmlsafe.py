"""Refuse dangerous XML before parsing, then parse with entities disabled.

Callbacks never carry a DTD, so any DOCTYPE or ENTITY declaration is refused outright (billion
laughs, quadratic blow-up, external entities). The check runs on the raw bytes; a user's chat text
quoting "<!DOCTYPE" inside a CDATA section is still accepted. The parser itself refuses any DTD
as a second line of defence (and xmltodict, which wechatpy uses, is pinned to >= 1.0, which raises
on entity declarations).
"""

from __future__ import annotations

import re
from typing import Any
from xml.parsers import expat
from xml.parsers.expat import ExpatError

from bot.wecom.errors import MalformedCallback

_DECL = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _declaration_outside_cdata(raw: bytes) -> bool:
    """Walk `<!` constructs in order, skipping CDATA sections and comments, looking for a declaration."""
    pos = 0
    while True:
        pos = raw.find(b"<!", pos)
        if pos < 0:
            return False
        if raw.startswith(b"<![CDATA[", pos):
            end = raw.find(b"]]>", pos + 9)
            if end < 0:
                return False  # unterminated: the parser refuses it
            pos = end + 3
        elif raw.startswith(b"<!--", pos):
            end = raw.find(b"-->", pos + 4)
            if end < 0:
                return False
            pos = end + 3
        elif _DECL.match(raw, pos):
            return True
        else:
            pos += 2


def ensure_safe_xml(raw: bytes) -> None:
    """Raise MalformedCallback for a DOCTYPE/ENTITY declaration or a non-UTF-8-compatible encoding."""
    if b"\x00" in raw or raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16/32 would hide "<!DOCTYPE" from a byte search; WeCom only sends UTF-8.
        raise MalformedCallback("XML must be UTF-8")
    if _DECL.search(raw) and _declaration_outside_cdata(raw):
        raise MalformedCallback("DTD or entity declaration refused")


class _Refused(Exception):
    pass


def _refuse(*_args: object) -> None:
    raise _Refused("DTD or entity declaration")


def parse_xml(raw: bytes, root: str = "xml") -> dict[str, Any]:
    """Check, then parse `raw` into {child tag: text} for the children of `<root>`.

    WeCom callbacks are flat: a root with text children. A child holding elements, or a tag that
    repeats, is kept as a non-string marker so `text_field` refuses it. pyexpat is used directly
    (the same parser xmltodict drives, at under half the cost for this shape), with every DTD
    hook refusing, behind the byte-level check above.
    """
    ensure_safe_xml(raw)
    out: dict[str, Any] = {}
    depth = 0
    current: str | None = None
    buf: list[str] = []
    root_seen: list[str] = []

    def start(name: str, attrs: Any) -> None:
        nonlocal depth, current, buf
        depth += 1
        if depth == 1:
            root_seen.append(name)
        elif depth == 2:
            current, buf = name, []
        elif depth == 3 and current is not None:
            out[current] = _NESTED  # element content where text was expected

    def end(name: str) -> None:
        nonlocal depth, current
        if depth == 2 and current is not None:
            if current in out:
                out[current] = _NESTED if out[current] is _NESTED else _REPEATED
            else:
                out[current] = "".join(buf)
            current = None
        depth -= 1

    def chars(data: str) -> None:
        if depth == 2:
            buf.append(data)

    parser = expat.ParserCreate("utf-8")
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(raw, True)
    except (ExpatError, _Refused, ValueError) as exc:
        raise MalformedCallback(f"not well-formed XML: {exc}") from None
    if root_seen != [root] or not out:
        raise MalformedCallback(f"XML root must be <{root}> with child elements")
    return out


_NESTED = ("nested",)
_REPEATED = ("repeated",)


def text_field(body: dict[str, Any], name: str) -> str | None:
    """A child element's text, or None when absent; nested elements or attributes are malformed."""
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise MalformedCallback(f"<{name}> must be a single text element")
