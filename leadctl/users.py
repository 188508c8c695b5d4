"""Users, roles and permissions.

With no users defined leadctl is in solo mode: everyone may do everything.
Once a user exists, the acting user must be one of them.
"""

from __future__ import annotations

import getpass
import os

from sqlalchemy import func
from sqlmodel import Session, select

from leadctl.errors import NotFound, PermissionDenied
from leadctl.models import User

ROLES = ["admin", "manager", "rep", "viewer"]
PERMISSIONS = {
    "create": {"admin", "manager", "rep"},
    "manage": {"admin", "manager", "rep"},
    "view_all": {"admin", "manager", "viewer"},
    "admin": {"admin"},
}


def acting_name(option: str | None) -> str:
    """``--as``, else ``LEADCTL_USER``, else the OS login name."""
    if option:
        return option
    env = os.environ.get("LEADCTL_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def is_solo(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def role_of(session: Session, name: str) -> str | None:
    """The acting user's role; None in solo mode. Unknown users are refused."""
    if is_solo(session):
        return None
    user = session.get(User, name)
    if user is None:
        raise PermissionDenied(
            f"acting user {name!r} is not a leadctl user; use --as NAME or ask an admin "
            "to run `leadctl user add`"
        )
    return user.role


def has(session: Session, name: str, permission: str) -> bool:
    role = role_of(session, name)
    return role is None or role in PERMISSIONS[permission]


def require(session: Session, name: str, permission: str, doing: str = "") -> None:
    """Refuse (exit 4) unless the acting user has the permission."""
    if not has(session, name, permission):
        what = f" to {doing}" if doing else ""
        raise PermissionDenied(f"user {name!r} lacks the {permission} permission{what}")


def get_user(session: Session, name: str) -> User:
    user = session.get(User, name)
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user
