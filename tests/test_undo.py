"""`undo`: the acting user's last command, reverted as one, through the real CLI
and the core; refused when someone changed those leads since."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from leadctl import leads, pipeline, undo, users
from leadctl.errors import Conflict, NotFound
from leadctl.storage import open_database

FIXTURES = Path(__file__).parent / "fixtures" / "schema"


def activities(cli, lead_id, *args):
    return cli.json(*args, "show", lead_id)["activities"]


def test_undo_reverts_a_status_move_and_records_itself(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "contacted")
    done = cli.json("undo")
    assert done == {"undone": f"status on lead {lead['id']}: contacted → new", "leads": [1]}
    shown = cli.json("show", lead["id"])
    assert shown["status"] == "new"
    assert shown["first_contacted_at"] is None
    last = shown["activities"][-1]
    assert (last["kind"], last["actor"]) == ("undo", "tester")
    assert (last["old_value"], last["new_value"]) == ("contacted", "new")


def test_undo_without_json_says_what_it_undid(cli, add_lead):
    lead = add_lead()
    cli("edit", lead["id"], "--title", "CTO")
    result = cli("undo")
    assert result.stderr == f"undone: edit on lead {lead['id']}: title CTO → —\n"
    assert result.stdout == ""


def test_undo_of_a_final_status_clears_the_reason(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "lost", "--reason", "No budget")
    cli("undo")
    shown = cli.json("show", lead["id"])
    assert (shown["status"], shown["lost_reason"]) == ("new", None)


def test_undoing_a_reopen_puts_back_the_final_status_and_its_reason(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "lost", "--reason", "Competitor")
    cli("user", "add", "tester", "--role", "admin")
    cli("status", lead["id"], "contacted", "--reopen")
    cli("undo")
    shown = cli.json("show", lead["id"])
    assert (shown["status"], shown["lost_reason"]) == ("lost", "Competitor")


def test_undo_reverts_every_field_of_an_edit_and_the_match_keys(cli, add_lead):
    lead = add_lead("Ada Lovelace", email="ada@example.com", company="Acme")
    cli("edit", lead["id"], "--email", "countess@example.com", "--company", "Engines Ltd")
    assert cli.json("undo")["leads"] == [lead["id"]]
    shown = cli.json("show", lead["id"])
    assert (shown["email"], shown["company"]) == ("ada@example.com", "Acme")
    # the duplicate check sees the restored email again
    result = cli("add", "Ada Lovelace", "--email", "ADA@example.com", code=3)
    assert f"duplicate of lead {lead['id']}" in result.stderr


def test_undo_walks_back_one_command_at_a_time(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "contacted")
    cli("status", lead["id"], "qualified")
    cli("schedule", lead["id"], "2026-11-25 10:00")
    cli("undo")
    assert cli.json("show", lead["id"])["next_call_at"] is None
    cli("undo")
    assert cli.json("show", lead["id"])["status"] == "contacted"
    cli("undo")
    assert cli.json("show", lead["id"])["status"] == "new"
    result = cli("undo", code=1)
    assert result.stderr == "error: nothing to undo: you have no change left to revert\n"


def test_adds_notes_and_calls_are_history_not_undone(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "contacted")
    add_lead("Grace Hopper")
    cli("note", lead["id"], "met at the fair")
    cli("log", lead["id"], "--type", "call")
    assert cli.json("undo")["undone"].startswith("status on lead 1")
    kinds = [a["kind"] for a in activities(cli, lead["id"])]
    assert "note" in kinds and "call" in kinds
    assert [lead["name"] for lead in cli.json("list")] == ["Ada Lovelace", "Grace Hopper"]


def test_nothing_to_undo_on_a_new_database(cli):
    result = cli("undo", "--json", code=1)
    assert result.stdout == ""
    assert result.stderr.startswith("error: nothing to undo")


def test_undo_of_a_claim_puts_the_lead_back_in_the_pool(cli, add_lead):
    lead = add_lead()
    cli("claim", lead["id"])
    cli("undo")
    shown = cli.json("show", lead["id"])
    assert (shown["claimed_by"], shown["claim_expires_at"]) == (None, None)
    assert cli.json("claim", "--next")["id"] == lead["id"]


def test_undo_of_a_renewal_keeps_the_claim_with_its_old_window(cli, add_lead):
    lead = add_lead()
    cli("claim", lead["id"], "--hours", "1")
    cli("claim", lead["id"], "--hours", "5")
    cli("undo")
    shown = cli.json("show", lead["id"])
    assert shown["claimed_by"] == "tester"
    assert shown["claim_expires_at"] == "2026-11-23T10:00:00Z"


def test_undo_of_a_release_restores_the_claim(cli, add_lead):
    lead = add_lead()
    cli("claim", lead["id"], "--hours", "3")
    cli("release", lead["id"])
    cli("undo")
    shown = cli.json("show", lead["id"])
    assert (shown["claimed_by"], shown["claim_expires_at"]) == ("tester", "2026-11-23T12:00:00Z")


def test_undo_of_an_assignment_restores_the_owner_and_the_claim_it_ended(cli, add_lead):
    lead = add_lead()
    cli("claim", lead["id"], "--hours", "2")
    cli("assign", lead["id"], "--to", "me")
    cli("undo")
    shown = cli.json("show", lead["id"])
    assert shown["owner"] is None
    assert (shown["claimed_by"], shown["claim_expires_at"]) == ("tester", "2026-11-23T11:00:00Z")


def test_a_command_on_many_leads_is_undone_as_one(cli, add_lead):
    ids = [add_lead(name)["id"] for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing")]
    cli("assign", *ids, "--to", "bob")
    done = cli.json("undo")
    assert done["leads"] == ids
    assert done["undone"] == "assign on 3 leads (1, 2, 3)"
    assert [lead["owner"] for lead in cli.json("list")] == [None, None, None]
    cli("undo", code=1)


def test_undo_of_a_score_adjustment(cli, add_lead):
    lead = add_lead()
    before = cli.json("show", lead["id"])["score"]
    cli("score", lead["id"], "--adjust", "15", "--reason", "met them")
    cli("undo")
    shown = cli.json("show", lead["id"])
    assert (shown["score_adjustment"], shown["score"]) == (0, before)


def test_undo_of_a_merge_restores_the_duplicate_its_history_and_the_blanks(cli, add_lead):
    keep = add_lead("Ada Lovelace", email="ada@example.com")
    dup = add_lead("Ada King", phone="+14155550100", company="Acme")
    cli("note", dup["id"], "met at the fair")
    cli("merge", keep["id"], dup["id"])
    assert [lead["id"] for lead in cli.json("list")] == [keep["id"]]
    done = cli.json("undo")
    assert done == {"undone": "merge on 2 leads (1, 2)", "leads": [1, 2]}
    listed = {lead["id"]: lead for lead in cli.json("list")}
    assert set(listed) == {keep["id"], dup["id"]}
    assert (listed[keep["id"]]["phone"], listed[keep["id"]]["company"]) == (None, None)
    assert listed[dup["id"]]["phone"] == "+14155550100"
    notes = [a["body"] for a in activities(cli, dup["id"]) if a["kind"] == "note"]
    assert notes == ["met at the fair"]
    assert "met at the fair" not in [a["body"] for a in activities(cli, keep["id"])]
    cli("edit", dup["id"], "--title", "Countess")  # no longer archived: it takes changes


def test_undo_of_a_merge_moves_back_a_lead_merged_into_the_duplicate(cli, add_lead, sql):
    a = add_lead("Ada Lovelace", email="ada@example.com")["id"]
    b = add_lead("Ada King", phone="+14155550100")["id"]
    c = add_lead("Ada B", email="adab@example.com")["id"]
    cli("merge", b, c)
    cli("merge", a, b)
    cli("undo")
    merged = dict(sql("SELECT id, merged_into FROM lead"))
    assert merged == {a: None, b: None, c: b}
    cli("undo")
    merged = dict(sql("SELECT id, merged_into FROM lead"))
    assert merged == {a: None, b: None, c: None}


def test_convert_is_not_undone_and_says_how_to_reopen(cli, add_lead):
    lead = add_lead()
    cli("convert", lead["id"], "--no-deal")
    result = cli("undo", code=3)
    assert result.stderr.startswith(f"error: your last change converted lead {lead['id']}")
    assert "--reopen" in result.stderr and len(result.stderr.splitlines()) == 1
    assert cli.json("show", lead["id"])["status"] == "converted"


def test_undo_refuses_when_someone_else_changed_the_lead_since(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "contacted")
    cli("--as", "bob", "edit", lead["id"], "--title", "CTO")
    result = cli("undo", code=3)
    assert result.stderr == (
        f"error: lead {lead['id']} was changed by bob since (edit); undo refused, "
        "it would overwrite that change\n"
    )
    shown = cli.json("show", lead["id"])
    assert (shown["status"], shown["title"]) == ("contacted", "CTO")
    assert "undo" not in [a["kind"] for a in shown["activities"]]


def test_a_later_note_by_someone_else_does_not_block(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "contacted")
    cli("--as", "bob", "note", lead["id"], "called back")
    cli("undo")
    assert cli.json("show", lead["id"])["status"] == "new"


def test_someone_elses_undone_change_does_not_block(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "contacted")
    cli("--as", "bob", "edit", lead["id"], "--title", "CTO")
    cli("--as", "bob", "undo")
    # bob's edit is undone, but his undo changed the lead after tester's move
    result = cli("undo", code=3)
    assert "changed by bob since (undo)" in result.stderr


def test_a_change_on_another_lead_does_not_block(cli, add_lead):
    lead = add_lead()
    other = add_lead("Grace Hopper")
    cli("status", lead["id"], "contacted")
    cli("--as", "bob", "status", other["id"], "contacted")
    cli("undo")
    assert cli.json("show", lead["id"])["status"] == "new"


def team(cli, add_lead):
    cli("user", "add", "ann", "--role", "admin")
    cli("--as", "ann", "user", "add", "meg", "--role", "manager")
    cli("--as", "ann", "user", "add", "rob", "--role", "rep")
    cli("--as", "ann", "user", "add", "rita", "--role", "rep")
    cli("--as", "ann", "user", "add", "vic", "--role", "viewer")
    robs = cli.json("--as", "ann", "add", "Rob Lead", "--email", "r@example.com", "--assign", "rob")
    ritas = cli.json(
        "--as", "ann", "add", "Rita Lead", "--email", "t@example.com", "--assign", "rita"
    )
    return robs["id"], ritas["id"]


def test_a_rep_undoes_only_their_own_change(cli, add_lead):
    robs, ritas = team(cli, add_lead)
    cli("--as", "rob", "status", robs, "contacted")
    cli("--as", "rita", "status", ritas, "contacted")
    assert cli.json("--as", "rob", "undo")["leads"] == [robs]
    assert cli.json("--as", "ann", "show", ritas)["status"] == "contacted"
    cli("--as", "rob", "undo", code=1)
    assert cli.json("--as", "rita", "undo")["leads"] == [ritas]


def test_a_rep_cannot_undo_a_managers_change_to_their_lead(cli, add_lead):
    robs, _ = team(cli, add_lead)
    cli("--as", "meg", "status", robs, "contacted")
    cli("--as", "rob", "undo", code=1)
    assert cli.json("--as", "rob", "show", robs)["status"] == "contacted"
    cli.json("--as", "meg", "undo")
    assert cli.json("--as", "rob", "show", robs)["status"] == "new"


def test_a_viewer_has_nothing_to_undo(cli, add_lead):
    team(cli, add_lead)
    result = cli("--as", "vic", "undo", code=1)
    assert result.stderr.startswith("error: nothing to undo")


def test_undo_refuses_a_lead_the_rep_may_no_longer_change(cli, add_lead):
    robs, _ = team(cli, add_lead)
    cli("--as", "rob", "status", robs, "contacted")
    cli("--as", "ann", "user", "role", "rob", "viewer")
    result = cli("--as", "rob", "undo", code=4)
    assert result.stderr.startswith("error: ")


def test_an_upgraded_database_has_nothing_to_undo_until_a_change(cli, tmp_path):
    db = tmp_path / "v3.db"
    shutil.copyfile(FIXTURES / "v3.db", db)
    cli("--db", db, "--as", "ada", "undo", code=1)
    cli("--db", db, "--as", "ada", "status", "2", "qualified")
    assert cli.json("--db", db, "--as", "ada", "undo")["leads"] == [2]


# --- the core ------------------------------------------------------------------------------


def test_core_undo_reverts_every_lead_changed_in_one_transaction(db_target):
    """A bulk command is one transaction: whatever wrote its activities, undo
    takes all of it back as one."""
    database = open_database(db_target)
    with users.acting(database, "tester", immediate=True) as session:
        who = users.actor(session, "tester")
        ids = []
        for name in ("Ada", "Grace", "Alan"):
            values = leads.validate(session, {"name": name, "email": f"{name}@example.com"})
            ids.append(leads.add(session, who, values).lead.id)
    with users.acting(database, "tester", immediate=True) as session:
        who = users.actor(session, "tester")
        for lead_id in ids:
            pipeline.change_status(session, who, lead_id, "nurture")
    with users.acting(database, "tester", immediate=True) as session:
        done = undo.undo(session, users.actor(session, "tester"))
    assert done.leads == ids
    with users.acting(database, "tester") as session:
        assert [leads.get(session, i).status for i in ids] == ["new"] * 3
        with pytest.raises(NotFound):
            undo.undo(session, users.actor(session, "tester"))
    database.close()


def test_core_undo_refusal_changes_nothing(db_target):
    database = open_database(db_target)
    with users.acting(database, "tester", immediate=True) as session:
        who = users.actor(session, "tester")
        values = leads.validate(session, {"name": "Ada", "email": "ada@example.com"})
        lead_id = leads.add(session, who, values).lead.id
    assert lead_id is not None
    with users.acting(database, "tester", immediate=True) as session:
        pipeline.change_status(session, users.actor(session, "tester"), lead_id, "contacted")
    with users.acting(database, "bob", immediate=True) as session:
        pipeline.change_status(session, users.actor(session, "bob"), lead_id, "qualified")
    with pytest.raises(Conflict, match="changed by bob"):
        with users.acting(database, "tester", immediate=True) as session:
            undo.undo(session, users.actor(session, "tester"))
    with users.acting(database, "tester") as session:
        assert leads.get(session, lead_id).status == "qualified"
    database.close()


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("company_size", "120", 120),
        ("annual_revenue", "2500000.0", 2500000.0),
        ("authority", "True", True),
        ("authority", "False", False),
        ("score_adjustment", "+5", 5),
        ("timeline", "2027-01-15", __import__("datetime").date(2027, 1, 15)),
        ("company", "Acme", "Acme"),
        ("company", None, None),
    ],
)
def test_values_come_back_from_their_text(name, text, value):
    assert undo.from_text(name, text) == value


def test_times_come_back_from_their_text():
    restored = undo.from_text("next_call_at", "2026-11-25T10:00:00Z")
    assert restored.isoformat() == "2026-11-25T10:00:00+00:00"


def test_an_import_is_history_not_undone(cli, add_lead, tmp_path):
    lead = add_lead()
    cli("status", lead["id"], "contacted")
    source = tmp_path / "in.csv"
    source.write_text("name,email\nGrace Hopper,grace@example.com\n", encoding="utf-8")
    cli("import", source)
    assert cli.json("undo")["leads"] == [lead["id"]]
    assert len(cli.json("list")) == 2
    cli("undo", code=1)


def test_a_restored_export_brings_no_change_to_undo(cli, add_lead, tmp_path):
    lead = add_lead()
    cli("status", lead["id"], "contacted")
    cli("edit", lead["id"], "--title", "CTO")
    out = tmp_path / "all.json"
    cli("export", "-o", out)
    target = tmp_path / "target.db"
    cli("--db", target, "import", out)
    cli("--db", target, "undo", code=1)
    assert cli.json("--db", target, "show", lead["id"])["title"] == "CTO"


def test_an_import_merging_into_the_lead_since_blocks(cli, add_lead, tmp_path):
    lead = add_lead("Ann Lee", email="ann@example.com")
    cli("status", lead["id"], "contacted")
    source = tmp_path / "in.csv"
    source.write_text("name,email,company\nAnn Lee,ann@example.com,Acme\n", encoding="utf-8")
    cli("--as", "bob", "import", source)
    result = cli("undo", code=3)
    assert "lead 1 was changed by bob since (import)" in result.stderr
