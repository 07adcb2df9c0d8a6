"""名单: the roster; upload a CSV/XLSX/address-book export or sync from WeCom, see what would change,
then apply; edit or deactivate one person."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.db.models import Person
from console import texts
from console.roster_preview import keep, preview, take

if TYPE_CHECKING:
    from console.web import Console

MAX_ROSTER_BYTES = 5 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx", ".txt")


async def roster(request: Request, console: Console) -> Response:
    def load() -> list[Person]:
        with console.services.db.session() as session:
            return list(session.scalars(select(Person).order_by(Person.active.desc(), Person.village, Person.name)))

    return console.render(request, "roster.html", title=texts.ROSTER, people=await console.run(load),
                          flash=request.query_params.get("flash", ""))


async def upload(request: Request, console: Console) -> Response:
    from tracking.roster import RosterFileError, read_roster_file

    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _error(request, console, texts.ROSTER_BAD_FILE.format(reason="未选择文件"))
    suffix = Path(file.filename).suffix.lower()
    content = await file.read(MAX_ROSTER_BYTES + 1)
    if suffix not in SUFFIXES or len(content) > MAX_ROSTER_BYTES:
        return await _error(request, console, texts.ROSTER_BAD_FILE.format(reason=f"{suffix or '?'}，需 .csv 或 .xlsx，5 MB 以内"))

    def build():  # noqa: ANN202 - RosterPreview
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"roster{suffix}"
            path.write_bytes(content)
            read = read_roster_file(path)
        with console.services.db.session() as session:
            found = preview(session, read.rows, read.errors)
        found.token = keep(console.services.state, read.rows, file.filename or "")
        return found

    try:
        found = await console.run(build)
    except RosterFileError as exc:
        return await _error(request, console, texts.ROSTER_BAD_FILE.format(reason=str(exc)))
    return console.render(request, "roster_preview.html", title=texts.ROSTER_PREVIEW, preview=found,
                          source=file.filename)


async def sync(request: Request, console: Console) -> Response:
    from bot.wecom.contacts import ContactsError, read_address_book
    from tracking.roster import RosterRow

    if not console.services.settings.wecom.secret:
        return await _error(request, console, texts.ROSTER_SYNC_OFF)

    def build():  # noqa: ANN202 - RosterPreview
        book = read_address_book(console.services.sender)
        with console.services.db.session() as session:
            roles = dict(session.execute(select(Person.userid, Person.role)).tuples().all())
            rows = []
            for i, m in enumerate(book.members, 1):
                dept = book.departments.get(m.main_department or 0)
                rows.append(RosterRow(i, m.userid, m.name[:64] or m.userid, (dept.name if dept else "")[:128],
                                      roles.get(m.userid, "liaison"), m.active))
            found = preview(session, rows, [])
        found.token = keep(console.services.state, rows, "企业微信通讯录")
        return found, book.refused

    try:
        found, refused = await console.run(build)
    except ContactsError as exc:
        return await _error(request, console, texts.ROSTER_SYNC_FAILED.format(error=str(exc)))
    return console.render(request, "roster_preview.html", title=texts.ROSTER_PREVIEW, preview=found,
                          source="企业微信通讯录", refused=refused)


async def apply(request: Request, console: Console) -> Response:
    from tracking.roster import import_roster

    form = await request.form()

    def act() -> str | None:
        kept = take(console.services.state, str(form.get("token") or ""))
        if kept is None:
            return None
        source, rows = kept
        with console.services.db.session() as session:
            result = import_roster(session, rows)
        console.audit(request, "roster-import", source, created=result.created, updated=result.updated,
                      unchanged=len(result.unchanged))
        return texts.ROSTER_APPLIED.format(created=len(result.created), updated=len(result.updated),
                                           unchanged=len(result.unchanged))

    message = await console.run(act)
    if message is None:
        return await _error(request, console, texts.ROSTER_EXPIRED)
    return _back(message)


async def person_form(request: Request, console: Console) -> Response:
    userid = request.path_params["userid"]

    def load() -> Person | None:
        with console.services.db.session() as session:
            return session.scalar(select(Person).where(Person.userid == userid))

    person = await console.run(load)
    if person is None:
        return console.render(request, "message.html", status=404, title=texts.ROSTER, message=texts.EMPTY)
    return console.render(request, "person.html", title=f"{texts.EDIT} · {person.name}", person=person)


async def person_save(request: Request, console: Console) -> Response:
    userid = request.path_params["userid"]
    form = await request.form()

    def act() -> bool:
        with console.services.db.session() as session:
            person = session.scalar(select(Person).where(Person.userid == userid))
            if person is None:
                return False
            new = {"name": str(form.get("name") or person.name).strip()[:64] or person.name,
                   "village": str(form.get("village") or "").strip()[:128],
                   "role": form.get("role") if form.get("role") in texts.ROLE else person.role,
                   "active": form.get("active") == "1"}
            if "toggle" in form:
                new = {"active": not person.active}
            changes = {k: [getattr(person, k), v] for k, v in new.items() if getattr(person, k) != v}
            for k, v in new.items():
                setattr(person, k, v)
        console.audit(request, "person-edit", userid, **changes)
        return True

    if not await console.run(act):
        return console.render(request, "message.html", status=404, title=texts.ROSTER, message=texts.EMPTY)
    return _back(texts.SAVED)


def _back(message: str) -> Response:
    from urllib.parse import urlencode

    return RedirectResponse(f"/admin/roster?{urlencode({'flash': message})}", status_code=303)


async def _error(request: Request, console: Console, message: str) -> Response:
    def load() -> list[Person]:
        with console.services.db.session() as session:
            return list(session.scalars(select(Person).order_by(Person.active.desc(), Person.village, Person.name)))

    return console.render(request, "roster.html", status=400, title=texts.ROSTER, people=await console.run(load),
                          error=message)


def routes(console: Console) -> list[Route]:
    return [
        Route("/roster", console.page(roster)),
        Route("/roster/upload", console.action(upload), methods=["POST"]),
        Route("/roster/sync", console.action(sync), methods=["POST"]),
        Route("/roster/apply", console.action(apply), methods=["POST"]),
        Route("/roster/person/{userid:str}", console.page(person_form)),
        Route("/roster/person/{userid:str}", console.action(person_save), methods=["POST"]),
    ]
