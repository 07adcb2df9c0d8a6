"""The doctor's checks against WeCom: secret, trusted IP, agent id, clock skew, the public callback.

The API calls are harmless reads: `gettoken`, then `agent/get` for the configured AgentId. WeCom
answers `agent/get` with 60020 when the caller's IP is not in the app's 企业可信IP (gettoken is not
IP-checked, so a good token proves nothing about the IP), and with 301002 when the token's secret
belongs to another app. Every answer's Date header is compared with the local clock.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import requests

from app import doctor_texts as t
from app.doctor_local import Check, one_line

if TYPE_CHECKING:
    from bot.config import Settings

AGENT_MISMATCH_CODES = frozenset({301002, 40056})
UNTRUSTED_IP = 60020
SKEW_QUIET_S = 30.0  # below this nobody needs to care
_FROM_IP = re.compile(r"from ip:\s*([0-9a-fA-F.:*]+)")


class WeComProbe:
    """Plain HTTP to the WeCom API (not the sender: the doctor needs raw errcodes and headers)."""

    def __init__(self, settings: Settings) -> None:
        w = settings.wecom
        self.base = w.api_base if w.api_base.endswith("/") else w.api_base + "/"
        self.host = urlsplit(self.base).netloc
        self.timeout = (3.05, w.http_timeout_s)
        self.http = requests.Session()
        self.skews: list[float] = []  # server Date minus local time, one per answer that had one
        self.answered = False

    def get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer; raises requests.RequestException or ValueError when there is none."""
        started = time.time()
        response = self.http.get(self.base + endpoint, params=params, timeout=self.timeout)
        finished = time.time()
        self.answered = True
        date = response.headers.get("Date")
        if date:
            try:
                server = parsedate_to_datetime(date).timestamp() + 0.5  # Date is truncated to the second
                self.skews.append(server - (started + finished) / 2)
            except (TypeError, ValueError):
                pass
        return response.json()

    def close(self) -> None:
        self.http.close()


