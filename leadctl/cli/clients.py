"""`convert`, `client …`, `deal …`: won leads become clients and deals, and
the deals move through their stages."""

from typing import TYPE_CHECKING, Annotated

import typer

from leadctl.cli.state import IdArg, JsonOpt, state

if TYPE_CHECKING:
    from leadctl.clients import ClientDetail

ClientIdArg = Annotated[int, typer.Argument(help="Client id.", show_default=False)]
DealIdArg = Annotated[int, typer.Argument(help="Deal id.", show_default=False)]
CompanyOpt = Annotated[str | None, typer.Option("--company", help="Company.")]
EmailOpt = Annotated[str | None, typer.Option("--email", help="Email address.")]
PhoneOpt = Annotated[str | None, typer.Option("--phone", help="Phone number.")]
ValueOpt = Annotated[str | None, typer.Option("--value", help="Deal value, like 25000 or $2.5M.")]
CloseOpt = Annotated[
    str | None, typer.Option("--close-date", help="Expected close date, like 2027-01-31.")
]
StageOpt = Annotated[
    str | None, typer.Option("--stage", help="Deal stage (`config get deal_stages`).")
]
ProbabilityOpt = Annotated[
    str | None,
    typer.Option("--probability", help="Chance to close, 0-100 % (default: the stage's)."),
]
LeadOpt = Annotated[
    str | None, typer.Option("--lead", help="The client's lead this deal is the opportunity of.")
]


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
    group = typer.Typer(help="Clients with their leads and deals.", no_args_is_help=True)
    group.command("list")(client_list)
    group.command("show")(client_show)
    group.command("add")(client_add)
    group.command("edit")(client_edit)
    app.add_typer(group, name="client")
    deal = typer.Typer(help="Deals: a client's opportunities and their stages.")
    deal.command("add")(deal_add)
    deal.command("list")(deal_list)
    deal.command("edit")(deal_edit)
    deal.command("stage")(deal_stage)
    app.add_typer(deal, name="deal", no_args_is_help=True)


