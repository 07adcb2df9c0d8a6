"""Reading reports as people type them: triggers, candidates, festivals, month edges, vague dates, counts, summaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking.dates import find_date
from tracking.festivals import find_festival, nearest
from tracking.numbers import find_participants, int_to_cn, parse_amount
from tracking.recognise import find_trigger, is_report_candidate, looks_like_question
from tracking.report_parser import TaskRef, match_task
from tracking.summary import SUMMARY_CHARS, clean_activity, summarise

days = st.dates(min_value=date(2021, 1, 1), max_value=date(2030, 12, 31))


@pytest.mark.parametrize(("text", "rest"), [
    ("报送 昨天开展宣讲", "昨天开展宣讲"), ("保送 今天开展宣讲", "今天开展宣讲"), ("【报送】11月16日开展宣讲", "11月16日开展宣讲"),
    ("#报送 今天开展宣讲", "今天开展宣讲"), ("报个活动 本周二开座谈会", "本周二开座谈会"), ("交个活动：昨天走访", "昨天走访"),
    ("录一下 今天开展宣讲", "今天开展宣讲"), ("登记一下活动：今天开展宣讲", "今天开展宣讲"), ("上报一下 前天走访", "前天走访"),
    ("報送 今天宣講", "今天宣講"), ("报送！！前天检查", "前天检查"), ("领导在吗 上报一下 昨天宣讲", "昨天宣讲"),
    ("汇报一下，今天上午清理楼道", "今天上午清理楼道"),
])
def test_trigger_forms(text: str, rest: str) -> None:
    found = find_trigger(text)
    assert found is not None and found.rest == rest


@pytest.mark.parametrize("text", ["报名参加培训", "交流会开得好", "报了2篇了还差几篇", "记得带材料", "录像发群里", "提前准备"])
def test_words_that_only_look_like_triggers(text: str) -> None:
    assert find_trigger(text) is None


def test_a_task_label_before_the_trigger_is_kept_for_the_task() -> None:
    assert find_trigger("本季度亮点信息报送：新华社区揭牌").rest.startswith("本季度亮点信息：")
    assert find_trigger("报一下培训 昨天开了培训会").rest.startswith("培训 ")


@pytest.mark.parametrize(("text", "candidate"), [
    ("昨天在社区开展了民族团结宣讲 40人", True), ("今天给村里的困难户送了慰问品", True),
    ("昨天嘎查 牧民 二十几个 来了", False), ("好的收到", False), ("新年快乐！", False), ("中秋快乐 阖家幸福", False),
    ("宗教活动场所要检查几次", False), ("培训会一年要开几次？", False), ("年度计划是交纸质的还是电子版", False),
    ("请问开展宣传需要拍照吗", False),
])
def test_report_candidates_and_not(text: str, candidate: bool) -> None:
    assert is_report_candidate(text, date(2026, 5, 20)) is candidate


def test_a_task_title_said_done_is_a_candidate() -> None:
    assert is_report_candidate("民族工作年终总结 已完成", date(2026, 12, 20), task_titles=("民族工作年终总结",))
    assert not is_report_candidate("民族工作年终总结 已完成", date(2026, 12, 20))


def test_long_write_ups_are_questions_only_by_their_ending() -> None:
    body = "按照要求，社区如何做好宣传是重点。" * 12
    assert not looks_like_question("3月5日社区开展宣讲。" + body)
    assert looks_like_question(body + "这样可以吗？")


@pytest.mark.parametrize(("text", "today", "day"), [
    ("元旦当天开展健步走", date(2026, 1, 2), date(2026, 1, 1)),
    ("春节期间走访慰问", date(2026, 2, 25), date(2026, 2, 17)),
    ("元宵节猜灯谜", date(2026, 3, 5), date(2026, 3, 3)),
    ("端午节包粽子", date(2026, 6, 20), date(2026, 6, 19)),
    ("中秋节准备办月饼DIY", date(2026, 9, 14), date(2026, 9, 25)),
    ("国庆节当天升旗", date(2026, 10, 3), date(2026, 10, 1)),
    ("清明节祭扫", date(2026, 4, 8), date(2026, 4, 5)),
    ("劳动节当天清扫", date(2026, 5, 6), date(2026, 5, 1)),
    ("元旦前一天准备汇演", date(2026, 12, 18), date(2026, 12, 31)),
    ("大年初三闹社火", date(2026, 2, 21), date(2026, 2, 19)),
    ("五一假期志愿服务", date(2026, 5, 6), date(2026, 5, 1)),
])
def test_festivals_are_their_day_in_the_nearest_year(text: str, today: date, day: date) -> None:
    assert find_date(text, today).value == day


@given(days)
def test_a_festival_is_never_far_ahead(today: date) -> None:
    for name in ("春节", "中秋节", "国庆节", "元旦", "端午节", "清明节"):
        day = nearest(name, today)
        assert day is not None and (day - today).days <= 62 and (today - day).days <= 366


@pytest.mark.parametrize("text", ["国庆节前走访慰问", "清明节前后开展祭扫", "春节前夕送温暖"])
def test_before_or_around_a_festival_is_vague(text: str) -> None:
    found = find_festival(text, date(2026, 10, 9))
    assert found is not None and found.value is None
    assert find_date(text, date(2026, 10, 9)).value is None


def test_an_explicit_date_wins_over_a_festival_word() -> None:
    assert find_date("10月2日国庆假期开展拍照活动", date(2026, 10, 9)).value == date(2026, 10, 2)
    assert find_date("元旦当天开展健步走", date(2026, 1, 2)).form == "festival"  # not 当天 = today


@given(days)
def test_month_ends(today: date) -> None:
    first = today.replace(day=1)
    assert find_date("上个月底开了座谈会", today).value == first - timedelta(days=1)
    end = find_date("月底打算开座谈会", today).value
    assert end.month == today.month and (end + timedelta(days=1)).day == 1


@pytest.mark.parametrize("text", ["前几天开了座谈会", "最近搞了一次宣传", "上周开展了宣传", "前两天开展了宣讲", "月初开展了活动",
                                  "近日开展了活动"])
def test_vague_times_have_no_day(text: str) -> None:
    found = find_date(text, date(2026, 5, 20))
    assert found is not None and found.value is None and found.form == "vague"


def test_future_words_and_plan_words() -> None:
    today = date(2026, 6, 10)
    assert find_date("明天准备走访", today).value == date(2026, 6, 11)
    assert find_date("后天要搞联欢会", today).value == date(2026, 6, 12)
    assert find_date("下月15号计划表彰", today).value == date(2026, 7, 15)
    assert find_date("8号准备开展宣传", today).value == date(2026, 7, 8)
    assert find_date("8号开展了宣传", today).value == date(2026, 6, 8)


@pytest.mark.parametrize(("text", "value", "approx"), [
    ("十几个人", 10, True), ("十五六个人", 15, True), ("二三十人参加", 20, True), ("三四十人", 30, True),
    ("近百人观看", 100, True), ("百余人", 100, True), ("两百多人", 200, True), ("一百来人", 100, True),
    ("近千人参加", 1000, True), ("20来人", 20, True), ("参会20人左右", 20, True), ("七八个人", 7, True),
    ("来了一二十个", 10, True), ("共计伍拾人", 50, False), ("1百人", 100, False), ("参加25个孩子", 25, False),
    ("村民六十多", 60, True), ("参与人数 :38", 38, False), ("参加的一共18位", 18, False),
])
def test_counts_as_people_write_them(text: str, value: int, approx: bool) -> None:
    found = find_participants(text)
    assert found is not None and (found.value, found.approximate) == (value, approx)


@pytest.mark.parametrize(("text", "value"), [
    ("党员12人、群众28人", 40), ("党员12人 群众28人", 40), ("孩子们32名 家长志愿者8名", 40),
    ("党员20人、群众30人，共50人参加", 50), ("参加群众50人，其中党员12人", 50), ("计划40人，实到35人", 35),
    ("到会六十几户 一百来人", 100), ("一行7人，走访23户，折合人民币约6000元", 7),
])
def test_lists_of_groups_add_up_and_totals_win(text: str, value: int) -> None:
    assert find_participants(text).value == value


@given(st.integers(min_value=1, max_value=8), st.sampled_from(["十", "百"]))
def test_a_range_is_its_lower_bound(a: int, unit: str) -> None:
    token = int_to_cn(a) + int_to_cn(a + 1) + unit
    assert parse_amount(token) == (a * (10 if unit == "十" else 100), True)


def test_activity_without_filler_and_a_summary_cut_at_a_boundary() -> None:
    text = "报一下 今天在社区开展宣讲，40人参加，谢谢"
    assert clean_activity(text, [(text.index("今天"), text.index("今天") + 2), (text.index("40"), text.index("参加") + 2)]) \
        == "在社区开展宣讲"
    long = "社区开展民族团结宣讲。" + "居民代表认真学习了有关政策，大家踊跃发言。" * 30
    short = summarise(long)
    assert len(short) <= SUMMARY_CHARS and short.endswith("…") and short[:-1].endswith(("言", "讲"))


TASKS = [TaskRef("info", "工作动态信息", ("活动", "开展", "宣讲", "培训", "学习"), "monthly"),
         TaskRef("highlight", "经验总结类或亮点特色信息", ("经验", "亮点", "特色"), "quarterly"),
         TaskRef("plan", "民族工作年度计划", ("民族", "年度计划"), "yearly"),
         TaskRef("summary", "民族工作年终总结", ("民族", "年终总结"), "yearly"),
         TaskRef("training", "宗教三级网络信息员参加宗教工作专题培训", ("宗教", "三级网络", "信息员", "培训"), "yearly")]


def test_tasks_by_distinctive_words_titles_and_the_everyday_default() -> None:
    assert match_task("昨天在镇体育馆搞了民族团结运动会", TASKS).chosen == "info"  # only a shared word: everyday task
    assert match_task("民族工作年度计划做好了", TASKS).chosen == "plan"
    assert match_task("组织信息员参加宗教工作专题培训", TASKS).chosen == "training"
    assert match_task("社区的情况", TASKS).chosen is None  # no activity at all: asked


@pytest.mark.parametrize(("text", "activity"), [
    ("昨天红山郡社区开展了民族团结进步宣讲 参会20人左右", "红山郡社区开展了民族团结进步宣讲"),
    ("今天在社区开展宣讲，村民40人观看", "在社区开展宣讲"),
    ("今天上午我们社区组织志愿者清理小区楼道杂物，20多名志愿者参与", "我们社区组织志愿者清理小区楼道杂物"),
    ("咱社区昨天搞了民族团结主题读书会 20人", "咱社区搞了民族团结主题读书会"),
    ("昨天(周日)团结嘎查开展了宣传 50人", "团结嘎查开展了宣传"),
    ("明天上午9点 和平社区 包粽子活动 预计40人", "和平社区 包粽子活动"),
])
def test_activity_is_the_activity_not_the_leftovers_of_date_and_count(text: str, activity: str) -> None:
    from tracking.report_parser import parse_report

    parsed = parse_report(text, today=date(2026, 5, 20), own_village="和平社区", villages=["红山郡社区", "团结嘎查"])
    assert parsed.activity == activity
