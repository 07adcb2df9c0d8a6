"""CLI verbs: roster import|list, tasks list|extract|approve, reports list|export (see INTERFACE.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tracking import texts

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db.database import Database


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser_class = subparsers._parser_class  # the lead's parser: bad usage -> exit 2
    roster = subparsers.add_parser("roster", help="liaisons and admins")
    rsub = roster.add_subparsers(dest="roster_verb", required=True, parser_class=parser_class)
    imp = rsub.add_parser("import", help="import people from CSV or XLSX")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_roster_import)
    lst = rsub.add_parser("list", help="list the roster")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_roster_list)

    tasks = subparsers.add_parser("tasks", help="tasks from the plan")
    tsub = tasks.add_subparsers(dest="tasks_verb", required=True, parser_class=parser_class)
    tl = tsub.add_parser("list", help="tasks with cadence, target and source clause")
    tl.add_argument("--json", action="store_true")
    tl.set_defaults(func=cmd_tasks_list)
    te = tsub.add_parser("extract", help="the tasks the plan files yield; new ones are recorded as proposals")
    te.add_argument("--json", action="store_true")
    te.add_argument("--write", metavar="FILE", help="merge into FILE instead of the configured tasks file")
    te.add_argument("--dry-run", action="store_true", help="show only, change no file")
    te.set_defaults(func=cmd_tasks_extract)
    ta = tsub.add_parser("approve", help="make proposed tasks active: KEY… or all")
    ta.add_argument("keys", nargs="+", metavar="KEY")
    ta.set_defaults(func=cmd_tasks_approve)

    reports = subparsers.add_parser("reports", help="reports from liaisons")
    psub = reports.add_subparsers(dest="reports_verb", required=True, parser_class=parser_class)
    pl = psub.add_parser("list", help="list reports")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--since", type=_iso_date, metavar="YYYY-MM-DD")
    pl.add_argument("--village")
    pl.set_defaults(func=cmd_reports_list)
    pe = psub.add_parser("export", help="export to .xlsx or .csv")
    pe.add_argument("file")
    pe.add_argument("--since", type=_iso_date, metavar="YYYY-MM-DD")
    pe.add_argument("--village")
    pe.set_defaults(func=cmd_reports_export)


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from None


def _fail(message: str) -> int:
    print(f"run.py: {message}", file=sys.stderr)
    return 2


def _db(settings: Settings) -> Database:
    from bot.db.database import Database

    db = Database(settings.database_url)
    db.upgrade()
    return db


def _sync(db: Database, settings: Settings) -> None:
    from tracking.tasks import sync_tasks

    if Path(settings.tasks_file).exists():
        with db.session() as session:
            sync_tasks(session, Path(settings.tasks_file))


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False))


# ---------------------------------------------------------------- roster


def cmd_roster_import(args: argparse.Namespace, settings: Settings) -> int:
    from tracking.roster import RosterFileError, import_roster, read_roster_file

    try:
        read = read_roster_file(args.file)
    except RosterFileError as exc:
        return _fail(str(exc))
    for err in read.errors:
        print(texts.CLI_ROSTER_ROW_ERROR.format(row=err.row, reason=err.reason))
    if not read.rows:
        return _fail(f"{args.file}: {texts.CLI_ROSTER_NOTHING}")
    db = _db(settings)
    try:
        with db.session() as session:
            result = import_roster(session, read.rows)
            missing = [(p.userid, p.name, p.village) for p in result.not_in_file]
    finally:
        db.dispose()
    print(texts.CLI_ROSTER_SUMMARY.format(rows=len(read.rows), created=len(result.created),
                                          updated=len(result.updated), unchanged=len(result.unchanged),
                                          errors=len(read.errors)))
    if result.reactivated:
        print(texts.CLI_ROSTER_REACTIVATED.format(who="、".join(result.reactivated)))
    if missing:
        print(texts.CLI_ROSTER_NOT_IN_FILE.format(n=len(missing)))
        for userid, name, village in missing:
            print(f"  {userid}\t{name}\t{village}")
    return 0


def cmd_roster_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.models import Person

    db = _db(settings)
    try:
        with db.session() as session:
            people = session.scalars(select(Person).order_by(Person.role.desc(), Person.village, Person.userid)).all()
            rows = [{"userid": p.userid, "name": p.name, "village": p.village, "role": p.role, "active": p.active}
                    for p in people]
    finally:
        db.dispose()
    for row in rows:
        if args.json:
            _emit(row)
        else:
            state = "" if row["active"] else "（停用）"
            print(f"{row['userid']}\t{row['name']}\t{row['village'] or '-'}\t"
                  f"{texts.ROLE_NAMES.get(str(row['role']), row['role'])}{state}")
    return 0


# ---------------------------------------------------------------- tasks


def _task_dict(t: Any) -> dict[str, Any]:
    return {"key": t.key, "title": t.title, "cadence": t.cadence, "target": t.target,
            "deadline_day": t.deadline_day, "due_date": t.due_date.isoformat() if t.due_date else None,
            "audience": t.audience, "status": t.status,
            "source": {"doc": t.source_doc, "file": t.source_file, "section": t.source_section,
                       "clause": t.source_text},
            "audience_filter": t.audience_filter or {}, "keywords": list(t.keywords or []),
            "reminder_stages": t.reminder_stages, "active": t.active}


def _print_task(d: dict[str, Any]) -> None:
    if d.get("due_date"):
        when = f"，截止{d['due_date']}"
    elif d.get("deadline_day"):
        when = texts.CLI_TASK_DEADLINE.format(day=d["deadline_day"])
    else:
        when = ""
    state = texts.STATUS_LABELS.get(d.get("status", "active"), d.get("status", ""))
    where = "｜".join(x for x in (d["source"].get("file"), d["source"].get("section")) if x)
    print(f"{d['key']}  {d['title']}（{state}）\n    {texts.CADENCE_LABELS.get(d['cadence'], d['cadence'])} "
          f"{d['target']} 次{when}，对象：{texts.AUDIENCE_LABELS.get(d['audience'], d['audience'])}"
          + (f"\n    关键词：{'、'.join(d['keywords'])}" if d.get("keywords") else "")
          + f"\n    出处：{where}｜{d['source']['clause']}")


def cmd_tasks_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.models import Task
    from tracking.tasks import TasksFileError

    db = _db(settings)
    try:
        try:
            _sync(db, settings)
        except TasksFileError as exc:
            return _fail(str(exc))
        with db.session() as session:
            rows = [_task_dict(t) for t in session.scalars(select(Task).order_by(Task.id)).all()]
    finally:
        db.dispose()
    for row in rows:
        _emit(row) if args.json else _print_task(row)
    return 0


def cmd_tasks_extract(args: argparse.Namespace, settings: Settings) -> int:
    from app.plans import propose_from_corpus
    from tracking.tasks import TasksFileError

    target = Path(args.write) if args.write else Path(settings.tasks_file)
    try:
        result, report = propose_from_corpus(Path(settings.knowledge.corpus_dir), target, write=not args.dry_run)
    except TasksFileError as exc:
        return _fail(str(exc))
    for problem in report.errors + report.skipped:
        print(texts.CLI_PLAN_PROBLEM.format(file=problem.file, reason=problem.reason), file=sys.stderr)
    status = {s.key: s.status for s in result.tasks}
    for spec in result.extracted:
        row = spec.row() | {"status": status.get(spec.key, spec.status)}
        if args.json:
            _emit(row)
        else:
            _print_task(row | {"keywords": spec.keywords})
    if not args.json:
        print(texts.CLI_TASKS_PROPOSED.format(path=target, added=len(result.added), retired=len(result.retired),
                                              n=len(result.tasks)))
    return 0


def cmd_tasks_approve(args: argparse.Namespace, settings: Settings) -> int:
    from tracking.proposals import approve_tasks
    from tracking.tasks import TasksFileError

    try:
        approved = approve_tasks(Path(settings.tasks_file), args.keys)
    except TasksFileError as exc:
        return _fail(str(exc))
    print(texts.CLI_TASKS_APPROVED.format(n=len(approved), keys="、".join(approved) or "-"))
    if approved:
        db = _db(settings)
        try:
            _sync(db, settings)
        finally:
            db.dispose()
    return 0


# ---------------------------------------------------------------- reports


def _reports(settings: Settings, since: date | None, village: str | None) -> tuple[list[Any], dict[str, str], Any]:
    from tracking.reports import list_reports, people_names

    db = _db(settings)
    try:
        with db.session() as session:
            reports = list_reports(session, since=since, village=village)
            for r in reports:  # load what the output needs before the session closes
                _ = r.task, r.photos
            names = people_names(session)
    finally:
        db.dispose()
    return reports, names, settings.tz


def cmd_reports_list(args: argparse.Namespace, settings: Settings) -> int:
    from tracking.export import export_rows
    from tracking.reports import report_record

    reports, names, tz = _reports(settings, args.since, args.village)
    if args.json:
        for r in reports:
            _emit(report_record(r, names))
        return 0
    for row in export_rows(reports, names, tz):
        print("\t".join(str(c) for c in row))
    return 0


def cmd_reports_export(args: argparse.Namespace, settings: Settings) -> int:
    from tracking.export import ExportError, export_rows, write_export

    path = Path(args.file)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        return _fail(f"{path.name}: the file must end in .xlsx or .csv")
    reports, names, tz = _reports(settings, args.since, args.village)
    try:
        write_export(path, export_rows(reports, names, tz))
    except (ExportError, OSError) as exc:
        return _fail(str(exc))
    print(texts.CLI_EXPORTED.format(n=len(reports), path=path))
    return 0
