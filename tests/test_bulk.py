"""Bulk commands (issue 14): several ids or `-` for ids on stdin, one transaction,
all or nothing, --dry-run, JSON arrays; and `tag`."""

from __future__ import annotations

import json

import pytest

from leadctl import bulk, pipeline, users
from leadctl.errors import Conflict, InvalidInput, LeadctlError
from leadctl.storage import open_database


@pytest.fixture
def five(add_lead):
    """Five new leads from the Website, ids 1-5, and one from an Event (6)."""
    for n in range(1, 6):
        add_lead(f"Lead {n}", source="Website")
    add_lead("Other Six", source="Event")


def statuses(cli):
    listed = cli.json("--as", "ann", "list", "--limit", "0", code=None)
    return {lead["id"]: lead["status"] for lead in listed}


def activity_count(cli, lead_id):
    return len(cli.json("show", str(lead_id))["activities"])


def test_list_json_piped_into_status(cli, five):
    listed = cli("list", "--source", "Website", "--status", "new", "--json").stdout
    moved = cli("status", "-", "nurture", "--json", input=listed)
    assert [lead["id"] for lead in json.loads(moved.stdout)] == [1, 2, 3, 4, 5]
    assert statuses(cli) == {1: "nurture", 2: "nurture", 3: "nurture", 4: "nurture",
                             5: "nurture", 6: "new"}  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["2\n3\n\n", "[2, 3]", '{"id": 2, "name": "x"}\n{"id": 3}\n', '[{"id": 2}, {"id": 3}]'],
)
def test_ids_on_stdin_in_every_form(cli, five, text):
    cli("status", "-", "contacted", input=text)
    assert [i for i, s in statuses(cli).items() if s == "contacted"] == [2, 3]


def test_ids_on_the_command_line_and_stdin_together(cli, five):
    cli("status", "1", "-", "contacted", input="4\n")
    assert [i for i, s in statuses(cli).items() if s == "contacted"] == [1, 4]


def test_bad_stdin_is_invalid_input(cli, five):
    assert "line 2" in cli("status", "-", "nurture", input="1\nAda\n", code=1).stderr
    assert "integer `id`" in cli("status", "-", "nurture", input='[{"name": "x"}]', code=1).stderr
    assert statuses(cli)[1] == "new"


def test_no_ids_on_stdin_changes_nothing(cli, five):
    result = cli("status", "-", "nurture", "--json", input="[]")
    assert json.loads(result.stdout) == []


def test_one_id_keeps_the_single_object(cli, five):
    assert cli.json("status", "1", "contacted")["status"] == "contacted"
    assert isinstance(cli.json("status", "2", "3", "contacted"), list)
    assert cli("status", "4", "contacted").stderr == "lead 4 is now contacted\n"


def test_a_forward_only_refusal_writes_nothing(cli, five):
    cli("status", "2", "qualified")
    cli("status", "3", "qualified")
    before = [activity_count(cli, i) for i in (1, 2, 3, 4)]
    result = cli("status", "1", "2", "3", "4", "contacted", code=3)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: lead 2 cannot move from qualified to contacted")
    assert lines[1].startswith("error: lead 3 cannot move from qualified to contacted")
    assert lines[2] == "error: 2 of 4 leads refused; nothing was changed"
    assert statuses(cli)[1] == "new" and statuses(cli)[4] == "new"
    assert [activity_count(cli, i) for i in (1, 2, 3, 4)] == before


def test_one_refused_lead_among_many_is_its_own_error_line(cli, five):
    cli("status", "2", "qualified")
    result = cli("status", "1", "2", "contacted", code=3)
    assert result.stderr.startswith("error: lead 2 cannot move from qualified to contacted")
    assert len(result.stderr.splitlines()) == 1
    assert statuses(cli)[1] == "new"


def test_an_unknown_id_refuses_the_command(cli, five):
    result = cli("status", "1", "99", "98", "contacted", code=1)
    assert "no lead with id 99" in result.stderr and "no lead with id 98" in result.stderr
    assert statuses(cli)[1] == "new"


def test_leads_already_there_are_left_alone(cli, five):
    cli("status", "1", "nurture")
    result = cli("status", "1", "2", "nurture")
    assert result.stderr == "lead 2 is now nurture\n1 lead already nurture\n"
    result = cli("status", "1", "2", "3", "nurture", "--json")
    assert [lead["id"] for lead in json.loads(result.stdout)] == [3]
    cli("status", "1", "nurture", code=3)  # one id: exit 3, as always


