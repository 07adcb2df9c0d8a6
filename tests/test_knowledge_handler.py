"""The question route through the whole bot (processor + dispatcher), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import AnswerFeedback, UnansweredQuestion


def test_question_gets_the_clause_with_its_source(chat) -> None:
    reply = chat.send("liaison1", "统战信息每个月要报几篇")
    assert "每月至少报送3篇工作动态信息" in reply
    assert "出处：《乡镇街道2024年统战工作要点》 十一、信息工作" in reply
    assert len(reply.encode("utf-8")) <= 2048


def test_number_picks_a_runner_up_and_feedback_applies_to_it(chat, services) -> None:
    first = chat.send("liaison1", "民族工作责任制")
    assert "回复数字查看" in first
    listed = [line for line in first.splitlines() if line.startswith("2. ")]
    assert listed
    second = chat.send("liaison1", "2")
    assert listed[0][3:].rstrip("…") in second
    assert "出处" in second and "1. " in second  # the first answer is now the one offered back
    assert chat.send("liaison1", "9").startswith("请回复 1～")
    chat.send("liaison1", "有用")
    with services.db.session() as session:
        rows = session.scalars(select(AnswerFeedback)).all()
    assert len(rows) == 1 and rows[0].helpful is True and rows[0].question == "民族工作责任制"
    assert listed[0][3:].rstrip("…") in rows[0].answer_text


def test_number_without_a_list_is_just_a_question(chat) -> None:
    reply = chat.send("liaison2", "2")
    assert "没有找到相关规定" in reply


def test_declined_question_is_logged_for_review(chat, services) -> None:
    reply = chat.send("liaison1", "明天会下雨吗")
    assert reply.startswith("没有找到相关规定")
    chat.send("liaison1", "？？")  # nothing worth reviewing
    import time

    deadline = time.monotonic() + 5  # written off the reply's path, so give the background a moment
    while True:
        with services.db.session() as session:
            rows = session.scalars(select(UnansweredQuestion)).all()
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    with services.db.session() as session:
        rows = session.scalars(select(UnansweredQuestion)).all()
    assert [(r.userid, r.question) for r in rows] == [("liaison1", "明天会下雨吗")]


def test_unhelpful_feedback_is_kept_once(chat, services) -> None:
    chat.send("liaison3", "宗教信息员一年培训几回")
    assert "改进" in chat.send("liaison3", "没用")
    assert "还没有可以评价的回答" in chat.send("liaison3", "没用")  # one vote per answer
    with services.db.session() as session:
        rows = session.scalars(select(AnswerFeedback)).all()
    assert len(rows) == 1 and rows[0].helpful is False
    assert "全年不少于4次" in rows[0].answer_text
    assert rows[0].section.startswith("五、宗教工作")


def test_choices_belong_to_their_user(chat) -> None:
    chat.send("liaison1", "民族工作责任制")
    assert "没有找到相关规定" in chat.send("liaison4", "2")
