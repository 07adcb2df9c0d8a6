"""Starlette routes of the admin pages. HTTP Basic auth against BOT_ADMIN_PASSWORD (any user name).

No password configured: every request is refused (403). console.security does the rest: wrong
passwords are answered ever more slowly and lock the client out (429, right password included)
for a window; state-changing forms carry a CSRF token and must come from this site; every admin
response carries the security headers.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, Router

from bot.clock import to_local
from console import queries, texts
from console.html import page, ratio, table
from console.security import CSRF_FIELD, AdminSecurity, basic_binding

if TYPE_CHECKING:
    from bot.context import Services


def admin_routes(services: Services, security: AdminSecurity | None = None) -> list[Mount | Route]:
    """The /admin/… routes bound to one process's services."""
    guard = security or AdminSecurity.from_services(services)

    async def overview(request: Request) -> Response:
        if (denied := await guard.basic_auth(request)) is not None:
            return denied
        rows = await run_in_threadpool(_overview_rows, services)
        token = guard.csrf_token(basic_binding(request))
        body = (
            f'<form method="post" action="/admin/knowledge/reload">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{_attr(token)}"><button>{texts.RELOAD}</button></form>'
            + table(texts.PROGRESS_HEAD, rows, raw_columns=frozenset({5}))
        )
        return HTMLResponse(page(texts.NAV[0][1], body))

    async def reports(request: Request) -> Response:
        if (denied := await guard.basic_auth(request)) is not None:
            return denied
        since, village = _filters(request)
        rows = await run_in_threadpool(_report_rows, services, since, village)
        q = request.url.query
        form = (
            f'<form method="get">{texts.SINCE} <input type="date" name="since" value="{since or ""}"> '
            f'{texts.VILLAGE} <input name="village" value="{_attr(village or "")}"> <button>{texts.FILTER}</button> '
            f'<a href="/admin/reports.xlsx?{_attr(q)}">{texts.EXPORT_XLSX}</a> '
            f'<a href="/admin/reports.csv?{_attr(q)}">{texts.EXPORT_CSV}</a></form>'
        )
        return HTMLResponse(page(texts.NAV[1][1], form + table(texts.REPORT_HEAD, rows)))

    async def export(request: Request) -> Response:
        if (denied := await guard.basic_auth(request)) is not None:
            return denied
        suffix = request.path_params["fmt"]
        if suffix not in {"xlsx", "csv"}:
            return PlainTextResponse("not found", status_code=404)
        since, village = _filters(request)
        content = await run_in_threadpool(_export_bytes, services, suffix, since, village)
        media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if suffix == "xlsx"
                 else "text/csv; charset=utf-8")
        filename = f"reports-{services.clock.now().astimezone(services.settings.tz):%Y%m%d}.{suffix}"
        return Response(content, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    async def tasks(request: Request) -> Response:
        if (denied := await guard.basic_auth(request)) is not None:
            return denied
        rows = await run_in_threadpool(_task_rows, services)
        return HTMLResponse(page(texts.NAV[2][1], table(texts.TASK_HEAD, rows)))

    async def questions(request: Request) -> Response:
        if (denied := await guard.basic_auth(request)) is not None:
            return denied
        unanswered, feedback = await run_in_threadpool(_question_rows, services)
        body = table(texts.QUESTION_HEAD, unanswered) + "<h3>反馈</h3>" + table(texts.FEEDBACK_HEAD, feedback)
        return HTMLResponse(page(texts.NAV[3][1], body))

    async def reload_knowledge(request: Request) -> Response:
        if (denied := await guard.basic_auth(request)) is not None:
            return denied
        if (denied := await guard.refuse_cross_site(request, basic_binding(request))) is not None:
            return denied
        report = await run_in_threadpool(services.retriever.reload)
        message = texts.RELOADED.format(clauses=getattr(report, "clauses", "?"), files=getattr(report, "files", "?"))
        errors = getattr(report, "errors", None)
        if errors:
            message += " " + texts.RELOAD_ERRORS.format(names="、".join(str(e) for e in errors))
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(page(texts.RELOAD, f"<p>{_attr(message)}</p>"))
        return PlainTextResponse(message)

    async def not_found(request: Request) -> Response:
        """Answered inside the admin app, so the 404 carries the security headers too."""
        return PlainTextResponse("not found", status_code=404)

    async def root(request: Request) -> Response:
        return guard.apply_headers(RedirectResponse("/admin/"))

    pages = Router(routes=[
        Route("/", overview),
        Route("/reports", reports),
        Route("/reports.{fmt:str}", export),
        Route("/tasks", tasks),
        Route("/questions", questions),
        Route("/knowledge/reload", reload_knowledge, methods=["POST"]),
        Route("/{rest:path}", not_found, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    ])
    return [Mount("/admin", app=guard.headers(pages)), Route("/admin", root)]


def _attr(value: str) -> str:
    from html import escape

    return escape(value, quote=True)


def _filters(request: Request) -> tuple[date | None, str | None]:
    raw = request.query_params.get("since") or ""
    try:
        since = date.fromisoformat(raw) if raw else None
    except ValueError:
        since = None
    return since, (request.query_params.get("village") or "").strip() or None


def _overview_rows(services: Services) -> list[tuple[object, ...]]:
    today = services.clock.now().astimezone(services.settings.tz).date()
    with services.db.session() as session:
        rows = queries.progress_by_village(session, today)
    return [(r.village, r.task, r.period, r.people, f"{r.on_track}/{r.people}", ratio(r.done, r.target)) for r in rows]


def _report_rows(services: Services, since: date | None, village: str | None) -> list[tuple[object, ...]]:
    from tracking.reports import list_reports, people_names

    with services.db.session() as session:
        names = people_names(session)
        return [
            (r.id, names.get(r.userid, r.userid), r.village, r.activity_date.isoformat(), r.activity,
             r.participants if r.participants is not None else "", r.task.title if r.task else "",
             len(r.photos), texts.STATUS.get(r.status, r.status))
            for r in reversed(list_reports(session, since=since, village=village))
        ]


def _export_bytes(services: Services, suffix: str, since: date | None, village: str | None) -> bytes:
    """The same file `run.py reports export` writes, for the office to download."""
    from tracking.export import export_rows, write_export
    from tracking.reports import list_reports, people_names

    with services.db.session() as session:
        rows = export_rows(list_reports(session, since=since, village=village), people_names(session),
                           services.settings.tz)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"reports.{suffix}"
        write_export(path, rows)
        return path.read_bytes()


def _task_rows(services: Services) -> list[tuple[object, ...]]:
    with services.db.session() as session:
        return [
            (t.title, texts.CADENCE.get(t.cadence, t.cadence) + (f"（截止 {t.due_date}）" if t.due_date else ""),
             t.target, texts.AUDIENCE.get(t.audience, t.audience), "、".join(t.keywords or []),
             f"{t.source_section}：{t.source_text}" if t.source_section else t.source_text)
            for t in queries.all_tasks(session)
        ]


def _question_rows(services: Services) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    tz = services.settings.tz
    with services.db.session() as session:
        unanswered = [(to_local(q.created_at, tz).strftime("%m-%d %H:%M"), q.userid, q.question, q.best_text or "")
                      for q in queries.unanswered(session)]
        feedback = [(to_local(f.created_at, tz).strftime("%m-%d %H:%M"), f.userid, f.question,
                     texts.HELPFUL[f.helpful], f.answer_text[:80]) for f in queries.feedback(session)]
    return unanswered, feedback
