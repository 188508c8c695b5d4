"""`sweep`: the one cron job (``leadctl.sweep``)."""

from typing import Annotated

import typer

from leadctl.cli.state import JsonOpt, state


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)


def sweep(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what it would do; write nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run the rules (for cron): release expired claims, escalate rotting leads,
    move idle ones to nurture, set first calls, bring stages up to date.

    Quiet when there was nothing to do; else one line on stderr (--json: the
    counts on stdout, always)."""
    from leadctl import sweep as sweeping
    from leadctl.cli import render

    app = state(ctx)
    result = sweeping.run(app.database, app.actor, dry_run=dry_run)
    counts = result.counts()
    if json_out:
        render.emit_json(counts)
        return
    said = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items())
    if dry_run:
        render.line(f"would sweep: {said}")
    elif result.changed:
        render.message(f"sweep: {said}")
