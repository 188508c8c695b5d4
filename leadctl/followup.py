"""Contact and the next call: `note`, `log` and `schedule` on one lead or many,
and the rules that keep a lead's next call true (issue 14):

- a logged call, email or meeting (:data:`CLEARING_KINDS`) clears a next call
  due today or earlier; engagements (email_open…) and tasks clear nothing, and a
  call on a later day stays; ``log --next WHEN`` sets the following one in the
  same command;
- a final or converted lead has no next call: a move there clears it
  (:func:`cleared`, :func:`clear_next_call`), `schedule` refuses one, and
  ``list --due`` never shows such leads (:func:`leadctl.lists.closed_statuses`);
- a new lead gets a first next call when the ``first_call_after`` setting is
  set (:func:`first_call_at`; `add`, and the import through :func:`first_calls`).

Every clearing is a ``schedule`` activity (``next_call_at`` old → none), so the
timeline says why the call went.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from leadctl import activities, bulk, clock, leads, lists, settings
from leadctl.activities import ActivityRow
from leadctl.clock import as_utc
from leadctl.errors import Conflict, InvalidInput
from leadctl.models import Activity, Lead
from leadctl.users import Actor

# Contacts that answer a due call; engagements and tasks do not.
CLEARING_KINDS = ("call", "email", "meeting")
FIRST_CALL_KEY = "first_call_after"


def end_of_today(now: datetime) -> datetime:
    """The first moment of tomorrow (local day), in UTC: a call before it is due."""
    local = now.astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return clock.to_utc(midnight)


def cleared(lead: Lead | Row[Any], actor: str, why: str, at: datetime) -> ActivityRow:
    """The activity of a next call cleared (old → none), saying why."""
    assert lead.id is not None  # a stored lead
    return activities.row(
        lead.id,
        "schedule",
        actor,
        field="next_call_at",
        old=lead.next_call_at,
        body=f"cleared: {why}",
        at=at,
    )


def clear_next_call(session: Session, lead: Lead, actor: str, why: str, at: datetime) -> None:
    """Clear an ORM lead's next call, recorded (convert uses it)."""
    if lead.next_call_at is None:
        return
    activities.record_many(session.connection(), [cleared(lead, actor, why, at)])
    lead.next_call_at = None


def _no_call_on_closed(lead: Row[Any], closed: Sequence[str]) -> None:
    if lead.status in closed:
        raise Conflict(
            f"lead {lead.id} is {lead.status}, a final status: it has no next call "
            "(an admin may reopen it with `leadctl status ID STATUS --reopen`)"
        )


def _same_time(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return as_utc(a) == as_utc(b)


def log(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    kind: str,
    *,
    body: str | None = None,
    outcome: str | None = None,
    next_call: str | None = None,
    dry_run: bool = False,
) -> bulk.Plan:
    """Record a note, contact or engagement on leads the actor may work, all or
    none: a first contact stamps the lead, a call/email/meeting clears a due
    next call, ``next_call`` (as people type it) sets the following one, and the
    scores are brought up to date."""
    if kind == "note" and not (body or "").strip():
        raise InvalidInput("a note needs some text")
    following = clock.parse_when(next_call, "next call") if next_call is not None else None
    single = len(bulk.unique(lead_ids)) == 1
    closed = lists.closed_statuses(session) if following is not None else []
    now = clock.now()
    due_before = end_of_today(now)
    actor = who.name

    def decide(lead: Row[Any]) -> bulk.Change:
        leads.check_work(who, lead, f"log {kind} on")
        if following is not None:
            _no_call_on_closed(lead, closed)
        rows = [activities.row(lead.id, kind, actor, body=body, outcome=outcome, at=now)]
        values: dict[str, Any] = {"updated_at": now}
        if kind in activities.CONTACT_KINDS and lead.first_contacted_at is None:
            values["first_contacted_at"] = now
        planned = lead.next_call_at
        why = None
        if kind in CLEARING_KINDS and planned is not None and as_utc(planned) < due_before:
            planned, why = None, f"{kind} logged"
        if following is not None:
            planned = following
            why = f"{kind} logged; next call set" if why else "next call set"
        if not _same_time(planned, lead.next_call_at):
            values["next_call_at"] = planned
            rows.append(
                activities.row(
                    lead.id, "schedule", actor, field="next_call_at", old=lead.next_call_at,
                    new=planned, body=why, at=now,
                )
            )  # fmt: skip
        return bulk.Change(lead.id, values, rows)

    result = bulk.plan(session, lead_ids, decide)
    result.rescore = True
    return bulk.finish(session, result, single=single, dry_run=dry_run)


def last_activity(session: Session, lead_id: int, kind: str) -> Activity:
    """The lead's latest activity of ``kind`` (what `log`/`note` on one lead prints)."""
    statement = (
        select(Activity)
        .where(col(Activity.lead_id) == lead_id, col(Activity.kind) == kind)
        .order_by(col(Activity.id).desc())
        .limit(1)
    )
    return session.scalars(statement).one()


def schedule(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    when: str | None,
    *,
    dry_run: bool = False,
) -> bulk.Plan:
    """Set the next call of leads the actor may work (``when`` as people type it),
    or clear it (``when`` None), all or none. A final or converted lead has no
    next call (exit 3); a lead already so is left unchanged."""
    next_call = clock.parse_when(when, "next call") if when is not None else None
    single = len(bulk.unique(lead_ids)) == 1
    closed = lists.closed_statuses(session)
    now = clock.now()
    actor = who.name

    def decide(lead: Row[Any]) -> bulk.Change | None:
        leads.check_work(who, lead, "schedule a call on")
        if next_call is not None:
            _no_call_on_closed(lead, closed)
        if _same_time(next_call, lead.next_call_at):
            return None
        row = activities.row(
            lead.id, "schedule", actor, field="next_call_at", old=lead.next_call_at,
            new=next_call, body=None if next_call is not None else "cleared", at=now,
        )  # fmt: skip
        return bulk.Change(lead.id, {"next_call_at": next_call, "updated_at": now}, [row])

    result = bulk.plan(session, lead_ids, decide)
    result.rescore = True
    return bulk.finish(session, result, single=single, dry_run=dry_run)


# --- the first call of a new lead ------------------------------------------------------


def first_call_delay(target: OrmSession | Connection) -> timedelta | None:
    """How long after it comes in a lead gets its first call: None when the
    setting is off (`add`, the import, and the sweep for leads without one)."""
    value = settings.get(target, FIRST_CALL_KEY)
    if value == "off":
        return None
    return clock.parse_duration(value)


def first_call_at(target: OrmSession | Connection, now: datetime) -> datetime | None:
    """When a lead created now gets its first call: None when the setting is off."""
    delay = first_call_delay(target)
    return None if delay is None else clock.to_utc(now + delay)


def first_calls(conn: Connection, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Give new leads' values (an import's rows) their first call, where they
    have none and their status is open (the import's hook)."""
    first = first_call_at(conn, now) if rows else None
    if first is None:
        return
    closed = set(lists.closed_statuses(conn))
    for values in rows:
        if values.get("next_call_at") is None and values.get("status") not in closed:
            values["next_call_at"] = first
