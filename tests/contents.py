"""What a test's database holds, as one checksum on either engine, for the
checks that a command (a dry run, a simulation) "writes nothing"."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from sqlalchemy import text

from tests import engines


def fingerprint(target: str) -> str:
    """SQLite: the file's bytes, its write-ahead log folded in first (so a write
    shows in the main file). PostgreSQL: every row of every table in the test's
    schema (rows are all a write can leave there; a rolled-back one leaves none)."""
    if "://" not in target:
        with sqlite3.connect(target) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        digest = hashlib.sha256()
        for suffix in ("", "-wal"):
            part = Path(f"{target}{suffix}")
            digest.update(part.read_bytes() if part.exists() else b"-")
        return digest.hexdigest()
    engine = engines.engine_for(target)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() ORDER BY table_name"
                )
            ).scalars()
            names = list(tables)
            assert "lead" in names, f"no leadctl tables in the test's schema: {names}"
            digest = hashlib.sha256()
            for table in names:
                rows = conn.execute(
                    text(f'SELECT t::text FROM "{table}" t ORDER BY t::text')
                ).scalars()
                digest.update(table.encode())
                for row in rows:
                    digest.update(b"\n" + row.encode())
                digest.update(b"\0")
        return digest.hexdigest()
    finally:
        engine.dispose()
