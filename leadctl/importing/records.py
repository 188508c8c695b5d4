"""The import's hot path to the database, in one module: the only place in
leadctl that hands SQL to the driver itself (storage's connection set-up
aside). Everything the import stores or looks up by the batch goes through
here; everywhere else, the core writes SQLAlchemy Core or ORM statements.

Why the driver: an import stores 100,000 rows in seconds, and SQLAlchemy's
per-row and per-parameter work (building bound parameters, type processing,
result handling) would cost as much again as SQLite's own. So on SQLite:

- :meth:`Records.insert_leads` / :meth:`Records.insert_activities`: a Core
  insert statement, compiled once per set of columns, executed by the driver
  (``executemany``) on plain tuples, the columns' own bind processors applied
  here. Activities come as :class:`leadctl.activities.ActivityRow` tuples, made
  by ``activities.row`` like every other activity. Lead rows are built in the
  writing process: pickling them from the reader cost the reader, the busier of
  the two, more than building them costs the writer.
- :func:`find_by_key`: the duplicate lookups, compiled once per number of
  keys, executed by the driver on the keys as they are.
- :func:`tune`: the writer's PRAGMAs (no SQLAlchemy expression exists for them).

:func:`copy_activities` is plain Core (``INSERT … SELECT``), here because it is
the other fast way the import writes activities: no row is built in Python.
Other databases (PostgreSQL) get the same statements through SQLAlchemy.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    delete,
    insert,
    literal,
    select,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel.sql.sqltypes import UTCDateTime

from leadctl import activities, fields
from leadctl.activities import ActivityRow
from leadctl.duplicates import JSON_LISTS, KEYS, not_merged
from leadctl.models import ACTIVITY, LEAD

COLUMNS = [c.name for c in LEAD.columns if c.name != "id"]
DEFAULTS: dict[str, Any] = dict.fromkeys(COLUMNS) | fields.DEFAULTS
# Bound in every lead insert: NOT NULL columns (name, and those with a default).
ALWAYS = ("name", *(c for c in COLUMNS if DEFAULTS[c] is not None), "created_at", "updated_at",
          "touched_at")  # fmt: skip
CACHE_KIB = 16 * 1024
CHECKPOINT_PAGES = 10000
IN_CHUNK = 2000  # bound parameters per lookup
Processors = list[tuple[int, Callable[[Any], Any]]]


def tune(conn: Connection) -> None:
    """A bulk writer's settings, for this connection only (set per batch: it
    may be another pooled connection): a page cache that holds the indexes' hot
    pages (random keys: email, phone), and checkpoints every ~40 MB of WAL
    rather than every 4 MB. Driver SQL: PRAGMAs have no SQLAlchemy expression."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")


