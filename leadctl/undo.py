"""Undo: revert the acting user's last command (``leadctl undo``).

One command's worth is one group of activities: every activity a command
writes carries the id of its ``command_log`` row (``activities.command_of``),
so a status move, an edit, a bulk change of ten thousand leads, a claim, an
assignment or a merge are each one group, whatever module wrote them.

The rules, decided for issue 14:

- Undo reverts the field changes of the group, newest first: each activity
  with a ``field`` sets that field back to its ``old_value`` (the claim window,
  lost reason and conversion time around it come from the timeline). The undo
  is recorded as ``undo`` activities (field, the value undone → the value
  restored), in a command of its own; the undone command is marked
  (``command_log.undone_by``). A merge keeps what undoing it needs
  (:func:`remember_merge`): the archived lead is restored, its history and
  deals moved back, the kept lead's filled blanks emptied again.
- Undo walks back, as taskwarrior's does: a second undo reverts the command
  before, and so on. An undo is not itself undone (no redo).
- What only adds to the record is not a change and is neither undone nor in the
  way: ``add`` and ``import`` (leads are never deleted; mark one unqualified or
  merge it), notes and logged contacts (they happened). ``convert`` made a
  client and a deal: undo refuses it (exit 3) and says how to reopen the lead.
- Undo refuses (exit 3, naming the lead and who) when any lead of the group
  was changed since by a command that is not undone: someone else's, or one of
  the actor's own that undo does not walk (an import filling it).
- Only the actor's own commands; the leads go through ``leads.for_change``
  (exit 4 for a lead the actor may no longer change).
- Nothing left to undo is exit 1 (not found), as ``claim --next`` with an empty
  pool; activities written before schema version 4 belong to no command and are
  never undone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, and_, exists, or_, update
from sqlmodel import Session, col, select

from leadctl import activities, clock, leads, lists, normalize
from leadctl.errors import Conflict, NotFound
from leadctl.models import ACTIVITY, COMMAND_LOG, DEAL, LEAD, Activity, Lead
from leadctl.users import Actor

# kinds with a field that are no change to revert: a lead's creation (add,
# import), links between people, refusals, undo's own records,
# and derived changes, which a rescore makes again (a lifecycle stage)
DERIVED = ("stage",)
NOT_CHANGES = ("created", "import", "link", "denied", "undo", *DERIVED)
# kinds that change a lead without naming a field: blanks filled (a merge, an
# import merging a row into it), a conversion
FIELDLESS_CHANGES = ("merge", "import", "convert")
# a command holding one of these added leads: history, not undone (see above)
ADDS = ("created", "import")
IN_CHUNK = 2000
_A = ACTIVITY.c
_C = COMMAND_LOG.c
_UNTIL = re.compile(r"until (\S+)$")
_ENDED_CLAIM = re.compile(r"ended claim by (.+)$")


@dataclass
class Undone:
    """What an undo reverted: a line for people, the leads it touched."""

    text: str
    leads: list[int] = field(default_factory=list)
    command: int = 0  # the command undone


def undo(session: Session, who: Actor) -> Undone:
    """Revert the actor's last command that is not undone yet (see the module)."""
    found = _last_command(session, who.name)
    if found is None:
        raise NotFound("nothing to undo: you have no change left to revert")
    command_id, data = found
    group = list(
        session.exec(
            select(Activity).where(Activity.command_id == command_id).order_by(col(Activity.id))
        )
    )
    merges: list[dict[str, Any]] = json.loads(data)["merge"] if data else []
    converted = [a for a in group if a.kind == "convert"]
    if converted:
        lead_id = converted[0].lead_id
        raise Conflict(
            f"your last change converted lead {lead_id} ({converted[0].body}); a convert is "
            f"not undone: an admin may reopen the lead with `leadctl status {lead_id} STATUS "
            "--reopen`"
        )
    lead_ids = sorted({a.lead_id for a in group} | {m[k] for m in merges for k in ("keep", "dup")})
    last = max((a.id or 0 for a in group), default=0)
    _refuse_if_changed_since(session, who.name, lead_ids, last)
    for merge in reversed(merges):
        _unmerge(session, who, merge, command_id)
    changes = [a for a in reversed(group) if a.field and a.kind not in NOT_CHANGES]
    touched: dict[int, Lead] = {}
    for change in changes:
        lead = touched.get(change.lead_id) or leads.for_change(
            session, who, change.lead_id, "undo changes to"
        )
        touched[change.lead_id] = lead
        _revert(session, who.name, lead, change, command_id)
    now = clock.now()
    for lead in touched.values():
        lead.email_key = normalize.email_key(lead.email)
        lead.company_key = normalize.company_key(lead.company)
        lead.updated_at = now
        session.add(lead)
    session.flush()
    for lead in touched.values():
        leads.rescore(session, lead)
    conn = session.connection()
    mine = activities.command_of(conn, who.name)
    conn.execute(update(COMMAND_LOG).where(_C.id == command_id).values(undone_by=mine))
    return Undone(_describe(group, merges, lead_ids), lead_ids, command_id)


