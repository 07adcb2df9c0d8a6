"""Export reports to .xlsx (openpyxl) or .csv (UTF-8 with BOM, so Excel opens it) with Chinese headers."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.db.models import Report
from tracking import texts


class ExportError(ValueError):
    """The file's ending is neither .xlsx nor .csv."""


def export_rows(reports: Sequence[Report], names: dict[str, str], tz: ZoneInfo) -> list[list[object]]:
    """One row per report in the order of texts.EXPORT_HEADERS; times in the office's zone."""
    rows: list[list[object]] = []
    for r in reports:
        created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=timezone.utc)
        rows.append([
            r.id, names.get(r.userid, ""), r.userid, r.village, r.activity_date.isoformat(), r.activity,
            r.participants if r.participants is not None else "", r.task.title if r.task else "", len(r.photos),
            texts.STATUS_NAMES.get(r.status, r.status), created.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        ])
    return rows


def write_export(path: Path, rows: list[list[object]]) -> None:
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(texts.EXPORT_HEADERS)
            writer.writerows(rows)
        return
    if suffix == ".xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        wb = Workbook()
        ws = wb.active
        ws.title = "报送记录"
        ws.append(texts.EXPORT_HEADERS)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        widths = [8, 10, 14, 14, 12, 48, 10, 24, 8, 8, 18]
        for i, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = "A2"
        wb.save(path)
        return
    raise ExportError(f"{path.name}: the file must end in .xlsx or .csv")


def export_stamp(tz: ZoneInfo) -> str:
    return datetime.now(timezone.utc).astimezone(tz).strftime("%Y%m%d-%H%M")
