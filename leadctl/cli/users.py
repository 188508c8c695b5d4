"""`user add|list|remove|role`: who may use a shared database, and as what."""

from typing import Annotated, Any

import typer

from leadctl.cli.state import JsonOpt, state

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="User name.", show_default=False)]
RoleHelp = "admin, manager, rep or viewer."


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Users and roles (none defined = solo mode: everyone may do everything).",
        no_args_is_help=True,
    )
    group.command("add")(add)
    group.command("list")(list_command)
    group.command("remove")(remove)
    group.command("role")(role)
    app.add_typer(group, name="user")


def add(
    ctx: typer.Context,
    name: NameArg,
    role_name: Annotated[
        str, typer.Option("--role", help=RoleHelp, show_default=False, metavar="ROLE")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Add a user (admin); the first user must be an admin."""
    from leadctl import users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=True) as session:
        first = users.is_solo(session)
        user = users.add_user(session, users.actor(session, app.actor), name, role_name)
    if json_out:
        render.emit_json(_user_dict(user))
        return
    render.message(f"added user {user.name} ({user.role})")
    if first and app.actor != user.name:
        render.message(
            f"note: users now exist and you act as {app.actor!r}, who is not one; "
            f"use --as {user.name} or LEADCTL_USER={user.name}"
        )


def list_command(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List users with their role, owned leads and live claims."""
    from leadctl import clock, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=False) as session:  # any user may list them
        rows = users.list_users(session)
    if json_out:
        render.emit_json(
            [_user_dict(row) | {"owned": row.owned, "claimed": row.claimed} for row in rows]
        )
    elif rows:
        render.table(
            ["Name", "Role", "Owns", "Claims", "Added"],
            [
                (render.escape(r.name), r.role, r.owned, r.claimed, clock.local(r.created_at))
                for r in rows
            ],
            justify={"Owns": "right", "Claims": "right"},
        )
    else:
        render.message("no users: solo mode, everyone may do everything (`leadctl user add`)")


def remove(ctx: typer.Context, name: NameArg, json_out: JsonOpt = False) -> None:
    """Remove a user (admin): their claims return to the pool, their leads stay theirs."""
    from leadctl import claims, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=True) as session:
        released, owned = claims.remove_user(session, users.actor(session, app.actor), name)
    if json_out:
        render.emit_json({"removed": name, "released": released, "owned": owned})
        return
    render.message(f"removed user {name}; released {len(released)} claim(s)")
    if owned:
        render.message(f"{owned} lead(s) still owned by {name}: reassign with `leadctl assign`")


def role(
    ctx: typer.Context,
    name: NameArg,
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help=RoleHelp, show_default=False)],
    json_out: JsonOpt = False,
) -> None:
    """Change a user's role (admin)."""
    from leadctl import users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=True) as session:
        user = users.set_role(session, users.actor(session, app.actor), name, new_role)
    if json_out:
        render.emit_json(_user_dict(user))
    else:
        render.message(f"user {user.name} is now {user.role}")


def _user_dict(user: Any) -> dict[str, Any]:
    from leadctl.clock import iso

    return {"name": user.name, "role": user.role, "created_at": iso(user.created_at)}
