"""知识库: plan files (upload → load report → go live; replace; remove), clauses by document and
section, 命中测试, and 未答问题 grouped by similarity with one-click links to a clause."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sqlalchemy import func, select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.db.models import AnswerFeedback, UnansweredQuestion
from console import texts
from console.hit_test import group_questions, hit_test
from console.plan_upload import (
    MAX_UPLOAD_BYTES,
    UploadRefused,
    check,
    corpus_files,
    go_live,
    refresh_task_proposals,
    remove,
    stage,
)

if TYPE_CHECKING:
    from console.web import Console

MB = MAX_UPLOAD_BYTES // (1024 * 1024)


def _uploads(console: Console) -> Path:
    return Path(console.services.settings.data_dir) / "uploads" / "plans"


def _corpus(console: Console) -> Path:
    return Path(console.services.settings.knowledge.corpus_dir)


def _refusal(reason: str) -> str:
    kind, _, detail = reason.partition(":")
    if kind == "type":
        return texts.KN_BAD_TYPE.format(reason=detail)
    if kind == "size":
        return texts.KN_TOO_BIG.format(mb=MB)
    if kind == "empty":
        return texts.KN_EMPTY
    if kind == "unreadable":
        return texts.KN_UNREADABLE.format(reason=detail)
    return texts.KN_UNREADABLE.format(reason=reason)


def _propose(console: Console) -> list[str]:
    """Refresh tasks.yaml's proposals from the corpus and sync it, so 任务 shows what to approve."""
    from tracking.tasks import sync_tasks

    tasks_file = Path(console.services.settings.tasks_file)
    added = refresh_task_proposals(_corpus(console), tasks_file)
    with console.services.db.session() as session:
        sync_tasks(session, tasks_file)
    return added


def _feedback_counts(session) -> dict[tuple[str, str], tuple[int, int]]:  # noqa: ANN001
    rows = session.execute(select(AnswerFeedback.doc, AnswerFeedback.answer_text, AnswerFeedback.helpful,
                                  func.count(AnswerFeedback.id))
                           .group_by(AnswerFeedback.doc, AnswerFeedback.answer_text, AnswerFeedback.helpful)).all()
    out: dict[tuple[str, str], list[int]] = {}
    for doc, text, helpful, n in rows:
        out.setdefault((doc, text), [0, 0])[0 if helpful else 1] += int(n)
    return {k: (v[0], v[1]) for k, v in out.items()}


async def knowledge(request: Request, console: Console, *, report=None, error: str = "",  # noqa: ANN001
                    status: int = 200) -> Response:
    def load() -> dict[str, object]:
        retriever = console.services.retriever
        titles = {c.file: c.doc for c in retriever.clauses}
        return {"files": corpus_files(_corpus(console), retriever.clauses), "load": retriever.report, "titles": titles}

    data = await console.run(load)
    return console.render(request, "knowledge.html", status=status, title=texts.KNOWLEDGE, mb=MB, report=report,
                          error=error, flash=request.query_params.get("flash", ""), **data)


async def upload(request: Request, console: Console) -> Response:
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await knowledge(request, console, error=texts.KN_UNREADABLE.format(reason="未选择文件"), status=400)
    content = await file.read(MAX_UPLOAD_BYTES + 1)

    def build():  # noqa: ANN202 - FileReport
        token, path = stage(_uploads(console), file.filename or "", content)
        return check(path, token, _corpus(console))

    try:
        report = await console.run(build)
    except UploadRefused as exc:
        return await knowledge(request, console, error=_refusal(str(exc)), status=400)
    return await knowledge(request, console, report=report)


async def publish(request: Request, console: Console) -> Response:
    form = await request.form()
    token = str(form.get("token") or "")

    def act() -> str | None:
        name = go_live(_uploads(console), token, _corpus(console))
        if name is None:
            return None
        report = console.services.retriever.reload()
        proposed = _propose(console)
        console.audit(request, "knowledge-upload", name, clauses=report.clauses, proposed=proposed)
        message = texts.KN_LIVE.format(name=name, clauses=report.clauses)
        return message + (" " + texts.KN_PROPOSED.format(n=len(proposed)) if proposed else "")

    message = await console.run(act)
    if message is None:
        return await knowledge(request, console, error=texts.KN_EXPIRED, status=400)
    return RedirectResponse(f"/admin/knowledge?{urlencode({'flash': message})}", status_code=303)


async def remove_file(request: Request, console: Console) -> Response:
    form = await request.form()
    name = str(form.get("name") or "")

    def act() -> bool:
        if form.get("confirm") != "1" or not remove(_corpus(console), name):
            return False
        report = console.services.retriever.reload()
        _propose(console)  # the removed file's proposals are retired; approved tasks stay
        console.audit(request, "knowledge-remove", name, clauses=report.clauses)
        return True

    if not await console.run(act):
        return await knowledge(request, console, error=texts.EMPTY, status=404)
    return RedirectResponse(f"/admin/knowledge?{urlencode({'flash': texts.KN_REMOVED.format(name=name)})}",
                            status_code=303)


async def reload_knowledge(request: Request, console: Console) -> Response:
    def act() -> str:
        report = console.services.retriever.reload()
        console.audit(request, "knowledge-reload", "", clauses=report.clauses, files=report.files)
        message = texts.RELOADED.format(clauses=report.clauses, files=report.files)
        if report.errors:
            message += " " + texts.RELOAD_ERRORS.format(names="、".join(str(e) for e in report.errors))
        return message

    message = await console.run(act)
    if "text/html" not in request.headers.get("accept", ""):
        from starlette.responses import PlainTextResponse

        return PlainTextResponse(message)
    return RedirectResponse(f"/admin/knowledge?{urlencode({'flash': message})}", status_code=303)


