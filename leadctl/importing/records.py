"""Lead and activity rows as the database takes them.

A batch goes in through SQLAlchemy Core insert statements. On SQLite each is
compiled once (per set of columns) and executed by the driver on plain rows,
the columns' own bind processors applied here: SQLAlchemy's per-parameter work
would otherwise cost as much as SQLite's. Lead rows are built in the writing
process: pickling them from the reader cost the reader, the busier of the two,
more than building them costs the writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import UTCDateTime

from leadctl import fields
from leadctl.models import Activity, Lead

LEAD = Lead.__table__
ACTIVITY = Activity.__table__
COLUMNS = [c.name for c in LEAD.columns if c.name != "id"]
ACTIVITY_COLUMNS = "lead_id kind field old_value new_value body outcome actor created_at".split()
DEFAULTS: dict[str, Any] = dict.fromkeys(COLUMNS) | fields.DEFAULTS
# Bound in every lead insert: NOT NULL columns (name, and those with a default).
ALWAYS = ("name", *(c for c in COLUMNS if DEFAULTS[c] is not None), "created_at", "updated_at")
Processors = list[tuple[int, Callable[[Any], Any]]]


class Records:
    """Builds and inserts rows for one import (one dialect, one "now")."""

    def __init__(self, dialect: Any, now: datetime) -> None:
        self.dialect = dialect
        self.sqlite = dialect.name == "sqlite"
        self.now = now
        if self.sqlite:
            _, processors = _compiled(dialect, LEAD, ["id", *COLUMNS])
            self.processor_of = {COLUMNS[i - 1]: p for i, p in processors}  # i - 1: no id
            self.activity_sql, self.activity_processors = _compiled(
                dialect, ACTIVITY, ACTIVITY_COLUMNS
            )
            self._statements: dict[tuple[str, ...], str] = {}

    def values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Every column of a new lead, defaults filled, tags and fields as JSON."""
        record = DEFAULTS | values
        record["tags"] = (
            json.dumps(values["tags"], ensure_ascii=False) if "tags" in values else "[]"
        )
        record["fields"] = (
            json.dumps(values["fields"], ensure_ascii=False) if "fields" in values else "{}"
        )
        record["created_at"] = values.get("created_at") or self.now
        record["updated_at"] = values.get("updated_at") or self.now
        return record

    def insert_leads(self, conn: Connection, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Insert ``(id, values)`` rows.

        On SQLite only the columns the batch has values for are bound (the
        rest are NULL): binding all 40 of a typical export's 20 cost the
        driver as much again."""
        if not rows:
            return
        if not self.sqlite:
            conn.execute(insert(LEAD), [self.values(v) | {"id": i} for i, v in rows])
            return
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
            if "tags" in values:
                row["tags"] = dumps(values["tags"], ensure_ascii=False)
            if "fields" in values:
                row["fields"] = dumps(values["fields"], ensure_ascii=False)
            ready.append((lead_id, *map(row.get, columns)))
        conn.exec_driver_sql(sql, ready)

    def _insert_sql(self, columns: tuple[str, ...]) -> str:
        """The insert of these columns (after the id), compiled once."""
        sql = self._statements.get(columns)
        if sql is None:
            sql = self._statements[columns] = _compiled(self.dialect, LEAD, ["id", *columns])[0]
        return sql

    def insert_activities(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Insert activities given as tuples in ``ACTIVITY_COLUMNS`` order."""
        if not rows:
            return
        if not self.sqlite:
            conn.execute(
                insert(ACTIVITY), [dict(zip(ACTIVITY_COLUMNS, r, strict=True)) for r in rows]
            )
            return
        ready = []
        for row in rows:
            values = list(row)
            for index, process in self.activity_processors:
                if values[index] is not None:
                    values[index] = process(values[index])
            ready.append(tuple(values))
        conn.exec_driver_sql(self.activity_sql, ready)


def _compiled(dialect: Any, table: Any, keys: list[str]) -> tuple[str, Processors]:
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
            if isinstance(kind, UTCDateTime):
                process = _sqlite_datetime(process)
            processors.append((index, process))
    return str(compiled), processors


def _sqlite_datetime(general: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLAlchemy's SQLite text for a UTC datetime (``2026-11-23 09:00:00.000000``),
    made directly for the datetimes import makes; any other goes the general way."""

    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is UTC and value.year >= 1000:
            return value.isoformat(" ", "microseconds")[:26]
        return general(value)

    return process
