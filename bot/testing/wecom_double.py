"""A local HTTP double of the WeCom server API, speaking its wire format.

Endpoints: GET /cgi-bin/gettoken, POST /cgi-bin/message/send, POST /cgi-bin/media/upload,
GET /cgi-bin/media/get, GET /cgi-bin/agent/get, POST /cgi-bin/message/update_template_card (see
bot/testing/wecom_cards.py for the card rules: template_card validation, one-use response codes,
the duplicate check, the per-member limits that drop the excess silently, and members whose
client rejects cards), GET /cgi-bin/department/list and GET /cgi-bin/user/list (the address book
inside the app's visibility, see `Contacts`). Every call is recorded; errors (any errcode, for the next N calls, per
call, or always), latency, hangs, dropped connections, expired tokens and invalid users can be
injected; the server's outbound IP can be left out of the trusted list (60020) and its clock
skewed (the Date header). It runs on 127.0.0.1 on a free port in a background thread and serves requests
concurrently (a thread per connection). `CallbackBuilder` plays the other direction: WeCom's
encrypted callbacks to the bot.

    with WeComDouble() as api:
        settings = build_settings({"wecom": api.wecom_settings()})
        api.fail_next(1, 40014)
        ...
        assert api.calls_to("message/send")[-1].json["touser"] == "u1"
"""

from __future__ import annotations

import collections
import email.parser
import email.policy
import email.utils
import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ERRMSG = {
    0: "ok",
    40001: "invalid credential",
    40004: "invalid media type",
    40007: "invalid media_id",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40031: "invalid userid list",
    40056: "invalid agentid",
    41001: "access_token missing",
    42001: "access_token expired",
    44004: "empty content",
    40008: "invalid message type",
    40058: "invalid Request Parameter",
    42014: "taskid has existed or empty or exceed max len",
    45002: "content size out of limit",
    45009: "api freq out of limit",
    47001: "data format error",
    60011: "no privilege to access/modify contact/party/agent",
    60020: "not allow to access from your ip",
    60123: "invalid party id",
    81013: "user & party & tag all invalid",
    301002: "not allow operate another agent with this accesstoken",
}


def errmsg(code: int) -> str:
    """WeCom-style errmsg, with the hint suffix the real server adds to errors."""
    base = ERRMSG.get(code, "error")
    if code == 0:
        return base
    return f"{base}, hint: [{int(time.time())}-{secrets.token_hex(4)}], more info at " \
           f"https://open.work.weixin.qq.com/devtool/query?e={code}"


@dataclass(frozen=True)
class RecordedCall:
    """One request the double answered (or dropped)."""

    method: str
    endpoint: str  # e.g. "message/send", "gettoken"
    query: dict[str, str]
    body: bytes
    json: Any
    status: int
    errcode: int | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Media:
    content: bytes
    content_type: str
    filename: str


class _Failure:
    def __init__(self, errcode: int, endpoint: str | None, remaining: int | None) -> None:
        self.errcode, self.endpoint, self.remaining = errcode, endpoint, remaining

    def matches(self, endpoint: str) -> bool:
        # endpoint None = every API call except gettoken, so token errors can be injected on sends.
        return endpoint == self.endpoint if self.endpoint else endpoint != "gettoken"


class _Server(ThreadingHTTPServer):
    """Regression (connection reset under a burst of 40 concurrent calls): socketserver's default
    listen backlog is 5; a burst of clients overflowed it. WeCom itself accepts any burst."""

    request_queue_size = 512
    daemon_threads = True


