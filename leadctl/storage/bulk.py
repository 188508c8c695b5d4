"""Bulk loads into a nearly empty SQLite database: indexes built and scores
computed once, at the end.

Every lead insert updates 16 indexes; for a large import into an empty
database that upkeep costs more than building the same indexes once
afterwards, and scoring the leads in one pass costs less than a pass per batch.
So such an import drops the lead indexes it does not read while loading (it
reads the duplicate keys), and when it ends, whatever the way it ends, scores
every lead and builds the indexes again. Activity indexes stay: an import
appends to them in key order, which costs the writer (who waits on the parser
anyway) about what building them would cost at the end, when nothing overlaps.

Nothing depends on the dropped indexes for correctness, only for speed; until
the end the new leads have no score (0, cold). A killed import cannot finish,
so the drop is recorded in ``leadctl_meta`` with the process that made it;
opening the database (``storage._ensure_schema``) finishes the job once that
process is gone.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from leadctl.storage import BULK_MARKER as MARKER  # its value: "host:pid" of the loader
from leadctl.storage import META_TABLE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from leadctl.storage import Database

SCORES = "+scores"  # marker suffix: the loaded leads are to be scored at the end
READ_WHILE_LOADING = {"ix_lead_email_key", "ix_lead_phone", "ix_lead_company_key"}
MAX_STORED_LEADS = 1000  # "nearly empty": rebuilding the indexes of these costs nothing


def deferrable() -> list[Any]:
    """The lead indexes an import does not read while it loads."""
    from leadctl.models import Lead

    indexes = Lead.__table__.indexes  # type: ignore[attr-defined]
    return sorted(
        (index for index in indexes if index.name not in READ_WHILE_LOADING),
        key=lambda index: index.name,
    )


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def is_running(owner: str) -> bool:
    """Whether the process named by a marker is still at work (on this machine).

    A pid reused by another process keeps the indexes down until it ends:
    commands are slower meanwhile, never wrong."""
    host, _, pid = owner.removesuffix(SCORES).rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


@contextmanager
def indexes_deferred(database: Database, *, wanted: bool, score: bool) -> Iterator[bool]:
    """Within the block, the deferrable indexes are dropped when ``wanted`` and
    the database is SQLite with at most ``MAX_STORED_LEADS`` leads and no other
    load under way; yields whether they were. On leaving, the leads are scored
    (when ``score``; a leadctl export carries its scores) and the indexes built."""
    deferred = wanted and database.is_sqlite and _drop(database, score)
    try:
        yield deferred
    finally:
        if deferred:
            from leadctl.errors import DatabaseError

            try:
                finish(database)
            except DatabaseError:
                pass  # busy: the next command to open the database finishes it


def _drop(database: Database, score: bool) -> bool:
    from leadctl.models import Lead

    with database.session(immediate=True) as session:
        conn = session.connection()
        if _marker(conn) is not None:
            return False  # another load is under way, or its indexes are being rebuilt
        stored = conn.execute(select(func.count()).select_from(Lead.__table__)).scalar_one()
        if stored > MAX_STORED_LEADS:
            return False
        for index in deferrable():
            index.drop(conn, checkfirst=True)
        conn.execute(
            text(f"INSERT INTO {META_TABLE} (key, value) VALUES (:key, :owner)"),
            {"key": MARKER, "owner": this_process() + (SCORES if score else "")},
        )
    return True


def finish(database: Database) -> None:
    """Score the leads when the marker asks, build the deferred indexes again
    and remove the marker, in one transaction."""
    from leadctl import scoring

    with database.session(immediate=True) as session:
        conn = session.connection()
        marker = _marker(conn)
        if marker is None:
            return  # another process finished it
        if marker.endswith(SCORES):
            scoring.rescore(conn)  # before the indexes: no score index to keep up
        for index in deferrable():
            index.create(conn, checkfirst=True)
        conn.execute(text(f"DELETE FROM {META_TABLE} WHERE key = :key"), {"key": MARKER})


def finish_if_abandoned(database: Database, owner: str) -> None:
    """Called on opening when the marker is set: finish unless its load still runs."""
    if not is_running(owner):
        finish(database)


def _marker(conn: Connection) -> str | None:
    statement = text(f"SELECT value FROM {META_TABLE} WHERE key = :key")
    return conn.execute(statement, {"key": MARKER}).scalar_one_or_none()
