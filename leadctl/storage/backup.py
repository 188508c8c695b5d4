"""A consistent copy of the database while others keep using it: SQLite's
online backup API, or PostgreSQL's ``pg_dump``."""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from pathlib import Path

from leadctl.errors import DatabaseError, InvalidInput
from leadctl.storage import Database, busy_seconds, hide_password, shown, url_password

# Where Debian and Ubuntu install each PostgreSQL version's client programs,
# when none is on PATH: the newest version is used
PG_DUMP_FALLBACK = "/usr/lib/postgresql/*/bin/pg_dump"
# pg_dump's words when it never reached the database (exit 5, not 1)
CONNECTION_WORDS = (
    "connection to server",
    "could not connect",
    "password authentication failed",
    "no password supplied",
    "could not translate host name",
    "server closed the connection",
    "terminating connection",
    "connection refused",
    "timeout expired",
)


def backup(database: Database, destination: Path, *, overwrite: bool = False) -> int:
    """Copy with SQLite's online backup API (pages copied under a read lock,
    so concurrent writers neither block for long nor tear the copy), into
    ``FILE.part`` renamed to ``FILE`` once whole.

    Returns the size of the copy in bytes. A destination that cannot be
    written (a full disk, no permission) is :class:`InvalidInput`, exit 1, like
    every other unusable destination: the database itself is fine.
    """
    if destination.is_dir():
        raise InvalidInput(f"backup destination {destination} is a directory; give a file name")
    from leadctl.storage.files import check_target

    check_target(destination, what="backup destination", replace=overwrite)  # links, FIFOs…
    if not database.is_sqlite:
        return dump(database, destination)
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


def dump(database: Database, destination: Path) -> int:
    """PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, read
    back with ``pg_restore``) into ``FILE.part`` renamed to ``FILE`` once
    whole; only leadctl's schema when it has one of its own (a search_path
    in the URL, a service file or ``PGOPTIONS``), else the whole database.

    The password travels in ``PGPASSWORD``, never in pg_dump's arguments
    (which every user of the machine can read); a URL without one leaves
    pg_dump to the user's ``.pgpass``, service file or environment. pg_dump
    not installed: exit 1 saying how; its failure: its message, exit 5 when
    it could not reach the database, else 1; nothing is left written."""
    import subprocess

    target = database.target
    url, password = _without_password(target)
    command = ["--format=custom", "--no-password"]
    schema = _schema(database)
    if schema is not None:
        command.append(f"--schema={schema}")
    program = find_pg_dump()
    if program is None:
        secret = "PGPASSWORD=*** " if password is not None else ""
        raise InvalidInput(
            "backup on PostgreSQL runs pg_dump, which is not installed: install the "
            "PostgreSQL client (postgresql-client), or run: "
            f"{secret}pg_dump {' '.join(command)} --file={_quoted(str(destination))} "
            f"{_quoted(url)}"
        )
    environment = dict(os.environ)
    if password is not None:
        environment["PGPASSWORD"] = password
    temporary: Path | None = None
    try:
        descriptor, name = tempfile.mkstemp(
            prefix=f".{destination.name}.", suffix=".part", dir=destination.parent
        )
        os.close(descriptor)  # mode 0600: pg_dump writes into it, keeping that
        temporary = Path(name)
        finished = subprocess.run(
            [program, *command, f"--file={temporary}", url],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            check=False,
        )
        if finished.returncode != 0:
            raise _failure(finished.stderr, target, destination)
        os.replace(temporary, destination)
        temporary = None
    except OSError as error:
        raise InvalidInput(
            f"cannot write backup {destination}: {error.strerror or error}; nothing was written"
        ) from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    return destination.stat().st_size


def find_pg_dump() -> str | None:
    """pg_dump on PATH, else the newest of the versions Debian installs apart."""
    import glob
    import shutil

    found = shutil.which("pg_dump")
    if found:
        return found

    def version(path: str) -> tuple[int, str]:
        number = Path(path).parent.parent.name
        return (int(number) if number.isdigit() else 0, number)

    installed = [p for p in glob.glob(PG_DUMP_FALLBACK) if os.access(p, os.X_OK)]
    return max(installed, key=version) if installed else None


def _without_password(target: str) -> tuple[str, str | None]:
    """The URL as libpq takes it (``postgresql://``, no password) and the
    password it held, if any (``storage.url_password``)."""
    from urllib.parse import unquote

    rest = target.partition("://")[2]  # postgres://, postgresql+psycopg://: libpq's own below
    written = url_password(target)
    if written is None:
        return f"postgresql://{rest}", None
    user, _, after = rest.partition(f":{written}@")
    return f"postgresql://{user}@{after}" if user else f"postgresql://{after}", unquote(written)


def _schema(database: Database) -> str | None:
    """The schema leadctl's tables are in (where the search path makes them),
    as pg_dump's ``--schema`` takes it; None for ``public``: the database's
    own, dumped whole."""
    from sqlalchemy import func, select

    with database.session() as session:
        name = session.connection().scalar(select(func.current_schema()))
    if not name or name == "public":
        return None
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return str(name)
    return '"' + str(name).replace('"', '""') + '"'  # as written: upper case, spaces…


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _failure(stderr: str, target: str, destination: Path) -> Exception:
    """pg_dump's own words, one line: its last error (or last line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    said = hide_password((errors or lines or ["pg_dump failed"])[-1], target)
    said = said.removeprefix("pg_dump: ")
    lowered = said.lower()
    missing = lowered.startswith("error: database") and "does not exist" in lowered
    if missing or any(word in lowered for word in CONNECTION_WORDS):
        return DatabaseError(
            f"database {shown(target)} is unavailable: pg_dump {said}; nothing was written"
        )
    return InvalidInput(f"cannot write backup {destination}: pg_dump {said}; nothing was written")
