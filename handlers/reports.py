"""Reporting through chat: a trigger word (报送, 【报送】, 报个活动 …) or a message that reads as a report,
one follow-up question at a time, photos.

Each handler checks (filters, pure) and then handles. A follow-up answer is taken only while a
report waits for one and only when the message fits the question asked ("2" only when there is a
choice 2); anything else goes on to the other routes, and a question is answered with a word that
the report is still open. 撤回, 恢复, 修改 and 我的报送 live in handlers.report_changes.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.dispatcher import Router
from bot.filters import in_state, msg_type, normalize_command
from bot.messages import Reply
from handlers import questions
from handlers.progress import router as progress_router
from handlers.report_changes import person_or_reply, refusal_for
from handlers.report_changes import router as changes_router
from tracking import texts
from tracking.dates import parse_date_answer
from tracking.photos import attach_photo, fetch_photo, fetch_then_retry, photo_count, recent_report
from tracking.progress import task_progress
from tracking.recognise import find_trigger, fold, is_report_candidate, looks_like_question
from tracking.replies import confirmation, format_date, short_date, task_question, yes_no
from tracking.report_parser import TaskRef, match_tag
from tracking.reports import DB_DOWN_ERRORS, ReportDraft, create_report, find_duplicate
from tracking.service import after_db_success, draft_from, parse_for, spool_report
from tracking.summary import clip
from tracking.tasks import active_tasks

if TYPE_CHECKING:
    from bot.context import HandlerContext
    from bot.db.models import Person
    from bot.messages import IncomingMessage

router = Router("reports")
KIND = "report_followup"
YES_WORDS = {"是", "是的", "对", "对的", "确认", "没错", "嗯", "好", "好的", "记录", "记", "要", "y", "yes", "ok", "可以"}
NO_WORDS = {"不是", "不", "否", "不用", "不要", "不记", "不用了", "不是的", "no", "n", "忽略"}
PLAN_WORDS = {"是计划", "计划", "是的计划", "还没开展", "还没开", "没开展", "还没搞"}
DONE_WORDS = {"不是计划", "已开展", "已经开展", "开展了", "已经搞了", "搞过了", "办过了", "已完成"}
NONE_WORDS = {"都不是", "不属于", "没有", "无", "不计入", "以上都不是"}
_NUMBER = re.compile(r"(?:任务|选|第)?\s*(\d{1,2})\s*(?:个|项|号|条)?")
PREVIEW_CHARS = 40


# ---------------------------------------------------------------- filters (pure)


def report_command(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
    """A trigger word in any of its forms; the rest is the report (None when the rest is a question)."""
    trigger = find_trigger(fold(normalize_command(msg.text)))
    if trigger is None:
        return None
    return None if trigger.rest and looks_like_question(trigger.rest) else {"rest": trigger.rest}


def report_candidate(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
    """No trigger, but it reads as an account of an activity (a verb and a date, a count or a place)."""
    text = fold(normalize_command(msg.text))
    if not text:
        return None
    titles = tuple(t.title for t in active_tasks(ctx.services))
    return {"rest": text} if is_report_candidate(text, ctx.today(), task_titles=titles) else None


def _number(text: str) -> int | None:
    m = _NUMBER.fullmatch(text)
    return int(m.group(1)) if m else None


def followup_answer(msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
    """Does this text answer the pending question? Passes the interpreted answer; None lets it go on."""
    state = ctx.conversation.get() or {}
    text = normalize_command(msg.text)
    need = state.get("need")
    low = text.lower()
    if not text:
        return None
    if need == "activity":
        return None if looks_like_question(text) or find_trigger(text) else {"answer": text}
    if need in ("record", "duplicate"):
        return {"answer": "yes"} if low in YES_WORDS else {"answer": "no"} if low in NO_WORDS else None
    if need in ("date", "plan"):
        if need == "plan" and (low in YES_WORDS or text in PLAN_WORDS):
            return {"answer": "plan"}
        if need == "plan" and text in DONE_WORDS:
            return {"answer": "done"}
        if low in NO_WORDS and need == "date":
            return {"answer": "no"}
        found = parse_date_answer(text, ctx.today())
        if found is not None:
            return {"answer": found.isoformat()}
        short = len(text) <= 8 and not looks_like_question(text) and _number(text) is None
        return {"answer": None} if short else None
    if need == "task":
        return _task_answer(text, state, ctx)
    return None


def _task_answer(text: str, state: dict[str, Any], ctx: HandlerContext) -> dict[str, Any] | None:
    choices: list[list[str]] = state.get("choices") or []
    n = _number(text)
    if n is not None:
        typed_for_task = not text.isdigit()  # 任务 2 / 选2 / 第2个 name the report's list
        qa_list = ctx.state.get_json(questions.CHOICES_KEY.format(user=ctx.user))
        if not typed_for_task and qa_list and (state.get("qa_after") or not 0 <= n <= len(choices)):
            return None  # a number for the policy answers offered later (or one our list has no room for)
        return {"answer": n}
    if text in NONE_WORDS:
        return {"answer": 0}
    if looks_like_question(text) or len(text) > 16:
        return None
    match = match_tag(text.lstrip("#＃"), [TaskRef(k, t) for k, t in choices])
    return {"answer": match.chosen} if match.chosen else None


def unrelated_while_pending(msg: IncomingMessage, ctx: HandlerContext) -> bool:
    """Text that answers nothing pending: it goes to the policy answers, the report stays open.
    A bare number or 有用/没用 is left to the questions router (a pick from its list, feedback)."""
    text = normalize_command(msg.text)
    return bool(text) and _number(text) is None and text not in questions.HELPFUL_WORDS \
        and text not in questions.UNHELPFUL_WORDS


# ---------------------------------------------------------------- helpers


def _new_state(source: str, text: str, photos: list[list[str]] | None = None, *,
               candidate: bool = False) -> dict[str, Any]:
    return {"kind": KIND, "need": None, "source": source, "text": text, "draft": None, "date_confirmed": False,
            "task_decided": False, "choices": [], "photos": photos or [], "candidate": candidate,
            "record_ok": not candidate, "date_vague": False, "dup_ok": False}


def _parse_into(ctx: HandlerContext, person: Person, state: dict[str, Any]) -> None:
    """(Re)read the accumulated text into the state's draft."""
    active = active_tasks(ctx.services)
    with ctx.db.session() as session:
        parsed, tasks = parse_for(session, person, state["text"], ctx.today(), active)
        titles = {t.key: t.title for t in tasks}
    old = ReportDraft.from_json(state["draft"]) if state.get("draft") else None
    draft = draft_from(parsed, person.userid, state["text"], state["source"], state.get("raw"))
    if old is not None and state.get("date_set"):
        draft.activity_date = old.activity_date  # a day the user gave in answer stays
    state["draft"] = draft.to_json()
    state["activity_missing"] = "activity" in parsed.missing
    state["date_vague"] = parsed.date_vague and not state.get("date_set")
    state["choices"] = [[k, titles[k]] for k in parsed.task.candidates if k in titles]
    state["task_decided"] = parsed.task.chosen is not None or not state["choices"]


