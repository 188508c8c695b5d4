"""SPEC's permission table, command by command, role by role, lead by lead.

Leads: ``mine`` (owned by the actor), ``pool`` (unowned, free), ``held`` (unowned,
on rita's live claim) and ``ritas`` (owned by rita, a rep). Expected exit codes
are given in that order; ``-`` where the case cannot arise (a viewer owns nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadctl import activities, claims, clients, leads, pipeline, scoring, users
from leadctl.errors import LeadctlError, PermissionDenied
from leadctl.storage import open_database

KINDS = ["mine", "pool", "held", "ritas"]
ACTORS = {"admin": "ann", "manager": "meg", "rep": "rob", "viewer": "vic", "solo": "tester"}
WORK = {"admin": "0000", "manager": "0000", "rep": "0034", "viewer": "-444", "solo": "0000"}
EXPECT = {
    "show": {"admin": "0000", "manager": "0000", "rep": "0004", "viewer": "-000", "solo": "0000"},
    "status": WORK,
    "note": WORK,
    "log": WORK,
    "schedule": WORK,
    "edit": WORK,
    "assign": WORK,
    "convert": WORK,
    "score": WORK,
    "claim": {"admin": "3033", "manager": "3033", "rep": "3034", "viewer": "-444", "solo": "3033"},
    "release": {
        "admin": "0300",
        "manager": "0300",
        "rep": "0334",
        "viewer": "-444",
        "solo": "0300",
    },
}
ARGS = {
    "show": [],
    "status": ["contacted"],
    "note": ["hello"],
    "log": ["--type", "call"],
    "schedule": ["tomorrow"],
    "edit": ["--title", "CTO"],
    "assign": ["--to", "meg"],
    "convert": ["--no-deal"],
    "score": ["--adjust", "5", "--reason", "met them"],
    "claim": [],
    "release": [],
}


def build(cli, role):
    """Users (unless solo) and the four leads; returns the acting name and lead ids."""
    boss = ["--as", "ann"] if role != "solo" else []
    if role != "solo":
        cli("user", "add", "ann", "--role", "admin")
        for name, user_role in (
            ("meg", "manager"),
            ("rob", "rep"),
            ("rita", "rep"),
            ("vic", "viewer"),
        ):
            cli(*boss, "user", "add", name, "--role", user_role)
    actor = ACTORS[role]
    ids = {}
    for kind in KINDS:
        if kind == "mine" and role == "viewer":
            continue
        args = [*boss, "add", kind.title(), "--email", f"{kind}@example.com"]
        if kind == "mine":
            args += ["--assign", actor]
        if kind == "ritas":
            args += ["--assign", "rita"]
        ids[kind] = cli.json(*args)["id"]
    cli("--as", "rita", "claim", ids["held"])
    return actor, ids


@pytest.mark.parametrize("role", list(ACTORS))
@pytest.mark.parametrize("command", list(EXPECT))
def test_permission_table(cli, role, command):
    actor, ids = build(cli, role)
    for kind, expected in zip(KINDS, EXPECT[command][role], strict=True):
        if expected == "-":
            continue
        result = cli("--as", actor, command, ids[kind], *ARGS[command], code=int(expected))
        if expected == "4":
            assert "permission" in result.stderr
            timeline = cli.json("--as", "ann", "show", ids[kind])["activities"]
            denied = [a for a in timeline if a["kind"] == "denied"]
            assert [a["actor"] for a in denied] == [actor]
            assert denied[0]["body"] == result.stderr.removeprefix("error: ").strip()
        if expected == "3" and kind == "held":
            assert "claimed by rita" in result.stderr


# The same table, asked of the core directly: each command's core operation, called
# with the actor in the transaction every command runs in (users.acting), on the
# real database file; the exit code is the one the raised error carries.
CORE: dict[str, Callable[[Any, Any, int], Any]] = {
    "show": lambda session, who, lead_id: leads.history(session, who, lead_id),
    "status": lambda session, who, lead_id: pipeline.change_status(
        session, who, lead_id, "contacted"
    ),
    "note": lambda session, who, lead_id: leads.log_activity(
        session, who, lead_id, "note", body="hello"
    ),
    "log": lambda session, who, lead_id: leads.log_activity(session, who, lead_id, "call"),
    "schedule": lambda session, who, lead_id: leads.schedule(session, who, lead_id, "tomorrow"),
    "edit": lambda session, who, lead_id: leads.edit(session, who, lead_id, {"title": "CTO"}),
    "assign": lambda session, who, lead_id: claims.assign(session, who, [lead_id], "meg"),
    "convert": lambda session, who, lead_id: clients.convert(session, who, lead_id, no_deal=True),
    "score": lambda session, who, lead_id: scoring.adjust(
        session, who, lead_id, 5, reason="met them"
    ),
    "claim": lambda session, who, lead_id: claims.claim(session, who, [lead_id]),
    "release": lambda session, who, lead_id: claims.release(session, who, lead_id),
}


def test_the_core_covers_every_command_of_the_table():
    assert set(CORE) == set(EXPECT)


@pytest.mark.parametrize("role", list(ACTORS))
@pytest.mark.parametrize("command", list(EXPECT))
def test_permission_table_in_the_core(cli, db_target, role, command):
    actor, ids = build(cli, role)
    database = open_database(db_target)
    try:
        for kind, expected in zip(KINDS, EXPECT[command][role], strict=True):
            if expected == "-":
                continue
            error: LeadctlError | None = None
            try:
                with users.acting(database, actor, immediate=True) as session:
                    who = users.actor(session, actor)
                    CORE[command](session, who, ids[kind])
            except LeadctlError as raised:
                error = raised
            code = error.exit_code if error else 0
            assert code == int(expected), f"{command} {kind} as {role}: {error}"
            with database.session() as session:
                timeline = activities.timeline(session, [ids[kind]])
            denied = [a for a in timeline if a.kind == "denied"]
            if expected == "4":  # recorded by the core, after the rollback
                assert "permission" in str(error)
                assert [(a.actor, a.body) for a in denied] == [(actor, str(error))]
            else:
                assert denied == []
            if expected == "3" and kind == "held":
                assert "claimed by rita" in str(error)
    finally:
        database.close()


def test_a_refused_command_changes_nothing_but_records_the_refusal(cli, db_target):
    """All or nothing: the pool lead is not assigned when rita's lead is refused."""
    actor, ids = build(cli, "rep")
    database = open_database(db_target)
    with (
        pytest.raises(PermissionDenied, match="may not see lead"),
        users.acting(database, actor, immediate=True) as session,
    ):
        claims.assign(session, users.actor(session, actor), [ids["pool"], ids["ritas"]], "me")
    database.close()
    assert cli.json("--as", "ann", "show", ids["pool"])["owner"] is None
    kinds = [a["kind"] for a in cli.json("--as", "ann", "show", ids["ritas"])["activities"]]
    assert kinds[-1] == "denied"


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("admin", {"mine", "pool", "held", "ritas"}),
        ("manager", {"mine", "pool", "held", "ritas"}),
        ("viewer", {"pool", "held", "ritas"}),
        ("rep", {"mine", "pool", "held"}),
        ("solo", {"mine", "pool", "held", "ritas"}),
    ],
)
def test_list_shows_what_the_role_may_see(cli, role, visible):
    actor, ids = build(cli, role)
    names = {lead["name"].lower() for lead in cli.json("--as", actor, "list")}
    assert names == visible
    mine = {lead["name"].lower() for lead in cli.json("--as", actor, "list", "--owner", "me")}
    assert mine == ({"mine"} if "mine" in ids else set())


