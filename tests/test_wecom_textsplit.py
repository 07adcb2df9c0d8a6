"""Splitting text at WeCom's 2048-byte limit on character boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wecom.textsplit import split_by_bytes, truncate_bytes

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one emoji of 7 code points, 25 bytes


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=4, max_value=3000))
@settings(max_examples=300)
def test_chunks_fit_and_lose_nothing(text: str, limit: int):
    chunks = split_by_bytes(text, limit)
    assert "".join(chunks) == text
    assert all(0 < len(c.encode("utf-8")) <= limit for c in chunks)


def test_chinese_and_emoji_split_at_2048_bytes():
    text = ("统战工作联络员" * 200) + ("😀" * 300)  # 4200 + 1200 bytes
    chunks = split_by_bytes(text)
    assert len(chunks) == 3
    assert all(len(c.encode()) <= 2048 for c in chunks)
    assert "".join(chunks) == text
    for c in chunks:
        c.encode("utf-8").decode("utf-8")  # each piece is valid UTF-8 on its own


def test_an_emoji_sequence_is_not_cut_in_the_middle():
    text = "好" * 675 + FAMILY * 3  # 2025 bytes of Chinese, then 25-byte emoji sequences
    chunks = split_by_bytes(text)
    assert "".join(chunks) == text
    assert chunks[0] == "好" * 675 and chunks[1] == FAMILY * 3


def test_a_line_break_near_the_end_is_preferred():
    text = "甲" * 600 + "\n" + "乙" * 600
    chunks = split_by_bytes(text)
    assert chunks == ["甲" * 600 + "\n", "乙" * 600]


def test_short_text_is_one_chunk_and_empty_is_none():
    assert split_by_bytes("你好") == ["你好"]
    assert split_by_bytes("") == []


def test_truncate_adds_the_suffix_only_when_cutting():
    assert truncate_bytes("abc", 10, "…") == "abc"
    cut = truncate_bytes("汉" * 100, 30, "…")
    assert len(cut.encode()) <= 30 and cut.endswith("…") and cut.startswith("汉" * 8)


def test_tiny_limits_are_refused():
    with pytest.raises(ValueError):
        split_by_bytes("abc", 3)
