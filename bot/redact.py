"""Secrets out of every error text, log line and stored row.

`redact(text)` masks what must never be written down: the values registered at start-up (the
WeCom Secret, callback Token, EncodingAESKey, the admin password, a database password), any
`access_token=` / `corpsecret=` style query parameter (requests puts the whole URL into its
exception text, e.g. "…/message/send?access_token=…") and the password of a URL. `install()`
makes every log record pass through it, tracebacks included, whichever handler formats it.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable
from typing import Any

MASK = "***"
_KEYS = r"(access_token|corpsecret|secret|token|aes_?key|encoding_?aes_?key|password|passwd|pwd)"
_QUERY_SECRET = re.compile(r"(?i)(\b" + _KEYS + r"(?:=|%3D))()([^&\s'\",;)}\]]+)")
_JSON_SECRET = re.compile(r"(?i)(\"" + _KEYS + r"\"\s*:\s*\")()([^\"]+)")
_URL_PASSWORD = re.compile(r"(//[^:/@\s]+:)[^@/\s]+@")
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False
MIN_SECRET_LEN = 6  # shorter values would mask ordinary words


def register(values: Iterable[str | None]) -> None:
    """Remember secret values so they are masked wherever they appear."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= MIN_SECRET_LEN)


def redact(text: str) -> str:
    """`text` with secrets masked; cheap when nothing matches."""
    if not text:
        return text
    out = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    out = _JSON_SECRET.sub(lambda m: m.group(1) + MASK, out)
    out = _URL_PASSWORD.sub(r"\1" + MASK + "@", out)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in out:
            out = out.replace(secret, MASK)
    return out


def install() -> None:
    """Wrap the log record factory once: messages and tracebacks are redacted as records are made."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string stays the logging module's problem
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text, record.exc_info = redact(text), None
        return record

    logging.setLogRecordFactory(factory)