def _preview(draft: ReportDraft) -> str:
    return f"「{clip(draft.summary or draft.activity, PREVIEW_CHARS)}」"


def _ask(ctx: HandlerContext, state: dict[str, Any], need: str, reply: str) -> str:
    state["need"] = need
    ctx.conversation.set(state)
    return reply


def _advance(ctx: HandlerContext, person: Person, state: dict[str, Any]) -> str:
    """Ask the next missing thing (one question), or store the report."""
    draft = ReportDraft.from_json(state["draft"])
    today = ctx.today()
    example = short_date(today, today)
    if state.get("activity_missing"):
        return _ask(ctx, state, "activity", texts.ASK_ACTIVITY)
    if state.get("date_vague"):
        return _ask(ctx, state, "date", texts.ASK_WHICH_DAY.format(example=example, preview=_preview(draft)))
    if draft.activity_date > today and not state.get("date_confirmed"):
        return _ask(ctx, state, "plan", yes_no(texts.ASK_FUTURE_DATE.format(
            date=format_date(draft.activity_date, today), example=example), kind="plan_question"))
    if not state.get("record_ok"):
        return _ask(ctx, state, "record", yes_no(texts.ASK_RECORD.format(preview=_preview(draft)),
                                                 kind="record_question"))
    if not state.get("task_decided"):
        return _ask(ctx, state, "task", task_question([title for _, title in state["choices"]]))
    return _store(ctx, person, draft, state)


