"""The conversation rules of reporting (issue 10), each driven through the real processor on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import ReportAudit
from bot.messages import Reply
from bot.testing.chat import ChatDriver
from bot.wecom.sender import WeComSender
from tests.helpers_reports import report_chat, stored_reports
from tracking import texts

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rchat(services, tmp_path) -> ChatDriver:
    return report_chat(services, tmp_path)


reports = stored_reports


def test_a_report_without_the_magic_word_is_offered_once_and_kept_until_answered(rchat: ChatDriver) -> None:
    ask = rchat.send("li", "昨天在红山郡社区开展了民族团结进步创建宣传活动，40人参加")
    assert "要记为一条报送吗" in ask and isinstance(ask, Reply) and [b.command for b in ask.buttons] == ["是", "不是"]
    assert reports(rchat) == []
    reply = rchat.send("li", "是")
    assert "报送编号 1" in reply
    [r] = reports(rchat)
    assert (r.activity_date, r.participants, r.village) == (date(2026, 11, 19), 40, "红山郡社区")
    assert rchat.send("li", "今天在社区开展了走访慰问 十几个人").count("要记为一条报送吗") == 1
    assert rchat.send("li", "不是") == texts.RECORD_DROPPED
    assert len(reports(rchat)) == 1 and rchat.services.state.get("conv:li") is None


@pytest.mark.parametrize("text", ["保送 今天开展民族团结宣讲 30人", "【报送】11月16日开展民族团结宣讲",
                                  "报个活动 今天开展宣讲", "交个活动：昨天开展走访慰问", "录一下 今天开展宣讲",
                                  "登记一下活动：前天开展座谈", "上报一下 今天开展宣讲", "報送 今天開展宣講",
                                  "领导在吗 上报一下 昨天开展宣讲"])
def test_trigger_variants_slips_and_brackets_store_at_once(rchat: ChatDriver, text: str) -> None:
    assert "报送编号 1" in rchat.send("li", text)


@pytest.mark.parametrize("text", ["每月要报几篇信息啊", "报送的材料发哪里 发群里还是私发你", "好的收到", "新年快乐！",
                                  "请问开展民族团结进步宣传需要拍照吗"])
def test_questions_and_chat_are_not_taken_for_reports(rchat: ChatDriver, text: str) -> None:
    reply = rchat.send("li", text)
    assert "要记为一条报送吗" not in reply and "报送编号" not in reply
    assert reports(rchat) == [] and rchat.services.state.get("conv:li") is None


def test_a_question_while_a_follow_up_waits_is_answered_and_the_follow_up_stays(rchat: ChatDriver) -> None:
    rchat.send("li", "今天在社区开展了民族团结宣讲 30人")
    reply = rchat.send("li", "统战信息每个月要报几篇？")
    assert "没看懂" not in reply and texts.PENDING_STILL.format(question="要记为报送吗") in reply
    assert rchat.services.state.get_json("conv:li")["need"] == "record"
    assert "报送编号 1" in rchat.send("li", "是")


def test_a_bare_number_is_taken_for_the_task_only_when_it_fits(rchat: ChatDriver) -> None:
    ask = rchat.send("li", "报送 今天社区的情况")
    assert isinstance(ask, Reply) and ask.buttons[-1].command == "0"
    n = len(ask.buttons) - 1
    assert rchat.send("li", str(n + 3)) == texts.ASK_TASK_AGAIN.format(n=n)
    assert rchat.send("li", "统战信息每个月要报几篇？") != texts.ASK_TASK_AGAIN.format(n=n)
    assert reports(rchat) == [] and rchat.services.state.get_json("conv:li")["need"] == "task"
    assert "报送编号 1" in rchat.send("li", "任务 1")


def test_a_bare_withdraw_asks_which_and_a_double_tap_withdraws_nothing_twice(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 昨天开展宣讲")
    rchat.send("li", "报送 今天开展走访")
    first = rchat.send("li", "撤回")
    assert first.startswith("撤回 2？") and "回复「是」确认" in first
    assert rchat.event("li", "click", "withdraw").startswith("撤回 2？")  # the menu item, tapped again
    assert rchat.send("li", "是").startswith("已撤回报送 2")
    assert [r.status for r in reports(rchat)] == ["active", "withdrawn"]
    assert rchat.send("li", "撤回").startswith("撤回 1？")
    assert rchat.send("li", "不是") == texts.WITHDRAW_KEPT.format(id=1)
    assert reports(rchat)[0].status == "active"


def test_restore_undoes_a_withdrawal_within_a_day(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 昨天开展宣讲")
    assert "恢复 1" in rchat.send("li", "撤回 1")
    reply = rchat.send("li", "恢复 1")
    assert reply.startswith("已恢复报送 1") and "本月工作动态信息 1/3" in reply
    assert reports(rchat)[0].status == "active" and reports(rchat)[0].withdrawn_at is None
    with rchat.services.db.session() as s:
        assert [a.action for a in s.scalars(select(ReportAudit).order_by(ReportAudit.id))] == [
            "create", "withdraw", "restore"]
    assert rchat.send("li", "恢复 1") == texts.RESTORE_NOT_WITHDRAWN.format(id=1)
    rchat.send("li", "撤回 1")
    rchat.services.clock.advance(hours=25)
    assert rchat.send("li", "恢复 1") == texts.RESTORE_TOO_LATE.format(id=1)
    assert rchat.send("li", "恢复") == texts.RESTORE_NONE


def test_an_admin_acting_on_someone_elses_report_tells_its_owner(rchat: ChatDriver, wecom_api) -> None:
    rchat.services.sender = WeComSender(wecom_api.corp_id, wecom_api.secret, wecom_api.agent_id,
                                        api_base=wecom_api.base_url)
    rchat.send("li", "报送 昨天开展宣讲，40人参加")
    assert rchat.send("zhao", "修改 1 人数 45").startswith("已修改报送 1")
    assert rchat.send("zhao", "撤回 1").startswith("已撤回报送 1")
    assert rchat.send("zhao", "恢复 1").startswith("已恢复报送 1")
    told = wecom_api.texts_to("li")
    assert len(told) == 3 and "人数 40 → 45" in told[0] and "撤回" in told[1] and "恢复" in told[2]
    assert all("赵主任" in t for t in told) and wecom_api.texts_to("zhao") == []
    rchat.send("li", "撤回 1")
    assert len(wecom_api.texts_to("li")) == 3  # nobody is told about their own change


def test_the_same_report_twice_within_a_day_is_caught(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 昨天在红山郡社区开展民族团结宣讲，40人参加")
    again = rchat.send("li", "报送 昨天在红山郡社区开展民族团结宣讲，40人参加")
    assert again.startswith("这条和报送 1") and "是重复发送吗" in again
    assert rchat.send("li", "是") == texts.DUPLICATE_DROPPED.format(id=1)
    assert len(reports(rchat)) == 1
    rchat.send("li", "报送 昨天在红山郡社区开展民族团结宣讲，40人参加")
    assert "报送编号 2" in rchat.send("li", "不是")
    rchat.services.clock.advance(hours=25)
    assert "报送编号 3" in rchat.send("li", "报送 昨天在红山郡社区开展民族团结宣讲，40人参加")


def test_modify_village_accepts_only_roster_villages(rchat: ChatDriver) -> None:
    rchat.send("li", "报送 昨天开展宣讲")
    refused = rchat.send("li", "修改 1 村居 火星村")
    assert refused.startswith("「火星村」不在名册的村居中") and "红山郡社区" in refused and "东风村" in refused
    assert rchat.send("li", "修改 1 村居 东风").startswith("已修改报送 1：村居 红山郡社区 → 东风村")


def test_vague_dates_are_asked_and_future_ones_are_plans(rchat: ChatDriver) -> None:
    ask = rchat.send("li", "前几天在社区开了个座谈会 十来个人")
    assert "哪一天" in ask and reports(rchat) == []
    assert "报送编号 1" in rchat.send("li", "11月17日")
    assert reports(rchat)[0].activity_date == date(2026, 11, 17)
    plan = rchat.send("li", "下个月5号社区准备开展民族团结宣讲")
    assert "计划" in plan and "12月5日" in plan
    assert "先不计入" in rchat.send("li", "是") and len(reports(rchat)) == 1


def test_counts_keep_their_wording_and_long_messages_a_short_confirmation(rchat: ChatDriver) -> None:
    reply = rchat.send("li", "报送 昨天开展主题党日 党员12人、群众28人")
    assert "40人（党员12人、群众28人）" in reply or "40人（12人、群众28人）" in reply
    assert rchat.send("li", "报送 今天开展宣讲 十五六个人").count("15人") == 1
    long = "报送 今天在红山郡社区开展民族团结宣讲，" + "居民代表认真学习了有关政策，大家踊跃发言。" * 250
    reply = rchat.send("li", long)
    assert len(reply.encode()) < 1024 and reply.splitlines()[-1] == texts.CONFIRM_FOOTER.format(id=3)
    r = reports(rchat)[2]
    assert r.raw_text == long and len(r.summary) <= 200 and r.summary.endswith("…")
    assert [r.participants for r in reports(rchat)[:2]] == [40, 15]
    assert reports(rchat)[1].participants_text == "十五六个人"


def test_chat_jsonl_runs_a_script_at_the_given_times(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("userid,name,village,role\nu1,张三,东风村,liaison\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "BOT_CONFIG": str(tmp_path / "c.yaml")}
    (tmp_path / "c.yaml").write_text(f"data_dir: {tmp_path / 'data'}\ntasks_file: {ROOT / 'tasks.yaml'}\n",
                                     encoding="utf-8")
    run = [sys.executable, "run.py"]
    subprocess.run([*run, "roster", "import", str(roster)], cwd=ROOT, env=env, check=True, capture_output=True)
    script = "\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"user": "u1", "text": "报送 昨天开展宣讲 40人", "at": "2026-03-02T10:00"},
        {"user": "u1", "text": "我的报送", "at": "2026-03-02T10:01"},
    ]) + "\nnot json\n"
    out = subprocess.run([*run, "chat", "--jsonl"], cwd=ROOT, env=env, input=script, capture_output=True,
                         text=True, timeout=120)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert out.returncode == 2 and "line 3" in out.stderr
    assert [x["text"] for x in lines] == ["报送 昨天开展宣讲 40人", "我的报送"]
    assert "报送编号 1" in lines[0]["reply"] and "3月1日" in lines[0]["reply"]
    one = subprocess.run([*run, "chat", "--user", "u1", "--message", "报送 昨天开展走访", "--at", "2026-03-05T09:00"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "报送编号 2" in one.stdout and "3月4日" in one.stdout
