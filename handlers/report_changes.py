"""Changing stored reports through chat: 撤回 (asks which, unless numbered), 恢复, 修改, 我的报送.

A bare 撤回 (also the menu item) never withdraws at once: it asks "撤回 6？" and waits for 是, so a
double tap withdraws nothing twice. 恢复 N undoes a withdrawal within a day. An admin who
withdraws, restores or changes someone else's report tells its owner.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Person, Report, Task
from bot.dispatcher import Router
from bot.filters import in_state, msg_type, normalize_command, regex, text_equals, text_startswith
from tracking import texts
from tracking.dates import find_date
from tracking.numbers import find_participants, to_int
from tracking.progress import task_progress
from tracking.replies import progress_line, report_line, short_date, task_choices, yes_no
from tracking.report_parser import find_village, match_tag
from tracking.reports import (
    DB_DOWN_ERRORS,
    NotAllowed,
    can_restore,
    get_report,
    latest_withdrawn,
    modify_report,
    recent_reports,
    restore_report,
    withdraw_report,
)
from tracking.roster import roster_villages
from tracking.service import reportable_tasks, task_ref
from tracking.summary import clip, summarise
from tracking.tasks import ensure_tasks

if TYPE_CHECKING:
    from bot.context import HandlerContext
    from bot.messages import IncomingMessage

log = logging.getLogger(__name__)
router = Router("reports.changes")
WITHDRAW_KIND = "report_withdraw"
YES = {"是", "是的", "对", "确认", "确定", "撤回", "y", "yes", "ok", "好", "好的"}
NO = {"不是", "不", "否", "不撤回", "不用", "保留", "no", "n"}
NONE_WORDS = {"都不是", "不属于", "没有", "无", "不计入", "以上都不是"}
MY_REPORT_WORDS = ("我的报送", "我的上报", "报送记录", "查看报送", "我报送的")
ALL_REPORT_WORDS = ("全部报送", "所有报送")
OK_WORDS = ("没问题", "没问题了", "好的没问题")
MODIFY_FIELDS = {"日期": "activity_date", "时间": "activity_date", "活动日期": "activity_date",
                 "人数": "participants", "参加人数": "participants", "参与人数": "participants",
                 "任务": "task", "内容": "activity", "活动内容": "activity", "活动": "activity",
                 "村居": "village", "社区": "village", "村": "village"}
_MODIFY = re.compile(
    r"^(?:第)?\s*(?P<id>\d+)?\s*(?:号|条)?\s*(?P<field>" + "|".join(sorted(MODIFY_FIELDS, key=len, reverse=True))
    + r")\s*(?:改为|改成|为|成|[:：])?\s*(?P<value>.+)$"
)
LIST_LIMIT = 10
SHOWN_CHARS = 20


def refusal_for(person: Person | None, userid: str) -> str | None:
    if person is None:
        return texts.NOT_ON_ROSTER.format(userid=userid)
    if not person.active:
        return texts.ROSTER_INACTIVE.format(userid=userid)
    return None


def person_or_reply(ctx: HandlerContext) -> tuple[Person | None, str | None]:
    try:
        person = ctx.person()
    except DB_DOWN_ERRORS:
        return None, texts.DB_DOWN
    refusal = refusal_for(person, ctx.user)
    return (None, refusal) if refusal else (person, None)


def _find_report(session: Session, person: Person, report_id: int | None, withdrawn_text: str) -> Report | str:
    """The report a 撤回/修改 names (or the latest), or the reply explaining why there is none to change."""
    try:
        report = get_report(session, person, report_id)
    except NotAllowed:
        return texts.NOT_YOURS.format(id=report_id)
    if report is None:
        return texts.WITHDRAW_NONE if report_id is None else texts.NOT_FOUND.format(id=report_id)
    if report.status == "withdrawn":
        return withdrawn_text.format(id=report.id)
    return report


def _owner(session: Session, userid: str) -> Person | None:
    return session.scalar(select(Person).where(Person.userid == userid))


def _who(person: Person) -> str:
    return f"管理员{person.name}" if person.name else "管理员"


def _tell_owner(ctx: HandlerContext, actor: Person, owner_id: str, text: str) -> None:
    """Someone else acted on the owner's report: tell the owner (a failure is logged, never the actor's)."""
    if owner_id == actor.userid:
        return
    result = ctx.sender.send_text([owner_id], text)
    if not getattr(result, "ok", True):
        log.warning("could not tell %s about a change to their report", owner_id)


def _progress(session: Session, report: Report, person: Person, today: date) -> str:
    if report.task is None:
        return ""
    owner = _owner(session, report.userid) or person
    return progress_line(task_progress(session, report.task, owner, report.activity_date), today)


# ---------------------------------------------------------------- 撤回


@router.route(regex(r"(?:撤回|撤销|删除)\s*(?:报送)?\s*(?:第)?\s*(?P<id>\d+)?\s*(?:号|条)?"))
def withdraw(msg: IncomingMessage, ctx: HandlerContext, id: str | None) -> str:  # noqa: A002 - regex group
    person, reply = person_or_reply(ctx)
    if person is None:
        return reply or texts.DB_DOWN
    today = ctx.today()
    try:
        with ctx.db.session() as session:
            report = _find_report(session, person, int(id) if id else None, texts.ALREADY_WITHDRAWN)
            if isinstance(report, str):
                return report
            if id is None:  # which one? ask, and keep whatever else was pending
                previous = ctx.conversation.get()
                if previous and previous.get("kind") == WITHDRAW_KIND:
                    previous = previous.get("prev")
                ctx.conversation.set({"kind": WITHDRAW_KIND, "id": report.id, "prev": previous})
                return yes_no(texts.WITHDRAW_ASK.format(id=report.id, date=short_date(report.activity_date, today),
                                                        activity=clip(report.summary or report.activity,
                                                                      SHOWN_CHARS)), kind="withdraw_question")
            return _withdraw(ctx, session, person, report)
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN


def _withdraw(ctx: HandlerContext, session: Session, person: Person, report: Report) -> str:
    today = ctx.today()
    withdraw_report(session, report, by=person.userid, now=ctx.clock.now())
    shown = dict(id=report.id, date=short_date(report.activity_date, today),
                 activity=clip(report.summary or report.activity, SHOWN_CHARS))
    reply = texts.WITHDRAWN.format(progress=_progress(session, report, person, today), **shown)
    session.commit()
    _tell_owner(ctx, person, report.userid, texts.OWNER_WITHDRAWN.format(who=_who(person), **shown))
    return reply


def _withdraw_answer(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
    text = normalize_command(msg.text).lower()
    return {"yes": True} if text in YES else {"yes": False} if text in NO else None


@router.route(msg_type("text"), in_state(WITHDRAW_KIND), _withdraw_answer)
def withdraw_confirmed(msg: IncomingMessage, ctx: HandlerContext, state: dict[str, Any], yes: bool) -> str:
    previous = state.get("prev")
    if previous:
        ctx.conversation.set(previous)
    else:
        ctx.conversation.clear()
    if not yes:
        return texts.WITHDRAW_KEPT.format(id=state["id"])
    person, reply = person_or_reply(ctx)
    if person is None:
        return reply or texts.DB_DOWN
    try:
        with ctx.db.session() as session:
            report = _find_report(session, person, int(state["id"]), texts.ALREADY_WITHDRAWN)
            if isinstance(report, str):
                return report
            return _withdraw(ctx, session, person, report)
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN


# ---------------------------------------------------------------- 恢复


@router.route(regex(r"(?:恢复|取消撤回|撤销撤回)\s*(?:报送)?\s*(?:第)?\s*(?P<id>\d+)?\s*(?:号|条)?"))
def restore(msg: IncomingMessage, ctx: HandlerContext, id: str | None) -> str:  # noqa: A002 - regex group
    person, reply = person_or_reply(ctx)
    if person is None:
        return reply or texts.DB_DOWN
    today, now = ctx.today(), ctx.clock.now()
    try:
        with ctx.db.session() as session:
            if id is None:
                report = latest_withdrawn(session, person)
                if report is None or not can_restore(report, now):
                    return texts.RESTORE_NONE
            else:
                try:
                    report = get_report(session, person, int(id))
                except NotAllowed:
                    return texts.NOT_YOURS.format(id=id)
                if report is None:
                    return texts.NOT_FOUND.format(id=id)
                if report.status != "withdrawn":
                    return texts.RESTORE_NOT_WITHDRAWN.format(id=report.id)
                if not can_restore(report, now):
                    return texts.RESTORE_TOO_LATE.format(id=report.id)
            restore_report(session, report, by=person.userid, now=now)
            shown = dict(id=report.id, date=short_date(report.activity_date, today),
                         activity=clip(report.summary or report.activity, SHOWN_CHARS))
            text = texts.RESTORED.format(progress=_progress(session, report, person, today), **shown)
            owner_id = report.userid
            session.commit()
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN
    _tell_owner(ctx, person, owner_id, texts.OWNER_RESTORED.format(who=_who(person), **shown))
    return text


# ---------------------------------------------------------------- 修改


@router.route(msg_type("text"), text_startswith("修改", "更正", "更改"))
def modify(msg: IncomingMessage, ctx: HandlerContext, command: str, rest: str) -> str:
    m = _MODIFY.match(rest)
    if not m:
        return texts.MODIFY_USAGE
    person, reply = person_or_reply(ctx)
    if person is None:
        return reply or texts.DB_DOWN
    report_id = int(m.group("id")) if m.group("id") else None
    field, raw = MODIFY_FIELDS[m.group("field")], m.group("value").strip()
    today = ctx.today()
    try:
        ensure_tasks(ctx.services)
        with ctx.db.session() as session:
            report = _find_report(session, person, report_id, texts.MODIFY_WITHDRAWN)
            if isinstance(report, str):
                return report
            owner = _owner(session, report.userid) or person
            value, error = _modify_value(session, owner, field, raw, report.id, today)
            if error:
                return error
            old, new = modify_report(session, report, by=person.userid, field=field, value=value,
                                     now=ctx.clock.now())
            if field == "activity":
                report.summary = summarise(new)
            elif field == "participants":
                report.participants_text = None  # the old wording no longer describes the number
            shown = {date: lambda d: short_date(d, today)}.get(type(new), lambda v: v)
            change = dict(id=report.id, field=texts.FIELD_NAMES[field],
                          old=shown(old) if old is not None else texts.UNKNOWN,
                          new=shown(new) if new is not None else texts.UNKNOWN)
            text = texts.MODIFIED.format(progress=_progress(session, report, person, today), **change)
            owner_id = report.userid
            session.commit()
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN
    _tell_owner(ctx, person, owner_id, texts.OWNER_MODIFIED.format(who=_who(person), **change))
    return text


def _modify_value(session: Session, owner: Person, field: str, raw: str, report_id: int,
                  today: date) -> tuple[Any, str | None]:
    """The new value for a field, or an error reply."""
    if field == "activity_date":
        found = find_date(raw, today)
        if found is None or found.value is None:
            return None, texts.MODIFY_BAD_DATE.format(value=raw)
        if found.value > today:
            return None, texts.MODIFY_FUTURE_DATE.format(date=short_date(found.value, today))
        return found.value, None
    if field == "participants":
        count = find_participants(raw) or None
        n = count.value if count else to_int(raw.rstrip("人名位 "))
        if n is None or n < 0:
            return None, texts.MODIFY_BAD_NUMBER.format(value=raw, id=report_id)
        return n, None
    if field == "task":
        tasks: list[Task] = reportable_tasks(session, owner)
        if raw.strip("#＃ ") in NONE_WORDS:
            return None, None
        match = match_tag(raw.lstrip("#＃ ").strip(), [task_ref(t) for t in tasks])
        chosen = next((t for t in tasks if t.key == match.chosen), None)
        if chosen is None:
            return None, texts.MODIFY_BAD_TASK.format(value=raw, choices=task_choices([t.title for t in tasks]))
        return chosen, None
    if field == "village":
        villages = roster_villages(session)
        hit = find_village(raw, villages)
        if hit is None:
            return None, texts.MODIFY_BAD_VILLAGE.format(value=raw, villages="、".join(villages))
        return hit[0], None
    return raw[:2000], None


# ---------------------------------------------------------------- 我的报送, 没问题


@router.route(msg_type("text"), text_equals(*MY_REPORT_WORDS, *ALL_REPORT_WORDS))
def my_reports(msg: IncomingMessage, ctx: HandlerContext) -> str:
    person, reply = person_or_reply(ctx)
    if person is None:
        return reply or texts.DB_DOWN
    everyone = person.is_admin and normalize_command(msg.text) in ALL_REPORT_WORDS
    today = ctx.today()
    try:
        with ctx.db.session() as session:
            rows, total = recent_reports(session, None if everyone else person, limit=LIST_LIMIT)
            if not rows:
                return texts.MY_REPORTS_EMPTY
            head = (texts.ALL_REPORTS_HEAD if everyone else texts.MY_REPORTS_HEAD).format(total=total, n=len(rows))
            lines = [head, *(report_line(r, today) for r in rows), texts.REPORTS_FOOTER]
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN
    return "\n".join(lines)


@router.route(msg_type("text"), text_equals(*OK_WORDS), inline=True)
def ok_noted(msg: IncomingMessage, ctx: HandlerContext) -> str:
    """The 没问题 button under a confirmation."""
    return texts.OK_NOTED
