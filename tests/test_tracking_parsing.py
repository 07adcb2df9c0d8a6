"""Numbers, dates and whole reports: property-based tests plus the labelled message set."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tracking.accuracy import FIELDS, evaluate
from tracking.dates import find_date, parse_date_answer
from tracking.numbers import cn_to_int, find_participants, int_to_cn
from tracking.report_parser import (
    TaskRef,
    clean_activity,
    find_village,
    match_tag,
    match_task,
    parse_report,
)

DATA = Path(__file__).parent / "data" / "reports"
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
CN_DIGITS = "零一二三四五六七八九"


# ---------------------------------------------------------------- numbers


@given(st.integers(min_value=0, max_value=99_999))
def test_chinese_numerals_round_trip(n: int) -> None:
    assert cn_to_int(int_to_cn(n)) == n


@given(st.integers(min_value=1, max_value=9999))
def test_digit_by_digit_chinese_reads_as_the_number(n: int) -> None:
    assert cn_to_int("".join(CN_DIGITS[int(d)] for d in str(n))) == n or len(str(n)) == 1


@given(st.integers(min_value=1, max_value=9999), st.sampled_from(["{n}人", "约{n}名", "{n}余人参加", "{n}多人",
                                                                  "共{n}人", "参加人数：{n}", "{n}位"]),
       st.booleans(), st.text(alphabet="开展宣讲活动在社区，。 ", max_size=12))
def test_participant_counts_in_any_form(n: int, form: str, chinese: bool, noise: str) -> None:
    number = int_to_cn(n) if chinese else str(n)
    found = find_participants(noise + form.format(n=number))
    assert found is not None and found.value == n


@pytest.mark.parametrize(("text", "value"), [
    ("四十余人", 40), ("一百二十人", 120), ("两百人参加", 200), ("百余人", 100), ("七十多人", 70),
    ("党员20人、群众30人，共50人参加", 50), ("发放资料200余份，参与群众80余人", 80), ("人民群众", None),
    ("走访5户", None), ("3月5日", None),
])
def test_participant_examples(text: str, value: int | None) -> None:
    found = find_participants(text)
    assert (found.value if found else None) == value


# ---------------------------------------------------------------- dates


@given(days, st.integers(min_value=0, max_value=300))
def test_full_dates_in_every_written_form(today: date, back: int) -> None:
    d = today - timedelta(days=back)
    cn_year = "".join(CN_DIGITS[int(c)] for c in str(d.year)).replace("零", "〇")
    forms = [f"{d.isoformat()}", f"{d.year}/{d.month}/{d.day}", f"{d.year}.{d.month}.{d.day}",
             f"{d.year}年{d.month}月{d.day}日", f"{cn_year}年{int_to_cn(d.month)}月{int_to_cn(d.day)}日"]
    for form in forms:
        found = find_date(f"在社区{form}开展宣讲", today)
        assert found is not None and found.value == d, form


@given(days, st.integers(min_value=0, max_value=300))
def test_month_day_forms_resolve_to_the_latest_such_day(today: date, back: int) -> None:
    d = today - timedelta(days=back)
    for form in (f"{d.month}月{d.day}日", f"{d.month}月{d.day}号", f"{d.month}.{d.day}", f"{d.month}/{d.day}",
                 f"{int_to_cn(d.month)}月{int_to_cn(d.day)}日"):
        found = find_date(f"{form} 开展宣讲", today)
        assert found is not None, form
        assert found.value == d, form


@given(days)
def test_relative_days(today: date) -> None:
    for word, back in (("今天", 0), ("昨天", 1), ("前天", 2), ("大前天", 3), ("昨日", 1), ("今日", 0)):
        assert find_date(f"{word}开展宣讲", today).value == today - timedelta(days=back)


@given(days, st.integers(min_value=0, max_value=6))
def test_weekdays(today: date, wd: int) -> None:
    name = "一二三四五六日"[wd]
    this = find_date(f"本周{name}开展宣讲", today).value
    last = find_date(f"上周{name}开展宣讲", today).value
    bare = find_date(f"星期{name}开展宣讲", today).value
    assert this.weekday() == last.weekday() == bare.weekday() == wd
    assert this.isocalendar()[:2] == today.isocalendar()[:2]
    assert this - last == timedelta(days=7)
    assert bare <= today and today - bare < timedelta(days=7)


def test_future_and_non_dates() -> None:
    today = date(2026, 11, 20)
    assert find_date("11月25日开展宣讲", today).value == date(2026, 11, 25)  # ahead: the caller asks
    assert find_date("12月30日", date(2027, 1, 3)).value == date(2026, 12, 30)  # last year's
    for text in ("3.5万元", "1号楼开会", "10:30开会", "2月30日", "13月5日", "增长3.5%"):
        assert find_date(text, today) is None, text
    assert parse_date_answer("11月19日", today) == date(2026, 11, 19)
    assert parse_date_answer("我想问一下11月19日那天的会议怎么报送", today) is None


# ---------------------------------------------------------------- reports

TASKS = [TaskRef("info", "工作动态信息", ("动态", "活动", "开展", "宣讲")),
         TaskRef("highlight", "经验总结类或亮点特色信息", ("经验", "总结", "亮点", "特色", "做法"))]


def test_village_named_by_full_or_base_name_but_not_inside_a_word() -> None:
    villages = ["红山郡社区", "团结嘎查", "新华社区"]
    assert find_village("在红山郡开展宣讲", villages)[0] == "红山郡社区"
    assert find_village("新华 开展宣讲", villages)[0] == "新华社区"
    assert find_village("开展民族团结宣讲", villages) is None
    assert find_village("推动乡村振兴", villages) is None
    assert find_village("今天组织村民学习", villages) is None


@pytest.mark.parametrize("text", ["在幸福村开展宣讲", "光明社区今天开展宣讲", "下午在社区开展宣讲", "晚上社区组织跳舞",
                                  "青年节社区开展活动", "镇文化站组织我村村民学习"])
def test_a_place_not_on_the_roster_is_never_the_village(text: str) -> None:
    villages = ["红山郡社区", "团结嘎查", "新华社区"]
    assert find_village(text, villages) is None
    parsed = parse_report(text, today=date(2026, 11, 20), own_village="新华社区", villages=villages, tasks=TASKS)
    assert parsed.village == "新华社区"


def test_a_close_spelling_of_a_roster_village_finds_it() -> None:
    assert find_village("今天红山社区开展宣讲", ["红山郡社区", "新华社区"])[0] == "红山郡社区"
    assert find_village("提升群众幸福感", ["幸福村"]) is None


def test_tasks_by_tag_keyword_fuzzy_or_asked() -> None:
    assert match_tag("动态信息", TASKS).chosen == "info"
    assert match_tag("亮点", TASKS).chosen == "highlight"
    assert match_task("今天开展宣讲", TASKS).chosen == "info"
    unsure = match_task("社区的情况", TASKS)
    assert unsure.chosen is None and set(unsure.candidates) == {"info", "highlight"}
    tie = match_task("开展宣讲并总结经验做法", TASKS)
    assert tie.chosen is None and tie.candidates[0] == "highlight"


@given(st.text(alphabet="开展宣讲活动群众学习，。 ", min_size=0, max_size=30), days)
def test_parse_never_fails_and_activity_is_from_the_text(text: str, today: date) -> None:
    parsed = parse_report(text, today=today, own_village="东风村", villages=["东风村"], tasks=TASKS)
    assert parsed.village == "东风村"
    assert all(ch in text + "，" for ch in parsed.activity)
    assume(parsed.date_given is False)
    assert parsed.activity_date == today


def test_clean_activity_cuts_spans_and_tidies() -> None:
    text = "昨天在社区开展宣讲，40人参加"
    assert clean_activity(text, [(0, 2), (10, 15)]) == "在社区开展宣讲"


def _cases() -> list[dict]:
    lines = (DATA / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[1:] if line.strip()]


def test_the_labelled_set_is_large_and_varied() -> None:
    cases = _cases()
    assert len(cases) >= 50
    assert len({c["date"] for c in cases}) >= 20 and {c["task"] for c in cases} == {"info", "highlight", None}


@pytest.mark.parametrize("name", ["messages", "heldout"])
def test_labelled_messages_parse_as_expected(name: str) -> None:
    result = evaluate(DATA / f"{name}.jsonl", DATA / "tasks.yaml")
    assert result.total >= 20
    for fld in FIELDS:
        assert result.rate(fld) >= 0.95, (fld, [m for m in result.misses if m[1] == fld])
