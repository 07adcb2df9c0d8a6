"""The console's plumbing: one Jinja2 environment (autoescaped), sign-in by session cookie or HTTP
Basic, CSRF on every form, the audit log, and the security headers every page carries.

Pages are `async def page(request, console)` functions wrapped by `Console.page` (GET, signed in)
or `Console.action` (POST, signed in, CSRF-checked). Blocking work runs in the thread pool.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.clock import to_local
from bot.db.models import AdminAudit
from console import texts

if TYPE_CHECKING:
    from bot.context import Services

HERE = Path(__file__).resolve().parent
COOKIE = "ztadmin"
SESSION_MAX_AGE_S = 12 * 3600
MAX_FAILURES_PER_MINUTE = 10
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request, "Console"], Awaitable[Response]]


class Admin:
    """Who is signed in (the name typed at sign-in, for the audit log) and their form token."""

    def __init__(self, name: str, csrf: str, via: str) -> None:
        self.name, self.csrf, self.via = name, csrf, via


class Console:
    """One process's console: services, templates and the sign-in rules."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.globals["t"] = texts
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

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        admin: Admin | None = request.scope.get("console.admin")
        context.setdefault("title", "")
        response = self.templates.TemplateResponse(
            request, name, {"admin": admin, "csrf": admin.csrf if admin else "", "path": request.url.path,
                            **context}, status_code=status)
        return secure(response)

    def audit(self, request: Request, action: str, target: str = "", **details: Any) -> None:
        """Record one admin action (call from the thread pool: it writes to the database)."""
        admin: Admin | None = request.scope.get("console.admin")
        with self.services.db.session() as session:
            session.add(AdminAudit(actor=(admin.name if admin else "?")[:64], action=action, target=target[:255],
                                   details=details, client=_client(request)[:64], at=self.services.clock.now()))

    # ------------------------------------------------------------------ sign-in

    def _serializer(self) -> URLSafeTimedSerializer | None:
        password = self.services.settings.admin_password
        if not password:
            return None
        # Signed with a key derived from the password: changing the password signs everyone out.
        key = hashlib.sha256(b"ztbot-console\0" + password.encode()).hexdigest()
        return URLSafeTimedSerializer(key, salt="admin-session")

    def password_ok(self, supplied: str) -> bool:
        password = self.services.settings.admin_password or ""
        return bool(password) and hmac.compare_digest(supplied.encode(), password.encode())

    def too_many_failures(self, request: Request, count: bool) -> bool:
        minute = int(self.services.clock.now().timestamp() // 60)
        key = f"admin-fail:{_client(request)}:{minute}"
        if count:
            return self.services.state.incr(key, 120) > MAX_FAILURES_PER_MINUTE
        return int(self.services.state.get(key) or 0) >= MAX_FAILURES_PER_MINUTE

    def session_cookie(self, name: str) -> str:
        serializer = self._serializer()
        assert serializer is not None
        return serializer.dumps({"u": name, "c": secrets.token_urlsafe(24)})

    def _from_cookie(self, request: Request) -> Admin | None:
        serializer = self._serializer()
        raw = request.cookies.get(COOKIE)
        if serializer is None or not raw:
            return None
        try:
            data = serializer.loads(raw, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("c"), str):
            return None
        return Admin(data["u"], data["c"], "session")

    def identify(self, request: Request) -> Admin | Response:
        """The signed-in admin, or the response that refuses the request."""
        if not self.services.settings.admin_password:
            return PlainTextResponse(texts.DISABLED, status_code=403)
        admin = self._from_cookie(request)
        if admin is not None:
            return admin
        supplied = _basic_password(request.headers.get("authorization", ""))
        if supplied is not None:
            if self.password_ok(supplied):
                return Admin("basic-auth", "", "basic")
            if self.too_many_failures(request, count=True):
                return PlainTextResponse(texts.TOO_MANY, status_code=429)
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(f"/admin/login?next={request.url.path}", status_code=303)
        return PlainTextResponse(texts.LOGIN_REQUIRED, status_code=401,
                                 headers={"WWW-Authenticate": 'Basic realm="admin", charset="UTF-8"'})

    def page(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A GET page for signed-in admins."""

        async def endpoint(request: Request) -> Response:
            who = self.identify(request)
            if isinstance(who, Response):
                return secure(who)
            request.scope["console.admin"] = who
            return secure(await handler(request, self))

        return endpoint

    def action(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A POST for signed-in admins: the form's token must match the session's, from our own origin."""

        async def endpoint(request: Request) -> Response:
            who = self.identify(request)
            if isinstance(who, Response):
                return secure(who)
            request.scope["console.admin"] = who
            if not same_origin(request):
                return secure(PlainTextResponse(texts.CSRF_REFUSED, status_code=403))
            if who.via == "session":
                form = await request.form()
                supplied = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
                if not supplied or not hmac.compare_digest(supplied, who.csrf):
                    return secure(self.render(request, "message.html", status=403, title=texts.CSRF_TITLE,
                                              message=texts.CSRF_REFUSED))
            return secure(await handler(request, self))

        return endpoint


def same_origin(request: Request) -> bool:
    """A browser's Origin (or Referer) must name this host; scripts that send neither pass."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc == request.headers.get("host", "")


def secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _basic_password(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def int_param(raw: object, default: int, low: int = 1, high: int = 10_000) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        return default
    return min(max(value, low), high)


class ReportsAudit:
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