def _last_command(session: Session, actor: str) -> tuple[int, str | None] | None:
    """The actor's newest command not undone that changed a lead (or merged)."""
    changed = exists().where(
        _A.command_id == _C.id, _A.field.is_not(None), _A.kind.not_in(NOT_CHANGES)
    )
    added = exists().where(_A.command_id == _C.id, _A.kind.in_(ADDS))
    statement = (
        select(_C.id, _C.data)
        .where(
            _C.actor == actor,
            _C.undone_by.is_(None),
            or_(_C.data.is_not(None), changed),
            ~added,
        )
        .order_by(_C.id.desc())
        .limit(1)
    )
    row = session.connection().execute(statement).first()
    return None if row is None else (row[0], row[1])


def _refuse_if_changed_since(session: Session, actor: str, lead_ids: list[int], last: int) -> None:
    """Exit 3 when a lead of the group changed after it (``last``: its newest
    activity) in a command that is not undone, naming the lead and who."""
    undone = exists().where(_C.id == _A.command_id, _C.undone_by.is_not(None))
    conn = session.connection()
    for start in range(0, len(lead_ids), IN_CHUNK):
        statement = (
            select(_A.lead_id, _A.actor, _A.kind)
            .where(
                _A.lead_id.in_(lead_ids[start : start + IN_CHUNK]),
                _A.id > last,
                or_(_A.field.is_not(None), _A.kind.in_(FIELDLESS_CHANGES)),
                _A.kind.not_in(DERIVED),
                ~undone,
                ~and_(_A.kind == "undo", _A.actor == actor),
            )
            .order_by(_A.id)
            .limit(1)
        )
        row = conn.execute(statement).first()
        if row is not None:
            lead_id, by, kind = row
            who = "you" if by == actor else by
            raise Conflict(
                f"lead {lead_id} was changed by {who} since ({kind}); undo refused, "
                "it would overwrite that change"
            )


def _revert(session: Session, actor: str, lead: Lead, change: Activity, command_id: int) -> None:
    """Set one field back, with what the timeline says went with it."""
    name = change.field
    assert name is not None and lead.id is not None
    if name not in LEAD.c or name == "id":
        raise Conflict(f"lead {lead.id}: a change of {name} cannot be undone")
    before = getattr(lead, name)
    restored: Any = from_text(name, change.old_value)
    if name == "status":
        _restore_status(session, lead, change, str(restored))
    elif name == "claimed_by":
        if change.kind == "claim" and (change.body or "").startswith("renewed"):
            restored = change.new_value  # a renewal: the claim stays, its old window back
        lead.claim_expires_at = _claim_until(session, lead.id, restored, change.id)
    elif name == "owner":
        ended = _ENDED_CLAIM.search(change.body or "")
        if ended:
            holder = ended[1]
            lead.claimed_by = holder
            lead.claim_expires_at = _claim_until(session, lead.id, holder, change.id)
    setattr(lead, name, restored)
    activities.record(
        session,
        lead.id,
        "undo",
        actor,
        field=name,
        old=before,
        new=restored,
        body=f"undid {change.kind} (command {command_id})",
    )


def _restore_status(session: Session, lead: Lead, change: Activity, status: str) -> None:
    """The lost reason, conversion time and first contact that go with a status."""
    assert lead.id is not None
    statuses: list[Any] = session.info.setdefault("leadctl_undo_statuses", [])
    if not statuses:  # read once per undo, however many leads it reverts
        statuses += lists.entries(session, "status")
    role = next((s.role for s in statuses if s.name == status), None)
    earlier = _earlier(session, lead.id, change.id, _A.field == "status", _A.new_value == status)
    if role == "final":
        found = re.match(r"reason: (.+)$", (earlier.body if earlier else None) or "")
        lead.lost_reason = found[1] if found else "Other"
    else:
        lead.lost_reason = None
    if role == "won":
        convert = _earlier(session, lead.id, change.id, _A.kind == "convert")
        lead.converted_at = convert.created_at if convert else change.created_at
    first = statuses[0].name if statuses else None
    if status == first and lead.first_contacted_at is not None:
        contacted = exists().where(_A.lead_id == lead.id, _A.kind.in_(activities.CONTACT_KINDS))
        if not session.connection().execute(select(contacted)).scalar():
            lead.first_contacted_at = None


def _claim_until(
    session: Session, lead_id: int, holder: str | None, before: int | None
) -> datetime | None:
    """When ``holder``'s claim on the lead ran out, from their last claim activity
    before activity ``before`` (its body says ``until TIME``)."""
    if holder is None:
        return None
    claim = _earlier(session, lead_id, before, _A.kind == "claim", _A.new_value == holder)
    found = _UNTIL.search((claim.body if claim else None) or "")
    return clock.parse_iso(found[1], "claim") if found else None


