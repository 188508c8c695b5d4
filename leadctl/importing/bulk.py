"""Bulk loads into a nearly empty SQLite database: indexes built and scores
computed once, at the end.

Every lead insert updates 16 indexes; for a large import into an empty
database that upkeep costs more than building the same indexes once
afterwards, and scoring the new leads in one pass costs less than a pass per
batch. So such an import drops the lead indexes it does not read while
loading (it reads the duplicate keys), and when it ends, whatever the way it
ends, scores the leads it added and builds the indexes again. Activity indexes
stay: an import appends to them in key order, which costs the writer (who
waits on the parser anyway) about what building them would cost at the end,
when nothing overlaps.

Nothing depends on the dropped indexes for correctness, only for speed; until
the end the new leads have no score (0, cold) unless their file carried one
(a leadctl export). A killed import cannot finish, so the drop is recorded in
``leadctl_meta`` (see :class:`Marker`); opening the database for a command
(``leadctl.database.open_database``: storage reports the marker, this module
finishes) finishes the job once that process is gone. A load finished early
by mistake (a process taken for dead) only loses speed: its own finish scores
every lead it added all the same. Scoring starts with fresh statistics (those
of the tables before the load would mislead the planner), and building the
indexes ends with SQLite's ``PRAGMA optimize``, so the planner has statistics
for them.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Index, func, select

from leadctl import scoring
from leadctl.errors import DatabaseError
from leadctl.models import ACTIVITY, LEAD
from leadctl.storage import BULK_MARKER, Database, analyze, optimize, read_meta, write_meta

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

READ_WHILE_LOADING = {
    "ix_lead_email_key",
    "ix_lead_phone",
    "ix_lead_company_key",
    "ix_lead_external_id",
}
MAX_STORED_LEADS = 1000  # "nearly empty": rebuilding the indexes of these costs nothing


@dataclass(frozen=True)
class Marker:
    """What a bulk load records while its indexes are down."""

    owner: str  # "host:pid:start" of the loading process
    above: int  # the highest lead id before the load: its leads are those above
    score: bool  # score them at the end (not when the file carried scores)

    def text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def parse(cls, value: str) -> Marker | None:
        try:
            return cls(**json.loads(value))
        except (ValueError, TypeError):
            return None


def deferrable() -> list[Index]:
    """The lead indexes an import does not read while it loads."""
    return sorted(
        (index for index in LEAD.indexes if index.name not in READ_WHILE_LOADING),
        key=lambda index: str(index.name),
    )


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_started(os.getpid())}"


def is_running(owner: str) -> bool:
    """Whether the process a marker names is still at work.

    A process on another machine, or one whose pid now belongs to another
    process (its start time differs), counts as gone; where processes cannot
    be asked about (not POSIX), every loader counts as running.
    """
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not (pid.isascii() and pid.isdigit()):
        return False
    if os.name != "posix":
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    return _started(int(pid)) == started


def _started(pid: int) -> str:
    """The process's start time (clock ticks since boot) where Linux tells, else ''."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return ""


@contextmanager
def indexes_deferred(database: Database, *, wanted: bool, score: bool) -> Iterator[Marker | None]:
    """Within the block, the deferrable indexes are dropped when ``wanted`` and
    the database is SQLite with at most ``MAX_STORED_LEADS`` leads and no other
    load under way; yields the load's marker if they were, else None. On
    leaving, the leads added are scored (when ``score``) and the indexes built."""
    marker = _drop(database, score) if wanted and database.is_sqlite else None
    try:
        yield marker
    except KeyboardInterrupt:
        # Ctrl-C: the person waits for the prompt, not for the scores and indexes
        # (seconds for a big load): another process finishes them, now
        if marker is not None and finish_elsewhere(database, marker):
            marker = None
        raise
    finally:
        if marker is not None:
            try:
                finish(database, marker, abandoned=False)
            except DatabaseError:
                pass  # busy: the next command to open the database finishes it


def finish_elsewhere(database: Database, marker: Marker) -> bool:
    """Start a detached process (its own session: a second Ctrl-C does not reach
    it) that finishes the load as its loader would; False if none could start.
    Until it is done, a command opening the database waits for it, or finishes
    the load itself (the marker's owner, this process, being gone)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "leadctl.importing.bulk", database.target, marker.text()]
    try:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        return False
    return True


def _drop(database: Database, score: bool) -> Marker | None:
    with database.session(immediate=True) as session:
        conn = session.connection()
        if _marker_text(conn) is not None:
            return None  # another load is under way, or its indexes are being rebuilt
        stored, top = conn.execute(select(func.count(), func.max(LEAD.c.id))).one()
        if stored > MAX_STORED_LEADS:
            return None
        marker = Marker(owner=this_process(), above=top or 0, score=score)
        for index in deferrable():
            index.drop(conn, checkfirst=True)
        write_meta(conn, BULK_MARKER, marker.text())
    return marker


def finish(database: Database, marker: Marker, *, abandoned: bool) -> None:
    """Score the load's leads (when the marker says), build the indexes again
    and remove the marker, in one transaction.

    The loader itself always scores its leads, even if another process took it
    for dead and finished early; it builds and unmarks only what is still its
    own. A finish for an ``abandoned`` load does nothing unless the marker is
    still the one it read (not finished since, nor another load's)."""
    with database.session(immediate=True) as session:
        conn = session.connection()
        current = _marker_text(conn)
        ours = current == marker.text()
        if abandoned and not ours:
            return
        if marker.score:
            analyze(conn, LEAD.name, ACTIVITY.name)  # the statistics are of the tables before
            scoring.rescore(conn, above=marker.above)  # before the indexes: none to keep up
        if ours or current is None:
            for index in deferrable():
                index.create(conn, checkfirst=True)
            optimize(conn)  # statistics for the indexes just built
        if ours:
            write_meta(conn, BULK_MARKER, None)


def finish_if_abandoned(database: Database, value: str) -> None:
    """On opening, with the marker set: finish the load if its process is gone.

    When the database is busy (another command finishing it, say) the command
    goes on without: the indexes only make it faster."""
    marker = Marker.parse(value)
    if marker is not None and not is_running(marker.owner):
        try:
            finish(database, marker, abandoned=True)
        except DatabaseError:
            pass


def _marker_text(conn: Connection) -> str | None:
    return read_meta(conn, BULK_MARKER).get(BULK_MARKER)


def _finish_detached(target: str, text: str) -> None:
    """``python -m leadctl.importing.bulk DATABASE MARKER``: :func:`finish_elsewhere`'s process."""
    from leadctl.storage import open_database

    marker = Marker.parse(text)
    if marker is not None:
        finish(open_database(target), marker, abandoned=False)


if __name__ == "__main__":
    import sys

    _finish_detached(sys.argv[1], sys.argv[2])
