"""`score --rules FILE --dry-run`: what a rule change would do, writing nothing.

Every test runs the dry run, checks the database is the same (the SQLite
file byte for byte, every row on PostgreSQL), then runs the real thing and
holds the dry run's figures to what it did.
"""

from __future__ import annotations

from collections import Counter

import pytest

from leadctl.scoring.rules import default_text
from tests.contents import fingerprint

# the default rules, changed: VPs worth much more, and a lower hot threshold
NEW_RULES = (
    default_text()
    .replace(
        '"head of", "head"]  # "Head of Sales"\npoints = 15', '"head of", "head"]\npoints = 35'
    )
    .replace("hot = 70 ", "hot = 60 ")
)


@pytest.fixture
def pipeline(cli, add_lead, monkeypatch, tmp_path):
    """A dozen leads of several kinds, some engaged a while ago."""
    assert NEW_RULES != default_text() and "points = 35" in NEW_RULES
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-01T09:00:00Z")
    cli("config", "set", "mql_score", "30")
    people = [
        ("Ada", "VP Engineering", "500"),
        ("Bob", "Intern", "5"),
        ("Cy", "Head of Sales", "2000"),
        ("Dee", "CTO", "80"),
        ("Eve", "Vice President", "20"),
        ("Fay", "Engineer", "300"),
        ("Gus", "VP Marketing", None),
        ("Hal", "Owner", "10"),
    ]
    for name, title, size in people:
        fields = {"title": title} | ({"company_size": size} if size else {})
        add_lead(name, **fields)
    for lead in ("1", "3", "5", "7"):
        cli("log", lead, "--type", "email_open")
        cli("log", lead, "--type", "form_submit")
    cli("score", "4", "--adjust", "30", "--reason", "met at the fair")
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-23T09:00:00Z")  # the engagements have faded
    rules = tmp_path / "new.toml"
    rules.write_text(NEW_RULES, encoding="utf-8")
    return rules


def every_lead(cli):
    return cli.json("list", "--all", "--limit", "0")


def test_dry_run_writes_nothing_and_tells_what_the_real_run_then_does(cli, pipeline, db_target):
    before = {lead["id"]: lead for lead in every_lead(cli)}
    unchanged = fingerprint(db_target)
    preview = cli.json("score", "--rules", pipeline, "--dry-run", "--limit", "100")
    assert fingerprint(db_target) == unchanged
    assert cli.json("config", "get", "mql_score") == {"mql_score": 30}  # still readable
    done = cli.json("score", "--rules", pipeline)
    after = {lead["id"]: lead for lead in every_lead(cli)}
    assert (
        preview["changed"]
        == done["changed"]
        == sum(
            (before[i]["score"], before[i]["band"]) != (after[i]["score"], after[i]["band"])
            for i in after
        )
    )
    assert preview["changed"] > 0
    assert preview["rescored"] == done["rescored"] == len(after)
    assert preview["bands"] == {
        band: Counter(lead["band"] for lead in after.values())[band]
        for band in ("hot", "warm", "cold")
    }
    assert preview["bands_before"] == {
        band: Counter(lead["band"] for lead in before.values())[band]
        for band in ("hot", "warm", "cold")
    }
    assert preview["stages"] == {
        stage: Counter(lead["stage"] for lead in after.values())[stage]
        for stage in ("lead", "mql", "sql")
    }
    assert preview["stage_changes"] == sum(before[i]["stage"] != after[i]["stage"] for i in after)
    assert preview["stage_changes"] > 0
    moved = {i: (before[i]["score"], after[i]["score"]) for i in after}
    movers = preview["movers"]
    assert {m["id"]: (m["old"], m["new"]) for m in movers} == {
        i: scores for i, scores in moved.items() if scores[0] != scores[1]
    }
    deltas = [abs(m["new"] - m["old"]) for m in movers]
    assert deltas == sorted(deltas, reverse=True)
    for mover in movers:
        assert mover["band"] == after[mover["id"]]["band"]
        assert mover["name"] == after[mover["id"]]["name"]
        assert mover["rules"], mover


