"""The event outbox: what becomes an event, `events` (--since, --ack, --follow,
--deliver), and the hook that gets each batch after commit and never loses one."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sql_select
from sqlalchemy import update

from leadctl import activities, events, stages
from leadctl.database import open_database
from leadctl.models import EVENT, LEAD
from tests.conftest import leadctl_bin, run_leadctl

KEYS = ["id", "at", "kind", "lead_id", "actor", "data"]


def lines(result: Any) -> list[dict[str, Any]]:
    """The JSON Lines a run printed on stdout."""
    return [json.loads(line) for line in result.stdout.splitlines()]


def stored_ids(target: str) -> list[int]:
    database = open_database(target)
    try:
        with database.session() as session:
            return list(session.connection().execute(sql_select(EVENT.c.id)).scalars())
    finally:
        database.close()


def automated_status(target: str, lead_id: int, new: str, *, rule: str = "test") -> None:
    """A status move made by a rule (as `sweep` makes them): one transaction
    marked with ``activities.automated``, written through the ORM's record."""
    database = open_database(target)
    try:
        with database.session(immediate=True) as session:
            conn = session.connection()
            activities.automated(conn, rule)
            old = conn.execute(sql_select(LEAD.c.status).where(LEAD.c.id == lead_id)).scalar_one()
            conn.execute(update(LEAD).where(LEAD.c.id == lead_id).values(status=new))
            activities.record(
                session, lead_id, "status", "leadctl", field="status", old=old, new=new
            )
    finally:
        database.close()


def hook_writing_to(path: Path) -> str:
    """A hook that appends its stdin to a file (the delivered batches)."""
    return f"cat >> '{path}'"


# --- what becomes an event --------------------------------------------------------------------


def test_an_automated_change_is_an_event_and_a_persons_is_not(cli, add_lead, db_target):
    add_lead("Ada")
    cli("status", "1", "contacted")  # a person: no event by default
    assert cli("events").stdout == ""
    automated_status(db_target, 1, "qualified", rule="sweep")
    [event] = lines(cli("events"))
    assert list(event) == KEYS
    assert event["kind"] == "status"
    assert event["lead_id"] == 1
    assert event["actor"] == "leadctl"
    assert event["at"] == "2026-11-23T09:00:00Z"
    assert event["data"] == {
        "field": "status",
        "old": "contacted",
        "new": "qualified",
        "rule": "sweep",
    }
    # the mark is the transaction's: the next one is a person's again
    cli("note", "1", "after the rule")
    assert [e["id"] for e in lines(cli("events"))] == [event["id"]]


def test_automated_changes_of_many_leads_are_set_based_events(cli, add_lead, db_target):
    """record_many (one executemany) and record_select (stage changes: one
    INSERT … SELECT) both give one event a row, with the rule."""
    for name in ("Ada", "Bob", "Cy"):
        add_lead(name)
    database = open_database(db_target)
    try:
        with database.session(immediate=True) as session:
            conn = session.connection()
            activities.automated(conn, "test")
            rows = [activities.row(i, "release", "leadctl", body="rotting") for i in (1, 2, 3)]
            activities.record_many(conn, rows)
            conn.execute(update(LEAD).values(score=80))
            assert stages.recompute(conn) == 3
    finally:
        database.close()
    found = lines(cli("events"))
    assert [(e["kind"], e["lead_id"]) for e in found] == [
        *(("release", i) for i in (1, 2, 3)),
        *(("stage", i) for i in (1, 2, 3)),
    ]
    assert found[0]["data"] == {"body": "rotting", "rule": "test"}
    assert found[3]["data"] == {"field": "stage", "old": "lead", "new": "sql", "rule": "test"}
    assert found[3]["at"] == "2026-11-23T09:00:00Z"
    assert [e["id"] for e in found] == sorted({e["id"] for e in found})