@pytest.mark.parametrize(
    ("role", "create", "admin"),
    [
        ("admin", 0, 0),
        ("manager", 0, 4),
        ("rep", 0, 4),
        ("viewer", 4, 4),
        ("solo", 0, 0),
    ],
)
def test_create_and_admin_permissions(cli, role, create, admin):
    actor, _ = build(cli, role)
    as_actor = ["--as", actor]
    result = cli(*as_actor, "add", "New Lead", "--email", "new@example.com", code=create)
    if create == 4:
        assert "lacks the create permission" in result.stderr
    cli(*as_actor, "config", "set", "claim_hours", "12", code=admin)
    cli(*as_actor, "statuses", "add", "demo", code=admin)
    if role != "solo":
        cli(*as_actor, "user", "add", "newbie", "--role", "rep", code=admin)


@pytest.mark.parametrize("role", ["admin", "manager", "rep", "viewer"])
def test_next_and_release_expired_need_manage(cli, role):
    actor, _ = build(cli, role)
    code = 4 if role == "viewer" else 0
    cli("--as", actor, "claim", "--next", code=code)
    cli("--as", actor, "claim", "--release-expired", code=code)


def test_reopen_needs_admin_and_the_refusal_is_recorded(cli):
    actor, ids = build(cli, "manager")
    cli("--as", "ann", "status", ids["pool"], "lost", "--reason", "Other")
    cli("--as", actor, "status", ids["pool"], "contacted", "--reopen", code=4)
    kinds = [a["kind"] for a in cli.json("--as", "ann", "show", ids["pool"])["activities"]]
    assert kinds[-1] == "denied"
    cli("--as", "ann", "status", ids["pool"], "contacted", "--reopen")
