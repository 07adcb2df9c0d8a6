"""Refuse dangerous XML before parsing, then parse with entities disabled.

Callbacks never carry a DTD, so any DOCTYPE or ENTITY declaration is refused outright (billion
laughs, quadratic blow-up, external entities). The check runs on the raw bytes; a user's chat text
quoting "<!DOCTYPE" inside a CDATA section is still accepted. xmltodict >= 1.0 also raises on an
entity declaration, as a second line of defence.
"""

from __future__ import annotations

import re
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict

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


def parse_xml(raw: bytes, root: str = "xml") -> dict[str, Any]:
    """Check, then parse `raw` into a dict of the children of `<root>`; MalformedCallback otherwise."""
    ensure_safe_xml(raw)
    try:
        doc = xmltodict.parse(raw, encoding="utf-8", disable_entities=True, strip_whitespace=False)
    except (ExpatError, ValueError) as exc:
        raise MalformedCallback(f"not well-formed XML: {exc}") from None
    body = doc.get(root) if isinstance(doc, dict) else None
    if not isinstance(body, dict):
        raise MalformedCallback(f"XML root must be <{root}> with child elements")
    return body


def text_field(body: dict[str, Any], name: str) -> str | None:
    """A child element's text, or None when absent; nested elements or attributes are malformed."""
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise MalformedCallback(f"<{name}> must be a single text element")
