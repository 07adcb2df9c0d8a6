"""Read the WeCom address book a self-built app may see: `department/list` and `user/list` inside the
app's visibility (since 2022 that is all a self-built app reads; outside it WeCom answers 60011).

A department the app cannot read is skipped and named, so a partial visibility still syncs what it can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_PRIVILEGE = 60011


class ContactsError(RuntimeError):
    """The address book could not be read at all (no token, no department visible, network)."""


@dataclass(frozen=True, slots=True)
class Department:
    id: int
    name: str
    parentid: int


@dataclass(frozen=True, slots=True)
class Member:
    userid: str
    name: str
    departments: tuple[int, ...]
    main_department: int | None
    active: bool  # status 1 = activated; 2 disabled, 4 not yet activated, 5 left


@dataclass
class AddressBook:
    departments: dict[int, Department] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # departments answered 60011


def read_address_book(sender: Any) -> AddressBook:
    """Departments, then each department's direct members (one user/list per department)."""
    call = getattr(sender, "_call", None)
    if call is None:
        raise ContactsError("no WeCom connection (WECOM_SECRET not set)")
    answer = call("get", "department/list")
    if answer.errcode != 0:
        raise ContactsError(f"department/list: {answer.errcode} {answer.errmsg}")
    book = AddressBook()
    for item in answer.data.get("department") or []:
        dept = Department(int(item["id"]), str(item.get("name") or item["id"]), int(item.get("parentid") or 0))
        book.departments[dept.id] = dept
    seen: set[str] = set()
    for dept_id in sorted(book.departments):
        answer = call("get", "user/list", params={"department_id": str(dept_id)})
        if answer.errcode == NO_PRIVILEGE:
            book.refused.append(dept_id)
            continue
        if answer.errcode != 0:
            raise ContactsError(f"user/list {dept_id}: {answer.errcode} {answer.errmsg}")
        for item in answer.data.get("userlist") or []:
            userid = str(item.get("userid") or "")
            if not userid or userid in seen:
                continue
            seen.add(userid)
            depts = tuple(int(d) for d in item.get("department") or [])
            main = item.get("main_department")
            book.members.append(Member(userid, str(item.get("name") or ""), depts,
                                       int(main) if main is not None else (depts[0] if depts else None),
                                       int(item.get("status", 1)) == 1))
    return book
