"""`undo`: revert the acting user's last command."""

import typer

from leadctl.cli.state import JsonOpt, state


def register(app: typer.Typer) -> None:
    app.command("undo")(undo)


def undo(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Revert your last change (one command's worth; again: the one before)."""
    from leadctl import undo as undoing
    from leadctl import users
    from leadctl.cli import render

    app = state(ctx)
    with app.session() as session:
        who = users.actor(session, app.actor)
        done = undoing.undo(session, who)
    if json_out:
        render.emit_json({"undone": done.text, "leads": done.leads})
    else:
        render.message(f"undone: {done.text}")
