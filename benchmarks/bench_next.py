"""Issue 14 targets for `next`: its cost does not grow with the database, and a
cold start stays close to the simplest Typer + SQLModel program.

    .venv/bin/python benchmarks/bench_next.py

- `next` and `next --json` on 100,000 leads ≤ 1.5 × on 10 leads;
- cold `next` on a small database ≤ 1.25 × a minimal Typer + SQLModel script
  running one SELECT and printing a Rich table (`ref_list.py`, as for `list`).

The clock is pinned (LEADCTL_NOW) so every run sees the same overdue calls,
first contacts and hot leads in the generated data.
"""

from __future__ import annotations

import sys

from harness import DATA, LEADCTL, PYTHON, ROOT, compare
from make_db import build

NOW = {"LEADCTL_NOW": "2026-11-23T09:00:00Z"}


def main() -> int:
    DATA.mkdir(parents=True, exist_ok=True)
    sizes = {"small": 200, "l10": 10, "l100k": 100_000}
    for name, count in sizes.items():
        if not (DATA / f"{name}.db").exists():
            build(DATA / f"{name}.db", count)
    small, tiny, big = (str(DATA / f"{n}.db") for n in sizes)
    bench = ROOT / "benchmarks"
    results = [
        compare(
            "cold next vs Typer+SQLModel script",
            [LEADCTL, "--db", small, "next"],
            [PYTHON, str(bench / "ref_list.py"), small],
            target=1.25,
            env=NOW,
        )
    ]
    for args in (["next"], ["next", "--json"]):
        results.append(
            compare(
                f"{' '.join(args)}: 100k vs 10 leads",
                [LEADCTL, "--db", big, *args],
                [LEADCTL, "--db", tiny, *args],
                target=1.5,
                env=NOW,
            )
        )
    return 0 if all(r.ratio_median <= r.target for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
