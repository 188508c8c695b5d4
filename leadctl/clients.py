"""Clients and deals: converting an open lead, and what a client holds.

A client is who a lead turned into: a new one, or an existing one found by id,
by the lead's own ``client_id`` (an upsell lead), or by another converted lead
with the same email or company; or one added by hand (`client add`). The lead
itself stays, as history, under the client; a deal records the opportunity
converting it opened (the deal commands are ``leadctl.deals``).

Who may change a client: those who may work one of its leads (its leads'
owners, any rep for an unowned one), managers and admins; everyone in solo
mode. A client with no lead (added by hand) is changed by managers and admins
only, who are also the ones who may add one by hand.

Deal stages are the ``deal_stages`` setting (:class:`Stages`); ``open`` is the
stage a deal gets from `convert` without ``--stage`` (and the one every deal of
an older database has): not staged yet, read as an open deal at the first
stage's probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from leadctl import activities, clock, followup, leads, lists, normalize, settings, users
from leadctl.errors import Conflict, InvalidInput, NotFound, PermissionDenied, invalid_choice
from leadctl.models import Client, Deal, Lead
from leadctl.users import Actor

DEFAULT_STAGE = "open"  # convert's deal without --stage: not staged yet
CLIENT_FIELDS = ("name", "company", "email", "phone")


@dataclass(frozen=True)
class Stages:
    """The deal stages (the ``deal_stages`` setting), in order, with their
    default probabilities. A stage at 100 % (won) or 0 % (lost) is closed; a
    stage outside the list (``open``, or one removed from the setting) reads as
    open, at the first stage's probability."""

    defaults: dict[str, int]

    @property
    def names(self) -> list[str]:
        return list(self.defaults)

    @property
    def first(self) -> str:
        return self.names[0]

    @property
    def closed(self) -> list[str]:
        return [name for name, chance in self.defaults.items() if chance in (0, 100)]

    def is_open(self, stage: str) -> bool:
        return self.defaults.get(stage) not in (0, 100)

    def default(self, stage: str) -> int:
        return self.defaults.get(stage, self.defaults[self.first])

    def check(self, text: str, *, unstaged: bool = False) -> str:
        """A stage as typed, matched case-insensitively (exit 1 naming the
        stages); ``unstaged`` also accepts ``open`` (a filter may look for it)."""
        allowed = self.names
        if unstaged and DEFAULT_STAGE not in self.defaults:
            allowed = [*allowed, DEFAULT_STAGE]
        folded = " ".join(text.split()).casefold()
        for name in allowed:
            if name.casefold() == folded:
                return name
        raise invalid_choice("stage", text, allowed)

    def probability(self, deal: Deal) -> int:
        """The deal's chance to close: its own, else its stage's default."""
        return deal.probability if deal.probability is not None else self.default(deal.stage)

    def weighted(self, deal: Deal) -> float:
        """What an open deal adds to the pipeline: value × probability (0 when closed)."""
        if not self.is_open(deal.stage) or not deal.value:
            return 0.0
        return float(deal.value) * self.probability(deal) / 100

    def move(self, deal: Deal, stage: str) -> None:
        """Put ``deal`` in ``stage``: a closed stage sets its probability (100 or
        0); an open one its default, unless the deal has its own estimate (a
        probability other than the default of the stage it leaves)."""
        own = deal.probability is not None and deal.probability != self.defaults.get(deal.stage)
        if not self.is_open(stage) or not own:
            deal.probability = self.default(stage)
        deal.stage = stage


def stages(session: Session) -> Stages:
    return Stages(settings.stage_pairs(settings.get(session, "deal_stages")))


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
        listed = stages(session)
        stage = listed.check(terms.stage or DEFAULT_STAGE, unstaged=True)
        deal = Deal(
            client_id=client.id,
            lead_id=lead.id,
            value=terms.value if terms.value is not None else lead.deal_value,
            close_date=terms.close_date or lead.timeline,
            stage=stage,
            probability=terms.probability,
            created_at=now,
        )
        if stage in listed.defaults and terms.probability is None:
            deal.probability = listed.default(stage)  # a stage's; `open` has none yet
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


def may_work(who: Actor, lead: Lead) -> bool:
    """Whether ``who`` may work ``lead`` (``users.require_work``, without raising)."""
    if who.works_any:
        return True
    holder = users.claim_holder(lead)
    return (
        who.can("manage")
        and users.may_see(who, lead)
        and not (lead.owner is None and holder not in (None, who.name))
    )


def for_change(session: Session, who: Actor, client_id: int, doing: str) -> Client:
    """A client the actor is about to change (exit 1 when there is none).

    Managers and admins change any client (everyone in solo mode); a rep one of
    whose leads they may work (their own, or an unowned one); a viewer none
    (exit 4). A client with no lead (added by hand) is for managers and admins.
    """
    client = get(session, client_id)
    if who.works_any:
        return client
    users.require_permission(who, "manage", f"{doing} client {client_id} (viewers change nothing)")
    under = session.exec(
        select(Lead).where(Lead.client_id == client_id, col(Lead.merged_into).is_(None))
    ).all()
    if not any(may_work(who, lead) for lead in under):
        raise PermissionDenied(
            f"{who.label()} may not {doing} client {client_id}: none of its leads is theirs to "
            "work (a client is changed by its leads' owners, managers and admins)"
        )
    return client


