"""`convert`: an open lead becomes a client (new or joined) and a deal; its rules and JSON."""

from __future__ import annotations

import pytest

from tests.conftest import NOW

CLIENT_KEYS = ["id", "name", "company", "email", "phone", "created_at"]
DEAL_KEYS = "id client_id lead_id value close_date stage probability created_at".split()


def test_convert_makes_a_client_and_a_deal_from_the_lead(cli, add_lead):
    lead = add_lead(
        "Ada Lovelace",
        company="Analytical Engines",
        email="ada.lovelace@example.com",
        phone="+14155550100",
        deal_value="5000",
        timeline="2026-12-31",
    )
    done = cli.json("convert", lead["id"])
    assert list(done) == ["lead", "client", "deal"]
    assert done["lead"]["status"] == "converted"
    assert done["lead"]["converted_at"] == NOW
    assert done["lead"]["client_id"] == done["client"]["id"] == 1
    assert list(done["client"]) == CLIENT_KEYS
    assert done["client"] == {
        "id": 1,
        "name": "Ada Lovelace",
        "company": "Analytical Engines",
        "email": "ada.lovelace@example.com",
        "phone": "+14155550100",
        "created_at": NOW,
    }
    assert list(done["deal"]) == DEAL_KEYS
    assert done["deal"] == {
        "id": 1,
        "client_id": 1,
        "lead_id": lead["id"],
        "value": 5000.0,
        "close_date": "2026-12-31",
        "stage": "open",
        "probability": None,
        "created_at": NOW,
    }


def test_deal_options_override_the_lead(cli, add_lead):
    lead = add_lead("Ada Lovelace", deal_value="5000", timeline="2026-12-31")
    deal = cli.json(
        "convert",
        lead["id"],
        "--deal-value",
        "$12.5K",
        "--close-date",
        "2027-01-15",
        "--stage",
        "proposal",
        "--probability",
        "60%",
    )["deal"]
    assert (deal["value"], deal["close_date"], deal["stage"], deal["probability"]) == (
        12500.0,
        "2027-01-15",
        "proposal",
        60,
    )


def test_no_deal(cli, add_lead):
    lead = add_lead()
    done = cli.json("convert", lead["id"], "--no-deal")
    assert done["deal"] is None
    assert cli.json("client", "show", done["client"]["id"])["deals"] == []


@pytest.mark.parametrize(
    "options",
    [
        ["--no-deal", "--deal-value", "100"],
        ["--probability", "120"],
        ["--probability", "half"],
        ["--deal-value", "lots"],
        ["--close-date", "someday"],
        ["--stage", " "],
    ],
)
def test_bad_deal_options_are_invalid_input(cli, add_lead, options):
    lead = add_lead()
    result = cli("convert", lead["id"], *options, code=1)
    assert result.stderr.startswith("error: ")
    assert cli.json("show", lead["id"])["status"] == "new"  # nothing changed


def test_converting_twice_is_a_conflict(cli, add_lead):
    lead = add_lead()
    cli("convert", lead["id"])
    result = cli("convert", lead["id"], code=3)
    assert "already converted" in result.stderr
    assert len(cli.json("client", "list")) == 1


@pytest.mark.parametrize("final", ["lost", "unqualified"])
def test_a_lost_or_unqualified_lead_cannot_be_converted(cli, add_lead, final):
    lead = add_lead()
    cli("status", lead["id"], final, "--reason", "No budget")
    result = cli("convert", lead["id"], code=3)
    assert final in result.stderr and "--reopen" in result.stderr
    assert cli.json("client", "list") == []


def test_a_nurtured_lead_converts(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "nurture")
    assert cli.json("convert", lead["id"])["lead"]["status"] == "converted"


def test_unknown_lead_or_client_is_not_found(cli, add_lead):
    assert "no lead with id 9" in cli("convert", "9", code=1).stderr
    lead = add_lead()
    assert "no client with id 7" in cli("convert", lead["id"], "--client", "7", code=1).stderr


def test_same_company_joins_the_existing_client(cli, add_lead):
    first = add_lead("Ada Lovelace", company="Analytical Engines Ltd")
    second = add_lead("Charles Babbage", company="analytical engines")
    client = cli.json("convert", first["id"])["client"]
    joined = cli("convert", second["id"])
    assert "joined client 1 Ada Lovelace (same company)" in joined.stderr
    shown = cli.json("client", "show", client["id"])
    assert [lead["id"] for lead in shown["leads"]] == [first["id"], second["id"]]
    assert [deal["lead_id"] for deal in shown["deals"]] == [first["id"], second["id"]]


def test_same_email_joins_the_existing_client(cli, add_lead):
    first = add_lead("Ada Lovelace", email="ada@example.com")
    cli.json("convert", first["id"])
    second = add_lead("A. Lovelace", "--on-duplicate", "create", email="ADA@example.com")
    assert cli.json("convert", second["id"])["client"]["id"] == 1


def test_explicit_client_wins_and_a_new_one_is_made_otherwise(cli, add_lead):
    first = add_lead("Ada Lovelace", company="Analytical Engines")
    other = add_lead("Grace Hopper", company="Navy")
    third = add_lead("Alan Turing", company="Bletchley")
    cli("convert", first["id"])
    assert cli.json("convert", other["id"])["client"]["id"] == 2  # nothing matched: new
    assert cli.json("convert", third["id"], "--client", "1")["client"]["id"] == 1


def test_an_upsell_lead_converts_into_its_own_client(cli, add_lead):
    first = add_lead("Ada Lovelace", company="Analytical Engines")
    cli("convert", first["id"])
    upsell = add_lead("Ada Lovelace (phase 2)", "--client", "1", email="phase2@example.com")
    assert upsell["client_id"] == 1
    assert cli.json("client", "show", "1")["leads"][1]["status"] == "new"  # shows before too
    done = cli.json("convert", upsell["id"], "--deal-value", "9000")
    assert done["client"]["id"] == 1
    assert cli.json("client", "show", "1")["totals"] == {
        "leads": 2,
        "deals": 2,
        "value": 9000.0,
        "weighted_value": 900.0,  # not staged yet: the first stage's 10 %
    }


def test_the_lead_keeps_its_history_and_records_the_conversion(cli, add_lead, monkeypatch):
    lead = add_lead()
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-24T10:00:00Z")
    cli("status", lead["id"], "contacted")
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-25T11:00:00Z")
    cli("convert", lead["id"], "--no-deal")
    history = cli.json("show", lead["id"])["activities"]
    assert [a["kind"] for a in history] == ["created", "status", "status", "convert"]
    move, convert = history[2], history[3]
    assert (move["created_at"], move["actor"]) == ("2026-11-25T11:00:00Z", "tester")
    shown = cli("status", lead["id"]).stdout
    assert "contacted" in shown and "converted" in shown
    assert "new client 1" in convert["body"]
    # converted is final: a plain status change is refused
    assert cli("status", lead["id"], "qualified", code=3).stderr.startswith("error: ")


def test_a_viewer_may_not_convert(cli, add_lead):
    lead = add_lead()
    cli("--as", "boss", "user", "add", "boss", "--role", "admin")
    cli("--as", "boss", "user", "add", "vic", "--role", "viewer")
    assert cli("--as", "vic", "convert", lead["id"], code=4).stderr.startswith("error: ")
    assert cli.json("--as", "boss", "convert", lead["id"])["lead"]["status"] == "converted"
