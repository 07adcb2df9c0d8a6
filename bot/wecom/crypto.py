"""WeCom callback crypto (WXBizMsgCrypt) on top of wechatpy, with the checks wechatpy leaves out.

wechatpy 1.8 compares signatures with `!=`, has no replay window and raises assorted low-level
errors on bad input. Here the signature is compared in constant time, the timestamp must lie
within `window_s` of the clock (both directions), and every refusal is one of four exception
classes (see bot.wecom.errors). AES, PKCS#7 and the signature itself are wechatpy's.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import struct
import threading
import time
from typing import TYPE_CHECKING

from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException

from bot.wecom.errors import BadSignature, MalformedCallback, StaleTimestamp, WrongCorp
from bot.wecom.xmlsafe import ensure_safe_xml, parse_xml, text_field

if TYPE_CHECKING:
    from bot.clock import Clock


class RandomPool:
    """CSPRNG bytes drawn from os.urandom in 4 KiB blocks.

    A getrandom() call releases the GIL; on the event-loop thread that lets a CPU-bound handler
    thread keep the GIL for a whole switch interval (5 ms), which showed up as tail latency. One
    syscall per ~400 messages avoids that. Refilled after a fork so processes never share bytes.
    """

    def __init__(self, block: int = 4096) -> None:
        self._block = block
        self._buf = b""
        self._pos = 0
        self._pid = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._pos + n > len(self._buf) or self._pid != os.getpid():
                self._buf, self._pos, self._pid = os.urandom(max(self._block, n)), 0, os.getpid()
            out = self._buf[self._pos:self._pos + n]
            self._pos += n
            return out


RANDOM = RandomPool()


class SecurePrpCrypto(PrpCrypto):
    """wechatpy's PrpCrypto with a CSPRNG prefix (wechatpy uses `random.sample`) and a strict unpad.

    wechatpy strips whatever the last byte says and then compares the tail with the corp id, so a
    broken PKCS#7 padding surfaced as "wrong corp" (403). Here padding and the length prefix are
    checked first and a broken one is a ValueError (400, malformed); only a well-formed plaintext
    whose receiveid differs is a wrong corp.
    """

    def get_random_string(self) -> str:
        return RANDOM.take(8).hex()

    def _decrypt(self, text, _id, exception=None):  # noqa: ANN001, ANN202 - wechatpy's signature
        raw = base64.b64decode(text if isinstance(text, bytes) else text.encode("ascii"), validate=True)
        if not raw or len(raw) % 16:
            raise ValueError("ciphertext is not a whole number of AES blocks")
        plain = self.cipher.decrypt(raw)
        pad = plain[-1]
        if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad or len(plain) < 20 + pad:
            raise ValueError("bad PKCS#7 padding")
        content = plain[16:-pad]
        (xml_length,) = struct.unpack(">I", content[:4])
        if xml_length > len(content) - 4:
            raise ValueError("length prefix beyond the plaintext")
        xml = content[4:4 + xml_length].decode("utf-8")
        if content[4 + xml_length:].decode("utf-8") != _id:
            raise (exception or InvalidCorpIdException)()
        return xml


class CallbackCrypto:
    """Verify, decrypt and encrypt WeCom callbacks for one app (token, EncodingAESKey, corp id)."""

    def __init__(
        self,
        token: str,
        aes_key: str,
        corp_id: str,
        window_s: int = 300,
        clock: Clock | None = None,
        *,
        prp: PrpCrypto | None = None,
    ) -> None:
        if not token or not corp_id:
            raise ValueError("token and corp_id are required")
        try:
            # wechatpy checks the key length with an assert, which `python -O` would strip.
            key = base64.b64decode(aes_key + "=", validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("EncodingAESKey is not valid base64") from None
        if len(aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 characters (a 32-byte key)")
        self._wechat = WeChatCrypto(token, aes_key, corp_id)  # the reply envelope template lives here
        self._prp = prp or SecurePrpCrypto(key)  # one cipher object, reused (encryptor() is per call)
        self.token = token
        self.corp_id = corp_id
        self.window_s = window_s
        self._clock = clock

    # ------------------------------------------------------------------ checks

    def now(self) -> float:
        if self._clock is None:
            return time.time()
        return self._clock.now().timestamp()

    def check_timestamp(self, timestamp: str | None) -> int:
        """The timestamp as an int, if it lies within the replay window; StaleTimestamp otherwise."""
        if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise MalformedCallback("timestamp missing or not a number")
        ts = int(timestamp)
        if abs(self.now() - ts) > self.window_s:
            raise StaleTimestamp(f"timestamp {ts} outside the {self.window_s}s window")
        return ts

    def check_signature(self, signature: str | None, timestamp: str, nonce: str | None, encrypt: str) -> None:
        """Constant-time comparison of msg_signature with sha1(sort(token, timestamp, nonce, encrypt))."""
        if not signature or nonce is None:
            raise MalformedCallback("msg_signature or nonce missing")
        expected = _get_signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise BadSignature("msg_signature does not match")

    def _decrypt(self, encrypt: str) -> str:
        try:
            return self._prp.decrypt(encrypt, self.corp_id)
        except InvalidCorpIdException:
            raise WrongCorp("receiveid is not this corp") from None
        except (ValueError, TypeError, IndexError, struct.error, binascii.Error, UnicodeDecodeError) as exc:
            raise MalformedCallback(f"ciphertext does not decrypt: {exc.__class__.__name__}") from None

    # ------------------------------------------------------------------ operations

    def verify_url(self, msg_signature: str | None, timestamp: str | None, nonce: str | None,
                   echostr: str | None) -> str:
        """URL verification (GET): the decrypted echostr, to be returned as the bare body."""
        if not echostr:
            raise MalformedCallback("echostr missing")
        ts = timestamp or ""
        self.check_timestamp(ts)
        self.check_signature(msg_signature, ts, nonce, echostr)
        return self._decrypt(echostr)

    def decrypt_message(self, body: bytes, msg_signature: str | None, timestamp: str | None,
                        nonce: str | None) -> bytes:
        """A POSTed envelope -> the decrypted inner XML (UTF-8 bytes), checked for declarations."""
        envelope = parse_xml(body)
        encrypt = text_field(envelope, "Encrypt")
        if not encrypt:
            raise MalformedCallback("<Encrypt> missing")
        ts = timestamp or ""
        self.check_timestamp(ts)
        self.check_signature(msg_signature, ts, nonce, encrypt)
        inner = self._decrypt(encrypt).encode("utf-8")
        ensure_safe_xml(inner)
        return inner

    def encrypt_reply(self, xml: str, nonce: str | None = None, timestamp: int | None = None) -> str:
        """Plain reply XML -> the encrypted, signed envelope WeCom expects as a passive reply."""
        nonce = nonce or str(int.from_bytes(RANDOM.take(4), "big"))
        ts = str(timestamp if timestamp is not None else int(self.now()))
        return self._wechat._encrypt_message(xml, nonce, ts, lambda _key: self._prp)
