"""The office's admin pages: refused without a password, behind basic auth, showing real data."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.db.models import UnansweredQuestion
from console.routes import admin_routes

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


def test_guessing_locks_the_client_out(admin) -> None:
    from console.security import AdminSecurity

    async def no_wait(seconds: float) -> None:
        return None

    client = TestClient(Starlette(routes=admin_routes(admin, AdminSecurity.from_services(admin, sleep=no_wait))))
    codes = [client.get("/admin/tasks", headers=_auth(f"guess-{i}")).status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert client.get("/admin/tasks", headers=_auth()).status_code == 429  # locked out, right password too


def test_questions_page_shows_unanswered_questions_escaped(admin) -> None:
    with admin.db.session() as s:
        s.add(UnansweredQuestion(userid="li", question="<script>明天下雨吗</script>", best_score=0.1))
    page = _client(admin).get("/admin/questions", headers=_auth())
    assert page.status_code == 200
    assert "&lt;script&gt;明天下雨吗" in page.text and "<script>明天" not in page.text


def test_overview_reports_and_export_show_what_liaisons_reported(admin, tmp_path) -> None:
    import io
    from dataclasses import replace as dc_replace

    from openpyxl import load_workbook

    from bot.testing.chat import ChatDriver
    from tests.helpers_reports import seed, write_tasks

    tasks_file = write_tasks(tmp_path)
    admin.settings = dc_replace(admin.settings, tasks_file=tasks_file)
    seed(admin.db, tasks_file)
    chat = ChatDriver(admin)
    assert "报送编号" in chat.send("li", "报送 昨天在红山郡社区开展民族团结宣讲，40人参加 #动态信息")
    client = _client(admin)

    overview = client.get("/admin/", headers=_auth())
    assert overview.status_code == 200
    row = next(r for r in overview.text.split("<tr>") if "红山郡社区" in r and "工作动态信息" in r)
    assert 'class="cell part"' in row and ">1/3</a>" in row  # one of three this month, still behind
    assert "东风村" in overview.text  # a village with nothing reported still shows up

    listing = client.get("/admin/reports", params={"village": "红山郡社区"}, headers=_auth())
    assert "开展民族团结宣讲" in listing.text and "李四" in listing.text
    assert "开展民族团结宣讲" not in client.get("/admin/reports", params={"village": "东风村"}, headers=_auth()).text

    xlsx = client.get("/admin/reports.xlsx", headers=_auth())
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and "活动日期" in rows[0]
    assert any("李四" in row for row in rows[1:])
    csv_text = client.get("/admin/reports.csv", headers=_auth()).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("编号") and "李四" in csv_text
    assert client.get("/admin/reports.exe", headers=_auth()).status_code == 404
