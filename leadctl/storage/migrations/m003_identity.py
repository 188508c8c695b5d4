"""Version 3: who a lead is (issue 12): another system's record id
(``external_id``, ``"salesforce:00Q…"``, indexed: the first match key of a
re-import) and the second emails and phones a merge keeps (``alt_emails``,
``alt_phones``: JSON lists)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def upgrade(conn: Connection) -> None:
    # text(): SQLAlchemy Core has no ALTER TABLE; frozen DDL, as the day wrote it
    conn.execute(text("ALTER TABLE lead ADD COLUMN external_id VARCHAR"))
    conn.execute(
        text("CREATE INDEX ix_lead_external_id ON lead (external_id) WHERE external_id IS NOT NULL")
    )
    for name in ("alt_emails", "alt_phones"):
        conn.execute(text(f"ALTER TABLE lead ADD COLUMN {name} TEXT NOT NULL DEFAULT '[]'"))
