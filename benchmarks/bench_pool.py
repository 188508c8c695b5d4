"""Issue 4 targets: the pool stays fast whatever the size of the database.

    .venv/bin/python benchmarks/bench_pool.py

- `claim --release-expired` on 100,000 leads with 5,000 expired claims
  ≤ 1.5 × `list --limit 1` on the same database;
- `claim --next` on 100,000 leads ≤ 1.5 × the same on 10 leads.

Both commands write, so each run must meet the database as it was:

- release-expired empties the expired claims it measures. Before every run of
  A *and* of B a fresh copy of the built file is put in place, outside the
  timing (``harness.compare(before=…)``, A B A B with the median of per-pair
  ratios). For comparison, the same pair is also timed through
  ``harness.compare`` itself with the copy inside both commands (``cp && leadctl``):
  the same cost on both sides, which pulls that ratio towards 1.
- claim --next takes one lead per run; it claims for ``--hours 0.0001``
  (0.36 s) with the real clock, so by the next run on that file the claim has
  expired and the pool is as big as before (taking an expired claim is the same
  conditional UPDATE as taking a free lead). Plain ``harness.compare``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from harness import DATA, LEADCTL, compare
from make_db import build

ENV = {"LEADCTL_USER": "bench", "LEADCTL_NOW": ""}  # real clock; solo mode


def fresh_copy(source: Path, target: Path) -> Callable[[], None]:
    """Put an untouched copy of ``source`` at ``target`` (dropping any WAL left over)."""

    def reset() -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)

    return reset


def main() -> int:
    DATA.mkdir(parents=True, exist_ok=True)
    expired, big, tiny = DATA / "pool100k.db", DATA / "pool100k-next.db", DATA / "pool10.db"
    if not expired.exists():
        build(expired, 100_000, expired_claims=5_000)
    if not big.exists():
        build(big, 100_000)
    if not tiny.exists():
        build(tiny, 10)
    work = DATA / "pool-work.db"
    os.environ.update(ENV)
    release = [LEADCTL, "--db", str(work), "claim", "--release-expired"]
    list_one = [LEADCTL, "--db", str(work), "list", "--limit", "1"]
    results = [
        compare(
            "claim --release-expired (5,000 of 100k) vs list --limit 1, fresh copy untimed",
            release,
            list_one,
            target=1.5,
            env=ENV,
            before=fresh_copy(expired, work),
        )
    ]
    copy = f"rm -f '{work}-wal' '{work}-shm' && cp '{expired}' '{work}' && exec "
    compare(
        "the same, copy timed on both sides (harness.compare)",
        ["sh", "-c", copy + " ".join(release)],
        ["sh", "-c", copy + " ".join(list_one)],
        target=1.5,
        env=ENV,
    )
    next_one = ["claim", "--next", "--hours", "0.0001"]
    results.append(
        compare(
            "claim --next: 100k vs 10 leads",
            [LEADCTL, "--db", str(big), *next_one],
            [LEADCTL, "--db", str(tiny), *next_one],
            target=1.5,
            env=ENV,
        )
    )
    for path in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        path.unlink(missing_ok=True)
    return 0 if all(r.ratio_median <= r.target for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
