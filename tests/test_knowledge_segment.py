"""Clauses and heading paths: numbered headings (doc 000), run-in headings (doc 004), phone-sized clauses."""

from __future__ import annotations

import re
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.ingest import load_corpus
from knowledge.segment import MAX_CLAUSE_CHARS, MIN_TAIL_CHARS, Clause, segment, split_text
from tests.helpers_knowledge import SHIPPED_CORPUS


@pytest.fixture(scope="module")
def clauses() -> list[Clause]:
    return load_corpus(SHIPPED_CORPUS).clauses


def find(clauses: list[Clause], needle: str) -> Clause:
    found = [c for c in clauses if needle in c.text]
    assert len(found) == 1, f"{needle!r} in {len(found)} clauses"
    return found[0]


def test_numbered_heading_paths(clauses: list[Clause]) -> None:
    assert find(clauses, "促进宗教活动场所规范化建设").section == "五、宗教工作 > (三)着力提高宗教事务法治化管理水平"
    assert find(clauses, "年初有计划").section == "四、民族工作 > (一)认真贯彻落实民族工作重大决策部署"
    assert find(clauses, "全年研究统一战线工作不少于两次").section == "一、加党对统战工作的领导"
    assert find(clauses, "每月至少报送3篇").section == "十一、信息工作"
    # an unnumbered body line belongs to the heading above it
    assert find(clauses, "持续深入开展宗教界教风整治活动").section == "五、宗教工作 > (四)推动宗教界加强自身建设"


def test_run_in_headings_become_sections(clauses: list[Clause]) -> None:
    politics = find(clauses, "深刻理解“两个确立”")
    assert politics.text.startswith("强化政治引领 ")
    assert politics.section == "一、把握一条主线"
    assert find(clauses, "政治交接主题教育").section == "三、推动各领域统战工作、争先创优、走在前列"
    # a heading alone on its line ("民营经济统战工作方面") heads the paragraph below it
    assert find(clauses, "亲清政商关系").section == (
        "三、推动各领域统战工作、争先创优、走在前列 > 民营经济统战工作方面")
    # paragraphs without a run-in heading stay under the last one
    assert find(clauses, "海外华文媒体看黄河").section == "二、充分发挥法宝作用 > 积极助推我省“三个走在前”"


def test_boilerplate_and_titles_are_not_clauses(clauses: list[Clause]) -> None:
    texts = " ".join(c.text for c in clauses)
    for junk in ("网友", "小编", "供您参考", "藏经阁", "推荐访问", "下一篇", "PPT课件"):
        assert junk not in texts
    assert not any(c.text in ("乡镇街道2024年统战工作要点", "2022年统战工作要点(全文)") for c in clauses)


def test_broken_line_is_rejoined(clauses: list[Clause]) -> None:
    assert any("聚焦“国之大者”审视统战工作" in c.text for c in clauses)


def test_clauses_are_phone_sized_and_never_a_whole_section(clauses: list[Clause]) -> None:
    lengths = [len(c.text) for c in clauses]
    assert max(lengths) <= MAX_CLAUSE_CHARS
    assert statistics.median(lengths) <= 120
    religion = [c for c in clauses if c.section.startswith("五、宗教工作")]
    assert len(religion) >= 10  # the section is many clauses, not one


def test_long_paragraph_is_split_and_continuations_carry_its_title(clauses: list[Clause]) -> None:
    parts = [c for c in clauses if "宗教" in c.text and c.section.startswith("五、宗教工作 > (一)")]
    first = find(clauses, "3.解决宗教领域突出问题")
    rest = [c for c in parts if c.section.endswith("> 3.解决宗教领域突出问题")]
    assert rest, "the continuation of item 3 keeps item 3 in its section"
    assert "".join([first.text] + [c.text for c in rest]).count("私设聚会点") == 2


def test_clause_ids_are_unique_and_name_the_file(clauses: list[Clause]) -> None:
    ids = [c.clause_id for c in clauses]
    assert len(set(ids)) == len(ids)
    assert all(re.match(r"^00[04]_[0-9a-f]+\.txt#\d+$", i) for i in ids)


def test_heading_levels_nest_and_reset() -> None:
    lines = ["一、甲", "(一)乙。正文一。", "1.丙。", "(1)丁。", "二、戊", "正文二。"]
    got = {c.text: c.section for c in segment(lines, [None] * len(lines), "t.txt", "t")}
    assert got["(一)乙。正文一。"] == "一、甲"
    assert got["1.丙。"] == "一、甲 > (一)乙"
    assert got["(1)丁。"] == "一、甲 > (一)乙 > 1.丙"
    assert got["正文二。"] == "二、戊"


@given(st.lists(st.sampled_from(["统战工作", "每月报送", "信息", "两篇", ",", "、", "。", ";", "!", "民族团结进步"]),
                min_size=1, max_size=120))
def test_split_text_keeps_every_character_in_order(pieces: list[str]) -> None:
    text = "".join(pieces).strip()
    parts = split_text(text)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    assert all(len(p) < MAX_CLAUSE_CHARS + MIN_TAIL_CHARS for p in parts)


def test_repeated_lines_are_kept_once_per_section() -> None:
    lines = ["一、民族工作", "1.开展教育宣讲。", "1.开展教育宣讲。", "二、宗教工作", "1.开展教育宣讲。"]
    got = [(c.section, c.text) for c in segment(lines, [None] * len(lines), "t.txt", "t") if not c.is_heading
           or c.text.startswith("1.")]
    assert got == [("一、民族工作", "1.开展教育宣讲。"), ("二、宗教工作", "1.开展教育宣讲。")]
