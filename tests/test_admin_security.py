"""Audit findings 3 and 8: the admin throttle really throttles, CSRF and security headers.

Each test is named after the defect it guards; they failed against the console before
console/security.py (right password accepted during "throttle", X-Forwarded-For trusted from
anyone, 500 with Redis down, cross-site reload accepted, no headers).
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import replace

import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.state.memory import MemoryStateStore
from bot.state.redis import RedisStateStore
from console.routes import admin_routes
from console.security import AdminSecurity, Verdict

PASSWORD = "s3cure-admin-pass"
HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin",
           "cache-control": "no-store"}


def _auth(password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"office:{password}".encode()).decode()}


class _Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _security(state=None, **options) -> tuple[AdminSecurity, _Sleeps]:
    sleeps = _Sleeps()
    sec = AdminSecurity(password=PASSWORD, state=state or MemoryStateStore(), sleep=sleeps, **options)
    return sec, sleeps


def _mini_app(sec: AdminSecurity) -> Starlette:
    async def page(request: Request) -> PlainTextResponse:
        if (denied := await sec.basic_auth(request)) is not None:
            return denied
        return PlainTextResponse("in " + sec.client_ip(request))

    return Starlette(routes=[Route("/p", page)])


def test_right_password_refused_during_lockout_after_wrong_guesses() -> None:
    sec, _ = _security(max_failures=10)
    client = TestClient(_mini_app(sec))
    codes = [client.get("/p", headers=_auth(f"guess-{i}")).status_code for i in range(12)]
    assert codes[:9] == [401] * 9 and codes[9] == 401 and codes[10:] == [429, 429]
    locked = client.get("/p", headers=_auth())
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0


def test_wrong_guesses_answered_after_a_growing_delay() -> None:
    sec, sleeps = _security(max_failures=6, base_delay_s=0.5, max_delay_s=4.0)
    client = TestClient(_mini_app(sec))
    for i in range(6):
        client.get("/p", headers=_auth(f"guess-{i}"))
    assert sleeps.delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert client.get("/p", headers=_auth()).status_code == 429


def test_parallel_burst_of_guesses_gets_at_most_max_failures_evaluated() -> None:
    sec, _ = _security(max_failures=5)
    scope = {"type": "http", "method": "GET", "path": "/p", "headers": [], "client": ("10.0.0.9", 1)}

    async def burst() -> list[Verdict]:
        guesses = [f"guess-{i}" for i in range(300)] + [PASSWORD]
        return await asyncio.gather(*(sec.check_password(Request(scope), g) for g in guesses))

    verdicts = asyncio.run(burst())
    assert verdicts.count(Verdict.WRONG) == 5
    assert verdicts[-1] is Verdict.LOCKED  # the right password came after the limit: refused too


def test_rotating_x_forwarded_for_does_not_escape_the_throttle() -> None:
    sec, _ = _security(max_failures=3)  # trusted_proxies empty: the header is not believed
    client = TestClient(_mini_app(sec), client=("127.0.0.1", 5000))
    codes = [client.get("/p", headers={**_auth(f"g{i}"), "X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(6)]
    assert codes == [401, 401, 401, 429, 429, 429]
    assert "in 127.0.0.1" == TestClient(_mini_app(_security()[0]), client=("127.0.0.1", 1)).get(
        "/p", headers={**_auth(), "X-Forwarded-For": "203.0.113.5"}).text


def test_forwarded_for_believed_only_from_a_configured_proxy() -> None:
    sec, _ = _security(trusted_proxies=["10.1.0.0/16"])
    via_proxy = TestClient(_mini_app(sec), client=("10.1.2.3", 1))
    spoof_then_real = {**_auth(), "X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert via_proxy.get("/p", headers=spoof_then_real).text == "in 203.0.113.7"  # nearest untrusted hop
    direct = TestClient(_mini_app(sec), client=("192.0.2.50", 1))
    assert direct.get("/p", headers=spoof_then_real).text == "in 192.0.2.50"


def test_trusted_proxies_setting_validated_and_empty_by_default(tmp_path) -> None:
    from bot.config import ConfigError, build_settings

    assert build_settings({}).trusted_proxies == []
    assert build_settings({"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}).trusted_proxies == ["127.0.0.1",
                                                                                              "10.0.0.0/8"]
    with pytest.raises(ConfigError, match="trusted_proxies"):
        build_settings({"trusted_proxies": ["not-an-ip"]})


def test_wrong_password_while_redis_down_answers_401_not_500() -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_timeout=0.2, socket_connect_timeout=0.2,
                       decode_responses=True)
    sec, _ = _security(state=RedisStateStore(dead, prefix="ztbot-test:dead:"), max_failures=3)
    client = TestClient(_mini_app(sec), raise_server_exceptions=False)
    codes = [client.get("/p", headers=_auth(f"g{i}")).status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]  # still counted, in this process, while Redis is down


@pytest.fixture
def admin(services):
    services.settings = replace(services.settings, admin_password=PASSWORD)
    return services


def _admin_client(services, **options) -> TestClient:
    sec = AdminSecurity.from_services(services, sleep=_Sleeps(), **options)
    return TestClient(Starlette(routes=admin_routes(services, sec)), base_url="http://admin.local")


def _token(page_html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "the reload form carries no CSRF token"
    return found.group(1)


def test_knowledge_reload_cross_site_post_refused(admin) -> None:
    client = _admin_client(admin)
    browser = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    no_token = client.post("/admin/knowledge/reload", headers={**_auth(), **browser})
    assert no_token.status_code == 403
    assert client.post("/admin/knowledge/reload", headers={**_auth(), "Origin": "http://admin.local"}
                       ).status_code == 403  # a browser page without the token
    scripted = client.post("/admin/knowledge/reload", headers=_auth())  # curl -u … -X POST: no browser headers
    assert scripted.status_code == 200
    token = _token(client.get("/admin/knowledge", headers=_auth()).text)  # the page with the reload form
    cross = client.post("/admin/knowledge/reload", data={"csrf_token": token},
                        headers={**_auth(), "Origin": "https://evil.example"})
    assert cross.status_code == 403
    forged = client.post("/admin/knowledge/reload", data={"csrf_token": token[:-2] + "xx"}, headers=_auth())
    assert forged.status_code == 403
    other_login = client.post("/admin/knowledge/reload", data={"csrf_token": token},
                              headers={**_auth("another-password"), "Origin": "http://admin.local"})
    assert other_login.status_code in {401, 403}
    ok = client.post("/admin/knowledge/reload", data={"csrf_token": token},
                     headers={**_auth(), "Origin": "http://admin.local"})
    assert ok.status_code == 200 and "知识库已重新加载" in ok.text


def test_admin_responses_lack_security_headers(admin) -> None:
    client = _admin_client(admin, max_failures=2)
    responses = {
        "ok": client.get("/admin/tasks", headers=_auth()),
        "export": client.get("/admin/reports.csv", headers=_auth()),
        "missing": client.get("/admin/no-such-page", headers=_auth()),
        "csrf": client.post("/admin/knowledge/reload", headers={**_auth(), "Origin": "https://evil.example"}),
        "redirect": client.get("/admin", headers=_auth(), follow_redirects=False),
        "unauthenticated": client.get("/admin/tasks"),
    }
    responses["wrong"] = client.get("/admin/tasks", headers=_auth("wrong-one-1"))
    client.get("/admin/tasks", headers=_auth("wrong-one-2"))
    responses["locked"] = client.get("/admin/tasks", headers=_auth())
    assert [r.status_code for r in responses.values()] == [200, 200, 404, 403, 307, 401, 401, 429]
    for name, response in responses.items():
        for header, value in HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], name


def test_no_password_configured_still_refuses_with_headers(services) -> None:
    response = _admin_client(services).get("/admin/tasks", headers=_auth())
    assert response.status_code == 403 and "BOT_ADMIN_PASSWORD" in response.text
    assert response.headers["x-frame-options"] == "DENY"
