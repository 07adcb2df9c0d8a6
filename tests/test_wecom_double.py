"""The WeCom API double itself: wire format, injection controls, concurrency."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bot.testing.wecom_double import WeComDouble, wecom_api_fixture


def _token(api: WeComDouble) -> str:
    r = requests.get(api.base_url + "gettoken", params={"corpid": api.corp_id, "corpsecret": api.secret}, timeout=5)
    body = r.json()
    assert set(body) == {"errcode", "errmsg", "access_token", "expires_in"} and body["errcode"] == 0
    return body["access_token"]


def _send(api: WeComDouble, token: str, **payload) -> dict:
    data = {"touser": "a", "agentid": api.agent_id, "msgtype": "text", "text": {"content": "hi"}, **payload}
    return requests.post(api.base_url + "message/send", params={"access_token": token}, json=data, timeout=5).json()


def test_send_answer_has_the_wecom_fields(wecom_api):
    body = _send(wecom_api, _token(wecom_api))
    assert {"errcode", "errmsg", "invaliduser", "invalidparty", "invalidtag", "msgid"} <= set(body)
    assert body["errcode"] == 0 and body["msgid"]


def test_unknown_token_and_wrong_agent_are_refused(wecom_api):
    assert _send(wecom_api, "nope")["errcode"] == 40014
    assert _send(wecom_api, _token(wecom_api), agentid=1)["errcode"] == 40056


def test_limits_are_enforced_like_wecom(wecom_api):
    token = _token(wecom_api)
    assert _send(wecom_api, token, text={"content": "汉" * 683})["errcode"] == 45002  # 2049 bytes
    assert _send(wecom_api, token, text={"content": "汉" * 682 + "ab"})["errcode"] == 0  # 2048 bytes
    assert _send(wecom_api, token, touser="|".join(str(i) for i in range(1001)))["errcode"] == 40031


def test_fail_next_counts_down_and_is_recorded(wecom_api):
    token = _token(wecom_api)
    wecom_api.fail_next(2, 45009)
    codes = [_send(wecom_api, token)["errcode"] for _ in range(3)]
    assert codes == [45009, 45009, 0]
    assert [c.errcode for c in wecom_api.calls_to("message/send")] == codes
    assert wecom_api.calls_to("message/send")[0].json["touser"] == "a"


def test_media_get_serves_bytes_with_headers_or_json_error(wecom_api):
    wecom_api.add_media("M", b"abc", "image/png", "x.png")
    token = _token(wecom_api)
    r = requests.get(wecom_api.base_url + "media/get", params={"access_token": token, "media_id": "M"}, timeout=5)
    assert r.content == b"abc" and r.headers["Content-Type"] == "image/png"
    assert 'filename="x.png"' in r.headers["Content-Disposition"]
    r = requests.get(wecom_api.base_url + "media/get", params={"access_token": token, "media_id": "?"}, timeout=5)
    assert r.json()["errcode"] == 40007


def test_requests_are_served_concurrently_with_latency():
    gen = wecom_api_fixture()
    api = next(gen)
    try:
        token = _token(api)
        api.set_latency(0.2, "message/send")
        started = time.monotonic()
        with ThreadPoolExecutor(40) as pool:
            results = list(pool.map(lambda _: _send(api, token)["errcode"], range(40)))
        elapsed = time.monotonic() - started
        assert results == [0] * 40
        assert elapsed < 1.5, f"40 calls with 0.2 s latency took {elapsed:.2f}s: not concurrent"
        assert len(api.calls_to("message/send")) == 40
    finally:
        gen.close()
    assert api._server is None  # the generator stopped the server


def test_fail_sequence_scripts_each_call(wecom_api):
    token = _token(wecom_api)
    wecom_api.fail_sequence([0, 60020, 0, 45009], "message/send")
    assert [_send(wecom_api, token)["errcode"] for _ in range(5)] == [0, 60020, 0, 45009, 0]
