"""The editable lists kept in the database: statuses, sources, lost reasons.

Anyone may read them; changing them needs the admin permission, which each
change checks itself (exit 4).
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from leadctl.errors import Conflict, InvalidInput, NotFound
from leadctl.models import CHOICE, Activity, Choice, Lead
from leadctl.users import Actor, require_permission

LISTS = {"status": "status", "source": "source", "lost_reason": "lost reason"}
NOUNS = {"status": "pipeline statuses", "source": "lead sources", "lost_reason": "lost reasons"}
STATUS_ROLES = ["open", "side", "won", "final"]
_LEAD_COLUMN = {
    "status": col(Lead.status),
    "source": col(Lead.source),
    "lost_reason": col(Lead.lost_reason),
}


CLOSED_ROLES = ("won", "final")  # a lead in such a status is done with: converted, lost, …


def closed_statuses(target: Session | Connection) -> list[str]:
    """The statuses a lead's work ends in (won: converted; final: lost,
    unqualified): such a lead has no next call, is not open, not in the pool."""
    conn = target if isinstance(target, Connection) else target.connection()
    table = CHOICE
    statement = core_select(table.c.name).where(
        table.c.list == "status", table.c.role.in_(CLOSED_ROLES)
    )
    return list(conn.execute(statement.order_by(table.c.position)).scalars())


def entries(session: Session, list_name: str) -> list[Choice]:
    statement = select(Choice).where(Choice.list == list_name).order_by(col(Choice.position))
    return list(session.exec(statement))


def names(session: Session, list_name: str) -> list[str]:
    return [entry.name for entry in entries(session, list_name)]


def find(session: Session, list_name: str, name: str) -> Choice:
    """The entry named ``name`` (case-insensitive), else exit 1 naming the list."""
    folded = name.strip().casefold()
    found = entries(session, list_name)
    for entry in found:
        if entry.name.casefold() == folded:
            return entry
    allowed = ", ".join(entry.name for entry in found)
    raise NotFound(f"unknown {LISTS[list_name]} {name!r}: expected one of {allowed}")


def _require_admin(who: Actor, list_name: str) -> None:
    require_permission(who, "admin", f"edit the {NOUNS[list_name]}")


def add(
    session: Session,
    who: Actor,
    list_name: str,
    name: str,
    *,
    position: int | None = None,
    role: str | None = None,
) -> Choice:
    """Insert an entry at ``position`` (1-based; default last), shifting the rest."""
    _require_admin(who, list_name)
    name = name.strip()
    if not name:
        raise InvalidInput(f"invalid {LISTS[list_name]}: empty name")
    current = entries(session, list_name)
    if any(entry.name.casefold() == name.casefold() for entry in current):
        raise Conflict(f"{LISTS[list_name]} {name!r} already exists")
    if role is not None and role not in STATUS_ROLES:
        raise InvalidInput(f"invalid role {role!r}: expected one of {', '.join(STATUS_ROLES)}")
    last = len(current) + 1
    position = last if position is None else position
    if not 1 <= position <= last:
        raise InvalidInput(f"invalid position {position}: expected 1 to {last}")
    for entry in current:
        if entry.position >= position:
            entry.position += 1
            session.add(entry)
    entry = Choice(list=list_name, name=name, position=position, role=role)
    session.add(entry)
    session.flush()
    return entry


def rename(session: Session, who: Actor, list_name: str, old: str, new: str) -> Choice:
    """Rename an entry and every lead that carries it, in one transaction."""
    _require_admin(who, list_name)
    entry = find(session, list_name, old)
    new = new.strip()
    if not new:
        raise InvalidInput(f"invalid {LISTS[list_name]}: empty name")
    clash = [e for e in entries(session, list_name) if e.name.casefold() == new.casefold()]
    if clash and clash[0].id != entry.id:
        raise Conflict(f"{LISTS[list_name]} {new!r} already exists")
    column = _LEAD_COLUMN[list_name]
    session.exec(update(Lead).where(column == entry.name).values({column: new}))
    if list_name == "status":  # the history follows, so reports still count past moves
        for side in (col(Activity.old_value), col(Activity.new_value)):
            session.exec(
                update(Activity)
                .where(col(Activity.field) == "status", side == entry.name)
                .values({side: new})
            )
    entry.name = new
    session.add(entry)
    return entry


def set_role(session: Session, who: Actor, name: str, role: str) -> Choice:
    """Set a status's role (open, side, won or final)."""
    _require_admin(who, "status")
    if role not in STATUS_ROLES:
        raise InvalidInput(f"invalid role {role!r}: expected one of {', '.join(STATUS_ROLES)}")
    entry = find(session, "status", name)
    entry.role = role
    session.add(entry)
    return entry


def remove(session: Session, who: Actor, list_name: str, name: str) -> None:
    """Remove an entry no lead uses (exit 3 naming how many still do)."""
    _require_admin(who, list_name)
    entry = find(session, list_name, name)
    column = _LEAD_COLUMN[list_name]
    used = session.exec(select(func.count()).select_from(Lead).where(column == entry.name)).one()
    if used:
        raise Conflict(
            f"{LISTS[list_name]} {entry.name!r} is used by {used} lead(s); "
            "rename it or move those leads first"
        )
    session.delete(entry)
    for other in entries(session, list_name):
        if other.position > entry.position:
            other.position -= 1
            session.add(other)
