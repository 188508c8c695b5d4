"""The README and --help keep up with the commands (as sqlite-utils' test_docs)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from leadctl.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands(group: Any = None, prefix: str = "") -> list[str]:
    """Every command and sub-command, as click sees them (loaded lazily)."""
    group = group or typer.main.get_command(app)
    ctx = typer.Context(group)
    names = []
    for name in group.list_commands(ctx):
        names.append(prefix + name)
        command = group.get_command(ctx, name)
        if hasattr(command, "list_commands"):
            names += _commands(command, f"{prefix}{name} ")
    return names


COMMANDS = _commands()


def test_the_command_set_is_complete():
    expected = {"add", "list", "show", "edit", "status", "note", "log", "schedule", "statuses",
                "sources", "config", "backup"}  # fmt: skip
    assert expected <= {name.split()[0] for name in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli, command):
    result = cli(*command.split(), "--help")
    assert "Usage:" in result.stdout
    assert len(result.stdout.strip().splitlines()) > 3


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command):
    assert re.search(rf"leadctl (\[?-[^\n]*)?{re.escape(command)}\b", README) or (
        f"`{command}" in README
    ), f"`leadctl {command}` is not documented in README.md"


def test_readme_first_screen_has_the_two_setup_commands():
    first_screen = "\n".join(README.splitlines()[:25])
    commands = re.findall(r"^python3 -m venv .*$", first_screen, re.MULTILINE)
    assert len(commands) == 2
    assert "examples/demo.sh" in commands[0]
    assert commands[1].endswith(".venv/bin/pytest") and "'.[test]'" in commands[1]
