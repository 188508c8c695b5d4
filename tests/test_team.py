"""Issue 16, team mode on a server: who acts when each person has their own
server login (item 8), ``backup`` on PostgreSQL through pg_dump (item 7b), and
a server that refuses or drops the connection mid-command (item 9)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import POSTGRES

server_only = pytest.mark.skipif(not POSTGRES, reason="server logins exist on PostgreSQL only")


def schema_of(url: str) -> str:
    """The schema a test's URL names (``options=-csearch_path=NAME``)."""
    options = parse_qs(urlsplit(url).query)["options"][0]
    return options.removeprefix("-csearch_path=")


def with_login(url: str, user: str, password: str) -> str:
    """The same database and schema, logging in as another role."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest.rpartition('@')[2]}"


@pytest.fixture
def login(db_target: str, sql: Callable[..., list]) -> Iterator[Callable[..., str]]:
    """``login(prefix)``: a new server login role (a unique name starting with
    ``prefix``) with the rights a rep's login needs on the test's schema;
    returns its name. The roles are dropped at the end of the test."""
    made: list[str] = []
    schema = schema_of(db_target)

    def make(prefix: str, *, grant: str = "tables") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        sql(f"CREATE ROLE {name} LOGIN PASSWORD 'pw-{name}'")
        made.append(name)
        if grant in ("schema", "tables"):
            sql(f"GRANT USAGE ON SCHEMA {schema} TO {name}")
        if grant == "tables":
            sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}")
            sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}")
        return name

    yield make
    for name in made:
        sql(f"DROP OWNED BY {name}")
        sql(f"DROP ROLE {name}")


def url_of(db_target: str, name: str) -> str:
    return with_login(db_target, name, f"pw-{name}")


@pytest.fixture
def team(cli, monkeypatch):
    """An admin ``boss`` and a rep ``ann`` added through the shared login; no
    LEADCTL_USER (each test says who it asks to be)."""
    cli("--as", "boss", "user", "add", "boss", "--role", "admin")
    cli("--as", "boss", "user", "add", "ann", "--role", "rep")
    monkeypatch.delenv("LEADCTL_USER")
    return cli


def actors(cli, db: str, lead_id: int) -> list[str]:
    shown = cli.json("--db", db, "--as", "boss", "show", str(lead_id))
    return [activity["actor"] for activity in shown["activities"]]


@server_only
def test_a_reps_own_login_is_the_actor(team, db_target, login):
    rep = login("rep")
    team("--as", "boss", "user", "add", rep, "--role", "rep")
    mine = url_of(db_target, rep)
    lead = team.json("--db", mine, "add", "Ada Lovelace", "--email", "ada@example.com")
    team("--db", mine, "--as", rep, "note", str(lead["id"]), "called")  # its own name: fine
    assert actors(team, db_target, lead["id"]) == [rep, rep]
    assert team.json("--db", mine, "claim", str(lead["id"]))["claimed_by"] == rep


@server_only
@pytest.mark.parametrize("how", ["--as", "LEADCTL_USER"])
def test_a_reps_login_cannot_act_as_someone_else(team, db_target, login, monkeypatch, how):
    rep = login("rep")
    team("--as", "boss", "user", "add", rep, "--role", "rep")
    lead = team.json("--as", "boss", "add", "Ada Lovelace", "--email", "ada@example.com")
    mine = url_of(db_target, rep)
    if how == "--as":
        result = team("--db", mine, "--as", "boss", "note", str(lead["id"]), "x", code=4)
    else:
        monkeypatch.setenv("LEADCTL_USER", "ann")
        result = team("--db", mine, "note", str(lead["id"]), "x", code=4)
    other = "boss" if how == "--as" else "ann"
    assert result.stderr == (
        f"error: you log in to the server as {rep!r}, leadctl user {rep!r} (rep): "
        f"only an admin's login may act as {other!r}\n"
    )
    assert actors(team, db_target, lead["id"]) == ["boss"]  # nothing written


@server_only
def test_an_admins_login_may_act_as_another_user(team, db_target, login):
    chief = login("chief")
    team("--as", "boss", "user", "add", chief, "--role", "admin")
    theirs = url_of(db_target, chief)
    lead = team.json("--db", theirs, "--as", "ann", "add", "Ada Lovelace", "--email", "a@b.org")
    team("--db", theirs, "note", str(lead["id"]), "checked")  # no --as: the login's user
    assert actors(team, db_target, lead["id"]) == ["ann", chief]


@server_only
def test_a_shared_login_that_is_no_user_keeps_as(team, db_target, login):
    shared = login("sales")  # the whole team logs in as this; it is not a leadctl user
    mine = url_of(db_target, shared)
    lead = team.json("--db", mine, "--as", "ann", "add", "Ada Lovelace", "--email", "a@b.org")
    team("--db", mine, "--as", "boss", "note", str(lead["id"]), "x")
    assert actors(team, db_target, lead["id"]) == ["ann", "boss"]
    # and acting as someone who is no user is refused as before (users exist)
    assert "not a leadctl user" in team("--db", mine, "--as", shared, "list", code=4).stderr


@server_only
@pytest.mark.parametrize(("grant", "code", "said"), [
    ("schema", 4, "refuses this login: permission denied for table"),
    ("none", 5, "has no schema this login may create leadctl's tables in"),
])  # fmt: skip
def test_a_login_without_rights_is_one_line(team, db_target, login, grant, code, said):
    bare = login("bare", grant=grant)
    result = team("--db", url_of(db_target, bare), "--as", "ann", "list", code=code)
    assert result.stderr.startswith(f"error: database {with_login(db_target, bare, '***')} ")
    assert said in result.stderr and result.stderr.count("\n") == 1
    assert f"pw-{bare}" not in result.stderr
