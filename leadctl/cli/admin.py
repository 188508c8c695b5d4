"""Lists, settings and backup: `statuses`, `sources`, `reasons`, `config`, `backup`."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from leadctl.cli.state import JsonOpt, state

NameArg = Annotated[str, typer.Argument(show_default=False)]


def register(app: typer.Typer) -> None:
    for list_name, command, noun in (
        ("status", "statuses", "pipeline statuses"),
        ("source", "sources", "lead sources"),
        ("lost_reason", "reasons", "lost reasons"),
    ):
        app.add_typer(_list_app(list_name, noun), name=command)
    config = typer.Typer(help="Settings kept in the database.", no_args_is_help=True)
    config.command("get")(config_get)
    config.command("set")(config_set)
    app.add_typer(config, name="config")
    app.command("backup")(backup)
    app.command("copy")(copy)


def _list_app(list_name: str, noun: str) -> typer.Typer:
    """One sub-command group per editable list; the same verbs for each."""
    group = typer.Typer(help=f"Show or edit the {noun}.", invoke_without_command=True)

    @group.callback()
    def show(ctx: typer.Context, json_out: JsonOpt = False) -> None:
        if ctx.invoked_subcommand is None:
            _show(ctx, list_name, json_out)

    @group.command("add")
    def add(
        ctx: typer.Context,
        name: NameArg,
        position: Annotated[int | None, typer.Option(help="1-based place (default last).")] = None,
        role: Annotated[
            str | None,
            typer.Option(
                help="Statuses only: open, side, won or final (default open).",
                hidden=list_name != "status",
            ),
        ] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Add an entry."""
        from leadctl import lists

        if list_name == "status":
            role = role or "open"
        with _acting(ctx) as (session, who):
            lists.add(session, who, list_name, name, position=position, role=role)
        _show(ctx, list_name, json_out)

    @group.command("rename")
    def rename(ctx: typer.Context, old: NameArg, new: NameArg, json_out: JsonOpt = False) -> None:
        """Rename an entry (leads carrying it follow)."""
        from leadctl import lists

        with _acting(ctx) as (session, who):
            lists.rename(session, who, list_name, old, new)
        _show(ctx, list_name, json_out)

    @group.command("remove")
    def remove(ctx: typer.Context, name: NameArg, json_out: JsonOpt = False) -> None:
        """Remove an entry no lead uses."""
        from leadctl import lists

        with _acting(ctx) as (session, who):
            lists.remove(session, who, list_name, name)
        _show(ctx, list_name, json_out)

    if list_name == "status":

        @group.command("role")
        def set_role(
            ctx: typer.Context, name: NameArg, role: NameArg, json_out: JsonOpt = False
        ) -> None:
            """Set a status's role: open, side (like nurture), won or final (needs a reason)."""
            from leadctl import lists

            with _acting(ctx) as (session, who):
                lists.set_role(session, who, name, role)
            _show(ctx, list_name, json_out)

        @group.command("set")
        def set_status(
            ctx: typer.Context,
            name: NameArg,
            rots_after: Annotated[
                str,
                typer.Option(
                    "--rots-after",
                    help="Untouched this long, a lead in the status is rotting: 30m, 2h, 3d, "
                    "1w (a bare number is hours), or off.",
                    show_default=False,
                ),
            ],
            json_out: JsonOpt = False,
        ) -> None:
            """Set how long a lead may sit untouched in an open or side status (admin)."""
            from leadctl import aging

            with _acting(ctx) as (session, who):
                aging.set_rots_after(session, who, name, rots_after)
            _show(ctx, list_name, json_out)

    return group


@contextmanager
def _acting(ctx: typer.Context) -> Iterator[tuple[Any, Any]]:
    """A write transaction and the acting user, whose rights the core checks."""
    from leadctl import users

    app = state(ctx)
    with app.session(immediate=True) as session:
        yield session, users.actor(session, app.actor)


def _show(ctx: typer.Context, list_name: str, json_out: bool) -> None:
    from leadctl import lists
    from leadctl.cli import render

    with state(ctx).session(immediate=False) as session:
        entries = lists.entries(session, list_name)
    if list_name == "status":
        from leadctl import aging

        rots = {e.name: aging.describe(e.rots_after) for e in entries}
        rots |= {e.name: None for e in entries if e.role not in aging.ROTTING_ROLES}
    if json_out:
        keys = ("position", "name", "role") if list_name == "status" else ("position", "name")
        rows = [{k: getattr(e, k) for k in keys} for e in entries]
        if list_name == "status":
            rows = [row | {"rots_after": rots[row["name"]]} for row in rows]
        render.emit_json(rows)
    elif list_name == "status":
        render.table(
            ["#", "Status", "Role", "Rots after"],
            [(e.position, e.name, e.role, rots[e.name] or "") for e in entries],
        )
    else:
        render.table(["#", "Name"], [(e.position, e.name) for e in entries])


def config_get(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(help="Setting (all when omitted).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Show one setting, or all of them."""
    from leadctl import settings
    from leadctl.cli import render

    with state(ctx).session(immediate=False) as session:
        values = {key: settings.get(session, key)} if key else settings.all_settings(session)
    if json_out:
        render.emit_json({k: settings.typed(v) for k, v in values.items()})
    elif key:
        render.line(values[key])
    else:
        render.table(
            ["Key", "Value", "Meaning"],
            [(k, v, settings.KNOWN[k][2]) for k, v in values.items()],
        )


def config_set(
    ctx: typer.Context,
    key: NameArg,
    value: NameArg,
    json_out: JsonOpt = False,
) -> None:
    """Change a setting (admin)."""
    from leadctl import settings
    from leadctl.cli import render

    with _acting(ctx) as (session, who):
        stored = settings.set_value(session, who, key, value)
    if json_out:
        render.emit_json({key: settings.typed(stored)})
    else:
        render.message(f"{key} = {stored}")


def backup(
    ctx: typer.Context,
    destination: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy.")],
    force: Annotated[bool, typer.Option(help="Overwrite FILE if it exists.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write a consistent copy of the database while others keep using it."""
    from leadctl import exporting, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=False) as session:
        who = users.actor(session, app.actor)
    database = app.database
    size = exporting.backup(database, who, destination, overwrite=force)
    if json_out:
        render.emit_json({"backup": str(destination), "bytes": size})
    else:
        render.message(f"backed up {database.shown} to {destination} ({size:,} bytes)")


def copy(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL_OR_PATH",
            help="An empty database: postgresql://… or a SQLite file path (created).",
        ),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Copy the whole database (leads, history, users, settings, clients, deals,
    rules) into an empty one, SQLite or PostgreSQL either way, checked table by table."""
    from leadctl import users
    from leadctl.cli import render
    from leadctl.database import open_database
    from leadctl.errors import InvalidInput
    from leadctl.storage import shown
    from leadctl.storage.copying import copy_database

    if not to.strip():
        raise InvalidInput("--to needs a database: a new file's path or postgresql://…")
    app = state(ctx)
    with app.session(immediate=False) as session:
        users.require_permission(users.actor(session, app.actor), "admin", "copy the database")
    source = app.database
    if shown(to) == source.shown:
        raise InvalidInput("--to names the database being copied; give an empty one")
    target = open_database(to)
    try:
        tables = copy_database(source, target)
    finally:
        target.close()
    if json_out:
        render.emit_json({"tables": tables})
    else:
        total = sum(tables.values())
        render.message(f"copied {total:,} rows in {len(tables)} tables to {target.shown}; checked")
