"""The pipeline rules of SPEC, through `status`, `note`, `log`, `schedule`."""

from __future__ import annotations

import pytest


@pytest.fixture
def lead(add_lead):
    return add_lead("Ada Lovelace")


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "contacted"),
        ([], "qualified"),
        (["contacted"], "qualified"),
        (["contacted"], "nurture"),
        (["nurture"], "contacted"),
        (["qualified", "nurture"], "new"),
    ],
)
def test_allowed_moves(cli, lead, path, target):
    for step in path:
        cli("status", "1", step)
    assert cli.json("status", "1", target)["status"] == target


@pytest.mark.parametrize(("path", "target"), [(["contacted"], "new"), (["qualified"], "contacted")])
def test_backward_move_is_a_conflict_naming_allowed_statuses(cli, lead, path, target):
    for step in path:
        cli("status", "1", step)
    result = cli("status", "1", target, code=3)
    assert "forward only" in result.stderr
    assert "allowed next:" in result.stderr and "nurture" in result.stderr
    assert cli.json("show", "1")["status"] == path[-1]


def test_final_needs_reason_from_list(cli, lead):
    result = cli("status", "1", "lost", code=1)
    assert "--reason" in result.stderr and "Competitor" in result.stderr
    result = cli("status", "1", "lost", "--reason", "aliens", code=1)
    assert "Not interested" in result.stderr
    moved = cli.json("status", "1", "unqualified", "--reason", "not a fit")
    assert (moved["status"], moved["lost_reason"]) == ("unqualified", "Not a fit")


def test_reason_only_for_final(cli, lead):
    assert "only for final" in cli("status", "1", "contacted", "--reason", "Other", code=1).stderr


def test_final_is_locked_until_reopen(cli, lead):
    cli("status", "1", "lost", "--reason", "Competitor")
    result = cli("status", "1", "contacted", code=3)
    assert "final" in result.stderr and "--reopen" in result.stderr
    reopened = cli.json("status", "1", "contacted", "--reopen")
    assert (reopened["status"], reopened["lost_reason"]) == ("contacted", None)
    history = [a for a in cli.json("show", "1")["activities"] if a["kind"] == "status"]
    assert history[-1]["body"] == "reopened"


def test_converted_only_through_convert(cli, lead):
    result = cli("status", "1", "converted", code=3)
    assert "leadctl convert" in result.stderr


def test_unknown_status_and_lead(cli, lead):
    assert "new, contacted, qualified" in cli("status", "1", "won", code=1).stderr
    cli("status", "5", "contacted", code=1)
    assert "already new" in cli("status", "1", "new", code=3).stderr


def test_status_without_target_shows_history(cli, lead):
    cli("status", "1", "contacted")
    assert cli.json("status", "1")["status"] == "contacted"
    table = cli("status", "1")
    assert "lead 1 is contacted" in table.stderr
    assert "contacted" in table.stdout and "new" in table.stdout


def test_first_contact_is_stamped(cli, lead, monkeypatch):
    assert cli.json("show", "1")["first_contacted_at"] is None
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-24T10:00:00Z")
    activity = cli.json("log", "1", "--type", "call", "--outcome", "left voicemail")
    assert (activity["kind"], activity["outcome"]) == ("call", "left voicemail")
    assert cli.json("show", "1")["first_contacted_at"] == "2026-11-24T10:00:00Z"


def test_note_and_log_types(cli, lead):
    assert cli.json("note", "1", "likes tea")["body"] == "likes tea"
    assert "email_open" in cli("log", "1", "--type", "fax", code=1).stderr
    for kind in ("email_open", "page_view", "meeting"):
        cli("log", "1", "--type", kind)
    kinds = [a["kind"] for a in cli.json("show", "1")["activities"]]
    assert kinds == ["created", "note", "email_open", "page_view", "meeting"]


def test_schedule_understands_people_times(cli, lead):
    # LEADCTL_NOW is Monday 2026-11-23 09:00 UTC; TZ is UTC in tests.
    cases = {
        "today 15:00": "2026-11-23T15:00:00Z",
        "tomorrow": "2026-11-24T09:00:00Z",
        "+3d": "2026-11-26T09:00:00Z",
        "monday 10:00": "2026-11-23T10:00:00Z",
        "monday 08:00": "2026-11-30T08:00:00Z",
        "friday": "2026-11-27T09:00:00Z",
        "2026-12-01T14:30:00Z": "2026-12-01T14:30:00Z",
        "2026-12-02": "2026-12-02T09:00:00Z",
    }
    for when, expected in cases.items():
        assert cli.json("schedule", "1", when)["next_call_at"] == expected, when
    result = cli("schedule", "1", "whenever", code=1)
    assert "+3d" in result.stderr
    schedules = [a for a in cli.json("show", "1")["activities"] if a["kind"] == "schedule"]
    assert len(schedules) == len(cases)
