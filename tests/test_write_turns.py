"""Writers take turns: a process committing batch after batch (an import)
lets a person's ``add`` in, though SQLite's lock itself is not a queue."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.conftest import run_leadctl

pytestmark = pytest.mark.slow

# Batches of 50 ms with no pause between them: the lock is free for a few
# microseconds a batch, which SQLite's polling waiters almost never meet.
BATCH_WRITER = """
import sys, time
from leadctl.database import open_database
from leadctl.storage import write_meta

database = open_database(sys.argv[1])
end = time.monotonic() + float(sys.argv[2])
print("writing", flush=True)
batches = 0
while time.monotonic() < end:
    with database.session(immediate=True, analyze=False) as session:
        began = time.monotonic()
        while time.monotonic() - began < 0.05:
            write_meta(session.connection(), "batch", str(batches))
    batches += 1
    database.let_waiters_in()
print(batches)
"""


def test_a_batch_writer_lets_waiting_writers_in(db_path):
    assert run_leadctl("statuses").returncode == 0
    writer = subprocess.Popen(
        [sys.executable, "-c", BATCH_WRITER, str(db_path), "8"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == "writing\n"
    waited = []
    for n in range(4):
        began = time.monotonic()
        added = run_leadctl(
            "add",
            f"Walk-in {n}",
            "--email",
            f"walkin{n}@example.org",
            env={"LEADCTL_BUSY_TIMEOUT": "3"},
        )
        waited.append(time.monotonic() - began)
        assert added.returncode == 0, added.stderr
    assert writer.poll() is None, "the batch writer stopped before the adds were done"
    out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert int(out) > 40  # it went on writing: paused, not stopped
    assert max(waited) < 3
