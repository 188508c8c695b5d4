"""Clients and deals: converting an open lead, and what a client holds.

A client is who a lead turned into: a new one, or an existing one found by id,
by the lead's own ``client_id`` (an upsell lead), or by another converted lead
with the same email or company. The lead itself stays, as history, under the
client; a deal records the opportunity converting it opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from leadctl import activities, clock, followup, leads, lists, normalize, users
from leadctl.errors import Conflict, InvalidInput, NotFound
from leadctl.models import Client, Deal, Lead
from leadctl.users import Actor

DEFAULT_STAGE = "open"


@dataclass(frozen=True)
class DealTerms:
    """What `convert` was told about the deal; None means "from the lead" or unset."""

    value: float | None = None
    close_date: date | None = None
    stage: str | None = None
    probability: int | None = None

    @property
    def given(self) -> bool:
        return any(
            v is not None for v in (self.value, self.close_date, self.stage, self.probability)
        )


def parse_terms(
    *,
    value: str | None = None,
    close_date: str | None = None,
    stage: str | None = None,
    probability: str | None = None,
) -> DealTerms:
    """Validate the deal options as a person types them (exit 1 on a bad one)."""
    stage_text = normalize.clean(stage) if stage is not None else None
    if stage is not None and not stage_text:
        raise InvalidInput("invalid stage: must not be empty")
    return DealTerms(
        value=normalize.parse_money(value, "deal value") if value is not None else None,
        close_date=clock.parse_date(close_date, "close date") if close_date is not None else None,
        stage=stage_text,
        probability=_probability(probability) if probability is not None else None,
    )


def _probability(text: str) -> int:
    raw = text.strip().removesuffix("%").strip()
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= 100:
        raise InvalidInput(
            f"invalid probability {text!r}: expected a whole percentage from 0 to 100"
        )
    return int(raw)


@dataclass
class Conversion:
    lead: Lead
    client: Client
    deal: Deal | None
    matched_by: str | None  # how an existing client was found; None for a new client


def convert(
    session: Session,
    who: Actor,
    lead_id: int,
    *,
    client_id: int | None = None,
    terms: DealTerms | None = None,
    no_deal: bool = False,
) -> Conversion:
    """Turn an open lead the actor may work into a client (and a deal unless ``no_deal``).

    ``converted`` is a won status, which ``pipeline.change_status`` refuses, so
    the move is made and recorded here: a ``status`` activity (old → won) as
    every status move has, plus a ``convert`` activity naming the client.
    """
    lead = leads.for_work(session, who, lead_id, "convert")
    actor = who.name
    terms = terms or DealTerms()
    if no_deal and terms.given:
        raise InvalidInput("--no-deal cannot be combined with deal options")
    won = _won_status(session)
    _require_convertible(session, lead, won)
    if client_id is not None:
        get(session, client_id)
        users.require_client_visible(session, who, client_id)
    client, matched_by = _find_client(session, lead, client_id, users.visible_clauses(who))
    now = clock.now()
    if client is None:
        client = Client(
            name=lead.name, company=lead.company, email=lead.email, phone=lead.phone, created_at=now
        )
    else:
        for name in ("company", "email", "phone"):  # join: fill the client's blanks only
            if getattr(client, name) in (None, ""):
                setattr(client, name, getattr(lead, name))
    session.add(client)
    session.flush()
    assert client.id is not None  # the flush stored it
    deal = None
    if not no_deal:
        deal = Deal(
            client_id=client.id,
            lead_id=lead.id,
            value=terms.value if terms.value is not None else lead.deal_value,
            close_date=terms.close_date or lead.timeline,
            stage=terms.stage or DEFAULT_STAGE,
            probability=terms.probability,
            created_at=now,
        )
        session.add(deal)
        session.flush()
    activities.record(session, lead_id, "status", actor, field="status", old=lead.status, new=won)
    how = (
        f"joined client {client.id} (by {matched_by})" if matched_by else f"new client {client.id}"
    )
    activities.record(
        session,
        lead_id,
        "convert",
        actor,
        field="client_id",
        old=lead.client_id,
        new=client.id,
        body=how + (f"; deal {deal.id}" if deal else "; no deal"),
    )
    if lead.first_contacted_at is None:
        lead.first_contacted_at = now
    followup.clear_next_call(session, lead, actor, f"lead is {won}", now)  # issue 14
    lead.status = won
    lead.lost_reason = None
    lead.converted_at = now
    lead.client_id = client.id
    lead.updated_at = now
    session.add(lead)
    session.flush()
    return Conversion(lead, client, deal, matched_by)


def _won_status(session: Session) -> str:
    for entry in lists.entries(session, "status"):
        if entry.role == "won":
            return entry.name
    raise Conflict("no status has the won role; give one with `leadctl statuses role NAME won`")


def _require_convertible(session: Session, lead: Lead, won: str) -> None:
    """Only an open (or nurtured) lead converts; a final or converted one is a conflict."""
    if lead.merged_into:
        raise Conflict(f"lead {lead.id} is archived (merged into lead {lead.merged_into})")
    roles = {entry.name: entry.role for entry in lists.entries(session, "status")}
    role = roles.get(lead.status)
    if role == "won":
        raise Conflict(f"lead {lead.id} is already {lead.status} (client {lead.client_id})")
    if role == "final":
        raise Conflict(
            f"lead {lead.id} is {lead.status}, a final status, and cannot be converted; an admin "
            f"may reopen it first with `leadctl status {lead.id} STATUS --reopen`"
        )


def _find_client(
    session: Session, lead: Lead, client_id: int | None, visible: Sequence[Any]
) -> tuple[Client | None, str | None]:
    """The client to join, and how it was found; (None, None) for a new one.

    Matching by email or company looks only at leads within ``visible`` (the
    actor's scope), so a rep never joins, nor learns of, a client they may not see.
    """
    if client_id is not None:
        return get(session, client_id), "--client"
    if lead.client_id is not None:
        client = session.get(Client, lead.client_id)
        if client is not None:
            return client, "the lead's client"
    for reason, column, key in (
        ("email", Lead.email_key, lead.email_key),
        ("company", Lead.company_key, lead.company_key),
    ):
        if not key:
            continue
        found = session.exec(
            select(Lead.client_id)
            .where(column == key, col(Lead.client_id).is_not(None), Lead.id != lead.id, *visible)
            .order_by(col(Lead.client_id))
            .limit(1)
        ).first()
        if found is not None:
            client = session.get(Client, found)
            if client is not None:
                return client, reason
    return None, None


def get(session: Session, client_id: int) -> Client:
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client with id {client_id}")
    return client


@dataclass
class ClientRow:
    """A client with its totals, as `client list` shows it."""

    client: Client
    leads: int
    deals: int
    value: float


def list_clients(session: Session, who: Actor) -> list[ClientRow]:
    """The clients the actor may see, with lead and deal totals, counted by the
    database in one query.

    A client is the actor's to see when a lead under it is (archived duplicates
    included: they are its history); the counts cover those leads and their
    deals only.
    """
    visible = users.visible_clauses(who)
    lead_counts = (
        select(col(Lead.client_id), func.count().label("n"))
        .where(col(Lead.client_id).is_not(None), col(Lead.merged_into).is_(None), *visible)
        .group_by(col(Lead.client_id))
        .subquery()
    )
    deals = select(col(Deal.client_id), col(Deal.value))
    if visible:
        deals = deals.join(Lead, col(Lead.id) == col(Deal.lead_id)).where(*visible)
    visible_deals = deals.subquery()
    deal_totals = (
        select(
            visible_deals.c.client_id,
            func.count().label("n"),
            func.coalesce(func.sum(visible_deals.c.value), 0).label("value"),
        )
        .group_by(visible_deals.c.client_id)
        .subquery()
    )
    statement = (
        select(
            Client,
            func.coalesce(lead_counts.c.n, 0),
            func.coalesce(deal_totals.c.n, 0),
            func.coalesce(deal_totals.c.value, 0),
        )
        .outerjoin(lead_counts, lead_counts.c.client_id == Client.id)
        .outerjoin(deal_totals, deal_totals.c.client_id == Client.id)
        .order_by(col(Client.id))
    )
    if visible:
        statement = statement.where(col(Client.id).in_(_visible_clients(visible)))
    return [ClientRow(c, int(n), int(d), float(v)) for c, n, d, v in session.exec(statement)]


@dataclass
class ClientDetail:
    client: Client
    leads: list[Lead]
    deals: list[Deal]

    @property
    def value(self) -> float:
        return float(sum(deal.value or 0 for deal in self.deals))


def _visible_clients(visible: Sequence[Any]) -> Any:
    """Ids of the clients with a lead within ``visible`` (the actor's scope)."""
    return select(Lead.client_id).where(col(Lead.client_id).is_not(None), *visible)


def detail(session: Session, who: Actor, client_id: int) -> ClientDetail:
    """A client the actor may see, with its contacts (the leads under it, archived
    duplicates left out) and deals.

    Without view_all the contacts are the leads the actor may see (and the deals
    theirs), so a rep never reads another rep's lead through its client; a client
    none of whose leads the rep may see is refused (exit 4), as another rep's
    lead is.
    """
    visible = users.visible_clauses(who)
    client = get(session, client_id)
    users.require_client_visible(session, who, client_id)
    contacts = session.exec(
        select(Lead)
        .where(Lead.client_id == client_id, col(Lead.merged_into).is_(None), *visible)
        .order_by(col(Lead.created_at), col(Lead.id))
    ).all()
    deals = session.exec(
        select(Deal).where(Deal.client_id == client_id).order_by(col(Deal.created_at), col(Deal.id))
    ).all()
    if visible:
        seen = {lead.id for lead in contacts}
        deals = [deal for deal in deals if deal.lead_id in seen]
    return ClientDetail(client, list(contacts), list(deals))


def to_dict(client: Client) -> dict[str, Any]:
    """The JSON client object of SPEC."""
    return {
        "id": client.id,
        "name": client.name,
        "company": client.company,
        "email": client.email,
        "phone": client.phone,
        "created_at": clock.iso(client.created_at),
    }


def deal_to_dict(deal: Deal) -> dict[str, Any]:
    """The JSON deal object of SPEC."""
    return {
        "id": deal.id,
        "client_id": deal.client_id,
        "lead_id": deal.lead_id,
        "value": deal.value,
        "close_date": clock.iso(deal.close_date),
        "stage": deal.stage,
        "probability": deal.probability,
        "created_at": clock.iso(deal.created_at),
    }


def detail_to_dict(found: ClientDetail) -> dict[str, Any]:
    """`client show --json`: the client, its leads and deals, and their totals."""
    return to_dict(found.client) | {
        "leads": [leads.to_dict(lead) for lead in found.leads],
        "deals": [deal_to_dict(deal) for deal in found.deals],
        "totals": {"leads": len(found.leads), "deals": len(found.deals), "value": found.value},
    }
