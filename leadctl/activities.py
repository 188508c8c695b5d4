"""The history of a lead: every change and contact is one activity row.

Conventions reports rely on:
- ``created``: the lead entered leadctl; ``field='status'``, ``new_value`` = its first status.
- ``status``: a status move; ``field='status'``, ``old_value`` → ``new_value``.
- ``edit`` / ``schedule`` / ``merge``: a field change (``field``, old → new) or blanks filled.
- ``note`` and the ``LOG_KINDS``: notes, contacts (call, email, meeting, task) and
  engagements (email_open, email_click, page_view, download, form_submit).
- Pool, scoring, import and convert events use their own kinds (``claim``,
  ``release``, ``assign``, ``score_adjust``, ``import``, ``convert``…) with
  ``field``/old/new where a field changed.

The one way activities are written: every row is made by :func:`row` (values
as text, the time in UTC, the actor) and stored by :func:`record` (one row,
through the ORM: it joins the command's session like the lead it is about) or
:func:`record_many` (a batch, one Core ``INSERT`` executed for many rows). An
:class:`ActivityRow` is a plain tuple in :data:`COLUMNS` order, so the import's
fast path (``leadctl.importing.records``, the one place that hands rows to the
driver itself) stores these very rows.

Commands (schema version 4, for ``leadctl undo``): the first activity a
transaction writes through :func:`record` or :func:`record_many` opens a
``command_log`` row, and every activity of that transaction carries its id
(``command_id``), so one command's worth of changes, on one lead or ten
thousand, is one group. This is the one place a group id is given. The import's
driver path (``leadctl.importing.records``) stores none: an import is history
that undo never reverts. :func:`remember` keeps, on the command, what it needs
to be undone beyond its activities (what a merge moved).

The outbox (``leadctl.events``): :func:`record`, :func:`record_many` and
:func:`record_select` also append the events of what they store when the
transaction is a rule's (:func:`automated`) or the ``events`` setting is
``all``, set-based like the rows themselves; :func:`publish` does it for rows
stored another way (the import's driver path). History restored with its ids
(an import of an export) is no change of today's and makes none.

Touches (schema version 5, for aging): ``lead.touched_at`` is when a person
last worked the lead, and it is kept here, where activities are written: an
activity of a :data:`TOUCH_KINDS` kind moves its lead's ``touched_at`` forward
to the activity's time (never back), in :func:`record` and, set-based, in
:func:`record_many` (``touch=False`` for the sweep's own first calls). A new
lead starts touched at its creation (``leads.add``, the import's rows).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, or_, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from leadctl import clock, events
from leadctl.models import ACTIVITY, COMMAND_LOG, LEAD, Activity

# Kinds a person logs with `log --type`; the engagement ones feed behavioural scoring.
CONTACT_KINDS = ["call", "email", "meeting", "task"]
ENGAGEMENT_KINDS = ["email_open", "email_click", "page_view", "download", "form_submit"]
LOG_KINDS = CONTACT_KINDS + ENGAGEMENT_KINDS
_CHUNK = 5000  # ids per UPDATE
# Kinds that are a person working the lead: they reset its aging (``lead.touched_at``).
# Engagements (a lead opening a mail), scores, stages and releases are not.
# m005_automation backfilled with the same list; ``escalate`` (a sweep's hand-off
# of a rotting lead) starts the clock again for whoever has it now.
TOUCH_KINDS = frozenset(
    ("created", "status", "note", "call", "email", "meeting", "task", "edit", "schedule",
     "claim", "assign", "convert", "merge", "import", "escalate")
)  # fmt: skip


class ActivityRow(NamedTuple):
    """An activity as stored, without its id: the columns of ``activity`` in
    table order (a tuple, so the import's driver path binds it as it is)."""

    lead_id: int
    kind: str
    field: str | None
    old_value: str | None
    new_value: str | None
    body: str | None
    outcome: str | None
    actor: str
    created_at: datetime
    # its command (``command_log``): given when stored (:func:`record`,
    # :func:`record_many`); the import's driver path stores none
    command_id: int | None = None


COLUMNS: tuple[str, ...] = ActivityRow._fields


def row(
    lead_id: int,
    kind: str,
    actor: str,
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    body: str | None = None,
    outcome: str | None = None,
    at: datetime | None = None,
) -> ActivityRow:
    """One activity row: old and new values as text (so any field fits, times
    in ISO 8601), the time in UTC (``at``, else now)."""
    return ActivityRow(
        lead_id,
        kind,
        field,
        _text(old),
        _text(new),
        body,
        outcome,
        actor,
        clock.to_utc(at or clock.now()),
    )


def record(
    session: Session,
    lead_id: int,
    kind: str,
    actor: str,
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    body: str | None = None,
    outcome: str | None = None,
    at: datetime | None = None,
) -> Activity:
    """Add one activity to the session (see :func:`row`)."""
    made = row(
        lead_id, kind, actor, field=field, old=old, new=new, body=body, outcome=outcome, at=at
    )
    group = {"command_id": command_of(session.connection(), actor)}
    activity = Activity(**(made._asdict() | group))
    session.add(activity)
    publish(session.connection(), [made])
    if kind in TOUCH_KINDS:
        _touch_one(session, lead_id, made.created_at)
    return activity


def _touch_one(session: Session, lead_id: int, at: datetime) -> None:
    """Move one lead's ``touched_at`` forward to ``at``; a copy the session
    holds learns it too (so the command's own output is up to date)."""
    from sqlalchemy.orm.attributes import set_committed_value

    from leadctl.models import Lead

    held = session.identity_map.get(session.identity_key(Lead, lead_id))
    if held is not None:
        known = held.__dict__.get("touched_at")
        if known is not None and clock.as_utc(known) >= at:
            return
    session.connection().execute(
        update(LEAD).where(LEAD.c.id == lead_id, _older(at)).values(touched_at=at)
    )
    if held is not None:
        set_committed_value(held, "touched_at", at)


def _older(at: datetime) -> Any:
    """A lead last touched before ``at`` (or never)."""
    return or_(LEAD.c.touched_at.is_(None), LEAD.c.touched_at < at)


def touch_leads(conn: Connection, rows: Sequence[ActivityRow]) -> None:
    """Move the ``touched_at`` of the leads of these activities' touches forward
    to their latest time, set-based: one UPDATE by ids per time shared by many
    leads (a command's rows share one), an executemany for the rest."""
    latest: dict[int, datetime] = {}
    for r in rows:
        if r.kind in TOUCH_KINDS:
            seen = latest.get(r.lead_id)
            if seen is None or r.created_at > seen:
                latest[r.lead_id] = r.created_at
    by_time: dict[datetime, list[int]] = {}
    for lead_id, at in latest.items():
        by_time.setdefault(at, []).append(lead_id)
    single: list[dict[str, Any]] = []
    for at, lead_ids in by_time.items():
        if len(lead_ids) == 1:
            single.append({"_id": lead_ids[0], "_at": at})
            continue
        for start in range(0, len(lead_ids), _CHUNK):
            chunk = lead_ids[start : start + _CHUNK]
            conn.execute(update(LEAD).where(LEAD.c.id.in_(chunk), _older(at)).values(touched_at=at))
    if single:
        at_param = bindparam("_at", type_=LEAD.c.touched_at.type)
        statement = (
            update(LEAD)
            .where(LEAD.c.id == bindparam("_id"), _older(at_param))  # type: ignore[arg-type]
            .values(touched_at=at_param)
        )
        for start in range(0, len(single), _CHUNK):
            conn.execute(statement, single[start : start + _CHUNK])


def record_many(
    conn: Connection,
    rows: Sequence[ActivityRow],
    *,
    ids: Sequence[int] | None = None,
    command: bool = True,
    touch: bool = True,
) -> None:
    """Store many activities at once: one Core ``INSERT`` run for all the rows;
    ``ids`` gives each its id (a restored timeline keeps its ids where free;
    such rows belong to no command, so undo never takes them for a change).
    ``command=False``: derived changes no command is undone for (a stage).
    ``touch=False``: the rows are no person's work, whatever their kind (the
    sweep's first calls), so the leads' aging goes on (see :func:`touch_leads`)."""
    if not rows:
        return
    if touch:
        touch_leads(conn, rows)
    if not command:
        conn.execute(insert(ACTIVITY), [r._asdict() for r in rows])
    elif ids is None:
        group = {"command_id": command_of(conn, rows[0].actor)}
        conn.execute(insert(ACTIVITY), [r._asdict() | group for r in rows])
    else:  # history restored as it was (an import of an export): no command of today's
        conn.execute(
            insert(ACTIVITY),
            [r._asdict() | {"id": i} for r, i in zip(rows, ids, strict=True)],
        )
        return  # nor an event
    publish(conn, rows)


def record_select(conn: Connection, columns: Sequence[str], rows: Any) -> None:
    """Store the activities a SELECT gives (``columns`` named in its order),
    set-based, belonging to no command: derived changes of many leads at once
    (``stages.recompute``), which a rescore makes again rather than undo.
    When the rows become events too, the SELECT runs twice (once into each
    table): it must give the same rows both times (run it before the update
    it describes)."""
    conn.execute(insert(ACTIVITY).from_select(list(columns), rows))
    rule = automation_of(conn)
    if events.capturing(conn, rule):
        events.from_select(conn, columns, rows, rule)


def publish(conn: Connection, rows: Sequence[ActivityRow]) -> None:
    """The events of these stored activities, when this transaction takes
    events (a rule's, or ``events`` = ``all``): one executemany."""
    if not rows:
        return
    rule = automation_of(conn)
    if events.capturing(conn, rule):
        events.from_rows(conn, rows, rule)


_AUTOMATED_KEY = "leadctl_automated"  # conn.info: (the transaction, the rule's name)


def automated(conn: Connection, rule: str) -> None:
    """Mark this transaction's changes as made by a rule (``sweep``), not a
    person: the outbox (``leadctl.events``) takes automated changes, and the
    command line delivers pending events after a rule ran (even one that
    changed nothing: so each cron run retries a batch a hook refused)."""
    conn.info[_AUTOMATED_KEY] = (conn.get_transaction(), rule)
    events.note(conn)


def automation_of(conn: Connection) -> str | None:
    """The rule this transaction's changes are made by (:func:`automated`), if any."""
    known = conn.info.get(_AUTOMATED_KEY)
    if known is None or known[0] is not conn.get_transaction() or known[0] is None:
        return None
    rule: str = known[1]
    return rule


_COMMAND_KEY = "leadctl_command"  # conn.info: (the transaction, its command id)


def command_of(conn: Connection, actor: str) -> int:
    """The id of the command this transaction is (its ``command_log`` row,
    made on first use): every activity written in one transaction is one
    command's worth for ``undo``."""
    transaction = conn.get_transaction()
    known = conn.info.get(_COMMAND_KEY)
    if known is not None and known[0] is transaction and transaction is not None:
        command_id: int = known[1]
        return command_id
    made = conn.execute(insert(COMMAND_LOG).values(actor=actor, created_at=clock.now()))
    command_id = int(made.inserted_primary_key[0])  # type: ignore[index]
    conn.info[_COMMAND_KEY] = (transaction, command_id)
    return command_id


def remember(conn: Connection, actor: str, key: str, item: Any) -> None:
    """Keep ``item`` (JSON-able) under ``key`` in this command's undo data
    (a list per key): what undoing the command needs beyond its activities."""
    command_id = command_of(conn, actor)
    stored = conn.execute(
        select(COMMAND_LOG.c.data).where(COMMAND_LOG.c.id == command_id)
    ).scalar_one()
    data = json.loads(stored) if stored else {}
    data.setdefault(key, []).append(item)
    conn.execute(
        update(COMMAND_LOG)
        .where(COMMAND_LOG.c.id == command_id)
        .values(data=json.dumps(data, ensure_ascii=False))
    )


def timeline(session: Session, lead_ids: list[int]) -> list[Activity]:
    """Activities of the leads (a lead and those merged into it), oldest first."""
    statement = (
        select(Activity)
        .where(col(Activity.lead_id).in_(lead_ids))
        .order_by(col(Activity.created_at), col(Activity.id))
    )
    return list(session.exec(statement))


def activity_to_dict(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "lead_id": activity.lead_id,
        "kind": activity.kind,
        "field": activity.field,
        "old_value": activity.old_value,
        "new_value": activity.new_value,
        "body": activity.body,
        "outcome": activity.outcome,
        "actor": activity.actor,
        "created_at": clock.iso(activity.created_at),
    }


def describe(activity: Activity) -> str:
    """One readable line for a timeline."""
    parts = []
    if activity.field or activity.old_value or activity.new_value:
        label = f"{activity.field}: " if activity.field else ""
        parts.append(f"{label}{activity.old_value or '—'} → {activity.new_value or '—'}")
    if activity.body:
        parts.append(activity.body)
    if activity.outcome:
        parts.append(f"outcome: {activity.outcome}")
    return "; ".join(parts)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.iso(value)
    return str(value)
