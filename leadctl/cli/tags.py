"""`tag ID… +T -T`: add and remove tags on leads, all or none."""

from typing import Annotated, Any

import typer

from leadctl.cli.bulk import DryRunOpt
from leadctl.cli.state import JsonOpt, state

# `-cold` is a tag to remove, not an option: unknown options stay arguments, and
# -h is no help flag here (`-hot` would be read as -h -o -t).
SETTINGS = {"ignore_unknown_options": True, "help_option_names": ["--help"]}


def register(app: typer.Typer) -> None:
    app.command("tag", context_settings=SETTINGS)(tag)


def tag(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="ID... +TAG... -TAG...",
            help="Lead ids (or - for ids on stdin), then +TAG to add and -TAG to remove "
            "(removal ignores case).",
            show_default=False,
        ),
    ],
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Add (+TAG) and remove (-TAG) tags on leads."""
    from leadctl import editing, users
    from leadctl.cli import bulk

    given = [a for a in args if a == "-" or not a.startswith(("+", "-"))]
    add = [a[1:] for a in args if a.startswith("+")]
    remove = [a[1:] for a in args if a.startswith("-") and a != "-"]
    if any(r.startswith("-") for r in remove):
        bad = next(r for r in remove if r.startswith("-"))
        raise typer.BadParameter(f"no such option: -{bad} (tags to remove are written -TAG)")
    if not given:
        raise typer.BadParameter("give one or more lead ids (or -), then +TAG or -TAG")
    ids, as_list = bulk.lead_ids(given)
    app = state(ctx)
    with app.session() as session:
        who = users.actor(session, app.actor)
        plan = editing.tag(session, who, ids, add, remove, dry_run=dry_run)
        shown = bulk.show(session, plan, ids, as_list=as_list, dry_run=dry_run, json_out=json_out)
    bulk.report(
        plan,
        shown,
        _tags_line,
        "retagged",
        as_list=as_list,
        json_out=json_out,
        dry_run=dry_run,
        unchanged="already so",
    )


def _tags_line(lead: Any) -> str:
    import json

    return f"lead {lead.id}: tags {', '.join(json.loads(lead.tags)) or 'none'}"
