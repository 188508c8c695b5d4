"""Several processes on one real database file: the pool never holds a lead twice.

These run the installed ``leadctl`` script, as cron and people at terminals do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import leadctl_bin, run_leadctl
from tests.engines import Sql

KINDS = ("claim", "release", "note")  # activity kinds counted per lead

pytestmark = pytest.mark.slow
LATER = "2026-11-24T12:00:00Z"  # after every claim made at the fixed NOW for an hour


def spawn(*args: str, user: str = "tester", now: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "LEADCTL_USER": user}
    if now:
        env["LEADCTL_NOW"] = now
    return subprocess.Popen(
        [leadctl_bin(), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(processes: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append((process.returncode, out, err))
    return results


def seed(cli, count: int) -> list[int]:
    return [
        cli.json("add", f"Lead {n}", "--email", f"lead{n}@example.com")["id"] for n in range(count)
    ]


def test_ten_concurrent_claim_next_get_ten_different_leads(cli):
    seed(cli, 12)
    results = finish([spawn("claim", "--next", "--json", user=f"rep{n}") for n in range(10)])
    assert [code for code, _, _ in results] == [0] * 10, [err for _, _, err in results]
    claimed = [json.loads(out) for _, out, _ in results]
    assert len({lead["id"] for lead in claimed}) == 10
    holders = {lead["id"]: lead["claimed_by"] for lead in cli.json("list", "--claimed")}
    assert holders == {lead["id"]: lead["claimed_by"] for lead in claimed}


def test_eight_processes_claiming_one_lead_one_wins(cli):
    (lead,) = seed(cli, 1)
    results = finish([spawn("claim", str(lead), user=f"rep{n}") for n in range(8)])
    codes = sorted(code for code, _, _ in results)
    assert codes == [0] + [3] * 7, [err for _, _, err in results]
    winner = cli.json("show", lead)["claimed_by"]
    losers = [err for code, _, err in results if code == 3]
    assert all(f"claimed by {winner} until" in err for err in losers)
    assert [a["kind"] for a in cli.json("show", lead)["activities"]].count("claim") == 1


WRITER = """
import json, subprocess, sys
leadctl, first = sys.argv[1], int(sys.argv[2])
codes = []
for n in range(4):
    run = lambda *a: subprocess.run([leadctl, *a], capture_output=True, text=True)
    added = run("add", f"New {n}", "--email", f"new{n}@example.com", "--json")
    codes.append(added.returncode)
    if added.returncode == 0:
        codes.append(run("claim", str(json.loads(added.stdout)["id"]), "--hours", "1").returncode)
    codes.append(run("note", str(first + n), f"note {n}").returncode)
print(json.dumps(codes))
"""


def test_release_expired_in_a_loop_beside_a_writer(cli):
    ids = seed(cli, 20)
    cli("claim", *ids, "--hours", "1")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, leadctl_bin(), str(ids[0])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    released, codes = 0, []
    while writer.poll() is None or not codes:
        result = run_leadctl("claim", "--release-expired", "--json", env={"LEADCTL_NOW": LATER})
        codes.append(result.returncode)
        if result.returncode == 0:
            released += json.loads(result.stdout)["released"]
    out, err = writer.communicate(timeout=120)
    assert set(json.loads(out)) == {0}, err
    assert set(codes) == {0}
    final = run_leadctl("claim", "--release-expired", "--json", env={"LEADCTL_NOW": LATER})
    released += json.loads(final.stdout)["released"]
    assert released == 20 + 4  # every claim, the writer's included, released exactly once
    leads = cli.json("list", "--limit", "0")
    assert len(leads) == 24 and not [lead for lead in leads if lead["claimed_by"]]
    with Sql(os.environ["LEADCTL_DB"]) as sql:
        counts = sql(
            "SELECT lead_id, "
            + ", ".join(f"SUM(CASE WHEN kind = '{k}' THEN 1 ELSE 0 END)" for k in KINDS)
            + " FROM activity GROUP BY lead_id"
        )
    assert {(claims, releases) for _, claims, releases, _ in counts} == {(1, 1)}
    assert sorted(lead for lead, _, _, notes in counts if notes) == ids[:4]
