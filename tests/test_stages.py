"""The lifecycle stage (lead → mql → sql) follows the score and its settings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, literal, select

from leadctl.stages import Thresholds


def adjust(cli, lead_id: str, points: int) -> dict:
    """Set the lead's manual adjustment; returns the lead as `show` prints it."""
    cli("score", lead_id, "--adjust", f"{points:+d}", "--reason", "test")
    return cli.json("show", lead_id)


def test_stage_follows_the_score_and_is_recorded(cli, add_lead):
    lead = add_lead("Ada")
    assert lead["stage"] == "lead"
    base = lead["score"]
    assert adjust(cli, "1", 50 - base)["stage"] == "mql"
    shown = adjust(cli, "1", 70 - base)
    assert shown["stage"] == "sql"
    moves = [(a["old_value"], a["new_value"]) for a in shown["activities"] if a["kind"] == "stage"]
    assert moves == [("lead", "mql"), ("mql", "sql")]
    add_lead("Bob")
    assert [lead["id"] for lead in cli.json("list", "--stage", "sql")] == [1]
    assert [lead["id"] for lead in cli.json("list", "--stage", "lead")] == [2]
    assert "lead, mql, sql" in cli("list", "--stage", "hot", code=1).stderr
    assert adjust(cli, "1", 0)["stage"] == "lead"


def test_changing_a_threshold_moves_the_stages_at_once(cli, add_lead):
    add_lead("Ada")
    base = cli.json("show", "1")["score"]
    adjust(cli, "1", 60 - base)
    assert cli.json("show", "1")["stage"] == "mql"
    cli("config", "set", "mql_score", "65")
    assert cli.json("show", "1")["stage"] == "lead"
    cli("config", "set", "mql_score", "40")
    cli("config", "set", "sql_score", "60")
    assert cli.json("show", "1")["stage"] == "sql"
    cli("config", "set", "sql_requires_qualified", "yes")
    assert cli.json("show", "1")["stage"] == "mql"
    cli("status", "1", "qualified")
    cli("score", "1")
    assert cli.json("show", "1")["stage"] == "sql"


def test_a_full_rescore_sets_stages_set_based(cli, add_lead, sql):
    for name in ("Ada", "Bob", "Cy"):
        add_lead(name)
    sql("UPDATE lead SET stage = 'sql'")  # as if the thresholds had been other
    cli("score")
    assert {lead["stage"] for lead in cli.json("list")} == {"lead"}
    history = [a for a in cli.json("show", "2")["activities"] if a["kind"] == "stage"]
    assert [(a["old_value"], a["new_value"], a["actor"]) for a in history] == [
        ("sql", "lead", "leadctl")
    ]


def test_undo_is_not_refused_by_the_stage_its_own_command_moved(cli, add_lead):
    add_lead("Ada")
    base = cli.json("show", "1")["score"]
    adjust(cli, "1", 60 - base)
    assert cli.json("show", "1")["stage"] == "mql"
    cli("undo")
    shown = cli.json("show", "1")
    assert (shown["score_adjustment"], shown["stage"]) == (0, "lead")


@settings(max_examples=300, deadline=None)
@given(
    mql=st.integers(0, 100),
    gap=st.integers(0, 100),
    score=st.integers(0, 100),
    status=st.sampled_from(["new", "contacted", "qualified", "converted", "lost"]),
    qualified_only=st.booleans(),
)
def test_the_sql_case_equals_the_python_rule(mql, gap, score, status, qualified_only):
    statuses = frozenset({"qualified", "converted"}) if qualified_only else None
    rule = Thresholds(mql, min(100, mql + gap), statuses)
    with ENGINE.connect() as conn:
        found = conn.execute(select(rule.expression(literal(score), literal(status)))).scalar_one()
    assert found == rule.stage_of(score, status)


ENGINE = create_engine("sqlite://")
