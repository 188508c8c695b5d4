"""Version 4: undo (issue 14). Every command that writes activities gets one
``command_log`` row (who ran it, when, which later ``undo`` reverted it, and
``data``: JSON a command keeps only so it can be undone, e.g. what a merge
moved); each activity names its command (``activity.command_id``), so
``leadctl undo`` finds one command's worth of changes, however many leads.
Activities written before this version have no command: they are history
that undo never reverts."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.engine import Connection


def upgrade(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "command_log",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("actor", String, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("undone_by", Integer),
        Column("data", Text),
        Index("ix_command_log_actor", "actor"),
    )
    metadata.create_all(conn)
    # text(): SQLAlchemy Core has no ALTER TABLE; frozen DDL, as the day wrote it
    conn.execute(text("ALTER TABLE activity ADD COLUMN command_id INTEGER"))
    conn.execute(text("CREATE INDEX ix_activity_command_id ON activity (command_id)"))
