"""`leadctl sweep`: the rules that run themselves, the one cron job.

In this order, each rule in short write transactions of its own (SQLite's
BEGIN IMMEDIATE, waiting its turn like any writer; between two transactions the
sweep lets waiting writers in first, as an import does between batches), each
marked as the sweep's (``activities.automated``) for the outbox:

1. ``released``: expired claims go back to the pool (``claims.release_expired``,
   as `claim --release-expired`);
2. ``escalated``: a claimed or owned lead that is rotting (``leadctl.aging``)
   goes back to the pool when the ``escalate_to`` setting is ``pool``, else to
   the users it names, in turn (``claims.assign_round_robin``: the one
   round-robin); each gets an ``escalate`` activity saying why ("untouched 3
   days in contacted (rots after 2d)"), which, like any hand-off, touches the
   lead: its aging starts again, so it is not escalated twice. A lead already
   owned by one of the ``escalate_to`` users stays theirs; one none of them can
   take now (away, or at capacity) goes back to the pool;
3. ``to_nurture``: with ``inactive_days`` set (off by default), an open lead
   untouched that many days moves to ``nurture``, recorded as a status move
   (kind ``status``, the reason in its body; a move touches the lead);
4. ``first_calls``: with ``first_call_after`` set, a lead in the pipeline's
   first status, never contacted and with no next call, gets one at its
   arrival plus that time (a ``schedule`` activity that is no person's work, so
   its aging goes on);
5. ``stage_changes``: lifecycle stages brought in line with the scores
   (``stages.recompute``).

Every rule is a set: a few SELECTs and bulk UPDATEs and one batched INSERT of
activities per transaction, in batches of :data:`BATCH` leads. A second run
right after finds nothing to do. ``dry_run`` reads the same sets in one read
transaction (a later rule's set is computed as the earlier ones would leave
it) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from leadctl import activities, aging, claims, clock, followup, settings, stages, users
from leadctl.errors import InvalidInput, PermissionDenied
from leadctl.models import CHOICE, LEAD
from leadctl.storage import Database

RULE = "sweep"  # what the outbox calls the sweep's changes (``activities.automated``)
BATCH = 5000  # leads per write transaction: each stays short beside other writers
NURTURE = "nurture"
_LEAD = LEAD.c


@dataclass
class Result:
    """What a sweep did (or, dry, would do): counts, and the leads by rule."""

    released: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    to_nurture: list[int] = field(default_factory=list)
    first_calls: list[int] = field(default_factory=list)
    stage_changes: int = 0

    def counts(self) -> dict[str, int]:
        """SPEC's JSON: ``{"released", "escalated", "first_calls", "to_nurture",
        "stage_changes"}``."""
        return {
            "released": len(self.released),
            "escalated": len(self.escalated),
            "first_calls": len(self.first_calls),
            "to_nurture": len(self.to_nurture),
            "stage_changes": self.stage_changes,
        }

    @property
    def changed(self) -> bool:
        return any(self.counts().values())


@dataclass(frozen=True)
class _Setup:
    """What the rules read, once a sweep (one clock read: every rule's "now")."""

    now: datetime
    rules: aging.Rules
    escalate_to: list[str]  # [] : the pool
    inactive: timedelta | None
    nurture: str | None
    first_delay: timedelta | None
    first_status: str | None
    open_statuses: list[str]


def run(database: Database, actor: str, *, dry_run: bool = False) -> Result:
    """Sweep the database on behalf of ``actor`` (with users, a manager or an
    admin: exit 4 otherwise)."""
    if dry_run:
        with _turn(database, actor, write=False) as (session, _):
            return _dry(session.connection(), _setup(session.connection()))
    result = Result()
    with _turn(database, actor) as (session, who):
        setup = _setup(session.connection())
        result.released = claims.release_expired(session, who)
    _each_batch(database, actor, lambda s, w: _escalate(s, w, setup), result.escalated)
    if setup.inactive is not None:
        _each_batch(database, actor, lambda s, w: _to_nurture(s, w, setup), result.to_nurture)
    if setup.first_delay is not None:
        _each_batch(database, actor, lambda s, w: _first_calls(s, w, setup), result.first_calls)
    database.let_waiters_in()
    with _turn(database, actor) as (session, _):
        result.stage_changes = stages.recompute(session, now=setup.now)
    return result


@contextmanager
def _turn(
    database: Database, actor: str, *, write: bool = True
) -> Iterator[tuple[Session, users.Actor]]:
    """One transaction of the sweep: the actor checked, its changes marked as the sweep's."""
    with users.acting(database, actor, immediate=write) as session:
        who = users.actor(session, actor)
        _require_sweeper(who)
        if write:
            activities.automated(session.connection(), RULE)
        yield session, who


def _require_sweeper(who: users.Actor) -> None:
    """The sweep changes everyone's leads: with users, a manager or an admin
    (the manage permission, and work on any lead) runs it; exit 4 otherwise."""
    if not (who.can("manage") and who.works_any):
        raise PermissionDenied(
            f"{who.label()} may not run the sweep: it changes everyone's leads, so it needs "
            "a manager or an admin (run it from cron with --as NAME)"
        )


def _each_batch(database: Database, actor: str, rule: Any, done: list[int]) -> None:
    """Run a rule batch after batch, each its own transaction, until a batch
    finds fewer than :data:`BATCH` leads (or changes none: nothing is left)."""
    while True:
        database.let_waiters_in()
        with _turn(database, actor) as (session, who):
            changed = rule(session, who)
        done += changed
        if len(changed) < BATCH:
            return


def _setup(conn: Connection) -> _Setup:
    escalate = settings.get(conn, "escalate_to")
    inactive = settings.get(conn, "inactive_days")
    statuses = conn.execute(
        select(CHOICE.c.name, CHOICE.c.role)
        .where(CHOICE.c.list == "status")
        .order_by(CHOICE.c.position)
    ).all()
    open_statuses = [name for name, role in statuses if role in ("open", None)]
    nurture = next((n for n, _ in statuses if n.casefold() == NURTURE), None)
    if inactive != "off" and nurture is None:
        raise InvalidInput(
            f"inactive_days is {inactive} but there is no {NURTURE} status to move idle leads "
            f"to: add one (`leadctl statuses add {NURTURE} --role side`) or set inactive_days off"
        )
    return _Setup(
        now=clock.now(),
        rules=aging.load(conn),
        escalate_to=[] if escalate == "pool" else escalate.split(","),
        inactive=None if inactive == "off" else timedelta(days=int(inactive)),
        nurture=nurture,
        first_delay=followup.first_call_delay(conn),
        first_status=open_statuses[0] if open_statuses else None,
        open_statuses=[s for s in open_statuses if s != nurture],
    )


# --- the sets: one WHERE clause per rule, shared by the sweep and its dry run -------------


def _escalation_where(setup: _Setup) -> list[Any]:
    """Rotting leads someone holds (an owner, or a live claim), not already
    with one of the users they would be escalated to."""
    held = or_(
        _LEAD.owner.is_not(None),
        and_(_LEAD.claimed_by.is_not(None), _LEAD.claim_expires_at >= setup.now),
    )
    where = [_LEAD.merged_into.is_(None), setup.rules.clause(setup.now), held]
    if setup.escalate_to:
        where.append(or_(_LEAD.owner.is_(None), _LEAD.owner.not_in(setup.escalate_to)))
    return where


def _nurture_where(setup: _Setup) -> list[Any]:
    """Open leads (not side, not closed) nobody touched for ``inactive_days``."""
    assert setup.inactive is not None
    return [
        _LEAD.merged_into.is_(None),
        _LEAD.status.in_(setup.open_statuses),
        or_(
            _LEAD.touched_at < setup.now - setup.inactive,
            and_(_LEAD.touched_at.is_(None), _LEAD.created_at < setup.now - setup.inactive),
        ),
    ]


def _first_call_where(setup: _Setup) -> list[Any]:
    """Leads in the first status, never contacted, with no next call."""
    return [
        _LEAD.merged_into.is_(None),
        _LEAD.status == setup.first_status,
        _LEAD.next_call_at.is_(None),
        _LEAD.first_contacted_at.is_(None),
    ]


def _ids(conn: Connection, where: list[Any]) -> set[int]:
    return set(conn.execute(select(_LEAD.id).where(*where)).scalars())


# --- the rules ----------------------------------------------------------------------------


def _escalate(session: Session, who: users.Actor, setup: _Setup) -> list[int]:
    conn = session.connection()
    found = _due(conn, _escalation_where(setup), _LEAD.owner, _LEAD.claimed_by)
    if not found:
        return []
    if not setup.escalate_to:  # back to the pool: the holder's hand-off is the escalation
        return _to_pool(conn, who, setup, found, "to pool")
    # to users, in turn: the one round-robin (its ``assign`` rows say who got which);
    # the ``escalate`` row says why, on the leads it did hand on. Leads none of them
    # can take now (away, full) go back to the pool rather than rot where they are.
    plan = claims.assign_round_robin(
        session, who, [row.id for row in found], setup.escalate_to, partial=True
    )
    handed = set(plan.changed_ids)
    to = ", ".join(setup.escalate_to)
    rows = [
        activities.row(row.id, "escalate", who.name, body=f"{_why(row, setup)}; to {to}",
                       at=setup.now)
        for row in found
        if row.id in handed
    ]  # fmt: skip
    activities.record_many(conn, rows)
    unplaced = set(plan.unplaced)
    left = [row for row in found if row.id in unplaced]
    pooled = _to_pool(conn, who, setup, left, f"nobody of {to} free; to pool") if left else []
    return sorted(handed | set(pooled))


def _due(conn: Connection, where: list[Any], *more: Any) -> Sequence[Any]:
    """The next batch of leads a rule applies to, in id order, with what its
    activity needs to say why (status, last touch, creation) and ``more``."""
    columns = (_LEAD.id, _LEAD.status, _LEAD.touched_at, _LEAD.created_at, *more)
    statement = select(*columns).where(*where).order_by(_LEAD.id).limit(BATCH)
    return conn.execute(statement.with_for_update()).all()


def _to_pool(
    conn: Connection, who: users.Actor, setup: _Setup, found: Sequence[Any], where: str
) -> list[int]:
    """Hand rotting leads back to the pool, each with an ``escalate`` row saying why."""
    ids = [row.id for row in found]
    # only the columns that hold something: SQLite rewrites the index entries of
    # every column an UPDATE sets, changed or not
    owned = [row.id for row in found if row.owner]
    claimed = [row.id for row in found if row.claimed_by]
    for chosen, values in (
        (owned, {"owner": None}),
        (claimed, {"claimed_by": None, "claim_expires_at": None}),
    ):
        if chosen:
            conn.execute(
                update(LEAD).where(_LEAD.id.in_(chosen)).values(updated_at=setup.now, **values)
            )
    rows = []
    for row in found:
        field, holder = ("owner", row.owner) if row.owner else ("claimed_by", row.claimed_by)
        rows.append(
            activities.row(
                row.id, "escalate", who.name, field=field, old=holder,
                body=f"{_why(row, setup)}; {where}", at=setup.now,
            )
        )  # fmt: skip
    activities.record_many(conn, rows)
    return ids


def _why(row: Any, setup: _Setup) -> str:
    """``untouched 3 days in contacted (rots after 2d)``."""
    rots = aging.describe(setup.rules.rots_after.get(row.status))
    return f"untouched {_idle(row, setup)} in {row.status} (rots after {rots})"


def _idle(row: Any, setup: _Setup) -> str:
    """How long nobody has touched the lead, in words."""
    since = row.touched_at if row.touched_at is not None else row.created_at  # (aging's rule)
    return aging.span((setup.now - clock.as_utc(since)).total_seconds())


def _to_nurture(session: Session, who: users.Actor, setup: _Setup) -> list[int]:
    conn = session.connection()
    found = _due(conn, _nurture_where(setup))
    if not found:
        return []
    ids = [row.id for row in found]
    conn.execute(
        update(LEAD).where(_LEAD.id.in_(ids)).values(status=setup.nurture, updated_at=setup.now)
    )
    days = setup.inactive.days if setup.inactive else 0
    rows = [
        activities.row(
            row.id, "status", who.name, field="status", old=row.status, new=setup.nurture,
            body=f"untouched {_idle(row, setup)} (inactive_days {days})",
            at=setup.now,
        )
        for row in found
    ]  # fmt: skip
    activities.record_many(conn, rows)
    return ids


def _first_calls(session: Session, who: users.Actor, setup: _Setup) -> list[int]:
    conn = session.connection()
    assert setup.first_delay is not None
    found = conn.execute(
        select(_LEAD.id, _LEAD.created_at)
        .where(*_first_call_where(setup))
        .order_by(_LEAD.id)
        .limit(BATCH)
        .with_for_update()
    ).all()
    if not found:
        return []
    calls = [(row.id, clock.as_utc(row.created_at) + setup.first_delay) for row in found]
    statement = (
        update(LEAD)
        .where(_LEAD.id == bindparam("_id"))
        .values(next_call_at=bindparam("_at", type_=_LEAD.next_call_at.type))
    )
    conn.execute(statement, [{"_id": i, "_at": at} for i, at in calls])
    setting = settings.get(conn, followup.FIRST_CALL_KEY)
    rows = [
        activities.row(
            i, "schedule", who.name, field="next_call_at", new=at,
            body=f"first call (first_call_after {setting})", at=setup.now,
        )
        for i, at in calls
    ]  # fmt: skip
    activities.record_many(conn, rows, touch=False)  # no person's work: its aging goes on
    return [i for i, _ in calls]


# --- the dry run --------------------------------------------------------------------------


def _dry(conn: Connection, setup: _Setup) -> Result:
    """The same sets, read as each rule would leave the database for the next."""
    now = setup.now
    result = Result()
    result.released = sorted(_ids(conn, [_LEAD.claim_expires_at < now, _LEAD.owner.is_(None)]))
    escalated = _ids(conn, _escalation_where(setup))  # (released leads are not held)
    nurtured: set[int] = set()
    if setup.inactive is not None:  # an escalated lead was touched just now
        nurtured = _ids(conn, _nurture_where(setup)) - escalated
    first: set[int] = set()
    if setup.first_delay is not None:  # a lead moved to nurture is out of the first status
        first = _ids(conn, _first_call_where(setup)) - nurtured
    result.escalated, result.to_nurture = sorted(escalated), sorted(nurtured)
    result.first_calls = sorted(first)
    result.stage_changes = _stage_changes(conn, setup, nurtured)
    return result


def _stage_changes(conn: Connection, setup: _Setup, nurtured: set[int]) -> int:
    """How many stages ``stages.recompute`` would change, the moves to nurture made."""
    rule = stages.thresholds(conn)
    wanted = rule.expression(_LEAD.score, _LEAD.status)
    changing = _ids(conn, [_LEAD.merged_into.is_(None), _LEAD.stage != wanted])
    if not nurtured or rule.sql_statuses is None:  # the status plays no part
        return len(changing)
    ordered = sorted(nurtured)
    moved = [
        row
        for start in range(0, len(ordered), BATCH)
        for row in conn.execute(
            select(_LEAD.id, _LEAD.score, _LEAD.stage).where(
                _LEAD.id.in_(ordered[start : start + BATCH])
            )
        )
    ]
    for lead_id, score, stage in moved:
        if rule.stage_of(score, setup.nurture) != stage:
            changing.add(lead_id)
        else:
            changing.discard(lead_id)
    return len(changing)
