"""`user add|list|remove|role`, solo mode and the acting user."""

from __future__ import annotations

import pytest


@pytest.fixture
def team(cli):
    """An admin (the acting user, via LEADCTL_USER), a manager, two reps and a viewer."""
    cli("user", "add", "tester", "--role", "admin")
    for name, role in (("meg", "manager"), ("rob", "rep"), ("rita", "rep"), ("vic", "viewer")):
        cli("user", "add", name, "--role", role)


def test_solo_mode_until_the_first_user(cli, add_lead):
    assert "solo mode" in cli("user", "list").stderr
    assert cli.json("user", "list") == []
    add_lead()
    cli("--as", "anyone", "list")


def test_the_first_user_must_be_an_admin(cli):
    result = cli("user", "add", "rob", "--role", "rep", code=1)
    assert "first user must be an admin" in result.stderr
    added = cli.json("user", "add", "ann", "--role", "admin")
    assert added == {"name": "ann", "role": "admin", "created_at": "2026-11-23T09:00:00Z"}


def test_first_admin_who_is_not_the_actor_gets_a_hint(cli):
    result = cli("user", "add", "ann", "--role", "admin")
    assert "use --as ann or LEADCTL_USER=ann" in result.stderr
    cli("list", code=4)
    cli("--as", "ann", "list")


def test_invalid_roles_and_names(cli, team):
    assert "admin, manager, rep, viewer" in cli("user", "add", "x", "--role", "boss", code=1).stderr
    cli("user", "add", "me", "--role", "rep", code=1)
    cli("user", "add", "a,b", "--role", "rep", code=1)
    cli("user", "add", "two words", "--role", "rep", code=1)
    cli("user", "add", "rob", "--role", "rep", code=3)
    cli("user", "add", "x", code=2)  # --role is required


def test_user_list_shows_roles_and_load(cli, team, add_lead):
    lead = add_lead("Ada Lovelace", "--assign", "rob")
    other = add_lead("Grace Hopper")
    cli("--as", "rita", "claim", other["id"])
    rows = {u["name"]: u for u in cli.json("user", "list")}
    assert rows["rob"] == {
        "name": "rob",
        "role": "rep",
        "created_at": "2026-11-23T09:00:00Z",
        "owned": 1,
        "claimed": 0,
        # issue 15: availability, capacity and routing (SPEC: "once those exist")
        "away": False,
        "away_from": None,
        "away_until": None,
        "capacity": None,
        "territory": [],
        "industries": [],
        "open_leads": 1,
    }
    assert rows["rita"]["claimed"] == 1
    assert lead["owner"] == "rob"
    table = cli("user", "list").stdout
    assert "Name" in table and "rita" in table and "viewer" in table


def test_only_admins_manage_users(cli, team):
    result = cli("--as", "meg", "user", "add", "zed", "--role", "rep", code=4)
    assert "lacks the admin permission" in result.stderr
    cli("--as", "rob", "user", "remove", "rita", code=4)
    cli("--as", "vic", "user", "role", "rob", "admin", code=4)


def test_unknown_acting_user_is_refused_everywhere(cli, team, add_lead):
    lead = add_lead()
    for args in (["list"], ["show", lead["id"]], ["claim", "--next"], ["user", "list"]):
        result = cli("--as", "stranger", *args, code=4)
        assert "'stranger' is not a leadctl user" in result.stderr


def test_remove_user_releases_claims_and_keeps_owned_leads(cli, team, add_lead):
    owned = add_lead("Ada Lovelace", "--assign", "rob")["id"]
    held = add_lead("Grace Hopper")["id"]
    cli("--as", "rob", "claim", held)
    result = cli.json("user", "remove", "rob")
    assert result == {"removed": "rob", "released": [held], "owned": 1}
    assert cli.json("show", held)["claimed_by"] is None
    assert cli.json("show", owned)["owner"] == "rob"
    cli("user", "remove", "rob", code=1)
    cli("--as", "rob", "list", code=4)


def test_the_last_admin_stays_while_others_exist(cli, team):
    assert "last admin" in cli("user", "remove", "tester", code=3).stderr
    assert "last admin" in cli("user", "role", "tester", "rep", code=3).stderr
    assert cli.json("user", "role", "meg", "admin")["role"] == "admin"
    cli("user", "role", "tester", "rep")
    cli("--as", "meg", "user", "remove", "tester")


def test_removing_the_only_user_returns_to_solo_mode(cli):
    cli("user", "add", "tester", "--role", "admin")
    cli("user", "remove", "tester")
    cli("--as", "anyone", "list")


def test_assign_checks_the_user_exists_and_may_own(cli, team, add_lead):
    lead = add_lead()["id"]
    assert "unknown user 'zed'" in cli("assign", lead, "--to", "zed", code=1).stderr
    assert "viewer" in cli("assign", lead, "--to", "vic", code=1).stderr
    cli("assign", lead, "--round-robin", "rob,zed", code=1)
    assert cli.json("assign", lead, "--to", "rob")["owner"] == "rob"


def test_every_command_refuses_a_non_user_once_users_exist(cli):
    cli("user", "add", "boss", "--role", "admin")
    for args in (["statuses"], ["config", "get"], ["backup", "/tmp/never-written.db"]):
        result = cli("--as", "stranger", *args, code=4)
        assert "stranger" in result.stderr


def test_backup_needs_view_all(cli, tmp_path):
    cli("user", "add", "boss", "--role", "admin")
    cli("--as", "boss", "user", "add", "rita", "--role", "rep")
    assert "view_all" in cli("--as", "rita", "backup", str(tmp_path / "b.db"), code=4).stderr
    assert not (tmp_path / "b.db").exists()
    cli("--as", "boss", "backup", str(tmp_path / "b.db"))
