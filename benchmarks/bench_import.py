"""Import benchmarks (issues 5 and 13): speed against the raw-insert floor,
scaling, memory, on two shapes of file.

    python benchmarks/bench_import.py [--runs 5] [--shape real|tidy]
        [--only speed|scale|reimport|rescore|floor]

Shapes: ``real`` (``make_real.py``, issue 13: accounts of hundreds to thousands
of leads, phones of 24 countries in national forms, ~10 % of rows warning, ~1 %
rejected, ~5 % repeats) and ``tidy`` (``make_csv.py``, issue 5: nearly every
company different, no warnings). Targets are issue 13's on ``real``; on
``tidy`` no worse than before (17×).

- speed: importing 100k rows into an empty leadctl database, against ``sqlite3
  DB ".import --csv FILE leads"`` of the same file into an empty database
  (target ≤ 15×);
- scale: 300k rows against 30k rows, time (≤ 11×) and peak RSS (≤ 1.3×);
- reimport: the same 100k file into the database it was just imported into,
  against the first import (≤ 1.2×), and the lead count unchanged;
- rescore: ``score --rules`` (every lead's score rewritten) on the imported
  100k against importing them (≤ 0.5×);
- floor: no target, an explanation: the sqlite3 shell copying the leads and
  activities of that import into an empty leadctl database (all its indexes),
  against the same ``.import`` reference.

Each pair runs A B A B …; ratios are medians of per-pair ratios (harness.py).
Peak RSS is the child's ``ru_maxrss`` (the parser child is counted with it:
RUSAGE_CHILDREN reports the largest descendant).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DATA, LEADCTL, compare  # noqa: E402
from make_csv import write as write_tidy  # noqa: E402
from make_real import write as write_real  # noqa: E402

SQLITE = shutil.which("sqlite3") or "/usr/bin/sqlite3"
WORK = DATA / "import"


SHAPE = "real"


def csv_file(rows: int) -> Path:
    """The benchmark file of ``rows`` rows in the chosen shape, written once."""
    path = WORK / (f"leads{rows // 1000}k.csv" if SHAPE == "tidy" else f"real{rows // 1000}k.csv")
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        (write_tidy if SHAPE == "tidy" else write_real)(path, rows)
    return path


def empty_db() -> Path:
    """An empty leadctl database, made once: each run imports into a fresh copy."""
    path = WORK / "empty.db"
    if not path.exists():
        subprocess.run([LEADCTL, "--db", str(path), "list"], capture_output=True, check=True)
    return path


def import_command(csv: Path, db: Path) -> list[str]:
    return [LEADCTL, "--db", str(db), "import", str(csv), "--rejects", f"{db}.rejects.csv"]


def fresh(*paths: Path) -> None:
    """Untimed, before each run: empty leadctl databases to import into; no
    reference database (sqlite3 .import creates it)."""
    for path in paths:
        for suffix in ("", "-wal", "-shm", ".rejects.csv"):  # a rejects file of another source
            Path(f"{path}{suffix}").unlink(missing_ok=True)  # would refuse the import
        if path.name != "b.db":
            shutil.copy(empty_db(), path)


def sqlite_command(csv: Path, db: Path) -> list[str]:
    return [SQLITE, str(db), f".import --csv {csv} leads"]


def peak_rss(command: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of a command run in a fresh child process."""
    script = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:])\n"
        "elapsed = time.perf_counter() - start\n"
        "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, *command], capture_output=True, text=True, check=True
    )
    elapsed, rss = out.stdout.split()
    return float(elapsed), int(rss)


def speed(runs: int) -> None:
    csv = csv_file(100_000)
    compare(
        "import 100k vs sqlite3 .import",
        import_command(csv, WORK / "a.db"),
        sqlite_command(csv, WORK / "b.db"),
        target=15,
        runs=runs,
        before=lambda: fresh(WORK / "a.db", WORK / "b.db"),
    )


def scale(runs: int) -> None:
    small, big = csv_file(30_000), csv_file(300_000)
    times, memory = [], []
    for _ in range(runs):
        fresh(WORK / "big.db", WORK / "small.db")
        t_big, rss_big = peak_rss(import_command(big, WORK / "big.db"))
        t_small, rss_small = peak_rss(import_command(small, WORK / "small.db"))
        times.append(t_big / t_small)
        memory.append(rss_big / rss_small)
        print(
            f"  300k {t_big:.2f}s {rss_big / 1024:.0f} MiB, 30k {t_small:.2f}s "
            f"{rss_small / 1024:.0f} MiB",
            flush=True,
        )
    for name, ratios, target in (("time", times, 11), ("peak RSS", memory, 1.3)):
        ratio = statistics.median(ratios)
        verdict = "ok" if ratio <= target else "OVER"
        print(f"import 300k vs 30k {name}: ratio {ratio:.2f} (target ≤ {target}) {verdict}")


