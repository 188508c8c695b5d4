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
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from leadctl import clock
from leadctl.models import Activity

# Kinds a person logs with `log --type`; the engagement ones feed behavioural scoring.
CONTACT_KINDS = ["call", "email", "meeting", "task"]
ENGAGEMENT_KINDS = ["email_open", "email_click", "page_view", "download", "form_submit"]
LOG_KINDS = CONTACT_KINDS + ENGAGEMENT_KINDS


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
    """Add one activity; values are stored as text so any field fits."""
    activity = Activity(
        lead_id=lead_id,
        kind=kind,
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        body=body,
        outcome=outcome,
        actor=actor,
        created_at=clock.to_utc(at or clock.now()),
    )
    session.add(activity)
    return activity


def timeline(session: Session, lead_ids: list[int]) -> list[Activity]:
    """Activities of the leads (a lead and those merged into it), oldest first."""
    statement = (
        select(Activity)
        .where(Activity.lead_id.in_(lead_ids))  # type: ignore[union-attr]
        .order_by(Activity.created_at, Activity.id)  # type: ignore[arg-type]
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
