"""`status`, `note`, `log`, `schedule`: moving a lead and recording contact."""

from typing import Annotated

import typer

from leadctl.cli.state import IdArg, JsonOpt, state


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("note")(note)
    app.command("log")(log)
    app.command("schedule")(schedule)


def status(
    ctx: typer.Context,
    lead_id: IdArg,
    new_status: Annotated[
        str | None, typer.Argument(metavar="[STATUS]", help="Move to this status.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Lost reason (needed for final statuses).")
    ] = None,
    reopen: Annotated[bool, typer.Option(help="Change a final status (admin).")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Change a lead's status, or show its status and history."""
    from leadctl import leads, pipeline, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=new_status is not None) as session:
        who = users.actor(session, app.actor)
        if new_status is not None:
            pipeline.change_status(session, who, lead_id, new_status, reason=reason, reopen=reopen)
        lead, timeline = leads.history(session, who, lead_id)
        history = [a for a in timeline if a.field == "status"]
    if json_out:
        render.emit_json(leads.to_dict(lead))
    elif new_status is not None:
        render.message(f"lead {lead.id} is now {lead.status}")
    else:
        render.message(f"lead {lead.id} is {lead.status}")
        render.table(
            ["When", "From", "To", "By", "Note"],
            [
                (render.local(a.created_at), a.old_value or "", a.new_value, a.actor, a.body or "")
                for a in history
            ],
        )


def note(
    ctx: typer.Context,
    lead_id: IdArg,
    text: Annotated[str, typer.Argument(help="The note.", show_default=False)],
    json_out: JsonOpt = False,
) -> None:
    """Add a note to a lead's timeline."""
    _log(ctx, lead_id, "note", body=text, outcome=None, json_out=json_out)


def log(
    ctx: typer.Context,
    lead_id: IdArg,
    kind: Annotated[
        str,
        typer.Option(
            "--type",
            help="call, email, meeting, task, email_open, email_click, page_view, download "
            "or form_submit.",
            show_default=False,
        ),
    ],
    outcome: Annotated[str | None, typer.Option(help="What came of it.")] = None,
    note_text: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Log a contact or an engagement (engagements feed behavioural scoring)."""
    from leadctl.activities import LOG_KINDS
    from leadctl.errors import invalid_choice

    if kind not in LOG_KINDS:
        raise invalid_choice("--type", kind, LOG_KINDS)
    _log(ctx, lead_id, kind, body=note_text, outcome=outcome, json_out=json_out)


def _log(
    ctx: typer.Context,
    lead_id: int,
    kind: str,
    *,
    body: str | None,
    outcome: str | None,
    json_out: bool,
) -> None:
    from leadctl import activities, leads, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session() as session:
        who = users.actor(session, app.actor)
        activity = leads.log_activity(session, who, lead_id, kind, body=body, outcome=outcome)
    if json_out:
        render.emit_json(activities.activity_to_dict(activity))
    else:
        render.message(f"lead {lead_id}: logged {kind}")


def schedule(
    ctx: typer.Context,
    lead_id: IdArg,
    when: Annotated[
        str,
        typer.Argument(
            help="ISO date/time, 'today 15:00', 'tomorrow', '+3d', 'monday 10:00'.",
            show_default=False,
        ),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Schedule the next call with a lead."""
    from leadctl import leads, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session() as session:
        lead = leads.schedule(session, users.actor(session, app.actor), lead_id, when)
    if json_out:
        render.emit_json(leads.to_dict(lead))
    else:
        render.message(f"lead {lead.id}: next call {render.local(lead.next_call_at)}")
