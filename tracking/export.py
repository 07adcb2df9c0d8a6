"""Export reports to .xlsx (openpyxl) or .csv (UTF-8 with BOM, so Excel opens it) with Chinese headers."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.db.models import Report
from tracking import texts

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(value: object) -> object:
    """OWASP CSV-injection advice: a text cell that a spreadsheet would read as a formula (starting
    with = + - @, a tab or CR; full-width forms too, which some spreadsheets fold) gets a leading
    single quote, so it shows as typed and is never evaluated. Numbers and dates are untouched."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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


DATE_COLUMNS = {"活动日期": "%Y-%m-%d"}
DATETIME_COLUMNS = {"报送时间": "%Y-%m-%d %H:%M"}


def _cell_value(header: str, value: object) -> object:
    """Dates and times as real spreadsheet cells (sortable, filterable), not text."""
    if isinstance(value, str) and value:
        try:
            if header in DATE_COLUMNS:
                return datetime.strptime(value, DATE_COLUMNS[header]).date()
            if header in DATETIME_COLUMNS:
                return datetime.strptime(value, DATETIME_COLUMNS[header])
        except ValueError:
            return value
    return value


def write_export(path: Path, rows: list[list[object]],
                 progress: tuple[Sequence[str], Sequence[Sequence[object]]] | None = None) -> None:
    """Write the rows; an .xlsx also gets real date cells and, when given, a progress sheet
    (headers, rows) of who has done what of each task."""
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(texts.EXPORT_HEADERS)
            writer.writerows([neutralise(v) for v in row] for row in rows)
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
        headers = list(texts.EXPORT_HEADERS)
        for row in rows:
            ws.append([neutralise(_cell_value(headers[i] if i < len(headers) else "", v)) for i, v in enumerate(row)])
        for i, header in enumerate(headers, 1):
            fmt = {**DATE_COLUMNS, **DATETIME_COLUMNS}.get(header)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = "yyyy-mm-dd" if header in DATE_COLUMNS else "yyyy-mm-dd hh:mm"
        widths = [8, 10, 14, 14, 12, 48, 10, 24, 8, 8, 18]
        for i, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = "A2"
        if progress is not None:
            sheet = wb.create_sheet(texts.PROGRESS_SHEET)
            sheet.append(list(progress[0]))
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for prow in progress[1]:
                sheet.append([neutralise(v) for v in prow])
            for i in range(1, len(progress[0]) + 1):
                sheet.column_dimensions[get_column_letter(i)].width = 16
            sheet.freeze_panes = "A2"
        wb.save(path)
        return
    raise ExportError(f"{path.name}: the file must end in .xlsx or .csv")


def export_stamp(tz: ZoneInfo) -> str:
    return datetime.now(timezone.utc).astimezone(tz).strftime("%Y%m%d-%H%M")
