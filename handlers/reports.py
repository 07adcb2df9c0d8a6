"""Reporting through chat: 报送/上报/汇报, one follow-up question at a time, photos, 撤回, 修改, 我的报送.

Each handler checks (filters, pure) and then handles. Follow-up answers are matched only while a
report waits for one and only when the message looks like an answer, so a question typed in the
middle still reaches the knowledge base.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import metrics
from bot.db.models import Person, Report, Task
from bot.dispatcher import Router
from bot.filters import in_state, msg_type, normalize_command, regex, text_equals, text_startswith
from handlers.progress import router as progress_router
from tracking import texts
from tracking.dates import find_date, parse_date_answer
from tracking.numbers import find_participants, to_int
from tracking.photos import attach_photo, fetch_photo, fetch_then_retry, photo_count, recent_report
from tracking.progress import task_progress
from tracking.replies import (
    confirmation,
    format_date,
    progress_line,
    report_line,
    short_date,
    task_choices,
)
from tracking.report_parser import TaskRef, match_tag
from tracking.reports import (
    DB_DOWN_ERRORS,
    NotAllowed,
    ReportDraft,
    create_report,
    get_report,
    modify_report,
    recent_reports,
    withdraw_report,
)
from tracking.service import after_db_success, parse_for, reportable_tasks, spool_report, task_ref
from tracking.tasks import active_tasks, ensure_tasks

if TYPE_CHECKING:
    from bot.context import HandlerContext
    from bot.messages import IncomingMessage

router = Router("reports")
KIND = "report_followup"
REPORT_WORDS = ("报送", "上报", "汇报")
QUESTION_WORDS = ("什么", "怎么", "怎样", "多少", "几篇", "几次", "如何", "哪些", "哪里", "要求", "是否", "能否", "可以吗")
YES_WORDS = {"是", "是的", "对", "对的", "确认", "没错", "嗯", "好", "好的", "y", "yes", "ok"}
NONE_WORDS = {"都不是", "不属于", "没有", "无", "不计入", "以上都不是"}
MY_REPORT_WORDS = ("我的报送", "我的上报", "报送记录", "查看报送", "我报送的")
ALL_REPORT_WORDS = ("全部报送", "所有报送")
MODIFY_FIELDS = {"日期": "activity_date", "时间": "activity_date", "活动日期": "activity_date",
                 "人数": "participants", "参加人数": "participants", "参与人数": "participants",
                 "任务": "task", "内容": "activity", "活动内容": "activity", "活动": "activity",
                 "村居": "village", "社区": "village", "村": "village"}
_MODIFY = re.compile(
    r"^(?:第)?\s*(?P<id>\d+)?\s*(?:号|条)?\s*(?P<field>" + "|".join(sorted(MODIFY_FIELDS, key=len, reverse=True))
    + r")\s*(?:改为|改成|为|成|[:：])?\s*(?P<value>.+)$"
)
LIST_LIMIT = 10


# ---------------------------------------------------------------- filters (pure)


def looks_like_question(text: str) -> bool:
    if text.endswith(("?", "？", "吗", "呢", "么")):
        return True
    return any(w in text for w in QUESTION_WORDS) and find_date(text, date(2000, 1, 1)) is None \
        and find_participants(text) is None


def report_command(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
    text = normalize_command(msg.text)
    for word in REPORT_WORDS:
        if text.startswith(word):
            rest = text[len(word):].lstrip(" :：,，、")
            return None if rest and looks_like_question(rest) else {"rest": rest}
    return None


def followup_answer(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
    """Does this text answer the pending question? Passes the interpreted answer."""
    state = ctx.conversation.get() or {}
    text = normalize_command(msg.text)
    need = state.get("need")
    if not text:
        return None
    if need == "activity":
        return None if looks_like_question(text) else {"answer": text}
    if need == "date":
        if text.lower() in YES_WORDS:
            return {"answer": "yes"}
        found = parse_date_answer(text, ctx.today())
        if found is not None:
            return {"answer": found.isoformat()}
        return {"answer": None} if len(text) <= 8 and not looks_like_question(text) else None
    if need == "task":
        m = re.fullmatch(r"(?:第|选)?\s*(\d{1,2})\s*(?:个|项|号)?", text)
        if m:
            return {"answer": int(m.group(1))}
        if text in NONE_WORDS:
            return {"answer": 0}
        return {"answer": text} if len(text) <= 16 and not looks_like_question(text) else None
    return None


# ---------------------------------------------------------------- helpers


def _refusal(person: Person | None, userid: str) -> str | None:
    if person is None:
        return texts.NOT_ON_ROSTER.format(userid=userid)
    if not person.active:
        return texts.ROSTER_INACTIVE.format(userid=userid)
    return None


def _new_state(source: str, text: str, photos: list[list[str]] | None = None) -> dict[str, Any]:
    return {"kind": KIND, "need": None, "source": source, "text": text, "draft": None, "date_confirmed": False,
            "task_decided": False, "choices": [], "photos": photos or []}


def _parse_into(ctx: HandlerContext, person: Person, state: dict[str, Any]) -> None:
    """(Re)read the accumulated text into the state's draft."""
    active = active_tasks(ctx.services)
    with ctx.db.session() as session:
        parsed, tasks = parse_for(session, person, state["text"], ctx.today(), active)
        titles = {t.key: t.title for t in tasks}
    draft = ReportDraft(person.userid, parsed.village, parsed.activity_date, parsed.activity, parsed.participants,
                        parsed.task.chosen, state["text"], state["source"])
    state["draft"] = draft.to_json()
    state["activity_missing"] = "activity" in parsed.missing
    state["choices"] = [[k, titles[k]] for k in parsed.task.candidates if k in titles]
    state["task_decided"] = parsed.task.chosen is not None or not state["choices"]


