"""Lead and activity rows as the database takes them.

A batch goes in through SQLAlchemy Core insert statements. On SQLite each is
compiled once and executed by the driver on tuples, the columns' own bind
processors applied here: SQLAlchemy's per-parameter work would otherwise cost
as much as SQLite's. Lead tuples are built by :meth:`Records.lead` in the
writing process: pickling them from the reader cost the reader, the busier of
the two, more than building them costs the writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import UTCDateTime

from leadctl.models import Activity, Lead

LEAD = Lead.__table__
ACTIVITY = Activity.__table__
COLUMNS = [c.name for c in LEAD.columns if c.name != "id"]
ACTIVITY_COLUMNS = "lead_id kind field old_value new_value body outcome actor created_at".split()
DEFAULTS: dict[str, Any] = dict.fromkeys(COLUMNS) | {
    "priority": "medium",
    "status": "new",
    "score": 0,
    "score_adjustment": 0,
    "band": "cold",
    "tags": "[]",
    "fields": "{}",
}
_POSITION = {column: index for index, column in enumerate(COLUMNS)}
Processors = list[tuple[int, Callable[[Any], Any]]]


class Records:
    """Builds and inserts rows for one import (one dialect, one "now")."""

    def __init__(self, dialect: Any, now: datetime) -> None:
        self.dialect = dialect
        self.sqlite = dialect.name == "sqlite"
        self.now = now
        if self.sqlite:
            self.lead_sql, processors = _compiled(dialect, LEAD, ["id", *COLUMNS])
            self.activity_sql, self.activity_processors = _compiled(
                dialect, ACTIVITY, ACTIVITY_COLUMNS
            )
            self.processor_of = {COLUMNS[i - 1]: p for i, p in processors}  # i - 1: no id
            self.template = [DEFAULTS[c] for c in COLUMNS]
            self.now_text = self.processor_of["created_at"](now)

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

    def lead(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """A new lead as SQLite takes it (without its id)."""
        row = list(self.template)
        at, processors = _POSITION, self.processor_of
        for key, value in values.items():
            process = processors.get(key)
            row[at[key]] = process(value) if process is not None and value is not None else value
        row[at["tags"]] = (
            json.dumps(values["tags"], ensure_ascii=False) if "tags" in values else "[]"
        )
        if "fields" in values:
            row[at["fields"]] = json.dumps(values["fields"], ensure_ascii=False)
        if not values.get("created_at"):
            row[at["created_at"]] = self.now_text
        if not values.get("updated_at"):
            row[at["updated_at"]] = self.now_text
        return tuple(row)

    def insert_leads(self, conn: Connection, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Insert ``(id, values)`` rows."""
        if not rows:
            return
        if not self.sqlite:
            conn.execute(insert(LEAD), [self.values(v) | {"id": i} for i, v in rows])
            return
        ready = [(lead_id, *self.lead(values)) for lead_id, values in rows]
        conn.exec_driver_sql(self.lead_sql, ready)

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