def test_events_all_takes_every_activity_an_import_included(cli, add_lead, tmp_path):
    cli("config", "set", "events", "all")
    add_lead("Ada")
    cli("status", "1", "contacted")
    cli("note", "1", "called back")
    csv = tmp_path / "new.csv"
    csv.write_text("name,email,notes\nBob,bob@example.com,met at a fair\nCy,cy@example.com,\n")
    cli("import", str(csv))
    found = lines(cli("events"))
    kinds = [(e["kind"], e["lead_id"]) for e in found]
    assert kinds[:3] == [("created", 1), ("status", 1), ("note", 1)]
    assert ("created", 2) in kinds and ("created", 3) in kinds and ("note", 2) in kinds
    assert all(e["actor"] == "tester" and "rule" not in e["data"] for e in found)
    assert found[1]["data"] == {"field": "status", "old": "new", "new": "contacted"}
    cli("config", "set", "events", "automated")
    cli("note", "1", "quiet again")
    assert len(lines(cli("events"))) == len(found)


def test_many_events_are_listed_in_order_each_once(cli, tmp_path):
    """`events` prints JSON Lines as it reads them, a thousand at a time."""
    cli("config", "set", "events", "all")
    csv = tmp_path / "many.csv"
    csv.write_text("name,email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(1100)))
    cli("import", str(csv))
    ids = [e["id"] for e in lines(cli("events"))]
    assert len(ids) >= 1100 and ids == sorted(set(ids))
    assert [e["id"] for e in lines(cli("events", "--since", str(ids[99])))] == ids[100:]
    assert [e["id"] for e in cli.json("events")] == ids


def test_the_setting_is_validated(cli):
    result = cli("config", "set", "events", "some", code=1)
    assert "automated, all" in result.stderr


# --- reading and acknowledging ----------------------------------------------------------------


def test_since_ack_and_ids_that_are_never_reused(cli, add_lead, db_target):
    cli("config", "set", "events", "all")
    add_lead("Ada")
    cli("note", "1", "one")
    cli("note", "1", "two")
    assert [e["id"] for e in lines(cli("events"))] == [1, 2, 3]
    assert [e["id"] for e in lines(cli("events", "--since", "1"))] == [2, 3]
    assert cli("events", "--since", "3").stdout == ""
    assert [e["id"] for e in cli.json("events", "--since", "1")] == [2, 3]  # one array
    assert cli.json("events", "--ack", "2") == {"acknowledged": 2, "through": 2}
    assert [e["id"] for e in lines(cli("events"))] == [3]
    assert [e["id"] for e in lines(cli("events", "--since", "1"))] == [3]
    assert "acknowledged 0 events" in cli("events", "--ack", "2").stderr  # idempotent
    assert "the last event is 3" in cli("events", "--ack", "4", code=1).stderr
    assert "≥ 0" in cli("events", "--ack", "-1", code=1).stderr
    cli("events", "--ack", "3")
    assert stored_ids(db_target) == []  # acknowledged events are dropped
    cli("events", "--ack", "3")  # still known: the last id is remembered
    assert "the last event is 3" in cli("events", "--ack", "4", code=1).stderr
    cli("note", "1", "three")
    assert [e["id"] for e in lines(cli("events"))] == [4]  # never an id again


def test_acknowledging_with_no_events_ever(cli):
    cli("events", "--ack", "0")
    assert "no events yet" in cli("events", "--ack", "1", code=1).stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--ack", "1", "--follow"),
        ("--ack", "1", "--since", "1"),
        ("--deliver", "--since", "1"),
        ("--ack", "1", "--deliver"),
        ("--follow", "--json"),
    ],
)
def test_options_that_do_not_go_together_are_a_usage_error(cli, args):
    assert "Usage" in cli("events", *args, code=2).stderr


def test_reading_needs_view_all_and_acknowledging_a_manager(cli):
    cli("user", "add", "boss", "--role", "admin")
    for name, role in (("mia", "manager"), ("rex", "rep"), ("vic", "viewer")):
        cli("--as", "boss", "user", "add", name, "--role", role)
    cli("--as", "boss", "config", "set", "events", "all")
    cli("--as", "boss", "add", "Ada", "--email", "ada@example.com")
    assert "view_all" in cli("--as", "rex", "events", code=4).stderr
    assert len(lines(cli("--as", "vic", "events"))) == 1
    assert "may not acknowledge" in cli("--as", "vic", "events", "--ack", "1", code=4).stderr
    assert "may not acknowledge" in cli("--as", "rex", "events", "--deliver", code=4).stderr
    cli("--as", "mia", "events", "--ack", "1")
    assert cli("--as", "boss", "events").stdout == ""