def _advance(ctx: HandlerContext, person: Person, state: dict[str, Any]) -> str:
    """Ask the next missing thing (one question), or store the report."""
    draft = ReportDraft.from_json(state["draft"])
    today = ctx.today()
    if state.get("activity_missing"):
        state["need"] = "activity"
        ctx.conversation.set(state)
        return texts.ASK_ACTIVITY
    if draft.activity_date > today and not state.get("date_confirmed"):
        state["need"] = "date"
        ctx.conversation.set(state)
        return texts.ASK_FUTURE_DATE.format(date=format_date(draft.activity_date, today),
                                            example=short_date(today, today))
    if not state.get("task_decided"):
        state["need"] = "task"
        ctx.conversation.set(state)
        return texts.ASK_TASK.format(choices=task_choices([title for _, title in state["choices"]]))
    ctx.conversation.clear()
    return _store(ctx, person, draft, state.get("photos") or [])


def _store(ctx: HandlerContext, person: Person, draft: ReportDraft, photos: list[list[str]]) -> str:
    services = ctx.services
    now = ctx.clock.now()
    today = ctx.today()
    try:
        with ctx.db.session() as session:
            report, created = create_report(session, draft, now=now)
            photo_ids = [attach_photo(session, report, media_id, key, now)[0].id for media_id, key in photos]
            # the period the activity falls in (本月, or e.g. 2026年3月 for a late report)
            progress = task_progress(session, report.task, person, report.activity_date) if report.task else None
            reply = confirmation(report, report.task.title if report.task else None, progress, today,
                                 duplicate=not created)
    except DB_DOWN_ERRORS:
        spool_report(services, userid=person.userid, text=draft.raw_text, msg_key=draft.source_msg_key,
                     today=today, draft=draft)
        return texts.SPOOLED
    if created:
        metrics.report("stored")
    for pid in photo_ids:
        services.background(fetch_photo, services, pid)
    after_db_success(services)
    return reply


