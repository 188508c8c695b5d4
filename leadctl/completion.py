"""Names for shell completion, read from the database: statuses, sources, lost
reasons and users. A tab key must be fast and harmless: one small query on a
database that exists (``storage.open_existing``: nothing is created, upgraded
or finished), a short wait for a busy file, and nothing at all (no error) when
the database is missing, at another schema version, or broken."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from leadctl import storage
from leadctl.errors import LeadctlError
from leadctl.models import CHOICE, USER

LISTS = ("status", "source", "lost_reason")
KINDS = (*LISTS, "user")


def names(target: str | None, kind: str, incomplete: str = "") -> list[str]:
    """The ``kind`` names (a list of :data:`KINDS`) starting with ``incomplete``
    (case-insensitive), in the list's order; [] when they cannot be read."""
    try:
        database = storage.open_existing(target)
    except (LeadctlError, SQLAlchemyError, OSError, ValueError):
        return []
    if database is None:
        return []
    if kind == "user":
        statement = select(USER.c.name).order_by(USER.c.name)
    else:
        statement = select(CHOICE.c.name).where(CHOICE.c.list == kind).order_by(CHOICE.c.position)
    try:
        with database.engine.connect() as conn:
            found = list(conn.scalars(statement))
    except (SQLAlchemyError, OSError):
        return []
    finally:
        database.close()
    folded = incomplete.casefold()
    return [name for name in found if name.casefold().startswith(folded)]
