"""Issue 12 target: `export` of 100,000 leads with their timelines (8
activities a lead, clients and deals for the converted ones) within 2 × the
export of the same 100,000 leads without a history.

    .venv/bin/python benchmarks/bench_export.py [--count N] [--runs N] [--format F …]

Builds `benchmarks/data/export_history_<N>.db` (`make_db.py --activities 8
--history`) and `export_plain_<N>.db` (the same leads, no activities) when
they are missing; the leads are the same rows in both (make_db's history
has its own random stream). Each run writes the export to a file in
`benchmarks/data/` (stdout is a pipe to nothing otherwise, which would time
nothing of the writing), removed before the next run.
"""

from __future__ import annotations

import argparse
import sys

from harness import DATA, LEADCTL, compare
from make_db import build

FORMATS = ["json", "jsonl", "csv"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--format", dest="formats", action="append", choices=FORMATS)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    history, plain = (
        DATA / f"export_history_{args.count}.db",
        DATA / f"export_plain_{args.count}.db",
    )
    if not history.exists():
        build(history, args.count, activities=8, history=True)
    if not plain.exists():
        build(plain, args.count)
    failed = 0
    for fmt in args.formats or FORMATS:
        out = DATA / f"export_out.{fmt}"

        def fresh(out=out) -> None:  # type: ignore[no-untyped-def]
            out.unlink(missing_ok=True)

        result = compare(
            f"export --format {fmt}, {args.count:,} leads with timelines vs without",
            [LEADCTL, "--db", str(history), "export", "--format", fmt, "-o", str(out)],
            [LEADCTL, "--db", str(plain), "export", "--format", fmt, "-o", str(out)],
            target=2.0,
            runs=args.runs,
            before=fresh,
        )
        out.unlink(missing_ok=True)
        failed += result.ratio_median > result.target
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
