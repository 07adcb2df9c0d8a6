"""Message text for reminders, office summaries and undelivered notices. Pure functions.

A reminder carries no name or greeting on purpose: two people with the same numbers get the
same text, so one API call can carry up to 1000 of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.messages import Button, Reply
from bot.wecom.textsplit import TEXT_LIMIT_BYTES
from scheduler import texts


@dataclass(frozen=True, slots=True)
class ReminderLine:
    """One task in a person's reminder."""

    title: str
    done: int
    target: int
    due: date


def fmt_date(d: date) -> str:
    return texts.DATE_FMT.format(m=d.month, d=d.day)


def days_left(due: date, today: date) -> str:
    left = (due - today).days
    return texts.LAST_DAY if left <= 0 else texts.DAYS_LEFT.format(days=left)


def render_reminder(lines: Sequence[ReminderLine], today: date) -> str:
    """One message listing every task the person is behind on, and how to report."""
    out = [texts.REMINDER_HEAD.format(n=len(lines))]
    for i, line in enumerate(lines, 1):
        out.append(texts.REMINDER_LINE.format(i=i, title=line.title, done=line.done, target=line.target,
                                              missing=max(line.target - line.done, 0), due=fmt_date(line.due),
                                              left=days_left(line.due, today)))
    out.append(texts.HOW_TO_REPORT)
    out.append(texts.SEE_PROGRESS)
    return "\n".join(out)


def render_reminder_card(line: ReminderLine, task_id: int, today: date, *, snoozable: bool = True) -> Reply:
    """One task's reminder as a Reply with buttons: a template card on WeCom, its text twin elsewhere.

    Same numbers, same card: like the text reminder it carries no name, so it is the same for everyone
    at the same point (the card's WeCom task_id, which is per person, is set by the sender)."""
    missing = max(line.target - line.done, 0)
    text = texts.CARD_TEXT.format(title=line.title, done=line.done, target=line.target, missing=missing,
                                  due=fmt_date(line.due), left=days_left(line.due, today))
    buttons = [Button("progress", texts.BUTTON_PROGRESS, texts.COMMAND_PROGRESS, done_label=""),
               Button("how", texts.BUTTON_HOW, texts.COMMAND_HOW.format(task_id=task_id), done_label="")]
    if snoozable:
        buttons.append(Button("snooze", texts.BUTTON_SNOOZE, texts.COMMAND_SNOOZE.format(task_id=task_id)))
    fields = ((texts.CARD_FIELD_DONE, texts.CARD_DONE_VALUE.format(done=line.done, target=line.target)),
              (texts.CARD_FIELD_LEFT, days_left(line.due, today)),
              (texts.CARD_FIELD_DUE, fmt_date(line.due)))
    return Reply(text, kind="reminder", title=texts.CARD_TITLE.format(title=line.title), fields=fields,
                 buttons=tuple(buttons))


@dataclass(frozen=True, slots=True)
class BehindPerson:
    userid: str
    name: str
    village: str
    done: int


@dataclass(frozen=True, slots=True)
class EscalationSection:
    """One task whose period ended, with the people still behind."""

    title: str
    period_key: str
    target: int
    due: date
    behind: Sequence[BehindPerson]


def render_escalation(sections: Sequence[EscalationSection], today: date,
                      limit_bytes: int = TEXT_LIMIT_BYTES) -> str:
    """The office summary, grouped by task then village, cut to one WeCom message.

    When not everyone fits, the text stops at a whole name and ends with how many were left out.
    """
    total = sum(len(sec.behind) for sec in sections)
    text, shown = _escalation_within(sections, today, limit_bytes)
    if shown == total:
        return text
    more = texts.ESCALATION_MORE.format(n=total)
    text, shown = _escalation_within(sections, today, limit_bytes - len(more.encode()) - 1)
    return text + "\n" + texts.ESCALATION_MORE.format(n=total - shown)


def _escalation_within(sections: Sequence[EscalationSection], today: date, limit: int) -> tuple[str, int]:
    out = _Budget(limit)
    shown = 0
    out.add(texts.ESCALATION_HEAD.format(when=fmt_date(today)), "")
    for sec in sections:
        header = texts.ESCALATION_TASK.format(title=sec.title, period=sec.period_key, target=sec.target,
                                              due=fmt_date(sec.due), behind=len(sec.behind))
        out.add(header, "\n")
        by_village: dict[str, list[BehindPerson]] = {}
        for p in sorted(sec.behind, key=lambda p: (p.village, p.name, p.userid)):
            by_village.setdefault(p.village or texts.ESCALATION_NO_VILLAGE, []).append(p)
        for village, people in by_village.items():
            prefix = texts.ESCALATION_VILLAGE.format(village=village, people="")
            for i, p in enumerate(people):
                name = texts.ESCALATION_PERSON.format(name=p.name or p.userid, done=p.done, target=sec.target)
                if out.add(prefix + name if i == 0 else name, "\n" if i == 0 else "、"):
                    shown += 1
    return "".join(out.parts), shown


class _Budget:
    """Appends pieces while they fit in a byte budget; once one does not fit, accepts nothing more."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.parts: list[str] = []
        self.full = False

    def add(self, text: str, sep: str) -> bool:
        piece = (sep if self.parts else "") + text
        width = len(piece.encode())
        if self.full or self.size + width > self.limit:
            self.full = True
            return False
        self.parts.append(piece)
        self.size += width
        return True


@dataclass(frozen=True, slots=True)
class Undelivered:
    userid: str
    name: str
    village: str
    reason: str


def render_undelivered(items: Sequence[Undelivered], limit_bytes: int = TEXT_LIMIT_BYTES) -> str:
    """The office notice listing people a reminder could not reach, and why."""
    lines = [texts.UNDELIVERED_HEAD]
    for item in sorted(items, key=lambda i: (i.village, i.userid)):
        lines.append(texts.UNDELIVERED_LINE.format(name=item.name or item.userid, village=item.village or "-",
                                                   userid=item.userid, reason=item.reason))
    kept: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        width = len(line.encode()) + 1
        last = i == len(lines) - 1
        reserve = 0 if last else len(texts.UNDELIVERED_MORE.format(n=len(lines)).encode()) + 1
        if size + width + reserve > limit_bytes:
            kept.append(texts.UNDELIVERED_MORE.format(n=len(lines) - i))
            break
        kept.append(line)
        size += width
    return "\n".join(kept)