def test_movers_name_the_rule_lines_that_moved_them(cli, pipeline):
    movers = cli.json("score", "--rules", pipeline, "--dry-run")["movers"]
    ada = next(m for m in movers if m["id"] == 1)
    assert {"rule": "demographic: Vice president or head of", "old": 15, "new": 35} in ada["rules"]
    # a line whose points are the same under both rule sets is not listed
    assert all(line["old"] != line["new"] for m in movers for line in m["rules"])
    table = cli("score", "--rules", pipeline, "--dry-run").stdout
    assert "Vice president or head of: +15 → +35" in table
    assert "hot" in table and "top" in table


def test_limit_cuts_the_movers_not_the_counts(cli, pipeline):
    full = cli.json("score", "--rules", pipeline, "--dry-run")
    assert len(full["movers"]) > 2
    cut = cli.json("score", "--rules", pipeline, "--dry-run", "--limit", "2")
    assert cut["movers"] == full["movers"][:2]
    none = cli.json("score", "--rules", pipeline, "--dry-run", "--limit", "0")
    assert none["movers"] == []
    assert {k: v for k, v in none.items() if k != "movers"} == {
        k: v for k, v in full.items() if k != "movers"
    }


def test_dry_run_of_a_plain_rescore_after_time_passed(cli, pipeline, monkeypatch, db_target):
    """Without --rules: what `score` would change now (behaviour has decayed)."""
    unchanged = fingerprint(db_target)
    preview = cli.json("score", "--dry-run")
    assert fingerprint(db_target) == unchanged
    assert "rules" not in preview
    done = cli.json("score")
    assert preview["changed"] == done["changed"] > 0
    assert cli.json("score", "--dry-run")["changed"] == 0


def test_archived_duplicates_count_as_the_real_run_does(cli, add_lead, pipeline):
    add_lead("Ada Again", email="ada.again@example.com", title="VP Sales")
    cli("merge", "1", "9")
    before = {lead["id"]: lead for lead in every_lead(cli)}
    preview = cli.json("score", "--rules", pipeline, "--dry-run")
    done = cli.json("score", "--rules", pipeline)
    assert preview["changed"] == done["changed"]
    assert preview["rescored"] == done["rescored"]
    assert sum(preview["bands"].values()) == len(before)  # bands: live leads only
    assert all(m["id"] != 9 for m in preview["movers"])


def test_refusals(cli, pipeline, tmp_path, db_target):
    assert "--limit goes with --dry-run" in cli("score", "--limit", "3", code=1).stderr
    for extra in (["1"], ["1", "--explain"], ["1", "--adjust", "5", "--reason", "r"]):
        assert "--dry-run" in cli("score", *extra, "--dry-run", code=1).stderr
    assert "0 to 10000" in cli("score", "--dry-run", "--limit", "-1", code=1).stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[bands]\nhot = 'x'\n", encoding="utf-8")
    unchanged = fingerprint(db_target)
    cli("score", "--rules", broken, "--dry-run", code=1)
    cli("score", "--rules", tmp_path / "missing.toml", "--dry-run", code=1)
    assert fingerprint(db_target) == unchanged


def test_a_rule_change_preview_needs_admin(cli, pipeline, db_target):
    cli("user", "add", "root", "--role", "admin")
    cli("--as", "root", "user", "add", "rita", "--role", "rep")
    unchanged = fingerprint(db_target)
    assert "admin" in cli("--as", "rita", "score", "--rules", pipeline, "--dry-run", code=4).stderr
    assert fingerprint(db_target) == unchanged
    assert cli.json("--as", "root", "score", "--rules", pipeline, "--dry-run")["changed"] > 0
    # a plain preview covers what a rep's own `score` would: the leads the rep may see
    assert cli.json("--as", "rita", "score", "--dry-run")["rescored"] == 8
