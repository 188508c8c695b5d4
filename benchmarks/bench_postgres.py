"""Issue 16 targets: leadctl on PostgreSQL against leadctl on SQLite.

    LEADCTL_BENCH_POSTGRES=postgresql://USER:PASSWORD@HOST:PORT/postgres \\
        .venv/bin/python benchmarks/bench_postgres.py [--runs N] [--rows N]
        [--only import|claim|reads]

The URL names a database to connect to as a user who may ``CREATE DATABASE``;
the benchmark makes its own databases (``leadctl_bench_*``) next to it and
drops them when it ends. Without the variable it says so and stops (exit 0).

- import: the realistic file of ``--rows`` rows (``make_real.py``, 100,000 by
  default) into an empty PostgreSQL database, against the same file into an
  empty SQLite file (target ≤ 2.5 ×); the lead counts must agree;
- claim: 20 ``claim --next`` processes started at once on a database of 1,000
  leads, PostgreSQL against SQLite (≤ 1.2 ×), wall time until the last one
  ends; the 20 leads claimed must be 20 different ones (else it stops);
- reads: ``list --limit 20``, ``show``, ``next``, ``report summary`` and
  ``report funnel`` on 100,000 leads (``--rows``) against 10 leads, both on
  PostgreSQL (≤ 1.5 ×), the databases built by ``make_db.py`` (5 activities a
  lead, a status history) and analysed, as autovacuum would leave them.

Every run starts from the same state, prepared untimed: a fresh database made
from a template (PostgreSQL) or a fresh copy of a file (SQLite). Pairs run
A B A B …; ratios are medians of per-pair ratios (``harness.py``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DATA, LEADCTL, PYTHON, Comparison, compare  # noqa: E402

ENV_VAR = "LEADCTL_BENCH_POSTGRES"
PREFIX = "leadctl_bench_"
WORK = DATA / "postgres"
CLAIMERS = 20
CLAIM_POOL = 1_000
NOW = "2026-11-23T09:00:00Z"  # reads: the same overdue calls and history every run
READS = {
    "list --limit 20": ["list", "--limit", "20"],
    "show 7": ["show", "7"],
    "next": ["next"],
    "report summary": ["report", "summary"],
    "report funnel": ["report", "funnel"],
}


class Server:
    """The PostgreSQL cluster of the URL: databases made and dropped by name."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self.url = make_url(url)
        self.made: set[str] = set()

    def target(self, name: str) -> str:
        """The URL leadctl is given for database ``name``."""
        url = self.url.set(database=name)
        if url.drivername == "postgresql+psycopg":
            url = url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _run(self, *statements: str) -> None:
        import psycopg

        admin = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def fresh(self, name: str, template: str | None = None) -> str:
        """An empty database ``name`` (or a copy of ``template``), replacing any."""
        self.made.add(name)
        like = f" TEMPLATE {template}" if template else ""
        self._run(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}{like}")
        return self.target(name)

    def analyze(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.target(name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

    def drop_all(self) -> None:
        self._run(*(f"DROP DATABASE IF EXISTS {name}" for name in sorted(self.made)))


def leadctl(target: str, *args: str) -> list[str]:
    return [LEADCTL, "--db", target, *args]


def quiet(command: list[str], env: dict[str, str] | None = None) -> None:
    """Run a set-up command, untimed; a failure stops the benchmark."""
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)}: exit {done.returncode}: {done.stderr[-300:]}")


def count_leads(target: str) -> int:
    from sqlalchemy import func, select

    from leadctl.models import LEAD
    from leadctl.storage import open_database

    database = open_database(target)
    try:
        with database.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(LEAD)) or 0)
    finally:
        database.close()


def bench_import(server: Server, rows: int, runs: int) -> Comparison:
    from make_real import write

    csv = WORK / f"real{rows // 1000}k.csv"
    if not csv.exists():
        write(csv, rows)
    empty_db = WORK / "empty.db"
    if not empty_db.exists():
        quiet(leadctl(str(empty_db), "list"))
    template = PREFIX + "empty"
    quiet(leadctl(server.fresh(template), "list"))
    lite, pg_name = WORK / "import.db", PREFIX + "import"
    pg = server.target(pg_name)

    stored: dict[str, int] = {}  # leads each side stored, counted before the next run

    def fresh() -> None:
        if lite.exists() and pg_name in server.made:
            for side, target in (("PostgreSQL", pg), ("SQLite", str(lite))):
                stored[side] = count_leads(target) or stored.get(side, 0)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{lite}{suffix}").unlink(missing_ok=True)
        shutil.copy(empty_db, lite)
        server.fresh(pg_name, template)

    rejects = ["--rejects", str(WORK / "import.rejects.csv")]
    result = compare(
        f"import {rows:,} rows: PostgreSQL vs SQLite",
        leadctl(pg, "import", str(csv), *rejects),
        leadctl(str(lite), "import", str(csv), *rejects),
        target=2.5,
        runs=runs,
        before=fresh,
    )
    fresh()
    verdict = "ok" if len(set(stored.values())) == 1 else "DIFFER"
    print(f"  leads stored by the imports: {stored} {verdict}", flush=True)
    return result


