"""The outbound sender against the WeCom API double (real HTTP, real wire format)."""

from __future__ import annotations

import time
import uuid

import pytest

from bot.config import ConfigError, build_settings
from bot.testing.wecom_double import WeComDouble
from bot.wecom.sender import NETWORK_ERROR, LogSender, MediaError, WeComSender, build_sender


def make_sender(api: WeComDouble, **kw) -> WeComSender:
    return WeComSender(api.corp_id, api.secret, api.agent_id, api_base=api.base_url, **kw)


def test_text_is_split_at_2048_bytes_in_order(wecom_api):
    text = "村居联络员请于本月底前报送活动情况。" * 100 + "🎉" * 200 + "结束"
    result = make_sender(wecom_api).send_text(["zhangsan"], text)
    assert result.ok, result
    sent = wecom_api.texts_to("zhangsan")
    assert len(sent) == result.calls == len(result.msgids) >= 3
    assert "".join(sent) == text
    assert all(len(s.encode()) <= 2048 for s in sent)


def test_users_are_sent_1000_per_call_joined_by_bar(wecom_api):
    users = [f"u{i}" for i in range(2500)] + ["u1"]  # a duplicate is sent once
    result = make_sender(wecom_api).send_text(users, "通知")
    assert result.ok and result.calls == 3
    batches = [m["touser"].split("|") for m in wecom_api.sent_messages()]
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert sum(batches, []) == [f"u{i}" for i in range(2500)]


def test_invalid_users_are_returned_not_ignored(wecom_api):
    wecom_api.invalid_users.update({"gone1", "gone2"})
    result = make_sender(wecom_api).send_text(["ok1", "gone1", "gone2"], "提醒")
    assert result.ok and result.errcode == 0
    assert result.invalid_users == ["gone1", "gone2"]


def test_all_users_invalid_is_a_failure_with_the_users(wecom_api, caplog):
    wecom_api.invalid_users.add("gone")
    result = make_sender(wecom_api).send_text(["gone"], "提醒")
    assert not result.ok and result.errcode == 81013
    assert result.invalid_users == ["gone"]
    assert "81013" in caplog.text


def test_token_error_refreshes_once_then_succeeds(wecom_api):
    sender = make_sender(wecom_api)
    assert sender.send_text(["a"], "one").ok
    wecom_api.fail_next(1, 40014)
    result = sender.send_text(["a"], "two")
    assert result.ok
    assert len(wecom_api.calls_to("gettoken")) == 2
    assert wecom_api.texts_to("a") == ["one", "two"]


def test_expired_token_42001_is_refreshed(wecom_api):
    sender = make_sender(wecom_api)
    assert sender.send_text(["a"], "one").ok
    wecom_api.expire_tokens()
    assert sender.send_text(["a"], "two").ok
    codes = [c.errcode for c in wecom_api.calls_to("message/send")]
    assert codes == [0, 42001, 0]


def test_persistent_token_error_is_bounded_to_one_retry(wecom_api):
    wecom_api.fail_always(40014, "message/send")
    result = make_sender(wecom_api).send_text(["a"], "x")
    assert not result.ok and result.errcode == 40014
    assert len(wecom_api.calls_to("message/send")) == 2
    assert len(wecom_api.calls_to("gettoken")) == 2


@pytest.mark.parametrize("errcode", [45009, 60020])
def test_other_errors_are_surfaced_without_retry(wecom_api, errcode):
    wecom_api.fail_next(1, errcode)
    result = make_sender(wecom_api).send_text(["a"], "x" * 3000)
    assert not result.ok and result.errcode == errcode and str(errcode) in result.errmsg
    assert len(wecom_api.calls_to("message/send")) == 1  # the second part is not sent out of context


def test_bad_secret_is_reported_from_gettoken(wecom_api):
    sender = WeComSender(wecom_api.corp_id, "wrong", wecom_api.agent_id, api_base=wecom_api.base_url)
    result = sender.send_text(["a"], "x")
    assert not result.ok and result.errcode == 40001
    assert wecom_api.calls_to("message/send") == []


def test_timeouts_are_explicit_and_enforced(wecom_api):
    sender = make_sender(wecom_api, timeout_s=0.3)
    assert sender.client.timeout == (3.05, 0.3)
    assert sender.send_text(["a"], "warm").ok  # token cached
    wecom_api.hang_next(1, 2.0)
    started = time.monotonic()
    result = sender.send_text(["a"], "x")
    assert time.monotonic() - started < 1.5
    assert not result.ok and result.errcode == NETWORK_ERROR and "Timeout" in result.errmsg