class Records:
    """Builds and inserts rows for one import (one dialect, one "now")."""

    def __init__(self, dialect: Dialect, now: datetime) -> None:
        self.dialect = dialect
        self.sqlite = dialect.name == "sqlite"
        self.now = now
        self._statements: dict[tuple[str, ...], str] = {}
        if self.sqlite:
            _, processors = _compiled(dialect, LEAD, ["id", *COLUMNS])
            self.processor_of = {COLUMNS[i - 1]: p for i, p in processors}  # i - 1: no id
            self.activity_sql, self.activity_processors = _compiled(
                dialect, ACTIVITY, list(activities.COLUMNS)
            )

    def values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Every column of a new lead, defaults filled, tags and fields as JSON."""
        record = DEFAULTS | values
        for name in JSON_LISTS:
            record[name] = json.dumps(values[name], ensure_ascii=False) if name in values else "[]"
        record["fields"] = (
            json.dumps(values["fields"], ensure_ascii=False) if "fields" in values else "{}"
        )
        record["created_at"] = values.get("created_at") or self.now
        record["updated_at"] = values.get("updated_at") or self.now
        record["touched_at"] = record["created_at"]  # aging starts at arrival
        return record

    def insert_leads(
        self, conn: Connection, rows: Sequence[tuple[int, dict[str, Any]]], *, score: bool = False
    ) -> bool:
        """Insert ``(id, values)`` rows; True when they are stored with their
        scores and bands (``score``, on PostgreSQL: see :func:`scored`), else
        they are left to a rescore.

        On SQLite only the columns the batch has values for are bound (the
        rest are NULL): binding all 40 of a typical export's 20 cost the
        driver as much again."""
        if not rows:
            return False
        if not self.sqlite:
            record = self.values
            ready = [(i, *map(record(v).get, COLUMNS)) for i, v in rows]
            if score:
                ready = scored(conn, ready)
            copy_rows(conn, LEAD, ("id", *COLUMNS), ready)
            return score
        present = set(ALWAYS).union(*(values.keys() for _, values in rows))
        columns = tuple(c for c in COLUMNS if c in present)
        sql = self._insert_sql(columns)
        # Defaults first, the row's values over them, then the few columns that
        # need converting (amounts, times, flags, JSON): dict and map work in C.
        defaults = {c: DEFAULTS[c] for c in columns if DEFAULTS[c] is not None}
        defaults["created_at"] = defaults["updated_at"] = self.processor_of["created_at"](self.now)
        converted = [(c, p) for c, p in self.processor_of.items() if c in present]
        dumps = json.dumps
        ready = []
        for lead_id, values in rows:
            row = defaults | values
            for key, process in converted:
                value = values.get(key)
                if value is not None:
                    row[key] = process(value)
            for name in JSON_LISTS:
                if name in values:
                    row[name] = dumps(values[name], ensure_ascii=False)
            if "fields" in values:
                row["fields"] = dumps(values["fields"], ensure_ascii=False)
            row["touched_at"] = row["created_at"]  # aging starts at arrival
            ready.append((lead_id, *map(row.get, columns)))
        # Driver executemany: SQLAlchemy's per-row work would double the time.
        conn.exec_driver_sql(sql, ready)
        return False

    def _insert_sql(self, columns: tuple[str, ...]) -> str:
        """The insert of these columns (after the id), compiled once."""
        sql = self._statements.get(columns)
        if sql is None:
            sql = self._statements[columns] = _compiled(self.dialect, LEAD, ["id", *columns])[0]
        return sql

    def insert_activities(self, conn: Connection, rows: Sequence[ActivityRow]) -> None:
        """Insert activities made by ``activities.row`` (tuples in
        ``activities.COLUMNS`` order)."""
        if not rows:
            return
        if not self.sqlite:
            # Stored as on SQLite: no command (an import is not undone), and no
            # touch (the writer touches the stored leads a merge filled).
            copy_rows(conn, ACTIVITY, activities.COLUMNS, rows)
            activities.publish(conn, rows)
            return
        ready = []
        for row in rows:
            values = list(row)
            for index, process in self.activity_processors:
                if values[index] is not None:
                    values[index] = process(values[index])
            ready.append(tuple(values))
        # Driver executemany, as for leads.
        conn.exec_driver_sql(self.activity_sql, ready)
        activities.publish(conn, rows)  # events=all (``leadctl.events``)


# PostgreSQL: an import's new leads before they are stored (see scored); the
# lead table's columns, no key, no index, emptied at each commit.
STAGED = Table(
    "leadctl_import_leads",
    MetaData(),
    *(Column(column.name, column.type) for column in LEAD.columns),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)


def scored(conn: Connection, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """PostgreSQL: new lead rows (``id`` then :data:`COLUMNS`) with the score
    and band the rules give them, computed before they are stored.

    A rescore after the insert writes each new lead twice: a second version
    of the row and an entry in each of its 20 indexes (score and band are
    indexed), most of a batch's time on PostgreSQL. So the rows are copied
    into a temporary table first and scored there by the very query a rescore
    runs (``scoring.batch.staged``): the same columns, and no activities yet,
    as at a rescore (an import adds none the behavioural rules count).
    The stage is recomputed after the insert, as a rescore does."""
    from leadctl import clock, scoring
    from leadctl.scoring import batch

    STAGED.create(conn, checkfirst=True)
    conn.execute(delete(STAGED))
    copy_rows(conn, STAGED, ("id", *COLUMNS), rows)
    found = {
        lead_id: (score, band)
        for lead_id, score, band in batch.staged(
            conn, scoring.current_rules(conn), clock.now(), STAGED
        )
    }
    conn.execute(delete(STAGED))
    at_score, at_band = 1 + COLUMNS.index("score"), 1 + COLUMNS.index("band")
    done = []
    for row in rows:
        score, band = found[row[0]]
        changed = list(row)
        changed[at_score], changed[at_band] = int(score), band
        done.append(tuple(changed))
    return done


def copy_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL: store rows (tuples in ``columns`` order) by ``COPY … FROM
    STDIN`` on the transaction's own connection: one stream, no statement or
    bound parameter per row (executemany sent one INSERT per row, and
    SQLAlchemy built each row's parameters: 4x the time of the copy).

    The values are the ones an INSERT binds: the columns' own bind processors
    applied (UTC times, flags); a time column without a zone takes them as
    they are, the session being in UTC (``storage._utc_sessions``).
    Driver errors are raised as SQLAlchemy's (storage turns them into exit 5)."""
    from sqlalchemy import exc

    raw = conn.connection.driver_connection
    processors = _bind_processors(conn.dialect, table, tuple(columns))
    preparer = conn.dialect.identifier_preparer
    sql = (
        f"COPY {preparer.format_table(table)} "
        f"({', '.join(preparer.quote(c) for c in columns)}) FROM STDIN"
    )
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            write = copy.write_row
            for row in rows:
                if processors:
                    row = list(row)
                    for at, process in processors:
                        if row[at] is not None:
                            row[at] = process(row[at])
                write(row)
    except Exception as error:
        base = conn.dialect.loaded_dbapi.Error
        if isinstance(error, base):
            raise exc.DBAPIError.instance(sql, None, error, base) from error
        raise


