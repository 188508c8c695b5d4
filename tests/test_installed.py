"""The installed `leadctl` run as its own process, as cron and scripts run it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import leadctl_bin, run_leadctl


def test_version_and_help():
    from leadctl import __version__

    assert run_leadctl("--version").stdout.strip() == f"leadctl {__version__}"
    help_text = run_leadctl("--help").stdout
    for command in ("add", "list", "show", "edit", "status", "schedule", "backup", "config"):
        assert command in help_text


def test_piped_output_has_no_colour_and_errors_are_one_line():
    assert run_leadctl("add", "Ada", "--email", "ada@example.com").returncode == 0
    listed = run_leadctl("list", env={"NO_COLOR": ""})
    assert listed.returncode == 0
    assert "\x1b[" not in listed.stdout and "Ada" in listed.stdout
    failed = run_leadctl("show", "99")
    assert failed.returncode == 1
    assert failed.stderr == "error: no lead with id 99\n"
    assert "Traceback" not in failed.stderr


def test_duplicate_without_terminal_never_prompts():
    run_leadctl("add", "Ada", "--email", "ada@example.com")
    result = run_leadctl("add", "Ada", "--email", "ada@example.com")
    assert result.returncode == 3
    assert "duplicate of lead 1 (Ada)" in result.stderr


@pytest.mark.slow
def test_two_processes_adding_at_once_both_succeed():
    script = (
        "import subprocess, sys\n"
        "for i in range(15):\n"
        "    r = subprocess.run([sys.argv[1], 'add', f'{sys.argv[2]} {i}', '--email',"
        " f'{sys.argv[2]}{i}@example.com'], capture_output=True, text=True)\n"
        "    assert r.returncode == 0, r.stderr\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, leadctl_bin(), who], stderr=subprocess.PIPE)
        for who in ("alice", "bob")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()
    leads = json.loads(run_leadctl("list", "--limit", "0", "--json").stdout)
    assert len(leads) == 30
    assert len({lead["id"] for lead in leads}) == 30
