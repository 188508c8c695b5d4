"""`report NAME --as-of WHEN`: every report as it stood at a past moment.

The strong test: the clock moves over three weeks (``LEADCTL_NOW``) while leads
come in, change status and owner, get adjusted scores and next calls, and are
converted; at a few checkpoints every report is printed. Afterwards, each
report run with ``--as-of`` a checkpoint must print exactly what it printed
then. (At each checkpoint ``score`` is run first: a stored score is computed
when a lead last changed, while an --as-of score is recomputed for that very
moment; right after a rescore the two are the same thing.)
"""

from __future__ import annotations

import pytest

from tests.contents import fingerprint

REPORTS = [
    ["funnel"],
    ["funnel", "--by", "stage"],
    ["sources"],
    ["reps"],
    ["aging"],
    ["trend"],
    ["trend", "--by", "month", "--per-source"],
    ["summary"],
    ["funnel", "--since", "2026-11-04"],
    ["reps", "--since", "2026-11-04"],
    ["sources", "--since", "2026-11-04"],
    ["summary", "--since", "2026-11-04"],
    ["aging", "--until", "2026-11-05"],
    ["summary", "--until", "2026-11-06T12:00"],
]
CHECKPOINTS = ["2026-11-03T09:00", "2026-11-06T15:00", "2026-11-10T09:00", "2026-11-17T12:00"]


@pytest.fixture
def timeline(cli, add_lead, monkeypatch):
    """Run the history; return every report's JSON as printed at each checkpoint."""
    seen: dict[str, dict[tuple[str, ...], object]] = {}

    def at(when: str) -> None:
        monkeypatch.setenv("LEADCTL_NOW", f"2026-{when}:00Z")

    def checkpoint(when: str) -> None:
        at(when[5:])
        cli("score")
        seen[when] = {tuple(r): cli.json("report", *r) for r in REPORTS if _fits(r, when)}

    cli("config", "set", "mql_score", "20")
    cli("config", "set", "sql_score", "40")
    at("11-01T09:00")
    add_lead("Ada Lovelace", "--assign", "alice", source="Website", title="CTO")
    add_lead("Edsger Dijkstra", source="Referral", title="VP Engineering")
    add_lead("Grace Hopper", source="Website", title="Engineer")
    at("11-02T10:00")
    cli("log", "1", "--type", "form_submit")
    cli("log", "2", "--type", "meeting")
    cli("--as", "bob", "claim", "2")
    cli("status", "1", "contacted")
    cli("score", "3", "--adjust", "75", "--reason", "met at the fair")
    cli("schedule", "3", "2026-11-05T09:00")
    checkpoint("2026-11-03T09:00")
    at("11-04T09:00")
    add_lead("Alan Turing", "--assign", "bob", source="Referral", title="Head of Research")
    cli("assign", "2", "--to", "bob")
    cli("status", "2", "contacted")
    cli("status", "1", "qualified")
    cli("log", "4", "--type", "call")
    at("11-06T15:00")
    cli("assign", "1", "--to", "carol")
    cli("schedule", "3", "2026-11-20T09:00")
    checkpoint("2026-11-06T15:00")
    at("11-07T09:00")
    cli("convert", "1", "--deal-value", "5000")
    cli("score", "3", "--adjust", "0", "--reason", "cooled off")
    cli("status", "3", "nurture")
    cli("--as", "bob", "release", "2")
    add_lead("Barbara Liskov", "--assign", "alice", source="LinkedIn")
    at("11-10T09:00")
    cli("log", "5", "--type", "download")
    cli("status", "4", "lost", "--reason", "No budget")
    checkpoint("2026-11-10T09:00")
    at("11-12T09:00")
    cli("assign", "3", "5", "--to", "dave")
    cli("schedule", "5", "2026-11-13T09:00")
    cli("score", "5", "--adjust", "70", "--reason", "asked for a demo")  # hot; call passes
    cli("status", "5", "contacted")
    add_lead("Donald Knuth", source="Event")
    cli("status", "6", "qualified")
    checkpoint("2026-11-17T12:00")
    at("11-30T09:00")  # later still: more changes the as-of reports must not see
    cli("assign", "5", "6", "--to", "erin")
    cli("status", "5", "nurture")
    cli("schedule", "6", "2026-12-01T09:00")
    cli("score", "6", "--adjust", "90", "--reason", "champion")
    cli("log", "6", "--type", "meeting")
    cli("convert", "2", "--deal-value", "7000")
    add_lead("Frances Allen", "--assign", "alice", source="Website")
    cli("score")
    return seen


def _fits(report: list[str], checkpoint: str) -> bool:
    """--since / --until options that fall before the checkpoint (a report at a
    moment cannot reach past it; an --until date runs to the end of its day)."""
    for option, value in zip(report, report[1:], strict=False):
        if option in ("--since", "--until") and value > checkpoint:
            return False
    return True


def test_every_report_as_of_a_checkpoint_is_what_it_printed_then(cli, timeline):
    compared = 0
    for when, printed in timeline.items():
        for report, document in printed.items():
            later = cli.json("report", *report, "--as-of", when)
            assert later == document, (when, report)
            compared += 1
    assert compared >= 4 * 12
    summary = timeline["2026-11-17T12:00"][("summary",)]
    assert summary["rows"][0]["hot_without_next_call"] == 1  # Barbara: her call was due
    # and the reports did change meanwhile: the test compares something
    now = {tuple(r): cli.json("report", *r) for r in REPORTS}
    assert all(now[r] != timeline["2026-11-06T15:00"][r] for r in [("reps",), ("summary",)])


