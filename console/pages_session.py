"""Sign-in and sign-out (a signed session cookie), and the audit log page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.db.models import AdminAudit
from console import texts
from console.security import Verdict
from console.web import COOKIE, SESSION_MAX_AGE_S, SignInAudit

if TYPE_CHECKING:
    from console.web import Console


def _next(raw: str) -> str:
    return raw if raw.startswith("/admin") and not raw.startswith("//") else "/admin/"


def routes(console: Console) -> list[Route]:
    async def login_form(request: Request) -> Response:
        if not console.services.settings.admin_password:
            return console.security.refusal(Verdict.DISABLED)
        return console.render(request, "login.html", title=texts.LOGIN, next=_next(request.query_params.get("next", "")),
                              name="")

    async def login(request: Request) -> Response:
        """One password check through console.security (throttle, lockout), then a signed session."""
        if not console.services.settings.admin_password:
            return console.security.refusal(Verdict.DISABLED)
        if not console.security.same_origin(request):
            return console.security.apply_headers(PlainTextResponse(texts.CSRF_REFUSED, status_code=403))
        form = await request.form()
        name = str(form.get("name") or "").strip()[:64] or "admin"
        target = _next(str(form.get("next") or ""))
        verdict = await console.security.check_password(request, str(form.get("password") or ""))
        if verdict is Verdict.LOCKED:
            minutes = max(1, console.security.window_s // 60)
            return console.render(request, "login.html", status=429, title=texts.LOGIN, next=target, name=name,
                                  error=texts.LOCKED_OUT.format(minutes=minutes))
        if verdict is not Verdict.OK:
            await console.run(SignInAudit.failed_login, console, request, name)
            return console.render(request, "login.html", status=401, title=texts.LOGIN, next=target, name=name,
                                  error=texts.LOGIN_FAILED)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, console.session_cookie(name), max_age=SESSION_MAX_AGE_S, path="/admin",
                            httponly=True, samesite="lax", secure=request.url.scheme == "https")
        await console.run(SignInAudit.login, console, request, name)
        return response

    async def logout(request: Request, console: Console) -> Response:
        await console.run(console.audit, request, "logout")
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(COOKIE, path="/admin")
        return response

    async def audit(request: Request, console: Console) -> Response:
        def load() -> list[AdminAudit]:
            with console.services.db.session() as session:
                return list(session.scalars(select(AdminAudit).order_by(AdminAudit.id.desc()).limit(300)))

        return console.render(request, "audit.html", title=texts.AUDIT, rows=await console.run(load))

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", console.action(logout), methods=["POST"]),
        Route("/audit", console.page(audit)),
    ]
