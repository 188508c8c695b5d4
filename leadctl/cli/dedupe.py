"""`dedupe` and `merge`: find duplicate leads and fold them into one."""

from typing import Annotated, Any

import typer

from leadctl.cli.state import JsonOpt, state


def register(app: typer.Typer) -> None:
    app.command("dedupe")(dedupe)
    app.command("merge")(merge)


def dedupe(
    ctx: typer.Context,
    merge_all: Annotated[
        bool, typer.Option("--merge", help="Merge every group into its oldest lead.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """List duplicate groups (same email, same phone, same company + similar name)."""
    from leadctl import leads, merging, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=merge_all) as session:
        who = users.actor(session, app.actor)
        groups = merging.dedupe(session, who, merge_all=merge_all)
        data = [
            {
                "keep": g.keep,
                "ids": g.ids,
                "reasons": g.reasons,
                "merged": merge_all,
                "leads": [leads.to_dict(lead) for lead in members],
            }
            for g, members in groups
        ]
    if json_out:
        render.emit_json(data)
        return
    if not groups:
        render.message("no duplicates found")
        return
    _table(data)
    what = "merged" if merge_all else "found"
    render.message(
        f"{what} {len(groups):,} group{'s' if len(groups) != 1 else ''} of duplicates"
        + ("" if merge_all else "; `leadctl dedupe --merge` keeps the oldest of each")
    )


def _table(groups: list[dict[str, Any]]) -> None:
    from leadctl.cli import render

    rows = []
    for number, group in enumerate(groups, start=1):
        for lead in group["leads"]:
            kept = lead["id"] == group["keep"]
            rows.append(
                (
                    number if kept else "",
                    f"{lead['id']}{' (keep)' if kept else ''}",
                    render.escape(lead["name"]),
                    render.escape(lead["email"]),
                    render.escape(lead["phone"]),
                    render.escape(lead["company"]),
                    ", ".join(group["reasons"]) if kept else "",
                )
            )
    render.table(
        ["Group", "ID", "Name", "Email", "Phone", "Company", "Why"],
        rows,
        justify={"Group": "right", "ID": "right"},
    )


def merge(
    ctx: typer.Context,
    keep_id: Annotated[int, typer.Argument(metavar="KEEP_ID", help="The lead to keep.")],
    dup_ids: Annotated[
        list[int], typer.Argument(metavar="DUP_ID...", help="Leads to merge into it.")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Merge duplicates into KEEP_ID: fill its blanks, move their history, archive them."""
    from leadctl import leads, merging, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=True) as session:
        lead = merging.merge(session, users.actor(session, app.actor), keep_id, dup_ids)
    if json_out:
        render.emit_json(leads.to_dict(lead))
        return
    merged = ", ".join(str(i) for i in dict.fromkeys(dup_ids))
    render.message(f"merged lead{'s' if len(dup_ids) > 1 else ''} {merged} into lead {lead.id}")
