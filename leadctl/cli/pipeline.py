"""`status`, `note`, `log`, `schedule`: moving leads and recording contact,
on one lead or many (ids, or ``-`` for ids on stdin)."""

from typing import TYPE_CHECKING, Annotated

import typer

from leadctl.cli.bulk import IDS_HELP, DryRunOpt
from leadctl.cli.state import JsonOpt, state

if TYPE_CHECKING:
    from leadctl.bulk import Plan


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("note")(note)
    app.command("log")(log)
    app.command("schedule")(schedule)


def _split(args: list[str], what: str) -> tuple[list[str], str]:
    """The ids and the last argument (STATUS, TEXT, WHEN): at least one id first."""
    if len(args) < 2:
        raise typer.BadParameter(f"give one or more lead ids (or -), then {what}")
    return args[:-1], args[-1]


def status(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="ID... [STATUS]",
            help="Lead ids (or - for ids on stdin), then the status to move them to; "
            "one id alone shows its status and history.",
            show_default=False,
        ),
    ],
    reason: Annotated[
        str | None, typer.Option(help="Lost reason (needed for final statuses).")
    ] = None,
    reopen: Annotated[bool, typer.Option(help="Change a final status (admin).")] = False,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Change leads' status (all or none), or show one lead's status and history."""
    from leadctl import pipeline, users
    from leadctl.cli import bulk

    if len(args) == 1 and args[0] != "-":
        _show_status(ctx, args[0], json_out)
        return
    given, new_status = _split(args, "STATUS")
    ids, as_list = bulk.lead_ids(given)
    app = state(ctx)
    with app.session() as session:
        who = users.actor(session, app.actor)
        plan = pipeline.change_statuses(
            session, who, ids, new_status, reason=reason, reopen=reopen, dry_run=dry_run
        )
        shown = bulk.show(session, plan, ids, as_list=as_list, dry_run=dry_run, json_out=json_out)
    target = plan.changes[0].values["status"] if plan.changes else new_status
    bulk.report(
        plan,
        shown,
        lambda lead: f"lead {lead.id} is now {lead.status}",
        f"now {target}",
        as_list=as_list,
        json_out=json_out,
        dry_run=dry_run,
        unchanged=f"already {target}",
    )


def _show_status(ctx: typer.Context, arg: str, json_out: bool) -> None:
    from leadctl import leads, users
    from leadctl.cli import bulk, render

    (lead_id,), _ = bulk.lead_ids([arg])
    app = state(ctx)
    with app.session(immediate=False) as session:
        lead, timeline = leads.history(session, users.actor(session, app.actor), lead_id)
        history = [a for a in timeline if a.field == "status"]
    if json_out:
        render.emit_json(leads.to_dict(lead))
        return
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
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="ID... TEXT", help="Lead ids (or -), then the note.", show_default=False
        ),
    ],
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Add a note to leads' timelines."""
    given, text = _split(args, "TEXT")
    _log(ctx, given, "note", body=text, outcome=None, next_call=None, dry_run=dry_run,
         json_out=json_out)  # fmt: skip


def log(
    ctx: typer.Context,
    args: Annotated[list[str], typer.Argument(metavar="ID...", help=IDS_HELP, show_default=False)],
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
    next_call: Annotated[
        str | None,
        typer.Option(
            "--next",
            help="Set the next call too ('friday 10:00', '+3d', ISO).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Log a contact or an engagement (engagements feed behavioural scoring); a
    call, email or meeting clears a next call due today or earlier."""
    from leadctl.activities import LOG_KINDS
    from leadctl.errors import invalid_choice

    if kind not in LOG_KINDS:
        raise invalid_choice("--type", kind, LOG_KINDS)
    _log(ctx, args, kind, body=note_text, outcome=outcome, next_call=next_call, dry_run=dry_run,
         json_out=json_out)  # fmt: skip


def _log(
    ctx: typer.Context,
    given: list[str],
    kind: str,
    *,
    body: str | None,
    outcome: str | None,
    next_call: str | None,
    dry_run: bool,
    json_out: bool,
) -> None:
    from leadctl import activities, followup, users
    from leadctl.cli import bulk, render

    ids, as_list = bulk.lead_ids(given)
    app = state(ctx)
    with app.session() as session:
        who = users.actor(session, app.actor)
        plan = followup.log(
            session, who, ids, kind, body=body, outcome=outcome, next_call=next_call,
            dry_run=dry_run,
        )  # fmt: skip
        if as_list or dry_run:
            shown = bulk.show(
                session, plan, ids, as_list=as_list, dry_run=dry_run, json_out=json_out
            )
        else:
            activity = followup.last_activity(session, ids[0], kind) if ids else None
    if dry_run:
        if json_out:
            bulk.emit(shown, as_list=as_list)
        else:
            bulk.dry_run_lines(plan)
    elif as_list:
        if json_out:
            bulk.emit(shown, as_list=True)
        else:
            bulk.said(plan, shown, lambda lead: f"lead {lead.id}: logged {kind}", f"logged {kind}")
    elif json_out and activity is not None:
        render.emit_json(activities.activity_to_dict(activity))
    else:
        render.message(f"lead {ids[0]}: logged {kind}")
        _say_next_call(plan)


def _say_next_call(plan: "Plan") -> None:
    """After one lead's log: what became of its next call, when anything did."""
    from leadctl.cli import render

    for change in plan.changes:
        if "next_call_at" in change.values:
            when = change.values["next_call_at"]
            render.message(
                f"lead {change.lead_id}: next call {render.local(when)}"
                if when is not None
                else f"lead {change.lead_id}: next call cleared"
            )


def schedule(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="ID... [WHEN]",
            help="Lead ids (or -), then ISO date/time, 'today 15:00', 'tomorrow', '+3d', "
            "'monday 10:00' (no WHEN with --clear).",
            show_default=False,
        ),
    ],
    clear: Annotated[bool, typer.Option("--clear", help="Remove the next call.")] = False,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Schedule the next call with leads, or clear it."""
    from leadctl import followup, users
    from leadctl.cli import bulk, render

    given, when = (args, None) if clear else _split(args, "WHEN")
    ids, as_list = bulk.lead_ids(given)
    app = state(ctx)
    with app.session() as session:
        plan = followup.schedule(
            session, users.actor(session, app.actor), ids, when, dry_run=dry_run
        )
        shown = bulk.show(session, plan, ids, as_list=as_list, dry_run=dry_run, json_out=json_out)
    bulk.report(
        plan,
        shown,
        lambda lead: (
            f"lead {lead.id}: next call {render.local(lead.next_call_at)}"
            if lead.next_call_at is not None
            else f"lead {lead.id}: no next call"
        ),
        "with the next call cleared" if clear else f"with the next call {when}",
        as_list=as_list,
        json_out=json_out,
        dry_run=dry_run,
        unchanged="unchanged" if not clear else "had none",
    )
