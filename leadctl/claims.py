"""The lead pool: claims, releases and assignments.

A claim holds an unowned lead for a window; an owner takes a lead out of the
pool. Callers run these functions in a write transaction taken at BEGIN
(``Database.session(immediate=True)``), and the claim itself is one conditional
UPDATE whose row count says who won, so two processes can never hold one lead,
on SQLite or PostgreSQL (where row locks and ``SKIP LOCKED`` do the queueing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, or_, update
from sqlmodel import Session, col, select

from leadctl import activities, bulk, clock, leads, lists, routing, settings
from leadctl.availability import Roster
from leadctl.errors import Conflict, InvalidInput, NotFound
from leadctl.models import LEAD, Lead, User, id_of
from leadctl.users import (
    Actor,
    LeadState,
    claim_holder,
    get_user,
    held_elsewhere,
    is_solo,
    keep_an_admin,
    require_permission,
)

MAX_HOURS = 24 * 365  # a claim longer than a year is a typo, not a plan
MAX_COUNT = 1000
ROUND_ROBIN_KEY = routing.POINTER_KEY  # internal state, not a `config` setting
_LEAD = LEAD.c


def window(session: Session, hours: float | None) -> float:
    """Claim length in hours: ``--hours`` or the ``claim_hours`` setting."""
    if hours is None:
        hours = float(settings.get(session, "claim_hours"))
    if not 0 < hours <= MAX_HOURS:
        raise InvalidInput(
            f"invalid --hours {hours:g}: expected more than 0 and at most {MAX_HOURS}"
        )
    return hours


def _free(now: datetime, mine: str | None = None) -> Any:
    """No live claim on the lead (or, for a renewal, a claim of ``mine``)."""
    free = or_(_LEAD.claimed_by.is_(None), _LEAD.claim_expires_at.is_(None))
    free = or_(free, _LEAD.claim_expires_at < now)
    return or_(free, _LEAD.claimed_by == mine) if mine else free


def _take(
    session: Session, lead_id: int, who: str, closed: list[str], now: datetime, until: datetime
) -> bool:
    """The claim: one conditional UPDATE; True when this transaction won the lead."""
    statement = (
        update(LEAD)
        .where(
            _LEAD.id == lead_id,
            _LEAD.owner.is_(None),
            _LEAD.merged_into.is_(None),
            _LEAD.status.not_in(closed),
            _free(now, mine=who),
        )
        .values(claimed_by=who, claim_expires_at=until, updated_at=now)
    )
    return session.connection().execute(statement).rowcount == 1


def _record_claim(session: Session, lead: Lead, previous: str | None, who: str) -> None:
    """``previous``: who held the lead before, on a live or expired claim."""
    lead_id = id_of(lead)
    until = clock.iso(lead.claim_expires_at)
    body = f"renewed until {until}" if previous == who else f"until {until}"
    old = None if previous == who else previous
    activities.record(
        session, lead_id, "claim", who, field="claimed_by", old=old, new=who, body=body
    )


def _why_not_claimable(lead: Lead, who: Actor, closed: list[str]) -> Conflict | None:
    if lead.merged_into:
        return Conflict(f"lead {lead.id} was merged into lead {lead.merged_into}; claim that one")
    if lead.owner == who.name:
        return Conflict(f"lead {lead.id} is already yours (owner); owned leads are out of the pool")
    if lead.owner:
        return Conflict(
            f"lead {lead.id} is owned by {lead.owner}, so it is out of the pool; "
            "a manager can reassign it with `leadctl assign`"
        )
    if lead.status in closed:
        return Conflict(f"lead {lead.id} is {lead.status}, a final status; it cannot be claimed")
    holder = claim_holder(lead)
    if holder and holder != who.name:
        return held_elsewhere(lead, holder)
    return None


def _load(session: Session, who: Actor, lead_ids: Iterable[int], doing: str) -> list[Lead]:
    """The leads, row-locked on PostgreSQL, through the one gate of every lead change
    (:func:`leads.for_change`): an unknown id is exit 1, a lead the actor may not
    see or change 4, a merged one 3. The pool's own rules come after."""
    return [
        leads.for_change(session, who, lead_id, doing, lock=True)
        for lead_id in dict.fromkeys(lead_ids)
    ]


