"""进度: the villages × tasks matrix for any period, a cell's people and reports, the behind lists with
a remind-now button, and each task's year as a bar chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.db.models import Task
from console import texts
from console.charts import bar_chart
from console.matrix import build_matrix, cell_reports, year_trend
from console.periods import VIEWS, View, parse_view

if TYPE_CHECKING:
    from console.web import Console


def _view(request: Request, console: Console) -> View:
    q = request.query_params
    return parse_view(q.get("view"), q.get("at"), console.today())


def view_links(view: View) -> dict[str, str]:
    """Query strings for the view switcher and the arrows."""
    at = view.end.isoformat()
    links = {kind: f"?view={kind}&at={at}" for kind in VIEWS}
    links["previous"] = f"?view={view.kind}&at={view.previous().end.isoformat()}"
    links["next"] = f"?view={view.kind}&at={view.next().end.isoformat()}"
    links["current"] = f"?view={view.kind}"
    return links


async def overview(request: Request, console: Console) -> Response:
    view = _view(request, console)
    today = console.today()

    def load() -> dict[str, object]:
        with console.services.db.session() as session:
            matrix = build_matrix(session, view, today)
            charts = {}
            for col in matrix.columns:
                bars = year_trend(session, col.task, view.end.year)
                people = sum(len(c.people) for (_, key), c in matrix.cells.items() if key == col.task.key)
                target = col.task.target * people if col.task.cadence == "monthly" else None
                charts[col.task.key] = bar_chart([b.count for b in bars], [str(b.month) for b in bars], target=target,
                                                 current=today.month - 1 if today.year == view.end.year else None)
            session.expunge_all()
            return {"matrix": matrix, "charts": charts}

    data = await console.run(load)
    return console.render(request, "progress.html", title=texts.PROGRESS, view=view, links=view_links(view),
                          today=today, flash=request.query_params.get("flash", ""), **data)


async def cell(request: Request, console: Console) -> Response:
    view = _view(request, console)
    key = request.query_params.get("task", "")
    village = request.query_params.get("village", "")

    def load() -> dict[str, object] | None:
        with console.services.db.session() as session:
            matrix = build_matrix(session, view, console.today(), task_key=key)
            if not matrix.columns:
                return None
            col = matrix.columns[0]
            found = matrix.cell(village, key)
            people = found.people if found else []
            reports = cell_reports(session, col.task, [p.userid for p in people], col.window)
            session.expunge_all()
            return {"col": col, "cell": found, "people": people, "reports": reports}

    data = await console.run(load)
    if data is None:
        return console.render(request, "message.html", status=404, title=texts.PROGRESS, message=texts.EMPTY)
    return console.render(request, "progress_cell.html", title=f"{village} · {data['col'].task.title}",  # type: ignore[attr-defined]
                          view=view, links=view_links(view), village=village, **data)


async def remind(request: Request, console: Console) -> Response:
    from scheduler.manual import remind_now

    form = await request.form()
    key = str(form.get("task") or "")
    back = str(form.get("back") or "")

    def act() -> str:
        with console.services.db.session() as session:
            task = session.scalar(select(Task).where(Task.key == key))
            title = task.title if task else key
        result = remind_now(console.services, key)
        console.audit(request, "remind", title, sent=result.sent, already=result.already, failed=result.failed)
        return texts.REMIND_DONE.format(sent=len(result.sent), already=len(result.already), failed=len(result.failed))

    message = await console.run(act)
    from urllib.parse import urlencode

    query = back.lstrip("?") if back.startswith("?view=") else ""
    return RedirectResponse(f"/admin/?{query}&{urlencode({'flash': message})}".replace("?&", "?"), status_code=303)


def routes(console: Console) -> list[Route]:
    return [
        Route("/", console.page(overview)),
        Route("/progress/cell", console.page(cell)),
        Route("/progress/remind", console.action(remind), methods=["POST"]),
    ]
