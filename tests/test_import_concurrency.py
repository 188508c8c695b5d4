"""A bulk import beside a person adding leads, a cron job and a reader, each its own process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time

import pytest

from benchmarks.make_csv import write
from tests.conftest import leadctl_bin, run_leadctl

pytestmark = pytest.mark.slow


def index_names(db) -> set[str]:  # noqa: ANN001
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            return {name for (name,) in rows}
    except sqlite3.OperationalError:  # not created yet
        return set()


@pytest.mark.sqlite_only
def test_bulk_import_beside_other_writers_and_readers(tmp_path, db_path):
    csv = tmp_path / "big.csv"
    write(csv, 30_000)  # a bulk load: indexes dropped while it runs
    run_leadctl("statuses")  # the empty database
    # files, not pipes: the JSON summary (its merges) is bigger than a pipe's buffer,
    # and nothing reads the pipes until the import ends
    out_file, err_file = (tmp_path / "import.out").open("w+"), (tmp_path / "import.err").open("w+")
    importer = subprocess.Popen(
        [leadctl_bin(), "import", str(csv), "--json"],
        stdin=subprocess.DEVNULL,
        stdout=out_file,
        stderr=err_file,
        text=True,
    )
    codes: dict[str, list[int]] = {"add": [], "cron": [], "list": []}
    errors: list[str] = []
    added, during_load = 0, 0
    while "ix_lead_pool" in index_names(db_path) and importer.poll() is None:
        time.sleep(0.02)  # until the load has taken the indexes down
    while importer.poll() is None or added < 5:
        during_load += "ix_lead_pool" not in index_names(db_path)
        result = run_leadctl("add", f"Walk-in {added}", "--email", f"walkin{added}@example.org")
        codes["add"].append(result.returncode)
        added += 1
        cron = run_leadctl("claim", "--release-expired")
        codes["cron"].append(cron.returncode)
        listed = run_leadctl("list", "--limit", "5", "--sort", "score", "--json")
        codes["list"].append(listed.returncode)
        errors += [done.stderr for done in (result, cron, listed) if done.returncode]
        assert listed.returncode != 0 or len(json.loads(listed.stdout)) <= 5
    importer.wait(timeout=300)
    out, err = (tmp_path / "import.out").read_text(), (tmp_path / "import.err").read_text()
    out_file.close()
    err_file.close()
    assert importer.returncode == 1, err  # the file's bad rows are rejected
    summary = json.loads(out)
    assert codes == {key: [0] * added for key in codes}, errors  # nobody waited in vain (exit 5)

    with sqlite3.connect(db_path) as conn:
        leads = conn.execute("SELECT count(*) FROM lead").fetchone()[0]
        walk_ins = conn.execute("SELECT count(*) FROM lead WHERE name LIKE 'Walk-in %'").fetchone()
        marker = conn.execute(
            "SELECT value FROM leadctl_meta WHERE key = 'indexes_deferred'"
        ).fetchone()
    assert during_load > 0  # the others really ran while the indexes were down
    assert leads == summary["imported"] + added
    assert walk_ins[0] == added
    assert marker is None
    assert {"ix_lead_pool", "ix_lead_report_source", "ix_lead_email_key"} <= index_names(db_path)
    assert len(json.loads(run_leadctl("list", "--limit", "5", "--json").stdout)) == 5
    rescored = json.loads(run_leadctl("score", "--json").stdout)
    assert rescored["changed"] == 0  # every lead, walk-ins included, holds its score
