"""名单 upload and sync: what an import would change, shown before anything is written.

The rows of a preview are kept in the state store under a random token for half an hour, so the
office applies exactly what it saw (and a second server process can apply it too).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Person
from tracking.roster import RosterRow, RowError

if TYPE_CHECKING:
    from bot.state.base import StateStore

PREVIEW_TTL_S = 1800
FIELDS = ("name", "village", "role", "active")


@dataclass
class Change:
    row: RosterRow
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class RosterPreview:
    added: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: list[Change] = field(default_factory=list)
    not_in_file: list[Person] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    token: str = ""


def preview(session: Session, rows: list[RosterRow], errors: list[RowError]) -> RosterPreview:
    """Compare the rows with the roster the way tracking.roster.import_roster would apply them."""
    people = {p.userid: p for p in session.scalars(select(Person))}
    out = RosterPreview(errors=list(errors))
    for row in rows:
        person = people.get(row.userid)
        if person is None:
            out.added.append(Change(row))
            continue
        active = True if row.active is None else row.active
        new = {"name": row.name, "village": row.village, "role": row.role, "active": active}
        diff = {k: (getattr(person, k), v) for k, v in new.items() if getattr(person, k) != v}
        (out.updated if diff else out.unchanged).append(Change(row, diff))
    in_file = {r.userid for r in rows}
    out.not_in_file = sorted((p for u, p in people.items() if u not in in_file and p.active),
                             key=lambda p: (p.village, p.userid))
    return out


def keep(state: StateStore, rows: list[RosterRow], source: str) -> str:
    token = secrets.token_urlsafe(16)
    state.set_json(f"console:roster:{token}", {"source": source, "rows": [
        [r.row, r.userid, r.name, r.village, r.role, r.active] for r in rows]}, PREVIEW_TTL_S)
    return token


def take(state: StateStore, token: str) -> tuple[str, list[RosterRow]] | None:
    """The kept rows (once: applying twice would be a second import nobody previewed)."""
    if not token or len(token) > 64:
        return None
    key = f"console:roster:{token}"
    data = state.get_json(key)
    if not isinstance(data, dict):
        return None
    state.delete(key)
    return str(data.get("source", "")), [RosterRow(*item) for item in data.get("rows", [])]
