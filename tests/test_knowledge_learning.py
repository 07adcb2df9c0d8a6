"""您是不是想问 and the learning loop, driven through the chat processor on SQLite and PostgreSQL.

A question the ranker is not confident about gets a numbered list (a Reply with buttons); picking a
candidate or saying 有用 teaches question -> clause, 没用 unteaches; what was taught survives a reload
and another process, follows a clause through a plan edit and is dropped with a note when it is gone.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.db.models import AnswerLink
from bot.messages import Reply
from knowledge.learning import ORPHANED, LinkStore, question_key

UNSURE = "信耶稣的私下聚会怎么管"  # religious gatherings in colloquial words: plausible, not confident


def _numbered(reply: str) -> list[str]:
    return [line.split(". ", 1)[1] for line in reply.splitlines() if line[:1].isdigit() and ". " in line]


def test_did_you_mean_list_is_a_reply_with_buttons_and_a_pick_shows_the_clause(chat, services) -> None:
    assert services.retriever.search(UNSURE).outcome == "suggest"  # the premise of this test
    reply = chat.send("liaison1", UNSURE)
    assert isinstance(reply, Reply) and reply.kind == "did_you_mean"
    assert reply.startswith("没有找到确定的答案。您是不是想问")
    listed = _numbered(reply)
    assert 2 <= len(listed) <= 3
    assert [b.command for b in reply.buttons] == [str(n) for n in range(1, len(listed) + 1)]
    picked = chat.send("liaison1", "2")
    assert listed[1].rstrip("…") in picked and "出处：《" in picked
    assert chat.send("liaison1", "7").startswith("请回复 1～")


def test_a_pick_teaches_and_the_same_question_is_then_answered(chat, services) -> None:
    first = chat.send("liaison1", UNSURE)
    wanted = _numbered(first)[1].rstrip("…")
    chat.send("liaison1", "2")
    again = chat.send("liaison2", UNSURE)  # another liaison, the same question
    assert not isinstance(again, Reply) or again.kind != "did_you_mean"
    assert again.startswith(wanted)
    similar = chat.send("liaison3", UNSURE + "呢？")  # normalised and near enough: the same question
    assert similar.startswith(wanted)
    with services.db.session() as session:
        rows = session.scalars(select(AnswerLink)).all()
    assert [(r.question_key, r.weight, r.verdict) for r in rows] == [(question_key(UNSURE), 1, "clause")]


def test_unhelpful_unteaches_and_helpful_teaches_again(chat, services) -> None:
    chat.send("liaison1", UNSURE)
    chat.send("liaison1", "1")
    assert not isinstance(chat.send("liaison1", UNSURE), Reply)  # taught: a confident answer now
    chat.send("liaison1", "没用")  # weight back to 0: the list again
    back = chat.send("liaison1", UNSURE)
    assert isinstance(back, Reply) and back.kind == "did_you_mean"
    chat.send("liaison1", "1")
    chat.send("liaison1", "有用")  # +1 from the pick, +1 from 有用
    with services.db.session() as session:
        weights = [r.weight for r in session.scalars(select(AnswerLink)).all()]
    assert weights == [2]


def test_learning_survives_a_reload_and_reaches_another_process(chat, services) -> None:
    chat.send("liaison1", UNSURE)
    chat.send("liaison1", "1")
    services.retriever.reload()
    assert services.retriever.search(UNSURE).answered
    from knowledge.retriever import Retriever

    other = Retriever.load(services.settings.knowledge)  # a second process: its own retriever and store
    assert other.search(UNSURE).outcome == "suggest"
    other.attach_learning(LinkStore(services.db))
    assert other.search(UNSURE).answered and other.search(UNSURE).learned == "answer"


def test_office_links_and_not_in_our_plans(chat, services) -> None:
    question = "统战部部长现在是哪位"
    assert chat.send("liaison1", question).startswith("没有找到")
    store = services.retriever.learning  # the console's store in this process (others refresh in seconds)
    clause = services.retriever.clauses[5]
    store.link(question, clause.doc, clause.text)
    assert chat.send("liaison1", question).startswith(clause.text[:20])
    store.mark_not_in_plans(question)  # the office changes its mind: same weight, "not in plans" wins
    declined = chat.send("liaison1", question)
    assert declined.startswith("没有找到相关规定") and not isinstance(declined, Reply)


def _plan(folder: Path, clause: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "grid.txt").write_text(
        f"网格工作细则\n一、走访\n1.{clause}\n2.楼栋长每季度召开居民议事会一次。\n"
        "二、台账\n1.建立困难群众台账并动态更新。\n", encoding="utf-8")
    return folder


def test_links_follow_an_edited_clause_and_are_dropped_with_a_note(db, clock, tmp_path: Path) -> None:
    from app.services import build_services
    from bot.state import MemoryStateStore
    from bot.testing.chat import ChatDriver
    from bot.wecom.sender import LogSender
    from tests.conftest import make_settings

    corpus = _plan(tmp_path / "plans", "网格长每月入户走访不少于两次。")
    settings = make_settings(tmp_path, knowledge={"corpus_dir": str(corpus)})
    services = build_services(settings, clock=clock, sender=LogSender(), db=db, state=MemoryStateStore())
    try:
        chat = ChatDriver(services)
        question = "管网格的人多久走访一次"
        first = chat.send("liaison1", question)
        assert isinstance(first, Reply) and first.kind == "did_you_mean"
        n = next(i for i, line in enumerate(_numbered(first), 1) if "网格长" in line)
        chat.send("liaison1", str(n))  # taught: question -> the 网格长 clause
        assert chat.send("liaison2", question).startswith("1.网格长每月入户走访不少于两次")
        _plan(corpus, "网格长每月入户走访不少于三次。")  # the office edits the plan
        services.retriever.reload()
        assert chat.send("liaison2", question).startswith("1.网格长每月入户走访不少于三次")
        with db.session() as session:
            row = session.scalars(select(AnswerLink)).one()
        assert "不少于三次" in row.clause_text and row.note.startswith("relinked")
        (corpus / "grid.txt").write_text("网格工作细则\n一、台账\n1.建立困难群众台账并动态更新。\n", encoding="utf-8")
        services.retriever.reload()
        assert not services.retriever.search(question).learned
        with db.session() as session:
            row = session.scalars(select(AnswerLink)).one()
        assert row.status == ORPHANED and "no longer in" in row.note
    finally:
        services.close()


def test_explain_shows_the_ranking_the_evidence_and_the_outcome(chat, services) -> None:
    retriever = services.retriever
    shown = retriever.explain(UNSURE)
    assert shown["outcome"] == "suggest" and shown["threshold"] == retriever.threshold
    scores = [c["score"] for c in shown["clauses"]]
    assert scores == sorted(scores, reverse=True) and scores[0] < shown["threshold"]
    assert [h["text"] for h in shown["did_you_mean"]] == [c["text"] for c in shown["clauses"][:len(shown["did_you_mean"])]]
    kinds = {a["kind"] for t in shown["terms"] for a in t["alternatives"]}
    assert "colloquial" in kinds  # 信耶稣 is found as 基督教 through the everyday-words lexicon
    assert any(m for c in shown["clauses"] for m in c["matched"])
    off = retriever.explain("驾照到期了去哪换")
    assert off["outcome"] == "decline" and off["unknown_share"] > off["unknown_max"]
    chat.send("liaison1", UNSURE)
    chat.send("liaison1", "1")
    assert retriever.explain(UNSURE)["learned"] == "answer"


def test_a_different_question_is_not_taken_for_a_taught_one(services) -> None:
    store = LinkStore(services.db)
    clause = services.retriever.clauses[3]
    store.vote("统战信息每月报几篇", clause.doc, clause.text, +1)
    assert store.lookup("统战信息每月报几篇呀")  # the same question, a particle more
    assert not store.lookup("统战信息每年报几篇")  # one word changed: another question