def _store(ctx: HandlerContext, person: Person, draft: ReportDraft, state: dict[str, Any]) -> str:
    services = ctx.services
    now = ctx.clock.now()
    today = ctx.today()
    photos: list[list[str]] = state.get("photos") or []
    try:
        with ctx.db.session() as session:
            if not state.get("dup_ok"):
                twin = find_duplicate(session, draft, now=now)
                if twin is not None:
                    state["dup_id"] = twin.id
                    return _ask(ctx, state, "duplicate", yes_no(texts.ASK_DUPLICATE.format(
                        id=twin.id, date=short_date(twin.activity_date, today),
                        activity=clip(twin.summary or twin.activity, 20)), kind="duplicate_question"))
            report, created = create_report(session, draft, now=now)
            photo_ids = [attach_photo(session, report, media_id, key, now)[0].id for media_id, key in photos]
            # the period the activity falls in (本月, or e.g. 2026年3月 for a late report)
            progress = task_progress(session, report.task, person, report.activity_date) if report.task else None
            reply = confirmation(report, report.task.title if report.task else None, progress, today,
                                 duplicate=not created)
    except DB_DOWN_ERRORS:
        ctx.conversation.clear()
        spool_report(services, userid=person.userid, text=draft.raw_text, msg_key=draft.source_msg_key,
                     today=today, draft=draft)
        return texts.SPOOLED
    ctx.conversation.clear()
    if created:
        metrics.report("stored")
    for pid in photo_ids:
        services.background(fetch_photo, services, pid)
    after_db_success(services)
    return reply


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
    refusal = refusal_for(person, ctx.user)
    if refusal:
        return refusal
    assert person is not None
    return _begin(msg, ctx, person, rest, candidate=False)


def _begin(msg: IncomingMessage, ctx: HandlerContext, person: Person, rest: str, *, candidate: bool) -> str:
    old = ctx.conversation.get()
    held = old.get("photos", []) if old and old.get("kind") == KIND else []
    state = _new_state(msg.dedupe_key, rest, held, candidate=candidate)
    state["raw"] = msg.text
    if not rest:
        state["need"] = "activity"
        ctx.conversation.set(state)
        return texts.REPORT_USAGE
    _parse_into(ctx, person, state)
    return _advance(ctx, person, state)


@router.route(msg_type("image"))
def photo(msg: IncomingMessage, ctx: HandlerContext) -> str:
    person, reply = person_or_reply(ctx)
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
        rid, activity, pid = report.id, report.summary or report.activity, pic.id
    if created:
        ctx.services.background(fetch_then_retry, ctx.services, pid)
    return texts.PHOTO_ATTACHED.format(id=rid, activity=activity[:20], n=n)


router.include(changes_router)


def _spool_followup(ctx: HandlerContext, state: dict[str, Any], answer: Any) -> None:
    """The database went away mid-conversation: keep what we have, with this answer applied."""
    draft = ReportDraft.from_json(state["draft"]) if state.get("draft") else None
    need = state.get("need")
    if need == "activity" or draft is None:
        text = f"{state.get('text') or ''}，{answer}".strip("，")
        spool_report(ctx.services, userid=ctx.user, text=text, msg_key=state["source"], today=ctx.today())
    else:
        if need in ("date", "plan") and answer not in (None, "plan", "done", "no"):
            draft.activity_date = date.fromisoformat(answer)
        elif need == "task" and isinstance(answer, int) and 0 < answer <= len(state.get("choices") or []):
            draft.task_key = state["choices"][answer - 1][0]
        elif need == "task" and isinstance(answer, str):
            draft.task_key = answer
        spool_report(ctx.services, userid=ctx.user, text=draft.raw_text, msg_key=draft.source_msg_key,
                     today=ctx.today(), draft=draft)
    ctx.conversation.clear()