def network_error(exc: BaseException) -> str:
    """A requests failure in plain words: TLS, timeout, refused, DNS, or its first line."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        found = re.search(r"certificate verify failed: ([^(')\]]+)", text) or re.search(r"SSLError\((.{0,80})", text)
        return t.NET_TLS.format(reason=(found.group(1) if found else "SSL").strip(" ,'\""))
    if isinstance(exc, requests.exceptions.Timeout):
        return t.NET_TIMEOUT
    if "Name or service not known" in text or "NameResolutionError" in text or "getaddrinfo" in text:
        return t.NET_DNS
    if "Connection refused" in text:
        return t.NET_REFUSED
    return one_line(exc)


def _errmsg(answer: dict[str, Any]) -> str:
    return str(answer.get("errmsg", "")).split(", hint:")[0]


def check_token(probe: WeComProbe, settings: Settings) -> tuple[Check, str | None]:
    w = settings.wecom
    try:
        answer = probe.get("gettoken", {"corpid": w.corp_id, "corpsecret": w.secret})
    except (requests.RequestException, ValueError) as exc:
        return Check("wecom_token", "fail", t.NET_DOWN.format(host=probe.host, error=network_error(exc)),
                     t.NET_DOWN_FIX.format(host=probe.host)), None
    code = int(answer.get("errcode", 0) or 0)
    if code == 0 and answer.get("access_token"):
        return Check("wecom_token", "pass", t.TOKEN_OK), str(answer["access_token"])
    if code == 40013:
        return Check("wecom_token", "fail", t.TOKEN_BAD_CORP, t.TOKEN_BAD_CORP_FIX), None
    if code == 40001:
        return Check("wecom_token", "fail", t.TOKEN_BAD_SECRET, t.TOKEN_BAD_SECRET_FIX), None
    return Check("wecom_token", "fail", t.TOKEN_OTHER.format(errcode=code, errmsg=_errmsg(answer)),
                 t.TOKEN_OTHER_FIX.format(errcode=code)), None


def check_ip_and_agent(probe: WeComProbe, settings: Settings, token: str) -> tuple[Check, Check]:
    agent_id = settings.wecom.agent_id
    try:
        answer = probe.get("agent/get", {"access_token": token, "agentid": agent_id})
    except (requests.RequestException, ValueError) as exc:
        down = Check("wecom_ip", "fail", t.NET_DOWN.format(host=probe.host, error=network_error(exc)),
                     t.NET_DOWN_FIX.format(host=probe.host))
        return down, Check("wecom_agent", "skip", t.SKIP_NO_ANSWER)
    code = int(answer.get("errcode", 0) or 0)
    if code == UNTRUSTED_IP:
        found = _FROM_IP.search(str(answer.get("errmsg", "")))
        ip = found.group(1) if found else "（见 errmsg）"
        return (Check("wecom_ip", "fail", t.IP_REFUSED.format(ip=ip), t.IP_REFUSED_FIX.format(ip=ip)),
                Check("wecom_agent", "skip", t.SKIP_IP_REFUSED))
    ip_ok = Check("wecom_ip", "pass", t.IP_OK)
    if code in AGENT_MISMATCH_CODES:
        return ip_ok, Check("wecom_agent", "fail", t.AGENT_MISMATCH.format(agent_id=agent_id, errcode=code),
                            t.AGENT_MISMATCH_FIX)
    if code != 0:
        return ip_ok, Check("wecom_agent", "fail", t.AGENT_OTHER.format(errcode=code, errmsg=_errmsg(answer)),
                            t.AGENT_OTHER_FIX.format(errcode=code))
    name = str(answer.get("name") or agent_id)
    if answer.get("close"):
        return ip_ok, Check("wecom_agent", "fail", t.AGENT_CLOSED.format(name=name), t.AGENT_CLOSED_FIX)
    return ip_ok, Check("wecom_agent", "pass", t.AGENT_OK.format(agent_id=agent_id, name=name))


def check_skew(probe: WeComProbe, settings: Settings) -> Check:
    """The callback's timestamp is WeCom's clock; ours must agree well within the replay window."""
    window = settings.wecom.timestamp_window_s
    if not probe.answered:
        return Check("time_skew", "skip", t.SKIP_NO_ANSWER)
    if not probe.skews:
        return Check("time_skew", "warn", t.SKEW_NO_DATE)
    skew = max(probe.skews, key=abs)  # WeCom's clock minus ours
    shown = {"way": t.SKEW_AHEAD if skew < 0 else t.SKEW_BEHIND, "secs": round(abs(skew)), "window": window}
    if abs(skew) > window / 2:
        return Check("time_skew", "fail", t.SKEW_BAD.format(**shown), t.SKEW_FIX)
    if abs(skew) > SKEW_QUIET_S:
        return Check("time_skew", "warn", t.SKEW_WARN.format(**shown), t.SKEW_FIX)
    if round(abs(skew)) == 0:
        return Check("time_skew", "pass", t.SKEW_SAME)
    return Check("time_skew", "pass", t.SKEW_OK.format(**shown))


def callback_url(public_url: str) -> str:
    """The callback URL for what the operator typed: a bare domain gets /wecom/callback."""
    parts = urlsplit(public_url if "://" in public_url else "https://" + public_url)
    path = parts.path if parts.path not in ("", "/") else "/wecom/callback"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def check_callback(settings: Settings, public_url: str) -> Check:
    """A URL verification exactly as WeCom sends it (signed GET, encrypted echostr) to the public URL."""
    from wechatpy.crypto import _get_signature

    from bot.wecom.crypto import SecurePrpCrypto

    w = settings.wecom
    assert w.token and w.aes_key and w.corp_id
    url = callback_url(public_url)
    echo = secrets.token_hex(8)
    prp = SecurePrpCrypto(base64.b64decode(w.aes_key + "="))
    echostr = prp.encrypt(echo, w.corp_id).decode()
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    params = {"msg_signature": _get_signature(w.token, timestamp, nonce, echostr), "timestamp": timestamp,
              "nonce": nonce, "echostr": echostr}
    try:
        response = requests.get(url, params=params, timeout=(3.05, 5.0), allow_redirects=False)
    except requests.RequestException as exc:
        fix = t.CALLBACK_TLS_FIX if isinstance(exc, requests.exceptions.SSLError) else t.CALLBACK_DOWN_FIX
        return Check("callback", "fail", t.CALLBACK_DOWN.format(url=url, error=network_error(exc)), fix)
    if response.status_code != 200:
        fix = {503: t.CALLBACK_503_FIX, 403: t.CALLBACK_403_FIX}.get(response.status_code, t.CALLBACK_OTHER_FIX)
        return Check("callback", "fail", t.CALLBACK_STATUS.format(url=url, status=response.status_code), fix)
    body = response.text
    if body != echo:
        return Check("callback", "fail", t.CALLBACK_WRONG_BODY.format(url=url, body=body[:60] or "（空）"),
                     t.CALLBACK_WRONG_BODY_FIX)
    return Check("callback", "pass", t.CALLBACK_OK.format(url=url))
