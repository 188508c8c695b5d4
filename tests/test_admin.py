"""Editable lists and settings: `statuses`, `sources`, `reasons`, `config`."""

from __future__ import annotations


def test_default_lists(cli):
    statuses = cli.json("statuses")
    assert [(s["name"], s["role"]) for s in statuses] == [
        ("new", "open"), ("contacted", "open"), ("qualified", "open"), ("converted", "won"),
        ("nurture", "side"), ("unqualified", "final"), ("lost", "final"),
    ]  # fmt: skip
    assert [s["name"] for s in cli.json("sources")][:3] == ["Website", "Referral", "LinkedIn"]
    assert "Competitor" in [r["name"] for r in cli.json("reasons")]


def test_added_status_takes_its_place_in_the_forward_order(cli, add_lead):
    cli("statuses", "add", "demo booked", "--position", "3")
    names = [s["name"] for s in cli.json("statuses")]
    assert names[:4] == ["new", "contacted", "demo booked", "qualified"]
    add_lead("Ada")
    cli("status", "1", "demo booked")
    assert "allowed next: qualified" in cli("status", "1", "contacted", code=3).stderr


def test_rename_follows_leads_and_remove_only_when_unused(cli, add_lead):
    add_lead("Ada", source="Event")
    cli("sources", "rename", "event", "Trade Show")
    assert cli.json("show", "1")["source"] == "Trade Show"
    assert "used by 1 lead" in cli("sources", "remove", "Trade Show", code=3).stderr
    cli("sources", "remove", "Direct Mail")
    assert "Direct Mail" not in [s["name"] for s in cli.json("sources")]
    assert "already exists" in cli("sources", "add", "website", code=3).stderr
    assert "unknown source" in cli("sources", "remove", "Nope", code=1).stderr


def test_status_role_makes_a_final_status(cli, add_lead):
    cli("statuses", "add", "on hold")
    cli("statuses", "role", "on hold", "final")
    add_lead("Ada")
    assert "--reason" in cli("status", "1", "on hold", code=1).stderr
    cli("status", "1", "on hold", "--reason", "Bad timing")
    assert "final" in cli("status", "1", "contacted", code=3).stderr
    assert "open, side, won, final" in cli("statuses", "role", "new", "closed", code=1).stderr


def test_lost_reasons_are_editable(cli, add_lead):
    cli("reasons", "add", "Went silent")
    add_lead("Ada")
    assert (
        cli.json("status", "1", "lost", "--reason", "went silent")["lost_reason"] == "Went silent"
    )


def test_config_get_set_and_validation(cli):
    assert cli.json("config", "get") == {
        "claim_hours": 24,
        "region": "US",
        "deal_stages": "qualification:10, proposal:40, negotiation:70, won:100, lost:0",
        "first_call_after": "off",
        "first_response_hours": 24,
        "expiring_hours": 4,
        "escalate_to": "pool",
        "inactive_days": "off",
        "mql_score": 50,
        "sql_score": 70,
        "sql_requires_qualified": "no",
        "hook_command": "off",
        "events": "automated",
    }
    cli("config", "set", "claim_hours", "48")
    assert cli("config", "get", "claim_hours").stdout.strip() == "48"
    assert "claim_hours, region" in cli("config", "set", "colour", "red", code=1).stderr
    assert "number of hours" in cli("config", "set", "claim_hours", "--", "-1", code=1).stderr
    assert "two-letter" in cli("config", "set", "region", "Narnia", code=1).stderr
    cli("config", "set", "region", "de")
    assert cli.json("add", "Ada", "--phone", "030 1234567")["phone"] == "+49301234567"


def test_status_rename_carries_the_history_so_reports_still_count(cli, add_lead):
    add_lead("Ada")
    cli("status", "1", "contacted")
    cli("statuses", "rename", "contacted", "reached")
    moves = [(a["old_value"], a["new_value"]) for a in cli.json("show", "1")["activities"]]
    assert ("new", "reached") in moves
    funnel = {row["status"]: row["leads"] for row in cli.json("report", "funnel")["rows"]}
    assert funnel["reached"] == 1


def test_config_json_numbers(cli):
    assert cli.json("config", "set", "claim_hours", "1.5") == {"claim_hours": 1.5}
    assert cli.json("config", "get", "first_response_hours") == {"first_response_hours": 24}


def test_automation_settings_are_validated_naming_what_is_allowed(cli):
    assert "0 to 100" in cli("config", "set", "mql_score", "101", code=1).stderr
    assert "at most 70" in cli("config", "set", "mql_score", "80", code=1).stderr
    assert "at least 50" in cli("config", "set", "sql_score", "40", code=1).stderr
    assert "yes or no" in cli("config", "set", "sql_requires_qualified", "maybe", code=1).stderr
    assert "whole days" in cli("config", "set", "inactive_days", "2.5", code=1).stderr
    assert "automated, all" in cli("config", "set", "events", "some", code=1).stderr
    cli("user", "add", "ada", "--role", "admin")
    error = cli("--as", "ada", "config", "set", "escalate_to", "bob", code=1).stderr
    assert "no user 'bob'" in error and "pool, ada" in error
    assert cli.json("--as", "ada", "config", "set", "escalate_to", "ada") == {"escalate_to": "ada"}
    assert cli.json("--as", "ada", "config", "set", "inactive_days", "60") == {"inactive_days": 60}
    assert cli.json("--as", "ada", "config", "get", "mql_score") == {"mql_score": 50}
