"""`leadctl copy --to`: a whole database into an empty one, either engine to
either engine, checked; on the PostgreSQL run the round trip crosses engines."""

from __future__ import annotations

import pytest

from tests.conftest import POSTGRES


@pytest.fixture
def filled(cli):
    cli("user", "add", "ada", "--role", "admin")
    cli("--as", "ada", "user", "add", "rita", "--role", "rep")
    for name in ("Ada Lovelace", "Ada King", "Grace Hopper", "Alan Turing"):
        cli("--as", "ada", "add", name, "--email", f"{name.split()[1].lower()}@example.com")
    cli("--as", "ada", "merge", "1", "2")
    cli("--as", "ada", "note", "3", "called, wants a demo")
    cli("--as", "ada", "convert", "4", "--deal-value", "5000")
    cli("--as", "ada", "config", "set", "claim_hours", "48")
    cli("--as", "ada", "statuses", "add", "demo_booked", "--position", "3")
    return cli


def everything(cli, *db: str) -> object:
    """What a user can read back: every lead with its history, clients, users, settings."""
    args = [*db, "--as", "ada"]
    return (
        cli.json(*args, "export", "--format", "json"),
        cli.json(*args, "client", "list"),
        cli.json(*args, "user", "list"),
        cli.json(*args, "config", "get"),
        cli.json(*args, "statuses"),
    )


def test_a_copy_holds_everything_and_numbers_on_after_it(filled, second_db):
    copied = filled.json("--as", "ada", "copy", "--to", second_db)["tables"]
    assert (copied["lead"], copied["client"], copied["deal"], copied["app_user"]) == (4, 1, 1, 2)
    assert everything(filled, "--db", second_db) == everything(filled)
    made = filled.json("--db", second_db, "--as", "ada", "add", "Edsger", "--email", "e@x.io")
    assert made["id"] == 5


def test_a_round_trip_through_the_other_engine_changes_nothing(filled, tmp_path, second_db):
    file = str(tmp_path / "moved.db")  # a SQLite file: the other engine on the PostgreSQL run
    filled("--as", "ada", "copy", "--to", file)
    filled("--db", file, "--as", "ada", "copy", "--to", second_db)
    assert everything(filled, "--db", second_db) == everything(filled)
    assert POSTGRES is None or "://" in second_db


def test_a_database_with_leads_is_refused_and_left_as_it_was(filled, second_db):
    filled("--db", second_db, "add", "Someone", "--email", "someone@example.com")
    error = filled("--as", "ada", "copy", "--to", second_db, code=3).stderr
    assert "not empty" in error and error.count("\n") == 1
    leads = filled.json("--db", second_db, "list", "--all")
    assert [lead["name"] for lead in leads] == ["Someone"]


def test_copying_needs_an_admin(filled, second_db):
    assert "permission" in filled("--as", "rita", "copy", "--to", second_db, code=4).stderr