def _client_values(session: Session, raw: dict[str, str | None]) -> dict[str, Any]:
    """Option texts as a client's stored values, checked as a lead's same fields
    are (exit 1 on a bad one); '' clears company, email or phone."""
    given = {name: text for name, text in raw.items() if text is not None}
    if "name" in given and not normalize.clean(given["name"]):
        raise InvalidInput("invalid name: must not be empty")
    values = leads.validate(session, given)
    return {name: values[name] for name in CLIENT_FIELDS if name in values}


def add_client(
    session: Session,
    who: Actor,
    name: str,
    *,
    company: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Client:
    """A client added by hand, with no lead yet (managers and admins; everyone
    in solo mode). One with the same email or company as an existing client is
    a conflict (exit 3, naming it): deals go to that one."""
    if not who.works_any:
        raise PermissionDenied(
            f"{who.label()} may not add a client by hand: a client without a lead is for "
            "managers and admins; `leadctl convert ID` makes one from a lead of yours"
        )
    values = _client_values(
        session, {"name": name, "company": company, "email": email, "phone": phone}
    )
    email_key = normalize.email_key(values.get("email"))
    company_key = normalize.company_key(values.get("company"))
    for other in session.exec(select(Client).order_by(col(Client.id))):
        same = (
            "email"
            if email_key and normalize.email_key(other.email) == email_key
            else "company"
            if company_key and normalize.company_key(other.company) == company_key
            else None
        )
        if same:
            raise Conflict(
                f"client {other.id} {other.name} has the same {same}: add deals to it "
                f"(`leadctl deal add {other.id}`) or change it (`leadctl client edit {other.id}`)"
            )
    client = Client(**values, created_at=clock.now())
    session.add(client)
    session.flush()
    return client


def edit_client(
    session: Session, who: Actor, client_id: int, raw: dict[str, str | None]
) -> tuple[Client, list[str]]:
    """Change a client's name, company, email or phone; returns it and the
    fields that changed."""
    client = for_change(session, who, client_id, "edit")
    values = _client_values(session, raw)
    if not values:
        raise InvalidInput("nothing to change: give --name, --company, --email or --phone")
    changed = [name for name, value in values.items() if getattr(client, name) != value]
    for name, value in values.items():
        setattr(client, name, value)
    session.add(client)
    session.flush()
    return client, changed


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
    included: they are its history); the counts cover those leads and the deals
    the actor may see (:func:`deal_scope`).
    """
    visible = users.visible_clauses(who)
    lead_counts = (
        select(col(Lead.client_id), func.count().label("n"))
        .where(col(Lead.client_id).is_not(None), col(Lead.merged_into).is_(None), *visible)
        .group_by(col(Lead.client_id))
        .subquery()
    )
    visible_deals = (
        select(col(Deal.client_id), col(Deal.value)).where(*deal_scope(visible)).subquery()
    )
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
    stages: Stages

    @property
    def value(self) -> float:
        return float(sum(deal.value or 0 for deal in self.deals))

    @property
    def weighted_value(self) -> float:
        """The open deals' value, each weighted by its probability."""
        return float(sum(self.stages.weighted(deal) for deal in self.deals))


def _visible_clients(visible: Sequence[Any]) -> Any:
    """Ids of the clients with a lead within ``visible`` (the actor's scope)."""
    return select(Lead.client_id).where(col(Lead.client_id).is_not(None), *visible)


def deal_scope(visible: Sequence[Any]) -> list[Any]:
    """WHERE clauses limiting deals to those an actor may see, given the actor's
    lead scope ``visible`` (``users.visible_clauses``; empty: every deal): the
    deals of those leads, and the deals with no lead of the clients one of those
    leads belongs to."""
    if not visible:
        return []
    seen_leads = select(col(Lead.id)).where(*visible)
    return [
        or_(
            col(Deal.lead_id).in_(seen_leads),
            and_(col(Deal.lead_id).is_(None), col(Deal.client_id).in_(_visible_clients(visible))),
        )
    ]


def detail(session: Session, who: Actor, client_id: int) -> ClientDetail:
    """A client the actor may see, with its contacts (the leads under it, archived
    duplicates left out) and deals.

    Without view_all the contacts are the leads the actor may see (and the deals
    theirs, or the client's own: those with no lead), so a rep never reads
    another rep's lead through its client; a client none of whose leads the rep
    may see is refused (exit 4), as another rep's lead is.
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
        deals = [deal for deal in deals if deal.lead_id is None or deal.lead_id in seen]
    return ClientDetail(client, list(contacts), list(deals), stages(session))


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


def deal_to_dict(deal: Deal | Any) -> dict[str, Any]:
    """The JSON deal object of SPEC (of a Deal, or of a row of the deal table,
    as export reads them)."""
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
        "totals": {
            "leads": len(found.leads),
            "deals": len(found.deals),
            "value": found.value,
            "weighted_value": found.weighted_value,
        },
    }
