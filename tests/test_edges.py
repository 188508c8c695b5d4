"""Out-of-range and empty input, broken pipes: one-line errors, never a traceback."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import leadctl_bin


@pytest.mark.parametrize(
    "args",
    [
        ["show", "99999999999999999999"],
        ["list", "--limit", "99999999999999999999"],
        ["add", "X", "--email", "x@example.com", "--company-size", "9" * 30],
        ["add", "X", "--email", "x@example.com", "--revenue", "2" * 400],
        ["add", "X", "--email", "x@example.com", "--revenue", "1.234,5"],
        ["schedule", "1", "+99999999999d"],
        ["schedule", "1", ""],
        ["note", "1", "  "],
    ],
)
def test_bad_numbers_and_empty_values_exit_1_in_one_line(cli, add_lead, args):
    add_lead("Ada")
    result = cli(*args, code=1)
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    lead = cli.json("show", "1")
    assert lead["next_call_at"] is None
    assert [a["kind"] for a in lead["activities"]] == ["created"]
    assert len(cli.json("list")) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["show", "3000000000"],
        ["claim", "3000000000"],
        ["score", "3000000000"],
        ["convert", "3000000000", "--no-deal"],
        ["client", "show", "3000000000"],
        ["status", "3000000000", "contacted"],
    ],
)
def test_ids_past_32_bits_are_not_found_on_every_engine(cli, add_lead, args):
    add_lead("Ada")
    result = cli(*args, code=1)
    assert result.stderr.startswith("error: no ") and "3000000000" in result.stderr


def test_numbers_past_32_bits_are_stored_on_every_engine(cli):
    lead = cli.json("add", "Ada", "--email", "ada@example.com", "--company-size", "3000000000")
    assert cli.json("show", lead["id"])["company_size"] == 3_000_000_000
    assert cli.json("edit", lead["id"], "--company-size", str(2**63 - 1))["company_size"] == (
        2**63 - 1
    )


def test_json_output_is_always_valid_json(cli, add_lead):
    add_lead("Ada", revenue="999999999999999")
    text = cli("list", "--json").stdout
    assert json.loads(text)[0]["annual_revenue"] == 999999999999999
    assert "Infinity" not in text


def test_reading_only_the_head_of_the_output_is_not_an_error(db_target):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from make_db import build

    build(db_target, 3000)  # far more output than a pipe buffer holds
    for args in ("list --limit 0", "list --limit 0 --json", "export --format csv"):
        piped = subprocess.run(
            ["bash", "-c", f"set -o pipefail; '{leadctl_bin()}' {args} | head -1 >/dev/null"],
            capture_output=True,
            text=True,
        )
        assert piped.returncode == 0, (args, piped.stderr)
        assert piped.stderr == "", (args, piped.stderr)


def test_export_to_a_directory_is_refused_and_writes_nothing(cli, add_lead, tmp_path):
    add_lead("Ada")
    folder = tmp_path / "out"
    folder.mkdir()
    assert "directory" in cli("export", "-o", str(folder), code=1).stderr
    assert list(tmp_path.glob(".*partial")) == [] and list(folder.iterdir()) == []


def test_a_rep_reads_only_visible_contacts_of_a_client(cli):
    cli("user", "add", "boss", "--role", "admin")
    for rep in ("r1", "r2"):
        cli("--as", "boss", "user", "add", rep, "--role", "rep")
    cli("--as", "r1", "add", "Ada", "--email", "ada@example.com", "--assign", "me")
    cli("--as", "r1", "convert", "1", "--deal-value", "5000")
    mine = cli.json("--as", "r1", "client", "show", "1")
    assert [lead["name"] for lead in mine["leads"]] == ["Ada"] and len(mine["deals"]) == 1
    # issue 11: a client none of whose leads r2 may see is not r2's to see at all
    theirs = cli("--as", "r2", "client", "show", "1", "--json", code=4)
    assert theirs.stdout == "" and "may not see client 1" in theirs.stderr
    listed = cli("--as", "r2", "client", "list").stdout
    assert "5,000" not in listed and "5000" not in listed and "Ada" not in listed
    assert "5,000" in cli("--as", "r1", "client", "list").stdout


def test_every_command_takes_json(cli, add_lead):
    from tests.test_docs import COMMANDS

    add_lead("Ada")
    refused = [
        command
        for command in COMMANDS
        if "--json" not in cli(*command.split(), "--help").stdout
        and command not in {"client", "deal", "user", "config"}  # groups: their verbs take it
    ]
    assert refused == []
    assert json.loads(cli("export", "--json").stdout)[0]["name"] == "Ada"
    assert json.loads(cli("sources", "add", "Podcast", "--json").stdout)[-1]["name"] == "Podcast"
