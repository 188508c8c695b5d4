"""Issue 7 target: every report on 100,000 leads (a realistic history, ~5
activities a lead) within 1.5 × the same report on 10 leads.

    .venv/bin/python benchmarks/bench_reports.py [--runs N] [REPORT …]

Builds `benchmarks/data/reports_100k.db` and `reports_10.db` with
`make_db.py --activities 5 --history` when they are missing. The clock is
pinned (LEADCTL_NOW) so aging and summary read the same moment every run.
"""

from __future__ import annotations

import argparse
import sys

from harness import DATA, LEADCTL, compare
from make_db import build

NOW = "2026-09-01T09:00:00Z"
CASES = {
    "funnel": ["funnel"],
    "sources": ["sources"],
    "reps": ["reps"],
    "aging": ["aging"],
    "trend": ["trend"],
    "trend-month-per-source": ["trend", "--by", "month", "--per-source"],
    "summary": ["summary"],
    "funnel-q2": ["funnel", "--since", "2026-04-01", "--until", "2026-06-30"],
    "aging-until": ["aging", "--until", "2026-06-30"],
    "summary-until": ["summary", "--until", "2026-06-30"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", choices=[[], *CASES], default=[])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    big, small = DATA / "reports_100k.db", DATA / "reports_10.db"
    for path, count in ((big, 100_000), (small, 10)):
        if not path.exists():
            build(path, count, activities=5, history=True)
    failed = 0
    for name in args.cases or CASES:
        report = ["report", *CASES[name]]
        result = compare(
            f"report {' '.join(CASES[name])}",
            [LEADCTL, "--db", str(big), *report],
            [LEADCTL, "--db", str(small), *report],
            target=1.5,
            runs=args.runs,
            env={"LEADCTL_NOW": NOW},
        )
        failed += result.ratio_median > result.target
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
