"""The one outbound sender: WeCom's send API through wechatpy, or a log when no secret is set.

wechatpy's WeChatClient is used with auto_retry off (its token-refresh retry recurses without
bound) and with the pieces it hard-codes replaced: the API base (for a proxy or the test double),
HTTP timeouts (its token fetch has none), and the cache key (it embeds the first 10 characters of
the secret). Every call's errcode and `invaliduser` end up in the SendResult and the log.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import requests
from redis.exceptions import RedisError
from requests.adapters import HTTPAdapter
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from bot.redact import redact
from bot.wecom.limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bot.wecom.textsplit import TEXT_LIMIT_BYTES, split_by_bytes, truncate_bytes

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, token expired
MAX_USERS_PER_CALL = 1000
NETWORK_ERROR = -1  # errcode recorded when no answer came back (timeout, refused, bad JSON)
TOKEN_MARGIN_S = 300
POOL_SIZE = 32  # cached tokens expire this much before WeCom's expires_in
LIMITED = -2  # errcode recorded when every recipient was over WeCom's per-member limit (nothing was sent)
MAX_DUPLICATE_INTERVAL_S = 4 * 3600  # WeCom's maximum duplicate_check_interval


class MediaError(RuntimeError):
    """A media file could not be fetched (API error, network error, unknown media_id)."""

    def __init__(self, message: str, errcode: int = NETWORK_ERROR) -> None:
        super().__init__(message)
        self.errcode = errcode


@dataclass
class SendResult:
    ok: bool
    errcode: int = 0
    errmsg: str = "ok"
    invalid_users: list[str] = field(default_factory=list)
    msgids: list[str] = field(default_factory=list)
    calls: int = 0
    limited: list[str] = field(default_factory=list)  # left out: over WeCom's per-member limit, not sent
    response_code: str | None = None  # a card's one-use code for message/update_template_card


class Sender(Protocol):
    def send_text(self, users: Sequence[str], text: str, *, duplicate_check: bool = False,
                  duplicate_interval_s: int = 1800) -> SendResult: ...

    def send_textcard(self, users: Sequence[str], title: str, description: str, url: str, btntxt: str = "详情",
                      *, duplicate_check: bool = False) -> SendResult: ...

    def send_card(self, users: Sequence[str], card: dict[str, Any], *, duplicate_check: bool = False,
                  duplicate_interval_s: int = 1800) -> SendResult: ...

    def update_card_button(self, users: Sequence[str], response_code: str, replace_name: str) -> SendResult: ...

    def get_media(self, media_id: str) -> tuple[bytes, str]: ...


def _duplicate(duplicate_check: bool, interval_s: int) -> dict[str, Any]:
    if not duplicate_check:
        return {}
    return {"enable_duplicate_check": 1,
            "duplicate_check_interval": max(1, min(int(interval_s), MAX_DUPLICATE_INTERVAL_S))}


def _recipients(users: Sequence[str]) -> list[str]:
    """Distinct, non-empty user ids in their original order."""
    return list(dict.fromkeys(u.strip() for u in users if u and u.strip()))


# ---------------------------------------------------------------------- wechatpy client


class _Client(WeChatClient):
    """wechatpy's enterprise client with a configurable base, timeouts and a guarded token fetch."""

    def __init__(self, corp_id: str, secret: str, *, api_base: str, timeout: tuple[float, float],
                 session: Any) -> None:
        super().__init__(corp_id, secret, session=session, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base if api_base.endswith("/") else api_base + "/"
        # requests keeps 10 connections per host by default; reminder fan-out runs more threads than that.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
        self._http.mount("https://", adapter)
        self._http.mount("http://", adapter)
        self._fetch_lock = threading.Lock()
        digest = hashlib.sha256(f"{corp_id}\0{secret}".encode()).hexdigest()[:16]
        self._token_key = f"wecom_token_{digest}"

    @property
    def access_token_key(self) -> str:
        return self._token_key

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(self.API_BASE_URL + "gettoken",
                                        {"corpid": self.corp_id, "corpsecret": self.secret})

    def _fetch_access_token(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        res = self._http.get(url=url, params=params, timeout=self.timeout)
        try:
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatClientException(None, f"gettoken failed: {exc.__class__.__name__}", client=self) from None
        if result.get("errcode", 0) != 0 or not result.get("access_token"):
            raise WeChatClientException(result.get("errcode"), result.get("errmsg", ""), client=self)
        expires_in = int(result.get("expires_in", 7200))
        ttl = max(60, expires_in - TOKEN_MARGIN_S)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        self.expires_at = int(time.time()) + ttl
        return result

    def token(self, stale: str | None = None) -> str:
        """A usable access token; with `stale`, one different from it (refreshing at most once)."""
        current = self.session.get(self.access_token_key)
        if current and current != stale and (not self.expires_at or self.expires_at - time.time() > 60):
            return current
        with self._fetch_lock:
            current = self.session.get(self.access_token_key)  # another thread/process may have refreshed
            if current and current != stale and (not self.expires_at or self.expires_at - time.time() > 60):
                return current
            log.info("fetching a WeCom access token")
            return self.fetch_access_token()["access_token"]


class _SharedTokenStorage(MemoryStorage):
    """The access token kept in Redis (shared by every process) and in this process: while Redis is
    down or stalled the local copy serves, so the bot can still tell users through the send API."""

    def __init__(self, shared: RedisStorage) -> None:
        super().__init__()
        self.shared = shared

    def get(self, key: str, default: Any = None) -> Any:
        try:
            value = self.shared.get(key, None)
        except RedisError:
            return super().get(key, default)
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        super().set(key, value, ttl)
        try:
            self.shared.set(key, value, ttl)
        except RedisError:
            log.warning("WeCom token kept in this process only: Redis unavailable")

    def delete(self, key: str) -> None:
        super().delete(key)
        try:
            self.shared.delete(key)
        except RedisError:
            pass


@dataclass
class _Answer:
    errcode: int
    errmsg: str
    data: dict[str, Any] = field(default_factory=dict)
    response: requests.Response | None = None

    def __post_init__(self) -> None:
        # requests' exception text carries the URL, access_token included: it must never reach a
        # log line, a SendResult or a stored row (reminder_deliveries.error quotes it to the office).
        self.errmsg = redact(self.errmsg)


class WeComSender:
    """Sends through WeCom's API. Never raises for API or network errors: they are in the result."""

    def __init__(self, corp_id: str, secret: str, agent_id: int, *, api_base: str, timeout_s: float = 5.0,
                 connect_timeout_s: float = 3.05, redis_client: Any = None,
                 limiter: RateLimiter | None = None) -> None:
        session = (_SharedTokenStorage(RedisStorage(redis_client, prefix="ztbot:wecom"))
                   if redis_client is not None else MemoryStorage())
        self.agent_id = int(agent_id)
        if limiter is None:
            limiter = RedisRateLimiter(redis_client) if redis_client is not None else MemoryRateLimiter()
        self.limiter = limiter
        self.client = _Client(corp_id, secret, api_base=api_base, timeout=(connect_timeout_s, timeout_s),
                              session=session)

    # -------------------------------------------------------------- one API call

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> _Answer:
        """One API call, refreshing the token and retrying once on a token error (bounded, unlike wechatpy)."""
        base_params = kwargs.pop("params", None) or {}
        stale: str | None = None
        for attempt in range(2):
            try:
                token = self.client.token(stale)
            except WeChatClientException as exc:
                code = int(exc.errcode) if exc.errcode is not None else NETWORK_ERROR
                log.error("WeCom gettoken failed: errcode=%s errmsg=%s", code, exc.errmsg)
                return _Answer(code, str(exc.errmsg))
            except requests.RequestException as exc:
                log.error("WeCom gettoken failed: %s", exc.__class__.__name__)
                return _Answer(NETWORK_ERROR, f"gettoken: {exc.__class__.__name__}")
            answer = self._request(method, endpoint, params={**base_params, "access_token": token}, **kwargs)
            if answer.errcode in TOKEN_ERRORS and attempt == 0:
                log.info("WeCom %s: token rejected (%s), refreshing once", endpoint, answer.errcode)
                stale = token
                continue
            return answer
        raise AssertionError("unreachable")

    def _request(self, method: str, endpoint: str, **kwargs: Any) -> _Answer:
        try:
            result = self.client._request(method, endpoint, **kwargs)
        except WeChatClientException as exc:
            data: dict[str, Any] = {}
            if exc.response is not None:
                try:
                    data = exc.response.json()
                except ValueError:
                    data = {}
            if exc.errcode is None:
                status = getattr(exc.response, "status_code", "?")
                return _Answer(NETWORK_ERROR, f"HTTP {status}", data)
            return _Answer(int(exc.errcode), str(exc.errmsg), data, exc.response)
        except requests.RequestException as exc:
            return _Answer(NETWORK_ERROR, f"{exc.__class__.__name__}: {exc}")
        if isinstance(result, requests.Response):
            return _Answer(0, "ok", {}, result)
        return _Answer(int(result.get("errcode", 0)), str(result.get("errmsg", "ok")), result)

    # -------------------------------------------------------------- messages

    def _send(self, users: list[str], messages: list[dict[str, Any]]) -> SendResult:
        out = SendResult(ok=True)
        if not users:
            return SendResult(ok=False, errcode=NETWORK_ERROR, errmsg="no recipients")
        allowed = self._take(users, len(messages))
        if len(allowed) < len(users):
            room = set(allowed)
            out.limited = [u for u in users if u not in room]
            log.warning("WeCom per-member limit: %d of %d recipients left out (%s…)", len(out.limited),
                        len(users), ",".join(out.limited[:5]))
            users = allowed
            if not users:
                return SendResult(ok=False, errcode=LIMITED, errmsg="per-member limit", limited=out.limited)
        for start in range(0, len(users), MAX_USERS_PER_CALL):
            batch = users[start:start + MAX_USERS_PER_CALL]
            for msg in messages:
                payload = {"touser": "|".join(batch), "toparty": "", "totag": "", "agentid": self.agent_id, **msg}
                answer = self._call("post", "message/send", data=payload)
                out.calls += 1
                invalid = [u for u in str(answer.data.get("invaliduser") or "").split("|") if u]
                for u in invalid:
                    if u not in out.invalid_users:
                        out.invalid_users.append(u)
                if answer.data.get("msgid"):
                    out.msgids.append(str(answer.data["msgid"]))
                if answer.data.get("response_code"):
                    out.response_code = str(answer.data["response_code"])
                if invalid:
                    log.warning("WeCom message/send: invalid users %s", ",".join(invalid))
                if answer.errcode != 0:
                    log.error("WeCom message/send to %d users failed: errcode=%s errmsg=%s",
                              len(batch), answer.errcode, answer.errmsg)
                    if out.ok:
                        out.ok, out.errcode, out.errmsg = False, answer.errcode, answer.errmsg
                    break  # later parts of this message would arrive out of context
        return out

    def _take(self, users: list[str], n: int) -> list[str]:
        """The users with room for `n` more messages; everyone when the shared limiter is unreachable."""
        try:
            return self.limiter.take(users, n)
        except Exception:  # noqa: BLE001 - a limiter outage must not stop sending; WeCom still enforces
            log.exception("per-member rate limiter unavailable; sending without it")
            return users

    def send_text(self, users: Sequence[str], text: str, *, duplicate_check: bool = False,
                  duplicate_interval_s: int = 1800) -> SendResult:
        """Text to up to any number of users: split at 2048 bytes, 1000 users per call."""
        extra = _duplicate(duplicate_check, duplicate_interval_s)
        parts = split_by_bytes(text, TEXT_LIMIT_BYTES)
        if not parts:
            return SendResult(ok=False, errcode=NETWORK_ERROR, errmsg="empty text")
        messages = [{"msgtype": "text", "text": {"content": p}, "safe": 0, **extra} for p in parts]
        return self._send(_recipients(users), messages)

    def send_textcard(self, users: Sequence[str], title: str, description: str, url: str, btntxt: str = "详情",
                      *, duplicate_check: bool = False) -> SendResult:
        """A text card (title 128 bytes, description 512 bytes, button text 4 characters at most)."""
        card = {
            "title": truncate_bytes(title, 128, "…"),
            "description": truncate_bytes(description, 512, "…"),
            "url": url,
            "btntxt": btntxt[:4],
        }
        msg: dict[str, Any] = {"msgtype": "textcard", "textcard": card}
        msg.update(_duplicate(duplicate_check, 1800))
        return self._send(_recipients(users), [msg])

    def send_card(self, users: Sequence[str], card: dict[str, Any], *, duplicate_check: bool = False,
                  duplicate_interval_s: int = 1800) -> SendResult:
        """A template card (see bot/wecom/cards.py); the result carries its response_code."""
        msg = {"msgtype": "template_card", "template_card": card, **_duplicate(duplicate_check, duplicate_interval_s)}
        return self._send(_recipients(users), [msg])

    def update_card_button(self, users: Sequence[str], response_code: str, replace_name: str) -> SendResult:
        """Grey the card's buttons for `users`, showing `replace_name` (message/update_template_card).

        A response_code works once and for 72 hours; a used or stale one answers an errcode."""
        payload = {"userids": _recipients(users), "agentid": self.agent_id, "response_code": response_code,
                   "button": {"replace_name": replace_name}}
        answer = self._call("post", "message/update_template_card", data=payload)
        if answer.errcode != 0:
            log.warning("WeCom update_template_card failed: errcode=%s errmsg=%s", answer.errcode, answer.errmsg)
        invalid = [u for u in str(answer.data.get("invaliduser") or "").split("|") if u]
        return SendResult(ok=answer.errcode == 0, errcode=answer.errcode, errmsg=answer.errmsg,
                          invalid_users=invalid, calls=1)

    def get_media(self, media_id: str) -> tuple[bytes, str]:
        """A temporary media file's bytes and content type; MediaError on any failure."""
        answer = self._call("get", "media/get", params={"media_id": media_id})
        if answer.errcode != 0 or answer.response is None:
            log.error("WeCom media/get %s failed: errcode=%s errmsg=%s", media_id, answer.errcode, answer.errmsg)
            raise MediaError(f"media/get failed: {answer.errcode} {answer.errmsg}", answer.errcode)
        content_type = answer.response.headers.get("Content-Type", "application/octet-stream")
        return answer.response.content, content_type.split(";")[0].strip()


# ---------------------------------------------------------------------- log sender


class LogSender:
    """Used when WECOM_SECRET is unset: logs each message and keeps it in `.sent` (tests read it)."""

    delivers = False  # nothing reaches anyone: replies stay passive text, cards are not worth sending

    def __init__(self, media: dict[str, tuple[bytes, str]] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.media = dict(media or {})
        self._lock = threading.Lock()
        self._ids: Callable[[], int] = itertools.count(1).__next__

    def _record(self, kind: str, users: Sequence[str], **fields: Any) -> SendResult:
        to = _recipients(users)
        if not to:
            return SendResult(ok=False, errcode=NETWORK_ERROR, errmsg="no recipients")
        with self._lock:
            msgid = f"log-{self._ids()}"
            self.sent.append({"kind": kind, "users": to, "msgid": msgid, **fields})
        log.info("outbound %s to %s (not sent: no WECOM_SECRET): %s", kind, ",".join(to),
                 fields.get("text") or fields.get("title"))
        return SendResult(ok=True, msgids=[msgid], calls=1)

    def send_text(self, users: Sequence[str], text: str, *, duplicate_check: bool = False,
                  duplicate_interval_s: int = 1800) -> SendResult:
        if not text:
            return SendResult(ok=False, errcode=NETWORK_ERROR, errmsg="empty text")
        return self._record("text", users, text=text, duplicate_check=duplicate_check)

    def send_textcard(self, users: Sequence[str], title: str, description: str, url: str, btntxt: str = "详情",
                      *, duplicate_check: bool = False) -> SendResult:
        return self._record("textcard", users, title=title, description=description, url=url, btntxt=btntxt,
                            duplicate_check=duplicate_check)

    def send_card(self, users: Sequence[str], card: dict[str, Any], *, duplicate_check: bool = False,
                  duplicate_interval_s: int = 1800) -> SendResult:
        result = self._record("template_card", users, card=card, title=card.get("main_title", {}).get("title"),
                              duplicate_check=duplicate_check)
        if result.ok:
            result.response_code = f"log-code-{result.msgids[0]}"
        return result

    def update_card_button(self, users: Sequence[str], response_code: str, replace_name: str) -> SendResult:
        return self._record("update_card", users, response_code=response_code, replace_name=replace_name)

    def get_media(self, media_id: str) -> tuple[bytes, str]:
        if media_id in self.media:
            return self.media[media_id]
        raise MediaError("media not available: WECOM_SECRET is not set", 40007)

    def texts_to(self, user: str) -> list[str]:
        """The texts sent to `user`, oldest first (a test convenience)."""
        return [m["text"] for m in self.sent if m["kind"] == "text" and user in m["users"]]


def build_sender(settings: Settings, redis_client: Any = None) -> Sender:
    """WeComSender when corp id, agent id and secret are set; LogSender otherwise."""
    w = settings.wecom
    if not w.secret:
        log.info("WECOM_SECRET not set: outbound messages are logged, not sent")
        return LogSender()
    from bot.config import ConfigError

    if not w.corp_id:
        raise ConfigError("WECOM_CORP_ID: required when WECOM_SECRET is set")
    if w.agent_id is None:
        raise ConfigError("WECOM_AGENT_ID: required when WECOM_SECRET is set")
    return WeComSender(w.corp_id, w.secret, w.agent_id, api_base=w.api_base, timeout_s=w.http_timeout_s,
                       redis_client=redis_client)
