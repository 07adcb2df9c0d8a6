"""Drive the whole bot without HTTP: messages go through the real processor and dispatcher."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.messages import IncomingMessage

if TYPE_CHECKING:
    from bot.context import Services

_ids = itertools.count(1)
_ids_lock = threading.Lock()


def _next_id() -> str:
    with _ids_lock:
        return str(9_000_000_000 + next(_ids))


@dataclass
class ChatDriver:
    """A conversation in a few lines of test: `driver.send("u1", "帮助")` returns the bot's reply."""

    services: Services
    sent: list[IncomingMessage] = field(default_factory=list)

    def deliver(self, msg: IncomingMessage) -> str | None:
        """Deliver a message as WeCom would (also used to replay the same message as a retry)."""
        assert self.services.processor is not None
        self.sent.append(msg)
        return self.services.processor.process(msg, budget_s=None)

    def _stamp(self) -> int:
        return int(self.services.clock.now().timestamp())

    def send(self, user: str, text: str, *, msg_id: str | None = None) -> str | None:
        return self.deliver(IncomingMessage(user=user, type="text", content=text, msg_id=msg_id or _next_id(),
                                            create_time=self._stamp()))

    def photo(self, user: str, media_id: str, *, msg_id: str | None = None) -> str | None:
        return self.deliver(IncomingMessage(user=user, type="image", media_id=media_id, msg_id=msg_id or _next_id(),
                                            create_time=self._stamp(), pic_url=f"http://example.invalid/{media_id}"))

    def event(self, user: str, event: str, key: str | None = None) -> str | None:
        return self.deliver(IncomingMessage(user=user, type="event", event=event, event_key=key,
                                            create_time=self._stamp()))

    def other(self, user: str, msg_type: str) -> str | None:
        return self.deliver(IncomingMessage(user=user, type=msg_type, msg_id=_next_id(), create_time=self._stamp()))

    def flush(self) -> None:
        """Wait for the message log's write-behind batch."""
        assert self.services.processor is not None
        self.services.processor.message_log.flush()
