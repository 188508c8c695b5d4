"""The pipeline rules: which status a lead may move to, and recording the move."""

from __future__ import annotations

from sqlmodel import Session

from leadctl import activities, clock, leads, lists
from leadctl.errors import Conflict, InvalidInput
from leadctl.models import Choice, Lead
from leadctl.users import Actor, LeadDenied

CONVERT_HINT = "use `leadctl convert ID` to convert a lead"


def allowed_moves(statuses: list[Choice], current: str) -> list[str]:
    """Statuses a lead in ``current`` may move to without ``--reopen``.

    Open statuses go forward only; side statuses (nurture) are reachable from
    and return to any open status; any open or side status may end in a final
    one; won (converted) is reached only through convert.
    """
    by_name = {s.name: s for s in statuses}
    here = by_name.get(current)
    if here is None or here.role in ("won", "final"):
        return []
    moves = []
    for target in statuses:
        if target.name == current or target.role == "won":
            continue
        if target.role == "open" and here.role == "open" and target.position < here.position:
            continue
        moves.append(target.name)
    return moves


def change_status(
    session: Session,
    who: Actor,
    lead_id: int,
    target_name: str,
    *,
    reason: str | None = None,
    reopen: bool = False,
) -> Lead:
    """Move a lead the actor may work, enforcing SPEC's rules (a final status is
    reopened by an admin only), and record the move as an activity."""
    lead = leads.for_work(session, who, lead_id, "change the status of")
    actor = who.name
    statuses = lists.entries(session, "status")
    target = lists.find(session, "status", target_name)
    current = next((s for s in statuses if s.name == lead.status), None)
    if target.name == lead.status:
        raise Conflict(f"lead {lead.id} is already {lead.status}")
    if target.role == "won":
        raise Conflict(f"lead {lead.id} cannot be set to {target.name} directly: {CONVERT_HINT}")
    is_locked = current is not None and current.role in ("won", "final")
    if is_locked:
        if not reopen:
            raise Conflict(
                f"lead {lead.id} is {lead.status}, a final status; an admin may change it "
                "with --reopen"
            )
        if not who.can("admin"):
            raise LeadDenied(f"reopening lead {lead.id} needs the admin permission", [lead.id])
    elif target.name not in allowed_moves(statuses, lead.status):
        allowed = ", ".join(allowed_moves(statuses, lead.status)) or "none"
        raise Conflict(
            f"lead {lead.id} cannot move from {lead.status} to {target.name}: "
            f"statuses go forward only; allowed next: {allowed}"
        )
    lost_reason = None
    if target.role == "final":
        if not reason:
            reasons = ", ".join(lists.names(session, "lost_reason"))
            raise InvalidInput(f"moving to {target.name} needs --reason: one of {reasons}")
        lost_reason = lists.find(session, "lost_reason", reason).name
    elif reason:
        raise InvalidInput(f"--reason is only for final statuses, not {target.name}")
    now = clock.now()
    assert lead.id is not None  # a stored lead
    activities.record(
        session,
        lead.id,
        "status",
        actor,
        field="status",
        old=lead.status,
        new=target.name,
        body=f"reason: {lost_reason}" if lost_reason else ("reopened" if is_locked else None),
    )
    if lead.first_contacted_at is None and target.name != "new":
        lead.first_contacted_at = now
    lead.status = target.name
    lead.lost_reason = lost_reason
    if is_locked and current is not None and current.role == "won":
        lead.converted_at = None
    lead.updated_at = now
    session.add(lead)
    return lead
