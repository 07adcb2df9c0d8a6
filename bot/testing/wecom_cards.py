"""The WeCom double's card and delivery rules (used by bot/testing/wecom_double.py's handler).

What WeCom documents and the double enforces:
* `template_card` sends: a known card_type; for the interactive types a task_id of at most 128
  bytes of [0-9A-Za-z_-@] never used before in the app (42014 otherwise); button_interaction
  needs main_title.title and 1–6 buttons, each with text and (for callback buttons) a key of at most
  1024 bytes, unique within the card; at most 6 horizontal_content_list rows, each with a keyname.
  Any other violation answers 40058 (invalid request parameter).
* a member flagged in `card_blind` (a WeChat-plugin user) cannot take a card: a card addressed to
  one answers 40008 (invalid message type) and reaches nobody. Real WeCom shows such users
  nothing; answering an errcode is the double's stand-in so the fallback path can be driven.
* every successful card send returns a fresh one-use `response_code`; a click callback carries
  another (`issue_code`). `message/update_template_card` consumes one, for 72 hours at most;
  a used, unknown or stale code answers 40058.
* `enable_duplicate_check`: the same content to the same member within duplicate_check_interval
  (default 1800 s, at most 4 hours) is accepted and not delivered again.
* per member: at most 30 messages a minute and 1,000 an hour; the excess is accepted (errcode 0)
  and silently dropped, as WeCom does. Dropped messages are listed in `double.dropped`.
"""

from __future__ import annotations

import collections
import json
import re
import secrets
from typing import Any

WeComDouble = Any  # bot.testing.wecom_double.WeComDouble, which imports this module

CARD_TYPES = {"text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction"}
INTERACTIVE = {"button_interaction", "vote_interaction", "multiple_interaction"}
TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
CODE_TTL_S = 72 * 3600
BAD = 40058


def check_card(d: WeComDouble, card: Any, users: list[str]) -> int | None:
    """The errcode a template_card send answers, or None when it is valid."""
    if not isinstance(card, dict) or card.get("card_type") not in CARD_TYPES:
        return BAD
    if any(u in d.card_blind for u in users):
        return 40008
    kind = card["card_type"]
    if kind in INTERACTIVE or card.get("action_menu"):
        task_id = card.get("task_id")
        if not isinstance(task_id, str) or not TASK_ID.match(task_id) or len(task_id.encode()) > 128:
            return 42014
        with d._lock:
            if task_id in d._task_ids:
                return 42014
    rows = card.get("horizontal_content_list") or []
    if not isinstance(rows, list) or len(rows) > 6 or any(not isinstance(r, dict) or not r.get("keyname")
                                                          for r in rows):
        return BAD
    if kind == "button_interaction":
        title = (card.get("main_title") or {}).get("title")
        if not isinstance(title, str) or not title.strip():
            return BAD
        buttons = card.get("button_list")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
            return BAD
        keys: set[str] = set()
        for b in buttons:
            if not isinstance(b, dict) or not str(b.get("text") or "").strip():
                return BAD
            if int(b.get("type") or 0) == 0:
                key = b.get("key")
                if not isinstance(key, str) or not key or len(key.encode()) > 1024 or key in keys:
                    return BAD
                keys.add(key)
            elif not b.get("url"):
                return BAD
    elif kind == "text_notice" and not (card.get("main_title") or {}).get("title") and not card.get("sub_title_text"):
        return BAD
    return None


def accept(d: WeComDouble, payload: dict[str, Any]) -> int | None:
    """Checks common to every message/send: the duplicate-check interval is at most 4 hours."""
    if payload.get("enable_duplicate_check"):
        interval = payload.get("duplicate_check_interval", 1800)
        if not isinstance(interval, int) or not 0 < interval <= 4 * 3600:
            return BAD
    return None


def _content_key(payload: dict[str, Any]) -> str:
    skip = {"touser", "toparty", "totag", "agentid", "enable_duplicate_check", "duplicate_check_interval"}
    return json.dumps({k: v for k, v in payload.items() if k not in skip}, ensure_ascii=False, sort_keys=True)


def deliver(d: WeComDouble, payload: dict[str, Any], users: list[str]) -> None:
    """Hand the message to each member, unless the duplicate check or the per-member limits drop it."""
    now = d.clock()
    content = _content_key(payload)
    interval = int(payload.get("duplicate_check_interval", 1800)) if payload.get("enable_duplicate_check") else 0
    with d._lock:
        for user in users:
            if interval:
                seen = d._dup_seen.get((user, content))
                if seen is not None and now - seen < interval:
                    d.dropped.append((user, "duplicate"))
                    continue
            recent = d._recent.setdefault(user, collections.deque())
            while recent and recent[0] <= now - 3600:
                recent.popleft()
            in_minute = sum(1 for t in recent if t > now - 60)
            if in_minute >= d.per_minute or len(recent) >= d.per_hour:
                d.dropped.append((user, "rate"))
                continue
            recent.append(now)
            if interval:
                d._dup_seen[(user, content)] = now
            d._delivered.append((user, payload))


def issue_code(d: WeComDouble, task_id: str, users: list[str]) -> str:
    code = "rc-" + secrets.token_hex(12)
    with d._lock:
        d._task_ids.add(task_id)
        d._codes[code] = {"task_id": task_id, "users": set(users), "at": d.clock(), "used": False}
    return code


def update_card(d: WeComDouble, payload: dict[str, Any]) -> tuple[int | None, str]:
    """(errcode or None, invaliduser) for message/update_template_card; a good call uses its code up."""
    code = payload.get("response_code")
    userids = payload.get("userids") or []
    button = payload.get("button")
    if not isinstance(userids, list) or len(userids) > 1000:
        return BAD, ""
    if button is not None:
        if not isinstance(button, dict) or not str(button.get("replace_name") or "").strip():
            return BAD, ""
    elif not isinstance(payload.get("template_card"), dict):
        return BAD, ""
    with d._lock:
        entry = d._codes.get(code) if isinstance(code, str) else None
        if entry is None or entry["used"] or d.clock() - entry["at"] > CODE_TTL_S:
            return BAD, ""
        entry["used"] = True
        entry.setdefault("updates", []).append({"userids": list(userids), "button": button,
                                                "template_card": payload.get("template_card")})
    invalid = [u for u in userids if u not in entry["users"]]
    return None, "|".join(invalid)


def card_updates(d: WeComDouble, task_id: str) -> list[dict[str, Any]]:
    """The successful updates of the card with `task_id`, oldest first."""
    with d._lock:
        return [u for e in d._codes.values() if e["task_id"] == task_id for u in e.get("updates", [])]
