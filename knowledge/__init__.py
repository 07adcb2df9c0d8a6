"""The knowledge base: plan documents in, phone-sized clauses out (see knowledge.retriever).

Public names are loaded lazily so `run.py` verbs that never ask a question start without numpy/jieba.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Hit", "LoadReport", "Retriever", "SearchResult"]


def __getattr__(name: str) -> Any:
    if name in ("Hit", "Retriever", "SearchResult"):
        from knowledge import retriever

        return getattr(retriever, name)
    if name == "LoadReport":
        from knowledge.ingest import LoadReport

        return LoadReport
    raise AttributeError(name)
