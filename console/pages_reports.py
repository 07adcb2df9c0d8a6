"""报送: filtered, paginated reports (withdrawn ones marked), photo thumbnails served only to signed-in
admins, and exports that keep the filters (the .xlsx with a progress sheet)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.db.models import ReportPhoto, Task
from console import texts
from console.matrix import build_matrix
from console.periods import view_of
from console.report_filters import PAGE_SIZE, ReportFilters, count_reports, find_reports
from console.web import int_param

if TYPE_CHECKING:
    from console.web import Console

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def reports(request: Request, console: Console) -> Response:
    filters = ReportFilters.from_query(request.query_params)
    page = int_param(request.query_params.get("page"), 1)

    def load() -> dict[str, object]:
        from tracking.reports import people_names

        with console.services.db.session() as session:
            total = count_reports(session, filters)
            pages = max(1, -(-total // PAGE_SIZE))
            rows = find_reports(session, filters, page=min(page, pages))
            tasks = list(session.scalars(select(Task).order_by(Task.id)))
            return {"rows": rows, "total": total, "pages": pages, "page": min(page, pages), "tasks": tasks,
                    "names": people_names(session)}

    data = await console.run(load)
    return console.render(request, "reports.html", title=texts.REPORTS, filters=filters, **data)


async def export(request: Request, console: Console) -> Response:
    suffix = request.path_params["fmt"]
    if suffix not in {"xlsx", "csv"}:
        return PlainTextResponse("not found", status_code=404)
    filters = ReportFilters.from_query(request.query_params)

    def build() -> bytes:
        from tracking.export import export_rows, write_export
        from tracking.reports import people_names

        with console.services.db.session() as session:
            found = list(reversed(find_reports(session, filters)))
            rows = export_rows(found, people_names(session), console.tz)
            progress = progress_rows(console, session, filters) if suffix == "xlsx" else None
        console.audit(request, "export", suffix, filters=filters.query_string(), rows=len(rows))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"reports.{suffix}"
            write_export(path, rows, progress)
            return path.read_bytes()

    content = await console.run(build)
    filename = f"reports-{console.today():%Y%m%d}.{suffix}"
    return Response(content, media_type=XLSX if suffix == "xlsx" else "text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def progress_rows(console: Console, session: Session,
                  filters: ReportFilters) -> tuple[list[str], list[list[object]]]:
    """The progress sheet: each task's people in the period of the filter's end (default: today)."""
    from tracking import texts as tracking_texts

    anchor = filters.until or console.today()
    rows: list[list[object]] = []
    matrix = build_matrix(session, view_of("month", anchor), console.today(), task_key=filters.task or None)
    for col in matrix.columns:
        for (village, key), cell in sorted(matrix.cells.items()):
            if key != col.task.key or (filters.village and filters.village not in village):
                continue
            for p in cell.people:
                rows.append([col.task.title, "、".join(x.key for x in col.window.periods), village, p.name,
                             p.userid, p.done, p.target, col.due])
    return tracking_texts.PROGRESS_HEADERS, rows


async def photo(request: Request, console: Console) -> Response:
    photo_id = int_param(request.path_params["photo_id"], 0, 0, 2**31)

    def find() -> tuple[Path, str] | None:
        with console.services.db.session() as session:
            found = session.get(ReportPhoto, photo_id)
            if found is None or found.status != "fetched" or not found.path:
                return None
            root = (Path(console.services.settings.data_dir) / "photos").resolve()
            path = Path(found.path)
            path = (path if path.is_absolute() else root / path).resolve()
            if root not in path.parents or not path.is_file():
                return None
            ctype = found.content_type or ""
            return path, ctype if ctype.startswith("image/") else "application/octet-stream"

    found = await console.run(find)
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(found[0], media_type=found[1])  # no-store, like every admin response


def routes(console: Console) -> list[Route]:
    return [
        Route("/reports", console.page(reports)),
        Route("/reports.{fmt:str}", console.page(export)),
        Route("/photos/{photo_id:int}", console.page(photo)),
    ]
