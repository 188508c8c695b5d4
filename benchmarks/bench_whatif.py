"""Issue 15 targets for "what if": a dry run costs no more than the real thing,
and a report as of a past moment does not grow with the database.

    .venv/bin/python benchmarks/bench_whatif.py [--runs N] [--leads N] [CASE …]

- `score --rules FILE --dry-run` on 100,000 leads ≤ the real `score --rules
  FILE` on them (target 1.0). Before every run (untimed) the database is a
  fresh copy scored by the shipped rules, and FILE gives "Core market" one
  point more, so the real run rewrites almost every score and the dry run
  has that much to count (the worst case for both);
- every report `--as-of` on 100,000 leads ≤ 1.5 × the same on 10 leads, on
  `make_db.py --activities 5 --history` data (as `bench_reports.py`), at two
  moments: the middle of the history and the day before the clock.

`--leads N` builds and measures a smaller database instead of 100,000 (to
check that the script works; the targets are for 100,000).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_score import rule_files
from harness import DATA, LEADCTL, compare
from make_db import build

NOW = "2026-09-01T09:00:00Z"
AS_OF = {"mid": "2026-06-30", "recent": "2026-08-31T12:00"}
REPORTS = {
    "funnel": ["funnel"],
    "funnel-stage": ["funnel", "--by", "stage"],
    "sources": ["sources"],
    "reps": ["reps"],
    "aging": ["aging"],
    "trend": ["trend"],
    "summary": ["summary"],
    "summary-q2": ["summary", "--since", "2026-04-01"],
}
CASES = ["dry-run", *(f"{name}@{when}" for name in REPORTS for when in AS_OF)]


def dry_run(leads: int, runs: int) -> bool:
    pristine = DATA / f"whatif_{leads}.db"
    if not pristine.exists():
        build(pristine, leads, activities=5)
    with tempfile.TemporaryDirectory() as folder:
        shipped, variant = rule_files(Path(folder))
        work = Path(folder) / "work.db"
        shutil.copyfile(pristine, work)
        command = [LEADCTL, "--db", str(work), "score", "--rules"]
        before = f"{pristine}.shipped"
        if not Path(before).exists():  # stored shipped rules and scores, once
            environment = {**os.environ, "LEADCTL_NOW": NOW}
            subprocess.run([*command, str(shipped)], check=True, env=environment)
            _settle(work)  # the scores are in the write-ahead log until checkpointed
            shutil.copyfile(work, before)

        def fresh() -> None:
            for suffix in ("-wal", "-shm"):  # a log left by the last run is not this copy's
                Path(f"{work}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(before, work)

        result = compare(
            f"score --rules FILE --dry-run vs score --rules FILE ({leads:,} leads)",
            [*command, str(variant), "--dry-run"],
            [*command, str(variant)],
            target=1.0,
            runs=runs,
            env={"LEADCTL_NOW": NOW},
            before=fresh,
        )
    return result.ratio_median <= result.target


def _settle(path: Path) -> None:
    """Move a database's write-ahead log into the file, so a copy of the file is whole."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def as_of(name: str, when: str, leads: int, runs: int) -> bool:
    size = "100k" if leads == 100_000 else str(leads)
    big, small = DATA / f"reports_{size}.db", DATA / "reports_10.db"
    for path, count in ((big, leads), (small, 10)):
        if not path.exists():
            build(path, count, activities=5, history=True)
    report = ["report", *REPORTS[name], "--as-of", AS_OF[when]]
    result = compare(
        f"{' '.join(report)}: {leads:,} vs 10 leads",
        [LEADCTL, "--db", str(big), *report],
        [LEADCTL, "--db", str(small), *report],
        target=1.5,
        runs=runs,
        env={"LEADCTL_NOW": NOW},
    )
    return result.ratio_median <= result.target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", choices=[[], *CASES], default=[])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    failed = 0
    for case in args.cases or CASES:
        if case == "dry-run":
            failed += not dry_run(args.leads, args.runs)
        else:
            name, _, when = case.partition("@")
            failed += not as_of(name, when, args.leads, args.runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
