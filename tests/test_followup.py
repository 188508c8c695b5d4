"""Next-call hygiene (issue 14): what clears a next call, what sets one, and
final leads never due. The clock is 2026-11-23 09:00 UTC unless a test moves it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadctl import clock, followup, leads, settings, users
from leadctl.errors import InvalidInput
from leadctl.storage import open_database


@pytest.fixture
def ada(add_lead):
    return add_lead("Ada Lovelace")["id"]


def next_call(cli, lead_id=1):
    return cli.json("show", str(lead_id))["next_call_at"]


@pytest.mark.parametrize("kind", ["call", "email", "meeting"])
def test_a_contact_clears_a_call_due_today(cli, ada, kind):
    cli("schedule", "1", "today 15:00")
    cli("log", "1", "--type", kind)
    assert next_call(cli) is None
    cleared = [a for a in cli.json("show", "1")["activities"] if a["kind"] == "schedule"][-1]
    assert (cleared["old_value"], cleared["new_value"]) == ("2026-11-23T15:00:00Z", None)
    assert cleared["body"] == f"{kind} logged"


def test_an_overdue_call_is_cleared_too(cli, ada, monkeypatch):
    cli("schedule", "1", "2026-11-20 10:00")
    cli("log", "1", "--type", "call")
    assert next_call(cli) is None


@pytest.mark.parametrize("kind", ["email_open", "page_view", "task"])
def test_engagements_and_tasks_clear_nothing(cli, ada, kind):
    cli("schedule", "1", "today 15:00")
    cli("log", "1", "--type", kind)
    assert next_call(cli) == "2026-11-23T15:00:00Z"


def test_a_call_on_a_later_day_stays_until_that_day(cli, ada, monkeypatch):
    cli("schedule", "1", "2026-11-24 10:00")
    cli("log", "1", "--type", "call")
    assert next_call(cli) == "2026-11-24T10:00:00Z"
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-24T08:00:00Z")  # the day of the call
    cli("log", "1", "--type", "call")
    assert next_call(cli) is None


def test_log_next_sets_the_following_call_in_the_same_command(cli, ada):
    cli("schedule", "1", "today 15:00")
    result = cli("log", "1", "--type", "call", "--outcome", "wants pricing", "--next",
                 "friday 10:00")  # fmt: skip
    assert next_call(cli) == "2026-11-27T10:00:00Z"
    assert "next call 2026-11-27 10:00" in result.stderr
    schedules = [a for a in cli.json("show", "1")["activities"] if a["kind"] == "schedule"]
    assert (schedules[-1]["old_value"], schedules[-1]["new_value"]) == (
        "2026-11-23T15:00:00Z",
        "2026-11-27T10:00:00Z",
    )


def test_log_next_refuses_a_bad_time(cli, ada):
    cli("log", "1", "--type", "call", "--next", "someday", code=1)
    assert [a["kind"] for a in cli.json("show", "1")["activities"]] == ["created"]


def test_schedule_clear(cli, add_lead):
    add_lead("Ada")
    add_lead("Bob")
    cli("schedule", "1", "2", "tomorrow")
    cli("schedule", "1", "2", "--clear")
    assert next_call(cli, 1) is None and next_call(cli, 2) is None
    assert cli("schedule", "1", "--clear").stderr == "lead 1: no next call\n"
    cli("schedule", "1", code=2)  # a WHEN, or --clear


@pytest.mark.parametrize(
    ("status", "extra"),
    [("lost", ["--reason", "Competitor"]), ("unqualified", ["--reason", "Not a fit"])],
)
def test_a_final_status_clears_the_next_call(cli, ada, status, extra):
    cli("schedule", "1", "2026-11-20 10:00")
    cli("status", "1", status, *extra)
    assert next_call(cli) is None
    cleared = [a for a in cli.json("show", "1")["activities"] if a["kind"] == "schedule"][-1]
    assert cleared["body"] == f"cleared: lead is {status}"
    result = cli("schedule", "1", "tomorrow", code=3)
    assert "final status" in result.stderr
    cli("log", "1", "--type", "call", "--next", "tomorrow", code=3)


def test_convert_clears_the_next_call(cli, ada):
    cli("schedule", "1", "2026-11-20 10:00")
    cli("convert", "1", "--no-deal")
    assert next_call(cli) is None
    assert cli.json("list", "--due", "overdue") == []


def test_final_leads_are_never_due_even_with_an_old_call(cli, tmp_path):
    """An import sets statuses directly: a lost lead with a call in the past."""
    source = tmp_path / "old.csv"
    source.write_text(
        "name,email,status,next call\n"
        "Ada,ada@example.com,Lost,2026-11-20 10:00\n"
        "Bob,bob@example.com,New,2026-11-20 10:00\n",
        encoding="utf-8",
    )
    cli("import", str(source))
    for due in ("overdue", "today", "week"):
        assert [lead["name"] for lead in cli.json("list", "--due", due)] == ["Bob"]


def test_first_call_after_on_add_and_import(cli, tmp_path):
    cli("add", "Before", "--email", "before@example.com")
    assert next_call(cli) is None  # off by default
    cli("config", "set", "first_call_after", "2h")
    assert cli.json("add", "Ada", "--email", "ada@example.com")["next_call_at"] == (
        "2026-11-23T11:00:00Z"
    )
    source = tmp_path / "in.csv"
    source.write_text(
        "name,email,status\nBob,bob@example.com,New\nCy,cy@example.com,Lost\n", encoding="utf-8"
    )
    cli("import", str(source))
    assert next_call(cli, 3) == "2026-11-23T11:00:00Z"  # Bob
    assert next_call(cli, 4) is None  # Cy, lost: no next call
    cli("config", "set", "first_call_after", "off")
    assert cli.json("add", "Dee", "--email", "dee@example.com")["next_call_at"] is None


@pytest.mark.parametrize(
    ("value", "stored"), [("30m", "30m"), ("2h", "2h"), ("3d", "3d"), ("1w", "1w"), ("4", "4h"),
                          ("OFF", "off")]
)  # fmt: skip
def test_first_call_after_values(cli, value, stored):
    assert cli.json("config", "set", "first_call_after", value) == {"first_call_after": stored}


@pytest.mark.parametrize("value", ["", "soon", "-2h", "0m", "2y", "400d", "nan"])
def test_first_call_after_refuses_other_values(cli, value):
    result = cli("config", "set", "first_call_after", "--", value, code=1)
    assert "30m, 2h, 3d or 1w" in result.stderr


def test_the_core_rules(cli, add_lead, db_target):
    add_lead("Ada")
    database = open_database(db_target)
    try:
        with database.session(immediate=True) as session:
            who = users.actor(session, "tester")
            followup.schedule(session, who, [1], "today 15:00")
            followup.log(session, who, [1], "meeting", next_call="+2d")
            lead = leads.get(session, 1)
            assert clock.as_utc(lead.next_call_at) == datetime(2026, 11, 25, 9, tzinfo=UTC)
            settings.set_value(session, who, "first_call_after", "1d")
            first = followup.first_call_at(session, datetime(2026, 11, 23, 9, tzinfo=UTC))
            assert first == datetime(2026, 11, 24, 9, tzinfo=UTC)
            with pytest.raises(InvalidInput):
                settings.set_value(session, who, "first_call_after", "yesterday")
    finally:
        database.close()
