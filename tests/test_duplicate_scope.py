"""A rep's duplicate check never reveals, nor writes to, a lead the rep may not see or
work on: `add` (every --on-duplicate), `import` (every --on-duplicate), `dedupe`.

Leads (added by ann, an admin): ``hidden`` is rita's (a rep), ``held`` is in the pool
on rita's live claim, ``mine`` is rob's own. rob (a rep) acts.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

HIDDEN = "duplicate of a lead you cannot see; ask a manager"
BOSS = ("--as", "ann")
ROB = ("--as", "rob")
# rob's new lead duplicating rita's, by each rule: (add options, import row)
BY_RULE = {
    "email": (
        ["--email", "HANNAH@example.com"],
        "H. Hidden,HANNAH@example.com,,,from rob",  # the same person (issue 12: names agree)
    ),
    "phone": (
        ["--email", "other@example.com", "--phone", "(415) 555-0123"],
        "H. Hidden,other@example.com,(415) 555-0123,,from rob",
    ),
    "company and name": (
        ["--email", "hh@example.org", "--company", "SECRETCO"],
        "Hidden Hannah,hh@example.org,,SECRETCO,from rob",
    ),
}


@pytest.fixture
def team(cli) -> dict[str, Any]:
    cli("user", "add", "ann", "--role", "admin")
    for name, role in (("meg", "manager"), ("rob", "rep"), ("rita", "rep")):
        cli(*BOSS, "user", "add", name, "--role", role)
    ids = {
        "hidden": cli.json(
            *BOSS, "add", "Hannah Hidden", "--email", "hannah@example.com",
            "--phone", "+14155550123", "--company", "Secretco", "--assign", "rita",
        )["id"],
        "held": cli.json(*BOSS, "add", "Paula Pool", "--email", "paula@example.com")["id"],
        "mine": cli.json(
            *BOSS, "add", "Mia Mine", "--email", "mia@example.com", "--assign", "rob"
        )["id"],
    }  # fmt: skip
    cli("--as", "rita", "claim", ids["held"])
    return ids


def snapshot(cli, lead_id: int) -> dict[str, Any]:
    return cli.json(*BOSS, "show", lead_id)


def lead_count(cli) -> int:
    return len(cli.json(*BOSS, "list", "--limit", "0"))


@pytest.mark.parametrize("rule", list(BY_RULE))
@pytest.mark.parametrize("mode", [None, "merge", "skip", "create"])
def test_add_duplicating_a_lead_the_rep_cannot_see_is_exit_3_naming_nothing(cli, team, rule, mode):
    before, count = snapshot(cli, team["hidden"]), lead_count(cli)
    options = ["--on-duplicate", mode] if mode else []
    result = cli(*ROB, "add", "Hidden Hannah", *BY_RULE[rule][0], *options, "--notes", "hi", code=3)
    assert result.stderr.strip() == f"error: {HIDDEN}"
    assert "Hannah Hidden" not in result.stderr and str(team["hidden"]) not in result.stderr
    assert snapshot(cli, team["hidden"]) == before
    assert lead_count(cli) == count


def test_a_manager_merges_into_any_lead(cli, team):
    merged = cli.json(
        "--as", "meg", "add", "Hidden Hannah", "--email", "hannah@example.com",
        "--title", "CFO", "--on-duplicate", "merge",
    )  # fmt: skip
    assert (merged["id"], merged["title"], merged["owner"]) == (team["hidden"], "CFO", "rita")


def test_a_pool_lead_on_someone_elses_claim_is_named_but_never_merged_into(cli, team):
    before = snapshot(cli, team["held"])
    add = (*ROB, "add", "Paula P", "--email", "paula@example.com", "--title", "CEO")
    plain = cli(*add, code=3)
    assert f"duplicate of lead {team['held']} (Paula Pool): same email" in plain.stderr
    merge = cli(*add, "--on-duplicate", "merge", code=3)
    assert "claimed by rita until" in merge.stderr and "cannot be merged into" in merge.stderr
    assert cli.json(*add, "--on-duplicate", "skip")["id"] == team["held"]
    assert snapshot(cli, team["held"]) == before
    created = cli.json(*add, "--on-duplicate", "create")
    assert created["id"] not in team.values()


def test_the_reps_own_and_free_pool_leads_still_merge(cli, team):
    own = cli.json(
        *ROB, "add", "Mia", "--email", "mia@example.com", "--title", "CTO",
        "--on-duplicate", "merge",
    )  # fmt: skip
    assert (own["id"], own["title"]) == (team["mine"], "CTO")
    cli(*BOSS, "release", team["held"])
    pool = cli.json(*ROB, "add", "Paula", "--email", "paula@example.com", "--on-duplicate", "merge")
    assert pool["id"] == team["held"]


def write_file(tmp_path: Path) -> Path:
    rows = [row for _, row in BY_RULE.values()] + [
        "Paula P,paula@example.com,,,from rob",
        "Nina New,nina@example.com,,,from rob",
        "Mia M,mia@example.com,,Mine Co,from rob",
    ]
    path = tmp_path / "rob.csv"
    path.write_text("Name,Email,Phone,Company,Notes\n" + "\n".join(rows) + "\n")
    return path


def rejects(path: Path) -> list[dict[str, str]]:
    with path.with_name("rob.rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("mode", ["merge", "skip", "create", "fail"])
def test_import_rejects_a_reps_rows_duplicating_leads_out_of_reach(cli, team, tmp_path, mode):
    path = write_file(tmp_path)
    before = {kind: snapshot(cli, lead_id) for kind, lead_id in team.items() if kind != "mine"}
    options = [] if mode == "merge" else ["--on-duplicate", mode]
    summary = cli.json(*ROB, "import", str(path), *options, code=1)
    held = {
        "merge": "claimed by rita until",
        "skip": None,
        "create": None,
        "fail": f"duplicate of lead {team['held']} (Paula Pool): same email",
    }[mode]
    reasons = [(r["line"], r["reason"]) for r in rejects(path)]
    assert reasons[:3] == [("2", HIDDEN), ("3", HIDDEN), ("4", HIDDEN)]
    assert [r["Name"] for r in rejects(path)][:3] == [
        "H. Hidden",
        "H. Hidden",
        "Hidden Hannah",
    ]
    if held is None:
        assert len(reasons) == 3
    else:
        assert reasons[3][0] == "5" and held in reasons[3][1]
    counts = {
        "merge": (1, 1, 0, 4),
        "skip": (1, 0, 2, 3),
        "create": (3, 0, 0, 3),
        "fail": (1, 0, 0, 5),
    }
    assert tuple(summary[k] for k in ("imported", "merged", "skipped", "rejected")) == counts[mode]
    for kind, lead in before.items():
        assert snapshot(cli, team[kind]) == lead
    hidden_text = "\n".join(str(r) for r in rejects(path))
    assert "Hannah Hidden" not in hidden_text and f"lead {team['hidden']}" not in hidden_text
    if mode == "merge":
        assert cli.json(*ROB, "show", team["mine"])["company"] == "Mine Co"


def test_a_dry_run_counts_the_same_rejects(cli, team, tmp_path):
    path = write_file(tmp_path)
    dry = cli.json(*ROB, "import", str(path), "--dry-run", code=1)
    assert (dry["imported"], dry["merged"], dry["rejected"]) == (1, 1, 4)


def test_a_manager_imports_the_same_file_into_every_lead(cli, team, tmp_path):
    summary = cli.json("--as", "meg", "import", str(write_file(tmp_path)))
    assert (summary["imported"], summary["merged"], summary["rejected"]) == (1, 5, 0)
    assert snapshot(cli, team["hidden"])["fields"] == {}  # merged: blanks only
    notes = [a["body"] for a in snapshot(cli, team["hidden"])["activities"] if a["kind"] == "note"]
    assert notes == ["from rob"]


def test_dedupe_for_a_rep_lists_only_groups_within_their_scope(cli, team):
    create = ("--on-duplicate", "create")
    cli(*BOSS, "add", "Hannah H", "--email", "hannah@example.com", "--assign", "rob", *create)
    cli(*BOSS, "add", "Pat One", "--phone", "+14155550177", *create)
    cli(*BOSS, "add", "Pat Two", "--phone", "+1 415 555 0177", *create)
    everyone = cli.json(*BOSS, "dedupe")
    assert [g["reasons"] for g in everyone] == [["same email"], ["same phone"]]
    assert team["hidden"] in everyone[0]["ids"]
    robs = cli.json(*ROB, "dedupe")
    assert [(len(g["ids"]), g["reasons"]) for g in robs] == [(2, ["same phone"])]
    assert "Hannah" not in cli(*ROB, "dedupe").stdout


def test_a_merge_never_takes_ownership_of_a_pool_lead(cli, team, tmp_path):
    """Ownership moves only by assign or claim (each with its activity): a merge from
    `add --assign me` or from an import's Owner column leaves a pool lead unowned."""
    pool = cli.json(*BOSS, "add", "Petra Pool", "--email", "petra@example.com")["id"]
    cli(*ROB, "add", "Petra Pool", "--email", "petra@example.com", "--assign", "me",
        "--title", "CTO", "--on-duplicate", "merge")  # fmt: skip
    source = tmp_path / "owners.csv"
    source.write_text("Name,Email,Owner,Industry\nPetra Pool,PETRA@example.com,rob,Retail\n")
    cli(*ROB, "import", str(source))
    petra = snapshot(cli, pool)
    assert (petra["title"], petra["industry"]) == ("CTO", "Retail")  # blanks were filled
    assert petra["owner"] is None
    assert not [a for a in petra["activities"] if a["kind"] == "assign"]