class WeComDouble:
    """The double's state and controls; the HTTP handler below reads them under one lock."""

    def __init__(self, corp_id: str = "wwdouble0000000001", secret: str = "double-secret", agent_id: int = 1000002,
                 *, token_expires_in: int = 7200, check_credentials: bool = True) -> None:
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.token_expires_in = token_expires_in
        self.check_credentials = check_credentials
        self.invalid_users: set[str] = set()
        self.media: dict[str, _Media] = {}
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._tokens: set[str] = set()
        self._expired: set[str] = set()
        self._failures: list[_Failure] = []
        self._latency: dict[str | None, float] = {}
        self._hangs: list[float] = []
        self._drops = 0
        self._refused_ip: str | None = None
        self.clock_offset_s = 0.0
        self.agent_name = "统战助手"
        self._ids = itertools.count(1)
        self.contacts = Contacts()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Cards and delivery (bot/testing/wecom_cards.py): what members really received.
        self.clock: Any = time.time  # the double's wall clock for limits, duplicate checks and code expiry
        self.card_blind: set[str] = set()  # members whose client cannot show cards (WeChat plugin)
        self.per_minute, self.per_hour = 30, 1000
        self._task_ids: set[str] = set()
        self._codes: dict[str, Any] = {}
        self._recent: dict[str, collections.deque[float]] = {}
        self._dup_seen: dict[tuple[str, str], float] = {}
        self._delivered: list[tuple[str, dict[str, Any]]] = []
        self._post_delay: dict[str, float] = {}
        self.dropped: list[tuple[str, str]] = []  # (member, "rate" | "duplicate"): accepted, never delivered

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> WeComDouble:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.double = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="wecom-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WeComDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "double not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The WECOM_API_BASE to point a client at (ends with /cgi-bin/)."""
        return f"http://127.0.0.1:{self.port}/cgi-bin/"

    def wecom_settings(self) -> dict[str, Any]:
        """The `wecom:` settings section that points the bot at this double."""
        return {"api_base": self.base_url, "corp_id": self.corp_id, "secret": self.secret, "agent_id": self.agent_id}

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, endpoint: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.endpoint == endpoint]

    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of message/send calls that succeeded (errcode 0), in arrival order."""
        return [c.json for c in self.calls_to("message/send") if c.errcode == 0]

    def texts_to(self, user: str) -> list[str]:
        """Text contents successfully sent to `user`, in arrival order."""
        return [m["text"]["content"] for m in self.sent_messages()
                if m.get("msgtype") == "text" and user in str(m.get("touser", "")).split("|")]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def delivered(self, user: str) -> list[dict[str, Any]]:
        """Messages `user` really received: after the duplicate check and the per-member limits."""
        with self._lock:
            return [m for u, m in self._delivered if u == user]

    def delivered_texts(self, user: str) -> list[str]:
        return [m["text"]["content"] for m in self.delivered(user) if m.get("msgtype") == "text"]

    def cards_to(self, user: str) -> list[dict[str, Any]]:
        """The template_card objects `user` received, in order."""
        return [m["template_card"] for m in self.delivered(user) if m.get("msgtype") == "template_card"]

    def delivered_count(self) -> int:
        with self._lock:
            return len(self._delivered)

    def issue_response_code(self, task_id: str, users: list[str]) -> str:
        """A fresh one-use code, as WeCom puts in a template_card_event callback (CallbackBuilder.card_event)."""
        from bot.testing.wecom_cards import issue_code

        return issue_code(self, task_id, users)

    def advance(self, seconds: float) -> None:
        """Move the double's clock on (response codes expire after 72 hours; limits slide)."""
        base = self.clock
        self.clock = lambda: base() + seconds

    # ------------------------------------------------------------------ injection

    def fail_next(self, n: int, errcode: int, endpoint: str | None = None) -> None:
        """The next `n` calls (to `endpoint`, default: any but gettoken) answer `errcode`."""
        with self._lock:
            self._failures.append(_Failure(errcode, endpoint, n))

    def fail_sequence(self, errcodes: list[int], endpoint: str | None = None) -> None:
        """Per-call script: the next calls answer these errcodes in turn (0 = answer normally)."""
        with self._lock:
            for code in errcodes:
                self._failures.append(_Failure(code, endpoint, 1))

    def fail_always(self, errcode: int, endpoint: str | None = None) -> None:
        with self._lock:
            self._failures.append(_Failure(errcode, endpoint, None))

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()
            self._hangs.clear()
            self._drops = 0

    def set_latency(self, seconds: float, endpoint: str | None = None) -> None:
        """Delay every answer (to `endpoint`, or all) by `seconds`."""
        with self._lock:
            self._latency[endpoint] = seconds

    def hang_next(self, n: int, seconds: float) -> None:
        """The next `n` calls wait `seconds` before answering (to trigger client timeouts)."""
        with self._lock:
            self._hangs.extend([seconds] * n)

    def stall_after_delivery(self, seconds: float, endpoint: str = "message/send") -> None:
        """Calls to `endpoint` are delivered (recorded) at once but answered `seconds` later: a
        client killed meanwhile never learns that its message went out."""
        with self._lock:
            self._post_delay[endpoint] = seconds

    def drop_next(self, n: int) -> None:
        """The next `n` calls get the connection closed with no answer."""
        with self._lock:
            self._drops += n

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001 (access_token expired)."""
        with self._lock:
            self._expired |= self._tokens
            self._tokens.clear()

    def refuse_ip(self, from_ip: str | None = "203.0.113.7") -> None:
        """Every API call but gettoken answers 60020, as WeCom does when the caller's IP is not in
        the app's 企业可信IP list (the errmsg names `from_ip`); None trusts the caller again."""
        with self._lock:
            self._refused_ip = from_ip

    def skew_clock(self, seconds: float) -> None:
        """The double's clock (its Date header) runs `seconds` ahead of ours (negative: behind)."""
        with self._lock:
            self.clock_offset_s = float(seconds)

    def add_media(self, media_id: str, content: bytes, content_type: str = "image/jpeg",
                  filename: str | None = None) -> None:
        ext = content_type.split("/")[-1]
        with self._lock:
            self.media[media_id] = _Media(content, content_type, filename or f"{media_id}.{ext}")

    # ------------------------------------------------------------------ used by the handler

    def _take_controls(self, endpoint: str) -> tuple[bool, float, int | None]:
        """(drop?, delay seconds, injected errcode) for the call now arriving."""
        with self._lock:
            if self._drops > 0:
                self._drops -= 1
                return True, 0.0, None
            delay = self._latency.get(endpoint, self._latency.get(None, 0.0))
            if self._hangs:
                delay += self._hangs.pop(0)
            injected = None
            for failure in self._failures:
                if failure.matches(endpoint):
                    injected = failure.errcode or None
                    if failure.remaining is not None:
                        failure.remaining -= 1
                        if failure.remaining <= 0:
                            self._failures.remove(failure)
                    break
            return False, delay, injected

    def _record(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def _issue_token(self) -> str:
        token = f"tok-{next(self._ids)}-{secrets.token_hex(6)}"
        with self._lock:
            self._tokens.add(token)
        return token

    def _token_error(self, token: str | None) -> int:
        with self._lock:
            if not token:
                return 41001
            if token in self._tokens:
                return 0
            return 42001 if token in self._expired else 40014

    def _ip_refused(self) -> str | None:
        with self._lock:
            return self._refused_ip

    def _next_id(self) -> str:
        return f"msgid-{next(self._ids)}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    server_version = "WeComDouble/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: calls are recorded instead

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, from the double's (possibly skewed) clock."""
        now = time.time() if timestamp is None else timestamp
        return email.utils.formatdate(now + self.double.clock_offset_s, usegmt=True)

    @property
    def double(self) -> WeComDouble:
        return self.server.double  # type: ignore[attr-defined]

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._serve("POST")

    # -------------------------------------------------------------- plumbing

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        endpoint = url.path.removeprefix("/cgi-bin/").strip("/")
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload: Any = None
        if body and "json" in (self.headers.get("Content-Type") or "json"):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        drop, delay, injected = self.double._take_controls(endpoint)
        if delay:
            time.sleep(delay)
        if drop:
            self.double._record(RecordedCall(method, endpoint, query, body, payload, 0, None))
            self.close_connection = True
            return
        status, headers, content, code = self._answer(method, endpoint, query, body, payload, injected)
        self.double._record(RecordedCall(method, endpoint, query, body, payload, status, code))
        with self.double._lock:
            stall = self.double._post_delay.get(endpoint, 0.0)
        if stall:
            time.sleep(stall)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout test)

    @staticmethod
    def _json(data: dict[str, Any], status: int = 200) -> tuple[int, dict[str, str], bytes, int | None]:
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return status, {"Content-Type": "application/json; charset=UTF-8"}, raw, data.get("errcode")

    def _error(self, code: int, **extra: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        return self._json({"errcode": code, "errmsg": errmsg(code), **extra})

    def _answer(self, method: str, endpoint: str, query: dict[str, str], body: bytes, payload: Any,
                injected: int | None) -> tuple[int, dict[str, str], bytes, int | None]:
        routes = {
            ("GET", "gettoken"): self._gettoken,
            ("POST", "message/send"): self._message_send,
            ("POST", "media/upload"): self._media_upload,
            ("GET", "media/get"): self._media_get,
            ("POST", "message/update_template_card"): self._update_template_card,
            ("GET", "agent/get"): self._agent_get,
            ("GET", "department/list"): self._department_list,
            ("GET", "user/list"): self._user_list,
        }
        handler = routes.get((method, endpoint))
        if handler is None:
            return self._json({"errcode": 404, "errmsg": f"no such endpoint {method} {endpoint}"}, 404)
        if injected is not None:
            return self._error(injected)
        refused_ip = self.double._ip_refused() if endpoint != "gettoken" else None
        if refused_ip:
            return self._json({"errcode": 60020, "errmsg": f"not allow to access from your ip, hint: "
                               f"[{int(time.time())}-{secrets.token_hex(4)}], from ip: {refused_ip}, more info at "
                               "https://open.work.weixin.qq.com/devtool/query?e=60020"})
        if endpoint != "gettoken":
            token_error = self.double._token_error(query.get("access_token"))
            if token_error:
                return self._error(token_error)
        return handler(query, body, payload)

    # -------------------------------------------------------------- endpoints

    def _gettoken(self, query: dict[str, str], body: bytes, payload: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        d = self.double
        if d.check_credentials:
            if query.get("corpid") != d.corp_id:
                return self._error(40013)
            if query.get("corpsecret") != d.secret:
                return self._error(40001)
        return self._json({"errcode": 0, "errmsg": "ok", "access_token": d._issue_token(),
                           "expires_in": d.token_expires_in})

    def _message_send(self, query: dict[str, str], body: bytes, payload: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        d = self.double
        if not isinstance(payload, dict):
            return self._error(47001)
        if str(payload.get("agentid")) != str(d.agent_id):
            return self._error(40056)
        users = [u for u in str(payload.get("touser") or "").split("|") if u]
        if len(users) > 1000:
            return self._error(40031)
        msgtype = payload.get("msgtype")
        if msgtype == "text":
            content = (payload.get("text") or {}).get("content") or ""
            if not content:
                return self._error(44004)
            if len(content.encode("utf-8")) > 2048:
                return self._error(45002)
        elif msgtype == "textcard":
            card = payload.get("textcard") or {}
            if not card.get("title") or not card.get("description") or not card.get("url"):
                return self._error(44004)
            if len(card["title"].encode()) > 128 or len(card["description"].encode()) > 512:
                return self._error(45002)
        elif msgtype == "template_card":
            from bot.testing.wecom_cards import check_card

            problem = check_card(d, payload.get("template_card"), users)
            if problem:
                return self._error(problem)
        elif not msgtype or msgtype not in payload:
            return self._error(47001)
        invalid = [u for u in users if u in d.invalid_users]
        if users and len(invalid) == len(users):
            return self._error(81013, invaliduser="|".join(invalid))
        from bot.testing.wecom_cards import accept, deliver

        problem = accept(d, payload)
        if problem:
            return self._error(problem)
        deliver(d, payload, [u for u in users if u not in invalid])
        code = ""
        if msgtype == "template_card":
            from bot.testing.wecom_cards import issue_code

            code = issue_code(d, payload["template_card"]["task_id"], users)
        return self._json({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid), "invalidparty": "",
                           "invalidtag": "", "unlicenseduser": "", "msgid": d._next_id(), "response_code": code})

    def _update_template_card(self, query: dict[str, str], body: bytes,
                              payload: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        from bot.testing.wecom_cards import update_card

        if not isinstance(payload, dict):
            return self._error(47001)
        if str(payload.get("agentid")) != str(self.double.agent_id):
            return self._error(40056)
        code, invalid = update_card(self.double, payload)
        if code:
            return self._error(code)
        return self._json({"errcode": 0, "errmsg": "ok", "invaliduser": invalid})

    def _agent_get(self, query: dict[str, str], body: bytes, payload: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        d = self.double
        agentid = query.get("agentid", "")
        if not agentid.isdigit():
            return self._error(40056)
        if int(agentid) != d.agent_id:
            return self._error(301002)  # the token belongs to another app's secret
        return self._json({"errcode": 0, "errmsg": "ok", "agentid": d.agent_id, "name": d.agent_name,
                           "square_logo_url": "", "description": "", "close": 0, "redirect_domain": "",
                           "report_location_flag": 0, "isreportenter": 0, "home_url": "",
                           "allow_userinfos": {"user": []}, "allow_partys": {"partyid": [1]},
                           "allow_tags": {"tagid": []}})

    def _media_upload(self, query: dict[str, str], body: bytes, payload: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        media_type = query.get("type", "")
        if media_type not in {"image", "voice", "video", "file"}:
            return self._error(40004)
        ctype = self.headers.get("Content-Type") or ""
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body
        )
        for part in message.iter_parts() if message.is_multipart() else []:
            if part.get_param("name", header="content-disposition") == "media":
                content = part.get_payload(decode=True) or b""
                media_id = f"media-{next(self.double._ids)}-{secrets.token_hex(4)}"
                self.double.add_media(media_id, content, part.get_content_type(),
                                      part.get_filename() or f"{media_id}.bin")
                return self._json({"errcode": 0, "errmsg": "", "type": media_type, "media_id": media_id,
                                   "created_at": str(int(time.time()))})
        return self._error(47001)

    def _media_get(self, query: dict[str, str], body: bytes, payload: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        media = self.double.media.get(query.get("media_id", ""))
        if media is None:
            return self._error(40007)
        headers = {
            "Content-Type": media.content_type,
            "Content-Disposition": f'attachment; filename="{media.filename}"',
            "Cache-Control": "no-cache, must-revalidate",
        }
        return 200, headers, media.content, 0

    # -------------------------------------------------------------- contacts (address book)

    def _department_list(self, query: dict[str, str], body: bytes,
                         payload: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        """All visible departments, or a visible department and its sub-departments (`id`)."""
        book = self.double.contacts
        raw = query.get("id")
        if raw is not None and not raw.isdigit():
            return self._error(60123)
        found = book.department_tree(int(raw) if raw else None)
        if found is None:
            return self._error(60011)
        return self._json({"errcode": 0, "errmsg": "ok", "department": found})

    def _user_list(self, query: dict[str, str], body: bytes,
                   payload: Any) -> tuple[int, dict[str, str], bytes, int | None]:
        """The members directly in one department (WeCom dropped `fetch_child` for apps in 2022)."""
        raw = query.get("department_id", "")
        if not raw.isdigit():
            return self._error(60123)
        users = self.double.contacts.members_of(int(raw))
        if users is None:
            return self._error(60011)
        return self._json({"errcode": 0, "errmsg": "ok", "userlist": users})


class Contacts:
    """The double's address book: departments, members, and what the app may see.

    `visible` holds the department ids in the app's visibility (with their sub-departments); None
    means everything. Outside it department/list and user/list answer 60011, as WeCom does.
    """

    def __init__(self) -> None:
        self.departments: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "总部", "parentid": 0, "order": 1}}
        self.members: list[dict[str, Any]] = []
        self.visible: set[int] | None = None

    def add_department(self, dept_id: int, name: str, parentid: int = 1) -> None:
        self.departments[dept_id] = {"id": dept_id, "name": name, "parentid": parentid,
                                     "order": 100000000 - dept_id, "department_leader": []}

    def add_member(self, userid: str, name: str, departments: list[int], *, status: int = 1) -> None:
        self.members.append({"userid": userid, "name": name, "department": list(departments),
                             "main_department": departments[0] if departments else 1, "status": status,
                             "order": [0] * len(departments), "is_leader_in_dept": [0] * len(departments)})

    def _descendants(self, root: int) -> list[int]:
        out, todo = [], [root]
        while todo:
            current = todo.pop()
            out.append(current)
            todo.extend(d for d, v in self.departments.items() if v["parentid"] == current)
        return out

    def _visible_ids(self) -> set[int]:
        if self.visible is None:
            return set(self.departments)
        return {d for root in self.visible for d in self._descendants(root) if d in self.departments}

    def department_tree(self, root: int | None) -> list[dict[str, Any]] | None:
        seen = self._visible_ids()
        if root is None:
            ids = sorted(seen)
        elif root not in seen:
            return None
        else:
            ids = sorted(self._descendants(root))
        return [dict(self.departments[d]) for d in ids if d in seen]

    def members_of(self, dept_id: int) -> list[dict[str, Any]] | None:
        if dept_id not in self._visible_ids():
            return None
        return [dict(m) for m in self.members if dept_id in m["department"]]


class CallbackBuilder:
    """Builds callbacks the way WeCom sends them: encrypted body + signed query, for tests and benches."""

    def __init__(self, token: str, aes_key: str, corp_id: str, agent_id: str = "1000002") -> None:
        from bot.wecom.crypto import CallbackCrypto

        self.crypto = CallbackCrypto(token, aes_key, corp_id, 10**10)  # signs any timestamp
        self.token, self.corp_id, self.agent_id = token, corp_id, agent_id

    def envelope(self, inner_xml: str, timestamp: int, nonce: str | None = None) -> tuple[dict[str, str], bytes]:
        """(query params, body) for a POST carrying `inner_xml`."""
        from wechatpy.crypto import _get_signature

        nonce = nonce or secrets.token_hex(5)
        encrypt = self.crypto._prp.encrypt(inner_xml, self.corp_id).decode()
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]>"
                f"</Encrypt><AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>").encode()
        query = {"msg_signature": _get_signature(self.token, str(timestamp), nonce, encrypt),
                 "timestamp": str(timestamp), "nonce": nonce}
        return query, body

    def text(self, user: str, content: str, msg_id: str, timestamp: int) -> tuple[dict[str, str], bytes]:
        from bot.wecom.render import cdata

        inner = (f"<xml><ToUserName>{cdata(self.corp_id)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
                 f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                 f"<Content>{cdata(content)}</Content><MsgId>{msg_id}</MsgId><AgentID>{self.agent_id}</AgentID></xml>")
        return self.envelope(inner, timestamp)

    def event(self, user: str, event: str, timestamp: int, event_key: str = "") -> tuple[dict[str, str], bytes]:
        from bot.wecom.render import cdata

        inner = (f"<xml><ToUserName>{cdata(self.corp_id)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
                 f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                 f"<Event>{cdata(event)}</Event><EventKey>{cdata(event_key)}</EventKey>"
                 f"<AgentID>{self.agent_id}</AgentID></xml>")
        return self.envelope(inner, timestamp)

    def card_event(self, user: str, timestamp: int, *, event_key: str, task_id: str, response_code: str,
                   card_type: str = "button_interaction",
                   selected: list[tuple[str, list[str]]] | None = None) -> tuple[dict[str, str], bytes]:
        """A template_card_event callback: a member tapped a card's button (WeCom's XML, encrypted)."""
        from bot.wecom.render import cdata

        items = ""
        if selected:
            parts = []
            for question, options in selected:
                ids = "".join(f"<OptionId>{cdata(o)}</OptionId>" for o in options)
                parts.append(f"<SelectedItem><QuestionKey>{cdata(question)}</QuestionKey>"
                             f"<OptionIds>{ids}</OptionIds></SelectedItem>")
            items = "<SelectedItems>" + "".join(parts) + "</SelectedItems>"
        inner = (f"<xml><ToUserName>{cdata(self.corp_id)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
                 f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                 f"<Event><![CDATA[template_card_event]]></Event><EventKey>{cdata(event_key)}</EventKey>"
                 f"<TaskId>{cdata(task_id)}</TaskId><CardType>{cdata(card_type)}</CardType>"
                 f"<ResponseCode>{cdata(response_code)}</ResponseCode><AgentID>{self.agent_id}</AgentID>"
                 f"{items}</xml>")
        return self.envelope(inner, timestamp)

    def verify_url(self, echo: str, timestamp: int) -> dict[str, str]:
        """Query params of a URL-verification GET whose decrypted echostr is `echo`."""
        from wechatpy.crypto import _get_signature

        nonce = secrets.token_hex(5)
        echostr = self.crypto._prp.encrypt(echo, self.corp_id).decode()
        return {"msg_signature": _get_signature(self.token, str(timestamp), nonce, echostr),
                "timestamp": str(timestamp), "nonce": nonce, "echostr": echostr}


def wecom_api_fixture() -> Iterator[WeComDouble]:
    """Body of the `wecom_api` pytest fixture: a started double, stopped afterwards."""
    with WeComDouble() as api:
        yield api
