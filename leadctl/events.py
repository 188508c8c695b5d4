"""The event outbox: changes passed on to the world outside, with no network code.

What becomes an event: every activity written in a transaction a rule marked
(``activities.automated(conn, rule)``: ``sweep``), and, when the setting
``events`` is ``all``, every activity (an import's new leads included). The
one place they are taken is ``leadctl.activities`` (its writing functions call
:func:`from_rows` / :func:`from_select`, set-based: one ``executemany`` or one
``INSERT … SELECT`` for any number of rows), so no command has to remember.
An event's ``kind`` is its activity's kind (``status``, ``assign``,
``release``, ``stage``, ``created``…); its ``data`` the activity's field,
``old``, ``new``, ``body`` and ``outcome`` (those it has) and the ``rule``.

Acknowledging deletes: the outbox is a queue, not a log (the activities stay
the lead's history). So the events a table holds are exactly the
unacknowledged ones. Ids are never reused (AUTOINCREMENT), and the highest id
ever acknowledged is kept in ``leadctl_meta`` (:data:`ACKED_KEY`), so that
``--ack`` stays idempotent and an id beyond the last event ever made is
refused even after every event was deleted.

Delivery (:func:`deliver`): the ``hook_command`` gets the unacknowledged
events as JSON Lines on stdin, after commit, in no transaction; exit 0
acknowledges them, anything else (a failure, :data:`HOOK_TIMEOUT` passed, a
kill, a missing command) leaves them for the next run: at least once. One
process delivers at a time: it holds a lease in ``leadctl_meta``
(:data:`LEASE_KEY`, taken in a short write transaction), which lapses when its
time is up or, on the same host, when its process is gone (killed).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, delete, event, func, insert, literal, null, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import ColumnElement

from leadctl import clock
from leadctl.errors import InvalidInput, PermissionDenied
from leadctl.models import EVENT

if TYPE_CHECKING:
    from leadctl.activities import ActivityRow
    from leadctl.storage import Database
    from leadctl.users import Actor

ACKED_KEY = "events_acked"  # leadctl_meta: the highest event id acknowledged
LEASE_KEY = "events_delivery"  # leadctl_meta: who is delivering, until when
HOOK_TIMEOUT = 60  # seconds a hook may run before it is killed (its batch stays)
LEASE_MARGIN = 30  # seconds a lease outlives the hook's timeout
BATCH = 10_000  # events one run of the hook gets at most (more: it runs again)
# an event's data as stored: the activity's columns under these keys, and the rule
DATA_KEYS = {"field": "field", "old": "old_value", "new": "new_value", "body": "body",
             "outcome": "outcome"}  # fmt: skip

_SCOPE_KEY = "leadctl_events"  # conn.info: (the transaction, whether it takes every activity)
_NOTED_KEY = "leadctl_events_noted"  # conn.info: the transaction whose commit is watched
_written: set[str] = set()  # the databases this process wrote events to (to deliver)


# --- appending ------------------------------------------------------------------------------


def capturing(conn: Connection, rule: str | None) -> bool:
    """Whether this transaction's activities become events: automated ones
    (``rule``) always, others when the ``events`` setting is ``all`` (read once
    per transaction, so an activity written with events off costs a lookup
    in a dict)."""
    if rule is not None:
        return True
    transaction = conn.get_transaction()
    known = conn.info.get(_SCOPE_KEY)
    if known is not None and known[0] is transaction and transaction is not None:
        every: bool = known[1]
        return every
    from leadctl import settings  # settings → users → activities → here

    every = settings.get(conn, "events") == "all"
    conn.info[_SCOPE_KEY] = (transaction, every)
    return every


def from_rows(conn: Connection, rows: Sequence[ActivityRow], rule: str | None) -> None:
    """The events of these activities (made by ``activities.row``): one
    ``executemany``."""
    if not rows:
        return
    made = [
        {
            "at": r.created_at,
            "kind": r.kind,
            "lead_id": r.lead_id,
            "actor": r.actor,
            "data": _data({key: getattr(r, column) for key, column in DATA_KEYS.items()}, rule),
        }
        for r in rows
    ]
    conn.execute(insert(EVENT), made)
    note(conn)


def from_select(conn: Connection, columns: Sequence[str], rows: Any, rule: str | None) -> None:
    """The events of the activities a SELECT gives (``columns`` named in its
    order, as ``activities.record_select`` takes them): one ``INSERT … SELECT``
    over the same SELECT, the data built in SQL (a JSON object)."""
    source = rows.subquery()
    named = dict(zip(columns, source.c, strict=True))

    def column(name: str) -> ColumnElement[Any]:
        found = named.get(name)
        return found if found is not None else null()

    at = named.get("created_at")
    pairs = [(key, column(name)) for key, name in DATA_KEYS.items()]
    if rule is not None:
        pairs.append(("rule", literal(rule)))
    made = select(
        at if at is not None else literal(clock.now(), EVENT.c.at.type),
        column("kind"),
        column("lead_id"),
        column("actor"),
        _json_object(conn, pairs),
    )
    conn.execute(insert(EVENT).from_select(["at", "kind", "lead_id", "actor", "data"], made))
    note(conn)


def append(
    conn: Connection,
    kind: str,
    actor: str,
    *,
    lead_id: int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One event that is no activity (a rule's summary, say)."""
    values = {
        "at": clock.to_utc(at or clock.now()),
        "kind": kind,
        "lead_id": lead_id,
        "actor": actor,
        "data": json.dumps(data or {}, ensure_ascii=False, default=str),
    }
    conn.execute(insert(EVENT).values(**values))
    note(conn)


