"""任务: the task list, and one task's edit form (title, target, cadence, deadline, reminder stages,
active); each change is written to tasks.yaml and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.db.models import Task
from bot.periods import CADENCES as EDITABLE_CADENCES
from console import texts
from console.task_edit import TaskEditError, edit_task

if TYPE_CHECKING:
    from console.web import Console



def _stages_text(task: Task) -> str:
    return "\n".join(f"{s.get('days_before')} {s.get('time')}" for s in task.reminder_stages or [])


async def tasks(request: Request, console: Console) -> Response:
    def load() -> list[Task]:
        with console.services.db.session() as session:
            return list(session.scalars(select(Task).order_by(Task.active.desc(), Task.audience, Task.id)))

    return console.render(request, "tasks.html", title=texts.TASKS, tasks=await console.run(load),
                          flash=request.query_params.get("flash", ""))


async def approve(request: Request, console: Console) -> Response:
    """批准: proposed tasks (read from new plan files) become active, in tasks.yaml and the database."""
    from tracking.proposals import approve_tasks
    from tracking.tasks import TasksFileError, sync_tasks

    key = request.path_params["key"]
    tasks_file = console.services.settings.tasks_file

    def act() -> str:
        try:
            approved = approve_tasks(tasks_file, [key] if key != "all" else ["all"])
        except TasksFileError:
            return texts.EMPTY
        with console.services.db.session() as session:
            sync_tasks(session, tasks_file)
        _forget_cache(console)
        console.audit(request, "task-approve", key, approved=approved)
        return texts.TASKS_APPROVED.format(n=len(approved))

    message = await console.run(act)
    from urllib.parse import urlencode

    return RedirectResponse(f"/admin/tasks?{urlencode({'flash': message})}", status_code=303)


def _forget_cache(console: Console) -> None:
    """tracking.tasks.active_tasks caches by the file's mtime; a write within the same tick must not hide."""
    console.services.extras.pop(("tasks_synced", str(console.services.settings.tasks_file),
                                 console.services.db.url), None)


async def task_form(request: Request, console: Console, error: str = "", status: int = 200,
                    values: dict[str, str] | None = None) -> Response:
    """The edit form; after a refused save it shows what the office typed, with the reason."""
    key = request.path_params["key"]

    def load() -> Task | None:
        with console.services.db.session() as session:
            return session.scalar(select(Task).where(Task.key == key))

    task = await console.run(load)
    if task is None:
        return console.render(request, "message.html", status=404, title=texts.TASKS, message=texts.EMPTY)
    cadences = [c for c in texts.CADENCE if c in EDITABLE_CADENCES or c == task.cadence]
    return console.render(request, "task.html", status=status, title=task.title, task=task, error=error,
                          stages=_stages_text(task), cadences=cadences, values=values or {},
                          has_deadline_day=hasattr(task, "deadline_day"))


async def task_save(request: Request, console: Console) -> Response:
    key = request.path_params["key"]
    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> None:
        with console.services.db.session() as session:
            changes = edit_task(session, console.services.settings.tasks_file, key, form)
        _forget_cache(console)
        console.audit(request, "task-edit", key, **changes)

    try:
        await console.run(act)
    except TaskEditError as exc:
        return await task_form(request, console, texts.TASK_INVALID.format(reason=str(exc)), 400, form)
    from urllib.parse import urlencode

    return RedirectResponse(f"/admin/tasks?{urlencode({'flash': texts.TASK_SAVED})}", status_code=303)


def routes(console: Console) -> list[Route]:
    return [
        Route("/tasks", console.page(tasks)),
        Route("/tasks/{key:str}/approve", console.action(approve), methods=["POST"]),
        Route("/tasks/{key:str}", console.page(task_form)),
        Route("/tasks/{key:str}", console.action(task_save), methods=["POST"]),
    ]
