"""A killed import leaves whole batches only, and a rerun completes it without duplicates."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from benchmarks.make_csv import write
from leadctl.importing import ImportOptions, run_import
from leadctl.storage import open_database
from tests.conftest import leadctl_bin

pytestmark = pytest.mark.slow


def lead_count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM lead").fetchone()[0]
    except sqlite3.OperationalError:  # schema not there yet
        return 0


def index_names(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'"
        )
        return {name for (name,) in rows}


def scores(db: Path) -> dict[str, tuple[int, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT name || ':' || coalesce(email_key, phone), score, band FROM lead"
        )
        return {key: (score, band) for key, score, band in rows}


def deferral_marker(db: Path) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT value FROM leadctl_meta WHERE key = 'indexes_deferred'"
        ).fetchone()
        return row[0] if row else None


@pytest.mark.sqlite_only
def test_kill_mid_import_then_rerun(tmp_path, db_path):
    csv = tmp_path / "big.csv"
    write(csv, 60_000)
    reference = tmp_path / "reference.db"
    after_batches: list[int] = [0]

    def record(session, result) -> None:  # noqa: ANN001
        after_batches.append(after_batches[-1] + len(result.inserted_ids))

    full = run_import(
        open_database(str(reference)),
        str(csv),
        ImportOptions(on_batch=record, rejects=tmp_path / "ref.rejects.csv"),
        actor="tester",
    )
    assert len(after_batches) > 5

    process = subprocess.Popen(
        [leadctl_bin(), "--db", str(db_path), "import", str(csv)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while lead_count(db_path) == 0 and time.monotonic() < deadline:
        assert process.poll() is None, "the import finished before it could be killed"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = conn.execute("SELECT count(*) FROM lead").fetchone()[0]
        created = conn.execute("SELECT count(*) FROM activity WHERE kind = 'created'").fetchone()[0]
    assert 0 < stored < full.imported
    assert stored in after_batches  # whole batches, never part of one
    assert created == stored  # no lead without its history
    # the bulk load had dropped the indexes it builds at its end, and said so
    assert deferral_marker(db_path) is not None
    assert "ix_lead_pool" not in index_names(db_path)
    assert "ix_lead_email_key" in index_names(db_path)  # read while loading: kept

    rerun = subprocess.run(
        [leadctl_bin(), "--db", str(db_path), "import", str(csv), "--json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 1  # the file's bad rows are rejected again
    with sqlite3.connect(db_path) as conn:
        total = conn.execute("SELECT count(*) FROM lead").fetchone()[0]
        emails = conn.execute(
            "SELECT count(*) FROM (SELECT email_key FROM lead WHERE email_key IS NOT NULL "
            "GROUP BY email_key HAVING count(*) > 1)"
        ).fetchone()[0]
    assert total == full.imported
    assert emails == 0
    # opening the database rebuilt what the killed import had dropped
    assert index_names(db_path) == index_names(reference)
    assert scores(db_path) == scores(reference)  # the killed load's leads scored too
    assert "ix_lead_pool" in index_names(db_path)
    assert deferral_marker(db_path) is None
