"""Rendering of report and progress replies. Pure: data in, Chinese text out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.db.models import Report
from bot.messages import Button, Reply
from bot.periods import Period
from tracking import texts
from tracking.progress import TaskProgress
from tracking.summary import clip

CONFIRM_ACTIVITY_CHARS = 80  # the confirmation stays under one phone screen


def format_date(d: date, today: date) -> str:
    """11月19日（周四）, with the year when it is not this year."""
    head = f"{d.month}月{d.day}日" if d.year == today.year else f"{d.year}年{d.month}月{d.day}日"
    return f"{head}（周{texts.WEEKDAY_NAMES[d.weekday()]}）"


def short_date(d: date, today: date) -> str:
    return f"{d.month}月{d.day}日" if d.year == today.year else f"{d.year}年{d.month}月{d.day}日"


def period_label(cadence: str, period: Period, today: date) -> str:
    if period.contains(today):
        return texts.PERIOD_LABEL_CURRENT.get(cadence, "")
    if cadence == "monthly":
        return f"{period.start.year}年{period.start.month}月"
    if cadence == "quarterly":
        return f"{period.start.year}年第{(period.start.month - 1) // 3 + 1}季度"
    if cadence == "yearly":
        return f"{period.start.year}年"
    if cadence == "half-yearly":
        return f"{period.start.year}年{'上' if period.start.month == 1 else '下'}半年"
    if cadence == "semimonthly":
        return f"{period.start.year}年{period.start.month}月{'上' if period.start.day == 1 else '下'}半月"
    if cadence == "weekly":
        return f"{period.start.month}月{period.start.day}日起的一周"
    return ""


def progress_line(p: TaskProgress, today: date) -> str:
    left = p.target - p.done
    tail = texts.PROGRESS_DONE_TAIL if left <= 0 else texts.PROGRESS_LEFT_TAIL.format(left=left)
    return texts.CONFIRM_PROGRESS.format(period=period_label(p.cadence, p.period, today), title=p.title,
                                         done=p.done, target=p.target, tail=tail)


def participants_text(n: int | None, wording: str | None = None) -> str:
    """40人, or 15人（十五六个人） when the wording says more than the number."""
    if n is None:
        return ""
    shown = f"{n}人"
    return f"{shown}（{wording}）" if wording and str(n) not in wording else shown


def confirmation(report: Report, task_title: str | None, progress: TaskProgress | None, today: date, *,
                 duplicate: bool = False) -> Reply:
    """The stored report in a few lines (content clipped), progress, and always the 撤回/修改 hint last."""
    people = participants_text(report.participants, report.participants_text)
    activity = clip(report.summary or report.activity, CONFIRM_ACTIVITY_CHARS)
    values = (format_date(report.activity_date, today), people or texts.NO_PARTICIPANTS.format(id=report.id),
              report.village or texts.UNKNOWN, task_title or texts.NO_TASK.format(id=report.id), activity)
    lines = [texts.CONFIRM.format(id=report.id, date=values[0], participants=values[1], village=values[2],
                                  task=values[3], activity=values[4])]
    if duplicate:
        lines[0] = lines[0] + texts.DUPLICATE_NOTE
    if progress is not None:
        if not progress.period.contains(today):
            lines.append(texts.OLD_PERIOD_NOTE.format(day=short_date(report.activity_date, today),
                                                      period=period_label(progress.cadence, progress.period, today)))
        lines.append(progress_line(progress, today))
    lines.append(texts.CONFIRM_FOOTER.format(id=report.id))
    return Reply("\n".join(lines), kind="report_confirm", title=texts.CONFIRM_TITLE.format(id=report.id),
                 fields=tuple(zip(texts.FIELD_LABELS, values, strict=True)),
                 buttons=(Button("withdraw", texts.BUTTON_WITHDRAW, f"撤回 {report.id}"),
                          Button("ok", texts.BUTTON_OK, texts.BUTTON_OK)))


def task_choices(titles: Sequence[str]) -> str:
    return "\n".join(f"{i}. {t}" for i, t in enumerate(titles, 1))


def task_question(titles: Sequence[str]) -> Reply:
    """"Which task?" with a button per task; each button stands for its number."""
    buttons = [Button(f"task{i}", t[:16], str(i)) for i, t in enumerate(titles, 1)]
    buttons.append(Button("task0", texts.BUTTON_NONE_TASK, "0"))
    return Reply(texts.ASK_TASK.format(choices=task_choices(titles)), kind="choice", buttons=tuple(buttons))


def yes_no(text: str, kind: str = "confirm") -> Reply:
    """A question answered by 是 / 不是, as buttons on a card and typed words elsewhere."""
    return Reply(text, kind=kind, buttons=(Button("yes", texts.BUTTON_YES, texts.BUTTON_YES),
                                           Button("no", texts.BUTTON_NO, texts.BUTTON_NO)))


def report_line(report: Report, today: date) -> str:
    return texts.REPORT_LINE.format(
        id=report.id,
        date=short_date(report.activity_date, today),
        village=report.village,
        activity=_clip(report.summary or report.activity, 24),
        participants=f"，{report.participants}人" if report.participants is not None else "",
        task=report.task.title if report.task else "未归入任务",
        photos=texts.REPORT_PHOTOS.format(n=len(report.photos)) if report.photos else "",
        status=texts.REPORT_WITHDRAWN_MARK if report.status == "withdrawn" else "",
    )


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def progress_report(name: str, village: str, items: Sequence[TaskProgress], today: date) -> str:
    if not items:
        return texts.PROGRESS_EMPTY
    lines = [texts.PROGRESS_HEAD.format(name=name, village=village or texts.UNKNOWN)]
    for i, p in enumerate(items, 1):
        left = p.target - p.done
        tail = texts.PROGRESS_DONE_TAIL if left <= 0 else texts.PROGRESS_LEFT_TAIL.format(left=left)
        lines.append(texts.PROGRESS_LINE.format(i=i, title=p.title, period=period_label(p.cadence, p.period, today),
                                                done=p.done, target=p.target, due=short_date(p.due, today),
                                                tail=tail))
    return "\n".join(lines)
