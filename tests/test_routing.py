"""Routing rules (`assign --rules FILE`) and `assign --simulate` (issue 15):
the first matching rule with someone available takes a lead; a bad file is
exit 1 naming its line, with nothing assigned; a simulation writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contents import fingerprint

ROOT = Path(__file__).resolve().parent.parent

RULES = """\
# routing for the tests
[[rule]]
name = "DACH"
country = ["DE", "at", "CH"]
to = ["ana", "ben"]

[[rule]]
name = "Referrals"
source = "referral"
to = ["cy"]

[[rule]]
name = "Software"
industry = "Software"
to = "industries"

[[rule]]
to = "territory"
"""


@pytest.fixture
def team(cli):
    cli("user", "add", "tester", "--role", "admin")
    for name in ("ana", "ben", "cy", "dan"):
        cli("user", "add", name, "--role", "rep")
    cli("user", "add", "vic", "--role", "viewer")


def add(cli, name, **fields):
    args = ["add", name, "--email", f"{name.lower().replace(' ', '.')}@example.com"]
    for key, value in fields.items():
        args += [f"--{key}", value]
    return cli.json(*args)["id"]


def rules_file(tmp_path, text=RULES, name="routing.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def owner_of(cli, lead_id):
    return cli.json("show", lead_id)["owner"]


def test_first_matching_rule_wins_dealt_round_robin(cli, team, tmp_path):
    path = rules_file(tmp_path)
    de = [add(cli, f"De {n}", country="DE") for n in range(3)]
    referral = add(cli, "Ref", country="FR", source="Referral")
    both = add(cli, "Both", country="AT", source="Referral")  # DACH comes first
    cli("assign", *de, referral, both, "--rules", path)
    assert [owner_of(cli, i) for i in de] == ["ana", "ben", "ana"]
    assert owner_of(cli, referral) == "cy"
    assert owner_of(cli, both) == "ben"
    body = [a["body"] for a in cli.json("show", referral)["activities"] if a["kind"] == "assign"]
    assert body == ["routing rules: Referrals"]


def test_territory_and_industries_rules_pick_the_users_that_cover_the_lead(cli, team, tmp_path):
    cli("user", "set", "dan", "--territory", "FR,Benelux")
    cli("user", "set", "cy", "--industries", "software")
    path = rules_file(tmp_path)
    fr = add(cli, "Fr", country="fr")
    benelux = add(cli, "Nl", country="NL", region="Benelux")
    soft = add(cli, "Soft", country="US", industry="Software")
    nobody = add(cli, "Us", country="US")
    result = cli("assign", fr, benelux, soft, nobody, "--rules", path)
    assert [owner_of(cli, i) for i in (fr, benelux, soft, nobody)] == ["dan", "dan", "cy", None]
    assert "1 lead(s) match no rule, left as they were: " + str(nobody) in result.stderr


def test_a_rule_with_nobody_available_falls_through_to_the_next(cli, team, tmp_path):
    cli("user", "away", "ana")
    cli("user", "set", "ben", "--capacity", "0")
    path = rules_file(tmp_path, RULES + '\n[default]\nto = ["dan"]\n')
    lead = add(cli, "De", country="DE")
    cli("assign", lead, "--rules", path)
    assert owner_of(cli, lead) == "dan"


def test_nobody_available_for_a_matched_lead_refuses_everything(cli, team, tmp_path):
    cli("user", "away", "ana", "--until", "+3d")
    cli("user", "away", "ben")
    path = rules_file(tmp_path)
    de = add(cli, "De", country="DE")
    ref = add(cli, "Ref", source="Referral")
    result = cli("assign", de, ref, "--rules", path, code=3)
    assert "nobody available for lead " + str(de) in result.stderr
    assert "ana is away until 2026-11-26 09:00" in result.stderr
    assert [owner_of(cli, de), owner_of(cli, ref)] == [None, None]


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("[[rule]]\nname = 'x'\ncontry = 'DE'\nto = ['ana']\n", 3, "unknown key 'contry'"),
        ("[[rule]]\ncountry = 'DE'\n", 1, "has no `to`"),
        ("[[rule]]\nto = ['ana']\n\n[[rule]]\nto = ['zed']\n", 5, "unknown user 'zed'"),
        ("[[rule]]\nto = ['vic']\n", 2, "user 'vic' is a viewer"),
        ("[[rule]]\nsource = 'Fax'\nto = ['ana']\n", 2, "unknown source 'Fax'"),
        ("[[rule]]\ncountry = []\nto = ['ana']\n", 2, "country must be text or a list"),
        ("[[rule]]\nto = 'ana'\n[default]\nto = ['ben']\nname = 'd'\n", 5, "unknown key 'name'"),
        ("[default]\nto = 3\n", 2, "to must be text"),
        ("[rules]\nto = ['ana']\n", 1, "unknown key 'rules'"),
        ("[[rule]\nto = ['ana']\n", 1, "Expected ']]'"),
    ],
)
def test_a_bad_rules_file_names_the_line_and_assigns_nothing(cli, team, tmp_path, text, line, what):
    path = rules_file(tmp_path, text)
    lead = add(cli, "De", country="DE")
    result = cli("assign", lead, "--rules", path, code=1)
    assert result.stderr.startswith(f"error: invalid rules file {path}")
    assert f"line {line}" in result.stderr and what in result.stderr, result.stderr
    assert owner_of(cli, lead) is None


def test_an_empty_or_missing_rules_file_is_invalid_input(cli, team, tmp_path):
    lead = add(cli, "De", country="DE")
    result = cli("assign", lead, "--rules", rules_file(tmp_path, "# nothing\n"), code=1)
    assert "nothing would be routed" in result.stderr
    result = cli("assign", lead, "--rules", tmp_path / "missing.toml", code=1)
    assert result.stderr.startswith("error: no rules file")


def test_the_example_routing_file_is_valid(cli, tmp_path):
    lead = add(cli, "Lukas", country="DE")
    cli("user", "add", "sam", "--role", "admin")
    for name in ("priya", "tom"):
        cli("--as", "sam", "user", "add", name, "--role", "rep")
    example = ROOT / "examples" / "routing.toml"
    plan = cli.json("--as", "sam", "assign", lead, "--rules", example, "--simulate")
    assert plan == [{"id": lead, "to": "priya"}]


def test_one_of_to_round_robin_rules_and_simulate_not_with_dry_run(cli, team, tmp_path):
    lead = add(cli, "De")
    cli("assign", lead, "--to", "ana", "--rules", rules_file(tmp_path), code=2)
    cli("assign", lead, "--round-robin", "ana", "--rules", rules_file(tmp_path), code=2)
    cli("assign", lead, "--to", "ana", "--simulate", "--dry-run", code=2)


# --- --simulate ------------------------------------------------------------------------------


def test_simulate_prints_who_gets_what_and_writes_nothing(cli, team, tmp_path, db_target):
    cli("user", "set", "ben", "--capacity", "1")
    ids = [add(cli, f"Lead {n}", country="DE") for n in range(3)]
    cli("assign", add(cli, "Bens", country="FR"), "--to", "ben")  # ben is full
    path = rules_file(tmp_path)
    before = fingerprint(db_target)

    def plan(*owners):
        return [{"id": i, "to": o} for i, o in zip(ids, owners, strict=True)]

    runs = [
        (["--round-robin", "ana,ben,cy"], plan("ana", "cy", "ana")),
        (["--to", "dan"], plan("dan", "dan", "dan")),
        (["--rules", str(path)], plan("ana", "ana", "ana")),  # ben is full
    ]
    for options, expected in runs:
        assert cli.json("assign", *ids, *options, "--simulate") == expected, options
        table = cli("assign", *ids, *options, "--simulate")
        assert "simulation: nothing was written" in table.stderr
        assert fingerprint(db_target) == before, options
    # the real command does what the simulation said
    real = cli.json("assign", *ids, "--round-robin", "ana,ben,cy")
    assert [lead["owner"] for lead in real] == ["ana", "cy", "ana"]


def test_simulate_table_shows_each_users_load_after(cli, team):
    cli("user", "set", "ana", "--capacity", "2")
    cli("user", "away", "cy")
    ids = [add(cli, f"Lead {n}") for n in range(3)]
    result = cli("assign", *ids, "--round-robin", "ana,ben,cy", "--simulate")
    lines = result.stdout.splitlines()
    assert any("Lead 0" in line and "ana" in line for line in lines)
    assert any("Lead 1" in line and "ben" in line for line in lines)
    header = next(line for line in lines if "Open now" in line)
    assert "Open after" in header and "Capacity" in header
    ana = next(line for line in lines if line.startswith("│ ana "))
    assert [cell.strip() for cell in ana.split("│")[1:5]] == ["ana", "0", "2", "2"]
    cy = next(line for line in lines if line.startswith("│ cy "))
    assert "yes" in cy


def test_simulate_shows_null_for_leads_nobody_can_take(cli, team, tmp_path, db_target):
    for name in ("ana", "ben", "cy", "dan"):
        cli("user", "set", name, "--capacity", "0")
    lead = add(cli, "Lead")
    unmatched = add(cli, "Elsewhere", country="US")
    before = fingerprint(db_target)
    plan = cli.json("assign", lead, "--round-robin", "ana,ben", "--simulate")
    assert plan == [{"id": lead, "to": None}]
    result = cli("assign", lead, unmatched, "--rules", rules_file(tmp_path), "--simulate")
    assert "match no rule" in result.stderr
    result = cli("assign", lead, "--round-robin", "ana,ben", "--simulate")
    assert "would refuse them all (exit 3)" in result.stderr
    assert fingerprint(db_target) == before


def test_simulate_refuses_what_the_command_would_refuse(cli, team, db_target):
    lead = add(cli, "Lead")
    cli("assign", lead, 424242, "--to", "ana", "--simulate", code=1)
    before = fingerprint(db_target)
    cli("--as", "vic", "assign", lead, "--to", "ana", "--simulate", code=4)
    assert fingerprint(db_target) == before  # not even the denial is recorded


def test_dry_run_of_assign_is_as_before(cli, team):
    ids = [add(cli, f"Lead {n}") for n in range(2)]
    result = cli("assign", *ids, "--round-robin", "ana,ben", "--dry-run")
    assert result.stdout.splitlines() == [
        f"lead {ids[0]}: owner — → ana",
        f"lead {ids[1]}: owner — → ben",
    ]
    assert [owner_of(cli, i) for i in ids] == [None, None]


def test_one_unmatched_lead_is_said_to_stay_in_the_pool(cli, team, tmp_path):
    lead = add(cli, "Us", country="US")
    result = cli("assign", lead, "--rules", rules_file(tmp_path))
    assert result.stderr.splitlines() == [
        f"lead {lead} (Us) is in the pool",
        f"1 lead(s) match no rule, left as they were: {lead}",
    ]


def test_round_robin_is_no_owner_even_in_solo_mode(cli):
    lead = add(cli, "Solo")
    result = cli("assign", lead, "--to", "round-robin", code=1)
    assert "round-robin is not a user" in result.stderr
    cli("add", "Other", "--email", "o@example.com", "--assign", "Round-Robin", code=1)
