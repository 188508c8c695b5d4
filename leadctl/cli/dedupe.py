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
        groups = merging.find_groups(session, users.visible_clauses(who))
        found = {g.keep: [leads.get(session, i) for i in g.ids] for g in groups}
        if merge_all and groups:
            users.require_permission(
                who, "manage", "merge leads", [lead for g in found.values() for lead in g]
            )
            for group in groups:
                merging.merge(session, group.keep, group.ids[1:], actor=app.actor)
        data = [
            {
                "keep": g.keep,
                "ids": g.ids,
                "reasons": g.reasons,
                "merged": merge_all,
                "leads": [leads.to_dict(lead) for lead in found[g.keep]],
            }
            for g in groups
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
        who = users.actor(session, app.actor)
        involved = [leads.get(session, i) for i in (keep_id, *dup_ids)]
        users.require_permission(who, "manage", "merge leads", involved)
        for lead in involved:
            users.require_visible(who, lead)
        lead = merging.merge(session, keep_id, dup_ids, actor=app.actor)
    if json_out:
        render.emit_json(leads.to_dict(lead))
        return
    merged = ", ".join(str(i) for i in dict.fromkeys(dup_ids))
    render.message(f"merged lead{'s' if len(dup_ids) > 1 else ''} {merged} into lead {lead.id}")
