"""Ingestion: every file format, unreadable files reported by name, reload without restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.ingest import document_clauses, load_corpus
from knowledge.retriever import Retriever
from tests.helpers_knowledge import copy_shipped, write_docx


def test_shipped_corpus_loads_both_documents_with_titles() -> None:
    from tests.helpers_knowledge import SHIPPED_CORPUS

    loaded = load_corpus(SHIPPED_CORPUS)
    assert loaded.report.ok
    assert loaded.report.files == 2
    docs = {c.doc for c in loaded.clauses}
    assert docs == {"乡镇街道2024年统战工作要点", "2022年统战工作要点(全文)"}
    assert loaded.report.clauses == len(loaded.clauses) > 100


def test_txt_in_gb18030_is_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes("村居联络员工作要点\n一、信息报送\n1.每月报送活动信息不少于2篇。\n".encode("gb18030"))
    clauses = document_clauses(path)
    assert clauses[0].doc == "村居联络员工作要点"
    assert any("每月报送活动信息不少于2篇" in c.text and c.section == "一、信息报送" for c in clauses)


def test_markdown_headings_lists_and_links(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text(
        "# 社区统战工作安排\n\n## 联谊交友\n\n- 每季度走访**党外人士**一次。\n- 参见[附件](http://x.invalid/a)。\n\n"
        "## 信息工作\n\n| 项目 | 要求 |\n|---|---|\n| 工作动态 | 每月2篇 |\n",
        encoding="utf-8",
    )
    clauses = document_clauses(path)
    assert clauses[0].doc == "社区统战工作安排"
    visit = next(c for c in clauses if "走访" in c.text)
    assert visit.text == "每季度走访党外人士一次。"  # list marker and emphasis gone
    assert visit.section == "联谊交友"
    assert any(c.text == "参见附件。" for c in clauses)  # link text kept, URL dropped
    row = next(c for c in clauses if "工作动态" in c.text)
    assert row.text == "工作动态,每月2篇" and row.section == "信息工作"


def test_docx_heading_styles_and_tables(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [("镇统战工作计划", "Title"), ("民族工作", "Heading 1"), ("铸牢中华民族共同体意识", "Heading 2"),
         ("每半年开展一次民族团结主题宣讲。", None), ("宗教工作", "Heading 1"), ("排查宗教活动场所安全隐患。", None)],
        table=[["事项", "频次"], ["宗教场所巡查", "每月一次"]],
    )
    clauses = document_clauses(path)
    assert {c.doc for c in clauses} == {"镇统战工作计划"}
    talk = next(c for c in clauses if "宣讲" in c.text)
    assert talk.section == "民族工作 > 铸牢中华民族共同体意识"
    check = next(c for c in clauses if "安全隐患" in c.text)
    assert check.section == "宗教工作"
    assert any(c.text == "宗教场所巡查,每月一次" for c in clauses)


def test_unreadable_files_are_reported_by_name_and_the_rest_load(tmp_path: Path) -> None:
    corpus = copy_shipped(tmp_path / "corpus")
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 this is not really a zip")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (corpus / "cut.pdf").write_bytes(b"%PDF-1.4")
    (corpus / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    _truncated_docx(tmp_path / "whole.docx", corpus / "truncated.docx")
    loaded = load_corpus(corpus)
    failed = {p.file for p in loaded.report.errors}
    assert failed == {"broken.docx", "binary.txt", "truncated.docx", "cut.pdf"}
    assert {p.file for p in loaded.report.skipped} == {"old.doc"}
    assert ".docx" in loaded.report.skipped[0].reason  # says what to do: save as .docx
    assert loaded.report.files == 2 and loaded.report.clauses > 100
    assert "broken.docx" in loaded.report.summary()


def _truncated_docx(whole: Path, target: Path) -> None:
    """A real .docx whose document.xml is cut in half (a broken upload): a zip that parses, XML that doesn't."""
    import zipfile

    write_docx(whole, [("一、信息工作", None)])
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(target, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            out.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)


def test_missing_corpus_folder_is_an_error_not_a_crash(tmp_path: Path) -> None:
    retriever = Retriever(tmp_path / "nowhere")
    assert not retriever.report.ok
    result = retriever.search("宗教信息员一年培训几次")
    assert result.answered is False and result.hits == []


def test_reload_picks_up_new_changed_and_removed_files(tmp_path: Path) -> None:
    corpus = copy_shipped(tmp_path / "corpus")
    retriever = Retriever(corpus)
    question = "网格员每周巡查几次"
    assert retriever.search(question).answered is False

    write_docx(corpus / "grid.docx", [("网格化管理细则", "Title"), ("网格员每周巡查辖区不少于三次。", None)])
    report = retriever.reload()
    assert report.files == 3 and "grid.docx" in report.loaded
    result = retriever.search(question)
    assert result.answered and "每周巡查辖区不少于三次" in result.hits[0].text
    assert result.hits[0].doc == "网格化管理细则"

    (corpus / "grid.docx").unlink()
    assert retriever.reload().files == 2
    assert retriever.search(question).answered is False


@pytest.mark.parametrize("name", ["~$lock.docx", ".hidden.txt"])
def test_office_lock_and_hidden_files_are_ignored(tmp_path: Path, name: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / name).write_bytes(b"\x00garbage")
    (corpus / "ok.txt").write_text("一、信息工作\n每月报送信息2篇。\n", encoding="utf-8")
    report = load_corpus(corpus).report
    assert report.ok and report.loaded == ("ok.txt",)
