"""The roster: liaisons and admins imported from CSV or XLSX (our headers or a WeCom address-book export).

Importing updates people by userid. Nobody is deactivated silently: people missing from the file
are listed, left as they are; a row's `active` column (启用) is the only way to switch someone off.
A bad row is reported by its row number and the good rows still load.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Person

HEADERS = {
    "userid": ("userid", "user_id", "账号", "帐号", "成员账号", "企业微信账号", "userid(账号)"),
    "name": ("name", "姓名", "名字"),
    "village": ("village", "部门", "所属部门", "村居", "村/社区", "村社区"),
    "role": ("role", "角色", "身份"),
    "active": ("active", "启用", "是否启用", "在册"),
}
ADMIN_WORDS = {"admin", "管理员", "administrator", "办公室", "统战办"}
INACTIVE_WORDS = {"0", "false", "no", "n", "否", "停用", "禁用", "inactive", "离职"}
USERID_RE = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")
MAX_HEADER_SEARCH = 10


class RosterFileError(ValueError):
    """Nothing could be read from the file (missing, unknown format, no header row)."""


@dataclass(frozen=True, slots=True)
class RosterRow:
    row: int
    userid: str
    name: str
    village: str
    role: str
    active: bool | None  # None: the file has no active column


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    reason: str


@dataclass
class RosterRead:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    not_in_file: list[Person] = field(default_factory=list)


def _cells(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
            raise RosterFileError(f"cannot read {path.name} as XLSX ({exc.__class__.__name__})") from None
        try:
            return [["" if v is None else str(v).strip() for v in row] for row in wb.active.iter_rows(values_only=True)]
        finally:
            wb.close()
    if suffix in (".csv", ".txt", ""):
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterFileError(f"cannot decode {path.name} (expected UTF-8 or GBK)")
        dialect = csv.excel_tab if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",") else csv.excel
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    raise RosterFileError(f"{path.name}: use a .csv or .xlsx file")


def _header_map(row: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(row):
        label = cell.strip().lower().replace(" ", "")
        for fld, names in HEADERS.items():
            if fld not in found and label in {n.lower() for n in names}:
                found[fld] = i
    return found


def village_from_department(value: str) -> str:
    """A WeCom department cell such as 'XX街道/红山郡社区;党建办' -> 红山郡社区."""
    first = re.split(r"[;；,，]", value.strip())[0]
    return first.split("/")[-1].strip()


def read_roster_file(path: str | Path) -> RosterRead:
    """The people in the file and the rows that could not be read (with 1-based spreadsheet row numbers)."""
    path = Path(path)
    if not path.is_file():
        raise RosterFileError(f"file not found: {path}")
    cells = _cells(path)
    header_at, cols = None, {}
    for i, row in enumerate(cells[:MAX_HEADER_SEARCH]):
        cols = _header_map(row)
        if "userid" in cols:
            header_at = i
            break
    if header_at is None:
        raise RosterFileError(f"{path.name}: no header row with userid/账号 found in the first rows")
    out = RosterRead()
    seen: dict[str, int] = {}

    def cell(row: list[str], fld: str) -> str:
        idx = cols.get(fld)
        return row[idx].strip() if idx is not None and idx < len(row) else ""

    for offset, row in enumerate(cells[header_at + 1:], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue
        userid, name = cell(row, "userid"), cell(row, "name")
        if not userid:
            out.errors.append(RowError(offset, "缺少账号(userid)"))
            continue
        if not USERID_RE.match(userid):
            out.errors.append(RowError(offset, f"账号格式不正确：{userid[:30]}"))
            continue
        if not name:
            out.errors.append(RowError(offset, f"缺少姓名（账号 {userid}）"))
            continue
        if userid in seen:
            out.errors.append(RowError(offset, f"账号 {userid} 与第{seen[userid]}行重复"))
            continue
        seen[userid] = offset
        role = "admin" if cell(row, "role").strip().lower() in ADMIN_WORDS else "liaison"
        active_cell = cell(row, "active")
        active = None if "active" not in cols or not active_cell else active_cell.lower() not in INACTIVE_WORDS
        out.rows.append(RosterRow(offset, userid, name[:64], village_from_department(cell(row, "village"))[:128],
                                  role, active))
    return out


def import_roster(session: Session, rows: list[RosterRow]) -> ImportResult:
    """Create or update people by userid; report who is on the roster but not in the file."""
    result = ImportResult()
    people = {p.userid: p for p in session.scalars(select(Person)).all()}
    in_file = set()
    for row in rows:
        in_file.add(row.userid)
        person = people.get(row.userid)
        active = True if row.active is None else row.active
        if person is None:
            session.add(Person(userid=row.userid, name=row.name, village=row.village, role=row.role, active=active))
            result.created.append(row.userid)
            continue
        changed = False
        if not person.active and active:
            result.reactivated.append(row.userid)
        for attr, value in (("name", row.name), ("village", row.village), ("role", row.role), ("active", active)):
            if getattr(person, attr) != value:
                setattr(person, attr, value)
                changed = True
        (result.updated if changed else result.unchanged).append(row.userid)
    result.not_in_file = sorted((p for u, p in people.items() if u not in in_file and p.active),
                                key=lambda p: (p.village, p.userid))
    session.flush()
    return result


def roster_villages(session: Session) -> list[str]:
    """Distinct villages of active people (for recognising a named village in a report)."""
    rows = session.scalars(select(Person.village).where(Person.active.is_(True)).distinct()).all()
    return sorted(v for v in rows if v)
