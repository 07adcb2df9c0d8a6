"""The console's plumbing: one Jinja2 environment (autoescaped), sign-in by a signed session cookie
or HTTP Basic (for scripts), and the audit log. Throttling, lockout, CSRF tokens, the Origin check
and the security headers are console.security's (one AdminSecurity per console).

Pages are `async def page(request, console)` functions wrapped by `Console.page` (GET, signed in)
or `Console.action` (POST, signed in, same-origin, valid CSRF token). Blocking work runs in the
thread pool.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.clock import to_local
from bot.db.models import AdminAudit
from console import texts
from console.security import CSRF_FIELD, AdminSecurity, Verdict, basic_binding, basic_password

if TYPE_CHECKING:
    from bot.context import Services

HERE = Path(__file__).resolve().parent
COOKIE = "ztadmin"
SESSION_MAX_AGE_S = 12 * 3600

Handler = Callable[[Request, "Console"], Awaitable[Response]]


class Admin:
    """Who is signed in (the name typed at sign-in, for the audit log), how, and what their CSRF
    tokens are bound to (the session id, or the Basic credentials)."""

    def __init__(self, name: str, binding: str, via: str) -> None:
        self.name, self.binding, self.via = name, binding, via


class Console:
    """One process's console: services, templates and the sign-in rules."""

    def __init__(self, services: Services, security: AdminSecurity | None = None) -> None:
        self.services = services
        self.security = security or AdminSecurity.from_services(services)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.globals["t"] = texts
        env.globals["csrf_field_name"] = CSRF_FIELD
        env.filters["local"] = self.local_time
        env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}

    # ------------------------------------------------------------------ helpers

    @property
    def tz(self):  # noqa: ANN201 - zoneinfo.ZoneInfo
        return self.services.settings.tz

    def today(self):  # noqa: ANN201 - datetime.date
        return self.services.clock.now().astimezone(self.tz).date()

    def local_time(self, moment: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return "" if moment is None else to_local(moment, self.tz).strftime(fmt)

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)

    def render(self, request: Request, template: str, /, status: int = 200, **context: Any) -> Response:
        admin: Admin | None = request.scope.get("console.admin")
        context.setdefault("title", "")
        csrf = self.security.csrf_token(admin.binding) if admin else ""
        return self.templates.TemplateResponse(
            request, template, {"admin": admin, "csrf": csrf, "path": request.url.path, **context}, status_code=status)

    def audit(self, request: Request, action: str, subject: str = "", /, **details: Any) -> None:
        """Record one admin action (call from the thread pool: it writes to the database)."""
        admin: Admin | None = request.scope.get("console.admin")
        with self.services.db.session() as session:
            session.add(AdminAudit(actor=(admin.name if admin else "?")[:64], action=action, target=subject[:255],
                                   details=details, client=self.security.client_ip(request)[:64],
                                   at=self.services.clock.now()))

    # ------------------------------------------------------------------ sign-in

    def _serializer(self) -> URLSafeTimedSerializer | None:
        password = self.services.settings.admin_password
        if not password:
            return None
        # Signed with a key derived from the password: changing the password signs everyone out.
        key = hashlib.sha256(b"ztbot-console\0" + password.encode()).hexdigest()
        return URLSafeTimedSerializer(key, salt="admin-session")

    def session_cookie(self, name: str) -> str:
        serializer = self._serializer()
        assert serializer is not None
        return str(serializer.dumps({"u": name, "s": secrets.token_urlsafe(18)}))

    def _from_cookie(self, request: Request) -> Admin | None:
        serializer = self._serializer()
        raw = request.cookies.get(COOKIE)
        if serializer is None or not raw:
            return None
        try:
            data = serializer.loads(raw, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("s"), str):
            return None
        return Admin(data["u"], "session:" + data["s"], "session")

    async def identify(self, request: Request) -> Admin | Response:
        """The signed-in admin, or the response that refuses the request."""
        if not self.services.settings.admin_password:
            return self.security.refusal(Verdict.DISABLED)
        admin = self._from_cookie(request)
        if admin is not None:
            return admin
        supplied = basic_password(request.headers.get("authorization", ""))
        if supplied is None and "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(f"/admin/login?next={request.url.path}", status_code=303)
        verdict = await self.security.check_password(request, supplied)
        if verdict is Verdict.OK:
            return Admin("basic-auth", basic_binding(request), "basic")
        return self.security.refusal(verdict)

    def page(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A GET page for signed-in admins."""

        async def endpoint(request: Request) -> Response:
            who = await self.identify(request)
            if isinstance(who, Response):
                return who
            request.scope["console.admin"] = who
            return await handler(request, self)

        return endpoint

    def action(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A POST for signed-in admins: same origin, and the form's CSRF token bound to this sign-in."""

        async def endpoint(request: Request) -> Response:
            who = await self.identify(request)
            if isinstance(who, Response):
                return who
            request.scope["console.admin"] = who
            if (refused := await self.security.refuse_cross_site(request, who.binding)) is not None:
                return refused
            return await handler(request, self)

        return endpoint


def int_param(raw: object, default: int, low: int = 1, high: int = 10_000) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        return default
    return min(max(value, low), high)


class SignInAudit:
    """Sign-in events, written before anyone is signed in (so with the typed name as the actor)."""

    @staticmethod
    def login(console: Console, request: Request, name: str) -> None:
        request.scope["console.admin"] = Admin(name, "", "session")
        console.audit(request, "login")

    @staticmethod
    def failed_login(console: Console, request: Request, name: str) -> None:
        request.scope["console.admin"] = Admin(name, "", "none")
        console.audit(request, "login-failed")
        request.scope.pop("console.admin", None)
