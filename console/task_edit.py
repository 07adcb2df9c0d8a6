"""任务 edits: tasks.yaml stays the file of record, so an edit on the console rewrites that file
(validated exactly as a hand edit would be) and syncs it into the database."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tracking.tasks import TasksFileError, _spec, load_tasks_file, sync_tasks, write_tasks_file

_STAGE = re.compile(r"^\s*(\d{1,3})\s*[天日]?\s+([01]?\d|2[0-3])[:：]([0-5]\d)\s*$")


class TaskEditError(ValueError):
    """The edit is invalid; the message says which field and why, in Chinese."""


def parse_stages(text: str) -> list[dict[str, Any]] | None:
    """'7 09:30' per line -> [{days_before: 7, time: '09:30'}]; blank -> None (the default stages)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    stages = []
    for line in lines:
        m = _STAGE.match(line)
        if not m:
            raise TaskEditError(f"提醒时间格式不对：「{line.strip()[:20]}」，应为「7 09:30」")
        stages.append({"days_before": int(m.group(1)), "time": f"{int(m.group(2)):02d}:{m.group(3)}"})
    return stages


def edit_task(session: Session, tasks_file: Path, key: str, form: dict[str, str]) -> dict[str, list[Any]]:
    """Apply the form to the task `key` in tasks.yaml, write it, sync; returns the changes made."""
    specs = load_tasks_file(tasks_file)
    found = next((s for s in specs if s.key == key), None)
    if found is None:
        raise TaskEditError("任务不存在")
    title = form.get("title", "").strip()
    if not title or len(title) > 128:
        raise TaskEditError("名称不能为空（最多128字）")
    try:
        target = int(form.get("target", ""))
    except ValueError:
        raise TaskEditError("每期目标应为正整数") from None
    changes: dict[str, Any] = {"title": title, "target": target, "cadence": form.get("cadence", found.cadence),
                               "status": _status(found.status, form.get("active") == "1"),
                               "reminder_stages": parse_stages(form.get("stages", ""))}
    due = form.get("due_date", "").strip()
    try:
        changes["due_date"] = date.fromisoformat(due) if due else None
    except ValueError:
        raise TaskEditError("截止日期应为 YYYY-MM-DD") from None
    day = form.get("deadline_day", "").strip()
    if day and not (day.isdigit() and 1 <= int(day) <= 31):
        raise TaskEditError("每月截止日应为 1–31")
    changes["deadline_day"] = int(day) if day else None
    updated = replace(found, **changes)
    try:
        _spec(updated.to_yaml(), 1)  # the file's own validation
    except TasksFileError as exc:
        raise TaskEditError(str(exc).split(": ", 1)[-1]) from None
    diff = {k: [_plain(getattr(found, k)), _plain(v)] for k, v in changes.items() if getattr(found, k) != v}
    write_tasks_file([updated if s.key == key else s for s in specs], tasks_file)
    sync_tasks(session, tasks_file)
    return diff


def _status(current: str, checked: bool) -> str:
    """The 启用 box: checked is active; unchecked leaves a proposal proposed, switches a task off."""
    if checked:
        return "active"
    return "proposed" if current == "proposed" else "inactive"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
