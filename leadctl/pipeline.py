"""The pipeline rules: which status a lead may move to, and recording the move."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from leadctl import activities, bulk, clock, followup, leads, lists
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
    """Move one lead (:func:`change_statuses` with one id); returns the lead."""
    change_statuses(session, who, [lead_id], target_name, reason=reason, reopen=reopen)
    return session.get_one(Lead, lead_id, populate_existing=True)


def change_statuses(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    target_name: str,
    *,
    reason: str | None = None,
    reopen: bool = False,
    dry_run: bool = False,
) -> bulk.Plan:
    """Move leads the actor may work, all or none, enforcing SPEC's rules (a
    final status is reopened by an admin only), each move recorded as an
    activity. A move to a final status clears the next call (recorded too).

    With several ids a lead already in the target status is left as it is
    (``Plan.unchanged``), so a pipe can run again; with one id that is exit 3
    as it always was. ``dry_run`` checks everything and writes nothing.
    """
    single = len(bulk.unique(lead_ids)) == 1
    statuses = lists.entries(session, "status")
    target = lists.find(session, "status", target_name)
    by_name = {s.name: s for s in statuses}
    lost_reason = None
    if target.role == "final":
        if not reason:
            reasons = ", ".join(lists.names(session, "lost_reason"))
            raise InvalidInput(f"moving to {target.name} needs --reason: one of {reasons}")
        lost_reason = lists.find(session, "lost_reason", reason).name
    elif reason:
        raise InvalidInput(f"--reason is only for final statuses, not {target.name}")
    closes = target.role in ("won", "final")
    now = clock.now()  # one time for the whole command
    actor = who.name

    moves: dict[str, list[str]] = {}  # allowed next statuses, per current status

    def allowed(current: str) -> list[str]:
        if current not in moves:
            moves[current] = allowed_moves(statuses, current)
        return moves[current]

    def decide(lead: Row[Any]) -> bulk.Change | None:
        leads.check_work(who, lead, "change the status of")
        if target.name == lead.status:
            if single:
                raise Conflict(f"lead {lead.id} is already {lead.status}")
            return None
        if target.role == "won":
            raise Conflict(
                f"lead {lead.id} cannot be set to {target.name} directly: {CONVERT_HINT}"
            )
        current = by_name.get(lead.status)
        is_locked = current is not None and current.role in ("won", "final")
        if is_locked:
            if not reopen:
                raise Conflict(
                    f"lead {lead.id} is {lead.status}, a final status; an admin may change it "
                    "with --reopen"
                )
            if not who.can("admin"):
                raise LeadDenied(f"reopening lead {lead.id} needs the admin permission", [lead.id])
        elif target.name not in allowed(lead.status):
            nexts = ", ".join(allowed(lead.status)) or "none"
            raise Conflict(
                f"lead {lead.id} cannot move from {lead.status} to {target.name}: "
                f"statuses go forward only; allowed next: {nexts}"
            )
        body = f"reason: {lost_reason}" if lost_reason else ("reopened" if is_locked else None)
        rows = [
            activities.row(
                lead.id, "status", actor, field="status", old=lead.status, new=target.name,
                body=body, at=now,
            )
        ]  # fmt: skip
        values: dict[str, Any] = {
            "status": target.name, "lost_reason": lost_reason, "updated_at": now,
        }  # fmt: skip
        if lead.first_contacted_at is None and target.name != "new":
            values["first_contacted_at"] = now
        if is_locked and current is not None and current.role == "won":
            values["converted_at"] = None
        if closes and lead.next_call_at is not None:
            values["next_call_at"] = None
            rows.append(followup.cleared(lead, actor, f"lead is {target.name}", now))
        return bulk.Change(lead.id, values, rows)

    result = bulk.plan(session, lead_ids, decide)
    return bulk.finish(session, result, single=single, dry_run=dry_run)
