"""`convert`, `client list`, `client show`: won leads become clients and deals."""

from typing import Annotated

import typer

from leadctl.cli.state import IdArg, JsonOpt, state

ClientIdArg = Annotated[int, typer.Argument(help="Client id.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
    group = typer.Typer(help="Clients with their leads and deals.", no_args_is_help=True)
    group.command("list")(client_list)
    group.command("show")(client_show)
    app.add_typer(group, name="client")


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
