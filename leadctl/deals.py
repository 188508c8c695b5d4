"""Deals after convert: `deal add`, `deal edit`, `deal stage`, `deal list`, and
the open pipeline's weighted value that `report summary` counts.

A deal belongs to a client and, optionally, to one of the client's leads (the
lead it is the opportunity of). Who may see and change it follows the lead
rules: a deal with a lead as that lead (its owner, any rep for an unowned
one, managers and admins), a deal without one as its client
(``clients.for_change``). Stages and their default probabilities are the
``deal_stages`` setting (``clients.Stages``). A change to a deal with a lead is
recorded in that lead's timeline (a ``deal`` activity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal
from sqlmodel import Session, col, select

from leadctl import activities, clients, clock, leads, normalize, users
from leadctl.errors import InvalidInput, NotFound
from leadctl.models import Client, Deal
from leadctl.users import Actor


def get(session: Session, deal_id: int) -> Deal:
    deal = session.get(Deal, deal_id)
    if deal is None:
        raise NotFound(f"no deal with id {deal_id}")
    return deal


def for_change(session: Session, who: Actor, deal_id: int, doing: str) -> Deal:
    """A deal the actor is about to change: as its lead, or (none) as its client."""
    deal = get(session, deal_id)
    if deal.lead_id is not None:
        users.require_work(who, leads.get(session, deal.lead_id), f"{doing} deal {deal_id} of")
    else:
        clients.for_change(session, who, deal.client_id, f"{doing} deal {deal_id} of")
    return deal


def _lead_of(session: Session, who: Actor, client_id: int, text: str) -> int | None:
    """``--lead ID``: a lead of the client the actor may work ('' for none)."""
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise NotFound(f"no lead with id {text}")
    lead_id = int(text)
    lead = leads.for_work(session, who, lead_id, "attach a deal to")
    if lead.client_id != client_id:
        raise InvalidInput(
            f"lead {lead_id} does not belong to client {client_id}; "
            f"`leadctl edit {lead_id} --client {client_id}` makes it one of its leads"
        )
    return lead_id


def add(
    session: Session,
    who: Actor,
    client_id: int,
    terms: clients.DealTerms,
    *,
    lead: str | None = None,
) -> Deal:
    """A new deal of a client the actor may change: at the first stage unless
    ``terms.stage``, with the stage's default probability unless ``terms.probability``."""
    clients.for_change(session, who, client_id, "add a deal to")
    stages = clients.stages(session)
    stage = stages.check(terms.stage) if terms.stage is not None else stages.first
    deal = Deal(
        client_id=client_id,
        lead_id=_lead_of(session, who, client_id, lead) if lead is not None else None,
        value=terms.value,
        close_date=terms.close_date,
        stage=stage,
        probability=terms.probability if terms.probability is not None else stages.default(stage),
        created_at=clock.now(),
    )
    session.add(deal)
    session.flush()
    _record(session, who, deal, f"deal {deal.id} added: {describe(deal)}")
    return deal


def describe(deal: Deal) -> str:
    """A deal in a few words, as timelines and messages give it."""
    parts = [] if deal.value is None else [f"value {deal.value:,.2f}".replace(".00", "")]
    chance = "" if deal.probability is None else f" ({deal.probability}%)"
    parts.append(f"stage {deal.stage}{chance}")
    if deal.close_date is not None:
        parts.append(f"closing {deal.close_date.isoformat()}")
    return ", ".join(parts)


