"""`run.py backup FILE` and `run.py restore FILE` (see app.backup for what an archive holds)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import texts

if TYPE_CHECKING:
    from bot.config import Settings


def register(subparsers: Any) -> None:
    backup = subparsers.add_parser("backup", help="write database, photos, spool, corpus and tasks file to FILE")
    backup.add_argument("file", type=Path)
    backup.set_defaults(func=cmd_backup)
    restore = subparsers.add_parser("restore", help="replace database, photos, corpus and tasks file from FILE "
                                                    "(stop the server first)")
    restore.add_argument("file", type=Path)
    restore.set_defaults(func=cmd_restore)


def rows_text(rows: dict[str, int]) -> str:
    keys = ("reports", "people", "tasks", "report_photos")
    return texts.ROWS.format(**{k: rows.get(k, 0) for k in keys})


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from app.backup import BackupError, create_backup

    try:
        manifest = create_backup(settings, args.file)
    except (BackupError, OSError) as exc:
        print(texts.BACKUP_FAILED.format(error=exc), file=sys.stderr)
        return 1
    print(texts.BACKUP_DONE.format(file=args.file, database=manifest.database, revision=manifest.revision,
                                   rows=rows_text(manifest.rows), files=manifest.files))
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from app.backup import BackupError, restore_backup

    if not args.file.is_file():
        print(texts.RESTORE_MISSING.format(file=args.file), file=sys.stderr)
        return 2
    try:
        manifest = restore_backup(settings, args.file)
    except (BackupError, OSError) as exc:
        print(texts.RESTORE_FAILED.format(error=exc), file=sys.stderr)
        return 1
    print(texts.RESTORE_DONE.format(file=args.file, created_at=manifest["created_at"],
                                    rows=rows_text(manifest.get("rows", {}))))
    return 0
