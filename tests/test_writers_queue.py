"""Writers queue behind each other on either engine (SQLite's write lock at
BEGIN IMMEDIATE; PostgreSQL's advisory lock at the start of a writer's
transaction): first use, duplicate checks and imports give the answers one
process alone would give. Each test runs the installed `leadctl` in several
processes at once, on the test's database (a file, or a server schema)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import leadctl_bin


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [leadctl_bin(), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        done.append((proc.returncode, out, err))
    return done


@pytest.mark.slow
def test_six_processes_creating_the_database_at_once_all_succeed(cli):
    results = _finish([_start("list", "--json") for _ in range(6)])
    assert [(code, err) for code, _, err in results] == [(0, "")] * 6
    assert all(json.loads(out) == [] for _, out, _ in results)
    assert cli.json("add", "Ada", "--email", "ada@example.com")["id"] == 1


@pytest.mark.slow
def test_adds_of_one_person_at_once_store_them_once(cli):
    cli("list")  # the schema exists: the race is the duplicate check's alone
    results = _finish([_start("add", f"Ada {i}", "--email", "ADA@example.com") for i in range(5)])
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 3, 3, 3, 3], results
    assert all("duplicate of lead 1" in err for code, _, err in results if code == 3)
    assert len(cli.json("list", "--all", "--limit", "0")) == 1


@pytest.mark.slow
def test_two_imports_of_one_file_at_once_store_what_one_import_stores(cli, tmp_path):
    rows = ["Name,Email,Company"] + [
        f"Person {i},person{i}@example.com,Company {i}" for i in range(600)
    ]
    source = tmp_path / "leads.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    results = _finish([_start("import", str(source), "--json") for _ in range(2)])
    assert [code for code, _, _ in results] == [0, 0], results
    summaries = [json.loads(out) for _, out, _ in results]
    # batches interleave: each row is stored by one import and merged by the other
    assert sum(s["imported"] for s in summaries) == 600
    assert sum(s["merged"] for s in summaries) == 600
    leads = cli.json("list", "--all", "--limit", "0")
    assert len(leads) == 600 and len({lead["email"] for lead in leads}) == 600


@pytest.mark.slow
def test_two_leads_of_one_company_converted_at_once_make_one_client(cli):
    cli("add", "Ada", "--email", "ada@acme.example", "--company", "Acme")
    cli("add", "Bob Stone", "--email", "bob@acme.example", "--company", "Acme")
    results = _finish([_start("convert", lead, "--no-deal", "--json") for lead in ("1", "2")])
    assert [code for code, _, _ in results] == [0, 0], results
    clients = {json.loads(out)["client"]["id"] for _, out, _ in results}
    assert len(clients) == 1  # the second found the first's client, not a twin of it
    assert len(cli.json("client", "list")) == 1


@pytest.mark.slow
def test_one_lead_converted_twice_at_once_is_converted_once(cli):
    cli("add", "Ada", "--email", "ada@acme.example", "--company", "Acme")
    results = _finish([_start("convert", "1", "--deal-value", "100", "--json") for _ in range(3)])
    assert sorted(code for code, _, _ in results) == [0, 3, 3], results
    shown = cli.json("client", "show", "1")
    assert len(shown["deals"]) == 1 and len(cli.json("client", "list")) == 1


@pytest.mark.slow
def test_crossed_merges_at_once_leave_one_lead(cli):
    cli("add", "Ada", "--email", "ada@example.com")
    cli("add", "Ada L", "--email", "ada.l@example.com")
    results = _finish([_start("merge", "1", "2"), _start("merge", "2", "1")])
    assert sorted(code for code, _, _ in results) == [0, 3], results
    assert len(cli.json("list", "--all", "--limit", "0")) == 1
