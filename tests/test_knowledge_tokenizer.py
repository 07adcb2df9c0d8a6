"""The question tokenizer's own segmentation gives exactly jieba's cut(text, HMM=False) words."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.ingest import load_corpus
from knowledge.tokenizer import cut, get_tokenizer
from tests.helpers_knowledge import HELDOUT, SHIPPED_CORPUS, load_questions


def jieba_words(text: str) -> list[str]:
    return [w for w in get_tokenizer().cut(text, HMM=False) if w.strip()]


# Characters of the plans, question words, letters, digits, jieba's joiners and white space.
ALPHABET = "统一战线工作宗教信息员联络全年培训几回次不少于民营企业家领导小组建立怎么要求的了吗党外人士村居社区" \
           "abcXYZ0129 _-.%#&+\t\r\n，。？！、“”"


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_cut_equals_jieba(text: str) -> None:
    assert cut(text) == jieba_words(text)


def test_cut_equals_jieba_on_every_question_and_clause() -> None:
    texts = [q["q"] for path in sorted(HELDOUT.glob("*_questions.jsonl")) for q in load_questions(path.name)]
    texts += [c.text for c in load_corpus(SHIPPED_CORPUS).clauses]
    assert len(texts) > 500
    for text in texts:
        assert cut(text) == jieba_words(text), text