def _earlier(session: Session, lead_id: int, before: int | None, *where: Any) -> Activity | None:
    statement = (
        select(Activity)
        .where(_A.lead_id == lead_id, _A.id < (before or 0), *where)
        .order_by(_A.id.desc())
        .limit(1)
    )
    return session.exec(statement).first()


# --- merges ---------------------------------------------------------------------------------


def remember_merge(session: Session, actor: str, keep: Lead, dup: Lead) -> None:
    """Before ``dup`` is merged into ``keep``: keep, on the command, both leads as
    they are and what the merge will move (history, deals, leads merged into the
    duplicate earlier), so that ``undo`` can take the merge back."""
    conn = session.connection()
    moved = {
        table.name: list(conn.scalars(select(table.c.id).where(table.c.lead_id == dup.id)))
        for table in (ACTIVITY, DEAL)
    }
    repointed = list(conn.execute(select(LEAD.c.id).where(LEAD.c.merged_into == dup.id)).scalars())
    item = {
        "keep": keep.id,
        "dup": dup.id,
        "before": {"keep": snapshot(keep), "dup": snapshot(dup)},
        "activities": moved["activity"],
        "deals": moved["deal"],
        "repointed": repointed,
    }
    activities.remember(conn, actor, "merge", item)


def _unmerge(session: Session, who: Actor, merge: dict[str, Any], command_id: int) -> None:
    keep = leads.for_change(session, who, merge["keep"], "undo the merge into")
    dup = leads.get(session, merge["dup"])
    if dup.merged_into != keep.id:
        raise Conflict(f"lead {dup.id} is no longer merged into lead {keep.id}; nothing to restore")
    for lead, row in ((keep, merge["before"]["keep"]), (dup, merge["before"]["dup"])):
        for name, value in row.items():
            setattr(lead, name, from_json(name, value))
        session.add(lead)
    session.flush()
    conn = session.connection()
    for table, key, column in (
        (ACTIVITY, "activities", "lead_id"),
        (DEAL, "deals", "lead_id"),
        (LEAD, "repointed", "merged_into"),
    ):
        ids = merge[key]
        for start in range(0, len(ids), IN_CHUNK):
            conn.execute(
                update(table)
                .where(table.c.id.in_(ids[start : start + IN_CHUNK]))
                .values({column: dup.id})
            )
    assert keep.id is not None and dup.id is not None
    body = f"undid merge (command {command_id})"
    activities.record(
        session, keep.id, "undo", who.name, body=f"{body}: lead {dup.id} ({dup.name}) restored"
    )
    activities.record(
        session, dup.id, "undo", who.name, field="merged_into", old=keep.id, new=None, body=body
    )
    for lead in (keep, dup):
        leads.rescore(session, lead)


# --- values as stored in activities and snapshots ------------------------------------------

_SKIPPED = ("id", "updated_at", "score", "band")  # rescored and stamped after a restore


def snapshot(lead: Lead) -> dict[str, Any]:
    """A lead's columns as JSON values (times as ISO 8601 text)."""
    row = {}
    for name in LEAD.c.keys():
        if name in _SKIPPED:
            continue
        value = getattr(lead, name)
        row[name] = clock.iso(value) if isinstance(value, date) else value
    return row


def from_json(name: str, value: Any) -> Any:
    return from_text(name, value) if isinstance(value, str) else value


def from_text(name: str, text: str | None) -> Any:
    """A lead column's value from its text in an activity (``activities.row``)."""
    if text is None:
        return None
    affinity = LEAD.c[name].type._type_affinity
    if affinity is DateTime:
        return clock.parse_iso(text, name)
    if affinity is Date:
        return date.fromisoformat(text)
    if affinity is Boolean:
        return text == "True"
    if affinity is Integer:
        return int(text)
    if affinity is Float:
        return float(text)
    return text


def _describe(group: list[Activity], merges: list[dict[str, Any]], lead_ids: list[int]) -> str:
    changes = [a for a in group if a.field and a.kind not in NOT_CHANGES]
    kinds = list(dict.fromkeys([*(["merge"] if merges else []), *(a.kind for a in changes)]))
    where = (
        f"lead {lead_ids[0]}"
        if len(lead_ids) == 1
        else f"{len(lead_ids)} leads ({', '.join(map(str, lead_ids[:10]))}"
        + (", …)" if len(lead_ids) > 10 else ")")
    )
    text = f"{' + '.join(kinds)} on {where}"
    if len(changes) == 1 and not merges:
        (change,) = changes
        label = "" if change.field == change.kind else f"{change.field} "
        text += f": {label}{change.new_value or '—'} → {change.old_value or '—'}"
    return text