def test_mixed_permissions_permission_wins_and_only_the_denied_lead_records_it(cli, five):
    cli("user", "add", "ann", "--role", "admin")
    cli("--as", "ann", "user", "add", "rob", "--role", "rep")
    cli("--as", "ann", "user", "add", "rita", "--role", "rep")
    cli("--as", "ann", "assign", "1", "--to", "rob")
    cli("--as", "ann", "assign", "2", "--to", "rita")
    cli("--as", "ann", "status", "3", "qualified")
    result = cli("--as", "rob", "status", "1", "2", "3", "contacted", code=4)
    lines = result.stderr.splitlines()
    assert "may not see lead 2" in lines[0]
    assert "lead 3 cannot move from qualified" in lines[1]
    assert lines[2] == "error: 2 of 3 leads refused; nothing was changed"
    assert cli.json("--as", "ann", "show", "1")["status"] == "new"
    kinds = {i: [a["kind"] for a in cli.json("--as", "ann", "show", str(i))["activities"]]
             for i in (1, 2, 3)}  # fmt: skip
    assert "denied" in kinds[2] and "denied" not in kinds[1] and "denied" not in kinds[3]


def test_a_rep_moves_their_own_leads_in_bulk(cli, five):
    cli("user", "add", "ann", "--role", "admin")
    cli("--as", "ann", "user", "add", "rob", "--role", "rep")
    cli("--as", "ann", "assign", "1", "2", "--to", "rob")
    listed = cli("--as", "rob", "list", "--owner", "me", "--json").stdout
    cli("--as", "rob", "status", "-", "contacted", input=listed)
    assert [statuses(cli)[i] for i in (1, 2, 3)] == ["contacted", "contacted", "new"]


def test_dry_run_writes_nothing(cli, five):
    counts = [activity_count(cli, i) for i in (1, 2)]
    result = cli("status", "1", "2", "nurture", "--dry-run")
    assert result.stdout == "lead 1: status new → nurture\nlead 2: status new → nurture\n"
    assert "nothing was written" in result.stderr
    would = cli.json("status", "1", "2", "nurture", "--dry-run")
    assert [lead["status"] for lead in would] == ["nurture", "nurture"]
    for args in (
        ["tag", "1", "2", "+vip", "--dry-run"],
        ["edit", "1", "2", "--title", "CTO", "--dry-run"],
        ["note", "1", "2", "hello", "--dry-run"],
        ["log", "1", "--type", "call", "--next", "tomorrow", "--dry-run"],
        ["schedule", "1", "2", "tomorrow", "--dry-run"],
        ["assign", "1", "2", "--to", "bob", "--dry-run"],
    ):
        cli(*args)
    assert statuses(cli)[1] == "new"
    assert [activity_count(cli, i) for i in (1, 2)] == counts
    lead = cli.json("show", "1")
    assert (lead["tags"], lead["title"], lead["owner"], lead["next_call_at"]) == (
        [],
        None,
        None,
        None,
    )


def test_dry_run_still_refuses(cli, five):
    cli("status", "2", "qualified")
    cli("status", "1", "2", "contacted", "--dry-run", code=3)


def test_tag_adds_and_removes_without_duplicates(cli, five):
    cli("tag", "1", "2", "+vip", "+Cold")
    cli("tag", "1", "+VIP", "+partner")  # VIP is already there as vip
    assert cli.json("show", "1")["tags"] == ["vip", "Cold", "partner"]
    cli("tag", "1", "2", "-cold", "-hot")  # removal ignores case; -hot is no help flag
    assert cli.json("show", "1")["tags"] == ["vip", "partner"]
    assert cli.json("show", "2")["tags"] == ["vip"]
    assert cli.json("tag", "1", "-PARTNER")["tags"] == ["vip"]
    assert "give tags" in cli("tag", "1", code=1).stderr


def test_tag_needs_a_tag_and_refuses_an_unknown_option(cli, five):
    cli("tag", "1", "+", code=1)
    cli("tag", "1", "--bogus", code=2)


def test_edit_untag_and_bulk_edit(cli, five):
    cli("edit", "1", "--tag", "vip,cold")
    cli("edit", "1", "2", "--untag", "COLD", "--title", "CTO")
    assert [(cli.json("show", str(i))["tags"], cli.json("show", str(i))["title"])
            for i in (1, 2)] == [(["vip"], "CTO"), ([], "CTO")]  # fmt: skip
    changed = json.loads(cli("edit", "-", "--industry", "Retail", "--json", input="1\n2\n").stdout)
    assert [lead["industry"] for lead in changed] == ["Retail", "Retail"]