def reimport(runs: int) -> None:
    csv = csv_file(100_000)
    first_db, again_db = WORK / "first.db", WORK / "again.db"
    fresh(again_db)
    subprocess.run(import_command(csv, again_db), capture_output=True, check=False)
    before = _count(again_db)
    compare(
        "re-import 100k vs first import",
        import_command(csv, again_db),
        import_command(csv, first_db),
        target=1.2,
        runs=runs,
        before=lambda: fresh(first_db),
    )
    after = _count(again_db)
    verdict = "ok" if after == before else "CHANGED"
    print(f"lead count after re-imports: {after} (was {before}) {verdict}")


def rescore(runs: int) -> None:
    """Every lead's score rewritten (bench_score's two rule files in turn, so each
    run changes them) on the imported file, against importing it."""
    from bench_score import rule_files

    csv = csv_file(100_000)
    scored, first_db = WORK / "scored.db", WORK / "first.db"
    fresh(scored)
    subprocess.run(import_command(csv, scored), capture_output=True, check=False)
    files = rule_files(WORK)
    compare(
        "rescore 100k (score --rules) vs import 100k",
        [[LEADCTL, "--db", str(scored), "score", "--rules", str(file)] for file in files],
        import_command(csv, first_db),
        target=0.5,
        runs=runs,
        before=lambda: fresh(first_db),
    )


def floor(runs: int) -> None:
    """What SQLite alone needs to store the same leads and activities in leadctl's
    schema (every index), copied by one INSERT … SELECT each: no Python at all."""
    csv = csv_file(100_000)
    source = WORK / "first.db"
    fresh(source)
    subprocess.run(import_command(csv, source), capture_output=True, check=False)
    copy = (
        f"ATTACH '{source}' AS src; BEGIN; INSERT INTO lead SELECT * FROM src.lead WHERE 1; "
        "INSERT INTO activity SELECT * FROM src.activity WHERE 1; COMMIT;"
    )
    bound = (
        "import sqlite3, sys\n"
        "src = sqlite3.connect(sys.argv[1])\n"
        "dst = sqlite3.connect(sys.argv[2], isolation_level=None)\n"
        "dst.execute('PRAGMA cache_size = -16384')\n"
        "for table in ('lead', 'activity'):\n"
        "    rows = src.execute(f'SELECT * FROM {table}').fetchall()\n"
        "    marks = ','.join('?' * len(rows[0]))\n"
        "    for start in range(0, len(rows), 5000):\n"
        "        dst.execute('BEGIN IMMEDIATE')\n"
        "        batch = rows[start:start + 5000]\n"
        "        dst.executemany(f'INSERT INTO {table} VALUES ({marks})', batch)\n"
        "        dst.execute('COMMIT')\n"
    )
    compare(
        "Python's sqlite3: the same rows, ready-made, by executemany in batches of 5,000",
        [sys.executable, "-c", bound, str(source), str(WORK / "a.db")],
        sqlite_command(csv, WORK / "b.db"),
        target=15,
        runs=runs,
        before=lambda: fresh(WORK / "a.db", WORK / "b.db"),
    )
    compare(
        "SQLite alone: copy the imported rows into an empty leadctl database",
        [SQLITE, str(WORK / "a.db"), copy],
        sqlite_command(csv, WORK / "b.db"),
        target=15,
        runs=runs,
        before=lambda: fresh(WORK / "a.db", WORK / "b.db"),
    )


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM lead").fetchone()[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["speed", "scale", "reimport", "rescore", "floor"])
    parser.add_argument("--shape", choices=["real", "tidy"], default="real")
    args = parser.parse_args()
    SHAPE = args.shape  # read by csv_file
    os.environ.pop("LEADCTL_NOW", None)
    started = time.perf_counter()
    benches = (
        ("speed", speed),
        ("scale", scale),
        ("reimport", reimport),
        ("rescore", rescore),
        ("floor", floor),
    )
    for name, bench in benches:
        if args.only in (None, name):
            bench(args.runs)
    print(f"({time.perf_counter() - started:.0f}s in all)")
