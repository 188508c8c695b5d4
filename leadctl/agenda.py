"""`next`: the acting user's work now, most urgent first.

Five actions, in this order, and a lead appears once, under the first that
fits it: ``overdue_call`` (its next call is past), ``due_call`` (later today),
``first_contact`` (still in the pipeline's first status and never contacted,
oldest first, with its age against the ``first_response_hours`` setting),
``claim_expiring`` (the actor's own claim ends within ``expiring_hours``) and
``hot_no_call`` (band hot, no next call). Closed leads (converted, unqualified,
lost) and archived duplicates never appear.

Whose work: in solo mode (no users) the actor's own leads and every unowned
one not held by someone else's live claim; once users exist, the actor's own
leads and the pool leads they hold on a live claim.

The cost does not grow with the database. Each action's conditions exclude
the actions before it in SQL, so no lead is read twice; each action is one
query (two in a team: :func:`_scopes`), walked in an index's order and cut by
LIMIT at what is still to show (plus one, to know there is more).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, true
from sqlmodel import Session, col, select

from leadctl import clock, leads, lists, settings
from leadctl.clock import as_utc
from leadctl.errors import InvalidInput
from leadctl.models import Lead
from leadctl.users import Actor

ACTIONS = ("overdue_call", "due_call", "first_contact", "claim_expiring", "hot_no_call")
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Item:
    """One line of the agenda: a lead, the action it needs, and why, in words."""

    lead: Lead
    action: str
    detail: str


@dataclass
class Agenda:
    items: list[Item]
    more: bool = False  # the limit cut some


@dataclass(frozen=True)
class _Window:
    """The moments and settings one agenda is computed against."""

    now: datetime
    end_of_today: datetime
    claim_soon: datetime  # now + expiring_hours
    first_response_hours: float
    expiring_hours: float
    first_status: str | None  # the pipeline's first status (new)


def agenda(session: Session, who: Actor, *, limit: int | None = DEFAULT_LIMIT) -> Agenda:
    """The actor's work now, at most ``limit`` lines (None or 0: all)."""
    if limit is not None and limit < 0:
        raise InvalidInput("--limit must not be negative")
    window = _window(session)
    base = [col(Lead.merged_into).is_(None)]
    closed = lists.closed_statuses(session)
    if closed:
        base.append(col(Lead.status).not_in(closed))
    scopes = _scopes(session, who, window.now)
    items: list[Item] = []
    for conditions, order, key, describe in _actions(who, window):
        remaining = None if not limit else limit - len(items)
        found: list[Lead] = []
        for scope in scopes:
            statement = select(Lead).where(*base, scope, *conditions).order_by(*order)
            if remaining is not None:
                statement = statement.limit(remaining + 1)
            found += session.exec(statement).all()
        found.sort(key=key)
        if remaining is not None and len(found) > remaining:
            items += [describe(lead) for lead in found[:remaining]]
            return Agenda(items, more=True)
        items += [describe(lead) for lead in found]
    return Agenda(items)


def _window(session: Session) -> _Window:
    now = clock.now()
    expiring = float(settings.get(session, "expiring_hours"))
    first = next(
        (s.name for s in lists.entries(session, "status") if s.role in ("open", None)), None
    )
    return _Window(
        now=now,
        end_of_today=leads.due_before("today"),
        claim_soon=now + timedelta(hours=expiring),
        first_response_hours=float(settings.get(session, "first_response_hours")),
        expiring_hours=expiring,
        first_status=first,
    )


def _scopes(session: Session, who: Actor, now: datetime) -> list[Any]:
    """Whose leads, as one clause or two (each query of an action runs once per
    clause), written so that the action's own index (next call, status, claim
    expiry, band) orders the walk and LIMIT stops it.

    Solo: the actor's own leads and the unowned ones not held by another's live
    claim, as one clause no owner index can serve (``coalesce(owner, actor) =
    actor``). In a team: the actor's own leads (few of the whole, where the
    owner index helps), and the pool leads they hold on a live claim, looked up
    first by the claim index (a handful) and then named by id.
    """
    if who.role is None:
        return [
            and_(
                func.coalesce(col(Lead.owner), who.name) == who.name,
                or_(
                    col(Lead.owner).is_not(None),
                    col(Lead.claimed_by).is_(None),
                    col(Lead.claimed_by) == who.name,
                    col(Lead.claim_expires_at).is_(None),
                    col(Lead.claim_expires_at) <= now,
                ),
            )
        ]
    held = session.exec(
        select(Lead.id).where(
            col(Lead.owner).is_(None),
            col(Lead.claim_expires_at) > now,
            col(Lead.claimed_by) == who.name,
        )
    ).all()
    return [col(Lead.owner) == who.name, *([col(Lead.id).in_(held)] if held else [])]