def convert(
    ctx: typer.Context,
    lead_id: IdArg,
    client: Annotated[
        int | None,
        typer.Option(
            "--client", help="Join this existing client (default: match by email, then company)."
        ),
    ] = None,
    deal_value: Annotated[
        str | None, typer.Option("--deal-value", help="Deal value (default: the lead's).")
    ] = None,
    close_date: Annotated[
        str | None, typer.Option("--close-date", help="Expected close (default: its timeline).")
    ] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", help="Deal stage (default: open).")
    ] = None,
    probability: Annotated[
        str | None, typer.Option("--probability", help="Chance to close, 0-100 %.")
    ] = None,
    no_deal: Annotated[bool, typer.Option("--no-deal", help="Create no deal.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Convert an open lead into a client (new or existing) and a deal."""
    from leadctl import clients, leads, users
    from leadctl.cli import render

    terms = clients.parse_terms(
        value=deal_value, close_date=close_date, stage=stage, probability=probability
    )
    app = state(ctx)
    with app.session() as session:
        done = clients.convert(
            session,
            users.actor(session, app.actor),
            lead_id,
            client_id=client,
            terms=terms,
            no_deal=no_deal,
        )
    if json_out:
        render.emit_json(
            {
                "lead": leads.to_dict(done.lead),
                "client": clients.to_dict(done.client),
                "deal": clients.deal_to_dict(done.deal) if done.deal else None,
            }
        )
        return
    named = f"client {done.client.id} {done.client.name}"
    if done.matched_by is None:
        how = f"new {named}"
    elif done.matched_by in ("email", "company"):
        how = f"joined {named} (same {done.matched_by})"
    else:
        how = f"joined {named}"
    deal = f"deal {done.deal.id}" if done.deal else "no deal"
    if done.deal and done.deal.value is not None:
        deal += f" worth {render.money(done.deal.value)}"
    render.message(f"lead {lead_id} converted: {how}; {deal}")


def client_list(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List clients with how many leads and deals each has, and the deals' value."""
    from leadctl import clients, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=False) as session:
        rows = clients.list_clients(session, users.actor(session, app.actor))
    if json_out:
        render.emit_json([clients.to_dict(row.client) for row in rows])
    elif not rows:
        render.message("no clients yet: `leadctl convert ID` turns a won lead into one")
    else:
        render.table(
            ["ID", "Name", "Company", "Email", "Phone", "Leads", "Deals", "Value"],
            [
                (
                    row.client.id,
                    render.escape(row.client.name),
                    render.escape(row.client.company),
                    render.escape(row.client.email),
                    render.escape(row.client.phone),
                    row.leads,
                    row.deals,
                    render.money(row.value),
                )
                for row in rows
            ],
            justify=dict.fromkeys(("ID", "Leads", "Deals", "Value"), "right"),
        )


def client_show(ctx: typer.Context, client_id: ClientIdArg, json_out: JsonOpt = False) -> None:
    """Show a client: its contacts (the leads under it), its deals and their totals."""
    from leadctl import clients, clock, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=False) as session:
        found = clients.detail(session, users.actor(session, app.actor), client_id)
    if json_out:
        render.emit_json(clients.detail_to_dict(found))
        return
    client = found.client
    totals = (
        f"{len(found.leads)} lead(s), {len(found.deals)} deal(s), value {render.money(found.value)}"
        f", weighted open value {render.money(found.weighted_value)}"
    )
    render.key_values(
        [
            ("company", render.escape(client.company)),
            ("email", render.escape(client.email)),
            ("phone", render.escape(client.phone)),
            ("created_at", clock.local(client.created_at)),
            ("totals", totals),
        ],
        title=f"client #{client.id} {client.name}",
    )
    if found.leads:
        _contacts(found)
    if found.deals:
        _deals(found)


def _contacts(found: "ClientDetail") -> None:
    from leadctl import clock
    from leadctl.cli import render

    render.table(
        ["ID", "Name", "Email", "Status", "Converted", "Deal value"],
        [
            (
                lead.id,
                render.escape(lead.name),
                render.escape(lead.email or lead.phone),
                render.styled(lead.status, render.STATUS_STYLE),
                clock.local(lead.converted_at),
                render.money(lead.deal_value),
            )
            for lead in found.leads
        ],
        title="Contacts",
        justify={"ID": "right", "Deal value": "right"},
    )


def _deals(found: "ClientDetail") -> None:
    from leadctl import clock
    from leadctl.cli import render

    render.table(
        ["ID", "Lead", "Value", "Close date", "Stage", "Probability", "Created"],
        [
            (
                deal.id,
                deal.lead_id or "",
                render.money(deal.value),
                clock.iso(deal.close_date) or "",
                render.escape(deal.stage),
                "" if deal.probability is None else f"{deal.probability}%",
                clock.local(deal.created_at),
            )
            for deal in found.deals
        ],
        title="Deals",
        justify={"ID": "right", "Lead": "right", "Value": "right", "Probability": "right"},
    )


def client_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Client name.", show_default=False)],
    company: CompanyOpt = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a client by hand, with no lead yet (managers and admins)."""
    from leadctl import clients, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session() as session:
        client = clients.add_client(
            session,
            users.actor(session, app.actor),
            name,
            company=company,
            email=email,
            phone=phone,
        )
    if json_out:
        render.emit_json(clients.to_dict(client))
    else:
        render.message(f"added client {client.id}: {client.name}")


def client_edit(
    ctx: typer.Context,
    client_id: ClientIdArg,
    name: Annotated[str | None, typer.Option("--name", help="Client name.")] = None,
    company: CompanyOpt = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change a client's name, company, email or phone ('' clears one)."""
    from leadctl import clients, users
    from leadctl.cli import render

    app = state(ctx)
    raw = {"name": name, "company": company, "email": email, "phone": phone}
    with app.session() as session:
        client, changed = clients.edit_client(
            session, users.actor(session, app.actor), client_id, raw
        )
    if json_out:
        render.emit_json(clients.to_dict(client))
    elif changed:
        render.message(f"client {client.id} updated: {', '.join(changed)}")
    else:
        render.message(f"client {client.id}: nothing changed")


def deal_add(
    ctx: typer.Context,
    client_id: ClientIdArg,
    value: ValueOpt = None,
    close_date: CloseOpt = None,
    stage: StageOpt = None,
    probability: ProbabilityOpt = None,
    lead: LeadOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a deal to a client (at the first stage unless --stage)."""
    from leadctl import clients, deals, users
    from leadctl.cli import render

    terms = clients.parse_terms(
        value=value, close_date=close_date, stage=stage, probability=probability
    )
    app = state(ctx)
    with app.session() as session:
        deal = deals.add(session, users.actor(session, app.actor), client_id, terms, lead=lead)
    if json_out:
        render.emit_json(clients.deal_to_dict(deal))
    else:
        render.message(f"added deal {deal.id} to client {client_id}: {deals.describe(deal)}")


def deal_list(
    ctx: typer.Context,
    client: Annotated[int | None, typer.Option("--client", help="Only this client's.")] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", help="Only this stage (or open: not staged yet).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the deals you may see, with their weighted value."""
    from leadctl import clients, clock, deals, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=False) as session:
        rows = deals.list_deals(
            session, users.actor(session, app.actor), client_id=client, stage=stage
        )
    if json_out:
        render.emit_json([clients.deal_to_dict(row.deal) for row in rows])
    elif not rows:
        render.message("no deals: `leadctl deal add CLIENT_ID` adds one")
    else:
        money = ("Value", "Weighted")
        render.table(
            ["ID", "Client", "Lead", *money[:1], "Close date", "Stage", "Probability", money[1]],
            [
                (
                    row.deal.id,
                    render.escape(f"{row.deal.client_id} {row.client}"),
                    row.deal.lead_id or "",
                    render.money(row.deal.value),
                    clock.iso(row.deal.close_date) or "",
                    render.escape(row.deal.stage),
                    f"{row.probability}%",
                    render.money(row.weighted),
                )
                for row in rows
            ],
            justify=dict.fromkeys(("ID", "Lead", *money, "Probability"), "right"),
        )


def deal_edit(
    ctx: typer.Context,
    deal_id: DealIdArg,
    value: ValueOpt = None,
    close_date: CloseOpt = None,
    stage: StageOpt = None,
    probability: ProbabilityOpt = None,
    lead: LeadOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change a deal ('' clears value, close date or lead; --probability '' gives
    the deal back its stage's probability)."""
    from leadctl import clients, deals, users
    from leadctl.cli import render

    raw = {
        "value": value,
        "close_date": close_date,
        "stage": stage,
        "probability": probability,
        "lead": lead,
    }
    app = state(ctx)
    with app.session() as session:
        deal = deals.edit(session, users.actor(session, app.actor), deal_id, raw)
    if json_out:
        render.emit_json(clients.deal_to_dict(deal))
    else:
        render.message(f"deal {deal.id}: {deals.describe(deal)}")


def deal_stage(
    ctx: typer.Context,
    deal_id: DealIdArg,
    stage: Annotated[str, typer.Argument(help="The new stage.", show_default=False)],
    json_out: JsonOpt = False,
) -> None:
    """Move a deal to a stage: its probability becomes the stage's default unless
    the deal has its own (a won or lost stage always sets 100 or 0)."""
    from leadctl import clients, deals, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session() as session:
        deal, old = deals.move(session, users.actor(session, app.actor), deal_id, stage)
    if json_out:
        render.emit_json(clients.deal_to_dict(deal))
    else:
        render.message(f"deal {deal.id}: {old} → {deal.stage} ({deal.probability}%)")
