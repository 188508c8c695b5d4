"""`dedupe` and `merge`: duplicate groups, merging into the first lead, archives in `show`."""

from __future__ import annotations

from typing import Any

import pytest

CREATE = ("--on-duplicate", "create")


@pytest.fixture
def family(add_lead) -> dict[str, dict[str, Any]]:
    """Three groups of duplicates and one lead on its own."""
    return {
        "ada": add_lead("Ada Lovelace", email="ada@example.com", company="Analytical"),
        "ada2": add_lead("Ada King", *CREATE, email="ADA@example.com", phone="+14155550100"),
        "ada3": add_lead("A. Lovelace", *CREATE, phone="+1 415 555 0100", title="Countess"),
        "grace": add_lead("Grace Hopper", email="grace@navy.example.com", company="US Navy Inc"),
        "grace2": add_lead("Grace M Hopper", *CREATE, email="gmh@example.com", company="us navy"),
        "alan": add_lead("Alan Turing", email="alan@example.com", company="Bletchley"),
    }


def test_dedupe_lists_groups_with_reasons(cli, family):
    groups = cli.json("dedupe")
    assert [(g["keep"], g["ids"], g["reasons"], g["merged"]) for g in groups] == [
        (1, [1, 2, 3], ["same email", "same phone"], False),
        (4, [4, 5], ["same company and similar name"], False),
    ]
    assert [lead["name"] for lead in groups[0]["leads"]] == [
        "Ada Lovelace",
        "Ada King",
        "A. Lovelace",
    ]
    table = cli("dedupe").stdout
    assert "Ada Lovelace" in table and "same email, same phone" in table
    assert "1 (keep)" in table


def test_dedupe_merge_keeps_the_oldest_and_archives_the_rest(cli, family):
    merged = cli.json("dedupe", "--merge")
    assert [(g["keep"], g["ids"], g["merged"]) for g in merged] == [
        (1, [1, 2, 3], True),
        (4, [4, 5], True),
    ]
    assert sorted(lead["id"] for lead in cli.json("list")) == [1, 4, 6]
    assert cli.json("dedupe") == []
    ada = cli.json("show", "1")
    assert (ada["phone"], ada["title"], ada["company"]) == (
        "+14155550100",
        "Countess",
        "Analytical",
    )
    archived = cli.json("show", "2")
    assert archived["name"] == "Ada King"
    assert "merged into lead 1" in cli("show", "2").stdout


def test_merge_fills_blanks_moves_history_and_archives(cli, add_lead):
    keep = add_lead("Katherine Johnson", email="kj@nasa.example.gov", priority="high", tag="vip")
    dup = add_lead(
        "K. Johnson",
        *CREATE,
        email="katherine@example.com",
        phone="+17575550100",
        priority="low",
        company="NASA",
        tag="astro",
        field="team=orbits",
    )
    cli("note", str(dup["id"]), "Called about the launch window")
    lead = cli.json("merge", str(keep["id"]), str(dup["id"]))
    assert lead["id"] == keep["id"]
    assert (lead["email"], lead["priority"]) == ("kj@nasa.example.gov", "high")  # never overwritten
    assert (lead["phone"], lead["company"]) == ("+17575550100", "NASA")  # blanks filled
    assert lead["tags"] == ["vip", "astro"]
    assert lead["fields"] == {"team": "orbits"}
    history = cli.json("show", str(keep["id"]))["activities"]
    bodies = [a["body"] for a in history]
    assert "Called about the launch window" in bodies
    assert f"merged lead {dup['id']} (K. Johnson) into this lead" in bodies
    kinds = [a["kind"] for a in history]
    assert kinds.count("created") == 2  # the duplicate's history moved with it
    archived = cli.json("show", str(dup["id"]))
    assert [a["body"] for a in archived["activities"]] == [f"merged into lead {keep['id']}"]
    assert [x["id"] for x in cli.json("list")] == [keep["id"]]


def test_merge_errors(cli, add_lead):
    first = add_lead("Alan Turing", email="alan@example.com")
    second = add_lead("Alan M Turing", *CREATE, email="alan@example.com")
    third = add_lead("Alonzo Church", email="alonzo@example.com")
    assert "into itself" in cli("merge", str(first["id"]), str(first["id"]), code=1).stderr
    assert "no lead with id 99" in cli("merge", str(first["id"]), "99", code=1).stderr
    cli("merge", str(first["id"]), str(second["id"]))
    stderr = cli("merge", str(third["id"]), str(second["id"]), code=3).stderr
    assert f"lead {second['id']} was already merged into lead {first['id']}" in stderr
    stderr = cli("merge", str(second["id"]), str(third["id"]), code=3).stderr
    assert "keep that one" in stderr
    assert cli("merge", str(first["id"]), code=2).exit_code == 2


def test_merge_needs_the_manage_permission(cli, add_lead):
    cli("user", "add", "tester", "--role", "admin")
    cli("user", "add", "val", "--role", "viewer")
    first = add_lead("Alan Turing", email="alan@example.com")
    second = add_lead("Alan M Turing", *CREATE, email="alan@example.com")
    result = cli("--as", "val", "merge", str(first["id"]), str(second["id"]), code=4)
    assert "manage" in result.stderr
    assert cli("--as", "val", "dedupe", "--merge", code=4).exit_code == 4
    assert len(cli.json("--as", "val", "dedupe")) == 1
    cli("merge", str(first["id"]), str(second["id"]))


def test_import_then_dedupe_finds_nothing_new(cli, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(
        "Name,Email,Phone,Company\n"
        "Ada Lovelace,ada@example.com,,Analytical\n"
        "Ada Lovelace,,+14155550100,Analytical\n"
        "Grace Hopper,grace@example.com,+14155550100,\n"
    )
    summary = cli.json("import", str(path))
    # Grace shares Ada's phone but is another person (issue 12): stored apart, linked
    assert (summary["imported"], summary["merged"]) == (2, 1)
    assert cli.json("dedupe") == []
