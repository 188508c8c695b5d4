"""`score` through the real CLI: explain, adjust, rules, and scores kept up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadctl.scoring.rules import default_text

HOT_LEAD = {
    "title": "VP Operations",
    "country": "US",
    "company_size": "250",
    "revenue": "12M",
    "industry": "Software",
    "authority": "yes",
}


def explain(cli, lead_id: int) -> dict:
    data = cli.json("score", str(lead_id), "--explain")
    assert sum(rule["points"] for rule in data["rules"]) + data["adjustment"] == data["score"]
    return data


def test_a_new_lead_is_scored_when_added(add_lead):
    lead = add_lead("Maya Okafor", **HOT_LEAD)
    assert (lead["score"], lead["band"]) == (51, "warm")  # 35 demographic + 16 firmographic


def test_explain_lists_every_rule_per_component_and_adds_up(cli, add_lead):
    add_lead("Maya Okafor", **HOT_LEAD)
    cli("log", "1", "--type", "meeting")
    data = explain(cli, 1)
    assert data == {
        "id": 1,
        "score": 66,
        "band": "warm",
        "components": {"demographic": 35, "behavioral": 15, "firmographic": 16},
        "adjustment": 0,
        "rules": [
            {"rule": "demographic: Vice president or head of", "points": 15},
            {"rule": "demographic: Decision maker (BANT authority)", "points": 10},
            {"rule": "demographic: Core market", "points": 10},
            {"rule": "behavioral: meeting ×1", "points": 15},
            {"rule": "firmographic: Mid-market (200–999 employees)", "points": 6},
            {"rule": "firmographic: Revenue 10M–50M", "points": 4},
            {"rule": "firmographic: Target industry", "points": 6},
        ],
    }
    table = cli("score", "1", "--explain").stdout
    assert "#1 Maya Okafor: 66 warm" in table
    assert "Vice president or head of" in table and "+15" in table
    assert "demographic 35, behavioral 15, firmographic 16" in table


def test_explain_of_several_leads_is_an_array(cli, add_lead):
    add_lead("Ada Lovelace")
    add_lead("Grace Hopper")
    data = cli.json("score", "1", "2", "--explain")
    assert [item["id"] for item in data] == [1, 2]


def test_scores_follow_edits_and_logged_activity(cli, add_lead):
    lead = add_lead("Ada Lovelace")
    assert lead["score"] == 0
    assert cli.json("edit", "1", "--title", "CEO")["score"] == 20
    cli("log", "1", "--type", "form_submit")
    assert cli.json("show", "1")["score"] == 30
    merged = cli.json(
        "add", "Ada L.", "--email", "ada.lovelace@example.com", "--country", "US",
        "--on-duplicate", "merge",
    )  # fmt: skip
    assert merged["score"] == 40


def test_hot_eligible_bant_lead_is_hot(add_lead):
    lead = add_lead(
        "Bea Buyer",
        budget="20000",
        authority="yes",
        need="replace the CRM",
        timeline="2027-01-10",
        deal_value="25000",
    )
    assert (lead["score"], lead["band"]) == (70, "hot")


def test_adjust_persists_across_recomputes_and_rule_changes(cli, add_lead, tmp_path):
    add_lead("Ada Lovelace", title="CEO")
    adjusted = cli.json("score", "1", "--adjust", "-5", "--reason", "slow to answer")
    assert (adjusted["score"], adjusted["score_adjustment"]) == (15, -5)
    assert cli.json("score", "1", "--adjust", "+12", "--reason", "met at a fair")["score"] == 32
    cli("score")
    assert cli.json("show", "1")["score"] == 32
    rules = tmp_path / "rules.toml"
    rules.write_text(default_text().replace("points = 20", "points = 25", 1), "utf-8")
    cli("score", "--rules", str(rules))
    data = explain(cli, 1)
    assert (data["score"], data["adjustment"]) == (37, 12)
    timeline = [a for a in cli.json("show", "1")["activities"] if a["kind"] == "score_adjust"]
    assert [(a["old_value"], a["new_value"], a["body"]) for a in timeline] == [
        ("+0", "-5", "slow to answer"),
        ("-5", "+12", "met at a fair"),
    ]
    assert all(a["actor"] == "tester" for a in timeline)


def test_adjustment_beyond_the_range_is_clamped_in_the_score(cli, add_lead):
    add_lead("Ada Lovelace", title="CEO")
    data = cli.json("score", "1", "--adjust", "100", "--reason", "sure thing", "--explain")
    assert data["score"] == 100
    assert data["rules"][-1] == {"rule": "total: clamped to 100", "points": -20}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "--adjust", "5"], "--adjust needs --reason"),
        (["1", "--adjust", "5", "--reason", " "], "--adjust needs --reason"),
        (["1", "--reason", "why"], "--reason goes with --adjust"),
        (["--adjust", "5", "--reason", "why"], "--adjust needs lead ids"),
        (["--explain"], "--explain needs lead ids"),
        (["1", "--adjust", "101", "--reason", "why"], "invalid adjustment 101"),
        (["7"], "no lead with id 7"),
    ],
)
def test_invalid_score_invocations_exit_1_and_change_nothing(cli, add_lead, args, message):
    add_lead("Ada Lovelace", title="CEO")
    result = cli("score", *args, code=1)
    assert message in result.stderr and result.stdout == ""
    lead = cli.json("show", "1")
    assert (lead["score"], lead["score_adjustment"]) == (20, 0)
    assert not [a for a in lead["activities"] if a["kind"] == "score_adjust"]


def test_score_all_reports_counts(cli, add_lead):
    add_lead("Ada Lovelace", title="CEO")
    add_lead("Grace Hopper")
    assert cli.json("score") == {"rescored": 2, "changed": 0}
    assert cli("score").stderr == "rescored 2 leads (0 changed)\n"


def test_rules_file_is_validated_stored_and_applied(cli, add_lead, tmp_path):
    add_lead("Ada Lovelace", title="CEO")
    rules = tmp_path / "mine.toml"
    rules.write_text(
        default_text().replace("warm = 31", "warm = 10").replace("hot = 70", "hot = 15")
    )
    result = cli.json("score", "--rules", str(rules))
    assert result == {"rescored": 1, "changed": 1, "rules": str(rules)}
    assert cli.json("show", "1")["band"] == "hot"
    assert cli.json("list", "--band", "hot")[0]["id"] == 1
    again = cli.json("score", "--rules", str(rules))  # the same rules: the same scores
    assert again["changed"] == 0


def test_invalid_rules_exit_1_with_file_and_line_and_keep_the_stored_rules(cli, add_lead, tmp_path):
    add_lead("Ada Lovelace", title="CEO")
    before = explain(cli, 1)
    bad = tmp_path / "bad.toml"
    text = default_text().replace("points = 20", "points = 20.5", 1)
    bad.write_text(text, "utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "points = 20.5" in t)
    result = cli("score", "--rules", str(bad), code=1)
    assert result.stderr == (
        f"error: invalid scoring rules {bad}, line {line}: points must be a whole number "
        "from -100 to 100, not 20.5\n"
    )
    bad.write_text("[bands\n", "utf-8")
    assert f"invalid scoring rules {bad}, line 1:" in cli("score", "--rules", bad, code=1).stderr
    assert "not found" in cli("score", "--rules", tmp_path / "nope.toml", code=1).stderr
    assert explain(cli, 1) == before


def test_list_sort_and_band_and_claim_next_use_the_stored_score(cli, add_lead):
    add_lead("Low Lead")
    add_lead("High Lead", title="CEO", country="US", company_size="5000")
    add_lead("Mid Lead", title="Director")
    assert [lead["name"] for lead in cli.json("list", "--sort", "score")] == [
        "High Lead", "Mid Lead", "Low Lead"
    ]  # fmt: skip
    cli("score", "3", "--adjust", "60", "--reason", "referral from the CEO")
    assert [lead["id"] for lead in cli.json("list", "--band", "hot")] == [3]
    assert cli.json("claim", "--next")["id"] == 3


def test_rules_need_admin_and_adjust_needs_to_work_the_lead(cli, add_lead, tmp_path: Path):
    add_lead("Ada Lovelace", title="CEO")
    cli("user", "add", "tester", "--role", "admin")
    cli("user", "add", "rob", "--role", "rep")
    cli("user", "add", "vic", "--role", "viewer")
    rules = tmp_path / "rules.toml"
    rules.write_text(default_text(), "utf-8")
    denied = cli("--as", "rob", "score", "--rules", rules, code=4)
    assert "lacks the admin permission to change the scoring rules" in denied.stderr
    cli("--as", "vic", "score", "1", "--adjust", "5", "--reason", "x", code=4)
    cli("--as", "vic", "score", "1", "--explain")  # a viewer may read the explanation
    cli("--as", "rob", "score", "1", "--adjust", "5", "--reason", "called back")
    cli("assign", "1", "--to", "tester")
    cli("--as", "rob", "score", "1", "--explain", code=4)  # not his lead: not visible
    cli("score", "--rules", rules)
    assert cli.json("show", "1")["score"] == 25
