"""The console in a real Chromium at phone (390 px) and desktop (1280 px) width, as an office worker
uses it: sign in, switch periods, drill down, upload a roster with preview, edit a task, upload a
plan with its load report, hit-test a question, link an unanswered question, remind the people
behind, filter and export reports, sync contacts; a cross-site or tampered form is refused."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app.demo import DEMO_PASSWORD, LiveServer, build_demo
from bot.db.models import AdminAudit, Person, Task
from console import texts
from console.routes import admin_routes
from tests.helpers_browser import WIDTHS, browser  # noqa: F401 - the session fixture


@pytest.fixture(scope="module")
def wecom(request):  # noqa: ANN001, ANN201
    from bot.testing.wecom_double import WeComDouble

    with WeComDouble() as api:
        yield api


@pytest.fixture(scope="module")
def office(tmp_path_factory, wecom):  # noqa: ANN001, ANN201
    """A seeded demo office served on a free port; the outbound API is the WeCom double."""
    from tests.helpers_browser import require_chromium

    require_chromium()
    services = build_demo(tmp_path_factory.mktemp("office"), wecom=wecom.wecom_settings())
    server = LiveServer(Starlette(routes=admin_routes(services))).start()
    yield services, server.url
    server.stop()
    services.close()


@pytest.fixture(params=list(WIDTHS))
def page(request, browser, office):  # noqa: ANN001, ANN201, F811
    width, height = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  base_url=office[1], accept_downloads=True)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.width_name = request.param
    yield tab
    context.close()


def sign_in(page, name: str = "办公室小张") -> None:  # noqa: ANN001
    page.goto("/admin/login")
    page.fill("#name", name)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_selector("h1:has-text('进度总览')")


def flash(page) -> str:  # noqa: ANN001
    """The page's confirmation line; the page's text in the failure message when there is none."""
    found = page.locator("div.flash")
    assert found.count() == 1, page.inner_text("body")[:400]
    return found.inner_text()


def test_sign_in_wrong_password_then_right_is_audited(page, office) -> None:
    page.goto("/admin/reports")
    assert "/admin/login" in page.url  # not signed in: the login page, not the data
    page.fill("#name", "张三")
    page.fill("#password", "not-the-password")
    page.click("form.card button[type=submit]")
    assert texts.LOGIN_FAILED in page.inner_text("div.error")
    page.fill("#password", DEMO_PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_selector("h1:has-text('报送记录')")  # back where the office wanted to go
    page.goto("/admin/audit")
    rows = page.inner_text("table.audit")
    assert "登录失败" in rows and "张三" in rows and "登录" in rows
    page.click("header button")  # 退出
    page.goto("/admin/")
    assert "/admin/login" in page.url


def test_period_switch_arrows_and_views(page) -> None:
    sign_in(page)
    assert page.inner_text("#period-label") == "2026年11月"
    page.click("#prev")
    assert page.inner_text("#period-label") == "2026年10月"
    october = page.inner_text("table.matrix")
    page.click(".tabs a:has-text('季度')")
    assert page.inner_text("#period-label") == "2026年第4季度"
    page.click("#prev")
    assert page.inner_text("#period-label") == "2026年第3季度"
    # A monthly task over a quarter is measured against three months' target.
    head = page.inner_text("table.matrix thead") if page.width_name == "desktop" else ""
    assert page.inner_text("table.matrix") != october
    page.click(".tabs a:has-text('半年')")
    assert page.inner_text("#period-label") == "2026年下半年"
    page.click(".tabs a:has-text('年')>>nth=-1")
    assert page.inner_text("#period-label") == "2026年"
    page.click("#next")
    assert page.inner_text("#period-label") == "2027年"
    if head:
        assert "截止 2026-09-30" in head


def test_drill_down_cell_shows_people_and_reports_adding_up(page) -> None:
    sign_in(page)
    link = page.locator("table.matrix a.cell").first
    done, target = (int(x) for x in link.inner_text().split("/"))
    link.click()
    page.wait_for_selector("section.person")
    people = page.locator("section.person")
    counts = [tuple(int(x) for x in re.search(r"(\d+)/(\d+)", people.nth(i).locator("h3").inner_text()).groups())
              for i in range(people.count())]
    assert sum(min(d, t) for d, t in counts) == done and sum(t for _, t in counts) == target
    active_rows = page.locator("section.person tr.active").count()
    assert active_rows == sum(d for d, _ in counts)  # every counted report is listed


def test_roster_upload_shows_preview_and_applies_only_on_confirm(page, office, tmp_path) -> None:
    services, _ = office
    suffix = page.width_name
    csv = tmp_path / "名单.csv"
    csv.write_text(f"账号,姓名,部门\nnew{suffix},新来的{suffix},XX街道/东风村\nli,李四,XX街道/东风村\n"
                   ",没有账号,前进村\n", encoding="utf-8")
    sign_in(page)
    page.goto("/admin/roster")
    page.set_input_files("#roster-file", str(csv))
    page.click("form[action='/admin/roster/upload'] button")
    page.wait_for_selector("h1:has-text('导入预览')")
    assert f"new{suffix}" in page.inner_text("section.added")
    assert "红山郡社区 → 东风村" in page.inner_text("section.updated")
    assert "第4行" in page.inner_text("section.errors")
    assert "陈晓燕" in page.inner_text("section.not-in-file")  # listed, not deleted
    with services.db.session() as session:
        assert session.scalar(select(Person).where(Person.userid == f"new{suffix}")) is None  # not yet
    preview = page.content()
    page.click("#apply")
    assert "新增 1 人" in flash(page)
    with services.db.session() as session:
        assert session.scalar(select(Person.village).where(Person.userid == f"new{suffix}")) == "东风村"
        li = session.scalar(select(Person).where(Person.userid == "li"))
        li.village = "红山郡社区"  # put the demo back for the other width
    page.set_content(preview)  # the same preview page again (no-store: the back button re-asks)
    page.click("#apply")  # the same preview a second time: expired, nothing imported twice
    assert texts.ROSTER_EXPIRED in page.inner_text("div.error")


def test_task_edit_writes_tasks_yaml_and_refuses_bad_stages(page, office) -> None:
    services, _ = office
    sign_in(page)
    page.goto("/admin/tasks")
    page.click("tr[data-key=highlight] a")
    page.fill("#target", "2")
    page.fill("#stages", "abc")
    page.click("#save")
    assert "提醒时间格式不对" in page.inner_text("div.error")
    assert yaml.safe_load(Path(services.settings.tasks_file).read_text(encoding="utf-8"))["tasks"][1]["target"] == 1
    page.fill("#stages", "5 10:00\n1 9:30")
    page.click("#save")
    assert texts.TASK_SAVED in flash(page)
    row = page.inner_text("tr[data-key=highlight]")
    assert "2" in row and "提前5天 10:00" in row and "提前1天 09:30" in row
    saved = yaml.safe_load(Path(services.settings.tasks_file).read_text(encoding="utf-8"))["tasks"][1]
    assert saved["target"] == 2 and saved["reminder_stages"][0] == {"days_before": 5, "time": "10:00"}
    with services.db.session() as session:
        assert session.scalar(select(Task.target).where(Task.key == "highlight")) == 2
        audit = session.scalars(select(AdminAudit).where(AdminAudit.action == "task-edit")).all()
        assert audit and audit[-1].actor == "办公室小张" and audit[-1].details["target"] == [1, 2] or \
            audit[-1].details.get("reminder_stages")
        task = session.scalar(select(Task).where(Task.key == "highlight"))
        task.target = 1  # put the demo back for the other width (the file too)
    data = yaml.safe_load(Path(services.settings.tasks_file).read_text(encoding="utf-8"))
    data["tasks"][1]["target"] = 1
    Path(services.settings.tasks_file).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


PLAN = """乡镇街道2026年民族宗教工作补充要点
一、民族工作
（一）加强民族团结进步宣传
各村居每月至少报送2篇{topic}。
二、宗教工作
（一）宗教场所安全
宗教活动场所每季度开展一次消防安全检查，发现隐患及时整改。
第 1 页
"""


def test_plan_upload_load_report_then_live_and_hit_test(page, office, tmp_path) -> None:
    services, _ = office
    plan = tmp_path / f"补充要点-{page.width_name}.txt"
    topic = {"phone": "民族团结宣传信息", "desktop": "民族政策宣讲信息"}[page.width_name]  # a new task each width
    plan.write_text(PLAN.format(topic=topic), encoding="utf-8")
    bad = tmp_path / "病毒.exe"
    bad.write_bytes(b"MZ")
    sign_in(page)
    page.goto("/admin/knowledge")
    page.set_input_files("#plan-file", str(bad))
    page.click("form[action='/admin/knowledge/upload'] button")
    assert ".exe" in page.inner_text("div.error")
    page.set_input_files("#plan-file", str(plan))
    page.click("form[action='/admin/knowledge/upload'] button")
    report = page.inner_text("#load-report")
    assert re.search(r"条款 [1-9]\d* 条", report) and topic in report  # a task it would propose
    assert "乡镇街道2026年民族宗教工作补充要点" in report  # the title it found
    page.click("details.dropped summary")
    assert "页码" in page.inner_text("details.dropped")  # the page number was dropped, and says why
    assert plan.name not in [p.name for p in Path(services.settings.knowledge.corpus_dir).iterdir()]  # not live yet
    page.click("#publish")
    assert plan.name in flash(page)
    assert page.locator(f"tr[data-file='{plan.name}']").count() == 1
    page.goto("/admin/tasks")  # the plan's obligation waits for approval, then counts
    proposal = page.locator("section.proposed div.card", has_text=topic)
    key = proposal.get_attribute("data-key")
    proposal.locator("button.approve").click()
    assert "已批准 1 项任务" in flash(page)
    with services.db.session() as session:
        approved = session.scalar(select(Task).where(Task.key == key))
        assert approved.status == "active" and approved.active and approved.target == 2
    page.goto("/admin/knowledge/test")
    page.fill("#q", "宗教活动场所多久开展一次消防安全检查")
    page.click("#run")
    decision = page.inner_text("#decision")
    assert "回答阈值 0.50" in decision and "机器人会直接回答" in decision
    first = page.locator("table.ranked tbody tr").first.inner_text()
    assert "每季度开展一次消防安全检查" in first and re.search(r"0\.\d{3}|1\.000", first)
    assert "消防" in page.inner_text("p.terms") and "消防" in first.split("每季度开展一次消防安全检查")[-1]
    page.goto("/admin/knowledge")  # remove it again: the other width uploads its own
    page.click(f"tr[data-file='{plan.name}'] button")  # without ticking 确认移除: the browser refuses
    assert plan.name in [p.name for p in Path(services.settings.knowledge.corpus_dir).iterdir()]
    page.check(f"tr[data-file='{plan.name}'] input[name=confirm]")
    page.click(f"tr[data-file='{plan.name}'] button")
    assert texts.KN_REMOVED.format(name=plan.name) in flash(page)
    assert plan.name not in [p.name for p in Path(services.settings.knowledge.corpus_dir).iterdir()]


def test_hit_test_shows_decline_for_an_unrelated_question(page) -> None:
    sign_in(page)
    page.goto("/admin/knowledge/test?q=明天会下雨吗")
    assert page.inner_text("#decision h2") in (texts.HIT_DECISION["decline"], texts.HIT_DECISION["suggest"])
    assert page.locator("table.ranked tr.above").count() == 0


def test_link_unanswered_question_to_a_clause_then_the_bot_answers_it(page, office) -> None:
    from bot.db.models import AnswerLink

    services, _ = office
    sign_in(page)
    page.goto("/admin/questions")
    group = page.locator("section.question-group").filter(has_not=page.locator("p.taught")).first
    question = group.locator("h3").inner_text()
    clause = group.locator("form[action='/admin/questions/link'] p.clause").first.inner_text()
    group.locator("button.link-clause").first.click()
    assert texts.Q_LINKED in flash(page)
    with services.db.session() as session:
        link = session.scalar(select(AnswerLink).where(AnswerLink.question == question))
        assert link is not None and link.source == "office" and link.clause_text == clause
    answer = services.retriever.search(question)
    assert answer.answered and answer.hits[0].text == clause  # the chat now answers with it
    page.goto("/admin/knowledge/test?q=" + question)
    assert texts.HIT_DECISION["answer"] in page.inner_text("#decision")
    page.goto("/admin/questions")
    assert page.locator("section.question-group", has_text=question).locator("p.taught").count() == 1


def test_add_a_synonym_from_the_hit_test_changes_the_answer_and_survives_a_restart(page, office) -> None:
    from app.services import _load_retriever

    services, _ = office
    word = {"phone": "小作文", "desktop": "红榜稿"}[page.width_name]
    question = f"{word}每个月要交几篇"
    sign_in(page)
    page.goto("/admin/knowledge/test?q=" + question)
    assert texts.HIT_DECISION["answer"] not in page.inner_text("#decision")
    page.fill("form.synonym input[name=word]", word)
    page.fill("form.synonym input[name=equivalents]", "动态信息")
    page.click("form.synonym button")
    assert word in flash(page) and "立即生效" in flash(page)
    assert texts.HIT_DECISION["answer"] in page.inner_text("#decision")  # back on the same question
    assert services.retriever.search(question).answered
    assert _load_retriever(services.settings).search(question).answered  # kept in data/synonyms.yaml
    page.fill("form.synonym input[name=word]", "坏 词")
    page.fill("form.synonym input[name=equivalents]", "动态信息")
    page.click("form.synonym button")
    assert "不能添加" in flash(page)


def test_remind_behind_now_sends_once_per_day(page, office, wecom) -> None:
    sign_in(page)
    section = page.locator("section.behind-list[data-task=info]")
    behind = section.locator("li").count()
    before = len(wecom.calls_to("message/send"))
    section.locator("button").click()
    message = flash(page)
    sent = int(re.search(r"已提醒 (\d+) 人", message).group(1))
    again = int(re.search(r"今天已手动提醒过 (\d+) 人", message).group(1))
    assert sent + again == behind
    assert len(wecom.calls_to("message/send")) > before or sent == 0
    page.locator("section.behind-list[data-task=info] button").click()
    assert "已提醒 0 人" in flash(page) and f"今天已手动提醒过 {behind} 人" in flash(page)


def test_reports_filter_withdrawn_marked_photos_and_export_keeps_filters(page, office) -> None:
    from openpyxl import load_workbook

    sign_in(page)
    page.goto("/admin/reports")
    page.fill("#village", "红山")
    page.select_option("#status", "active")
    page.click("form.filters button[type=submit]")
    villages = page.locator("table.reports tbody tr td:nth-child(3)").all_inner_texts()
    assert villages and all("红山" in v for v in villages)
    with page.expect_download() as download:
        page.click("#export-xlsx")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book["报送记录"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    total = int(re.search(r"共 (\d+) 条", page.inner_text("#count")).group(1))
    assert len(rows) == total and all("红山" in r[3] and r[9] == "有效" for r in rows)
    assert hasattr(rows[0][4], "year")  # a real date cell
    assert "任务进度" in book.sheetnames and book["任务进度"].max_row > 1
    page.goto("/admin/reports?status=withdrawn")
    assert page.locator("table.reports tr.withdrawn").count() == page.locator("table.reports tbody tr").count() > 0
    page.goto("/admin/reports")
    while page.locator("table.reports img").count() == 0 and page.locator("#next-page").count():
        page.click("#next-page")
    image = page.locator("table.reports img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    src = image.get_attribute("src")
    anonymous = page.context.browser.new_context(base_url=page.url.split("/admin")[0])
    try:
        response = anonymous.request.get(src, max_redirects=0)
        assert response.status in (303, 401) and not response.body().startswith(b"\x89PNG")
    finally:
        anonymous.close()


def test_contacts_sync_previews_visible_departments(page, office, wecom) -> None:
    services, _ = office
    book = wecom.contacts
    if 20 not in book.departments:
        book.add_department(20, "前进村")
        book.add_department(30, "外单位", parentid=1)
        book.add_member("feng", "冯伟", [20])
        book.add_member("qian", "钱多多", [20])
        book.add_member("outsider", "外人", [30])
        book.visible = {20}
    sign_in(page)
    page.goto("/admin/roster")
    page.click("form[action='/admin/roster/sync'] button")
    page.wait_for_selector("h1:has-text('导入预览')")
    added = page.inner_text("section.added")
    if "钱多多" in added:
        assert "外人" not in added
        page.click("#apply")
        assert "新增 1 人" in flash(page)
    with services.db.session() as session:
        assert session.scalar(select(Person.village).where(Person.userid == "qian")) == "前进村"
        assert session.scalar(select(Person).where(Person.userid == "outsider")) is None


def _evil_server(target: str, form: str) -> LiveServer:
    async def evil(request) -> HTMLResponse:  # noqa: ANN001
        return HTMLResponse(f"<form id=f method=post action='{target}'>{form}<button>go</button></form>")

    return LiveServer(Starlette(routes=[Route("/", evil)])).start()


def test_csrf_tampered_token_and_cross_site_form_are_refused(page, office) -> None:
    services, url = office
    sign_in(page)
    page.goto("/admin/tasks/info")
    page.fill("#title", "被篡改的任务")
    page.evaluate("document.querySelector('form.card input[name=csrf_token]').value = 'forged.token'")
    page.click("#save")
    assert texts.CSRF_REFUSED in page.content()
    evil = _evil_server(url + "/admin/tasks/info", "<input name=title value=跨站><input name=target value=9>")
    try:
        page.goto(evil.url)  # another origin (another port), same browser, signed-in cookie
        page.click("#f button")
        assert texts.CSRF_REFUSED in page.content()
    finally:
        evil.stop()
    with services.db.session() as session:
        assert session.scalar(select(Task.title).where(Task.key == "info")) == "工作动态信息"
