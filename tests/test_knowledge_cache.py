"""The answer cache: a repeated question is answered from memory, a reload never serves stale clauses."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.config import ROOT, KnowledgeSettings
from knowledge.retriever import AnswerCache, Retriever


def test_repeat_question_is_cached_and_reload_drops_the_cache(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "knowledge" / "corpus", corpus)
    retriever = Retriever.load(KnowledgeSettings(corpus_dir=corpus))
    first = retriever.search("统战信息每个月要报几篇")
    assert first.answered
    assert retriever.search("统战信息每个月要报几篇") is first
    assert retriever.search("统战信息每个月要报几篇", top=1) is not first  # the key includes top

    for f in corpus.iterdir():
        f.write_text(f.read_text(encoding="utf-8").replace("每月至少报送3篇", "每月至少报送5篇"), encoding="utf-8")
    retriever.reload()
    again = retriever.search("统战信息每个月要报几篇")
    assert again is not first
    assert "每月至少报送5篇" in again.hits[0].text


def test_cache_is_bounded_least_recently_used_first() -> None:
    cache = AnswerCache(2)
    a, b, c = object(), object(), object()
    cache.put(("a", 3), a)  # type: ignore[arg-type]
    cache.put(("b", 3), b)  # type: ignore[arg-type]
    assert cache.get(("a", 3)) is a  # a is now the most recent
    cache.put(("c", 3), c)  # type: ignore[arg-type]
    assert cache.get(("b", 3)) is None
    assert cache.get(("a", 3)) is a and cache.get(("c", 3)) is c
