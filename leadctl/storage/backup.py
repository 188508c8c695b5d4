"""A consistent copy of a SQLite database while others keep using it."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from leadctl.errors import InvalidInput
from leadctl.storage import Database, busy_seconds


def backup(database: Database, destination: Path, *, overwrite: bool = False) -> int:
    """Copy with SQLite's online backup API (pages copied under a read lock,
    so concurrent writers neither block for long nor tear the copy), into
    ``FILE.part`` renamed to ``FILE`` once whole.

    Returns the size of the copy in bytes. A destination that cannot be
    written (a full disk, no permission) is :class:`InvalidInput`, exit 1, like
    every other unusable destination: the database itself is fine.
    """
    if not database.is_sqlite:
        raise InvalidInput("backup copies SQLite files; for PostgreSQL use pg_dump")
    if destination.is_dir():
        raise InvalidInput(f"backup destination {destination} is a directory; give a file name")
    from leadctl.storage.files import check_target

    check_target(destination, what="backup destination", replace=overwrite)  # links, FIFOs…
    if Path(database.target).resolve() == destination.resolve():
        raise InvalidInput("backup destination is the database itself")
    temporary: Path | None = None  # named by mkstemp below
    try:
        # a fresh name, mode 0600, created exclusively: never a file or link already there
        descriptor, name = tempfile.mkstemp(
            prefix=f".{destination.name}.", suffix=".part", dir=destination.parent
        )
        os.close(descriptor)
        temporary = Path(name)
        source = sqlite3.connect(database.target, timeout=busy_seconds())
        target = sqlite3.connect(temporary)
        try:
            with target:
                source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
        finally:
            target.close()
            source.close()
        os.replace(temporary, destination)
    except (OSError, sqlite3.Error) as error:
        # a full disk (or a file size limit) fails in SQLite's writes or in ours:
        # no half copy stays behind, and an existing FILE is as it was
        for leftover in ("", "-journal", "-wal", "-shm") if temporary is not None else ():
            Path(f"{temporary}{leftover}").unlink(missing_ok=True)
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise InvalidInput(
            f"cannot write backup {destination}: {reason or error}; nothing was written"
        ) from None
    return destination.stat().st_size
