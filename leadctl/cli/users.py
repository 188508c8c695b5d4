"""`user add|list|remove|role|away|back|set`: who may use a shared database,
as what, and who can take leads now (docs/routing.md)."""

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
    group.command("away")(away)
    group.command("back")(back)
    group.command("set")(set_command)
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
    """List users with their role, leads, availability and routing."""
    from leadctl import availability, clock, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=False) as session:  # any user may list them
        rows = users.list_users(session)
        roster = availability.Roster.load(session.connection())
        away_from = {u.name: u.away_from for u in session.exec(_all_users())}
    if json_out:
        render.emit_json(
            [
                _user_dict(row)
                | {"owned": row.owned, "claimed": row.claimed}
                | availability.to_dict(roster.members[row.name], away_from.get(row.name))
                for row in rows
            ]
        )
        return
    if not rows:
        render.message("no users: solo mode, everyone may do everything (`leadctl user add`)")
        return
    members = [roster.members[r.name] for r in rows]
    # Away, Territory and Industries only when someone is away or has routing values
    away = any(m.away for m in members)
    routed = any(m.territory or m.industries for m in members)
    columns = ["Name", "Role", "Owns", "Open", "Claims"]
    columns += (["Away"] if away else []) + (["Territory", "Industries"] if routed else [])
    table = []
    for r, member in zip(rows, members, strict=True):
        cells = [render.escape(r.name), r.role, r.owned, _open(member), r.claimed]
        if away:
            cells.append(_away(member))
        if routed:
            cells += [render.escape(", ".join(v)) for v in (member.territory, member.industries)]
        table.append((*cells, clock.local(r.created_at)))
    columns.append("Added")
    render.table(columns, table, justify={"Owns": "right", "Open": "right", "Claims": "right"})


def _all_users() -> Any:
    from sqlmodel import select

    from leadctl.models import User

    return select(User)


def _open(member: Any) -> str:
    """Open leads, and the capacity when there is one: ``3/5``."""
    return str(member.load) + (f"/{member.capacity}" if member.capacity is not None else "")


def _away(member: Any) -> str:
    from leadctl import clock

    if not member.away:
        return ""
    return f"until {clock.local(member.away_until)}" if member.away_until else "yes"


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


def away(
    ctx: typer.Context,
    name: NameArg,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            metavar="WHEN",
            help="Back at this time (as `schedule` takes it); default: until `user back`.",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Mark a user away from now: round-robin and routing pass them by (yourself, or admin)."""
    from leadctl import availability, clock, users
    from leadctl.cli import render

    app = state(ctx)
    back_at = clock.parse_when(until, "--until") if until is not None else None
    with app.session(immediate=True) as session:
        user = availability.set_away(session, users.actor(session, app.actor), name, back_at)
        shown = _user_dict(user) | availability.describe(session, user)
    if json_out:
        render.emit_json(shown)
        return
    when = f"until {clock.local(user.away_until)}" if user.away_until else "until `user back`"
    render.message(f"{user.name} is away {when}")


def back(ctx: typer.Context, name: NameArg, json_out: JsonOpt = False) -> None:
    """Mark a user available again (yourself, or admin)."""
    from leadctl import availability, users
    from leadctl.cli import render

    app = state(ctx)
    with app.session(immediate=True) as session:
        user, was_away = availability.set_back(session, users.actor(session, app.actor), name)
        shown = _user_dict(user) | availability.describe(session, user)
    if json_out:
        render.emit_json(shown)
    else:
        render.message(f"{user.name} is back" if was_away else f"{user.name} was not away")


def set_command(
    ctx: typer.Context,
    name: NameArg,
    capacity: Annotated[
        str | None,
        typer.Option(
            "--capacity",
            metavar="N",
            help="Most open leads round-robin gives them; none: no limit.",
            show_default=False,
        ),
    ] = None,
    territory: Annotated[
        list[str] | None,
        typer.Option(
            "--territory",
            metavar="T",
            help="Countries or regions they cover (repeat or comma-separate; none clears).",
            show_default=False,
        ),
    ] = None,
    industries: Annotated[
        list[str] | None,
        typer.Option(
            "--industries",
            metavar="I",
            help="Industries they cover (repeat or comma-separate; none clears).",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Set a user's capacity, territory and industries (admin); each replaces what was set."""
    from leadctl import availability, users
    from leadctl.cli import render

    if capacity is None and territory is None and industries is None:
        raise typer.BadParameter("give --capacity, --territory or --industries")
    app = state(ctx)
    limit = (
        availability.parse_capacity(capacity) if capacity is not None else availability.UNCHANGED
    )
    regions = availability.parse_values(territory, "--territory") if territory is not None else None
    kinds = (
        availability.parse_values(industries, "--industries") if industries is not None else None
    )
    with app.session(immediate=True) as session:
        user = availability.set_routing(
            session,
            users.actor(session, app.actor),
            name,
            capacity=limit,
            territory=regions,
            industries=kinds,
        )
        shown = _user_dict(user) | availability.describe(session, user)
    if json_out:
        render.emit_json(shown)
        return
    parts = [f"capacity {shown['capacity'] if shown['capacity'] is not None else 'none'}"]
    parts.append("territory " + (", ".join(shown["territory"]) or "none"))
    parts.append("industries " + (", ".join(shown["industries"]) or "none"))
    render.message(f"{user.name}: " + "; ".join(parts))


def _user_dict(user: Any) -> dict[str, Any]:
    from leadctl.clock import iso

    return {"name": user.name, "role": user.role, "created_at": iso(user.created_at)}