def test_a_reps_import_cannot_plant_a_claim_a_score_or_another_reps_client(cli, team, tmp_path):
    """What only `claim`, `score --adjust` and a visible client allow is not taken from
    a rep's file (even one shaped like a leadctl export): each is kept as text, a
    warning. A manager's export-shaped import keeps them (a round trip)."""
    import json as json_module

    rita_client = cli.json(*BOSS, "convert", team["hidden"], "--no-deal")["client"]["id"]
    header = "id,name,email,score,score_adjustment,claimed_by,claim_expires_at,client_id,"
    header += "created_at,updated_at,fields"
    row = f"900,Planted,planted@example.com,99,50,rita,2099-01-01T00:00:00Z,{rita_client},"
    row += "2026-11-01T09:00:00Z,2026-11-01T09:00:00Z,{}"
    source = tmp_path / "shaped.csv"
    source.write_text(f"{header}\n{row}\n")
    result = cli(*ROB, "import", str(source), "--json")
    assert json_module.loads(result.stdout)["warnings"] == 5
    planted = next(x for x in cli.json(*BOSS, "list", "--limit", "0")
                   if x["name"] == "Planted")  # fmt: skip
    assert (planted["claimed_by"], planted["score_adjustment"], planted["client_id"]) == (
        None, 0, None,
    )  # fmt: skip
    assert planted["fields"]["claimed_by_raw"] == "rita"
    assert planted["fields"]["client_id_raw"] == str(rita_client)
    assert planted["score"] < 99
    cli(*ROB, "client", "show", rita_client, code=4)  # still none of his to see
