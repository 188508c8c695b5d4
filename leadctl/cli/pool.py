"""`claim`, `release`, `assign`: the shared pool of leads."""

from pathlib import Path
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
    # claim --next waits for no other writer on PostgreSQL: its row locks
    # (FOR UPDATE SKIP LOCKED, then a conditional UPDATE) keep claims apart
    with app.session(immediate=True, serialize=not next_) as session:
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
            help="Deal the leads out in turn, continuing where the last round-robin stopped; "
            "skips users away or at capacity.",
            show_default=False,
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            metavar="FILE",
            help="Route by the rules of a TOML file (country, region, industry, source).",
            show_default=False,
        ),
    ] = None,
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate", help="Show who would get each lead and the loads after; write nothing."
        ),
    ] = False,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Give leads an owner (ends any claim on them), all or none."""
    from leadctl import claims, routing
    from leadctl.cli import bulk

    if sum(option is not None for option in (to, round_robin, rules)) != 1:
        _usage("give --to USER, --round-robin U1,U2... or --rules FILE (exactly one)")
    if simulate and dry_run:
        _usage("--simulate and --dry-run do not go together (both write nothing)")
    lead_ids, as_list = bulk.lead_ids(args)
    app = state(ctx)
    # a simulation only reads: no write lock, nothing committed
    with app.session(immediate=not simulate) as session:
        who = _actor(session, app.actor)
        if round_robin is not None:
            plan = claims.assign_round_robin(
                session, who, lead_ids, round_robin.split(","), dry_run=dry_run, simulate=simulate
            )
        elif rules is not None:
            plan = claims.assign_by_rules(
                session,
                who,
                lead_ids,
                routing.rules_for(session, rules),
                dry_run=dry_run,
                simulate=simulate,
            )
        else:
            plan = claims.assign(
                session, who, lead_ids, to or "", dry_run=dry_run, simulate=simulate
            )
        if simulate:
            names = {row.id: row.name for row in _leads(session, lead_ids)}
        else:
            shown = bulk.show(
                session, plan, lead_ids, as_list=as_list, dry_run=dry_run, json_out=json_out
            )
    if simulate:
        _print_simulation(plan, lead_ids, names, json_out, by_rules=rules is not None)
        return
    owners = sorted({c.values["owner"] for c in plan.changes})
    bulk.report(
        plan,
        shown,
        lambda lead: (
            f"lead {lead.id} ({lead.name}) is "
            + (f"owned by {lead.owner}" if lead.owner else "in the pool")
        ),
        f"now owned by {', '.join(owners)}",
        as_list=as_list,
        json_out=json_out,
        dry_run=dry_run,
        unchanged="already owned so",
    )
    _say_left(plan)


def _leads(session: Any, ids: list[int]) -> list[Any]:
    from leadctl import bulk

    return bulk.fetch(session, list(dict.fromkeys(ids)))


def _say_left(plan: Any) -> None:
    """Leads no routing rule matched stay as they were."""
    if plan.unmatched:
        shown = ", ".join(str(i) for i in plan.unmatched[:10])
        more = ", …" if len(plan.unmatched) > 10 else ""
        _say(f"{len(plan.unmatched)} lead(s) match no rule, left as they were: {shown}{more}")


def _print_simulation(
    plan: Any, ids: list[int], names: dict[int, str], json_out: bool, *, by_rules: bool
) -> None:
    """Who would get each lead (JSON: ``[{"id", "to"}]``), then each user's
    open leads now and after (tables only)."""
    from leadctl.cli import render

    order = [i for i in dict.fromkeys(ids) if i in plan.owners or i in plan.unmatched]
    if json_out:
        render.emit_json([{"id": i, "to": plan.owners.get(i)} for i in order])
        return
    columns = ["ID", "Lead", "To"] + (["Rule"] if by_rules else [])
    rows = []
    for i in order:
        owner = plan.owners.get(i)
        to = owner if owner is not None else "—"
        row = [str(i), render.escape(names.get(i, "")), render.escape(to)]
        if by_rules:
            rule = plan.rules.get(i) or (
                "no rule matches" if i in plan.unmatched else "nobody available"
            )
            row.append(render.escape(rule))
        rows.append(row)
    render.table(columns, rows, justify={"ID": "right"})
    if plan.loads:
        render.table(
            ["User", "Open now", "Open after", "Capacity", "Away"],
            [
                (
                    render.escape(load.name),
                    load.before,
                    load.after,
                    "" if load.capacity is None else load.capacity,
                    "yes" if load.away else "",
                )
                for load in plan.loads
            ],
            justify={"Open now": "right", "Open after": "right", "Capacity": "right"},
        )
    if plan.unplaced:
        _say(
            f"nobody available for {len(plan.unplaced)} lead(s): "
            "`assign` would refuse them all (exit 3)"
        )
    _say_left(plan)
    render.message("simulation: nothing was written")


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
