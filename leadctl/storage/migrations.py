"""Schema creation and named, ordered migrations.

A new database gets the current schema in one go and is stamped with
``SCHEMA_VERSION``; an older one runs the migrations after its version, in
order, inside one write transaction. Add a migration by appending a function
to ``MIGRATIONS`` and raising ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from leadctl import models
from leadctl.errors import DatabaseError
from leadctl.storage import META_TABLE, SCHEMA_VERSION, Database

STATUSES = [
    ("new", "open"),
    ("contacted", "open"),
    ("qualified", "open"),
    ("converted", "won"),
    ("nurture", "side"),
    ("unqualified", "final"),
    ("lost", "final"),
]
SOURCES = [
    "Website",
    "Referral",
    "LinkedIn",
    "Social Media",
    "Email",
    "Cold Call",
    "Event",
    "Advertisement",
    "Direct Mail",
    "Other",
]
LOST_REASONS = [
    "Not interested",
    "Not a fit",
    "Bad timing",
    "No budget",
    "Competitor",
    "Unreachable",
    "Other",
]

Migration = Callable[[Connection], None]
MIGRATIONS: list[Migration] = []
migration = MIGRATIONS.append


@migration
def m001_initial(conn: Connection) -> None:
    """The first schema: created whole from the models, with default lists."""
    create_current_schema(conn)


@migration
def m002_website_linkedin(conn: Connection) -> None:
    """The lead's website and LinkedIn profile URL (issue 11). Skips a column a
    database already has, so it is safe after a schema made from the models."""
    have = {column["name"] for column in inspect(conn).get_columns("lead")}
    for name in ("website", "linkedin"):
        if name not in have:
            conn.execute(text(f"ALTER TABLE lead ADD COLUMN {name} VARCHAR"))


def create_current_schema(conn: Connection) -> None:
    conn.execute(text(f"CREATE TABLE {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)"))
    if conn.dialect.name == "postgresql":
        _mirror_partial_indexes()
    SQLModel.metadata.create_all(conn)
    rows = [
        {"list": "status", "name": name, "position": i, "role": role}
        for i, (name, role) in enumerate(STATUSES, 1)
    ]
    rows += [{"list": "source", "name": n, "position": i} for i, n in enumerate(SOURCES, 1)]
    rows += [
        {"list": "lost_reason", "name": n, "position": i} for i, n in enumerate(LOST_REASONS, 1)
    ]
    conn.execute(models.Choice.__table__.insert(), [{"role": None} | row for row in rows])


def _mirror_partial_indexes() -> None:
    """Give PostgreSQL the WHERE of each partial index, declared for SQLite in models."""
    for table in SQLModel.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None:
                index.dialect_kwargs["postgresql_where"] = where


def bring_up_to_date(database: Database) -> None:
    """Create or upgrade the schema under the write lock (safe if raced)."""
    bind = database.engine.execution_options(leadctl_immediate=True)
    with bind.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        if META_TABLE not in tables:
            if tables:
                raise DatabaseError(f"{database.target} is not a leadctl database; left untouched")
            create_current_schema(conn)
            _stamp(conn, SCHEMA_VERSION, insert=True)
            new = True
        else:
            new = False
            version = int(
                conn.execute(
                    text(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'")
                ).scalar_one()
            )
            for step in MIGRATIONS[version:SCHEMA_VERSION]:
                step(conn)
            _stamp(conn, max(version, SCHEMA_VERSION), insert=False)
    if new and database.is_sqlite:
        _use_wal(database)


def _use_wal(database: Database) -> None:
    """Switch a new file to WAL, which lets readers go on while a writer works;
    it persists in the file and cannot be switched inside a transaction.

    Another process opening the new file at the same moment may hold its write
    lock while this one reads, and then SQLite refuses at once rather than
    wait (a deadlock otherwise): so try again until the busy timeout.
    """
    import sqlite3
    import time

    from leadctl.storage import busy_seconds

    deadline = time.monotonic() + busy_seconds()
    while True:
        raw = database.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA journal_mode = WAL")  # type: ignore[union-attr]
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        finally:
            raw.close()
        time.sleep(0.01)


def _stamp(conn: Connection, version: int, *, insert: bool) -> None:
    statement = (
        f"INSERT INTO {META_TABLE} (key, value) VALUES ('schema_version', :v)"
        if insert
        else f"UPDATE {META_TABLE} SET value = :v WHERE key = 'schema_version'"
    )
    conn.execute(text(statement), {"v": str(version)})
