"""Version 6: 64-bit integers on every engine (issue 16). SQLite's INTEGER is
64-bit already, so there this version changes nothing; on PostgreSQL every
integer column (ids, references, counts, amounts kept as integers) becomes
BIGINT and each id's sequence counts in BIGINT too, so an id past 2**31 or a
company of three billion fits as it does on SQLite."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

COLUMNS = {
    "lead": ("id", "company_size", "score", "score_adjustment", "client_id", "merged_into"),
    "activity": ("id", "lead_id", "command_id"),
    "command_log": ("id", "undone_by"),
    "choice": ("id", "position", "rots_after"),
    "client": ("id",),
    "deal": ("id", "client_id", "lead_id", "probability"),
    "event": ("id", "lead_id"),
    "app_user": ("capacity",),
}
SEQUENCES = ("lead", "activity", "command_log", "choice", "client", "deal", "event")


def upgrade(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    # text(): SQLAlchemy Core has no ALTER TABLE; frozen DDL, as the day wrote it
    for table, columns in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {column} TYPE BIGINT" for column in columns)
        conn.execute(text(f"ALTER TABLE {table} {changes}"))
    for table in SEQUENCES:
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table}
        ).scalar_one()
        if sequence is not None:
            conn.execute(text(f"ALTER SEQUENCE {sequence} AS BIGINT"))
