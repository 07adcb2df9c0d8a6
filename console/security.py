"""Security for the admin pages: password throttle with lockout, client address, CSRF, headers.

One `AdminSecurity` per process, built from the services (`AdminSecurity.from_services`). It knows
nothing of the pages; a console uses it like this:

* **Client address** — `security.client_ip(request)`. `X-Forwarded-For` is believed only when the
  TCP peer is listed in `trusted_proxies` (config.yaml; addresses or CIDR networks, empty by
  default, so nobody can rotate the header to dodge the throttle). uvicorn must run with
  `proxy_headers=False` (app/serve.py does) or it rewrites the peer itself.
* **Password** — `verdict = await security.check_password(request, supplied)` returns one of
  `OK`, `WRONG`, `LOCKED`, `DISABLED`; `security.refusal(verdict)` turns a refusal into the
  response (403 disabled, 401 wrong, 429 locked with Retry-After). Every attempt is counted
  *before* the comparison, so a parallel burst cannot get more than `max_failures` guesses
  evaluated; the `max_failures`-th wrong guess locks the client out for `window_s`, during which
  even the right password is refused. Each wrong guess is answered after a growing delay
  (`base_delay_s` doubling, capped at `max_delay_s`). When the shared state store (Redis) is down
  the counters fall back to this process's memory: a wrong password is still a 401, never a 500.
  Basic auth (the current console): `await security.basic_auth(request)` → response or None.
  A session login (issue 12): call `check_password` once on the login POST, then keep a session.
* **CSRF** — put `security.csrf_token(binding)` in a hidden `csrf_token` field of every
  state-changing form; `binding` ties the token to who is logged in (the session id, or
  `basic_binding(request)` under Basic auth). On the POST, `await security.refuse_cross_site(
  request, binding)` returns a 403 response, or None when the Origin (or Referer) is this site
  and the token is valid. Tokens are HMACs with an expiry; no server-side storage. A scripted
  client (curl: no Origin, Referer, Sec-Fetch-* or Cookie header) needs no token.
* **Headers** — wrap the admin ASGI app in `security.headers(app)` (or call
  `security.apply_headers(response)`): X-Frame-Options DENY, a CSP, nosniff, Referrer-Policy
  same-origin, Cache-Control no-store on every response, refusals included. (Not no-referrer: under
  it Chromium sends `Origin: null` with every form POST, and the Origin check refuses them all.)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.state.base import StateStore, StateUnavailable
from bot.state.memory import MemoryStateStore
from console import texts

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from bot.context import Services

log = logging.getLogger(__name__)

CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Verdict(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    DISABLED = "disabled"


class AdminSecurity:
    """Throttle, lockout, client address, CSRF tokens and response headers for one console."""

    def __init__(self, *, password: str | None, state: StateStore, trusted_proxies: Iterable[str] = (),
                 secret_key: bytes | None = None, max_failures: int = 10, window_s: int = 900,
                 base_delay_s: float = 0.25, max_delay_s: float = 4.0, csrf_ttl_s: int = 12 * 3600,
                 csp: str = CSP, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.password = password
        self.state = state
        self.trusted = [_network(p) for p in trusted_proxies]
        self.max_failures, self.window_s = max_failures, window_s
        self.base_delay_s, self.max_delay_s = base_delay_s, max_delay_s
        self.csrf_ttl_s, self.csp = csrf_ttl_s, csp
        self._sleep, self._clock = sleep, clock
        self._fallback = MemoryStateStore()
        self._shared_down_until = 0.0
        material = password or "no-password"
        self._key = secret_key or hmac.new(material.encode(), b"ztbot admin csrf v1", hashlib.sha256).digest()

    @classmethod
    def from_services(cls, services: Services, **options: object) -> AdminSecurity:
        s = services.settings
        return cls(password=s.admin_password, state=services.state,
                   trusted_proxies=getattr(s, "trusted_proxies", ()), **options)  # type: ignore[arg-type]

    # ------------------------------------------------------------ client address

    def client_ip(self, request: Request) -> str:
        """The peer, or the nearest untrusted hop of X-Forwarded-For when the peer is a trusted proxy."""
        peer = request.client.host if request.client else "?"
        if not self._is_trusted(peer):
            return peer
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop if _parse_ip(hop) is not None else peer
        return hops[0] if hops else peer

    def _is_trusted(self, host: str) -> bool:
        ip = _parse_ip(host)
        return ip is not None and any(ip in net for net in self.trusted)

    # ------------------------------------------------------------ password

    async def check_password(self, request: Request, supplied: str | None) -> Verdict:
        """Judge one login attempt from this client; `supplied` None means no credentials were sent."""
        if not self.password:
            return Verdict.DISABLED
        client = self.client_ip(request)
        lock_key, fail_key = f"admin-lock:{client}", f"admin-fail:{client}"
        if await self._call(lambda st: st.get(lock_key)) is not None:
            return Verdict.LOCKED
        if supplied is None:
            return Verdict.WRONG
        attempt = await self._call(lambda st: st.incr(fail_key, self.window_s))
        if attempt > self.max_failures:
            await self._call(lambda st: st.set(lock_key, "1", self.window_s))
            return Verdict.LOCKED
        if hmac.compare_digest(supplied.encode(), self.password.encode()):
            await self._call(lambda st: st.delete(fail_key))
            return Verdict.OK
        if attempt == self.max_failures:
            await self._call(lambda st: st.set(lock_key, "1", self.window_s))
            log.warning("admin: client %s locked out for %d s after %d wrong passwords", client,
                        self.window_s, attempt)
        await self._sleep(min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s))
        return Verdict.WRONG

    async def _call(self, op: Callable[[StateStore], object]) -> object:
        """Run a state operation off the event loop; fall back to process memory while Redis is down."""
        if self._clock() >= self._shared_down_until:
            try:
                return await run_in_threadpool(op, self.state)
            except StateUnavailable:
                log.warning("admin throttle: state store unavailable, counting in this process for 10 s")
                self._shared_down_until = self._clock() + 10
        return op(self._fallback)

    def refusal(self, verdict: Verdict) -> Response:
        if verdict is Verdict.DISABLED:
            return self.apply_headers(PlainTextResponse(texts.DISABLED, status_code=403))
        if verdict is Verdict.LOCKED:
            return self.apply_headers(PlainTextResponse(
                texts.LOCKED_OUT.format(minutes=max(1, self.window_s // 60)), status_code=429,
                headers={"Retry-After": str(self.window_s)}))
        return self.apply_headers(PlainTextResponse(
            texts.LOGIN_REQUIRED, status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="admin", charset="UTF-8"'}))

    async def basic_auth(self, request: Request) -> Response | None:
        """HTTP Basic auth (any user name): None when the request may go on, else the refusal."""
        verdict = await self.check_password(request, basic_password(request.headers.get("authorization", "")))
        return None if verdict is Verdict.OK else self.refusal(verdict)

    # ------------------------------------------------------------ CSRF

    def csrf_token(self, binding: str) -> str:
        issued = str(int(self._clock()))
        return f"{issued}.{self._mac(binding, issued)}"

    def csrf_valid(self, token: str | None, binding: str) -> bool:
        issued, _, mac = (token or "").partition(".")
        if not issued.isdigit() or len(issued) > 12 or not mac:
            return False
        if not 0 <= self._clock() - int(issued) <= self.csrf_ttl_s:
            return False
        return hmac.compare_digest(mac, self._mac(binding, issued))

    def _mac(self, binding: str, issued: str) -> str:
        digest = hmac.new(self._key, f"{binding}\x00{issued}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def same_origin(self, request: Request) -> bool:
        """False when Origin (or, lacking it, Referer) names another site; True when it is ours or absent."""
        source = request.headers.get("origin") or request.headers.get("referer")
        if source is None:
            return True
        parts = urlsplit(source)
        if source == "null" or not parts.scheme or not parts.netloc:
            return False
        host = request.headers.get("host", "")
        scheme = request.url.scheme
        peer = request.client.host if request.client else "?"
        if self._is_trusted(peer):
            host = request.headers.get("x-forwarded-host", host).split(",")[0].strip()
            scheme = request.headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
        return (parts.scheme.lower(), parts.netloc.lower()) == (scheme.lower(), host.lower())

    @staticmethod
    def scripted(request: Request) -> bool:
        """A non-browser client (curl, a cron script): no Origin, Referer or Sec-Fetch-* header, which
        every current browser sends with a form POST, cross-site ones included. Such a request
        cannot be forged by a web page, so it needs no token (it still needs the password)."""
        h = request.headers
        return not any(name in h for name in ("origin", "referer", "sec-fetch-site", "sec-fetch-mode", "cookie"))

    async def refuse_cross_site(self, request: Request, binding: str) -> Response | None:
        """For a state-changing request: 403 unless same-origin and carrying a valid CSRF token."""
        if request.method not in UNSAFE_METHODS:
            return None
        token = request.headers.get("x-csrf-token")
        if token is None:
            try:
                form = await request.form()
            except Exception:  # noqa: BLE001 - any unreadable body is simply a missing token
                form = None
            value = form.get(CSRF_FIELD) if form is not None else None
            token = value if isinstance(value, str) else None
        if self.same_origin(request) and self.csrf_valid(token, binding):
            return None
        if token is None and self.scripted(request):
            return None
        log.warning("admin: cross-site or token-less %s %s from %s refused", request.method, request.url.path,
                    self.client_ip(request))
        return self.apply_headers(PlainTextResponse(texts.CSRF_REFUSED, status_code=403))

    # ------------------------------------------------------------ headers

    def header_items(self) -> list[tuple[str, str]]:
        return [("X-Frame-Options", "DENY"), ("Content-Security-Policy", self.csp),
                ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
                ("Cache-Control", "no-store")]

    def apply_headers(self, response: Response) -> Response:
        for name, value in self.header_items():
            response.headers[name] = value
        return response

    def headers(self, app: ASGIApp) -> ASGIApp:
        """ASGI wrapper adding the security headers to every HTTP response of `app`."""
        items = self.header_items()

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    for name, value in items:
                        headers[name] = value
                await send(message)

            await app(scope, receive, send_with_headers)

        return wrapped


def basic_password(header: str) -> str | None:
    """The password of an `Authorization: Basic …` header (user name ignored), or None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def basic_binding(request: Request) -> str:
    """What a CSRF token is tied to under Basic auth: a hash of the credentials the browser sends."""
    return hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()


def _parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _network(spec: str) -> _Network:
    return ipaddress.ip_network(str(spec).strip(), strict=False)
