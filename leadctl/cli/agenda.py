"""`next`: what to do now, one screen, each line with the action it needs."""

import sys
from typing import Annotated

import typer

from leadctl.cli.state import JsonOpt, state

ACTION_LABELS = {
    "overdue_call": "call (overdue)",
    "due_call": "call today",
    "first_contact": "first contact",
    "claim_expiring": "claim expiring",
    "hot_no_call": "schedule a call",
}


def register(app: typer.Typer) -> None:
    app.command("next")(next_command)


def next_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="At most this many lines (0 = all).")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Your work now: overdue calls, calls today, new leads to contact (oldest
    first), your claims about to expire, hot leads with no next call.

    Quiet (exit 0) when there is nothing to do; --json for a cron digest."""
    from leadctl import agenda, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=False) as session:
        todo = agenda.agenda(session, users.actor(session, app.actor), limit=limit or None)
    if json_out:
        render.emit_json([agenda.to_dict(item) for item in todo.items])
    elif todo.items:
        render.table(
            ["ID", "Action", "Name", "Why", "Contact"],
            [
                (
                    item.lead.id,
                    render.styled(ACTION_LABELS[item.action], ACTION_STYLE),
                    item.lead.name,
                    item.detail,
                    item.lead.phone or item.lead.email,
                )
                for item in todo.items
            ],
            justify={"ID": "right"},
        )
    elif sys.stdout.isatty() and sys.stderr.isatty():
        render.message("nothing to do now")
    if todo.more:
        render.message(f"showing the first {len(todo.items):,} (--limit 0 for all)")


ACTION_STYLE = {"call (overdue)": "bold red", "call today": "yellow", "claim expiring": "magenta"}
