"""`leadctl sweep`: each rule with the clock moved forward, idempotence, the dry
run (counts equal to the real run's, the file untouched), permissions, output."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from tests.contents import fingerprint

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEYS = ["released", "escalated", "first_calls", "to_nurture", "stage_changes"]
NOTHING = dict.fromkeys(KEYS, 0)


def at(days: float = 0, hours: float = 0) -> str:
    return (NOW + timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def later(monkeypatch: pytest.MonkeyPatch, days: float = 0, hours: float = 0) -> None:
    monkeypatch.setenv("LEADCTL_NOW", at(days, hours))


def sweep(cli, *args: str, code: int = 0) -> dict[str, int]:
    return cli.json("sweep", *args, code=code)


def acts(cli, lead_id: int, kind: str) -> list[dict]:
    return [a for a in cli.json("show", lead_id)["activities"] if a["kind"] == kind]


def test_nothing_to_do_is_silent_and_zero(cli, add_lead):
    add_lead()
    result = cli("sweep")
    assert (result.stdout, result.stderr) == ("", "")
    assert sweep(cli) == NOTHING
    assert list(sweep(cli)) == KEYS


def test_a_run_that_changes_something_says_so_in_one_line(cli, add_lead, monkeypatch):
    lead = add_lead()
    cli("claim", lead["id"], "--hours", "1")
    later(monkeypatch, hours=2)
    result = cli("sweep")
    assert result.stdout == ""
    assert result.stderr == (
        "sweep: released 1, escalated 0, first calls 0, to nurture 0, stage changes 0\n"
    )
    assert cli("sweep").stderr == ""  # idempotent: a second run finds nothing


# --- (a) expired claims ----------------------------------------------------------------------


def test_expired_claims_go_back_to_the_pool(cli, add_lead, monkeypatch):
    ids = [add_lead(f"Lead {n}")["id"] for n in range(3)]
    cli("claim", ids[0], "--hours", "1")
    cli("claim", ids[1], "--hours", "5")
    later(monkeypatch, hours=2)
    assert sweep(cli) == NOTHING | {"released": 1}
    assert [a["body"] for a in acts(cli, ids[0], "release")] == ["claim expired"]
    assert cli.json("show", ids[1])["claimed_by"] == "tester"
    assert sweep(cli) == NOTHING


# --- (b) escalation ----------------------------------------------------------------------------


def test_rotting_owned_and_claimed_leads_go_back_to_the_pool(cli, add_lead, monkeypatch):
    owned, claimed, pooled, fresh = (add_lead(f"Lead {n}")["id"] for n in range(4))
    cli("assign", owned, "--to", "rita")
    cli("claim", claimed, "--hours", "200")
    later(monkeypatch, days=1)
    cli("assign", fresh, "--to", "rita")  # touched a day later
    later(monkeypatch, days=2, hours=1)  # new rots after 2 days
    assert sweep(cli) == NOTHING | {"escalated": 2}
    for lead_id in (owned, claimed):
        lead = cli.json("show", lead_id)
        assert (lead["owner"], lead["claimed_by"], lead["claim_expires_at"]) == (None, None, None)
        assert lead["rotting"] is False  # the hand-off starts its aging again
    (escalated,) = acts(cli, owned, "escalate")
    assert escalated["body"] == "untouched 2 days in new (rots after 2d); to pool"
    assert (escalated["field"], escalated["old_value"]) == ("owner", "rita")
    assert acts(cli, claimed, "escalate")[0]["field"] == "claimed_by"
    assert cli.json("show", fresh)["owner"] == "rita"
    assert cli.json("show", pooled)["rotting"] is True  # a pool lead has nobody to escalate from
    assert sweep(cli) == NOTHING  # not escalated twice


def test_escalation_follows_each_status_rot_time(cli, add_lead, monkeypatch):
    lead = add_lead()["id"]
    cli("assign", lead, "--to", "rita")
    cli("status", lead, "contacted")
    cli("statuses", "set", "contacted", "--rots-after", "36h")
    later(monkeypatch, hours=35)
    assert sweep(cli)["escalated"] == 0
    later(monkeypatch, hours=37)
    assert sweep(cli)["escalated"] == 1
    assert acts(cli, lead, "escalate")[0]["body"].startswith(
        "untouched 1 day in contacted (rots after 36h)"
    )


def team(cli) -> None:
    cli("user", "add", "ann", "--role", "admin")
    for name, role in (("max", "manager"), ("mia", "manager"), ("rob", "rep"), ("vic", "viewer")):
        cli("--as", "ann", "user", "add", name, "--role", role)


def test_escalation_to_users_takes_turns(cli, monkeypatch):
    team(cli)
    monkeypatch.setenv("LEADCTL_USER", "ann")
    ids = [
        cli.json("add", f"Lead {n}", "--email", f"l{n}@example.com", "--assign", "rob")["id"]
        for n in range(4)
    ]
    mine = cli.json("add", "Max's", "--email", "m@example.com", "--assign", "max")["id"]
    cli("config", "set", "escalate_to", "max,mia")
    later(monkeypatch, days=3)
    assert sweep(cli) == NOTHING | {"escalated": 4}
    owners = [cli.json("show", i)["owner"] for i in ids]
    assert sorted(owners) == ["max", "max", "mia", "mia"]
    assert owners[0] != owners[1]
    assert acts(cli, ids[0], "escalate")[0]["body"].endswith("; to max, mia")
    assert [a["old_value"] for a in acts(cli, ids[0], "assign")][-1] == "rob"
    assert cli.json("show", mine)["owner"] == "max"  # already with an escalation user
    assert sweep(cli) == NOTHING


def test_escalation_skips_users_away_or_full_and_pools_what_nobody_can_take(cli, monkeypatch):
    team(cli)
    monkeypatch.setenv("LEADCTL_USER", "ann")
    ids = [
        cli.json("add", f"Lead {n}", "--email", f"l{n}@example.com", "--assign", "rob")["id"]
        for n in range(3)
    ]
    cli("config", "set", "escalate_to", "max,mia")
    cli("user", "away", "max", "--until", "2026-12-31")
    cli("user", "set", "mia", "--capacity", "1")
    later(monkeypatch, days=3)
    assert sweep(cli) == NOTHING | {"escalated": 3}
    owners = sorted(str(cli.json("show", i)["owner"]) for i in ids)
    assert owners == ["None", "None", "mia"]  # max away, mia full after one
    pooled = next(i for i in ids if cli.json("show", i)["owner"] is None)
    assert acts(cli, pooled, "escalate")[-1]["body"].endswith("nobody of max, mia free; to pool")
    assert sweep(cli) == NOTHING


# --- (c) first calls ----------------------------------------------------------------------------


def test_first_calls_for_new_leads_without_one(cli, add_lead, monkeypatch):
    waiting = add_lead("Waiting")["id"]
    contacted = add_lead("Contacted")["id"]
    cli("log", contacted, "--type", "call")
    planned = add_lead("Planned")["id"]
    cli("schedule", planned, "2026-12-01")
    assert sweep(cli) == NOTHING  # first_call_after is off by default
    cli("config", "set", "first_call_after", "2h")
    later(monkeypatch, days=1)
    assert sweep(cli) == NOTHING | {"first_calls": 1}
    assert cli.json("show", waiting)["next_call_at"] == "2026-11-23T11:00:00Z"  # arrival + 2h
    (scheduled,) = acts(cli, waiting, "schedule")
    assert scheduled["body"] == "first call (first_call_after 2h)"
    assert cli.json("show", contacted)["next_call_at"] is None
    assert cli.json("show", planned)["next_call_at"] == "2026-12-01T09:00:00Z"
    later(monkeypatch, days=3)  # the sweep's call is no person's work: the lead still rots
    assert cli.json("show", waiting)["rotting"] is True
    assert sweep(cli) == NOTHING


# --- (d) to nurture -----------------------------------------------------------------------------


def test_idle_open_leads_move_to_nurture_when_inactive_days_is_set(cli, add_lead, monkeypatch):
    idle, busy, nurtured, lost = (add_lead(f"Lead {n}")["id"] for n in range(4))
    cli("status", nurtured, "nurture")
    cli("status", lost, "lost", "--reason", "Other")
    later(monkeypatch, days=5)
    cli("note", busy, "still talking")
    later(monkeypatch, days=11)
    assert sweep(cli)["to_nurture"] == 0  # off by default
    cli("config", "set", "inactive_days", "10")
    assert sweep(cli) == NOTHING | {"to_nurture": 1}
    lead = cli.json("show", idle)
    assert lead["status"] == "nurture"
    (moved,) = [a for a in lead["activities"] if a["kind"] == "status"]
    assert (moved["old_value"], moved["new_value"]) == ("new", "nurture")
    assert moved["body"] == "untouched 11 days (inactive_days 10)"
    assert [cli.json("show", i)["status"] for i in (busy, nurtured, lost)] == [
        "new",
        "nurture",
        "lost",
    ]
    assert sweep(cli) == NOTHING


def test_inactive_days_without_a_nurture_status_is_an_error(cli, add_lead):
    cli("statuses", "remove", "nurture")
    cli("config", "set", "inactive_days", "10")
    result = cli("sweep", code=1)
    assert "no nurture status" in result.stderr


# --- (e) stages ---------------------------------------------------------------------------------


def test_stages_brought_in_line_with_scores(cli, add_lead, sql):
    ids = [add_lead(f"Lead {n}")["id"] for n in range(3)]
    # a score written behind its back
    sql("UPDATE lead SET score = 80 WHERE id IN (:a, :b)", a=ids[0], b=ids[1])
    assert sweep(cli) == NOTHING | {"stage_changes": 2}
    assert [cli.json("show", i)["stage"] for i in ids] == ["sql", "sql", "lead"]
    assert sweep(cli) == NOTHING


# --- everything at once: the dry run, idempotence ---------------------------------------------


def busy_day(cli, monkeypatch, sql) -> None:
    """Leads for every rule, then the clock 12 days on."""
    ids = [cli.json("add", f"Lead {n}", "--email", f"l{n}@example.com")["id"] for n in range(12)]
    cli("claim", *ids[:3], "--hours", "1")
    cli("assign", *ids[3:6], "--to", "rita")
    cli("status", ids[6], "contacted")
    cli("status", ids[7], "qualified")
    cli("config", "set", "first_call_after", "1d")
    cli("config", "set", "inactive_days", "10")
    cli("config", "set", "sql_requires_qualified", "yes")
    sql(  # ids[7] is sql while qualified: moved to nurture, it becomes an mql
        "UPDATE lead SET score = 90, stage = CASE WHEN id = :hot THEN 'sql' ELSE stage END "
        "WHERE id IN (:a, :b, :c)",
        hot=ids[7], a=ids[7], b=ids[8], c=ids[4],
    )  # fmt: skip
    later(monkeypatch, days=12)


def test_the_dry_run_counts_what_the_sweep_does_and_writes_nothing(
    cli, db_target, sql, monkeypatch
):
    busy_day(cli, monkeypatch, sql)
    before = fingerprint(db_target)
    dry = sweep(cli, "--dry-run")
    said = cli("sweep", "--dry-run")
    assert fingerprint(db_target) == before
    assert said.stdout.startswith("would sweep: released 3, escalated 3")
    done = sweep(cli)
    assert done == dry
    assert dry == {
        "released": 3, "escalated": 3, "first_calls": 3, "to_nurture": 9, "stage_changes": 3,
    }  # fmt: skip
    assert fingerprint(db_target) != before
    assert sweep(cli) == NOTHING
    assert sweep(cli, "--dry-run") == NOTHING


def test_the_dry_run_matches_the_sweep_in_each_rule_order_case(cli, add_lead, monkeypatch):
    """A lead rotting and idle: escalated (a touch), so not moved to nurture, and
    (new, never called) given a first call; a new lead idle: to nurture, so none."""
    owned = add_lead("Owned")["id"]
    cli("assign", owned, "--to", "rita")
    add_lead("Idle")
    cli("config", "set", "first_call_after", "1h")
    cli("config", "set", "inactive_days", "3")
    later(monkeypatch, days=4)
    dry = sweep(cli, "--dry-run")
    assert dry == NOTHING | {"escalated": 1, "to_nurture": 1, "first_calls": 1}
    assert sweep(cli) == dry
    assert cli.json("show", owned)["status"] == "new"
    assert cli.json("show", owned)["next_call_at"] == "2026-11-23T10:00:00Z"


# --- who may run it -----------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "code"), [("ann", 0), ("max", 0), ("rob", 4), ("vic", 4)])
def test_with_users_a_manager_or_admin_sweeps(cli, user, code):
    team(cli)
    result = cli("--as", user, "sweep", code=code)
    if code:
        assert "may not run the sweep" in result.stderr
    cli("--as", user, "sweep", "--dry-run", code=code)


def test_sweep_activities_are_one_command_of_the_actor(cli, add_lead, sql, monkeypatch):
    lead = add_lead()["id"]
    cli("assign", lead, "--to", "rita")
    later(monkeypatch, days=3)
    sweep(cli)
    rows = sql(
        "SELECT kind, actor, command_id FROM activity WHERE lead_id = :id AND kind = :kind",
        id=lead, kind="escalate",
    )  # fmt: skip
    assert [(kind, actor) for kind, actor, _ in rows] == [("escalate", "tester")]
    assert rows[0][2] is not None


# --- beside other writers, as cron runs it ------------------------------------------------------

CLAIMER = """
import json, subprocess, sys
leadctl = sys.argv[1]
codes, errors = [], []
for n in range(6):
    command = [leadctl, "claim", "--next", "--count", "2"]
    run = subprocess.run(command, capture_output=True, text=True)
    codes.append(run.returncode)
    errors.append(run.stderr)