def test_bulk_edit_refuses_clearing_the_only_contact(cli, add_lead):
    add_lead("Ada", email="ada@example.com")
    add_lead("Bob", phone="+14155550100")
    result = cli("edit", "1", "2", "--email", "", code=1)
    assert "lead 1 needs an email or a phone" in result.stderr
    assert cli.json("show", "2")["email"] is None and cli.json("show", "1")["email"]


def test_bulk_note_log_assign_and_schedule(cli, five):
    cli("note", "1", "2", "spoke at the fair")
    cli("log", "-", "--type", "email_open", input="1\n2\n")
    cli("assign", "-", "--to", "bob", input='[{"id": 1}, {"id": 3}]')
    cli("schedule", "1", "2", "3", "tomorrow 10:00")
    one, two, three = (cli.json("show", str(i)) for i in (1, 2, 3))
    assert [a["body"] for a in one["activities"] if a["kind"] == "note"] == ["spoke at the fair"]
    assert any(a["kind"] == "email_open" for a in two["activities"])
    assert (one["owner"], two["owner"], three["owner"]) == ("bob", None, "bob")
    assert {one["next_call_at"], two["next_call_at"]} == {"2026-11-24T10:00:00Z"}


def test_single_note_and_log_keep_their_activity_json(cli, five):
    assert cli.json("note", "1", "hello")["kind"] == "note"
    assert cli.json("log", "1", "--type", "call")["kind"] == "call"
    assert isinstance(cli.json("note", "1", "2", "hello"), list)


def test_a_bulk_command_writes_its_activities_at_one_time(cli, five, monkeypatch):
    monkeypatch.delenv("LEADCTL_NOW")
    cli("status", "1", "2", "3", "4", "5", "contacted")
    times = {
        a["created_at"]
        for i in range(1, 6)
        for a in cli.json("show", str(i))["activities"]
        if a["kind"] == "status"
    }
    assert len(times) == 1


def test_many_leads_print_one_summary_line(cli, add_lead):
    for n in range(25):
        add_lead(f"Lead {n}")
    result = cli("status", "-", "contacted", input=cli("list", "--json").stdout)
    assert result.stderr == "25 leads now contacted\n"


# --- the core -------------------------------------------------------------------------


def test_parse_ids():
    assert bulk.parse_ids("1\n 2 \n\n3") == [1, 2, 3]
    assert bulk.parse_ids('[{"id": 4}, 5]') == [4, 5]
    assert bulk.parse_ids('{"id": 6}\n{"id": 7}\n') == [6, 7]
    assert bulk.parse_ids("  ") == []
    for bad in ("1\nx", '[{"id": "1"}]', '[{"id": true}]', "{not json"):
        with pytest.raises(InvalidInput):
            bulk.parse_ids(bad)


def test_core_refusal_carries_every_lead_and_the_right_code(cli, five, db_target):
    cli("status", "2", "qualified")
    database = open_database(db_target)
    try:
        with pytest.raises(LeadctlError) as caught, database.session(immediate=True) as session:
            who = users.actor(session, "tester")
            pipeline.change_statuses(session, who, [1, 2, 3, 99], "contacted")
        assert isinstance(caught.value, bulk.Refused)
        assert caught.value.exit_code == 3
        assert len(caught.value.details) == 2 and "no lead with id 99" in caught.value.details[1]
        with database.session(immediate=True) as session:
            who = users.actor(session, "tester")
            plan = pipeline.change_statuses(session, who, [1, 3], "contacted", dry_run=True)
            assert [row.status for row in plan.after] == ["contacted", "contacted"]
        with database.session() as session:
            who = users.actor(session, "tester")
            with pytest.raises(Conflict):
                pipeline.change_statuses(session, who, [2], "contacted")
    finally:
        database.close()
    assert statuses(cli)[1] == "new"


def test_a_phone_is_read_for_each_leads_country(cli, add_lead):
    add_lead("Lukas", email="lukas@example.com", country="Germany")
    add_lead("Maya", email="maya@example.com", country="US")
    assert cli.json("edit", "1", "--phone", "030 2201 8841")["phone"] == "+493022018841"
    cli("edit", "1", "2", "--phone", "+44 20 7946 0958")
    assert {cli.json("show", str(i))["phone"] for i in (1, 2)} == {"+442079460958"}
