"""Version 2: the lead's website and LinkedIn profile URL (issue 11)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def upgrade(conn: Connection) -> None:
    # text(): SQLAlchemy Core has no ALTER TABLE; frozen DDL, as the day wrote it
    for name in ("website", "linkedin"):
        conn.execute(text(f"ALTER TABLE lead ADD COLUMN {name} VARCHAR"))
