"""``leadctl copy --to URL``: a whole database into an empty one, SQLite and
PostgreSQL either way, rows with their ids, verified table by table.

Storage-level on purpose: it moves tables, not leads, so nothing a rule would
do on the way (scoring, duplicate checks, history) changes a row. The target
gets its schema by being opened (the same migrations as any new database);
the lists and settings a new database starts with are replaced by the
source's. Each table is read in id order and written in batches in one
transaction on the target, whose sequences then follow the ids (PostgreSQL).
Afterwards both sides are counted and checksummed table by table, on values
written one way for both engines (times in UTC, numbers as numbers), so a copy
that differs in any cell is an error, not a success.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.engine import Connection

from leadctl import clock
from leadctl.errors import Conflict
from leadctl.models import (
    ACTIVITY,
    CHOICE,
    CLIENT,
    COMMAND_LOG,
    DEAL,
    EVENT,
    LEAD,
    META,
    SETTING,
    USER,
)
from leadctl.storage import BULK_MARKER, SCHEMA_KEY, Database, follow_ids

# In the order their references allow (a deal names a client and a lead, …).
TABLES: tuple[Table, ...] = (
    CHOICE, SETTING, USER, CLIENT, LEAD, COMMAND_LOG, ACTIVITY, DEAL, EVENT, META,
)  # fmt: skip
# What a new database already holds, replaced by the source's rows.
STARTER = (CHOICE, SETTING)
# leadctl_meta keys that belong to one database and are not copied
OWN_META = (SCHEMA_KEY, BULK_MARKER)
BATCH = 5_000


def copy_database(source: Database, target: Database) -> dict[str, int]:
    """Copy every table of ``source`` into ``target`` (which must hold no
    leads, clients, users or history: exit 3 otherwise); returns the rows
    copied per table, after checking both sides hold the same rows."""
    with target.engine.connect() as check:
        _refuse_unless_empty(check, target.shown)
    copied: dict[str, int] = {}
    with source.engine.connect() as reading, target.engine.begin() as writing:
        if target.is_sqlite:
            writing.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        _refuse_unless_empty(writing, target.shown)  # again, inside the transaction
        for table in STARTER:
            writing.execute(delete(table))
        for table in TABLES:
            count = 0
            for batch in _batches(reading, table):
                writing.execute(insert(table), batch)
                count += len(batch)
            copied[table.name] = count
        follow_ids(writing, *(t for t in TABLES if "id" in t.c))
    with source.engine.connect() as left, target.engine.connect() as right:
        for table in TABLES:
            if _digest(left, table) != _digest(right, table):
                raise Conflict(
                    f"copy of table {table.name} differs from the source; "
                    "the target is left as written: empty it before trying again"
                )
    return copied


def _refuse_unless_empty(conn: Connection, name: str) -> None:
    for table in (LEAD, CLIENT, USER, ACTIVITY):
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            raise Conflict(
                f"{name} is not empty (it has {table.name} rows): copy writes into a new, "
                "empty database only"
            )


def _order(table: Table) -> list[Any]:
    return list(table.primary_key.columns) or list(table.c)


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    statement = select(table).order_by(*_order(table))
    if table is META:
        statement = statement.where(META.c.key.not_in(OWN_META))
    for row in conn.execution_options(yield_per=BATCH).execute(statement):
        yield dict(row._mapping)


def _batches(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in _rows(conn, table):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _digest(conn: Connection, table: Table) -> tuple[int, str]:
    """Rows and a checksum of a table, the same on either engine for the same rows."""
    digest = hashlib.sha256()
    count = 0
    for row in _rows(conn, table):
        digest.update(json.dumps([_plain(v) for v in row.values()], default=str).encode())
        count += 1
    return count, digest.hexdigest()


def _plain(value: Any) -> Any:
    """A cell written one way for both engines: times as UTC ISO text (SQLite
    gives them back without a zone), decimals and whole floats as numbers."""
    if isinstance(value, datetime):
        return clock.as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        number = float(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, bool):
        return int(value)
    return value
