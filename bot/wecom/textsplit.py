"""Cut text to WeCom's byte limits without breaking a character. Pure functions.

WeCom counts message length in UTF-8 bytes (2048 for text). A cut never falls inside a UTF-8
sequence, and avoids splitting an emoji sequence (ZWJ, variation selector, skin tone) or a base
character from its combining mark; it prefers a line break in the last quarter of a chunk.
"""

from __future__ import annotations

import unicodedata

TEXT_LIMIT_BYTES = 2048
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}


def _clings(ch: str) -> bool:
    """True for a character that must stay with the one before it."""
    return ch in _JOINERS or "\U0001f3fb" <= ch <= "\U0001f3ff" or "\U000e0020" <= ch <= "\U000e007f" or bool(
        unicodedata.combining(ch)
    )


def _cut_point(text: str, start: int, limit: int) -> int:
    """Index just past the longest prefix of text[start:] that fits in `limit` UTF-8 bytes, at a safe place."""
    size = 0
    end = start
    n = len(text)
    while end < n:
        width = len(text[end].encode("utf-8"))
        if size + width > limit:
            break
        size += width
        end += 1
    if end >= n:
        return n
    # Prefer a newline in the last quarter of the chunk, so paragraphs stay whole.
    newline = text.rfind("\n", start, end)
    if newline >= 0 and (newline + 1 - start) * 4 >= (end - start) * 3:
        return newline + 1
    safe = end
    while safe > start + 1 and (_clings(text[safe]) or text[safe - 1] == "\u200d"):
        safe -= 1
    return safe if safe > start else end


def split_by_bytes(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Split `text` into chunks of at most `limit` UTF-8 bytes each, in order, losing nothing."""
    if limit < 4:
        raise ValueError("limit must allow at least one character (4 bytes)")
    if len(text.encode("utf-8")) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = _cut_point(text, start, limit)
        chunks.append(text[start:end])
        start = end
    return chunks


def truncate_bytes(text: str, limit: int, suffix: str = "") -> str:
    """`text` cut to fit `limit` UTF-8 bytes including `suffix` (added only when something was cut)."""
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - len(suffix.encode("utf-8"))
    if room < 4:
        raise ValueError("limit too small for the suffix")
    return text[: _cut_point(text, 0, room)] + suffix