def claim(
    session: Session, who: Actor, lead_ids: Sequence[int], *, hours: float | None = None
) -> list[Lead]:
    """Claim the leads, all or none: any refusal rolls the whole command back."""
    hours = window(session, hours)
    found = _load(session, who, lead_ids, "claim")
    closed = lists.closed_statuses(session)
    now = clock.now()
    until = now + timedelta(hours=hours)
    for lead in found:
        refusal = _why_not_claimable(lead, who, closed)
        if refusal:
            raise refusal
        previous = lead.claimed_by
        if not _take(session, id_of(lead), who.name, closed, now, until):
            session.refresh(lead)
            raise _why_not_claimable(lead, who, closed) or Conflict(
                f"lead {lead.id} was taken by another command; try again"
            )
        session.refresh(lead)
        _record_claim(session, lead, previous, who.name)
    return found


def claim_next(
    session: Session, who: Actor, *, count: int = 1, hours: float | None = None
) -> list[Lead]:
    """Claim the best free leads of the pool: highest score, then oldest.

    Candidates come from one indexed, ordered query; each is then taken with the
    conditional UPDATE, so a lead another process won meanwhile is just skipped.
    """
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"invalid --count {count}: expected 1 to {MAX_COUNT}")
    hours = window(session, hours)
    require_permission(who, "manage", "claim leads")
    closed = lists.closed_statuses(session)
    now = clock.now()
    until = now + timedelta(hours=hours)
    taken: dict[int, str | None] = {}  # lead id: previous holder (of an expired claim)
    tried: set[int] = set()
    wait = False
    while len(taken) < count:
        candidates = (
            select(_LEAD.id, _LEAD.claimed_by)
            .where(
                _LEAD.owner.is_(None),
                _LEAD.merged_into.is_(None),
                _LEAD.status.not_in(closed),
                _free(now),
            )
            .order_by(_LEAD.score.desc(), _LEAD.created_at, _LEAD.id)
            .limit(count - len(taken) + len(tried))
            .with_for_update(skip_locked=not wait)
        )
        found = [row for row in session.connection().execute(candidates) if row[0] not in tried]
        if not found:
            if taken or wait:
                break
            # Every free lead skipped may be row-locked by a writer mid-transaction
            # on PostgreSQL (a sweep, an import's merge): wait for it once (bounded
            # by the busy timeout) rather than say the pool is empty. Only while it
            # holds no lead of its own: a claimer holding some never waits.
            wait = True
            continue
        wait = False
        for lead_id, previous in found:
            tried.add(lead_id)
            if _take(session, lead_id, who.name, closed, now, until):
                taken[lead_id] = previous
    if not taken:
        raise NotFound("no unclaimed leads left in the pool")
    claimed = []
    for lead_id, previous in taken.items():
        lead = session.get_one(Lead, lead_id, populate_existing=True)
        _record_claim(session, lead, previous, who.name)
        claimed.append(lead)
    return claimed


def release_expired(session: Session, who: Actor) -> list[int]:
    """Put every expired claim back in the pool; owned leads are not the pool's.

    One set-based UPDATE on the claim-expiry index and one batched INSERT of the
    ``release`` activities; running it again finds nothing (idempotent).
    """
    require_permission(who, "manage", "release expired claims")
    now = clock.now()
    where = [_LEAD.claim_expires_at < now, _LEAD.owner.is_(None)]
    return _release_where(session, where, actor=who.name, body="claim expired", now=now)


def release_claims_of(session: Session, name: str, *, actor: str) -> list[int]:
    """Release every claim a user holds (when the user is removed)."""
    now = clock.now()
    where = [_LEAD.claimed_by == name, _LEAD.owner.is_(None)]
    return _release_where(session, where, actor=actor, body=f"user {name} removed", now=now)


