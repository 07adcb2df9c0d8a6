"""进度 / 我的任务: a person's progress on every task this period; admins also see the office overview."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.dispatcher import Router
from bot.filters import msg_type, text_equals
from tracking import texts
from tracking.progress import office_overview, progress_for
from tracking.replies import progress_report
from tracking.reports import DB_DOWN_ERRORS
from tracking.tasks import ensure_tasks

if TYPE_CHECKING:
    from bot.context import HandlerContext
    from bot.messages import IncomingMessage

router = Router("progress")
PROGRESS_WORDS = ("进度", "我的任务", "我的进度", "任务进度", "查进度", "查看进度", "任务", "完成情况")


@router.route(msg_type("text"), text_equals(*PROGRESS_WORDS))
def progress(msg: IncomingMessage, ctx: HandlerContext) -> str:
    try:
        person = ctx.person()
        if person is None:
            return texts.NOT_ON_ROSTER.format(userid=ctx.user)
        if not person.active:
            return texts.ROSTER_INACTIVE.format(userid=ctx.user)
        ensure_tasks(ctx.services)
        today = ctx.today()
        with ctx.db.session() as session:
            items = progress_for(session, person, today)
            village = person.village or (texts.AUDIENCE_LABELS["office"] if person.is_admin else "")
            text = progress_report(person.name, village, items, today)
            if person.is_admin:
                text += "\n" + office_summary(session, today)
    except DB_DOWN_ERRORS:
        return texts.DB_DOWN
    return text + ("\n" + texts.PROGRESS_FOOTER if items else "")


def office_summary(session: Session, today: date) -> str:
    """How many of the people each task applies to have met it this period."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in office_overview(session, today):
        by_task.setdefault(str(row["task"]), []).append(row)
    lines = [texts.PROGRESS_OFFICE_HEAD]
    for title, rows in by_task.items():
        complete = sum(1 for r in rows if r["done"] >= r["target"])
        lines.append(texts.PROGRESS_OFFICE_LINE.format(
            title=title, period=texts.PERIOD_LABEL_CURRENT.get(rows[0]["cadence"], ""), complete=complete,
            people=len(rows)))
    return "\n".join(lines)