def claimers(target: str, count: int) -> int:
    """``--claimers``: ``count`` claim --next processes at once; exit 3 unless
    each claimed a lead and no two the same."""
    command = leadctl(target, "claim", "--next", "--hours", "1", "--json")
    env = {**os.environ, "LEADCTL_USER": "bench", "LEADCTL_NOW": ""}
    started = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(count)
    ]
    outputs = [process.communicate() for process in started]
    ids = []
    for process, (out, err) in zip(started, outputs, strict=True):
        if process.returncode != 0:
            print(f"claim --next: exit {process.returncode}: {err.decode()[-200:]}")
            return 3
        ids.append(out.decode().split('"id": ')[1].split(",")[0])
    if len(set(ids)) != count:
        print(f"claim --next: {count} claims took {len(set(ids))} different leads")
        return 3
    return 0


def bench_claim(server: Server, runs: int) -> Comparison:
    from make_db import build

    source = WORK / f"claim{CLAIM_POOL}.db"
    if not source.exists():
        build(source, CLAIM_POOL)
    template = PREFIX + "claim_source"
    build(server.fresh(template), CLAIM_POOL)
    server.analyze(template)
    lite, pg_name = WORK / "claim.db", PREFIX + "claim"
    pg = server.target(pg_name)

    def fresh() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{lite}{suffix}").unlink(missing_ok=True)
        shutil.copy(source, lite)
        server.fresh(pg_name, template)

    def run(target: str) -> list[str]:
        return [PYTHON, __file__, "--claimers", target, str(CLAIMERS)]

    return compare(
        f"{CLAIMERS} concurrent claim --next ({CLAIM_POOL:,} leads): PostgreSQL vs SQLite",
        run(pg),
        run(str(lite)),
        target=1.2,
        runs=runs,
        before=fresh,
    )


def bench_reads(server: Server, rows: int, runs: int) -> list[Comparison]:
    from make_db import build

    sizes = {"big": rows, "small": 10}
    targets = {}
    for size, count in sizes.items():
        name = f"{PREFIX}reads_{count}"
        started = time.perf_counter()
        targets[size] = server.fresh(name)
        build(targets[size], count, activities=5, history=True)
        server.analyze(name)
        print(f"  built {count:,} leads on PostgreSQL in {time.perf_counter() - started:.0f}s")
    results = []
    for label, args in READS.items():
        results.append(
            compare(
                f"{label}: {rows:,} vs 10 leads on PostgreSQL",
                leadctl(targets["big"], *args),
                leadctl(targets["small"], *args),
                target=1.5,
                runs=runs,
                env={"LEADCTL_NOW": NOW},
            )
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", choices=["import", "claim", "reads"])
    parser.add_argument("--claimers", nargs=2, metavar=("DB", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.claimers:
        return claimers(args.claimers[0], int(args.claimers[1]))
    url = os.environ.get(ENV_VAR)
    if not url:
        print(f"{ENV_VAR} is not set: give a PostgreSQL URL (a user who may CREATE DATABASE)")
        return 0
    os.environ.pop("LEADCTL_NOW", None)
    os.environ.setdefault("LEADCTL_USER", "bench")
    WORK.mkdir(parents=True, exist_ok=True)
    server = Server(url)
    started = time.perf_counter()
    benches: dict[str, Callable[[], Comparison | list[Comparison]]] = {
        "import": lambda: bench_import(server, args.rows, args.runs),
        "claim": lambda: bench_claim(server, args.runs),
        "reads": lambda: bench_reads(server, args.rows, args.runs),
    }
    results: list[Comparison] = []
    try:
        for name, bench in benches.items():
            if args.only in (None, name):
                outcome = bench()
                results += outcome if isinstance(outcome, list) else [outcome]
    finally:
        server.drop_all()
    print(f"({time.perf_counter() - started:.0f}s in all)")
    return 0 if all(r.ratio_median <= r.target for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
