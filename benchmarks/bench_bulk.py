"""Issue 14 target: moving 10,000 leads in one command costs at most 3 × moving one.

    .venv/bin/python benchmarks/bench_bulk.py [--runs N] [--count N]

On a 100,000-lead database (``make_db.py``, built into `benchmarks/data/bulk100k.db`
when missing): A is ``leadctl status - nurture`` with 10,000 lead ids on stdin
(open leads, so every move is allowed), B is ``leadctl status ID nurture`` on one
of them. Both write, so a fresh copy of the built file is put in place before
every run of A and of B, outside the timing (``harness.compare(before=…)``), and
both run through ``sh -c`` so they pay the same shell and stdin redirection.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from bench_pool import fresh_copy
from harness import DATA, LEADCTL, compare
from make_db import build

ENV = {"LEADCTL_USER": "bench", "LEADCTL_NOW": ""}  # real clock; solo mode
OPEN = ("new", "contacted", "qualified")


def open_ids(db: Path, count: int) -> list[int]:
    """``count`` ids of leads in an open status (a move to nurture is allowed)."""
    with sqlite3.connect(db) as conn:
        marks = ",".join("?" * len(OPEN))
        rows = conn.execute(
            f"SELECT id FROM lead WHERE status IN ({marks}) ORDER BY id LIMIT ?", (*OPEN, count)
        ).fetchall()
    conn.close()
    return [row[0] for row in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    built = DATA / "bulk100k.db"
    if not built.exists():
        build(built, 100_000)
    ids = open_ids(built, args.count)
    if len(ids) < args.count:
        print(f"only {len(ids)} open leads in {built}", file=sys.stderr)
        return 1
    id_file = DATA / f"bulk-ids-{args.count}.txt"
    id_file.write_text("".join(f"{i}\n" for i in ids))
    work = DATA / "bulk-work.db"
    many = ["sh", "-c", f"exec {LEADCTL} --db '{work}' status - nurture < '{id_file}'"]
    one = ["sh", "-c", f"exec {LEADCTL} --db '{work}' status {ids[0]} nurture < /dev/null"]
    result = compare(
        f"status - nurture on {args.count:,} ids (stdin) vs one status change, 100k leads",
        many,
        one,
        target=3,
        runs=args.runs,
        env=ENV,
        before=fresh_copy(built, work),
    )
    for path in (work, Path(f"{work}-wal"), Path(f"{work}-shm"), id_file):
        path.unlink(missing_ok=True)
    return 0 if result.ratio_median <= result.target else 1


if __name__ == "__main__":
    sys.exit(main())