def note(conn: Connection) -> None:
    """Remember, once this transaction commits, that this process wrote
    events to this database (or ran a rule there): the command line delivers
    them once the command is done. A transaction rolled back (a refusal)
    leaves nothing to deliver, nor does a savepoint (a dry run writes in one
    and rolls it back; events a savepoint kept go with the next delivery)."""
    transaction = conn.get_transaction()
    if transaction is None or conn.info.get(_NOTED_KEY) is transaction:
        return
    if conn.get_nested_transaction() is not None:
        return
    conn.info[_NOTED_KEY] = transaction
    key = _key(conn.engine.url)
    event.listen(conn, "commit", lambda _conn: _written.add(key), once=True)


def written(url: Any) -> bool:
    """Whether this process wrote events to the database at ``url`` since it
    last asked (the command line's cue to run :func:`deliver`)."""
    key = _key(url)
    if key in _written:
        _written.discard(key)
        return True
    return False


def _key(url: Any) -> str:
    return str(url.render_as_string(hide_password=False))


def _data(values: dict[str, Any], rule: str | None) -> str:
    data = {key: value for key, value in values.items() if value is not None}
    if rule is not None:
        data["rule"] = rule
    return json.dumps(data, ensure_ascii=False)


def _json_object(conn: Connection, pairs: list[tuple[str, Any]]) -> ColumnElement[Any]:
    """A JSON object built in SQL (keys with a NULL value are dropped on reading)."""
    if conn.dialect.name == "postgresql":
        args = [part for key, value in pairs for part in (literal(key, Text), cast(value, Text))]
        return cast(func.json_build_object(*args), Text)
    return func.json_object(*[part for key, value in pairs for part in (literal(key), value)])


# --- reading and acknowledging --------------------------------------------------------------


def require_reader(who: Actor) -> None:
    """Events name any lead: reading them needs the view_all permission
    (admin, manager, viewer; everyone in solo mode)."""
    if not who.can("view_all"):
        raise PermissionDenied(
            f"{who.label()} lacks the view_all permission to read the events "
            "(they name leads of every owner)"
        )


def require_handler(who: Actor) -> None:
    """Acknowledging (which drops events for good) and delivering are for an
    admin or a manager (everyone in solo mode)."""
    if not who.works_any:
        raise PermissionDenied(
            f"{who.label()} may not acknowledge or deliver events (admins and managers may)"
        )


