"""Reading any office's plan: furniture by the shape of the line, titles as a reader finds them, Word and
PDF files, clauses never cut inside a phrase, traditional characters answered from simplified questions,
and every recurring obligation as a task. Example lines are made up in the shapes such pages have."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import opencc
import pytest

from knowledge.clean import classify_line, clean_line
from knowledge.ingest import read_document
from knowledge.normalize import display_text
from knowledge.retriever import Retriever
from knowledge.segment import split_text
from tests.helpers_plans import write_plan_docx, write_text_pdf
from tracking.extract import extract_from_clauses, from_sentence

PLANS = Path(__file__).parent / "data" / "plans"


@pytest.mark.parametrize("line", [
    "您现在的位置:首页 > 新闻中心 > 基层动态",  # breadcrumb behind a "position" label
    "网站首页 >> 工作动态 >> 正文",  # breadcrumb alone
    "首页 | 机构概况 | 政务公开 | 互动交流",  # link bar
    "作者:  来源:区委统战部  发布时间:2024-03-02 10:11  阅读:35次",  # publishing data
    "点击数:",  # a key with no value
    "12条评论  收藏  分享",  # counters and buttons
    "【大 中 小】【打印本页】",  # font size and print
    "扫一扫在手机上打开当前页",
    "Copyright © 2024 某某区人民政府 版权所有",
    "备案号:黔ICP备12345678号-1",
    "(全文未完,共3210字,剩余2800字请下载后阅读)",
    "写材料神器!立即了解>>",
    "第 3 页 共 7 页",
    "2024-05-06",
    "(王明)",
    "本网站所有文章仅代表作者观点,不代表本站观点。",
    "欢迎来到某某统战网",
])
def test_page_furniture_is_recognised_by_its_shape(line: str) -> None:
    assert classify_line(display_text(line)) is not None


@pytest.mark.parametrize("line", [
    "一、加强党外代表人士队伍建设",
    "学习培训",
    "(三)完善联系交友制度。每季度至少走访一次党外代表人士。",
    "开展教育宣讲。",
    "时间安排:全年分三个阶段推进。",
    "各村(社区)要明确一名统战联络员,负责信息收集和报送。",
    "首页工作是摸清底数,建立台账。",
    "对辖区内宗教活动场所开展安全检查,发现问题及时整改。",
])
def test_plan_lines_are_kept(line: str) -> None:
    assert classify_line(display_text(line)) is None
    assert clean_line(display_text(line))[0] == display_text(line)


def test_traditional_furniture_is_cleaned_by_the_same_rules() -> None:
    s2t = opencc.OpenCC("s2t")
    for line in ("当前位置:首页 > 统战工作 > 正文", "发布时间:2024-03-02 来源:统战部 浏览次数:35", "版权所有 某某统战网"):
        assert classify_line(s2t.convert(line)) is not None


def test_title_on_the_third_line_under_a_masthead(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_text("中共某某区委统战部\n首页 > 工作要点\n某某区2024年统一战线工作要点\n"
                    "发布时间:2024-01-10\n一、总体要求\n坚持大团结大联合。\n", encoding="utf-8")
    reading = read_document(path)
    assert reading.title == "某某区2024年统一战线工作要点" and reading.title_found
    assert {c.doc for c in reading.clauses} == {reading.title}
    assert "中共某某区委统战部" in {d.text for d in reading.dropped}


def test_file_name_stands_in_when_no_line_is_a_title(tmp_path: Path) -> None:
    path = tmp_path / "社区计划.txt"
    path.write_text("一、信息工作\n每月报送信息2篇。\n", encoding="utf-8")
    reading = read_document(path)
    assert reading.title == "社区计划" and not reading.title_found


def test_docx_with_headings_numbered_list_and_table(tmp_path: Path) -> None:
    path = write_plan_docx(tmp_path / "rules.docx", "\n".join([
        "T: 某某街道民族宗教工作制度", "# 一、例会制度", "- 街道每季度召开一次民族宗教工作联席会议。",
        "- 每年年底前向区民宗局报送年度工作总结。", "# 二、巡查制度", "| 对象 | 频次 |", "| 宗教活动场所 | 每月巡查2次 |"]))
    reading = read_document(path)
    assert reading.title == "某某街道民族宗教工作制度"
    meeting = next(c for c in reading.clauses if "联席会议" in c.text)
    assert meeting.section == "一、例会制度"
    row = next(c for c in reading.clauses if "宗教活动场所" in c.text)
    assert row.text == "宗教活动场所,每月巡查2次" and row.section == "二、巡查制度"
    got = {(t.cadence, t.target) for t in extract_from_clauses(reading.clauses)}
    assert {("quarterly", 1), ("yearly", 1), ("monthly", 2)} <= got


def test_pdf_text_layer_lines_are_rejoined_and_page_counters_dropped(tmp_path: Path) -> None:
    long = ("各社区统战联络员要及时收集辖区内党外人士的意见建议,每月汇总后报送街道统战办,"
            "对重要情况要随时报告,做到底数清、情况明。")
    path = write_text_pdf(tmp_path / "p.pdf", ["社区统战联络员工作职责", long, "第 1 页 共 1 页"], width=20)
    reading = read_document(path)
    assert reading.title == "社区统战联络员工作职责"
    assert [c.text for c in reading.clauses] == [long]
    assert any(d.text.replace(" ", "") == "第1页共1页" for d in reading.dropped)


def test_long_sentences_split_at_clause_boundaries_never_inside_a_phrase() -> None:
    items = "、".join(f"第{i}村" for i in range(1, 60))
    text = f"组织{items}的联络员参加培训,做好记录,及时上报。"
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(not p.endswith("、") for p in parts)


def test_traditional_plan_is_answered_from_a_simplified_question_in_its_own_characters(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PLANS / "dev" / "d13_lichuan.txt", corpus / "lichuan.txt")
    shutil.copy(PLANS / "dev" / "d08_huangshi_trad.txt", corpus / "huangshi.txt")
    retriever = Retriever(corpus)
    result = retriever.search("联络员每月走访宗教活动场所几次")
    assert result.answered and "每月2次走訪" in result.hits[0].text
    result = retriever.search("宗教工作联席会多久开一次")
    assert result.answered and "聯席會" in result.hits[0].text


@pytest.mark.parametrize(("sentence", "expect"), [
    ("网格员每周巡查一次辖区宗教场所", ("weekly", 1, None)),
    ("统战委员每半月向党委汇报一次工作", ("semimonthly", 1, None)),
    ("各村每月25日前报送当月统战信息", ("monthly", 1, 25)),
    ("次月5日前报送上月工作情况,每月一次", ("monthly", 1, 5)),
    ("每月召开统战工作例会", ("monthly", 1, None)),
    ("每季度信息通报", ("quarterly", 1, None)),
    ("每季开展一次走访", ("quarterly", 1, None)),
    ("每半年进行一次工作总结", ("half-yearly", 1, None)),
    ("坚持每年开展考评", ("yearly", 1, None)),
    ("年内组织两次以上调研活动", ("yearly", 2, None)),
    ("每年推荐党外后备干部5名", ("yearly", 5, None)),
    ("每年提出意见建议五条以上", ("yearly", 5, None)),
    ("每季度走访困难归侨侨眷不少于10户", ("quarterly", 10, None)),
    ("每月报送简报1份", ("monthly", 1, None)),
    ("网格员一周一次巡查宗教场所", ("weekly", 1, None)),
    ("每周一召开例会", ("weekly", 1, None)),
    ("一月一次召开联席会", ("monthly", 1, None)),
    ("每月底前报送简报", ("monthly", 1, None)),
    ("每季度末前报送季度工作小结", ("quarterly", 1, None)),
    ("每年年底前向区民宗局报送年度工作总结", ("yearly", 1, None)),
])
def test_every_cadence_deadline_implied_count_and_unit(sentence: str, expect: tuple) -> None:
    found = from_sentence(sentence, today=date(2025, 3, 1))
    assert [(t.cadence, t.target, t.deadline_day) for t in found] == [expect]


def test_one_off_dates_become_once_tasks_with_their_due_date() -> None:
    found = from_sentence("6月底前完成党外代表人士数据库更新", doc="2025年工作要点")
    assert [(t.cadence, t.due_date) for t in found] == [("once", date(2025, 6, 30))]
    found = from_sentence("年底前完成统战工作总结", doc="2025年工作要点")
    assert [(t.cadence, t.due_date) for t in found] == [("once", date(2025, 12, 31))]


def test_enumerations_split_into_one_task_each() -> None:
    found = from_sentence("每月召开一次统战例会、每季度听取一次宗教工作汇报")
    assert [(t.cadence, t.target) for t in found] == [("monthly", 1), ("quarterly", 1)]
    assert "例会" in found[0].title and "汇报" in found[1].title


@pytest.mark.parametrize(("sentence", "audience"), [
    ("各村(社区)联络员每月报送信息2篇", "liaisons"),
    ("每月报送工作动态信息不少于3篇", "liaisons"),
    ("街道每季度向区委统战部报送一次工作情况", "office"),
    ("镇党委每年研究统战工作两次", "office"),
    ("县级领导每季度开展1次联系走访", "other"),
    ("各民主党派每半年报送一次工作总结", "other"),
])
def test_who_the_obligation_is_on(sentence: str, audience: str) -> None:
    found = from_sentence(sentence)
    assert [t.audience for t in found] == [audience]


def test_sentences_without_an_obligation_give_no_task() -> None:
    for sentence in ("截至目前,开展培训3次,培训人数达到200人次", "在全县18个乡镇配齐统战委员", "每年接待参观群众10万人次",
                     "考核统计截止时间为每年12月20日", "定期召开联席会议,研判风险隐患"):
        assert from_sentence(sentence) == []


def test_a_run_in_headline_and_its_body_are_one_task(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("某镇统战工作制度\n一是季度一研判。镇党委每季度研究一次统战工作,分析工作态势。\n", encoding="utf-8")
    tasks = extract_from_clauses(read_document(path).clauses)
    assert [(t.cadence, t.target) for t in tasks] == [("quarterly", 1)]


def test_a_cut_paragraph_says_in_the_reply_that_it_continues(tmp_path: Path) -> None:
    from knowledge import texts
    from knowledge.render import render_hit

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = ("组织全体网格员深入学习民族宗教政策法规,熟悉辖区宗教活动场所的基本情况,做到底数清、情况明。" * 2
            + "网格员每周巡查宗教活动场所不少于一次,发现私设聚会点等问题当天报告社区。"
            + "社区每月汇总巡查记录,于次月五日前报街道统战办备案,并在年终考核中作为重要依据。")
    (corpus / "grid.txt").write_text(f"社区网格化管理细则\n{body}\n", encoding="utf-8")
    clauses = read_document(corpus / "grid.txt").clauses
    assert len(clauses) >= 2 and [c.continues for c in clauses] == [True] * (len(clauses) - 1) + [False]
    assert "".join(c.text for c in clauses) == body
    hit = Retriever(corpus).search("网格员要学习民族宗教政策法规吗").hits[0]
    assert hit.continues and texts.CONTINUES in render_hit(hit)
    last = Retriever(corpus).search("巡查记录什么时候报街道备案").hits[0]
    assert not last.continues and texts.CONTINUES not in render_hit(last)


def test_a_numbered_heading_glued_to_the_sentence_before_starts_its_own_section(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("某镇统战工作计划\n现将全年工作安排如下:一、联谊交友每季度走访党外人士一次。"
                    "二、信息工作每月报送信息2篇。\n", encoding="utf-8")
    clauses = read_document(path).clauses
    visit = next(c for c in clauses if "走访" in c.text)
    info = next(c for c in clauses if "报送" in c.text)
    assert visit.text.startswith("一、") and info.text.startswith("二、")
    assert {(t.cadence, t.target) for t in extract_from_clauses(clauses)} == {("quarterly", 1), ("monthly", 2)}
