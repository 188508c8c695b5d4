"""`claim`, `release`, `assign`: the shared pool of leads."""

from typing import Annotated, Any

import typer

from leadctl.cli.bulk import DryRunOpt
from leadctl.cli.state import IdArg, JsonOpt, state

IdsArg = Annotated[
    list[int] | None, typer.Argument(metavar="ID", help="Lead ids.", show_default=False)
]


def register(app: typer.Typer) -> None:
    app.command("claim")(claim)
    app.command("release")(release)
    app.command("assign")(assign)


def _usage(text: str) -> None:
    """Flags that cannot go together are a usage error (exit 2), as the parser's are."""
    raise typer.BadParameter(text)


def claim(
    ctx: typer.Context,
    lead_ids: IdsArg = None,
    next_: Annotated[
        bool, typer.Option("--next", help="Claim the best free leads (score, then age).")
    ] = False,
    count: Annotated[
        int | None, typer.Option(help="With --next: how many (default 1).", show_default=False)
    ] = None,
    release_expired: Annotated[
        bool,
        typer.Option(
            "--release-expired", help="Return expired claims to the pool (for cron; quiet if none)."
        ),
    ] = False,
    hours: Annotated[
        float | None,
        typer.Option(
            help="Hours the claim holds (default: the claim_hours setting, 24)", show_default=False
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Hold unassigned leads for a while so nobody else works them."""
    from leadctl import claims

    modes = sum((bool(lead_ids), next_, release_expired))
    if modes != 1:
        _usage("give lead ids, --next or --release-expired (exactly one)")
    if count is not None and not next_:
        _usage("--count goes with --next")
    if release_expired and hours is not None:
        _usage("--hours does not go with --release-expired")
    app = state(ctx)
    with app.session(immediate=True) as session:
        who = _actor(session, app.actor)
        if release_expired:
            released = claims.release_expired(session, who)
        elif next_:
            taken = claims.claim_next(
                session, who, count=1 if count is None else count, hours=hours
            )
        else:
            taken = claims.claim(session, who, lead_ids or [], hours=hours)
    if release_expired:
        _print_released(released, json_out)
        return
    if _print_leads(taken, json_out, as_list=count is not None or len(lead_ids or []) > 1):
        return
    for lead in taken:
        _say(f"claimed lead {lead.id} ({lead.name}, score {lead.score}) until {_local(lead)}")


def _print_released(ids: list[int], json_out: bool) -> None:
    from leadctl.cli import render

    if json_out:
        render.emit_json({"released": len(ids), "ids": ids})
    elif ids:
        render.line(f"released {len(ids)}")


def release(ctx: typer.Context, lead_id: IdArg, json_out: JsonOpt = False) -> None:
    """Give a lead back to the pool: ends your claim (or your ownership)."""
    from leadctl import claims

    app = state(ctx)
    with app.session(immediate=True) as session:
        lead = claims.release(session, _actor(session, app.actor), lead_id)
    if not _print_leads([lead], json_out, as_list=False):
        _say(f"released lead {lead.id} ({lead.name}) to the pool")


def assign(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="ID...", help="Lead ids, or - to read them from stdin.", show_default=False
        ),
    ],
    to: Annotated[
        str | None, typer.Option("--to", help="Owner: a user name or me.", show_default=False)
    ] = None,
    round_robin: Annotated[
        str | None,
        typer.Option(
            "--round-robin",
            metavar="U1,U2...",
            help="Deal the leads out in turn, continuing where the last round-robin stopped.",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Give leads an owner (ends any claim on them), all or none."""
    from leadctl import claims
    from leadctl.cli import bulk

    if (to is None) == (round_robin is None):
        _usage("give --to USER or --round-robin U1,U2... (exactly one)")
    lead_ids, as_list = bulk.lead_ids(args)
    app = state(ctx)
    with app.session(immediate=True) as session:
        who = _actor(session, app.actor)
        if round_robin is not None:
            plan = claims.assign_round_robin(
                session, who, lead_ids, round_robin.split(","), dry_run=dry_run
            )
        else:
            plan = claims.assign(session, who, lead_ids, to or "", dry_run=dry_run)
        shown = bulk.show(
            session, plan, lead_ids, as_list=as_list, dry_run=dry_run, json_out=json_out
        )
    owners = sorted({c.values["owner"] for c in plan.changes})
    bulk.report(
        plan,
        shown,
        lambda lead: f"lead {lead.id} ({lead.name}) is owned by {lead.owner}",
        f"now owned by {', '.join(owners)}",
        as_list=as_list,
        json_out=json_out,
        dry_run=dry_run,
        unchanged="already owned so",
    )


def _actor(session: Any, name: str) -> Any:
    from leadctl import users

    return users.actor(session, name)


def _print_leads(found: list[Any], json_out: bool, *, as_list: bool) -> bool:
    """With --json, print the lead object (or array) and say so; else print nothing."""
    from leadctl import leads
    from leadctl.cli import render

    if not json_out:
        return False
    objects = [leads.to_dict(lead) for lead in found]
    render.emit_json(objects if as_list else objects[0])
    return True


def _say(text: str) -> None:
    from leadctl.cli import render

    render.message(text)


def _local(lead: Any) -> str:
    from leadctl.clock import local

    return local(lead.claim_expires_at)
