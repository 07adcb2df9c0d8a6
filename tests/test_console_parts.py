"""The console's parts without a browser: its periods, the WeCom contacts read against the API double
(visibility, 60011), the manual reminder's exactly-once path, report filters, photos only for
signed-in admins, the roster preview, task edits written to tasks.yaml."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.db.models import Person, ReminderDelivery, Report, ReportPhoto
from console.periods import VIEWS, task_window, view_of
from console.report_filters import ReportFilters, count_reports, find_reports
from console.roster_preview import keep, preview, take
from console.routes import admin_routes
from console.task_edit import TaskEditError, edit_task, parse_stages
from tests.helpers_reports import ROSTER, use_test_tasks
from tracking.roster import RosterRow

PASSWORD = "s3cure-admin-pass"


# ---------------------------------------------------------------- periods (pure)


def test_views_and_their_arrows() -> None:
    assert view_of("quarter", date(2026, 11, 20)).label == "2026年第4季度"
    assert view_of("half", date(2026, 3, 1)).end == date(2026, 6, 30)
    assert view_of("month", date(2026, 1, 15)).previous().label == "2025年12月"
    assert view_of("year", date(2026, 5, 5)).next().start == date(2027, 1, 1)


def test_task_windows_inside_a_view() -> None:
    quarter = view_of("quarter", date(2026, 11, 20))
    monthly = task_window("monthly", quarter)
    assert monthly is not None and monthly.count == 3 and (monthly.start, monthly.end) == (quarter.start, quarter.end)
    yearly = task_window("yearly", view_of("month", date(2026, 11, 20)))
    assert yearly is not None and yearly.count == 1 and yearly.start == date(2026, 1, 1)  # the whole year
    weekly = task_window("weekly", view_of("month", date(2026, 11, 20)))
    assert weekly is not None and all(p.end.month == 11 for p in weekly.periods) and weekly.count in (4, 5)
    assert task_window("once", view_of("month", date(2026, 11, 20)), date(2025, 6, 30)) is None
    assert task_window("fortnightly-ish", quarter) is None


@settings(deadline=None)  # a shared CI machine's pauses are not this function's speed
@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.sampled_from(VIEWS),
       st.sampled_from(["weekly", "semimonthly", "monthly", "quarterly", "half-yearly", "yearly"]))
def test_views_tile_time_and_windows_fit(day: date, kind: str, cadence: str) -> None:
    view = view_of(kind, day)
    assert view.contains(day) and view.next().previous() == view
    assert view.next().start == view.end + timedelta(days=1)
    window = task_window(cadence, view)
    assert window is not None
    periods = window.periods
    assert all(a.end + timedelta(days=1) == b.start for a, b in zip(periods, periods[1:], strict=False))
    assert all(view.start <= p.end <= view.end for p in periods) or (len(periods) == 1 and periods[0].start
                                                                       <= view.start and periods[0].end >= view.end)


# ---------------------------------------------------------------- WeCom contacts


def _book(api) -> None:  # noqa: ANN001
    book = api.contacts
    book.add_department(2, "XX街道")
    book.add_department(3, "红山郡社区", parentid=2)
    book.add_department(4, "东风村", parentid=2)
    book.add_department(9, "别的单位", parentid=1)
    book.add_member("li", "李四", [3])
    book.add_member("wang", "王五", [4, 3])  # in two departments: listed once, main department first
    book.add_member("left", "已离职", [4], status=5)
    book.add_member("other", "外单位", [9])
    book.visible = {2}


def test_contacts_double_speaks_wecom_format_and_refuses_outside_visibility(wecom_api) -> None:
    _book(wecom_api)
    token = requests.get(wecom_api.base_url + "gettoken", params={"corpid": wecom_api.corp_id,
                                                                  "corpsecret": wecom_api.secret}, timeout=5).json()
    q = {"access_token": token["access_token"]}
    depts = requests.get(wecom_api.base_url + "department/list", params=q, timeout=5).json()
    assert depts["errcode"] == 0 and [d["id"] for d in depts["department"]] == [2, 3, 4]
    assert {"id", "name", "parentid", "order"} <= set(depts["department"][0])
    users = requests.get(wecom_api.base_url + "user/list", params={**q, "department_id": "3"}, timeout=5).json()
    assert users["errcode"] == 0 and {u["userid"] for u in users["userlist"]} == {"li", "wang"}
    assert {"userid", "name", "department", "main_department", "status"} <= set(users["userlist"][0])
    refused = requests.get(wecom_api.base_url + "user/list", params={**q, "department_id": "9"}, timeout=5).json()
    assert refused["errcode"] == 60011 and "no privilege" in refused["errmsg"]
    bad = requests.get(wecom_api.base_url + "user/list", params={**q, "department_id": "x"}, timeout=5).json()
    assert bad["errcode"] == 60123


def test_address_book_read_through_the_sender(wecom_api) -> None:
    from bot.config import build_settings
    from bot.wecom.contacts import ContactsError, read_address_book
    from bot.wecom.sender import LogSender, build_sender

    _book(wecom_api)
    sender = build_sender(build_settings({"wecom": wecom_api.wecom_settings()}))
    book = read_address_book(sender)
    assert [m.userid for m in book.members] == ["li", "wang", "left"]
    assert book.departments[book.members[1].main_department].name == "东风村"
    assert [m.active for m in book.members] == [True, True, False]
    with pytest.raises(ContactsError):
        read_address_book(LogSender())
    wecom_api.fail_next(1, 60011, "department/list")
    with pytest.raises(ContactsError, match="60011"):
        read_address_book(sender)


# ---------------------------------------------------------------- manual reminders


def test_remind_now_sends_once_per_person_task_and_day(services, tmp_path) -> None:
    from scheduler.manual import remind_now

    use_test_tasks(services, tmp_path)
    first = remind_now(services, "info")
    assert sorted(first.sent) == ["li", "wang"] and not first.already  # the inactive 钱六 is not reminded
    assert all("工作动态信息" in services.sender.texts_to(u)[-1] for u in first.sent)
    second = remind_now(services, "info")
    assert not second.sent and sorted(second.already) == ["li", "wang"]
    with services.db.session() as session:
        stages = session.scalars(select(ReminderDelivery.stage)).all()
    assert stages == ["manual-2026-11-20"] * 2
    services.clock.advance(days=1)
    assert sorted(remind_now(services, "info").sent) == ["li", "wang"]  # a new day, a new manual stage
    assert not remind_now(services, "no-such-task").sent


# ---------------------------------------------------------------- reports, photos


def _report(session, userid: str, village: str, day: date, status: str = "active") -> Report:  # noqa: ANN001
    report = Report(userid=userid, village=village, activity_date=day, activity="开展宣讲", status=status,
                    raw_text="")
    session.add(report)
    session.flush()
    return report


def test_report_filters_village_contains_person_status_and_literal_percent(services, tmp_path) -> None:
    use_test_tasks(services, tmp_path)
    with services.db.session() as session:
        _report(session, "li", "红山郡社区", date(2026, 11, 2))
        _report(session, "li", "红山郡社区", date(2026, 10, 2), "withdrawn")
        _report(session, "wang", "东风村", date(2026, 11, 3))
        _report(session, "wang", "100%村", date(2026, 11, 4))
        assert count_reports(session, ReportFilters(village="红山")) == 2
        assert count_reports(session, ReportFilters(village="%")) == 1  # a literal %, not "anything"
        assert count_reports(session, ReportFilters(person="王五")) == 2  # by name
        assert count_reports(session, ReportFilters(status="withdrawn")) == 1
        assert count_reports(session, ReportFilters(since=date(2026, 11, 3))) == 2
        assert [r.activity_date.day for r in find_reports(session, ReportFilters())] == [4, 3, 2, 2]
    q = ReportFilters.from_query({"village": "红山", "status": "bogus", "since": "not-a-date"})
    assert q == ReportFilters(village="红山") and q.query_string(page=2) == "village=%E7%BA%A2%E5%B1%B1&page=2"


def _basic() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"office:{PASSWORD}".encode()).decode()}


def test_photos_are_served_only_to_signed_in_admins(services, tmp_path) -> None:
    services.settings = replace(services.settings, admin_password=PASSWORD)
    use_test_tasks(services, tmp_path)
    folder = Path(services.settings.data_dir) / "photos" / "2026-11"
    folder.mkdir(parents=True)
    (folder / "p.png").write_bytes(b"\x89PNG fake")
    outside = tmp_path / "secret.txt"
    outside.write_text("not a photo")
    with services.db.session() as session:
        report = _report(session, "li", "红山郡社区", date(2026, 11, 2))
        ok = ReportPhoto(report_id=report.id, media_id="m1", msg_key="k1", status="fetched",
                         path=str(folder / "p.png"), content_type="image/png")
        escaped = ReportPhoto(report_id=report.id, media_id="m2", msg_key="k2", status="fetched",
                              path=str(outside), content_type="image/png")
        pending = ReportPhoto(report_id=report.id, media_id="m3", msg_key="k3", status="pending")
        session.add_all([ok, escaped, pending])
        session.flush()
        ids = ok.id, escaped.id, pending.id
    client = TestClient(Starlette(routes=admin_routes(services)))
    assert client.get(f"/admin/photos/{ids[0]}").status_code == 401
    shown = client.get(f"/admin/photos/{ids[0]}", headers=_basic())
    assert shown.status_code == 200 and shown.content == b"\x89PNG fake"
    assert shown.headers["content-type"] == "image/png" and shown.headers["cache-control"] == "no-store"
    assert client.get(f"/admin/photos/{ids[1]}", headers=_basic()).status_code == 404  # outside data/photos
    assert client.get(f"/admin/photos/{ids[2]}", headers=_basic()).status_code == 404  # not fetched yet


# ---------------------------------------------------------------- roster, tasks


def test_roster_preview_changes_nothing_and_is_applied_once(services) -> None:
    from tracking.roster import import_roster

    with services.db.session() as session:
        import_roster(session, ROSTER)
    rows = [RosterRow(2, "li", "李四", "东风村", "liaison", None), RosterRow(3, "new", "新人", "东风村", "liaison", None)]
    with services.db.session() as session:
        found = preview(session, rows, [])
    assert [c.row.userid for c in found.added] == ["new"]
    assert found.updated[0].changes == {"village": ("红山郡社区", "东风村")}
    assert [p.userid for p in found.not_in_file] == ["zhao", "wang"]  # active people only, by village
    with services.db.session() as session:
        assert session.scalar(select(Person).where(Person.userid == "new")) is None
    token = keep(services.state, rows, "x.csv")
    assert take(services.state, token) == ("x.csv", rows)
    assert take(services.state, token) is None and take(services.state, "") is None


def test_task_edit_validates_and_writes_the_file(services, tmp_path) -> None:
    import yaml

    path = use_test_tasks(services, tmp_path)
    assert parse_stages("7 09:30\n\n1天 8:05") == [{"days_before": 7, "time": "09:30"},
                                                  {"days_before": 1, "time": "08:05"}]
    assert parse_stages("  ") is None
    for bad in ({"title": "", "target": "3"}, {"title": "x", "target": "0"}, {"title": "x", "target": "three"},
                {"title": "x", "target": "1", "stages": "明天"}, {"title": "x", "target": "1", "deadline_day": "40"}):
        with services.db.session() as session, pytest.raises(TaskEditError):
            edit_task(session, path, "info", {"cadence": "monthly", "active": "1", **bad})
    before = path.read_text(encoding="utf-8")
    with services.db.session() as session, pytest.raises(TaskEditError):
        edit_task(session, path, "nope", {"title": "x", "target": "1"})
    assert path.read_text(encoding="utf-8") == before
    with services.db.session() as session:
        changes = edit_task(session, path, "info", {"title": "工作动态信息", "target": "4", "cadence": "monthly",
                                                    "deadline_day": "25", "active": "1", "stages": "3 10:00"})
    assert changes["target"] == [3, 4] and changes["deadline_day"] == [None, 25]
    saved = next(t for t in yaml.safe_load(path.read_text(encoding="utf-8"))["tasks"] if t["key"] == "info")
    assert saved["target"] == 4 and saved["deadline_day"] == 25 and saved["status"] == "active"
    with services.db.session() as session:
        edit_task(session, path, "info", {"title": "工作动态信息", "target": "4", "cadence": "monthly"})
    saved = next(t for t in yaml.safe_load(path.read_text(encoding="utf-8"))["tasks"] if t["key"] == "info")
    assert saved["status"] == "inactive"  # the box unticked switches it off


def test_office_synonyms_file_merges_over_config_and_refuses_bad_words(tmp_path) -> None:
    from knowledge import office_synonyms

    path = office_synonyms.path_for(tmp_path)
    assert office_synonyms.load(path) == {}
    office_synonyms.add(path, "小作文", ["动态信息", "小作文", " "])
    office_synonyms.add(path, "小作文", ["工作信息", "动态信息"])
    assert office_synonyms.load(path) == {"小作文": ["动态信息", "工作信息"]}
    assert office_synonyms.merged({"村居": ["村里"], "小作文": ["稿子"]}, path) == {
        "村居": ["村里"], "小作文": ["稿子", "动态信息", "工作信息"]}
    for word, values in (("", ["x"]), ("两 个", ["x"]), ("好", []), ("好", ["<b>"]), ("字" * 21, ["x"])):
        with pytest.raises(office_synonyms.SynonymError):
            office_synonyms.add(path, word, values)
    path.write_text("[: not yaml", encoding="utf-8")
    assert office_synonyms.load(path) == {}  # an unreadable file never stops the knowledge base