def _person_or_reply(ctx: HandlerContext) -> tuple[Person | None, str | None]:
    try:
        person = ctx.person()
    except DB_DOWN_ERRORS:
        return None, texts.DB_DOWN
    refusal = _refusal(person, ctx.user)
    return (None, refusal) if refusal else (person, None)


# ---------------------------------------------------------------- routes

router.include(progress_router)


@router.route(msg_type("text"), report_command)
def report(msg: IncomingMessage, ctx: HandlerContext, rest: str) -> str:
    try:
        person = ctx.person()
    except DB_DOWN_ERRORS:
        if not rest:
            return texts.DB_DOWN
        spool_report(ctx.services, userid=ctx.user, text=rest, msg_key=msg.dedupe_key, today=ctx.today())
        ctx.conversation.clear()
        return texts.SPOOLED
    refusal = _refusal(person, ctx.user)
    if refusal:
        return refusal
    assert person is not None
    old = ctx.conversation.get()
    held = old.get("photos", []) if old and old.get("kind") == KIND else []
    state = _new_state(msg.dedupe_key, rest, held)
    if not rest:
        state["need"] = "activity"
        ctx.conversation.set(state)
        return texts.REPORT_USAGE
    _parse_into(ctx, person, state)
    return _advance(ctx, person, state)


@router.route(msg_type("image"))
def photo(msg: IncomingMessage, ctx: HandlerContext) -> str:
    person, reply = _person_or_reply(ctx)
    if person is None:
        return reply or texts.DB_DOWN
    state = ctx.conversation.get()
    if state and state.get("kind") == KIND:
        state.setdefault("photos", []).append([msg.media_id or "", msg.dedupe_key])
        ctx.conversation.set(state)
        return texts.PHOTO_HELD
    now = ctx.clock.now()
    with ctx.db.session() as session:
        report = recent_report(session, person.userid, now)
        if report is None:
            return texts.PHOTO_NO_REPORT
        pic, created = attach_photo(session, report, msg.media_id or "", msg.dedupe_key, now)
        n = photo_count(session, report.id)
        rid, activity, pid = report.id, report.activity, pic.id
    if created:
        ctx.services.background(fetch_then_retry, ctx.services, pid)
    return texts.PHOTO_ATTACHED.format(id=rid, activity=activity[:20], n=n)


@router.route(regex(r"(?:撤回|撤销|删除)\s*(?:报送)?\s*(?:第)?\s*(?P<id>\d+)?\s*(?:号|条)?"))
def withdraw(msg: IncomingMessage, ctx: HandlerContext, id: str | None) -> str:  # noqa: A002 - regex group
    person, reply = _person_or_reply(ctx)
    if person is None:
        return reply or texts.DB_DOWN
    report_id = int(id) if id else None
    today = ctx.today()
    try:
        with ctx.db.session() as session:
            report = _find_report(session, person, report_id, texts.ALREADY_WITHDRAWN)
            if isinstance(report, str):
                return report
            withdraw_report(session, report, by=person.userid, now=ctx.clock.now())
            progress = ""
            if report.task is not None:
                owner = _owner(session, report.userid) or person
                progress = progress_line(task_progress(session, report.task, owner, report.activity_date), today)
            return texts.WITHDRAWN.format(id=report.id, date=short_date(report.activity_date, today),
                                          activity=report.activity[:20], progress=progress)
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN


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


@router.route(msg_type("text"), text_startswith("修改", "更正", "更改"))
def modify(msg: IncomingMessage, ctx: HandlerContext, command: str, rest: str) -> str:
    m = _MODIFY.match(rest)
    if not m:
        return texts.MODIFY_USAGE
    person, reply = _person_or_reply(ctx)
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
            progress = ""
            if report.task is not None:
                progress = progress_line(task_progress(session, report.task, owner, report.activity_date), today)
            shown = {date: lambda d: short_date(d, today)}.get(type(new), lambda v: v)
            return texts.MODIFIED.format(id=report.id, field=texts.FIELD_NAMES[field],
                                         old=shown(old) if old is not None else texts.UNKNOWN,
                                         new=shown(new) if new is not None else texts.UNKNOWN, progress=progress)
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN


