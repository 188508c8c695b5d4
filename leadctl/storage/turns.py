"""Taking turns at SQLite's one write lock.

SQLite's lock is not a queue: a writer that finds it taken polls (its busy
handler sleeps up to 100 ms between tries), so a process committing batch
after batch, each next BEGIN a few microseconds after the last COMMIT, can
keep a person's ``add`` or a cron job out until its busy timeout runs out
(exit 5), however short each batch is.

So a writer that has to wait says so: while it waits it holds a shared
``flock`` on a file beside the database (``<database>-waiting``, made by the
first writer that ever had to wait). A process writing in batches calls
:func:`let_waiters_in` between two transactions, and pauses while anyone holds
that lock, which they let go as soon as they have the write lock. When nobody
waits this costs one failed ``open`` a batch. Where ``flock`` is missing (not
POSIX) or fails, writers fall back to SQLite's polling alone.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.005  # how often a paused batch writer looks again


def waiting_file(database: Path) -> str:
    return f"{database}-waiting"


def begin_at_once(conn: sqlite3.Connection, busy_ms: int) -> bool:
    """Try ``BEGIN IMMEDIATE`` without waiting; True when it began.

    Any failure is False: the caller's waiting attempt meets it again and
    reports it the usual way."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    return True


@contextmanager
def waiting(database: Path) -> Iterator[None]:
    """Hold the shared waiting lock while the body waits for the write lock."""
    if sys.platform == "win32":
        yield
        return
    import fcntl

    try:
        fd = os.open(waiting_file(database), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # a read-only directory: SQLite will say what it thinks
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # blocks only while a batch writer looks
        except OSError:
            pass
        yield
    finally:
        os.close(fd)  # lets the lock go


def let_waiters_in(database: Path, patience: float) -> None:
    """Between two of its transactions, a batch writer pauses while other
    writers wait for the lock (at most ``patience`` seconds)."""
    if sys.platform == "win32":
        return
    import fcntl

    try:
        fd = os.open(waiting_file(database), os.O_RDONLY)
    except OSError:
        return  # nobody has ever had to wait
    try:
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(POLL_SECONDS)
            except OSError:
                return
    finally:
        os.close(fd)
