"""The office's admin pages: refused without a password, behind basic auth, showing real data."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin.routes import admin_routes
from bot.db.models import UnansweredQuestion

PASSWORD = "s3cure-admin-pass"


def _client(services) -> TestClient:
    return TestClient(Starlette(routes=admin_routes(services)))


def _auth(password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"office:{password}".encode()).decode()}


@pytest.fixture
def admin(services):
    services.settings = replace(services.settings, admin_password=PASSWORD)
    return services


def test_no_password_configured_refuses_everyone(services) -> None:
    client = _client(services)
    response = client.get("/admin/tasks", headers=_auth())
    assert response.status_code == 403
    assert "BOT_ADMIN_PASSWORD" in response.text


def test_wrong_or_missing_password_is_asked_again(admin) -> None:
    client = _client(admin)
    assert client.get("/admin/tasks").status_code == 401
    wrong = client.get("/admin/tasks", headers=_auth("nope-nope-nope"))
    assert wrong.status_code == 401 and "Basic" in wrong.headers["www-authenticate"]
    assert client.get("/admin/tasks", headers={"Authorization": "Basic !!!notbase64"}).status_code == 401


def test_guessing_is_slowed_down(admin) -> None:
    client = _client(admin)
    codes = [client.get("/admin/tasks", headers=_auth(f"guess-{i}")).status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert client.get("/admin/tasks", headers=_auth()).status_code == 200  # the right one still works


def test_questions_page_shows_unanswered_questions_escaped(admin) -> None:
    with admin.db.session() as s:
        s.add(UnansweredQuestion(userid="li", question="<script>明天下雨吗</script>", best_score=0.1))
    page = _client(admin).get("/admin/questions", headers=_auth())
    assert page.status_code == 200
    assert "&lt;script&gt;明天下雨吗" in page.text and "<script>明天" not in page.text
