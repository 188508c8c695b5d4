"""Issue 6 target: rescoring all 100,000 leads ≤ 0.5 × importing them.

    .venv/bin/python benchmarks/bench_score.py [--runs N]

The reference (B) is `make_db.py` building the same 100,000 leads into a fresh
file with batched SQLAlchemy Core inserts: the least any import of them can
cost (no parsing, no validation, no duplicate checks), so a ratio within 0.5
here is within 0.5 of the real `import` too.

A runs on 100,000 leads with 5 activities each (about 240,000 of them
engagements the rules count), in two ways:

- `score --rules FILE`, alternating between the shipped rules and a variant
  that gives "Core market" one point more, so every run validates and stores a
  rule set and rewrites almost every lead's score (the worst case);
- plain `score`, where nothing changed since the last run (the daily cron case).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness import DATA, LEADCTL, PYTHON, ROOT, compare
from make_db import build

TARGET = 0.5
ENV = {"LEADCTL_NOW": "2026-11-23T09:00:00Z"}


def rule_files(folder: Path) -> list[Path]:
    """The shipped rules, and a variant whose "Core market" (every benchmark lead) is +1."""
    shipped = (ROOT / "examples" / "scoring.toml").read_text("utf-8")
    head, name, tail = shipped.partition('name = "Core market"')
    variant = head + name + tail.replace("points = 10 ", "points = 11 ", 1)
    assert variant != shipped
    files = [folder / "shipped.toml", folder / "variant.toml"]
    files[0].write_text(shipped, "utf-8")
    files[1].write_text(variant, "utf-8")
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    data = DATA / "score100k.db"
    if not data.exists():
        build(data, 100_000, activities=5)
    db = str(data)
    with tempfile.TemporaryDirectory() as folder:
        shipped, variant = rule_files(Path(folder))
        reference = [PYTHON, str(ROOT / "benchmarks" / "make_db.py"), f"{folder}/ref.db", "100000"]
        results = [
            compare(
                "score --rules (every score rewritten) vs batched insert of 100k leads",
                [
                    [LEADCTL, "--db", db, "score", "--rules", str(shipped)],
                    [LEADCTL, "--db", db, "score", "--rules", str(variant)],
                ],
                reference,
                target=TARGET,
                runs=args.runs,
                env=ENV,
            ),
            compare(
                "score (nothing changed) vs batched insert of 100k leads",
                [LEADCTL, "--db", db, "score"],
                reference,
                target=TARGET,
                runs=args.runs,
                env=ENV,
            ),
        ]
    return 0 if all(r.ratio_median <= r.target for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
