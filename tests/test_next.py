"""`next`: the acting user's work now, through the real CLI and the core."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event

from leadctl import agenda
from leadctl.models import LEAD_JSON_KEYS
from leadctl.storage import open_database
from leadctl.users import Actor
from tests.conftest import run_leadctl

EARLIER = "2026-11-22T03:00:00Z"  # 30 h before the tests' clock (2026-11-23 09:00 UTC)


def _actions(cli, *args, who=None):
    prefix = ["--as", who] if who else []
    return [(item["id"], item["action"]) for item in cli.json(*prefix, "next", *args)]


def _add(cli, name, *options):
    email = f"{name.lower().replace(' ', '.')}@example.com"
    return cli.json("add", name, "--email", email, *options)["id"]


def test_nothing_to_do_is_quiet_and_exit_0(cli):
    result = cli("next")
    assert result.stdout == "" and result.stderr == ""
    result = cli("next", "--json")
    assert json.loads(result.stdout) == [] and result.stderr == ""


@pytest.fixture
def day(cli, monkeypatch):
    """One lead for each action, plus leads that must never show."""
    monkeypatch.setenv("LEADCTL_NOW", EARLIER)
    ids = {"waiting_long": _add(cli, "Old New")}
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-23T08:00:00Z")
    ids["waiting_short"] = _add(cli, "Young New")
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-23T09:00:00Z")
    ids["overdue"] = _add(cli, "Overdue Call")
    cli("schedule", ids["overdue"], "2026-11-20 16:00")
    ids["overdue_older"] = _add(cli, "Older Overdue")
    cli("schedule", ids["overdue_older"], "2026-11-19 10:00")
    ids["today"] = _add(cli, "Today Call")
    cli("schedule", ids["today"], "today 15:00")
    ids["tomorrow"] = _add(cli, "Tomorrow Call")
    cli("status", ids["tomorrow"], "contacted")
    cli("schedule", ids["tomorrow"], "tomorrow 10:00")
    ids["claim"] = _add(cli, "Claimed Lead")
    cli("status", ids["claim"], "contacted")
    cli("claim", ids["claim"], "--hours", "2")
    ids["hot"] = _add(cli, "Hot Lead")
    cli("status", ids["hot"], "contacted")
    cli("score", ids["hot"], "--adjust", "90", "--reason", "big deal")
    ids["lost"] = _add(cli, "Lost Lead")
    cli("schedule", ids["lost"], "2026-11-20 09:00")
    cli("status", ids["lost"], "lost", "--reason", "Other")
    ids["contacted"] = _add(cli, "Contacted Lead")
    cli("log", ids["contacted"], "--type", "call")
    return ids


def test_actions_come_in_order_each_lead_once(cli, day):
    assert _actions(cli) == [
        (day["overdue_older"], "overdue_call"),
        (day["overdue"], "overdue_call"),
        (day["today"], "due_call"),
        (day["waiting_long"], "first_contact"),
        (day["waiting_short"], "first_contact"),
        (day["claim"], "claim_expiring"),
        (day["hot"], "hot_no_call"),
    ]


def test_a_lead_needing_several_actions_shows_under_the_first(cli, add_lead):
    lead = add_lead("Everything")["id"]  # new, never contacted
    cli("score", lead, "--adjust", "90", "--reason", "r")  # hot
    cli("claim", lead, "--hours", "1")  # own claim ending
    assert _actions(cli) == [(lead, "first_contact")]
    cli("schedule", lead, "2026-11-22 10:00")
    assert _actions(cli) == [(lead, "overdue_call")]


def test_json_items_are_list_objects_with_an_action(cli, day):
    items = cli.json("next")
    listed = {lead["id"]: lead for lead in cli.json("list", "--limit", "0")}
    for item in items:
        assert list(item) == [*LEAD_JSON_KEYS, "action"]
        assert {k: v for k, v in item.items() if k != "action"} == listed[item["id"]]


def test_the_table_names_the_action_and_why(cli, day):
    out = cli("next").stdout
    lines = {int(line.split("│")[1]): line for line in out.splitlines() if line.startswith("│")}
    assert "call (overdue)" in lines[day["overdue"]]
    assert "call was due 2026-11-20 16:00" in lines[day["overdue"]]
    assert "call today at 15:00" in lines[day["today"]]
    assert "waiting 30 h, over the 24 h first-response time" in lines[day["waiting_long"]]
    assert "waiting 1 h, 23 h left of the 24 h first-response time" in lines[day["waiting_short"]]
    assert "your claim ends 11:00 (in 2 h)" in lines[day["claim"]]
    assert "hot (score" in lines[day["hot"]] and "no next call" in lines[day["hot"]]
    assert day["lost"] not in lines and day["tomorrow"] not in lines


def test_first_response_hours_is_the_setting(cli, day):
    cli("config", "set", "first_response_hours", "48")
    out = cli("next").stdout
    assert "waiting 30 h, 18 h left of the 48 h first-response time" in out


def test_expiring_hours_is_the_setting(cli, add_lead):
    lead = add_lead("Long Claim")["id"]
    cli("status", lead, "contacted")
    cli("claim", lead, "--hours", "6")
    assert _actions(cli) == []
    cli("config", "set", "expiring_hours", "8")
    assert _actions(cli) == [(lead, "claim_expiring")]


@pytest.mark.parametrize("key", ["first_response_hours", "expiring_hours"])
@pytest.mark.parametrize("value", ["0", "abc", "9999", "nan"])
def test_the_settings_are_validated(cli, key, value):
    result = cli("config", "set", key, value, code=1)
    assert result.stderr.startswith("error: ") and "0 to 8760" in result.stderr


def test_moving_the_clock_moves_the_actions(cli, day, monkeypatch):
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-24T09:30:00Z")  # the next morning
    actions = dict(_actions(cli))
    assert actions[day["today"]] == "overdue_call"  # yesterday 15:00
    assert actions[day["tomorrow"]] == "due_call"  # today 10:00
    assert day["claim"] not in actions  # expired: back in the pool, not an own claim
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-24T10:30:00Z")
    assert dict(_actions(cli))[day["tomorrow"]] == "overdue_call"


def test_limit_cuts_and_says_so_on_stderr(cli, day):
    result = cli("next", "--limit", "2", "--json")
    assert [item["id"] for item in json.loads(result.stdout)] == [
        day["overdue_older"],
        day["overdue"],
    ]
    assert result.stderr == "showing the first 2 (--limit 0 for all)\n"
    assert len(cli.json("next", "--limit", "0")) == 7
    assert cli("next", "--limit", "7").stderr == ""  # exactly all: nothing cut


def test_negative_limit_is_invalid_input(cli):
    result = cli("next", "--limit", "-1", code=1)
    assert result.stderr.startswith("error: ")


def test_solo_mode_shows_unowned_and_own_leads_only(cli, add_lead):
    mine = add_lead("Mine")["id"]
    cli("assign", mine, "--to", "tester")
    pool = add_lead("Pool")["id"]
    other = add_lead("Other Owner")["id"]
    cli("assign", other, "--to", "bob")
    held = add_lead("Held By Bob")["id"]
    cli("--as", "bob", "claim", held)
    assert sorted(lead_id for lead_id, _ in _actions(cli)) == [mine, pool]
    # bob sees his own lead and his claim (and the pool, in solo mode)
    assert sorted(lead_id for lead_id, _ in _actions(cli, who="bob")) == [pool, other, held]


def _add_as(cli, who, name, *options):
    email = f"{name.lower().replace(' ', '.')}@example.com"
    return cli.json("--as", who, "add", name, "--email", email, *options)["id"]


@pytest.fixture
def team_ids(cli):
    cli("user", "add", "boss", "--role", "admin")
    cli("--as", "boss", "user", "add", "rita", "--role", "rep")
    cli("--as", "boss", "user", "add", "rick", "--role", "rep")
    ids = {
        "rita": _add_as(cli, "boss", "Rita Lead", "--assign", "rita"),
        "rick": _add_as(cli, "boss", "Rick Lead", "--assign", "rick"),
        "boss": _add_as(cli, "boss", "Boss Lead", "--assign", "boss"),
        "pool": _add_as(cli, "boss", "Pool Lead"),
        "claimed": _add_as(cli, "boss", "Claimed Pool Lead"),
    }
    cli("--as", "rita", "claim", ids["claimed"])
    return ids


def test_in_a_team_only_own_leads_and_claims(cli, team_ids):
    assert sorted(i for i, _ in _actions(cli, who="rita")) == sorted(
        [team_ids["rita"], team_ids["claimed"]]
    )
    assert [i for i, _ in _actions(cli, who="rick")] == [team_ids["rick"]]
    # an admin sees everything in `list`, but `next` is their own work only
    assert [i for i, _ in _actions(cli, who="boss")] == [team_ids["boss"]]


def test_an_unknown_acting_user_in_a_team_is_refused(cli, team_ids):
    result = cli("--as", "nobody", "next", code=4)
    assert result.stderr.startswith("error: ")


def test_cron_digest_as_a_user(cli, team_ids, db_target):
    result = run_leadctl("--as", "rita", "next", "--json", env={"LEADCTL_DB": db_target})
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert sorted(item["id"] for item in items) == sorted([team_ids["rita"], team_ids["claimed"]])
    assert {item["action"] for item in items} == {"first_contact"}
    assert result.stderr == ""
    for lead in (team_ids["rita"], team_ids["claimed"]):
        cli("--as", "rita", "log", lead, "--type", "call")
    result = run_leadctl("--as", "rita", "next", "--json", env={"LEADCTL_DB": db_target})
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "[]", "")


def test_converted_and_final_leads_never_appear(cli, add_lead):
    won = add_lead("Won Lead")["id"]
    cli("schedule", won, "2026-11-20 10:00")
    cli("score", won, "--adjust", "90", "--reason", "r")
    cli("convert", won, "--no-deal")
    gone = add_lead("Unqualified Lead")["id"]
    cli("status", gone, "unqualified", "--reason", "Not a fit")
    assert _actions(cli) == []


def test_a_renamed_first_status_is_still_first_contact(cli, add_lead):
    lead = add_lead("Fresh")["id"]
    cli("statuses", "rename", "new", "fresh")
    assert _actions(cli) == [(lead, "first_contact")]


# -- the core -------------------------------------------------------------------


def test_the_core_reads_no_more_rows_than_it_shows(cli, db_target):
    """A few queries, each cut by LIMIT: the statements and the rows fetched do not
    grow with the leads (100 overdue calls, the limit 5)."""
    for number in range(100):
        lead = _add(cli, f"Lead {number}")
        cli("schedule", lead, "2026-11-20 10:00")
    database = open_database(db_target)
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with database.session() as session:
        todo = agenda.agenda(session, Actor("tester", None), limit=5)
    database.close()
    assert [item.action for item in todo.items] == ["overdue_call"] * 5 and todo.more
    lead_queries = [s for s in statements if "FROM lead" in s]
    assert len(lead_queries) == 1 and "LIMIT" in lead_queries[0]


def test_the_core_span_words():
    from datetime import timedelta

    assert agenda.span(timedelta(minutes=20)) == "20 min"
    assert agenda.span(timedelta(hours=30)) == "30 h"
    assert agenda.span(timedelta(days=5, hours=3)) == "5 d"
    assert agenda.span(timedelta(minutes=-5)) == "0 min"
