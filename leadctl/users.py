"""Users, roles and permissions.

With no users defined leadctl is in solo mode: everyone may do everything.
Once a user exists, the acting user must be one of them, and SPEC's permission
table decides what they may see and change. Refusals about particular leads
carry the lead ids, and :func:`acting` (the transaction every command runs in)
records them in those leads' timelines. :func:`visible_clauses` is the one
scope of "leads this actor may see" that every read of leads applies.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, or_
from sqlmodel import Session, col, select

from leadctl import activities, clock
from leadctl.errors import (
    Conflict,
    InvalidInput,
    LeadctlError,
    NotFound,
    PermissionDenied,
    invalid_choice,
)
from leadctl.models import LEAD, Lead, User

if TYPE_CHECKING:
    from leadctl.storage import Database

ROLES = ["admin", "manager", "rep", "viewer"]
PERMISSIONS = {
    "create": {"admin", "manager", "rep"},
    "manage": {"admin", "manager", "rep"},
    "view_all": {"admin", "manager", "viewer"},
    "admin": {"admin"},
}
WORK_ANY_ROLES = {"admin", "manager"}  # may work on any lead, whoever holds it
# words `assign --to`, `list --owner` and `import --assign` give meaning to
RESERVED_NAMES = {"me", "unassigned", "round-robin"}
_NAME = re.compile(r"^[^\s,]+$")
# A lead as the rules below read it: the ORM object, or a row of the lead table
# (bulk commands check thousands of leads from one Core SELECT).
LeadState = Lead | Row[Any]


def acting_name(option: str | None, server: Database | None = None) -> str:
    """``--as``, else ``LEADCTL_USER``, else the OS login name.

    On a database server (``server``: the open database, when not SQLite)
    whose login is the name of a leadctl user, that user acts, whatever the
    OS login: a rep with a login of their own cannot act as someone else
    (``--as`` or ``LEADCTL_USER`` naming another user is exit 4) unless their
    user is an admin. A login that is no leadctl user (a team sharing one)
    keeps the names given."""
    asked = option or os.environ.get("LEADCTL_USER") or None
    if server is not None and not server.is_sqlite:
        login = server_login(server)
        if login is not None:
            name, role = login
            if asked is None or asked == name:
                return name
            if role != "admin":
                raise PermissionDenied(
                    f"you log in to the server as {name!r}, leadctl user {name!r} ({role}): "
                    f"only an admin's login may act as {asked!r}"
                )
    if asked:
        return asked
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def server_login(database: Database) -> tuple[str, str] | None:
    """The server login (``current_user``) with its role when it is the name
    of a leadctl user; None when it is not (or users do not exist yet)."""
    from sqlalchemy import select as core_select

    from leadctl.models import USER

    with database.session() as session:
        found = session.connection().execute(
            core_select(USER.c.name, USER.c.role).where(USER.c.name == func.current_user())
        )
        row = found.first()
    return (row.name, row.role) if row is not None else None


def is_solo(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def role_of(session: Session, name: str) -> str | None:
    """The acting user's role; None in solo mode. Unknown users are refused.

    Looked up once per transaction: a command sees the roles as they were when
    it began, and the opening check plus each command's own do not query twice.
    """
    roles: dict[str, str | None] = session.info.setdefault("leadctl_roles", {})
    if name not in roles:
        roles[name] = _lookup_role(session, name)
    return roles[name]


def _lookup_role(session: Session, name: str) -> str | None:
    if is_solo(session):
        return None
    user = session.get(User, name)
    if user is None:
        raise PermissionDenied(
            f"acting user {name!r} is not a leadctl user; use --as NAME or ask an admin "
            "to run `leadctl user add`"
        )
    return user.role


def get_user(session: Session, name: str) -> User:
    user = session.get(User, name)
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


# --- the acting user and the permission rules --------------------------------------------


class LeadDenied(PermissionDenied):
    """A refusal about particular leads (exit 4), recorded in their timelines."""

    def __init__(self, message: str, lead_ids: Iterable[int | None]) -> None:
        super().__init__(message)
        self.lead_ids = [i for i in lead_ids if i is not None]


@dataclass(frozen=True)
class Actor:
    """Who runs a command; ``role`` None means solo mode (no users, no limits)."""

    name: str
    role: str | None

    def can(self, permission: str) -> bool:
        return self.role is None or self.role in PERMISSIONS[permission]

    @property
    def works_any(self) -> bool:
        return self.role is None or self.role in WORK_ANY_ROLES

    def label(self) -> str:
        return f"user {self.name!r}" + (f" ({self.role})" if self.role else "")


def actor(session: Session, name: str) -> Actor:
    """Resolve the acting user once per command (exit 4 when users exist and it is none)."""
    return Actor(name, role_of(session, name))


def visible_clauses(who: Actor) -> list[Any]:
    """WHERE clauses limiting a query to the leads ``who`` may see.

    Without view_all: own leads and every unowned one (the pool, which includes
    the actor's claims and shows who holds the others).
    """
    if who.can("view_all"):
        return []
    return [or_(col(Lead.owner) == who.name, col(Lead.owner).is_(None))]


def require_client_visible(session: Session, who: Actor, client_id: int) -> None:
    """A client is the actor's to see when one of its leads is (exit 4 otherwise):
    so a rep neither reads another rep's client nor attaches a lead to it."""
    visible = visible_clauses(who)
    if (
        visible
        and not session.exec(
            select(Lead.id).where(Lead.client_id == client_id, *visible).limit(1)
        ).first()
    ):
        raise PermissionDenied(
            f"{who.label()} may not see client {client_id}: none of its leads is theirs to "
            "see (that needs the view_all permission)"
        )


def may_see(who: Actor, lead: LeadState) -> bool:
    return who.can("view_all") or lead.owner in (None, who.name)


def require_visible(who: Actor, lead: LeadState) -> None:
    if not may_see(who, lead):
        raise LeadDenied(
            f"{who.label()} may not see lead {lead.id}: that needs the view_all permission",
            [lead.id],
        )


def require_permission(
    who: Actor, permission: str, doing: str, leads: Iterable[LeadState] = ()
) -> None:
    """Refuse (exit 4, naming the permission) and blame the leads it was about."""
    if not who.can(permission):
        raise LeadDenied(
            f"{who.label()} lacks the {permission} permission to {doing}",
            [lead.id for lead in leads],
        )


def claim_holder(lead: LeadState, now: datetime | None = None) -> str | None:
    """Who holds the lead on a claim that has not expired, if anyone."""
    if not lead.claimed_by or lead.claim_expires_at is None:
        return None
    return lead.claimed_by if clock.as_utc(lead.claim_expires_at) > (now or clock.now()) else None


def held_elsewhere(lead: LeadState, holder: str) -> Conflict:
    until = clock.local(lead.claim_expires_at)
    return Conflict(f"lead {lead.id} is claimed by {holder} until {until}")


def require_work(who: Actor, lead: LeadState, doing: str) -> None:
    """SPEC: everyone changes status, logs and schedules on leads they see that are
    theirs (or unowned); managers and admins on any lead; viewers change nothing.

    A rep working a pool lead someone else holds on a live claim is a conflict
    (exit 3, naming the holder), not a permission matter.
    """
    if who.works_any:
        return
    require_permission(who, "manage", f"{doing} lead {lead.id} (viewers change nothing)", [lead])
    require_visible(who, lead)
    holder = claim_holder(lead)
    if lead.owner is None and holder is not None and holder != who.name:
        raise held_elsewhere(lead, holder)


@contextmanager
def acting(
    database: Database, name: str, *, immediate: bool = False, serialize: bool = True
) -> Iterator[Session]:
    """One transaction on behalf of the user ``name``: every command runs in one.

    Once users exist the actor must be one of them (exit 4, checked at BEGIN).
    A refusal about particular leads (:class:`LeadDenied`, raised by the core's
    own checks) rolls the transaction back like any error; only then, in a short
    transaction of its own, is it written in those leads' timelines (a
    ``denied`` activity), so the record survives the rollback of the command
    it refused. The refusal is re-raised either way. ``serialize``: see
    ``Database.session``.
    """
    try:
        with database.session(immediate=immediate, serialize=serialize) as session:
            role_of(session, name)
            yield session
    except LeadDenied as error:
        _record_denial(database, error, name)
        raise


def _record_denial(database: Database, error: LeadDenied, actor_name: str) -> None:
    """A ``denied`` activity per lead the refusal was about (that still exists).

    Best effort: when the database cannot take it (busy, read-only), the
    refusal itself is what the user must see.
    """
    if not error.lead_ids:
        return
    try:
        with database.session(immediate=True) as session:
            existing = session.exec(select(LEAD.c.id).where(LEAD.c.id.in_(error.lead_ids)))
            at = clock.now()
            body = str(error)
            rows = [activities.row(i, "denied", actor_name, body=body, at=at) for i in existing]
            activities.record_many(session.connection(), rows)
    except LeadctlError:
        pass


# --- managing users -----------------------------------------------------------------------


def check_role(role: str) -> str:
    folded = role.strip().lower()
    if folded not in ROLES:
        raise invalid_choice("role", role, ROLES)
    return folded


def add_user(session: Session, who: Actor, name: str, role: str) -> User:
    """Add a user; the first must be an admin, later ones need an admin to add them."""
    role = check_role(role)
    name = name.strip()
    if not _NAME.match(name) or name.lower() in RESERVED_NAMES:
        raise InvalidInput(
            f"invalid user name {name!r}: one word without commas, not "
            + " or ".join(sorted(RESERVED_NAMES))
        )
    if is_solo(session):
        if role != "admin":
            raise InvalidInput(
                "the first user must be an admin (--role admin), so that someone can manage users"
            )
    else:
        require_permission(who, "admin", "add users")
    if session.get(User, name) is not None:
        raise Conflict(f"user {name!r} already exists")
    user = User(name=name, role=role, created_at=clock.now())
    session.add(user)
    session.flush()
    return user


@dataclass
class UserRow:
    name: str
    role: str
    created_at: datetime
    owned: int
    claimed: int


def list_users(session: Session) -> list[UserRow]:
    """Users with how many leads each owns and holds on a live claim."""
    owned = dict(
        session.exec(
            select(Lead.owner, func.count())
            .where(col(Lead.owner).is_not(None))
            .group_by(Lead.owner)
        ).all()
    )
    claimed = dict(
        session.exec(
            select(Lead.claimed_by, func.count())
            .where(col(Lead.claim_expires_at) > clock.now(), col(Lead.owner).is_(None))
            .group_by(Lead.claimed_by)
        ).all()
    )
    return [
        UserRow(u.name, u.role, u.created_at, owned.get(u.name, 0), claimed.get(u.name, 0))
        for u in session.exec(select(User).order_by(col(User.name)))
    ]


def set_role(session: Session, who: Actor, name: str, role: str) -> User:
    """Change a user's role (admin); the last admin keeps theirs."""
    role = check_role(role)
    require_permission(who, "admin", "change roles")
    user = get_user(session, name)
    if role != "admin":
        keep_an_admin(session, user, "demote")
    user.role = role
    session.add(user)
    return user


def keep_an_admin(session: Session, user: User, doing: str) -> None:
    if user.role != "admin":
        return
    admins = session.exec(select(func.count()).select_from(User).where(User.role == "admin")).one()
    others = session.exec(
        select(func.count()).select_from(User).where(User.name != user.name)
    ).one()
    if admins == 1 and others:
        raise Conflict(
            f"cannot {doing} {user.name!r}, the last admin, while other users exist; "
            "make another user admin first (`leadctl user role NAME admin`)"
        )