def pending(
    target: OrmSession | Connection,
    *,
    since: int | None = None,
    upto: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The unacknowledged events (after ``since``, up to ``upto``), oldest
    first, as JSON objects."""
    conn = _connection(target)
    statement = select(EVENT).order_by(EVENT.c.id)
    if since is not None:
        statement = statement.where(EVENT.c.id > _event_id(since))
    if upto is not None:
        statement = statement.where(EVENT.c.id <= upto)
    if limit is not None:
        statement = statement.limit(limit)
    return [to_dict(row) for row in conn.execute(statement)]


def to_dict(row: Any) -> dict[str, Any]:
    """An event as JSON shows it: ``{"id", "at", "kind", "lead_id", "actor", "data"}``."""
    try:
        stored = json.loads(row.data or "{}")
    except ValueError:
        stored = {"text": row.data}
    data = {key: value for key, value in stored.items() if value is not None}
    return {
        "id": row.id,
        "at": clock.iso(row.at),
        "kind": row.kind,
        "lead_id": row.lead_id,
        "actor": row.actor,
        "data": data,
    }


def last_id(target: OrmSession | Connection) -> int:
    """The highest event id ever made (kept or acknowledged); 0 when none was."""
    conn = _connection(target)
    kept = conn.execute(select(func.max(EVENT.c.id))).scalar_one_or_none() or 0
    return max(int(kept), _acked(conn))


def ack(target: OrmSession | Connection, upto: int) -> int:
    """Acknowledge (delete) every event up to ``upto``; returns how many went.
    Idempotent; an id beyond the last event ever made is invalid input."""
    from leadctl.storage import write_meta

    conn = _connection(target)
    upto = _event_id(upto)
    last = last_id(conn)
    if upto > last:
        raise InvalidInput(
            f"invalid event id {upto}: the last event is {last}"
            if last
            else f"invalid event id {upto}: there are no events yet"
        )
    gone = conn.execute(delete(EVENT).where(EVENT.c.id <= upto)).rowcount
    if upto > _acked(conn):
        write_meta(conn, ACKED_KEY, str(upto))
    return int(gone or 0)


def _acked(conn: Connection) -> int:
    from leadctl.storage import read_meta

    value = read_meta(conn, ACKED_KEY).get(ACKED_KEY)
    return int(value) if value and value.isdigit() else 0


def _event_id(value: int) -> int:
    if not 0 <= value < 2**63:
        raise InvalidInput(f"invalid event id {value}: expected a whole number ≥ 0")
    return value


def _connection(target: OrmSession | Connection) -> Connection:
    return target if isinstance(target, Connection) else target.connection()


# --- delivering to the hook -----------------------------------------------------------------


@dataclass
class Delivery:
    """What :func:`deliver` did: events the hook took, what went wrong (one
    line), and why nothing was tried (no hook, nothing to send, another
    process delivering)."""

    delivered: int = 0
    failed: str | None = None
    skipped: str | None = None
    left: int = 0  # events still unacknowledged after a failure


def deliver(database: Database, *, timeout: float = HOOK_TIMEOUT) -> Delivery:
    """Run ``hook_command`` on the unacknowledged events, batch by batch, in
    no transaction; acknowledge each batch the hook took (exit 0). Stops at
    the first failure, leaving that batch and the rest for the next run.

    Only the events there when it starts: those made meanwhile (by another
    process, which found the lease held, or by the hook itself running
    leadctl) wait for the next run, so a hook that makes events never makes
    this loop endless."""
    from leadctl import settings

    result = Delivery()
    with database.session() as session:  # a read: most runs end here
        hook = settings.get(session, "hook_command")
        if hook == "off":
            result.skipped = "no hook_command is set"
            return result
        if not pending(session, limit=1):
            result.skipped = "no events to deliver"
            return result
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    ceiling: int | None = None  # the last event there at the start
    while True:
        taken = _take(database, token, timeout, ceiling)
        if taken is None:
            result.skipped = result.skipped or "another process is delivering the events"
            return result
        batch, ceiling = taken
        if not batch:
            return result
        try:
            failure = _run(hook, batch, timeout, database.target)
        except BaseException:  # interrupted: the batch stays, the lease goes
            _finish(database, token, [])
            raise
        _finish(database, token, batch if failure is None else [])
        if failure is not None:
            result.failed = failure
            with database.session() as session:
                counted = session.connection().execute(select(func.count()).select_from(EVENT))
                result.left = int(counted.scalar_one())
            return result
        result.delivered += len(batch)


def _take(
    database: Database, token: str, timeout: float, ceiling: int | None
) -> tuple[list[dict[str, Any]], int] | None:
    """In one short write transaction: the lease (None when another live
    process holds it) and the next batch up to ``ceiling`` (the first time:
    the last event now), taken with it ([] when none), and the ceiling."""
    from leadctl.storage import write_meta

    with database.session(immediate=True, analyze=False) as session:
        conn = session.connection()
        if not _lease_free(conn, token):
            return None
        if ceiling is None:
            ceiling = int(conn.execute(select(func.max(EVENT.c.id))).scalar_one_or_none() or 0)
        batch = pending(conn, limit=BATCH, upto=ceiling)
        if batch:
            until = clock.now() + timedelta(seconds=timeout + LEASE_MARGIN)
            write_meta(conn, LEASE_KEY, json.dumps({"token": token, "until": clock.iso(until)}))
        return batch, ceiling


def _finish(database: Database, token: str, delivered: list[dict[str, Any]]) -> None:
    """Acknowledge the delivered batch (its very ids: on PostgreSQL a lower id
    may commit after a higher one) and give the lease back, if still ours."""
    from leadctl.storage import read_meta, write_meta

    with database.session(immediate=True, analyze=False) as session:
        conn = session.connection()
        ids = [event["id"] for event in delivered]
        for start in range(0, len(ids), 500):
            conn.execute(delete(EVENT).where(EVENT.c.id.in_(ids[start : start + 500])))
        if ids and max(ids) > _acked(conn):
            write_meta(conn, ACKED_KEY, str(max(ids)))
        held = read_meta(conn, LEASE_KEY).get(LEASE_KEY)
        if held is not None and _lease(held).get("token") == token:
            write_meta(conn, LEASE_KEY, None)


def _lease(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _lease_free(conn: Connection, token: str) -> bool:
    """No lease, ours, run out, or held by a process of this host that is gone."""
    from leadctl.storage import read_meta

    held = read_meta(conn, LEASE_KEY).get(LEASE_KEY)
    if held is None:
        return True
    lease = _lease(held)
    holder = str(lease.get("token", ""))
    if holder == token:
        return True
    try:
        until = datetime.fromisoformat(str(lease["until"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return True
    if until <= clock.now():
        return True
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname() and pid_text.isdigit():
        return int(pid_text) == os.getpid() or not _alive(int(pid_text))
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _run(hook: str, batch: list[dict[str, Any]], timeout: float, target: str) -> str | None:
    """Run the hook through ``sh -c`` with the batch on stdin (JSON Lines),
    its output on leadctl's stderr (stdout carries the command's data), in a
    process group of its own (killed whole on timeout or interrupt), with
    ``LEADCTL_DB`` naming this database (a hook running leadctl reads the
    same one, ``--db`` or not). None when it exited 0, else why not."""
    import signal

    payload = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in batch).encode()
    try:
        process = subprocess.Popen(
            ["sh", "-c", hook],
            stdin=subprocess.PIPE,
            stdout=sys.__stderr__.fileno() if sys.__stderr__ else subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "LEADCTL_DB": target},
        )
    except OSError as error:
        return f"could not start: {error.strerror or error}"
    try:
        process.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process, signal.SIGKILL)
        return f"timed out after {timeout:g}s"
    except BaseException:  # Ctrl-C: the hook goes too, the batch stays
        _kill(process, signal.SIGKILL)
        raise
    code = process.returncode
    if code == 0:
        return None
    if code < 0:
        return f"killed by signal {-code}"
    if code == 127:
        return "exit 127: command not found"
    return f"exit {code}"


def _kill(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
