"""Issue 15 target for `sweep`: the cron job costs about what a glance at the list does.

    .venv/bin/python benchmarks/bench_sweep.py [LEADS [DUE]]

- `sweep` on 100,000 leads with 5,000 due for escalation (owned, untouched past
  their status's rots-after) ≤ 1.5 × `list --limit 1` on the same database.

The database is the realistic generator's (``make_db.build``), its stages and
touches filled in directly: every lead touched an hour before the pinned clock,
except the DUE leads, owned by a rep, contacted and untouched for 30 days.
The sweep consumes its work (those leads go back to the pool), so every run, of
either command, starts from a fresh copy of that database.
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import DATA, LEADCTL, compare
from make_db import build
from sqlalchemy import update

from leadctl import stages
from leadctl.models import LEAD
from leadctl.storage import open_database

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ENV = {"LEADCTL_NOW": "2026-11-23T09:00:00Z"}


def prepare(path: Path, count: int, due: int) -> None:
    """The generated leads, touched and staged; ``due`` of them rotting and owned."""
    build(path, count)
    database = open_database(str(path))
    with database.engine.begin() as conn:
        conn.execute(update(LEAD).values(touched_at=NOW - timedelta(hours=1)))
        conn.execute(
            update(LEAD)
            .where(LEAD.c.id % (count // due) == 0, LEAD.c.id <= due * (count // due))
            .values(owner="rep1", status="contacted", touched_at=NOW - timedelta(days=30))
        )
        stages.recompute(conn, now=NOW)
    database.close()


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    due = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    DATA.mkdir(parents=True, exist_ok=True)
    pristine = DATA / f"sweep-{count}-{due}.db"
    if not pristine.exists():
        prepare(pristine, count, due)
    work = DATA / "sweep-work.db"

    def fresh() -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
        shutil.copy(pristine, work)

    result = compare(
        f"sweep ({due:,} due) vs list --limit 1 on {count:,} leads",
        [LEADCTL, "--db", str(work), "sweep"],
        [LEADCTL, "--db", str(work), "list", "--limit", "1"],
        target=1.5,
        env=ENV,
        before=fresh,
    )
    return 0 if result.ratio_median <= result.target else 1


if __name__ == "__main__":
    sys.exit(main())