def test_owners_and_statuses_of_the_past(cli, timeline):
    reps = {r["owner"]: r["leads"] for r in cli.json("report", "reps")["rows"]}
    assert reps == {"alice": 1, "bob": 1, "carol": 1, "dave": 1, "erin": 2, "tester": 0, None: 1}
    then = {
        r["owner"]: r["leads"]
        for r in cli.json("report", "reps", "--as-of", "2026-11-06T15:00")["rows"]
    }
    # Ada had moved to carol, Edsger was bob's, Alan bob's, Grace nobody's
    assert then == {"carol": 1, "bob": 2, None: 1, "tester": 0}  # tester logged a meeting
    aging = cli.json("report", "aging", "--as-of", "2026-11-03T09:00")["rows"]
    assert {r["status"]: r["leads"] for r in aging} == {
        "new": 2,
        "contacted": 1,
        "qualified": 0,
        "nurture": 0,
    }


def test_a_date_stands_for_the_end_of_that_day(cli, timeline):
    # nothing happened on Nov 3 after 09:00 nor on Nov 4 before 09:00 (scores
    # fade in between: `sources` differs)
    for report in (["funnel"], ["reps"], ["trend"], ["funnel", "--by", "stage"]):
        assert cli.json("report", *report, "--as-of", "2026-11-03") == cli.json(
            "report", *report, "--as-of", "2026-11-03T09:00"
        )
    table = cli("report", "funnel", "--as-of", "2026-11-03").stdout
    assert "as of the end of 2026-11-03" in table
    assert "as of 2026-11-06 15:00" in cli("report", "reps", "--as-of", "2026-11-06T15:00").stdout


def test_the_period_ends_at_the_as_of_moment_at_the_latest(cli, timeline):
    early = cli.json("report", "funnel", "--until", "2026-11-02", "--as-of", "2026-11-10")
    assert early == cli.json("report", "funnel", "--until", "2026-11-02")
    assert cli.json("report", "trend", "--until", "2026-12-31", "--as-of", "2026-11-05") == (
        cli.json("report", "trend", "--as-of", "2026-11-05")
    )
    assert (
        "--since"
        in cli("report", "funnel", "--since", "2026-11-10", "--as-of", "2026-11-05", code=1).stderr
    )


def test_as_of_writes_nothing(cli, timeline, db_target):
    before = fingerprint(db_target)
    for report in REPORTS:
        cli("report", *report, "--as-of", "2026-11-06T15:00")
    assert fingerprint(db_target) == before


@pytest.mark.parametrize("when", ["1899-12-31", "2201-01-01", "0001-01-01T00:00", "someday"])
def test_bad_moments_are_invalid_input(cli, when):
    result = cli("report", "summary", "--as-of", when, code=1)
    assert result.stderr.startswith("error: invalid --as-of")


def test_a_moment_to_come_is_now(cli, add_lead):
    add_lead("Ada")
    assert cli.json("report", "aging", "--as-of", "2030-01-01") == cli.json("report", "aging")


def test_funnel_by_stage(cli, add_lead, monkeypatch):
    """lead → mql → sql → converted, from the stage history; a conversion
    counts as having passed every stage before it."""
    cli("config", "set", "mql_score", "20")
    cli("config", "set", "sql_score", "40")
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-01T09:00:00Z")
    for name in ("Ada", "Bob", "Cy", "Dee"):
        add_lead(name)
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-03T09:00:00Z")
    cli("score", "1", "--adjust", "25", "--reason", "warm")  # mql after 2 days
    cli("score", "2", "--adjust", "45", "--reason", "hot")  # sql after 2 days
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-05T09:00:00Z")
    cli("score", "1", "--adjust", "0", "--reason", "cold again")  # was mql: still counts
    cli("convert", "3")  # never scored: converted all the same, after 4 days
    assert cli.json("report", "funnel", "--by", "stage")["rows"] == [
        {"stage": "lead", "leads": 4, "of_previous": None, "median_days": 0.0},
        {"stage": "mql", "leads": 3, "of_previous": 0.75, "median_days": 2.0},
        {"stage": "sql", "leads": 2, "of_previous": 0.6667, "median_days": 3.0},
        {"stage": "converted", "leads": 1, "of_previous": 0.5, "median_days": 4.0},
    ]
    assert cli.json("report", "funnel", "--by", "stage", "--as-of", "2026-11-04")["rows"] == [
        {"stage": "lead", "leads": 4, "of_previous": None, "median_days": 0.0},
        {"stage": "mql", "leads": 2, "of_previous": 0.5, "median_days": 2.0},
        {"stage": "sql", "leads": 1, "of_previous": 0.5, "median_days": 2.0},
        {"stage": "converted", "leads": 0, "of_previous": 0.0, "median_days": None},
    ]
    csv = cli("report", "funnel", "--by", "stage", "--csv").stdout
    assert csv.splitlines()[0] == "stage,leads,of_previous,median_days"
    assert cli.json("report", "funnel", "--by", "status")["rows"][0]["status"] == "new"


def test_a_rep_sees_only_their_leads_as_of_then_too(cli, add_lead, monkeypatch):
    cli("user", "add", "root", "--role", "admin")
    cli("--as", "root", "user", "add", "rita", "--role", "rep")
    cli("--as", "root", "user", "add", "max", "--role", "rep")
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-10T09:00:00Z")
    monkeypatch.setenv("LEADCTL_USER", "root")
    add_lead("Ada", "--assign", "rita")
    add_lead("Bob", "--assign", "max")
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-20T09:00:00Z")
    then = cli.json("--as", "rita", "report", "reps", "--as-of", "2026-11-15")["rows"]
    assert [(r["owner"], r["leads"]) for r in then] == [("rita", 1)]
    assert "your leads" in cli("--as", "rita", "report", "summary", "--as-of", "2026-11-15").stdout
