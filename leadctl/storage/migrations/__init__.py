"""Creating and upgrading the schema: one frozen module per version.

``storage.MIGRATIONS`` names the modules of this package in order; a
database's schema version is how many of them it has run, so the current
version is their count. A new database runs every one, an older one those
after its version, all in one write transaction. Each module's ``upgrade``
is frozen DDL: it never reads the current models. Add a version by adding a
module with an ``upgrade(conn)`` and its name to ``storage.MIGRATIONS``, then
declare the change in ``leadctl.models`` too (tests/test_migrations.py holds
the two equal).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from leadctl import storage
from leadctl.errors import DatabaseError
from leadctl.storage import META_TABLE, SCHEMA_KEY, Database, read_meta, write_meta
from leadctl.storage.migrations.m001_initial import LOST_REASONS, SOURCES, STATUSES

__all__ = ["LOST_REASONS", "SOURCES", "STATUSES", "bring_up_to_date", "step"]


def step(name: str) -> Callable[[Connection], None]:
    """The ``upgrade`` function of one migration module."""
    upgrade: Callable[[Connection], None] = import_module(f"{__name__}.{name}").upgrade
    return upgrade


def bring_up_to_date(database: Database) -> None:
    """Create or upgrade the schema under the write lock (safe if raced)."""
    current = storage.SCHEMA_VERSION
    bind = database.engine.execution_options(leadctl_immediate=True)
    with bind.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        if META_TABLE in tables:
            stored = read_meta(conn, SCHEMA_KEY).get(SCHEMA_KEY)
            if stored is None or not (stored.isascii() and stored.isdigit()):
                raise DatabaseError(f"{database.shown} is not a leadctl database; left untouched")
            version = int(stored)
        elif tables:
            raise DatabaseError(f"{database.shown} is not a leadctl database; left untouched")
        else:
            version = 0
        if version > current:
            raise DatabaseError(storage.too_new(database.shown, version))
        if version < current and tables and database.is_sqlite:
            _check_intact(conn, database.target)
        for name in storage.MIGRATIONS[version:current]:
            step(name)(conn)
        if version < current:
            write_meta(conn, SCHEMA_KEY, str(current))
            if tables:
                storage.optimize(conn)  # indexes a migration built need statistics
    if version == 0 and database.is_sqlite:
        _use_wal(database)


def _check_intact(conn: Connection, target: str) -> None:
    """Refuse to upgrade a damaged file (it stays as it is): SQLite's quick check."""
    problem = conn.exec_driver_sql("PRAGMA quick_check(1)").scalar()  # no Core form for a PRAGMA
    if problem != "ok":
        raise DatabaseError(f"database {target} is damaged ({problem}); left untouched")


def _use_wal(database: Database) -> None:
    """Switch a new file to WAL, which lets readers go on while a writer works;
    it persists in the file and cannot be switched inside a transaction.

    Another process opening the new file at the same moment may hold its write
    lock while this one reads, and then SQLite refuses at once rather than
    wait (a deadlock otherwise): so try again until the busy timeout.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + storage.busy_seconds()
    while True:
        # The driver's connection itself: SQLAlchemy would BEGIN first, and the
        # journal mode cannot change inside a transaction.
        raw = database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        finally:
            raw.close()
        time.sleep(0.01)
