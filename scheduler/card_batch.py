"""Reminder cards: one card per person and task, people in parallel, each person's cards in order.

A card's WeCom task_id is stable per person, task, period and stage, and WeCom refuses a task_id
it has seen (42014). So a card whose send was answered but not recorded (a crash, a lost answer)
is recognised on the retry and counted as sent instead of reaching the person twice. Members who
cannot see cards get the text twin (bot/wecom/card_delivery.py); WeCom's per-member limits are
kept by the sender, and a member over them is `failed` for this pass and tried again by a later one.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from scheduler.delivery import ALL_INVALID, DUPLICATE_INTERVAL_S, TRANSIENT_ERRCODES, Outcome, SendReport

if TYPE_CHECKING:
    from bot.messages import Reply
    from bot.wecom.card_delivery import CardDelivery

log = logging.getLogger(__name__)
TASK_ID_USED = 42014  # WeCom: "taskid has existed": this very card went out before


class CardBatch:
    def __init__(self, cards: CardDelivery, *, max_in_flight: int = 8, max_tries: int = 4, backoff_s: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.cards = cards
        self.max_in_flight = max(1, max_in_flight)
        self.max_tries = max(1, max_tries)
        self.backoff_s = backoff_s
        self.sleep = sleep

    def send(self, items: dict[str, Sequence[tuple[Reply, str]]],
             on_done: Callable[[str, Outcome], None] | None = None) -> SendReport:
        """`items` maps userid -> [(reply, WeCom task_id)]; returns each user's outcome and the calls made.

        `on_done(userid, outcome)` runs as each person's cards finish (their rows are recorded then,
        not after the whole pass, so a crash leaves only the people in flight pending)."""
        report = SendReport({})
        if not items:
            return report
        users = sorted(items)
        with ThreadPoolExecutor(min(self.max_in_flight, len(users)), thread_name_prefix="remind-card") as pool:
            for user, (outcome, calls) in zip(users, pool.map(lambda u: self._send_and_note(u, items[u], on_done),
                                                               users), strict=True):
                report.outcomes[user] = outcome
                report.calls += calls
        return report

    def _send_and_note(self, user: str, cards: Sequence[tuple[Reply, str]],
                       on_done: Callable[[str, Outcome], None] | None) -> tuple[Outcome, int]:
        outcome, calls = self._send_user(user, cards)
        if on_done is not None:
            on_done(user, outcome)
        return outcome, calls

    def _send_user(self, user: str, cards: Sequence[tuple[Reply, str]]) -> tuple[Outcome, int]:
        calls = 0
        for reply, task_id in cards:
            outcome, used = self._send_one(user, reply, task_id)
            calls += used
            if outcome.status != "sent":
                return outcome, calls
        return Outcome("sent"), calls

    def _send_one(self, user: str, reply: Reply, task_id: str) -> tuple[Outcome, int]:
        calls = 0
        for attempt in range(1, self.max_tries + 1):
            out = self.cards.send(user, reply, task_id=task_id, duplicate_check=True,
                                  duplicate_interval_s=DUPLICATE_INTERVAL_S)
            result = out.result
            calls += max(result.calls, 1)
            if result.ok:
                if user in result.invalid_users:
                    return Outcome("invalid", "invaliduser"), calls
                return Outcome("sent"), calls
            if result.errcode == TASK_ID_USED and out.kind == "card":
                log.info("reminder card %s for %s went out before; counted as sent", task_id, user)
                return Outcome("sent"), calls
            if result.errcode == ALL_INVALID:
                return Outcome("invalid", f"{ALL_INVALID} {result.errmsg}"[:200]), calls
            if result.errcode not in TRANSIENT_ERRCODES or attempt == self.max_tries:
                break
            self.sleep(self.backoff_s * 2 ** (attempt - 1) * (1 + random.random() / 2))
        error = f"{result.errcode} {result.errmsg}"[:200]
        log.error("reminder card to %s failed: %s", user, error)
        return Outcome("failed", error), calls