def edit(session: Session, who: Actor, deal_id: int, raw: dict[str, str | None]) -> Deal:
    """Change a deal's value, close date, stage, probability or lead ('' clears
    value, close date and lead, and gives the probability back to the stage).
    A stage change moves the probability as ``deal stage`` does, unless a
    probability is given too."""
    given = {name: text for name, text in raw.items() if text is not None}
    if not given:
        raise InvalidInput(
            "nothing to change: give --value, --close-date, --stage, --probability or --lead"
        )
    deal = for_change(session, who, deal_id, "edit")
    stages = clients.stages(session)
    before = describe(deal)
    old_lead = deal.lead_id
    if "value" in given:
        text = given["value"] or ""
        deal.value = normalize.parse_money(text, "deal value") if text.strip() else None
    if "close_date" in given:
        text = given["close_date"] or ""
        deal.close_date = clock.parse_date(text, "close date") if text.strip() else None
    if "stage" in given:
        stages.move(deal, stages.check(given["stage"] or ""))
    if "probability" in given:
        text = given["probability"] or ""
        deal.probability = (
            clients.parse_terms(probability=text).probability
            if text.strip()
            else stages.default(deal.stage)
        )
    if "lead" in given:
        deal.lead_id = _lead_of(session, who, deal.client_id, given["lead"] or "")
    session.add(deal)
    session.flush()
    after = describe(deal)
    changes = [f"{before} → {after}"] if after != before else []
    if deal.lead_id != old_lead:
        changes.append(f"lead {old_lead or 'none'} → {deal.lead_id or 'none'}")
        if old_lead is not None:  # the lead it leaves keeps the record too
            _record(session, who, deal, f"deal {deal.id}: {'; '.join(changes)}", lead_id=old_lead)
    if changes:
        _record(session, who, deal, f"deal {deal.id}: {'; '.join(changes)}")
    return deal


def move(session: Session, who: Actor, deal_id: int, stage: str) -> tuple[Deal, str]:
    """`deal stage ID STAGE`: the deal and the stage it left."""
    deal = for_change(session, who, deal_id, "move")
    stages = clients.stages(session)
    new = stages.check(stage)
    old, old_chance = deal.stage, deal.probability
    stages.move(deal, new)
    session.add(deal)
    session.flush()
    if (old, old_chance) != (deal.stage, deal.probability):
        was = old + ("" if old_chance is None else f" ({old_chance}%)")
        _record(session, who, deal, f"deal {deal.id}: stage {was} → {new} ({deal.probability}%)")
    return deal, old


def _record(
    session: Session, who: Actor, deal: Deal, body: str, *, lead_id: int | None = None
) -> None:
    """A ``deal`` activity in the timeline of the deal's lead (none without one)."""
    lead_id = lead_id if lead_id is not None else deal.lead_id
    if lead_id is not None:
        activities.record(session, lead_id, "deal", who.name, body=body)


@dataclass
class DealRow:
    """A deal as `deal list` shows it: with its client's name and weighted value."""

    deal: Deal
    client: str
    probability: int
    weighted: float


def list_deals(
    session: Session, who: Actor, *, client_id: int | None = None, stage: str | None = None
) -> list[DealRow]:
    """The deals the actor may see, oldest first; ``stage`` may also be ``open``
    (deals `convert` made without a stage)."""
    stages = clients.stages(session)
    statement = (
        select(Deal, col(Client.name))
        .join(Client, col(Client.id) == col(Deal.client_id))
        .where(*clients.deal_scope(users.visible_clauses(who)))
        .order_by(col(Deal.created_at), col(Deal.id))
    )
    if client_id is not None:
        clients.get(session, client_id)
        statement = statement.where(col(Deal.client_id) == client_id)
    if stage is not None:
        statement = statement.where(col(Deal.stage) == stages.check(stage, unstaged=True))
    return [
        DealRow(deal, name, stages.probability(deal), stages.weighted(deal))
        for deal, name in session.exec(statement)
    ]


def pipeline_value(stages: clients.Stages) -> Any:
    """SQL: the weighted value of one deal of an open stage (0 otherwise):
    value × (its probability, else its stage's default) / 100."""
    first = stages.default(stages.first)
    default = case(
        *((col(Deal.stage) == name, literal(chance)) for name, chance in stages.defaults.items()),
        else_=literal(first),
    )
    chance = func.coalesce(col(Deal.probability), default)
    weighted = func.coalesce(col(Deal.value), 0) * chance / 100.0
    if not stages.closed:
        return weighted
    return case((col(Deal.stage).in_(stages.closed), 0.0), else_=weighted)