async def clauses(request: Request, console: Console) -> Response:
    name = request.query_params.get("file", "")

    def load() -> dict[str, object]:
        every = console.services.retriever.clauses
        files = sorted({c.file for c in every})
        chosen = name if name in files else (files[0] if files else "")
        sections: dict[str, list[object]] = {}
        for c in every:
            if c.file == chosen:
                sections.setdefault(c.section or c.doc, []).append(c)
        with console.services.db.session() as session:
            votes = _feedback_counts(session)
        return {"files": files, "chosen": chosen, "sections": sections, "votes": votes}

    data = await console.run(load)
    return console.render(request, "clauses.html", title=texts.KN_BROWSE, **data)


async def test_page(request: Request, console: Console) -> Response:
    question = (request.query_params.get("q") or "").strip()
    result = await console.run(hit_test, console.services.retriever, question) if question else None
    return console.render(request, "hit_test.html", title=texts.HIT_TEST, question=question, result=result,
                          flash=request.query_params.get("flash", ""))


async def questions(request: Request, console: Console) -> Response:
    def load() -> dict[str, object]:
        with console.services.db.session() as session:
            rows = list(session.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc())
                                        .limit(500)))
            feedback = _feedback_counts(session)
        groups = group_questions(rows)[:60]
        retriever = console.services.retriever
        store = _store(console)
        for group in groups[:30]:
            group.nearest = hit_test(retriever, group.lead.question).ranked[:3]
            group.links = list(store.lookup(group.lead.question)) if store is not None else []
        ranked_feedback = sorted(feedback.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:50]
        return {"groups": groups, "feedback": ranked_feedback}

    data = await console.run(load)
    return console.render(request, "questions.html", title=texts.QUESTIONS, flash=request.query_params.get("flash", ""),
                          **data)


def _store(console: Console):  # noqa: ANN202 - knowledge.learning.LinkStore | None
    from knowledge.learning import store_for

    return store_for(console.services.retriever, console.services.db)


async def link(request: Request, console: Console) -> Response:
    """未答问题 → this clause (or: not in our plans), in the answers' learning store."""
    form = await request.form()
    question = str(form.get("question") or "").strip()
    clause_id = str(form.get("clause_id") or "")

    def act() -> str:
        store = _store(console)
        if store is None or not question:
            return texts.Q_LINK_OFF
        if form.get("verdict") == "none":
            store.mark_not_in_plans(question)
            console.audit(request, "question-not-in-plans", question[:120])
            return texts.Q_NOT_IN_PLANS_DONE
        clause = next((c for c in console.services.retriever.clauses if c.clause_id == clause_id), None)
        if clause is None:
            return texts.KN_EXPIRED
        store.link(question, clause.doc, clause.text)
        console.audit(request, "question-link", question[:120], doc=clause.doc, section=clause.section,
                      clause=clause.text[:200])
        return texts.Q_LINKED

    message = await console.run(act)
    return RedirectResponse(f"/admin/questions?{urlencode({'flash': message})}", status_code=303)


async def add_synonym(request: Request, console: Console) -> Response:
    """添加同义词: the office says a word liaisons use means what the plans say; answers change at once."""
    from knowledge import office_synonyms

    form = await request.form()
    word = str(form.get("word") or "")
    equivalents = [x for x in str(form.get("equivalents") or "").replace("，", ",").replace("、", ",").split(",")]
    back = "/admin/knowledge/test?" + urlencode({"q": str(form.get("q") or "")}) if form.get("q") else \
        "/admin/questions?"

    def act() -> str:
        settings = console.services.settings
        path = office_synonyms.path_for(settings.data_dir)
        try:
            office_synonyms.add(path, word, equivalents)
        except office_synonyms.SynonymError as exc:
            return texts.SYN_BAD.format(word=str(exc))
        console.services.retriever.use_synonyms(office_synonyms.merged(dict(settings.knowledge.synonyms), path))
        console.audit(request, "synonym-add", word.strip(), equivalents=[e.strip() for e in equivalents if e.strip()])
        return texts.SYN_ADDED.format(word=word.strip(), equivalents="、".join(e.strip() for e in equivalents
                                                                                if e.strip()))

    message = await console.run(act)
    sep = "&" if "?" in back and not back.endswith("?") else ""
    return RedirectResponse(f"{back}{sep}{urlencode({'flash': message})}", status_code=303)


def routes(console: Console) -> list[Route]:
    return [
        Route("/knowledge", console.page(knowledge)),
        Route("/knowledge/upload", console.action(upload), methods=["POST"]),
        Route("/knowledge/publish", console.action(publish), methods=["POST"]),
        Route("/knowledge/remove", console.action(remove_file), methods=["POST"]),
        Route("/knowledge/reload", console.action(reload_knowledge), methods=["POST"]),
        Route("/knowledge/clauses", console.page(clauses)),
        Route("/knowledge/test", console.page(test_page)),
        Route("/questions", console.page(questions)),
        Route("/questions/link", console.action(link), methods=["POST"]),
        Route("/knowledge/synonyms", console.action(add_synonym), methods=["POST"]),
    ]