@router.route(msg_type("text"), in_state(KIND), followup_answer)
def followup(msg: IncomingMessage, ctx: HandlerContext, state: dict[str, Any], answer: Any) -> str:
    try:
        person = ctx.person()
    except DB_DOWN_ERRORS:
        if answer in ("no", "plan") or state.get("need") in ("record", "duplicate") and answer != "yes":
            ctx.conversation.clear()
            return texts.RECORD_DROPPED
        _spool_followup(ctx, state, answer)
        return texts.SPOOLED
    refusal = refusal_for(person, ctx.user)
    if refusal:
        ctx.conversation.clear()
        return refusal
    assert person is not None
    need = state.get("need")
    today = ctx.today()
    if need == "activity":
        state["text"] = f"{state['text']}，{answer}" if state.get("text") else answer
        state["raw"] = f"{state.get('raw') or ''}\n{msg.text}".strip()
        _parse_into(ctx, person, state)
        return _advance(ctx, person, state)
    if need in ("record", "duplicate"):
        if answer == "no" and need == "record" or answer == "yes" and need == "duplicate":
            ctx.conversation.clear()
            if need == "record":
                return texts.RECORD_DROPPED
            return texts.DUPLICATE_DROPPED.format(id=state.get("dup_id", ""))
        state["record_ok" if need == "record" else "dup_ok"] = True
        return _advance(ctx, person, state)
    if need in ("date", "plan"):
        draft = ReportDraft.from_json(state["draft"])
        if answer == "plan":
            ctx.conversation.clear()
            return texts.PLAN_NOTED.format(date=short_date(draft.activity_date, today))
        if answer == "no":
            ctx.conversation.clear()
            return texts.RECORD_DROPPED
        if answer == "done":
            state["date_vague"] = True
            return _advance(ctx, person, state)
        if answer is None:
            return texts.ASK_DAY_AGAIN.format(example=short_date(today, today))
        draft.activity_date = date.fromisoformat(answer)
        state.update(draft=draft.to_json(), date_set=True, date_vague=False, record_ok=True, date_confirmed=False)
        return _advance(ctx, person, state)
    if need == "task":
        choices: list[list[str]] = state.get("choices") or []
        if isinstance(answer, int):
            if not 0 <= answer <= len(choices):
                return texts.ASK_TASK_AGAIN.format(n=len(choices))
            chosen = choices[answer - 1][0] if answer else None
        else:
            chosen = answer
        draft = ReportDraft.from_json(state["draft"])
        draft.task_key = chosen
        state.update(draft=draft.to_json(), task_decided=True)
        return _advance(ctx, person, state)
    ctx.conversation.clear()
    return texts.REPORT_USAGE


@router.route(msg_type("text"), report_candidate)
def candidate(msg: IncomingMessage, ctx: HandlerContext, rest: str) -> str | None:
    """A report without the magic word: offered for recording once (the roster's people only)."""
    try:
        person = ctx.person()
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN
    if refusal_for(person, ctx.user) is not None:
        return questions.answer(msg, ctx)
    assert person is not None
    return _begin(msg, ctx, person, rest, candidate=True)


_PENDING_WHAT = {"activity": "请说一下开展了什么活动", "date": "活动是哪一天", "plan": "这是计划吗",
                 "record": "要记为报送吗", "task": "算哪项任务", "duplicate": "是重复发送吗"}


@router.route(msg_type("text"), in_state(KIND), unrelated_while_pending)
def question_while_pending(msg: IncomingMessage, ctx: HandlerContext, state: dict[str, Any]) -> str:
    """Answer the question through the normal question route; the report's question stays open."""
    answer = questions.answer(msg, ctx)
    if ctx.state.get_json(questions.CHOICES_KEY.format(user=ctx.user)):
        state["qa_after"] = True  # a bare number now picks from the policy list, not the report's
    ctx.conversation.set(state)
    note = texts.PENDING_STILL.format(question=_PENDING_WHAT.get(state.get("need") or "", "请回复上面的问题"))
    text = f"{answer}\n{note}"
    if isinstance(answer, Reply):
        return Reply(text, kind=answer.kind, title=answer.title, fields=answer.fields, buttons=answer.buttons)
    return text