def _release_where(
    session: Session, where: list[Any], *, actor: str, body: str, now: datetime
) -> list[int]:
    conn = session.connection()
    holders: dict[int, str | None] = dict(
        conn.execute(select(_LEAD.id, _LEAD.claimed_by).where(*where).with_for_update()).all()
    )
    if not holders:
        return []
    released = (
        conn.execute(
            update(LEAD)
            .where(*where)
            .values(claimed_by=None, claim_expires_at=None, updated_at=now)
            .returning(_LEAD.id)
        )
        .scalars()
        .all()
    )
    rows = [
        activities.row(
            lead_id,
            "release",
            actor,
            field="claimed_by",
            old=holders.get(lead_id),
            body=body,
            at=now,
        )
        for lead_id in released
    ]
    activities.record_many(conn, rows)
    return sorted(released)


def release(session: Session, who: Actor, lead_id: int) -> Lead:
    """End the actor's hold on a lead: their claim, else their ownership.

    Managers and admins may release anyone's; a rep only their own.
    """
    (lead,) = _load(session, who, [lead_id], "release")
    now = clock.now()
    holder = claim_holder(lead, now)
    if lead.claimed_by and not lead.owner:  # a claim, live or expired
        field, old = "claimed_by", lead.claimed_by
        body = "released" if holder else "released an expired claim"
        someone_else = holder is not None and holder != who.name
    elif lead.owner:
        field, old, body = "owner", lead.owner, "back to the pool"
        someone_else = lead.owner != who.name
    else:
        raise Conflict(f"lead {lead_id} is neither claimed nor owned; nothing to release")
    if someone_else and not who.works_any:  # (a rep cannot even see others' owned leads)
        raise Conflict(
            f"lead {lead_id} is claimed by {old} until {clock.local(lead.claim_expires_at)}; "
            "only they, a manager or an admin may release it"
        )
    if field == "owner":
        lead.owner = None
    lead.claimed_by = None
    lead.claim_expires_at = None
    lead.updated_at = now
    session.add(lead)
    activities.record(session, id_of(lead), "release", who.name, field=field, old=old, body=body)
    return lead


def resolve_assignee(session: Session, who: Actor, name: str) -> str:
    """``me`` or a user who may own leads; any name in solo mode (exit 1 otherwise)."""
    name = name.strip()
    if name.lower() == "me":
        return who.name
    if not name:
        raise InvalidInput("invalid user: empty name")
    if routing.is_round_robin(name):
        raise InvalidInput(
            "round-robin is not a user: deal leads with `assign ID… --round-robin U1,U2…` "
            "or `import FILE --assign round-robin`"
        )
    if is_solo(session):
        return name
    user = session.get(User, name)
    if user is None:
        owners = select(User.name).where(User.role != "viewer").order_by(col(User.name))
        known = ", ".join(session.exec(owners).all())
        raise NotFound(f"unknown user {name!r}: expected one of {known}")
    if user.role == "viewer":
        raise InvalidInput(f"user {name!r} is a viewer and cannot own leads")
    return user.name


def _check_assignable(who: Actor, lead: LeadState) -> None:
    if who.works_any:
        return
    holder = claim_holder(lead)
    if lead.owner is None and holder is not None and holder != who.name:
        raise held_elsewhere(lead, holder)


def assign(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    to: str,
    *,
    dry_run: bool = False,
    simulate: bool = False,
) -> Dealt:
    """Give the leads an owner (ending any claim), all or none (``leadctl.bulk``).

    An explicit owner is not refused for being away or full: a person chose them."""
    owner = resolve_assignee(session, who, to)
    return _assign(
        session, who, lead_ids, lambda lead, dealer, counts: _fixed(owner, dealer, counts),
        [owner], None, dry_run=dry_run, simulate=simulate, loads=simulate,
    )  # fmt: skip


