"""`events`: the outbox read, followed, acknowledged, delivered; and the
delivery every command that made events ends with (:func:`deliver_after`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadctl.cli.state import JsonOpt, state

if TYPE_CHECKING:
    from leadctl.cli.state import AppState

POLL_SECONDS = 1.0  # how often --follow looks for new events
FOLLOW_BATCH = 1000  # events --follow reads at a time


def register(app: typer.Typer) -> None:
    app.command("events")(events)


def events(
    ctx: typer.Context,
    since: Annotated[
        int | None,
        typer.Option("--since", metavar="ID", help="Only events after this id."),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Keep printing new events (Ctrl-C stops)."),
    ] = False,
    ack: Annotated[
        int | None,
        typer.Option("--ack", metavar="ID", help="Acknowledge (drop) every event up to this id."),
    ] = None,
    deliver: Annotated[
        bool,
        typer.Option("--deliver", help="Run hook_command on the events now (a cron retry)."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """The event outbox: unacknowledged events, one JSON object a line."""
    from leadctl import events as outbox
    from leadctl import users
    from leadctl.cli import render

    if (ack is not None or deliver) and (follow or since is not None):
        raise typer.BadParameter("--ack and --deliver go without --since and --follow")
    if ack is not None and deliver:
        raise typer.BadParameter("--ack and --deliver are two commands: give one")
    if follow and json_out:
        raise typer.BadParameter("--follow prints one JSON object a line; --json prints one array")
    app = state(ctx)
    if ack is not None:
        with app.session() as session:
            outbox.require_handler(users.actor(session, app.actor))
            gone = outbox.ack(session, ack)
        if json_out:
            render.emit_json({"acknowledged": gone, "through": ack})
        else:
            render.message(f"acknowledged {gone} event{'s' if gone != 1 else ''} (through {ack})")
        return
    if deliver:
        with app.session(immediate=False) as session:
            outbox.require_handler(users.actor(session, app.actor))
        done = outbox.deliver(app.database)
        if json_out:
            render.emit_json(
                {"delivered": done.delivered, "left": done.left, "failed": done.failed}
            )
        _report(done, quiet=json_out)
        return
    with app.session(immediate=False) as session:
        outbox.require_reader(users.actor(session, app.actor))
        if json_out:
            render.emit_json(outbox.pending(session, since=since))
            return
        while True:  # JSON Lines as they are read, a thousand at a time
            found = outbox.pending(session, since=since, limit=FOLLOW_BATCH)
            _print(found)
            if found:
                since = found[-1]["id"]
            if len(found) < FOLLOW_BATCH:
                break
    if follow:
        _follow(app, since)


def _print(found: list[dict[str, Any]]) -> None:
    import json

    sys.stdout.write("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in found))
    sys.stdout.flush()


def _follow(app: AppState, since: int | None) -> None:
    """Poll for new events until Ctrl-C or SIGTERM (exit 0) or a closed pipe
    (``leadctl events -f | head``; the command line's handler: exit 0). Each
    poll is a short read of its own: no transaction stays open between."""
    import signal
    import time

    from leadctl import events as outbox

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            with app.database.session() as session:
                found = outbox.pending(session, since=since, limit=FOLLOW_BATCH)
            if found:
                _print(found)
                since = found[-1]["id"]
            if len(found) < FOLLOW_BATCH:
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def deliver_after(app: AppState) -> None:
    """After a command: when it made events (or ran a rule), hand the pending
    ones to ``hook_command``. Its committed change stands whatever happens
    here: a failure is one warning line, the exit code stays the command's."""
    from leadctl import events as outbox
    from leadctl.errors import LeadctlError

    database = app.opened
    if database is None or not outbox.written(database.engine.url):
        return
    try:
        done = outbox.deliver(database)
    except LeadctlError as error:
        from leadctl.cli import render

        render.message(f"warning: events not delivered ({error}); they stay in the outbox")
        return
    _report(done, quiet=True)


def _report(done: Any, *, quiet: bool) -> None:
    from leadctl.cli import render

    if done.failed is not None:
        render.message(
            f"warning: hook_command failed ({done.failed}): "
            f"{done.left} event{' stays' if done.left == 1 else 's stay'} in the outbox, "
            "sent again on the next run"
        )
    elif not quiet:
        if done.skipped and not done.delivered:
            render.message(f"nothing delivered: {done.skipped}")
        else:
            render.message(f"delivered {done.delivered} event{'s' if done.delivered != 1 else ''}")
