"""Phone typing: pinyin homophones and near sounds, shape-alike characters, traditional characters."""

from __future__ import annotations

from knowledge.index import ClauseIndex
from knowledge.normalize import fold_traditional, index_text
from knowledge.retriever import Retriever
from knowledge.segment import Clause
from knowledge.slips import SlipFixer, char_sounds

TEXTS = [
    "加强统战工作人员队伍建设,每季度开展一次统战业务培训。",
    "组织宗教教职人员开展法治宣传,增强信教群众法治观念。",
    "开展民族团结进步创建活动,每年评选一批示范单位。",
    "建立党外干部信息库,做好跟踪培养。",
]


def _clauses() -> list[Clause]:
    return [Clause(text=t, doc="测试要点", file="t.txt", section="一、工作", headings=("一、工作",),
                   clause_id=f"t#{i}") for i, t in enumerate(TEXTS)]


def test_homophones_near_sounds_and_shapes_find_corpus_words() -> None:
    fixer = SlipFixer(ClauseIndex(_clauses()))
    assert "统战" in fixer.variants("统站")  # same sound
    assert "宗教" in fixer.variants("宗交")
    assert "团结" in fixer.variants("团节")
    assert "法治" in fixer.variants("法冶")  # shape-alike
    assert "培训" in fixer.variants("陪训")
    assert fixer.variants("统战") == []  # a word the corpus has is no slip
    assert fixer.variants("天气") == []  # nothing in the corpus sounds like it


def test_near_sounds_are_one_key() -> None:
    assert set(char_sounds("族")) & set(char_sounds("足"))  # zu, same sound
    assert set(char_sounds("星")) & set(char_sounds("心"))  # xing / xin, often not told apart
    assert set(char_sounds("长")) >= {"can", "zan"}  # every reading of a polyphonic character (loose form)


def test_typed_slips_and_traditional_reach_the_clause() -> None:
    retriever = Retriever.from_clauses(_clauses())
    for question in ("统站业务陪训多久一次", "黨外幹部跟蹤培養", "增强信教群众法冶观念", "民族团节进步创建"):
        result = retriever.search(question)
        best = (result.hits or result.did_you_mean)[0]
        assert best.text in TEXTS, question
    shown = retriever.search("黨外幹部信息庫").hits[0]
    assert shown.text == TEXTS[3]  # the reply shows the document's own (simplified) text


def test_traditional_folding_is_for_matching_only() -> None:
    assert fold_traditional("統戰工作領導小組") == "统战工作领导小组"
    assert fold_traditional("统战工作") == "统战工作"
    assert index_text("黨外幹部 ①") == index_text("党外干部 ①")
