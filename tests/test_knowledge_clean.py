"""Cleaning of web-copy boilerplate, and the display / index normalisation of text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.clean import clean_lines, is_navigation, strip_blurbs
from knowledge.normalize import chinese_number, display_text, index_text
from knowledge.typos import fix_typos


@pytest.mark.parametrize(
    "line",
    [
        "推荐访问:2022年统战工作要点 统战 工作要点 全文",
        "下一篇:2022年全县统战工作要点",
        "上一篇：社区民族团结进步创建方案",
        "相关推荐：统战工作总结范文",
        "责任编辑：张三",
        "本文链接：http://example.invalid/a.html",
        "文章来源:某某文库",
    ],
)
def test_navigation_lines_are_dropped(line: str) -> None:
    assert is_navigation(display_text(line))
    assert clean_lines([display_text(line), "一、信息工作"])[0] == ["一、信息工作"]


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("加强政治引领,促进民族团结。以下是网友为您整理分享的“统战工作要点”相关范文,供您参考!", "加强政治引领,促进民族团结。"),
        ("下面是小编为大家整理的2023年民族工作计划(全文),供大家参考。", ""),
        ("配合区委统战部做好理想信念教育活动。来自藏经阁,海量优质文字材料和PPT课件", "配合区委统战部做好理想信念教育活动。"),
        ("来自某某文库,更多精品范文请访问本站。每月报送信息2篇。", "每月报送信息2篇。"),
        ("本文由网友投稿整理,仅供参考。", ""),
        ("欢迎阅读本站整理的工作要点。全年培训不少于四次。", "全年培训不少于四次。"),
    ],
)
def test_blurb_sentences_are_removed_and_plan_sentences_kept(line: str, kept: str) -> None:
    assert strip_blurbs(display_text(line)) == kept


@pytest.mark.parametrize(
    "line",
    [
        "(二)建立统战工作领导小组。明确领导分管,统战委员、统战干事、统战信息员到位。",
        "做好侨情信息工作,完善归侨侨眷信息资料库。",
        "持续打造港澳山东千人行、“留学报国·智汇XX”等品牌活动。",
        "2.认真学习贯彻《中国共产党统一战线工作条例》。制定学习宣传《条例》的工作方案。",
    ],
)
def test_plan_text_is_never_mistaken_for_boilerplate(line: str) -> None:
    assert not is_navigation(line)
    assert strip_blurbs(line) == line


def test_display_text_folds_width_pairs_quotes_and_joins_latin_spacing() -> None:
    assert display_text("（一）全年培训不少于４次，每月报送３篇！") == "(一)全年培训不少于4次,每月报送3篇!"
    assert display_text('开展"一周两月"活动和"五史"教育') == "开展“一周两月”活动和“五史”教育"
    assert display_text("2022 年 视察 XX 重要指示") == "2022年 视察XX重要指示"
    assert display_text("\ufeff  工作\u200b要点\u3000 ") == "工作要点"
    assert display_text("①学习 ②宣传") == "(1)学习 (2)宣传"


def test_index_text_fixes_document_typos_and_numerals() -> None:
    assert index_text("扩大少数民族于部特别是蒙汉兼通千部选人用人渠道") == "扩大少数民族干部特别是蒙汉兼通干部选人用人渠道"
    assert index_text("港澳台侨扽重点领域") == "港澳台侨等重点领域"
    assert index_text("走访慰问贫因归侨侨眷") == "走访慰问贫困归侨侨眷"
    assert index_text("党外知分子") == "党外知识分子"
    assert index_text("全年培训会议不少于四次,每季度至少报送1篇") == "全年培训会议不少于4次|每季度至少报送1篇"
    assert index_text("开展“一周两月”活动") == "开展|1周2月|活动"
    assert index_text("积极参政议政、建言献策。") == "积极参政议政|建言献策"  # no phrase across punctuation


@pytest.mark.parametrize("text", ["关于部署工作", "属于部门职责", "上千部影片", "意思相同", "统一战线"])
def test_typo_rules_leave_correct_text_alone(text: str) -> None:
    assert fix_typos(text) == text


@pytest.mark.parametrize(("numeral", "value"), [("一", 1), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20),
                                                ("一百零五", 105), ("百", 100), ("三百", 300)])
def test_chinese_numbers(numeral: str, value: int) -> None:
    assert chinese_number(numeral) == value


@given(st.text(alphabet=st.sampled_from(list("统战工作要点每月报送信息，。、（）()“”\" 1234ＡＢ一二两三四次篇年")), max_size=60))
def test_normalisation_is_idempotent(text: str) -> None:
    once = display_text(text)
    assert display_text(once) == once
    assert index_text(index_text(text)) == index_text(text)
    assert all(ch not in index_text(text) for ch in " ,。、()“”\"")
