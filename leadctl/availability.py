"""Who can take leads now: users away (from a moment, until one or until
back), their capacity (the most open leads round-robin gives them) and their
routing attributes (territory, industries), and everyone's open-lead load.

A user is away from ``away_from`` until ``away_until`` (None: until `user
back`), as the one clock (:func:`leadctl.clock.now`, ``LEADCTL_NOW``) reads
it: once ``away_until`` has passed they are available again, nothing to undo.
A user's load is the leads they own that are open (not in a closed status,
not merged away). :class:`Roster` holds both for a command, read in two
queries, and counts the leads the command deals as it goes.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from leadctl import clock, lists
from leadctl.clock import as_utc
from leadctl.errors import InvalidInput
from leadctl.models import LEAD, User
from leadctl.users import Actor, get_user, require_permission

MAX_CAPACITY = 100_000
MAX_VALUES = 200  # territories or industries of one user
MAX_VALUE_CHARS = 100
CLEAR = "none"  # `--capacity none`, `--territory none`: no limit, no values
USERS = User.__table__  # type: ignore[attr-defined]  # SQLModel's table, for Core reads


def is_away(away_from: datetime | None, away_until: datetime | None, now: datetime) -> bool:
    """Away at ``now``: from ``away_from`` (None: already) until ``away_until``
    (None: until back)."""
    if away_from is None and away_until is None:
        return False
    if away_from is not None and as_utc(away_from) > now:
        return False
    return away_until is None or now < as_utc(away_until)


def values_of(stored: str | None) -> list[str]:
    """A JSON list column (territory, industries) as a list of text."""
    try:
        data = json.loads(stored or "[]")
    except ValueError:
        return []
    return [str(v) for v in data] if isinstance(data, list) else []


def open_loads(conn: Connection, names: Collection[str] | None = None) -> dict[str, int]:
    """Open leads owned, by owner (of ``names``, or everyone): one grouped query."""
    closed = lists.closed_statuses(conn)
    statement = select(LEAD.c.owner, func.count()).where(
        LEAD.c.owner.is_not(None), LEAD.c.merged_into.is_(None), LEAD.c.status.not_in(closed)
    )
    if names is not None:
        statement = statement.where(LEAD.c.owner.in_(list(names)))
    return {owner: int(n) for owner, n in conn.execute(statement.group_by(LEAD.c.owner))}


@dataclass
class Member:
    """One person leads may be dealt to, as a command sees them."""

    name: str
    role: str | None  # None: not a user (solo mode, where any name may own leads)
    away: bool = False
    away_until: datetime | None = None
    capacity: int | None = None
    territory: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    load: int = 0  # open leads owned, counting what this command dealt so far

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.load >= self.capacity

    def why_not(self) -> str | None:
        """Why round-robin passes them by (away, full), or None when available."""
        if self.away:
            until = f" until {clock.local(self.away_until)}" if self.away_until else ""
            return f"{self.name} is away{until}"
        if self.full:
            return f"{self.name} is full ({self.load} of {self.capacity} open leads)"
        return None


class Roster:
    """Users' availability and loads for one command: read once (two queries),
    then counted as leads are dealt (:meth:`take`, :meth:`give_back`)."""

    def __init__(self, members: Iterable[Member]) -> None:
        self.members = {m.name: m for m in members}

    @classmethod
    def load(
        cls,
        conn: Connection,
        *,
        names: Sequence[str] | None = None,
        roles: Collection[str] | None = None,
        now: datetime | None = None,
    ) -> Roster:
        """The users named (or all, or those of ``roles``) and their loads. A
        name that is no user (solo mode) is always available, with no limit."""
        now = now or clock.now()
        statement = select(USERS).order_by(USERS.c.name)
        if names is not None:
            statement = statement.where(USERS.c.name.in_(list(names)))
        if roles is not None:
            statement = statement.where(USERS.c.role.in_(list(roles)))
        rows = conn.execute(statement).all()
        wanted = list(names) if names is not None else [row.name for row in rows]
        loads = open_loads(conn, wanted if names is not None or roles is not None else None)
        members = {row.name: member_of(row, now, loads.get(row.name, 0)) for row in rows}
        for name in names or ():
            members.setdefault(name, Member(name, None, load=loads.get(name, 0)))
        return cls(members.values())

    def names(self, roles: Collection[str] | None = None) -> list[str]:
        return [m.name for m in self.members.values() if roles is None or m.role in roles]

    def available(self, name: str) -> bool:
        member = self.members.get(name)
        return member is None or member.why_not() is None

    def take(self, name: str | None) -> None:
        """``name`` gets one more open lead."""
        if name is not None and name in self.members:
            self.members[name].load += 1

    def give_back(self, name: str | None) -> None:
        """``name`` loses an open lead (the command deals it anew)."""
        if name is not None and name in self.members:
            self.members[name].load -= 1

    def why_nobody(self, group: Sequence[str]) -> str:
        reasons = [m.why_not() for n in group if (m := self.members.get(n)) is not None]
        return "; ".join(r for r in reasons if r) or "nobody to deal to"


def member_of(row: Any, now: datetime, load: int) -> Member:
    return Member(
        name=row.name,
        role=row.role,
        away=is_away(row.away_from, row.away_until, now),
        away_until=row.away_until,
        capacity=row.capacity,
        territory=values_of(row.territory),
        industries=values_of(row.industries),
        load=load,
    )


# --- `user away|back|set` ----------------------------------------------------------------


def _require_self_or_admin(who: Actor, name: str, doing: str) -> None:
    """Anyone marks themself away or back (their own out-of-office); others need admin."""
    if who.name != name:
        require_permission(who, "admin", f"{doing} another user")


def set_away(session: Session, who: Actor, name: str, until: datetime | None) -> User:
    """Away from now until ``until`` (None: until `user back`)."""
    user = get_user(session, name)
    _require_self_or_admin(who, user.name, "mark away")
    now = clock.now()
    if until is not None and until <= now:
        raise InvalidInput(
            f"invalid --until {clock.local(until)}: it is already past; give a later time"
        )
    if not is_away(user.away_from, user.away_until, now):
        user.away_from = now
    user.away_until = until
    session.add(user)
    session.flush()
    return user


def set_back(session: Session, who: Actor, name: str) -> tuple[User, bool]:
    """Available again; returns the user and whether they were away."""
    user = get_user(session, name)
    _require_self_or_admin(who, user.name, "mark back")
    was_away = is_away(user.away_from, user.away_until, clock.now())
    user.away_from = None
    user.away_until = None
    session.add(user)
    session.flush()
    return user, was_away


def parse_capacity(text: str) -> int | None:
    """``--capacity N`` (0 to MAX_CAPACITY) or ``none`` (no limit)."""
    word = text.strip().lower()
    if word == CLEAR:
        return None
    if not (word.isascii() and word.isdigit()) or int(word) > MAX_CAPACITY:
        raise InvalidInput(
            f"invalid --capacity {text!r}: expected a whole number of open leads from 0 to "
            f"{MAX_CAPACITY:,}, or none (no limit)"
        )
    return int(word)


def parse_values(given: Sequence[str], option: str) -> list[str]:
    """Repeated and/or comma-separated values, case-insensitively once each;
    ``none`` alone clears the list."""
    words = [w.strip() for text in given for w in text.split(",")]
    words = [w for w in words if w]
    if [w.lower() for w in words] == [CLEAR]:
        return []
    if not words:
        raise InvalidInput(f"invalid {option}: empty; give values, or none to clear them")
    chosen: dict[str, str] = {}
    for word in words:
        if word.lower() == CLEAR:
            raise InvalidInput(f"invalid {option}: none clears the list and goes alone")
        if len(word) > MAX_VALUE_CHARS or not word.isprintable():
            raise InvalidInput(
                f"invalid {option} {word[:40]!r}: expected printable text of at most "
                f"{MAX_VALUE_CHARS} characters"
            )
        chosen.setdefault(word.casefold(), word)
    if len(chosen) > MAX_VALUES:
        raise InvalidInput(f"invalid {option}: at most {MAX_VALUES} values")
    return list(chosen.values())


UNCHANGED: Any = object()  # `user set` without that option


def set_routing(
    session: Session,
    who: Actor,
    name: str,
    *,
    capacity: int | None = UNCHANGED,
    territory: list[str] | None = None,
    industries: list[str] | None = None,
) -> User:
    """Capacity, territory and industries of a user (admin); None lists stay as they are."""
    require_permission(who, "admin", "set users' capacity, territory and industries")
    user = get_user(session, name)
    if capacity is not UNCHANGED:
        user.capacity = capacity
    if territory is not None:
        user.territory = json.dumps(territory, ensure_ascii=False)
    if industries is not None:
        user.industries = json.dumps(industries, ensure_ascii=False)
    session.add(user)
    session.flush()
    return user


def to_dict(member: Member, away_from: datetime | None = None) -> dict[str, Any]:
    """The availability keys of `user list --json` and `user away|back|set --json`."""
    return {
        "away": member.away,
        "away_from": clock.iso(away_from) if member.away else None,
        "away_until": clock.iso(member.away_until) if member.away else None,
        "capacity": member.capacity,
        "territory": member.territory,
        "industries": member.industries,
        "open_leads": member.load,
    }


def describe(session: Session, user: User) -> dict[str, Any]:
    """One user's availability keys, as of now."""
    conn = session.connection()
    load = open_loads(conn, [user.name]).get(user.name, 0)
    return to_dict(member_of(user, clock.now(), load), user.away_from)
