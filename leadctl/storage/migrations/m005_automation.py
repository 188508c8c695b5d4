"""Version 5: rules that run themselves (issue 15).

- ``lead.stage``: the lifecycle stage (``lead``, ``mql``, ``sql``) set from the
  score; existing leads get it from the default thresholds (mql 50, sql 70).
- ``lead.touched_at``: when a person last worked the lead (a status move, a
  note, a logged contact, an edit, a claim…): aging and the sweep's escalation
  measure "untouched" from it. Existing leads get their latest such time.
- ``choice.rots_after``: seconds an open status may sit untouched before the
  lead is rotting; the default statuses get new 2 days, contacted 7,
  qualified 14, nurture 30.
- ``app_user``: availability (``away_from``/``away_until``), ``capacity`` (max
  open leads) and routing (``territory``, ``industries``: JSON lists).
- ``event``: the outbox, one row an event, ids never reused (AUTOINCREMENT)
  so that ``events --since ID`` and ``--ack ID`` stay meaningful after acks.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, text
from sqlalchemy.engine import Connection

DAY = 86_400
ROTS_AFTER = {"new": 2 * DAY, "contacted": 7 * DAY, "qualified": 14 * DAY, "nurture": 30 * DAY}
# activity kinds that are a person working the lead (engagements and scoring are not)
TOUCH_KINDS = (
    "created", "status", "note", "call", "email", "meeting", "task", "edit", "schedule",
    "claim", "assign", "convert", "merge", "import",
)  # fmt: skip


def upgrade(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "event",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("at", DateTime, nullable=False),
        Column("kind", String, nullable=False),
        Column("lead_id", Integer),
        Column("actor", String, nullable=False),
        Column("data", Text, nullable=False, server_default=text("'{}'")),
        sqlite_autoincrement=True,
    )
    metadata.create_all(conn)
    # the engine's name for a time column (SQLite DATETIME, PostgreSQL TIMESTAMP)
    time = DateTime().compile(dialect=conn.dialect)
    # text(): SQLAlchemy Core has no ALTER TABLE; frozen DDL, as the day wrote it
    for statement in (
        "ALTER TABLE lead ADD COLUMN stage VARCHAR NOT NULL DEFAULT 'lead'",
        f"ALTER TABLE lead ADD COLUMN touched_at {time}",
        "ALTER TABLE choice ADD COLUMN rots_after INTEGER",
        f"ALTER TABLE app_user ADD COLUMN away_from {time}",
        f"ALTER TABLE app_user ADD COLUMN away_until {time}",
        "ALTER TABLE app_user ADD COLUMN capacity INTEGER",
        "ALTER TABLE app_user ADD COLUMN territory TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE app_user ADD COLUMN industries TEXT NOT NULL DEFAULT '[]'",
        "CREATE INDEX ix_lead_stage ON lead (stage)",
        "CREATE INDEX ix_lead_rot ON lead (status, touched_at)",
    ):
        conn.execute(text(statement))
    conn.execute(
        text(
            "UPDATE lead SET stage = CASE WHEN score >= 70 THEN 'sql' "
            "WHEN score >= 50 THEN 'mql' ELSE 'lead' END"
        )
    )
    kinds = ", ".join(f"'{kind}'" for kind in TOUCH_KINDS)
    conn.execute(
        text(
            "UPDATE lead SET touched_at = coalesce((SELECT max(a.created_at) FROM activity a "
            f"WHERE a.lead_id = lead.id AND a.kind IN ({kinds})), updated_at)"
        )
    )
    for name, seconds in ROTS_AFTER.items():
        conn.execute(
            text("UPDATE choice SET rots_after = :seconds WHERE list = 'status' AND name = :name"),
            {"seconds": seconds, "name": name},
        )
