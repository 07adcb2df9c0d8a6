"""Why a callback was refused. The web layer maps each class to one HTTP status."""

from __future__ import annotations


class CallbackError(Exception):
    """A callback that must be refused without doing any work."""


class MalformedCallback(CallbackError):
    """Missing parameters, broken XML, an entity/DOCTYPE declaration, or undecryptable data (400)."""


class BadSignature(CallbackError):
    """msg_signature does not match sha1(sort(token, timestamp, nonce, encrypt)) (403)."""


class StaleTimestamp(CallbackError):
    """The timestamp lies outside the replay window, in the past or the future (403)."""


class WrongCorp(CallbackError):
    """The receiveid inside the ciphertext is not our corp id (403)."""