def _fixed(owner: str, dealer: routing.Dealer, counts: bool) -> routing.Routed:
    dealer.asked[owner] = None
    if counts:
        dealer.roster.take(owner)
    return routing.Routed(owner)


def assign_round_robin(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    names: Sequence[str],
    *,
    dry_run: bool = False,
    simulate: bool = False,
    partial: bool = False,
) -> Dealt:
    """Deal the leads out in turn among ``names``, each group continuing after
    whoever its last round-robin ended on (kept in the database), so successive
    runs spread evenly; users away at now and users whose open leads reached
    their capacity are skipped, counting the leads dealt here (the one
    round-robin: ``assign --round-robin``, ``sweep``'s hand-off; the import's
    uses :class:`routing.BatchDealer`, the same dealer).

    When nobody is available for some leads the whole command is refused (exit
    3 naming why, nothing assigned), unless ``partial``: then those leads are
    left as they are and listed in ``Dealt.unplaced``."""
    owners = list(dict.fromkeys(resolve_assignee(session, who, n) for n in names if n.strip()))
    if not owners:
        raise InvalidInput("invalid --round-robin: give user names separated by commas")

    def deal(lead: Row[Any], dealer: routing.Dealer, counts: bool) -> routing.Routed:
        return routing.Routed(dealer.next(owners, counts=counts))

    return _assign(
        session, who, lead_ids, deal, owners, "round robin",
        dry_run=dry_run, simulate=simulate, partial=partial,
    )  # fmt: skip


def assign_by_rules(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    rules: routing.Rules,
    *,
    dry_run: bool = False,
    simulate: bool = False,
    partial: bool = False,
) -> Dealt:
    """Route each lead by the rules (``routing.Rules``): the first matching rule
    with someone available deals it round-robin. Leads no rule matches are left
    as they are (``Dealt.unmatched``); nobody available: as for round-robin."""

    def deal(lead: Row[Any], dealer: routing.Dealer, counts: bool) -> routing.Routed | None:
        return rules.route(lead, dealer, counts=counts)

    return _assign(
        session, who, lead_ids, deal, None, "routing rules",
        dry_run=dry_run, simulate=simulate, partial=partial, columns=ROUTED,
    )  # fmt: skip


# What routing rules read, besides what an assignment does.
ROUTED = (*bulk.STATE, "country", "region", "industry", "source")
Deal = Callable[[Row[Any], routing.Dealer, bool], routing.Routed | None]


@dataclass
class Load:
    """A user's open leads before and after a command (``--simulate``)."""

    name: str
    before: int
    after: int
    capacity: int | None
    away: bool


@dataclass
class Dealt(bulk.Plan):
    """An assignment's plan, and where each lead went (or would go)."""

    owners: dict[int, str | None] = field(default_factory=dict)  # None: nobody available
    rules: dict[int, str] = field(default_factory=dict)  # the rule that routed a lead
    unplaced: list[int] = field(default_factory=list)  # nobody available
    unmatched: list[int] = field(default_factory=list)  # no rule matched (--rules)
    loads: list[Load] = field(default_factory=list)  # users who gain or lose leads


