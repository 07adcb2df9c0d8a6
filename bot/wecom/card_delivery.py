"""Sending a Reply: as a template card where the member can see one, else as its text twin.

`wecom.cards` decides: `off` never sends cards; `on` always does (an error stays an error);
`auto` sends cards, and when WeCom rejects one for a member (errcode 40008, e.g. a WeChat-plugin
user) resends it as text at once and remembers the member (table card_fallback_users), so they
get text from then on. A reply whose body is longer than a card holds goes first as a text and
the card carries only the title, fields and buttons, so nothing the handler wrote is lost.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.db.models import CardFallbackUser
from bot.messages import Reply
from bot.wecom.cards import fits_card, has_buttons, render_card, text_twin
from bot.wecom.sender import SendResult

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.wecom.sender import Sender

log = logging.getLogger(__name__)

CARD_REJECTED = frozenset({40008})  # invalid message type: the member's client takes no cards
MODES = ("auto", "on", "off")


@dataclass
class Delivered:
    """How a reply went out: `card` or `text`, and the last send's result."""

    kind: str
    result: SendResult
    fell_back: bool = False


class CardFallbackStore:
    """Members who get text instead of cards; read once into memory, written through to the database."""

    def __init__(self, db: Database | None) -> None:
        self.db = db
        self._users: set[str] | None = None
        self._lock = threading.Lock()

    def _load(self) -> set[str]:
        if self._users is None:
            users: set[str] = set()
            if self.db is not None:
                try:
                    with self.db.session() as session:
                        users = set(session.scalars(select(CardFallbackUser.userid)).all())
                except SQLAlchemyError:
                    log.exception("could not read card_fallback_users; sending cards to everyone for now")
                    return set()
            self._users = users
        return self._users

    def blocked(self, userid: str) -> bool:
        with self._lock:
            return userid in self._load()

    def remember(self, userid: str, errcode: int) -> None:
        with self._lock:
            users = self._load()
            if userid in users:
                return
            users.add(userid)
        if self.db is None:
            return
        try:
            with self.db.session() as session:
                session.add(CardFallbackUser(userid=userid, errcode=errcode, since=datetime.now(timezone.utc)))
        except IntegrityError:
            pass  # another process remembered them first
        except SQLAlchemyError:
            log.exception("could not remember %s in card_fallback_users", userid)


class CardDelivery:
    def __init__(self, sender: Sender, mode: str = "auto", db: Database | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"wecom.cards must be one of {', '.join(MODES)}")
        self.sender, self.mode = sender, mode
        self.fallback = CardFallbackStore(db)

    def wants_card(self, userid: str) -> bool:
        if self.mode == "off" or not getattr(self.sender, "delivers", True):
            return False
        return self.mode == "on" or not self.fallback.blocked(userid)

    def send_text(self, userid: str, reply: str, *, duplicate_check: bool = False,
                  duplicate_interval_s: int = 1800) -> Delivered:
        result = self.sender.send_text([userid], text_twin(reply), duplicate_check=duplicate_check,
                                       duplicate_interval_s=duplicate_interval_s)
        return Delivered("text", result)

    def send(self, userid: str, reply: str, *, task_id: str, duplicate_check: bool = False,
             duplicate_interval_s: int = 1800, as_text: bool = False) -> Delivered:
        """Send `reply` to one member: a card when it has buttons and the member can see cards."""
        if as_text or not has_buttons(reply) or not self.wants_card(userid):
            return self.send_text(userid, reply, duplicate_check=duplicate_check,
                                  duplicate_interval_s=duplicate_interval_s)
        assert isinstance(reply, Reply)
        head: SendResult | None = None
        full = reply
        if not fits_card(reply):
            head = self.sender.send_text([userid], str(reply), duplicate_check=duplicate_check,
                                         duplicate_interval_s=duplicate_interval_s)
            if not head.ok:
                return Delivered("text", head)
            reply = Reply("", kind=reply.kind, title=reply.title, fields=reply.fields, buttons=reply.buttons)
        result = self.sender.send_card([userid], render_card(reply, task_id), duplicate_check=duplicate_check,
                                       duplicate_interval_s=duplicate_interval_s)
        if result.ok or self.mode != "auto" or result.errcode not in CARD_REJECTED:
            return Delivered("card", result)
        log.info("card rejected for %s (errcode %s): sending text from now on", userid, result.errcode)
        self.fallback.remember(userid, result.errcode)
        rest = text_twin(full)
        if head is not None:  # the body already went as text: only what the card would have added
            rest = rest[len(str(full)):].strip()
            if not rest:
                return Delivered("text", head, fell_back=True)
        retry = Delivered("text", self.sender.send_text([userid], rest, duplicate_check=duplicate_check,
                                                        duplicate_interval_s=duplicate_interval_s))
        retry.fell_back = True
        retry.result.calls += result.calls + (head.calls if head else 0)
        return retry