# --- --follow ---------------------------------------------------------------------------------


def _stop(process: subprocess.Popen[Any]) -> None:
    """Kill a process of a test if it still runs, and close its pipes."""
    process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _read_line(process: subprocess.Popen[str], seconds: float = 30) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    assert ready, "no line from `events --follow` in time"
    return process.stdout.readline()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_follow_prints_new_events_and_stops_cleanly(cli, add_lead, stop):
    cli("config", "set", "events", "all")
    add_lead("Ada")
    process = subprocess.Popen(
        [leadctl_bin(), "events", "--follow", "--since", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)
        assert run_leadctl("note", "1", "while following").returncode == 0
        event = json.loads(_read_line(process))
        assert (event["id"], event["kind"], event["data"]) == (
            2,
            "note",
            {"body": "while following"},
        )
        assert run_leadctl("status", "1", "contacted").returncode == 0
        assert json.loads(_read_line(process))["id"] == 3
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    finally:
        _stop(process)
    assert process.returncode == 0
    assert "Traceback" not in stderr and stderr == ""


def test_follow_into_a_closed_pipe_ends_quietly(cli, add_lead):
    cli("config", "set", "events", "all")
    add_lead("Ada")
    # a pipe closed while idle is noticed on the next write (as `tail -f | head`)
    process = subprocess.Popen(
        [leadctl_bin(), "events", "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(_read_line(process))["id"] == 1
        assert process.stdout is not None
        process.stdout.close()
        assert run_leadctl("note", "1", "into the void").returncode == 0
        process.wait(timeout=30)
        assert process.stderr is not None
        stderr = process.stderr.read()
    finally:
        _stop(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


# --- the hook ---------------------------------------------------------------------------------


def test_the_hook_gets_the_batch_on_stdin_after_commit_and_acknowledges_it(cli, add_lead, tmp_path):
    got = tmp_path / "got.jsonl"
    cli("config", "set", "events", "all")
    cli("config", "set", "hook_command", hook_writing_to(got))
    add_lead("Ada")
    delivered = [json.loads(line) for line in got.read_text().splitlines()]
    assert [(e["id"], e["kind"]) for e in delivered] == [(1, "created")]
    assert list(delivered[0]) == KEYS
    assert cli("events").stdout == ""
    cli("status", "1", "contacted")
    cli("note", "1", "hello")
    delivered = [json.loads(line) for line in got.read_text().splitlines()]
    assert [e["id"] for e in delivered] == [1, 2, 3]  # each once
    # a command that made no event runs no hook
    cli("list")
    assert len(got.read_text().splitlines()) == 3


def test_the_hook_sees_the_change_committed_and_its_output_stays_off_stdout(
    cli, add_lead, tmp_path, db_target
):
    """It runs after commit, in no transaction: it may run leadctl itself,
    even a write (with a short busy timeout: a held write lock would fail
    it), and the events that write makes wait for the next run (no loop)."""
    seen = tmp_path / "seen.json"
    leadctl = f"LEADCTL_BUSY_TIMEOUT=2 '{leadctl_bin()}'"
    hook = (
        f"cat >/dev/null; {leadctl} show 1 --json > '{seen}' && "
        f"{leadctl} note 1 'from the hook' >/dev/null 2>&1 && echo noise"
    )
    cli("config", "set", "events", "all")
    add_lead("Ada")
    cli("events", "--ack", "1")
    cli("config", "set", "hook_command", hook)
    result = run_leadctl("status", "1", "contacted", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "contacted"  # stdout: the data only
    assert "noise" in result.stderr and "warning" not in result.stderr
    assert json.loads(seen.read_text())["status"] == "contacted"
    assert [e["data"]["body"] for e in lines(cli("events"))] == ["from the hook"]


def test_the_hook_is_told_the_database(cli, add_lead, tmp_path, second_db):
    """LEADCTL_DB names the database the events are from, given by --db too."""
    other = second_db
    told = tmp_path / "told"
    cli("--db", other, "config", "set", "events", "all")
    cli("--db", other, "config", "set", "hook_command", f"echo \"$LEADCTL_DB\" > '{told}'")
    cli("--db", other, "add", "Ada", "--email", "ada@example.com")
    assert told.read_text().strip() == other


def test_a_failing_hook_loses_nothing_and_the_next_run_delivers(cli, add_lead, tmp_path):
    got = tmp_path / "got.jsonl"
    cli("config", "set", "events", "all")
    cli("config", "set", "hook_command", f"cat >> '{got}'; exit 1")
    add_lead("Ada")
    result = cli("note", "1", "hello")  # the command's own exit code: the change stands
    assert "warning: hook_command failed (exit 1): 2 events stay in the outbox" in result.stderr
    assert [e["id"] for e in lines(cli("events"))] == [1, 2]
    assert cli.json("show", "1")["activities"][-1]["body"] == "hello"
    cli("config", "set", "hook_command", "no-such-command-here")
    result = cli("events", "--deliver")
    assert "command not found" in result.stderr
    got.unlink()
    cli("config", "set", "hook_command", hook_writing_to(got))
    cli("note", "1", "again")  # the next command that makes events delivers them all
    assert [json.loads(line)["id"] for line in got.read_text().splitlines()] == [1, 2, 3]
    assert cli("events").stdout == ""


def test_deliver_is_the_cron_retry(cli, add_lead, tmp_path):
    got = tmp_path / "got.jsonl"
    cli("config", "set", "events", "all")
    add_lead("Ada")  # no hook yet: the event waits
    assert "no hook_command" in cli("events", "--deliver").stderr
    cli("config", "set", "hook_command", hook_writing_to(got))
    assert cli.json("events", "--deliver") == {"delivered": 1, "left": 0, "failed": None}
    assert "no events to deliver" in cli("events", "--deliver").stderr
    assert [json.loads(line)["id"] for line in got.read_text().splitlines()] == [1]


def _wait_for(path: Path, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} never written")


def _sleeping_hook(tmp_path: Path) -> tuple[str, Path]:
    """A hook that says its pid, takes its input and sleeps."""
    pid_file = tmp_path / "hook.pid"
    return f"echo $$ > '{pid_file}'; cat > /dev/null; sleep 60", pid_file


def test_a_killed_hook_loses_nothing(cli, add_lead, tmp_path):
    cli("config", "set", "events", "all")
    add_lead("Ada")
    hook, pid_file = _sleeping_hook(tmp_path)
    cli("config", "set", "hook_command", hook)
    process = subprocess.Popen(
        [leadctl_bin(), "note", "1", "hello"], stderr=subprocess.PIPE, text=True
    )
    try:
        os.killpg(int(_wait_for(pid_file)), signal.SIGKILL)
        _, stderr = process.communicate(timeout=30)
    finally:
        _stop(process)
    assert process.returncode == 0
    assert "killed by signal 9" in stderr and "2 events stay" in stderr
    got = tmp_path / "got.jsonl"
    cli("config", "set", "hook_command", hook_writing_to(got))
    cli("events", "--deliver")
    assert [json.loads(line)["id"] for line in got.read_text().splitlines()] == [1, 2]


def test_a_hook_past_its_time_is_killed_and_its_batch_stays(cli, add_lead, tmp_path, db_target):
    cli("config", "set", "events", "all")
    add_lead("Ada")
    hook, pid_file = _sleeping_hook(tmp_path)
    cli("config", "set", "hook_command", hook)
    database = open_database(db_target)
    try:
        started = time.monotonic()
        done = events.deliver(database, timeout=1)
        assert time.monotonic() - started < 20
        assert (done.delivered, done.failed, done.left) == (0, "timed out after 1s", 1)
        with pytest.raises(ProcessLookupError):  # the hook's whole group is gone
            os.kill(int(pid_file.read_text()), 0)
    finally:
        database.close()
    assert [e["id"] for e in lines(cli("events"))] == [1]


def test_leadctl_killed_while_its_hook_runs_loses_nothing(cli, add_lead, tmp_path, db_target):
    """SIGKILL of the delivering process: its batch is not acknowledged, and
    its lease (a process of this host that is gone) does not block the next."""
    cli("config", "set", "events", "all")
    add_lead("Ada")
    cli("note", "1", "hello")
    hook, pid_file = _sleeping_hook(tmp_path)
    cli("config", "set", "hook_command", hook)
    process = subprocess.Popen([leadctl_bin(), "events", "--deliver"], stderr=subprocess.PIPE)
    try:
        hook_pid = int(_wait_for(pid_file))
        process.kill()
        process.wait(timeout=30)
    finally:
        _stop(process)
        os.killpg(hook_pid, signal.SIGKILL)  # the orphaned hook
    assert [e["id"] for e in lines(cli("events"))] == [1, 2]
    got = tmp_path / "got.jsonl"
    cli("config", "set", "hook_command", hook_writing_to(got))
    assert cli.json("events", "--deliver")["delivered"] == 2
    assert [json.loads(line)["id"] for line in got.read_text().splitlines()] == [1, 2]


def test_two_processes_never_deliver_the_same_batch(cli, add_lead, tmp_path):
    """While one process delivers (its lease held), another one skips; what
    it made waits for the next delivery, and each event goes out once."""
    got = tmp_path / "got.jsonl"
    gate = tmp_path / "gate"
    started = tmp_path / "started"
    cli("config", "set", "events", "all")
    add_lead("Ada")
    # the hook takes its batch, says so, then waits for the gate to open
    hook = f"cat >> '{got}'; echo x >> '{started}'; while [ ! -e '{gate}' ]; do sleep 0.05; done"
    cli("config", "set", "hook_command", hook)
    first = subprocess.Popen(
        [leadctl_bin(), "events", "--deliver"], stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for(started)
        second = run_leadctl("note", "1", "meanwhile")  # makes an event, finds the lease held
        assert second.returncode == 0
        skipped = run_leadctl("events", "--deliver")
        assert "another process is delivering" in skipped.stderr
        gate.touch()
        _, stderr = first.communicate(timeout=60)
    finally:
        _stop(first)
    assert first.returncode == 0, stderr
    assert "delivered 1 event" in stderr
    assert [json.loads(line)["id"] for line in got.read_text().splitlines()] == [1]
    assert [e["id"] for e in lines(cli("events"))] == [2]
    assert cli.json("events", "--deliver")["delivered"] == 1
    assert [json.loads(line)["id"] for line in got.read_text().splitlines()] == [1, 2]
    assert cli("events").stdout == ""


def test_a_dry_run_delivers_nothing(cli, add_lead, tmp_path):
    """A transaction rolled back made no events to deliver, so no hook runs."""
    got = tmp_path / "got.jsonl"
    cli("config", "set", "events", "all")
    add_lead("Ada")
    cli("config", "set", "hook_command", hook_writing_to(got))
    cli("status", "1", "contacted", "--dry-run")
    assert not got.exists()
    assert [e["id"] for e in lines(cli("events"))] == [1]


# --- several writers --------------------------------------------------------------------------


@pytest.mark.slow
def test_several_processes_making_events_at_once_lose_none(cli, add_lead, db_target, tmp_path):
    cli("config", "set", "events", "all")
    add_lead("Ada")
    got = tmp_path / "got.jsonl"
    cli("config", "set", "hook_command", hook_writing_to(got))
    script = " ; ".join(f"'{leadctl_bin()}' note 1 \"p$1 n{i}\"" for i in range(5))
    processes = [
        subprocess.Popen(["sh", "-c", script, "sh", str(p)], stderr=subprocess.PIPE, text=True)
        for p in range(4)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    run_leadctl("events", "--deliver")
    delivered = [json.loads(line) for line in got.read_text().splitlines()]
    ids = [e["id"] for e in delivered]
    assert len(ids) == len(set(ids)) == 21  # the created lead, and 20 notes
    assert sorted(ids) == list(range(1, 22))
    bodies = {e["data"].get("body") for e in delivered if e["kind"] == "note"}
    assert bodies == {f"p{p} n{i}" for p in range(4) for i in range(5)}
    assert stored_ids(db_target) == []