def test_token_fetch_has_a_timeout_too(wecom_api):
    wecom_api.hang_next(1, 2.0)
    started = time.monotonic()
    result = make_sender(wecom_api, timeout_s=0.3).send_text(["a"], "x")
    assert time.monotonic() - started < 1.5
    assert not result.ok and result.errcode == NETWORK_ERROR


def test_dropped_connection_is_a_result_not_an_exception(wecom_api):
    sender = make_sender(wecom_api)
    assert sender.send_text(["a"], "warm").ok
    wecom_api.drop_next(1)
    result = sender.send_text(["a"], "x")
    assert not result.ok and result.errcode == NETWORK_ERROR


def test_duplicate_check_is_passed_to_wecom(wecom_api):
    make_sender(wecom_api).send_text(["a"], "x", duplicate_check=True, duplicate_interval_s=600)
    msg = wecom_api.sent_messages()[0]
    assert (msg["enable_duplicate_check"], msg["duplicate_check_interval"]) == (1, 600)


def test_textcard_is_sent_and_trimmed_to_limits(wecom_api):
    result = make_sender(wecom_api).send_textcard(["a"], "标题" * 50, "描述" * 200, "https://example.org/r/1")
    assert result.ok
    card = wecom_api.sent_messages()[0]["textcard"]
    assert len(card["title"].encode()) <= 128 and len(card["description"].encode()) <= 512
    assert card["btntxt"] == "详情" and card["url"] == "https://example.org/r/1"


def test_get_media_returns_bytes_and_content_type(wecom_api):
    wecom_api.add_media("M1", b"\xff\xd8jpeg-bytes", "image/jpeg")
    assert make_sender(wecom_api).get_media("M1") == (b"\xff\xd8jpeg-bytes", "image/jpeg")


def test_get_media_error_raises_media_error(wecom_api):
    with pytest.raises(MediaError) as info:
        make_sender(wecom_api).get_media("missing")
    assert info.value.errcode == 40007


def test_uploaded_media_can_be_fetched_back(wecom_api):
    import io

    sender = make_sender(wecom_api)
    up = sender.client.media.upload("image", ("p.png", io.BytesIO(b"PNGDATA"), "image/png"))
    assert up["errcode"] == 0 and up["type"] == "image"
    assert sender.get_media(up["media_id"]) == (b"PNGDATA", "image/png")


@pytest.mark.redis
def test_redis_cached_token_is_shared_between_two_senders(redis_client):
    with WeComDouble(secret=f"s-{uuid.uuid4().hex}") as api:
        one, two = make_sender(api, redis_client=redis_client), make_sender(api, redis_client=redis_client)
        try:
            assert one.send_text(["a"], "1").ok
            assert two.send_text(["a"], "2").ok
            assert len(api.calls_to("gettoken")) == 1
            tokens = {c.query["access_token"] for c in api.calls_to("message/send")}
            assert len(tokens) == 1
            key = "ztbot:wecom:" + one.client.access_token_key
            assert 0 < redis_client.ttl(key) <= 7200 - 300
            assert api.secret[:10] not in key  # wechatpy's own key embeds part of the secret
            # one refreshes after a token error; the other picks the new token up without fetching
            api.expire_tokens()
            assert one.send_text(["a"], "3").ok
            assert two.send_text(["a"], "4").ok
            assert len(api.calls_to("gettoken")) == 2
        finally:
            redis_client.delete("ztbot:wecom:" + one.client.access_token_key)


def test_log_sender_records_and_build_sender_chooses(tmp_path):
    sender = build_sender(build_settings({}))
    assert isinstance(sender, LogSender)
    assert sender.send_text(["u1", "u1"], "你好").ok
    assert sender.sent[0]["users"] == ["u1"] and sender.texts_to("u1") == ["你好"]
    with pytest.raises(MediaError):
        sender.get_media("x")
    assert not sender.send_text([], "x").ok


def test_build_sender_uses_the_api_when_configured(wecom_api):
    sender = build_sender(build_settings({"wecom": wecom_api.wecom_settings()}))
    assert isinstance(sender, WeComSender)
    assert sender.send_text(["a"], "hi").ok and wecom_api.texts_to("a") == ["hi"]
    with pytest.raises(ConfigError):
        build_sender(build_settings({"wecom": {"secret": "abc123secret"}}))
