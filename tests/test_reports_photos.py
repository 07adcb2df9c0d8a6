"""Photos after a report: attached within ten minutes, fetched from the WeCom API double, retried on failure."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import ReportPhoto
from bot.testing.chat import ChatDriver
from bot.wecom.sender import WeComSender
from tests.helpers_reports import report_chat
from tracking import texts
from tracking.photos import retry_photos

JPEG = b"\xff\xd8\xff\xe0" + b"photo-bytes" * 50


@pytest.fixture
def pchat(services, tmp_path, wecom_api) -> ChatDriver:
    services.sender = WeComSender(wecom_api.corp_id, wecom_api.secret, wecom_api.agent_id,
                                  api_base=wecom_api.base_url)
    return report_chat(services, tmp_path)


def photos(chat: ChatDriver) -> list[ReportPhoto]:
    with chat.services.db.session() as s:
        return list(s.scalars(select(ReportPhoto).order_by(ReportPhoto.id)).all())


def wait_for(chat: ChatDriver, status: str, n: int = 1, timeout: float = 10.0) -> list[ReportPhoto]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = photos(chat)
        if len(rows) >= n and all(p.status == status for p in rows[:n]):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"photos never reached {status}: {[(p.id, p.status, p.error) for p in photos(chat)]}")


def photo_in_flight(photo_id: int) -> bool:
    from tracking import photos as photo_jobs

    with photo_jobs._in_flight_lock:
        return photo_id in photo_jobs._in_flight


def settle(chat: ChatDriver, index: int) -> None:
    """Wait until the background job for photo `index` made both its attempts (fetch, then retry pass)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = photos(chat)
        # Both attempts stored and the job's fetch really over: a fetch still in flight (its row already
        # written, its in-flight mark not yet cleared) makes a concurrent retry skip the photo.
        if len(rows) > index and rows[index].attempts >= 2 and not photo_in_flight(rows[index].id):
            return
        time.sleep(0.05)
    raise AssertionError("background photo job did not finish")


def test_photo_within_ten_minutes_is_attached_fetched_and_kept(pchat: ChatDriver, wecom_api) -> None:
    wecom_api.add_media("MEDIA-1", JPEG, "image/jpeg")
    pchat.send("li", "报送 今天开展宣讲")
    pchat.services.clock.advance(minutes=9)
    assert pchat.photo("li", "MEDIA-1") == texts.PHOTO_ATTACHED.format(id=1, activity="开展宣讲", n=1)
    [p] = wait_for(pchat, "fetched")
    assert p.report_id == 1 and p.content_type == "image/jpeg" and p.size == len(JPEG)
    stored = Path(p.path)
    assert stored.read_bytes() == JPEG
    assert stored.is_relative_to(Path(pchat.services.settings.data_dir) / "photos")
    assert [c.query.get("media_id") for c in wecom_api.calls_to("media/get")] == ["MEDIA-1"]
    assert "📷1" in pchat.send("li", "我的报送")


def test_photo_after_the_window_or_without_report_explains_how(pchat: ChatDriver) -> None:
    assert pchat.photo("li", "M-early") == texts.PHOTO_NO_REPORT
    pchat.send("li", "报送 今天开展宣讲")
    pchat.services.clock.advance(minutes=11)
    assert pchat.photo("li", "M-late") == texts.PHOTO_NO_REPORT
    assert photos(pchat) == []


def test_photo_goes_to_the_latest_report_not_a_withdrawn_one(pchat: ChatDriver, wecom_api) -> None:
    wecom_api.add_media("M2", JPEG)
    pchat.send("li", "报送 今天开展宣讲")
    pchat.send("li", "报送 今天开展走访")
    assert "报送 2" in pchat.photo("li", "M2")
    pchat.send("li", "撤回 2")
    assert "报送 1" in pchat.photo("li", "M2")


def test_failed_fetch_is_retried_until_it_works(pchat: ChatDriver, wecom_api) -> None:
    pchat.send("li", "报送 今天开展宣讲")
    pchat.photo("li", "LATER")  # WeCom does not know it yet: the fetch fails
    settle(pchat, 0)
    [p] = photos(pchat)
    assert p.status == "failed" and p.attempts == 2 and p.error  # its own fetch, then the job's retry pass
    wecom_api.add_media("LATER", b"\x89PNG" + b"x" * 10, "image/png")
    assert retry_photos(pchat.services) == (1, 0)
    [p] = photos(pchat)
    assert p.status == "fetched" and p.path.endswith(".png")
    pchat.send("li", "报送 今天开展座谈")
    pchat.photo("li", "GONE")
    settle(pchat, 1)
    assert retry_photos(pchat.services) == (0, 1)  # still within WeCom's three days: tried again
    calls = len(wecom_api.calls_to("media/get"))
    pchat.services.clock.advance(days=4)  # the media id has expired: not tried any more
    assert retry_photos(pchat.services) == (0, 0)
    assert len(wecom_api.calls_to("media/get")) == calls


def test_retried_photo_message_is_attached_once(pchat: ChatDriver, wecom_api) -> None:
    wecom_api.add_media("DUP", JPEG)
    pchat.send("li", "报送 今天开展宣讲")
    first = pchat.photo("li", "DUP", msg_id="555")
    assert pchat.photo("li", "DUP", msg_id="555") == first
    wait_for(pchat, "fetched")
    assert len(photos(pchat)) == 1


def test_photo_during_a_follow_up_is_kept_for_the_report(pchat: ChatDriver, wecom_api) -> None:
    wecom_api.add_media("HELD", JPEG)
    assert pchat.send("li", "报送 今天 30人") == texts.ASK_ACTIVITY
    assert pchat.photo("li", "HELD") == texts.PHOTO_HELD
    assert "报送编号 1" in pchat.send("li", "在社区开展宣讲")
    [p] = wait_for(pchat, "fetched")
    assert p.report_id == 1 and p.media_id == "HELD"
