"""Writers take turns: a process committing batch after batch (an import)
lets a person's ``add`` in, though SQLite's lock itself is not a queue."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import run_leadctl

pytestmark = pytest.mark.slow

# Batches of 50 ms with no pause between them: the lock is free for a few
# microseconds a batch, which SQLite's polling waiters almost never meet.
BATCH_WRITER = """
import sys, time
from leadctl.database import open_database
from leadctl.storage import write_meta

from pathlib import Path

database = open_database(sys.argv[1])
stop = Path(sys.argv[2])
print("writing", flush=True)
batches = 0
while not stop.exists():
    with database.session(immediate=True, analyze=False) as session:
        began = time.monotonic()
        while time.monotonic() - began < 0.05:
            write_meta(session.connection(), "batch", str(batches))
    batches += 1
    database.let_waiters_in()
print(batches)
"""


@pytest.mark.sqlite_only
def test_a_batch_writer_lets_waiting_writers_in(db_path, tmp_path):
    assert run_leadctl("statuses").returncode == 0
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", BATCH_WRITER, str(db_path), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing\n"
        for n in range(4):  # each waits 3 s at most for the lock (exit 5 after)
            added = run_leadctl(
                "add",
                f"Walk-in {n}",
                "--email",
                f"walkin{n}@example.org",
                env={"LEADCTL_BUSY_TIMEOUT": "3"},
            )
            assert added.returncode == 0, added.stderr
        assert writer.poll() is None, "the batch writer stopped before the adds were done"
    finally:
        stop.touch()  # whatever happened: no writer left running
    out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert int(out) >= 4  # it went on writing between the adds: paused, not stopped
