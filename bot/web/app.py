"""The Starlette app: a thin adapter between HTTP and the processor.

The callback route checks, decrypts and parses into an IncomingMessage, asks the processor for a
reply and renders it; no business logic lives here. Every refusal (503 unconfigured, 413 too
large, 400 malformed, 403 signature / corp / timestamp) happens before the processor is called,
so a refused request changes no state.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import metrics
from bot.web.metrics import metrics_route
from bot.wecom.cards import text_twin
from bot.wecom.crypto import CallbackCrypto
from bot.wecom.errors import BadSignature, CallbackError, MalformedCallback, StaleTimestamp, WrongCorp
from bot.wecom.parse import parse_message
from bot.wecom.render import encrypted_text_reply

if TYPE_CHECKING:
    from bot.context import Services
    from bot.messages import IncomingMessage

log = logging.getLogger(__name__)

STATUS = {MalformedCallback: 400, BadSignature: 403, StaleTimestamp: 403, WrongCorp: 403}
XML = "application/xml; charset=utf-8"


HEALTH_TIMEOUT_S = 1.0  # /healthz answers within this even when the database is frozen


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


class BodyReadGate:
    """Bounds slow uploads: each body must arrive within `timeout_s`, and at most `max_reading`
    bodies are read at once; beyond that a callback is refused (503) at once instead of holding
    one more connection open. WeCom's bodies are a few KB and arrive in one packet."""

    def __init__(self, timeout_s: float, max_reading: int) -> None:
        self.timeout_s, self.max_reading = timeout_s, max_reading
        self.reading = 0

    async def read(self, request: Request, limit: int) -> bytes:
        if self.reading >= self.max_reading:
            raise _TooSlow("too many bodies being read")
        self.reading += 1
        try:
            with anyio.fail_after(self.timeout_s):
                return await _read_body(request, limit)
        except TimeoutError:
            raise _TooSlow(f"body not received within {self.timeout_s}s") from None
        finally:
            self.reading -= 1


def _refuse(exc: CallbackError, request: Request) -> Response:
    status = STATUS.get(type(exc), 400)
    metrics.callback(f"refused_{status}")
    client = request.client.host if request.client else "?"
    log.warning("callback refused %d %s from %s: %s", status, type(exc).__name__, client, exc)
    return PlainTextResponse("forbidden" if status == 403 else "bad request", status_code=status)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (before reading it all) anything over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class CallbackEndpoint:
    """GET (URL verification) and POST (messages) on /wecom/callback."""

    def __init__(self, services: Services) -> None:
        self.services = services
        w = services.settings.wecom
        self.max_body = w.max_body_bytes
        self.crypto: CallbackCrypto | None = None
        if w.callback_ready:
            assert w.token and w.aes_key and w.corp_id
            self.crypto = CallbackCrypto(w.token, w.aes_key, w.corp_id, w.timestamp_window_s, services.clock)
        else:
            log.warning("WECOM_CORP_ID/WECOM_TOKEN/WECOM_AES_KEY not all set: /wecom/callback answers 503")
        processor = services.processor
        self._process_async = getattr(processor, "process_async", None)
        self.gate = BodyReadGate(w.body_timeout_s, w.max_body_reads)

    async def _process(self, msg: IncomingMessage) -> str | None:
        if self._process_async is not None:
            return await self._process_async(msg)
        assert self.services.processor is not None, "processor not wired"
        return await anyio.to_thread.run_sync(self.services.processor.process, msg)

    async def verify(self, request: Request) -> Response:
        if self.crypto is None:
            metrics.callback("unconfigured")
            return PlainTextResponse("callback not configured", status_code=503)
        q = request.query_params
        echostr = q.get("echostr")
        if echostr:
            echostr = echostr.replace(" ", "+")  # base64 never has spaces: an unescaped "+" was form-decoded
        try:
            echo = self.crypto.verify_url(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), echostr)
        except CallbackError as exc:
            return _refuse(exc, request)
        metrics.callback("verified")
        return Response(echo.encode("utf-8"), media_type="text/plain; charset=utf-8")

    async def receive(self, request: Request) -> Response:
        if self.crypto is None:
            metrics.callback("unconfigured")
            return PlainTextResponse("callback not configured", status_code=503)
        try:
            body = await self.gate.read(request, self.max_body)
        except _TooSlow as exc:
            log.warning("callback refused: %s", exc)
            metrics.callback("refused_slow")
            return PlainTextResponse("request timeout", status_code=408 if "within" in str(exc) else 503,
                                     headers={"Connection": "close"})
        except _TooLarge:
            log.warning("callback refused 413: body over %d bytes", self.max_body)
            metrics.callback("refused_413")
            return PlainTextResponse("payload too large", status_code=413)
        except ClientDisconnect:
            return Response(status_code=400)
        q = request.query_params
        try:
            inner = self.crypto.decrypt_message(body, q.get("msg_signature"), q.get("timestamp"), q.get("nonce"))
            msg = parse_message(inner)
        except CallbackError as exc:
            return _refuse(exc, request)
        try:
            with metrics.REPLY_SECONDS.time():
                reply = await self._process(msg)
        except Exception:  # noqa: BLE001 - log with context; WeCom retries a 500, dedupe keeps it single
            log.exception("processing failed: user=%s key=%s", msg.user, msg.dedupe_key)
            metrics.callback("error")
            return Response(status_code=500)
        metrics.callback("replied" if reply else "empty")
        if not reply:
            return Response(b"", media_type="text/plain")
        envelope = encrypted_text_reply(self.crypto, msg.user, text_twin(reply), int(self.crypto.now()),
                                        msg.agent_id)
        return Response(envelope.encode("utf-8"), media_type=XML)



def create_app(services: Services, *, extra_routes: Iterable[BaseRoute] = (),
               on_startup: Iterable[Callable[[], None]] = (),
               on_shutdown: Iterable[Callable[[], None]] = ()) -> Starlette:
    """The ASGI app for one process: callback and health, plus the routes the wiring adds (the console)."""
    callback = CallbackEndpoint(services)

    health = _HealthCheck(services)

    async def healthz(request: Request) -> Response:
        report = await health.report()
        return JSONResponse(report, status_code=200 if report.get("status") == "ok" else 503)

    routes: list[BaseRoute] = [
        Route("/wecom/callback", callback.verify, methods=["GET"]),
        Route("/wecom/callback", callback.receive, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        metrics_route(services),
    ]
    routes.extend(extra_routes)
    starting, stopping = list(on_startup), list(on_shutdown)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for hook in starting:
            await anyio.to_thread.run_sync(hook)
        try:
            yield
        finally:
            for hook in stopping:
                await anyio.to_thread.run_sync(hook)

    return Starlette(routes=routes, lifespan=lifespan)


class _HealthCheck:
    """services.health() with a deadline: a frozen database answers 503 within HEALTH_TIMEOUT_S.

    Only one check runs at a time; while one is stuck, later requests answer "timeout" at once
    instead of piling more threads onto the frozen connection.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self._running = False

    async def report(self) -> dict[str, object]:
        timeout = {"status": "degraded", "db": "timeout", "redis": "unknown"}
        if self._running:
            return timeout
        self._running = True
        result: dict[str, object] | None = None

        def run() -> None:
            nonlocal result
            try:
                result = self.services.health()
            finally:
                self._running = False

        with anyio.move_on_after(HEALTH_TIMEOUT_S):
            await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        if result is None:
            log.warning("health check did not finish within %.1fs", HEALTH_TIMEOUT_S)
            return timeout
        return result
