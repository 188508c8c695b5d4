"""The newcomer's demo runs end to end with the installed leadctl."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import leadctl_bin, run_leadctl

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.slow
def test_demo_script_runs_a_whole_session(tmp_path, db_target):
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    env = {
        **os.environ,
        "PATH": f"{Path(leadctl_bin()).parent}{os.pathsep}{os.environ['PATH']}",
        "LEADCTL_NOW": "",  # the demo runs on the real clock, as a newcomer's would
    }
    result = subprocess.run(
        ["sh", str(folder / "demo.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "Maya Okafor" in result.stdout and "Timeline" in result.stdout
    assert "funnel" in result.stdout and "sources" in result.stdout
    leads = json.loads(run_leadctl("list", "--all", "--limit", "0", "--json").stdout)
    assert len(leads) == 20  # 22 rows: one duplicate merged, one without a name rejected
    assert (folder / "leads.rejects.csv").exists()
    maya = next(lead for lead in leads if lead["name"] == "Maya Okafor")
    assert maya["status"] == "contacted" and maya["next_call_at"]
    rerun = subprocess.run(
        ["sh", str(folder / "demo.sh")], env=env, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    assert len(json.loads(run_leadctl("list", "--all", "--limit", "0", "--json").stdout)) == 20