Action = tuple[list[Any], list[Any], Callable[[Lead], Any], Callable[[Lead], Item]]


def _actions(who: Actor, w: _Window) -> list[Action]:
    """Each action: its conditions (excluding the actions before it), its order
    in SQL and the same order in Python (to merge the scopes), and its line."""
    no_call_today = or_(col(Lead.next_call_at).is_(None), col(Lead.next_call_at) >= w.end_of_today)
    is_first = and_(col(Lead.status) == w.first_status, col(Lead.first_contacted_at).is_(None))
    not_first: Any = or_(
        col(Lead.status) != w.first_status, col(Lead.first_contacted_at).is_not(None)
    )
    if w.first_status is None:  # a pipeline without an open status: no first contacts
        not_first = true()
    own_claim_ending = [
        col(Lead.claimed_by) == who.name,
        col(Lead.claim_expires_at) > w.now,
        col(Lead.claim_expires_at) <= w.claim_soon,
    ]
    not_claim_ending = or_(
        col(Lead.claimed_by).is_(None),
        col(Lead.claimed_by) != who.name,
        col(Lead.claim_expires_at).is_(None),
        col(Lead.claim_expires_at) <= w.now,
        col(Lead.claim_expires_at) > w.claim_soon,
    )
    actions: list[Action] = [
        (
            [col(Lead.next_call_at) < w.end_of_today],
            [col(Lead.next_call_at), col(Lead.id)],
            lambda lead: (lead.next_call_at, lead.id),
            lambda lead: _call(lead, w),
        )
    ]
    if w.first_status is not None:
        actions.append(
            (
                [is_first, no_call_today],
                [col(Lead.created_at), col(Lead.id)],
                lambda lead: (lead.created_at, lead.id),
                lambda lead: _first_contact(lead, w),
            )
        )
    actions += [
        (
            [*own_claim_ending, no_call_today, not_first],
            [col(Lead.claim_expires_at), col(Lead.id)],
            lambda lead: (lead.claim_expires_at, lead.id),
            lambda lead: _claim(lead, w),
        ),
        (
            [
                col(Lead.band) == "hot",
                col(Lead.next_call_at).is_(None),
                not_first,
                not_claim_ending,
            ],
            [col(Lead.score).desc(), col(Lead.id)],
            lambda lead: (-lead.score, lead.id),
            lambda lead: Item(lead, "hot_no_call", f"hot (score {lead.score}), no next call"),
        ),
    ]
    return actions


def _call(lead: Lead, w: _Window) -> Item:
    assert lead.next_call_at is not None  # the query asks for one
    when = as_utc(lead.next_call_at)
    if when < w.now:
        return Item(lead, "overdue_call", f"call was due {clock.local(when)}")
    return Item(lead, "due_call", f"call today at {_at(when, w)}")


def _first_contact(lead: Lead, w: _Window) -> Item:
    waited = w.now - as_utc(lead.created_at)
    allowed = timedelta(hours=w.first_response_hours)
    limit = f"{w.first_response_hours:g} h first-response time"
    if waited > allowed:
        detail = f"waiting {span(waited)}, over the {limit}"
    else:
        detail = f"waiting {span(waited)}, {span(allowed - waited)} left of the {limit}"
    return Item(lead, "first_contact", detail)


def _claim(lead: Lead, w: _Window) -> Item:
    assert lead.claim_expires_at is not None  # the query asks for one
    ends = as_utc(lead.claim_expires_at)
    return Item(
        lead,
        "claim_expiring",
        f"your claim ends {_at(ends, w)} (in {span(ends - w.now)})",
    )


def _at(when: datetime, w: _Window) -> str:
    """A time as a table shows it: HH:MM today, else the local date and time."""
    shown = clock.local(when)
    return shown[-5:] if shown[:10] == clock.local(w.now)[:10] else shown


def span(duration: timedelta) -> str:
    """A duration as people say it: 20 min, 30 h, 5 d."""
    minutes = max(0, int(duration.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def to_dict(item: Item) -> dict[str, Any]:
    """The lead object (as `list --json` gives it) with its ``action``."""
    return leads.to_dict(item.lead) | {"action": item.action}
