"""The fast ranker gives exactly the results of scoring everything in full (tests/helpers_ranker.py), on
random corpora and questions, through each of its paths: an index within the candidate cut, a small
index beyond it (gram sets narrowed to the candidates), and a large one (substring scans)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from knowledge import ranker as ranker_module
from knowledge.index import ClauseIndex, term_grams
from knowledge.matching import IndexedPieces, ScannedPieces, fuzzy_most, prepare, term_match, term_matches
from knowledge.query import analyse
from knowledge.ranker import Ranker
from knowledge.segment import Clause
from knowledge.synonyms import SynonymTable
from tests.helpers_ranker import reference_rank, reference_term_match

# Plan-like words, several of them built-in synonyms of each other, so questions and clauses share
# words, equivalents, heading words and bigrams in many combinations.
WORDS = ["统战", "统一战线", "工作", "宗教", "信息员", "联络员", "全年", "一年", "培训", "轮训", "不少于", "至少",
         "4次", "会议", "民营企业", "民企", "领导小组", "建立", "组建", "村居", "社区", "研究", "讨论", "方案",
         "计划", "党外人士", "网格员", "年底", "报送", "上报", "信息", "稿件", "谁来干", "两", "月"]
QUESTION_WORDS = ["怎么", "几次", "要不要", "什么", "吗", "咋", "哪些", "有没有"]
HEADINGS = ["宗教工作", "统战工作", "民营经济", "信息工作", "党外人士工作", "基层统战"]
heading_titles = st.one_of(st.sampled_from(HEADINGS), st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map("".join))
SYNONYMS = SynonymTable.build()

word_runs = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8)
punctuation = st.sampled_from(["", "", "，", "。", "、"])


@st.composite
def clauses(draw: st.DrawFn) -> list[Clause]:
    count = draw(st.integers(min_value=1, max_value=14))
    out = []
    for n in range(count):
        words = draw(word_runs)
        text = "".join(w + draw(punctuation) for w in words)
        if draw(st.integers(0, 9)) == 0:
            text = text.replace("工作", "工做", 1)  # a typo: partial credit for bigrams
        headings = tuple(draw(st.lists(heading_titles, min_size=0, max_size=2)))
        heading = draw(st.booleans()) and n % 3 == 0
        out.append(Clause(text=text or "空", doc="d", file="f.txt", section=" > ".join(headings), headings=headings,
                          clause_id=f"f.txt#{n}", is_heading=heading, has_children=heading and draw(st.booleans())))
    return out


@st.composite
def questions(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(WORDS + QUESTION_WORDS + ["天气", "工资", "工做"]), min_size=1, max_size=6))
    return "".join(words)


def _index(texts: list[Clause], small: bool) -> ClauseIndex:
    index = ClauseIndex(texts)
    index.small = small  # a large index's path (substring scans) on a few clauses
    return index


@pytest.mark.parametrize(("small", "candidates", "pool"), [(True, 200, 40), (True, 4, 40), (True, 4, 3),
                                                          (False, 200, 40), (False, 4, 3)])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=clauses(), asked=st.lists(questions(), min_size=1, max_size=3))
def test_rank_equals_full_scoring(monkeypatch: pytest.MonkeyPatch, small: bool, candidates: int, pool: int,
                                  corpus: list[Clause], asked: list[str]) -> None:
    monkeypatch.setattr(ranker_module, "CANDIDATES", candidates)
    monkeypatch.setattr(ranker_module, "FUZZY_POOL", pool)
    index = _index(corpus, small)
    ranker = Ranker(index)
    for question in asked * 2:  # the second time through the ranker's term memo
        plan = analyse(question, SYNONYMS)
        for limit in (1, 3, 10):
            expected = reference_rank(index, plan, limit, candidates, pool)
            assert [tuple(s) for s in ranker.rank(plan, limit)] == expected, (question, limit)
            # Runners-up below a floor left out, as the retriever would drop them.
            for floor in (0.4, 0.7):
                kept = expected[:1] + [s for s in expected[1:] if s[1] >= floor]
                assert [tuple(s) for s in ranker.rank(plan, limit, floor)] == kept, (question, limit, floor)


@settings(max_examples=150, deadline=None)
@given(corpus=clauses(), question=questions(), small=st.booleans())
def test_term_matches_equal_term_match_on_every_clause(corpus: list[Clause], question: str, small: bool) -> None:
    index = _index(corpus, small)
    everyone = list(range(index.size))
    pieces = IndexedPieces(index, set(everyone)) if small else ScannedPieces(index, everyone)
    for term in analyse(question, SYNONYMS).terms:
        found = term_matches(prepare(term), pieces)
        for number in everyone:
            body, head = index.bodies[number], index.heads[number]
            expected = reference_term_match(term, body, head)
            assert term_match(term, body, head) == expected
            assert found.get(number, 0.0) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="统战工作宗教信息|ab", max_size=10), st.lists(st.text(alphabet="统战工作宗教信息|ab", max_size=12),
                                                          min_size=1, max_size=6))
def test_piece_lookups_are_substring_tests(piece: str, texts: list[str]) -> None:
    index = ClauseIndex([Clause(text=t or "空", doc="d", file="f", section="", headings=(t[:3],) if t else (),
                                clause_id=f"f#{n}") for n, t in enumerate(texts)])
    body, head = index.containing(piece)
    assert set(body) == {n for n, b in enumerate(index.bodies) if piece in b}
    assert set(head) == {n for n, h in enumerate(index.heads) if piece in h}
    for gram in term_grams(piece):  # the candidate search's view: the n-gram postings
        assert index.clauses_with([gram]) == set(index.postings(gram).tolist())


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="统战工作宗教信息员年培训ab", min_size=2, max_size=12),
       st.text(alphabet="统战工作宗教信息员年培训abc", max_size=80))
def test_fuzzy_bound_is_never_below_partial_ratio(asked: str, text: str) -> None:
    counts = tuple({c: asked.count(c) for c in asked}.items())
    assert fuzz.partial_ratio(asked, text) / 100 <= fuzzy_most(counts, len(asked), text)


def test_ranker_matches_the_reference_on_the_shipped_corpus() -> None:
    from bot.config import build_settings
    from knowledge.retriever import Retriever
    from tests.helpers_knowledge import HELDOUT, load_questions

    index = Retriever.load(build_settings({}).knowledge)._snapshot.index
    ranker = Ranker(index)
    asked = [q["q"] for path in sorted(HELDOUT.glob("heldout*_questions.jsonl")) for q in load_questions(path.name)]
    assert len(asked) > 400
    for question in asked:
        plan = analyse(question, SYNONYMS)
        assert [tuple(s) for s in ranker.rank(plan, 3)] == reference_rank(index, plan, 3), question


def test_word_memo_does_not_keep_a_replaced_synonym_table_alive() -> None:
    """Regression: a cache keyed by the synonym table kept every table a reload replaced."""
    import gc
    import weakref

    table = SynonymTable.build({"示范村": ["样板村"]})
    plan = analyse("示范村怎么评", table)
    assert any(alt == "样板村" for term in plan.terms for alt, _ in term.alternatives)
    gone = weakref.ref(table)
    del table, plan
    gc.collect()
    assert gone() is None
