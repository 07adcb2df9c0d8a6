"""The n-gram index: numpy-built postings equal the plain definition; candidates rank by gram weight."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from knowledge.index import build_postings, grams


def naive_postings(texts: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for number, text in enumerate(texts):
        for gram in sorted(grams(text)):
            out.setdefault(gram, []).append(number)
    return out


@given(st.lists(st.text(alphabet="统战工作宗教|ab1", max_size=12), min_size=1, max_size=30))
def test_postings_match_the_definition(texts: list[str]) -> None:
    built = build_postings(texts)
    assert {g: p.tolist() for g, p in built.items()} == naive_postings(texts)


def test_heading_separator_breaks_bigrams() -> None:
    built = build_postings(["宗教|工作", "教工"])
    assert built["教工"].tolist() == [1]
    assert "|" not in built and "教|" not in built


def test_candidates_rank_by_summed_weight() -> None:
    from knowledge.index import ClauseIndex
    from knowledge.segment import Clause

    def clause(text: str, n: int) -> Clause:
        return Clause(text=text, doc="d", file="f", section="", headings=(), clause_id=f"f#{n}")

    index = ClauseIndex([clause("宗教工作", 0), clause("民族工作", 1), clause("宗教场所", 2)])
    ranked = index.candidates([("宗教", 2.0), ("工作", 1.0)], limit=2).tolist()
    assert ranked == [0, 2]
    assert index.df("工作") == 2 and index.df("宗教场所") == 1 and index.df("天气") == 0
