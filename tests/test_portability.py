"""Queries stay portable (信创: PostgreSQL-compatible openGauss / KingbaseES through their SQLAlchemy
dialects): no raw SQL strings outside a reviewed list, and dialect-specific constructs only in the
reviewed places, each with a SQLite and a PostgreSQL branch (both exercised by the suites that run
on both databases). A new raw query or dialect import makes this fail until it is reviewed here."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.config import ROOT

PACKAGES = ("app", "bot", "console", "handlers", "knowledge", "scheduler", "tracking")
# (file, what) pairs that are reviewed: ON CONFLICT DO NOTHING inserts (PostgreSQL ≥ 9.5 syntax, which
# KingbaseES has; openGauss and DM are untested), the health check's SELECT 1, and the advisory lock
# that serialises start-up migrations on PostgreSQL (pg_advisory_lock: also in KingbaseES and openGauss).
REVIEWED_DIALECT = {
    "bot/write_behind.py", "tracking/photos.py", "tracking/reports.py", "scheduler/delivery.py",
}
# Files that hand SQL strings to the driver themselves (exec_driver_sql): the write-behind's multi-row
# INSERT … ON CONFLICT DO NOTHING, built from the table's columns in the driver's parameter style.
REVIEWED_DRIVER_SQL = {"bot/write_behind.py"}
REVIEWED_RAW_SQL = {
    ("bot/db/database.py", "SELECT 1"),
    ("bot/db/database.py", "SELECT pg_advisory_lock(:k)"),
    ("bot/db/database.py", "SELECT pg_advisory_unlock(:k)"),
}


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_dialect_specific_constructs_only_where_reviewed() -> None:
    found = set()
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy.dialects"):
                found.add(path.relative_to(ROOT).as_posix())
    assert found <= REVIEWED_DIALECT, sorted(found - REVIEWED_DIALECT)


def test_no_raw_sql_strings_outside_the_reviewed_ones() -> None:
    found = set()
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "text"
                    and node.args and isinstance(node.args[0], ast.Constant | ast.JoinedStr)):
                arg = node.args[0]
                sql = arg.value if isinstance(arg, ast.Constant) else ast.unparse(arg)
                found.add((path.relative_to(ROOT).as_posix(), str(sql)))
    assert found <= REVIEWED_RAW_SQL, sorted(found - REVIEWED_RAW_SQL)


def test_sql_handed_to_the_driver_only_where_reviewed() -> None:
    found = set()
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "exec_driver_sql":
                found.add(path.relative_to(ROOT).as_posix())
    assert found <= REVIEWED_DRIVER_SQL, sorted(found - REVIEWED_DRIVER_SQL)


def test_the_schema_compiles_for_postgresql_compatible_dialects() -> None:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateTable

    from bot.db.models import Base

    for dialect in (postgresql.dialect(), sqlite.dialect()):
        for table in Base.metadata.sorted_tables:
            assert "CREATE TABLE" in str(CreateTable(table).compile(dialect=dialect))
