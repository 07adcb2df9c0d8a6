"""The inbound message log: one row per distinct message (unique msg_key), written behind the reply."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from bot.db.models import InboundMessage
from bot.write_behind import WriteBehind

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.messages import IncomingMessage


class MessageLog(WriteBehind):
    def __init__(self, db: Database, *, flush_interval_s: float = 0.05, max_batch: int = 500) -> None:
        super().__init__(db, InboundMessage, unique="msg_key", flush_interval_s=flush_interval_s,
                         max_batch=max_batch, name="message-log")

    def record(self, msg: IncomingMessage, reply: str | None) -> None:
        self.add({
            "msg_key": msg.dedupe_key,
            "userid": msg.user,
            "msg_type": msg.type if msg.type != "event" else f"event:{msg.event or ''}"[:16],
            "content": (msg.content or msg.event_key or msg.media_id or "")[:4000],
            "reply": reply,
            "received_at": datetime.now(timezone.utc),
        })