print(json.dumps([codes, errors]))
"""


@pytest.mark.slow
def test_sweep_from_cron_beside_an_import_and_people_claiming(cli, sql, tmp_path, monkeypatch):
    import json
    import subprocess
    import sys

    from benchmarks.make_csv import write
    from tests.conftest import leadctl_bin, run_leadctl

    ids = [cli.json("add", f"Lead {n}", "--email", f"seed{n}@example.com")["id"] for n in range(60)]
    cli("claim", *ids[:20], "--hours", "1")
    cli("assign", *ids[20:40], "--to", "rita")
    cli("config", "set", "first_call_after", "2h")
    later(
        monkeypatch, days=3
    )  # every claim expired, rita's leads rotting (the children inherit it)
    source = tmp_path / "in.csv"
    write(source, 4000, dup_rate=0, bad_rate=0)
    importer = subprocess.Popen(
        [leadctl_bin(), "import", str(source), "--json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    claimers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, leadctl_bin()],
            env={**os.environ, "LEADCTL_USER": f"rep{n}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for n in range(3)
    ]
    totals = dict.fromkeys(KEYS, 0)
    codes = []
    while importer.poll() is None or any(c.poll() is None for c in claimers) or len(codes) < 2:
        result = run_leadctl("sweep", "--json")
        codes.append(result.returncode)
        if result.returncode == 0:
            for key, value in json.loads(result.stdout).items():
                totals[key] += value
    out, err = importer.communicate(timeout=120)
    assert importer.returncode == 0, err
    for claimer in claimers:
        printed, err = claimer.communicate(timeout=120)
        claimed, errors = json.loads(printed)
        assert set(claimed) == {0}, (err, errors)  # never "no unclaimed leads left"
    assert set(codes) == {0}, codes  # never busy (5), never anything else
    final = json.loads(run_leadctl("sweep", "--json").stdout)
    assert final == NOTHING  # idempotent once the others are done
    assert (totals["escalated"], totals["first_calls"]) == (20, 60)
    # each expired claim released once by a sweep, or taken over by a claimer first
    released = {i for (i,) in sql("SELECT DISTINCT lead_id FROM activity WHERE kind = 'release'")}
    assert totals["released"] == len(released) and released <= set(ids[:20])
    taken = {
        lead["id"]: lead["claimed_by"] for lead in cli.json("list", "--claimed", "--limit", "0")
    }
    assert all(taken.get(i, "").startswith("rep") for i in set(ids[:20]) - released)
    imported = json.loads(out)["imported"]
    assert sql("SELECT count(*) FROM lead")[0][0] == 60 + imported  # nothing lost
    handled = sql(
        "SELECT lead_id, SUM(CASE WHEN kind = 'release' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN kind = 'escalate' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN kind = 'schedule' AND body LIKE 'first call%' THEN 1 ELSE 0 END) "
        "FROM activity GROUP BY lead_id"
    )
    twice = [row for row in handled if max(row[1:]) > 1]
    assert twice == []  # nothing handled twice
