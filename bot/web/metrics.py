"""GET /metrics: the process's Prometheus metrics, behind a bearer token or the admin password.

`metrics_token` (or BOT_METRICS_TOKEN) lets a Prometheus server scrape with
`Authorization: Bearer TOKEN`; the admin password works too, as HTTP Basic (any user name).
Neither set: the endpoint is off (403), so metrics never leak by default.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.web import texts

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.context import Services

QUEUE_SOURCES = "metrics_queue_sources"  # services.extras key: {queue name: () -> depth}, filled by the wiring


def _same(supplied: str, expected: str | None) -> bool:
    return bool(expected) and hmac.compare_digest(supplied.encode(), str(expected).encode())


def authorized(header: str, settings: Settings) -> bool:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return _same(value, settings.metrics_token)
    if scheme.lower() == "basic":
        try:
            password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return False
        return _same(password, settings.admin_password)
    return False


def metrics_route(services: Services) -> Route:
    settings = services.settings

    async def endpoint(request: Request) -> Response:
        if not settings.metrics_token and not settings.admin_password:
            return PlainTextResponse(texts.METRICS_DISABLED, status_code=403)
        if not authorized(request.headers.get("authorization", ""), settings):
            return PlainTextResponse(texts.METRICS_LOGIN, status_code=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="metrics", Basic realm="metrics"'})
        depths = metrics.QueueDepths(services.extras.get(QUEUE_SOURCES, {}))
        body = await anyio.to_thread.run_sync(metrics.exposition, depths)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    return Route("/metrics", endpoint, methods=["GET"])
