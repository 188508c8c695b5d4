"""`add`, `list`, `show`, `edit`."""

import sys
from typing import Annotated, Any

import typer

from leadctl.cli.bulk import IDS_HELP, DryRunOpt
from leadctl.cli.fields import lead_fields
from leadctl.cli.state import (
    BandOpt,
    DueOpt,
    IdArg,
    JsonOpt,
    OwnerOpt,
    RottingOpt,
    SearchOpt,
    SourceOpt,
    StageOpt,
    StatusOpt,
    TagOpt,
    state,
)


def register(app: typer.Typer) -> None:
    app.command("add")(add)
    app.command("list")(list_command)
    app.command("show")(show)
    app.command("edit")(edit)


@lead_fields(with_name=False)
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name of the lead.", show_default=False)],
    raw: dict[str, Any],
    notes: Annotated[str | None, typer.Option("--notes", help="A first note.")] = None,
    assign: Annotated[str | None, typer.Option("--assign", help="Owner (user name or me).")] = None,
    on_duplicate: Annotated[
        str | None,
        typer.Option(
            "--on-duplicate",
            help="merge, create or skip when the lead matches one already stored.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a lead (name and an email or phone), checking for duplicates."""
    from leadctl import claims, leads, users
    from leadctl.cli import render
    from leadctl.errors import DuplicateLead

    app = state(ctx)
    with app.session() as session:
        who = users.actor(session, app.actor)
        owner = claims.owner_for_new_lead(session, who, assign)
        values = leads.validate(session, {"name": name, **raw, "owner": owner})
        try:
            result = leads.add(session, who, values, on_duplicate=on_duplicate, notes=notes)
        except DuplicateLead as duplicate:
            choice = _ask_duplicate(duplicate) if _interactive(json_out) else None
            if choice is None:
                raise
            result = leads.add(session, who, values, on_duplicate=choice, notes=notes)
        lead = result.lead
    for other_id, other_name, word in result.shared:
        render.message(
            f"warning: shares {word} with lead {other_id} ({other_name}), another name: "
            "added as another person, linked"
        )
    if json_out:
        render.emit_json(leads.to_dict(lead))
        return
    if result.outcome == "created":
        render.message(f"added lead {lead.id}: {lead.name}")
    elif result.outcome == "merged":
        filled = ", ".join(result.filled) or "nothing new"
        render.message(f"merged into lead {lead.id} ({lead.name}): {filled}")
    else:
        render.message(f"skipped: duplicate of lead {lead.id} ({lead.name})")


def _interactive(json_out: bool) -> bool:
    return not json_out and sys.stdin.isatty() and sys.stderr.isatty()


def _ask_duplicate(duplicate: Any) -> str | None:
    from leadctl.cli import render

    render.message(f"This looks like lead {duplicate.existing_id} ({duplicate.reason}).")
    choices = {"m": "merge", "merge": "merge", "k": "create", "keep": "create",
               "keep both": "create", "c": None, "cancel": None}  # fmt: skip
    while True:
        answer = render.prompt("merge / keep both / cancel", default="merge")
        key = " ".join(answer.lower().split())
        if key in choices:
            return choices[key]
        render.message("please answer merge, keep both or cancel")


def list_command(
    ctx: typer.Context,
    status: StatusOpt = None,
    source: SourceOpt = None,
    owner: OwnerOpt = None,
    claimed: Annotated[bool, typer.Option("--claimed", help="Only leads on a live claim.")] = False,
    band: BandOpt = None,
    stage: StageOpt = None,
    rotting: RottingOpt = False,
    tag: TagOpt = None,
    due: DueOpt = None,
    search: SearchOpt = None,
    sort: Annotated[str, typer.Option(help="next-call, score or created.")] = "next-call",
    limit: Annotated[int, typer.Option(help="At most this many (0 = all).")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many (paging).")] = 0,
    every: Annotated[
        bool, typer.Option("--all", help="Every lead, closed ones too (default: open leads).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """List open leads you may see: next call soonest first (overdue on top), then score.

    Closed leads (converted, unqualified, lost) show with --all or --status closed.
    When --limit cuts the list, stderr says how many match in all."""
    from leadctl import leads, users
    from leadctl.cli import render

    app = state(ctx)
    query = leads.make_query(
        app.actor,
        status=status,
        open_only=not every,
        source=source,
        owner=owner,
        claimed=claimed,
        band=band,
        stage=stage,
        rotting=rotting,
        tag=tag,
        due=due,
        search=search,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    with app.session(immediate=False) as session:
        page = leads.list_page(session, users.actor(session, app.actor), query)
    found = page.leads
    if json_out:
        render.emit_json([leads.to_dict(lead) for lead in found])
    elif found:
        render.lead_rows(found, overdue=leads.is_overdue)
    elif query.open_only and not query.statuses:
        render.message("no open leads match (--all shows closed ones too)")
    else:
        render.message("no leads match")
    if page.total is not None:
        first = offset + 1
        shown = f"{len(found):,}" if not offset else f"{first:,}–{offset + len(found):,}"
        render.message(f"showing {shown} of {page.total:,} (--limit 0 for all)")


def show(ctx: typer.Context, lead_id: IdArg, json_out: JsonOpt = False) -> None:
    """Show a lead and its whole timeline."""
    from leadctl import activities, leads, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=False) as session:
        lead, history = leads.history(session, users.actor(session, app.actor), lead_id)
    if json_out:
        render.emit_json(
            leads.to_dict(lead) | {"activities": [activities.activity_to_dict(a) for a in history]}
        )
        return
    render_lead(lead)
    render.table(
        ["When", "Kind", "What", "By"],
        [
            (render.local(a.created_at), a.kind, render.escape(activities.describe(a)), a.actor)
            for a in history
        ],
        title="Timeline",
    )


def render_lead(lead: Any) -> None:
    """The lead's fields as a key/value block (shared by show, edit, status)."""
    from leadctl import leads
    from leadctl.cli import render

    data = leads.to_dict(lead)
    if not data["rotting"]:  # said only when it is so
        del data["rotting"]
    pairs = [(k, _local_field(k, lead, v)) for k, v in data.items() if k not in ("id", "name")]
    if lead.merged_into:
        pairs.insert(0, ("archived", f"merged into lead {lead.merged_into}"))
    render.key_values(pairs, title=f"#{lead.id} {lead.name}")


def _local_field(key: str, lead: Any, value: Any) -> Any:
    from leadctl.cli import render
    from leadctl.leads import DATETIME_FIELDS

    if key in DATETIME_FIELDS:
        return render.local(getattr(lead, key))
    if key in ("tags", "alt_emails", "alt_phones"):
        return ", ".join(value)
    if key == "fields":
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if key == "rotting":
        return "yes"
    return value


@lead_fields(with_name=True)
def edit(
    ctx: typer.Context,
    args: Annotated[list[str], typer.Argument(metavar="ID...", help=IDS_HELP, show_default=False)],
    raw: dict[str, Any],
    untag: Annotated[
        list[str] | None,
        typer.Option("--untag", help="Remove this tag (repeat or comma-separate)."),
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Change leads' fields ('' clears one; --tag adds, --untag removes, --field sets one key)."""
    from leadctl import editing, users
    from leadctl.cli import bulk

    app = state(ctx)
    given = {k: v for k, v in raw.items() if v is not None}
    if not given and not untag:
        from leadctl.errors import InvalidInput

        raise InvalidInput("nothing to change: give at least one field option (see --help)")
    ids, as_list = bulk.lead_ids(args)
    with app.session() as session:
        who = users.actor(session, app.actor)
        plan = editing.edit(session, who, ids, given, untag=untag or [], dry_run=dry_run)
        shown = bulk.show(session, plan, ids, as_list=as_list, dry_run=dry_run, json_out=json_out)
    fields = {c.lead_id: ", ".join(r.field for r in c.rows if r.field) for c in plan.changes}
    bulk.report(
        plan,
        shown,
        lambda lead: (
            f"lead {lead.id}: "
            + (f"changed {fields[lead.id]}" if lead.id in fields else "no change")
        ),
        "changed",
        as_list=as_list,
        json_out=json_out,
        dry_run=dry_run,
    )