@lru_cache(maxsize=16)
def _bind_processors(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> Processors:
    """The columns' bind processors for this dialect, by position."""
    processors: Processors = []
    for index, name in enumerate(columns):
        kind = table.c[name].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((index, process))
    return processors


def copy_activities(
    conn: Connection,
    where: ColumnElement[bool],
    *,
    kind: str,
    field: str,
    new: ColumnElement[Any],
    body: str,
    actor: str,
) -> None:
    """One activity per stored lead matching ``where``, at the lead's creation
    time, ``new`` (a lead column) as its new value: one ``INSERT … SELECT``,
    nothing bound per lead. What ``activities.row`` would make for each lead
    (its ``created_at`` is stored UTC already; the columns are text)."""
    made = {
        "lead_id": LEAD.c.id,
        "kind": literal(kind),
        "field": literal(field),
        "new_value": new,
        "body": literal(body),
        "actor": literal(actor),
        "created_at": LEAD.c.created_at,
    }
    source = select(*made.values()).where(where)
    activities.record_select(conn, list(made), source)  # with events=all, their events


def find_by_key(
    conn: Connection, table: Table, key: str, values: Sequence[str]
) -> Iterator[Sequence[Any]]:
    """``(id, name, *duplicates.KEYS)`` of the active rows whose ``key`` is one of
    ``values``, by id within each chunk of ``IN_CHUNK`` values."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        if conn.dialect.paramstyle == "qmark":
            # Driver SQL, compiled once per size and run on the plain keys: no
            # SQLAlchemy work per key or per row (three lookups per batch).
            sql = _lookup_sql(conn.dialect, table, key, len(chunk))
            yield from conn.exec_driver_sql(sql, tuple(chunk))
        elif conn.dialect.name == "postgresql":
            # Driver SQL with the keys as one array (``= ANY``): one parameter,
            # not one each, for the server to parse and plan
            yield from conn.exec_driver_sql(_any_sql(conn.dialect, table, key), {"keys": chunk})
        else:
            columns = [table.c.id, table.c.name, *(table.c[k] for k in KEYS)]
            statement = select(*columns).where(not_merged(table), table.c[key].in_(chunk))
            yield from conn.execute(statement.order_by(table.c.id))


def find_by_id(conn: Connection, table: Table, lead_id: int) -> Sequence[Any] | None:
    """``(id, name, *duplicates.KEYS)`` of one active row, or None."""
    columns = [table.c.id, table.c.name, *(table.c[k] for k in KEYS)]
    statement = select(*columns).where(not_merged(table), table.c.id == lead_id)
    return conn.execute(statement).first()


_FRESH = itertools.count()


def seen_version(conn: Connection) -> tuple[int, int]:
    """Which connection, and SQLite's count of other connections' commits seen on
    it (``PRAGMA data_version``): equal twice only if no one else wrote between.
    Other engines: a fresh value each time (no one can tell)."""
    raw = conn.connection.dbapi_connection
    if conn.dialect.name != "sqlite":
        return (id(raw), -1 - next(_FRESH))
    return (id(raw), conn.exec_driver_sql("PRAGMA data_version").scalar_one())


def names_by_id(conn: Connection, table: Table, ids: Sequence[int]) -> Iterator[Sequence[Any]]:
    """``(id, name)`` of the active rows among ``ids``, by chunks of ``IN_CHUNK``."""
    for start in range(0, len(ids), IN_CHUNK):
        chunk = list(ids[start : start + IN_CHUNK])
        statement = select(table.c.id, table.c.name).where(not_merged(table), table.c.id.in_(chunk))
        yield from conn.execute(statement)


@lru_cache(maxsize=64)
def _lookup_sql(dialect: Dialect, table: Table, key: str, size: int) -> str:
    """The lookup of ``size`` keys as SQL for the driver (``?`` placeholders)."""
    columns = [table.c.id, table.c.name, *(table.c[k] for k in KEYS)]
    keys: BindParameter[Any] = bindparam("keys", value=["?"] * size, expanding=True)
    statement = (
        select(*columns).where(not_merged(table), table.c[key].in_(keys)).order_by(table.c.id)
    )
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    if table is LEAD:
        # Name the key's index: with statistics taken while the table was
        # small (SQLite refreshes them after 25x growth) the planner would
        # scan every lead per lookup instead, 10x slower in a big import.
        return str(compiled).replace("FROM lead", f"FROM lead INDEXED BY ix_lead_{key}", 1)
    return str(compiled)


@lru_cache(maxsize=16)
def _any_sql(dialect: Dialect, table: Table, key: str) -> str:
    """PostgreSQL: the lookup of an array of keys, as SQL for the driver."""
    columns = [table.c.id, table.c.name, *(table.c[k] for k in KEYS)]
    keys = bindparam("keys", type_=ARRAY(String()))
    statement = (
        select(*columns)
        .where(table.c.merged_into.is_(None), table.c[key] == any_(keys))
        .order_by(table.c.id)
    )
    return str(statement.compile(dialect=dialect))


def _compiled(dialect: Dialect, table: Table, keys: list[str]) -> tuple[str, Processors]:
    """The insert's SQL for the driver, and the bind processors by position."""
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    order = list(compiled.positiontup or [])
    if order != keys:
        raise RuntimeError(f"unexpected parameter order for {table.name}: {order}")
    processors: Processors = []
    for index, key in enumerate(order):
        kind = table.c[key].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            fast = _sqlite_datetime(process) if isinstance(kind, UTCDateTime) else process
            processors.append((index, fast))
    return str(compiled), processors


def _sqlite_datetime(general: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLAlchemy's SQLite text for a UTC datetime (``2026-11-23 09:00:00.000000``),
    made directly for the datetimes import makes; any other goes the general way."""

    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is UTC and value.year >= 1000:
            return value.isoformat(" ", "microseconds")[:26]
        return general(value)

    return process