def _modify_value(session: Session, owner: Person, field: str, raw: str, report_id: int,
                  today: date) -> tuple[Any, str | None]:
    """The new value for a field, or an error reply."""
    if field == "activity_date":
        found = find_date(raw, today)
        if found is None:
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
    return raw[:500] if field == "activity" else raw[:128], None


@router.route(msg_type("text"), text_equals(*MY_REPORT_WORDS, *ALL_REPORT_WORDS))
def my_reports(msg: IncomingMessage, ctx: HandlerContext) -> str:
    person, reply = _person_or_reply(ctx)
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


def _spool_followup(ctx: HandlerContext, state: dict[str, Any], answer: Any) -> None:
    """The database went away mid-conversation: keep what we have, with this answer applied."""
    draft = ReportDraft.from_json(state["draft"]) if state.get("draft") else None
    need = state.get("need")
    if need == "activity" or draft is None:
        text = f"{state.get('text') or ''}，{answer}".strip("，")
        spool_report(ctx.services, userid=ctx.user, text=text, msg_key=state["source"], today=ctx.today())
    else:
        if need == "date" and answer not in (None, "yes"):
            draft.activity_date = date.fromisoformat(answer)
        elif need == "task" and isinstance(answer, int) and 0 < answer <= len(state.get("choices") or []):
            draft.task_key = state["choices"][answer - 1][0]
        spool_report(ctx.services, userid=ctx.user, text=draft.raw_text, msg_key=draft.source_msg_key,
                     today=ctx.today(), draft=draft)
    ctx.conversation.clear()


@router.route(msg_type("text"), in_state(KIND), followup_answer)
def followup(msg: IncomingMessage, ctx: HandlerContext, state: dict[str, Any], answer: Any) -> str:
    try:
        person = ctx.person()
    except DB_DOWN_ERRORS:
        _spool_followup(ctx, state, answer)
        return texts.SPOOLED
    refusal = _refusal(person, ctx.user)
    if refusal:
        ctx.conversation.clear()
        return refusal
    assert person is not None
    need = state.get("need")
    if need == "activity":
        state["text"] = f"{state['text']}，{answer}" if state.get("text") else answer
        _parse_into(ctx, person, state)
        return _advance(ctx, person, state)
    if need == "date":
        if answer is None:
            draft = ReportDraft.from_json(state["draft"])
            return texts.ASK_DATE_AGAIN.format(date=short_date(draft.activity_date, ctx.today()),
                                               example=short_date(ctx.today(), ctx.today()))
        if answer == "yes":
            state["date_confirmed"] = True
        else:
            draft = ReportDraft.from_json(state["draft"])
            draft.activity_date = date.fromisoformat(answer)
            state["draft"] = draft.to_json()
        return _advance(ctx, person, state)
    if need == "task":
        choices: list[list[str]] = state.get("choices") or []
        chosen: str | None = None
        if isinstance(answer, int):
            if not 0 <= answer <= len(choices):
                return texts.ASK_TASK_AGAIN.format(n=len(choices))
            chosen = choices[answer - 1][0] if answer else None
        else:
            match = match_tag(str(answer).lstrip("#＃"), [TaskRef(k, t) for k, t in choices])
            if match.chosen is None:
                return texts.ASK_TASK_AGAIN.format(n=len(choices))
            chosen = match.chosen
        draft = ReportDraft.from_json(state["draft"])
        draft.task_key = chosen
        state["draft"] = draft.to_json()
        state["task_decided"] = True
        return _advance(ctx, person, state)
    ctx.conversation.clear()
    return texts.REPORT_USAGE