def _assign(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    deal: Deal,
    names: Sequence[str] | None,
    note: str | None,
    *,
    dry_run: bool,
    simulate: bool = False,
    partial: bool = False,
    columns: Sequence[str] = bulk.STATE,
    loads: bool = True,
) -> Dealt:
    """Each lead gets the owner ``deal`` picks; one Change a lead whose owner or
    claim changes (``assign`` activity). ``names``: the users dealt to (None: all
    users), whose availability and loads are read once. ``simulate`` plans and
    writes nothing (not even the round-robin pointer). ``loads`` False: nobody's
    availability or load is read (`assign --to`, which needs neither)."""
    now = clock.now()
    conn = session.connection()
    closed = set(lists.closed_statuses(conn))
    roster = Roster.load(conn, names=names, now=now) if loads else Roster([])
    before = {name: member.load for name, member in roster.members.items()}
    dealer = routing.Dealer(conn, roster, lock=not simulate)
    dealt = Dealt(total=0)

    def decide(lead: Row[Any]) -> bulk.Change | None:
        leads.check_change(who, lead, "assign")
        _check_assignable(who, lead)
        counts = lead.status not in closed
        if counts:
            roster.give_back(lead.owner)  # dealt anew: it may go back to them
        routed = deal(lead, dealer, counts)
        if routed is None or routed.owner is None:
            if counts:
                roster.take(lead.owner)
            if routed is None:
                dealt.unmatched.append(lead.id)
            else:
                dealt.unplaced.append(lead.id)
                dealt.owners[lead.id] = None
            return None
        owner = routed.owner
        dealt.owners[lead.id] = owner
        if routed.rule:
            dealt.rules[lead.id] = routed.rule
        if lead.owner == owner and not lead.claimed_by:
            return None
        holder = claim_holder(lead, now)
        how = f"{note}: {routed.rule}" if routed.rule else note
        parts = [p for p in (how, f"ended claim by {holder}" if holder else None) if p]
        row = activities.row(
            lead.id, "assign", who.name, field="owner", old=lead.owner, new=owner,
            body="; ".join(parts) or None, at=now,
        )  # fmt: skip
        values = {"owner": owner, "claimed_by": None, "claim_expires_at": None, "updated_at": now}
        return bulk.Change(lead.id, values, [row])

    single = len(bulk.unique(lead_ids)) == 1
    planned = bulk.plan(session, lead_ids, decide, columns=columns)
    for name in bulk.Plan.__dataclass_fields__:
        setattr(dealt, name, getattr(planned, name))
    waiting = set(dealt.unplaced) | set(dealt.unmatched)
    dealt.unchanged = [i for i in dealt.unchanged if i not in waiting]
    dealt.loads = [
        Load(m.name, before.get(m.name, 0), m.load, m.capacity, m.away)
        for m in roster.members.values()
        if m.name in dealer.asked or m.load != before.get(m.name, 0)
    ]
    if simulate:
        bulk.check(dealt, single=single, dry_run=True)
        return dealt
    bulk.check(dealt, single=single, dry_run=dry_run)
    if dealt.unplaced and not partial:
        raise _nobody(dealt, roster, names)
    bulk.finish(session, dealt, single=single, dry_run=dry_run)
    if not dry_run:
        dealer.save(conn)  # when it dealt: where each group stopped
    return dealt


def _nobody(dealt: Dealt, roster: Roster, names: Sequence[str] | None) -> Conflict:
    """Nobody available for some leads: the command is refused, saying why."""
    ids = dealt.unplaced
    shown = ", ".join(str(i) for i in ids[:10]) + (", …" if len(ids) > 10 else "")
    which = f"lead {shown}" if len(ids) == 1 else f"{len(ids)} of {dealt.total} leads ({shown})"
    group = list(names) if names is not None else list(roster.members)
    why = roster.why_nobody([n for n in group if not roster.available(n)])
    return Conflict(
        f"nobody available for {which}: {why}; "
        "nothing was assigned (`leadctl user back NAME`, `user set NAME --capacity N`)"
    )


def owner_for_new_lead(session: Session, who: Actor, assign: str | None) -> str | None:
    """Check the create permission and resolve ``add --assign`` (exit 1 for an unknown user)."""
    require_permission(who, "create", "add leads")
    return None if assign is None else resolve_assignee(session, who, assign)


def remove_user(session: Session, who: Actor, name: str) -> tuple[list[int], int]:
    """Remove a user (admin): their live claims go back to the pool, their leads stay
    theirs until reassigned. Returns the released lead ids and the owned count.

    The last admin cannot go while others remain: nobody could manage users after.
    """
    require_permission(who, "admin", "remove users")
    user = get_user(session, name)
    keep_an_admin(session, user, "remove")
    released = release_claims_of(session, user.name, actor=who.name)
    owned = session.exec(select(func.count()).select_from(Lead).where(Lead.owner == name)).one()
    session.delete(user)
    return released, owned
