"""Issue 3 targets: start-up cost and list/show independent of database size.

    .venv/bin/python benchmarks/bench_foundation.py

- `leadctl --help` ≤ 1.3 × a minimal one-command Typer app's --help;
- `leadctl list --limit 20` on a small database ≤ 1.25 × a minimal Typer +
  SQLModel script running one SELECT and printing a Rich table;
- `list`, `list --status new`, `show ID` on 100,000 leads ≤ 1.5 × on 10 leads.
"""

from __future__ import annotations

import sys

from harness import DATA, LEADCTL, PYTHON, ROOT, compare
from make_db import build


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
            "--help vs minimal Typer app",
            [LEADCTL, "--help"],
            [PYTHON, str(bench / "ref_help.py"), "--help"],
            target=1.3,
        ),
        compare(
            "list --limit 20 vs Typer+SQLModel script",
            [LEADCTL, "--db", small, "list", "--limit", "20"],
            [PYTHON, str(bench / "ref_list.py"), small],
            target=1.25,
        ),
    ]
    for args in (["list"], ["list", "--status", "new"], ["show", "7"]):
        results.append(
            compare(
                f"{' '.join(args)}: 100k vs 10 leads",
                [LEADCTL, "--db", big, *args],
                [LEADCTL, "--db", tiny, *args],
                target=1.5,
            )
        )
    return 0 if all(r.ratio_median <= r.target for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
