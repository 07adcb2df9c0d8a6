"""Reporting conversations through the real processor and dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from bot.db.models import Report, ReportAudit
from bot.state.memory import MemoryStateStore
from bot.testing.chat import ChatDriver
from tests.helpers_reports import report_chat, stored_reports
from tracking import texts

TODAY = date(2026, 11, 20)  # conftest's clock: Friday 10:00 in Asia/Shanghai


@pytest.fixture
def rchat(services, tmp_path) -> ChatDriver:
    return report_chat(services, tmp_path)


reports = stored_reports


def audits(chat: ChatDriver, report_id: int) -> list[tuple[str, dict]]:
    with chat.services.db.session() as s:
        return [(a.action, a.changes) for a in s.scalars(
            select(ReportAudit).where(ReportAudit.report_id == report_id).order_by(ReportAudit.id))]


def test_report_is_understood_confirmed_and_moves_progress(rchat: ChatDriver) -> None:
    reply = rchat.send("li", "报送 昨天在红山郡社区开展民族团结宣讲,40人参加")
    assert "报送编号 1" in reply
    for part in ("11月19日", "40人", "红山郡社区", "工作动态信息", "在红山郡社区开展民族团结宣讲", "本月工作动态信息 1/3"):
        assert part in reply, part
    [r] = reports(rchat)
    assert (r.userid, r.activity_date, r.participants, r.village, r.task.key, r.status) == (
        "li", date(2026, 11, 19), 40, "红山郡社区", "info", "active")
    assert audits(rchat, r.id)[0][0] == "create"
    assert "本月工作动态信息 2/3" in rchat.send("li", "汇报 今天开展走访慰问")


@pytest.mark.parametrize(("text", "day", "people"), [
    ("报送 今天开展宣讲", TODAY, None),
    ("报送 开展宣讲，参加人数：15", TODAY, 15),
    ("上报 前天 走访慰问困难群众 约40名", date(2026, 11, 18), 40),
    ("汇报 上周五开展座谈，四十余人参加", date(2026, 11, 13), 40),
    ("报送 本周三开展宣讲，一百二十人", date(2026, 11, 18), 120),
    ("报送 3月5日开展宣讲，40余人参加", date(2026, 3, 5), 40),
    ("报送 3.5 开展宣讲", date(2026, 3, 5), None),
    ("报送 3/5 开展宣讲", date(2026, 3, 5), None),
    ("报送 2026-03-05 开展宣讲", date(2026, 3, 5), None),
    ("报送 2026年3月5日开展宣讲", date(2026, 3, 5), None),
    ("报送 十一月五日开展宣讲", date(2026, 11, 5), None),
    ("报送 11月5号开展宣讲 30人", date(2026, 11, 5), 30),
])
def test_each_date_and_count_form(rchat: ChatDriver, text: str, day: date, people: int | None) -> None:
    reply = rchat.send("li", text)
    assert "报送编号" in reply, reply
    [r] = reports(rchat)
    assert (r.activity_date, r.participants) == (day, people)
    assert "宣讲" in r.activity or "走访" in r.activity or "座谈" in r.activity


def test_village_is_the_reporters_own_unless_another_is_named(rchat: ChatDriver) -> None:
    rchat.send("wang", "报送 今天开展宣讲")
    rchat.send("wang", "报送 今天在红山郡开展宣讲")
    assert [r.village for r in reports(rchat)] == ["东风村", "红山郡社区"]


def test_hash_tag_names_the_task_over_keywords(rchat: ChatDriver) -> None:
    reply = rchat.send("li", "报送 今天总结亮点做法 #动态信息")
    assert "任务：工作动态信息" in reply
    reply = rchat.send("li", "报送 今天开展宣讲 #亮点")
    assert "任务：经验总结类或亮点特色信息" in reply and "本季度经验总结类或亮点特色信息 1/1" in reply


def test_unsure_task_is_asked_with_numbered_choices(rchat: ChatDriver) -> None:
    ask = rchat.send("li", "报送 今天社区的情况")
    assert ask.startswith("这条报送算哪项任务") and "1. " in ask and "0. 都不是" in ask
    assert reports(rchat) == []
    assert rchat.send("li", "9") == texts.ASK_TASK_AGAIN.format(n=ask.count("\n") - 1)
    lines = ask.splitlines()
    pick = next(line for line in lines if "亮点" in line).split(".")[0]
    reply = rchat.send("li", pick)
    assert "任务：经验总结类或亮点特色信息" in reply
    assert rchat.services.state.get("conv:li") is None
    rchat.send("li", "报送 今天村里头的事情")
    assert "未归入任务" in rchat.send("li", "0")
    assert [r.task.key if r.task else None for r in reports(rchat)] == ["highlight", None]


def test_missing_activity_gets_one_follow_up(rchat: ChatDriver) -> None:
    assert rchat.send("li", "报送 今天 40人") == texts.ASK_ACTIVITY
    reply = rchat.send("li", "在社区开展宣讲")
    assert "报送编号 1" in reply and "40人" in reply
    [r] = reports(rchat)
    assert r.participants == 40 and "宣讲" in r.activity
    assert rchat.send("li", "报送") == texts.REPORT_USAGE
    assert "报送编号 2" in rchat.send("li", "昨天走访慰问，12人")
    assert reports(rchat)[1].activity_date == date(2026, 11, 19)


def test_future_date_is_asked_whether_it_is_a_plan_and_plans_are_not_counted(rchat: ChatDriver) -> None:
    ask = rchat.send("li", "报送 11月25日开展宣讲")
    assert "11月25日" in ask and "还没到" in ask and "计划" in ask
    assert "报送编号" in rchat.send("li", "11月19日")
    rchat.send("li", "报送 11月25日开展走访")
    assert rchat.send("li", "是") == texts.PLAN_NOTED.format(date="11月25日")
    assert [r.activity_date for r in reports(rchat)] == [date(2026, 11, 19)]
    assert rchat.services.state.get("conv:li") is None


def test_cancel_abandons_the_pending_report(rchat: ChatDriver) -> None:
    assert rchat.send("li", "报送 今天 40人") == texts.ASK_ACTIVITY
    assert rchat.send("li", "取消") == "好的，已取消。"
    assert rchat.send("li", "在社区开展宣讲") != texts.ASK_ACTIVITY
    assert reports(rchat) == []


def test_a_question_in_the_middle_is_not_taken_as_the_answer(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 今天社区的情况")
    rchat.send("li", "统战信息每个月要报几篇？")
    assert reports(rchat) == []
    assert rchat.services.state.get_json("conv:li")["need"] == "task"


def test_follow_up_state_expires(rchat: ChatDriver) -> None:
    now = [1000.0]
    rchat.services.state = MemoryStateStore(monotonic=lambda: now[0])
    assert rchat.send("li", "报送 今天 40人") == texts.ASK_ACTIVITY
    now[0] += rchat.services.settings.conversation_ttl_s + 1
    rchat.send("li", "在社区开展宣讲")
    assert reports(rchat) == [] and rchat.services.state.get("conv:li") is None


def test_withdraw_last_or_by_number_with_audit(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 昨天开展宣讲")
    rchat.send("li", "报送 今天开展走访")
    assert rchat.send("li", "撤回").startswith("撤回 2？")
    reply = rchat.send("li", "是")
    assert reply.startswith("已撤回报送 2") and "本月工作动态信息 1/3" in reply
    assert rchat.send("li", "撤回 2") == texts.ALREADY_WITHDRAWN.format(id=2)
    assert rchat.send("li", "撤回 1").startswith("已撤回报送 1")
    assert rchat.send("li", "撤回") == texts.WITHDRAW_NONE
    assert rchat.send("li", "撤回 99") == texts.NOT_FOUND.format(id=99)
    assert [r.status for r in reports(rchat)] == ["withdrawn", "withdrawn"]
    assert [a for a, _ in audits(rchat, 1)] == ["create", "withdraw"]


def test_liaisons_cannot_touch_others_reports_admins_can(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 今天开展宣讲")
    assert rchat.send("wang", "撤回 1") == texts.NOT_YOURS.format(id=1)
    assert rchat.send("wang", "修改 1 人数 5") == texts.NOT_YOURS.format(id=1)
    assert "李四" not in (rchat.send("wang", "我的报送") or "") and reports(rchat)[0].status == "active"
    assert rchat.send("zhao", "修改 1 人数 5").startswith("已修改报送 1")
    assert rchat.send("zhao", "撤回 1").startswith("已撤回报送 1")
    assert audits(rchat, 1)[-1][0] == "withdraw"


def test_modify_date_people_task_with_audit(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 昨天开展宣讲，40人参加")
    assert rchat.send("li", "修改 1 日期 3月6日").startswith("已修改报送 1：日期 11月19日 → 3月6日")
    assert rchat.send("li", "修改 人数 45").startswith("已修改报送 1：人数 40 → 45")
    reply = rchat.send("li", "修改 1 任务 #亮点")
    assert "工作动态信息 → 经验总结类或亮点特色信息" in reply
    assert rchat.send("li", "修改1人数为四十六").startswith("已修改报送 1：人数 45 → 46")
    [r] = reports(rchat)
    assert (r.activity_date, r.participants, r.task.key) == (date(2026, 3, 6), 46, "highlight")
    trail = audits(rchat, 1)
    assert [a for a, _ in trail] == ["create", "update", "update", "update", "update"]
    assert trail[1][1] == {"activity_date": ["2026-11-19", "2026-03-06"]}
    assert trail[3][1] == {"task": ["工作动态信息", "经验总结类或亮点特色信息"]}


def test_modify_refuses_bad_values(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 昨天开展宣讲")
    assert rchat.send("li", "修改 1 日期 下周一").startswith("活动日期")
    assert rchat.send("li", "修改 1 日期 不知道") == texts.MODIFY_BAD_DATE.format(value="不知道")
    assert rchat.send("li", "修改 1 人数 很多").startswith("没看懂人数")
    assert rchat.send("li", "修改 1 任务 #不存在的任务xyz").startswith("没找到任务")
    assert rchat.send("li", "修改一下") == texts.MODIFY_USAGE
    assert [a for a, _ in audits(rchat, 1)] == ["create"]


def test_my_reports_lists_own_and_admin_sees_all(rchat: ChatDriver) -> None:
    assert rchat.send("li", "我的报送") == texts.MY_REPORTS_EMPTY
    rchat.send("li", "报送 昨天开展宣讲")
    rchat.send("wang", "报送 今天开展走访")
    mine = rchat.send("li", "我的报送")
    assert "1. 11月19日 红山郡社区 开展宣讲" in mine and "东风村" not in mine
    everyone = rchat.send("zhao", "全部报送")
    assert "红山郡社区" in everyone and "东风村" in everyone
    assert "东风村" not in rchat.send("li", "全部报送")


def test_progress_shows_every_task_this_period(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 昨天开展宣讲")
    rchat.send("li", "报送 3月5日开展宣讲")  # another month: does not count now
    li = rchat.send("li", "进度")
    assert "工作动态信息：本月 1/3，截止11月30日" in li
    assert "经验总结类或亮点特色信息：本季度 0/1，截止12月31日" in li
    assert "民族团结示范点创建" in li  # only for 红山郡社区
    wang = rchat.send("wang", "我的任务")
    assert "民族团结示范点创建" not in wang and "工作动态信息：本月 0/3" in wang
    office = rchat.send("zhao", "进度")
    assert "研究统一战线工作" in office and "工作动态信息（本月）：0/2人已完成" in office


@pytest.mark.parametrize("user", ["stranger", "gone"])
def test_people_off_the_roster_are_told_how_to_get_added(rchat: ChatDriver, user: str) -> None:
    reply = rchat.send(user, "报送 今天在社区开展宣讲，40人参加")
    assert user in reply and "街道统战办" in reply
    for text in ("进度", "我的报送", "撤回", "修改 1 人数 3"):
        assert "街道统战办" in rchat.send(user, text)
    assert "街道统战办" in rchat.photo(user, "m-1")
    assert reports(rchat) == []


def test_a_retried_message_makes_one_report(rchat: ChatDriver) -> None:
    first = rchat.send("li", "报送 今天开展宣讲", msg_id="42")
    again = rchat.send("li", "报送 今天开展宣讲", msg_id="42")
    assert first == again and len(reports(rchat)) == 1


def test_database_key_still_guards_when_the_dedupe_state_is_lost(rchat: ChatDriver) -> None:
    # Regression guard: a second process (or a restarted one) without the first's dedupe key
    # must not store the same WeCom message twice.
    rchat.send("li", "报送 今天开展宣讲", msg_id="43")
    rchat.services.state = MemoryStateStore()
    again = rchat.send("li", "报送 今天开展宣讲", msg_id="43")
    assert "报送编号 1" in again and texts.DUPLICATE_NOTE in again
    with rchat.services.db.session() as s:
        assert s.scalar(select(func.count(Report.id))) == 1
        assert s.scalar(select(func.count(ReportAudit.id))) == 1


def test_dates_follow_the_office_time_zone_near_midnight(rchat: ChatDriver) -> None:
    rchat.services.clock.set(datetime(2026, 11, 20, 16, 30, tzinfo=timezone.utc))  # 00:30 on the 21st local
    rchat.send("li", "报送 今天开展宣讲")
    rchat.send("li", "报送 昨天开展走访")
    assert [r.activity_date for r in reports(rchat)] == [date(2026, 11, 21), date(2026, 11, 20)]
    rchat.services.clock.set(datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc))  # 1 December local
    rchat.send("li", "报送 今天开展座谈")
    assert "工作动态信息：本月 1/3，截止12月31日" in rchat.send("li", "进度")
