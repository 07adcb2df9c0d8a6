"""Card clicks and the reminder card's commands (怎么报送 N, 明天再提醒 N).

A tap on a card button arrives as a `template_card_event`. Its EventKey carries the command the
button stands for (bot/wecom/cards.py), which is re-dispatched exactly as if the user had typed it,
so a tap and its typed text twin always do the same thing. The processor's dedupe makes this run
once per event (WeCom retries events too). Then the card is greyed once with the button's done
label (撤回 -> 已撤回) through message/update_template_card with the event's one-use response code,
and the command's reply goes out through the send API (a passive reply to a card event can only
update the card). A code that is used up or older than 72 hours leaves the card as it is, and the
reply goes out as text with a note.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot import texts as core_texts
from bot.dispatcher import Router
from bot.filters import event, regex
from bot.wecom import texts as wecom_texts
from bot.wecom.cards import parse_click, task_id_for, text_twin
from scheduler import texts
from scheduler.planner import ReminderPlanner
from scheduler.render import fmt_date
from scheduler.snooze import snooze
from tracking.progress import current_period, done_counts

if TYPE_CHECKING:
    from datetime import datetime

    from bot.context import HandlerContext
    from bot.messages import IncomingMessage

router = Router("cards")


@router.route(event("template_card_event"))
def card_click(msg: IncomingMessage, ctx: HandlerContext) -> None:
    click = parse_click(msg.event_key)
    if click is None:
        reply: str | None = core_texts.MENU_UNKNOWN
    else:
        as_text = replace(msg, type="text", content=click.command, event=None, event_key=None, task_id=None,
                          response_code=None, card_type=None, selected=())
        assert ctx.services.dispatcher is not None
        reply = ctx.services.dispatcher.dispatch(as_text, ctx)
    stale = False
    if click is not None and click.done_label and msg.response_code:
        stale = not ctx.sender.update_card_button([msg.user], msg.response_code, click.done_label).ok
    if reply:
        if stale:
            reply = wecom_texts.CARD_EXPIRED.format(reply=text_twin(reply))
        ctx.services.cards.send(msg.user, reply, task_id=task_id_for("re", msg.user, msg.dedupe_key), as_text=stale)
    return None  # the card event's passive answer stays empty


def _when(moment: datetime, ctx: HandlerContext) -> str:
    local = moment.astimezone(ctx.settings.tz)
    return texts.WHEN_FMT.format(m=local.month, d=local.day, hh=local.hour, mm=local.minute)


@router.route(regex(r"明天再提醒\s*(?P<task>\d{1,9})"))
def snooze_command(msg: IncomingMessage, ctx: HandlerContext, task: str) -> str:
    result = snooze(ctx.db, ReminderPlanner(ctx.settings), ctx.user, int(task), ctx.clock.now())
    due = fmt_date(result.due) if result.due else ""
    if result.status == "snoozed" and result.until is not None:
        return texts.SNOOZED.format(when=_when(result.until, ctx), title=result.title, due=due)
    if result.status == "already":
        if result.until is not None and result.until > ctx.clock.now():
            return texts.SNOOZE_ALREADY.format(title=result.title, when=_when(result.until, ctx))
        return texts.SNOOZE_USED.format(title=result.title)
    if result.status == "too-late":
        return texts.SNOOZE_TOO_LATE.format(title=result.title, due=due)
    if result.status == "done":
        return texts.SNOOZE_DONE.format(title=result.title)
    if result.status == "none":
        return texts.SNOOZE_NONE.format(title=result.title)
    return texts.TASK_UNKNOWN


@router.route(regex(r"怎么报送\s*(?P<task>\d{1,9})"))
def how_to_report(msg: IncomingMessage, ctx: HandlerContext, task: str) -> str:
    from bot.db.models import Task

    person = ctx.person()
    with ctx.db.session() as session:
        row = session.get(Task, int(task))
        if row is None or person is None:
            return texts.HOW_GENERIC
        period = current_period(row, ctx.today())
        done = done_counts(session, row, [person.userid], period).get(person.userid, 0)
        return texts.HOW_EXAMPLE.format(title=row.title, village=person.village or texts.HOW_VILLAGE_DEFAULT,
                                        missing=max(row.target - done, 0))
