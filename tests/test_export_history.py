"""Exports that lose nothing: notes, timelines, clients and deals go out with the
leads, and a leadctl JSON export imported into an empty database gives it back
row for row."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import text as sql_text

from leadctl import exporting
from leadctl.models import LEAD_JSON_KEYS
from tests import engines

STATUSES = ["new", "contacted", "qualified", "nurture", "unqualified", "lost"]


def build_pipeline(cli: Any, db: str) -> None:
    """A database with leads in every status, owners, claims, notes, timelines,
    converted leads with clients and deals, an upsell lead, custom fields, tags,
    a manual score adjustment and an archived (merged) duplicate."""

    def run(*args: str, who: str = "boss") -> Any:
        return cli("--db", db, "--as", who, *args)

    run("user", "add", "boss", "--role", "admin")
    run("user", "add", "max", "--role", "manager")
    run("user", "add", "rita", "--role", "rep")
    for number, status in enumerate(STATUSES, start=1):
        run(
            "add",
            f"Person {number}",
            "--email",
            f"person{number}@example.com",
            "--company",
            f"Company {number}",
            "--tag",
            f"tier{number % 2}",
            "--field",
            f"crm_id=X{number}",
            "--notes",
            f"met at booth {number}",
        )
        if status != "new":
            reason = ["--reason", "No budget"] if status in ("unqualified", "lost") else []
            run("status", str(number), status, *reason)
    run("note", "2", "asked for pricing")
    run("note", "2", "[draft] a note that looks like a list")
    run("log", "2", "--type", "call", "--outcome", "left a voicemail")
    run("log", "3", "--type", "email_open")
    run("assign", "2", "3", "--to", "rita")
    run("assign", "4", "--to", "max")
    run("claim", "1", "--hours", "8", who="rita")
    run("schedule", "3", "2026-12-01 10:00")
    run("score", "3", "--adjust", "+7", "--reason", "warm intro")
    # converted leads: a new client with a deal; another lead joining that client; no deal
    run("add", "Carla Client", "--email", "carla@bigco.example", "--company", "BigCo")
    run(
        "convert", "7", "--deal-value", "12000", "--close-date", "2027-01-15", "--stage", "proposal"
    )
    run("add", "Cedric Client", "--phone", "+14155550177", "--company", "BigCo")
    run("convert", "8", "--client", "1", "--deal-value", "3000", "--probability", "40")
    run("add", "Nora NoDeal", "--email", "nora@small.example")
    run("convert", "9", "--no-deal")
    # an upsell lead of an existing client, open; and a merged (archived) duplicate
    run("add", "Uma Upsell", "--email", "uma@bigco.example", "--client", "1")
    run("add", "Person One B", "--phone", "+14155550101", "--company", "Company 1")
    run("add", "Person 1", "--phone", "+14155550101", "--on-duplicate", "create")
    run("merge", "11", "12")


TABLES = {
    "lead": "id",
    "activity": "id",
    "client": "id",
    "deal": "id",
}


def rows(db: str, table: str, *, live_leads_only: bool = False) -> list[tuple[Any, ...]]:
    """Every row of a table, in id order (archived leads, which no export holds,
    and their own activities left out when asked), on either engine."""
    where = ""
    if live_leads_only and table == "lead":
        where = " WHERE merged_into IS NULL"
    if live_leads_only and table == "activity":
        where = " WHERE lead_id IN (SELECT id FROM lead WHERE merged_into IS NULL)"
    engine = engines.engine_for(db)
    try:
        with engine.connect() as conn:
            found = conn.execute(sql_text(f"SELECT * FROM {table}{where} ORDER BY id"))
            columns = list(found.keys())
            # ids aside: a restored lead records the export's id it came from
            # (``leadctl:N``, its first match key on a re-import), the source has none;
            # an activity's command (undo's bookkeeping, m004_undo) is no history to export
            return [
                tuple(
                    v
                    for c, v in zip(columns, row, strict=True)
                    if c not in ("external_id", "command_id")
                )
                for row in found
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_a_json_export_restores_the_database_row_for_row(cli, tmp_path, fmt, new_db):
    source, target = new_db("source"), new_db("target")
    build_pipeline(cli, source)
    out = tmp_path / f"all.{fmt}"
    cli("--db", source, "--as", "boss", "export", "-o", str(out))
    summary = json.loads(cli("--db", target, "import", str(out), "--json").stdout)
    assert (summary["imported"], summary["rejected"], summary["warnings"]) == (11, 0, 0)
    for table in TABLES:
        before = rows(source, table, live_leads_only=True)
        after = rows(target, table)
        assert before, f"no rows in {table}: the test would prove nothing"
        assert after == before, table
    # and the same export imported again changes nothing
    again = json.loads(cli("--db", target, "import", str(out), "--json").stdout)
    assert (again["imported"], again["rejected"]) == (0, 0)
    for table in TABLES:
        assert rows(target, table) == rows(source, table, live_leads_only=True), table


def test_ids_taken_in_the_target_are_numbered_anew_and_links_follow(cli, tmp_path, new_db):
    source, target = new_db("source"), new_db("target")
    build_pipeline(cli, source)
    out = tmp_path / "all.json"
    cli("--db", source, "--as", "boss", "export", "-o", str(out))
    # the target already has a client 1, a lead, its activities and a deal
    cli("--db", target, "add", "Zed Other", "--email", "zed@other.example")
    cli("--db", target, "convert", "1", "--deal-value", "5")
    cli("--db", target, "import", str(out))
    exported = {lead["email"] or lead["phone"]: lead for lead in json.loads(out.read_text())}
    restored = cli.json("--db", target, "export", "--format", "json")
    by_key = {lead["email"] or lead["phone"]: lead for lead in restored}
    for key, lead in exported.items():
        again = by_key[key]
        assert [strip(a) for a in again["activities"]] == [strip(a) for a in lead["activities"]]
        assert [strip(d) for d in again["deals"]] == [strip(d) for d in lead["deals"]]
        assert strip(again["client"]) == strip(lead["client"])
        if again["client"] is not None:
            assert again["client_id"] == again["client"]["id"]
            assert all(d["client_id"] == again["client_id"] for d in again["deals"])
    carla = by_key["carla@bigco.example"]
    cedric = by_key["+14155550177"]
    assert carla["client"]["id"] == cedric["client"]["id"] != 1  # one client, numbered anew
    zed = by_key["zed@other.example"]
    assert zed["client"]["id"] == 1 and zed["client"]["name"] == "Zed Other"


def strip(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """An object without its ids (they may differ in a database that had some)."""
    if item is None:
        return None
    return {k: v for k, v in item.items() if k not in ("id", "lead_id", "client_id")}


def test_json_export_shape(cli, tmp_path, new_db):
    db = new_db("source")
    build_pipeline(cli, db)
    leads = cli.json("--db", db, "--as", "boss", "export", "--json")
    lines = cli("--db", db, "--as", "boss", "export", "--format", "jsonl").stdout
    assert [json.loads(line) for line in lines.splitlines()] == leads
    for lead in leads:
        assert list(lead) == [*LEAD_JSON_KEYS, "notes", "activities", "client", "deals"]
        shown = cli.json("--db", db, "--as", "boss", "show", str(lead["id"]))
        assert lead["activities"] == shown["activities"]
        assert lead["notes"] == [a["body"] for a in shown["activities"] if a["kind"] == "note"]
    two = next(lead for lead in leads if lead["id"] == 2)
    assert two["notes"] == [
        "met at booth 2",
        "asked for pricing",
        "[draft] a note that looks like a list",
    ]
    carla = next(lead for lead in leads if lead["name"] == "Carla Client")
    client = cli.json("--db", db, "--as", "boss", "client", "show", "1")
    assert carla["client"] == {
        k: client[k] for k in ("id", "name", "company", "email", "phone", "created_at")
    }
    assert carla["deals"] == [d for d in client["deals"] if d["lead_id"] == carla["id"]]
    assert carla["deals"][0]["value"] == 12000 and carla["deals"][0]["stage"] == "proposal"
    uma = next(lead for lead in leads if lead["name"] == "Uma Upsell")
    assert uma["status"] == "new" and uma["client"]["id"] == 1 and uma["deals"] == []
    plain = next(lead for lead in leads if lead["id"] == 1)
    assert plain["client"] is None and plain["deals"] == []


def test_csv_and_xlsx_carry_notes(cli, tmp_path, new_db):
    db = new_db("source")
    build_pipeline(cli, db)
    text = cli("--db", db, "--as", "boss", "export").stdout
    table = list(csv.DictReader(io.StringIO(text)))
    notes = {row["id"]: row["notes"] for row in table}
    assert notes["1"] == "met at booth 1"
    assert json.loads(notes["2"]) == [
        "met at booth 2",
        "asked for pricing",
        "[draft] a note that looks like a list",
    ]
    assert notes["7"] == ""
    from openpyxl import load_workbook

    cli("--db", db, "--as", "boss", "export", "-o", str(tmp_path / "all.xlsx"))
    book = load_workbook(tmp_path / "all.xlsx", read_only=True)
    sheet = [list(r) for r in book.active.iter_rows(values_only=True)]
    book.close()
    assert sheet[0][-1] == "notes" and sheet[1][-1] == "met at booth 1"
    # a CSV export imported into an empty database: every note, each once
    target = new_db("target")
    (tmp_path / "all.csv").write_text(text)
    cli("--db", target, "import", str(tmp_path / "all.csv"))
    shown = cli.json("--db", target, "show", "2")
    assert [a["body"] for a in shown["activities"] if a["kind"] == "note"] == json.loads(notes["2"])
    # and imported again into the database it came from, nothing changes
    before = rows(db, "activity")
    cli("--db", db, "--as", "boss", "import", str(tmp_path / "all.csv"))
    assert rows(db, "activity") == before


def test_a_reps_import_restores_no_timeline_owner_or_client(cli, tmp_path, new_db):
    source, target = new_db("source"), new_db("target")
    build_pipeline(cli, source)
    out = tmp_path / "all.json"
    cli("--db", source, "--as", "boss", "export", "-o", str(out))
    cli("--db", target, "--as", "boss", "user", "add", "boss", "--role", "admin")
    cli("--db", target, "--as", "boss", "user", "add", "rita", "--role", "rep")
    result = cli("--db", target, "--as", "rita", "import", str(out), "--json")
    summary = json.loads(result.stdout)
    assert summary["imported"] == 11 and summary["rejected"] == 0
    assert rows(target, "client") == [] and rows(target, "deal") == []
    leads = cli.json("--db", target, "--as", "boss", "export", "--json")
    for lead in leads:
        assert [a["actor"] for a in lead["activities"]] == ["rita"] * len(lead["activities"])
        assert lead["activities"][0]["kind"] == "created"
        assert lead["owner"] in (None, "rita")
        assert lead["client_id"] is None
    two = next(lead for lead in leads if lead["name"] == "Person 2")
    assert two["owner"] == "rita"  # the rep's own lead stays theirs
    four = next(lead for lead in leads if lead["name"] == "Person 4")
    assert four["owner"] is None and four["fields"]["owner_raw"] == "max"
    assert two["notes"] == [  # the notes are the rep's data too: kept, as notes
        "met at booth 2",
        "asked for pricing",
        "[draft] a note that looks like a list",
    ]
    # each row with a history says it was not restored
    assert summary["warnings"] >= 11
    # a CSV export too: no owner but the rep's
    csv_out = tmp_path / "all.csv"
    cli("--db", source, "--as", "boss", "export", "-o", str(csv_out))
    other = new_db("other")
    cli("--db", other, "--as", "boss", "user", "add", "boss", "--role", "admin")
    cli("--db", other, "--as", "boss", "user", "add", "rita", "--role", "rep")
    cli("--db", other, "--as", "rita", "import", str(csv_out))
    owners = {x["name"]: x["owner"] for x in cli.json("--db", other, "--as", "boss", "export")}
    assert owners["Person 2"] == "rita" and owners["Person 4"] is None


def test_a_broken_history_is_left_out_with_a_warning(cli, tmp_path, new_db):
    cli("add", "Ada Lovelace", "--email", "ada@example.com", "--notes", "hello")
    lead = cli.json("export", "--json")[0]
    good = lead["activities"][0]
    lead["activities"] = [
        good,
        {"kind": "call", "actor": "sam"},  # no time
        "not an object",
        {"kind": "note", "actor": "sam", "created_at": "0001-01-01T00:00:00Z", "body": "x"},
        {"kind": "note", "actor": "sam", "created_at": "2026-11-20T10:00:00Z", "body": ["x"]},
    ]
    lead["client"] = {"name": "", "created_at": "2026-11-20T10:00:00Z"}
    lead["deals"] = [{"value": "lots", "created_at": "2026-11-20T10:00:00Z"}]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps([lead]))
    target = new_db("target")
    summary = json.loads(cli("--db", target, "import", str(path), "--json").stdout)
    assert (summary["imported"], summary["rejected"], summary["warnings"]) == (1, 0, 6)
    shown = cli.json("--db", target, "show", "1")
    assert [strip(a) for a in shown["activities"]] == [strip(good)]
    assert shown["client_id"] is None
    not_a_list = dict(lead, activities="oops", client=None, deals=None)
    path.write_text(json.dumps([not_a_list]))
    other = new_db("other")
    summary = json.loads(cli("--db", other, "import", str(path), "--json").stdout)
    assert (summary["imported"], summary["warnings"]) == (1, 1)
    kinds = [a["kind"] for a in cli.json("--db", other, "show", "1")["activities"]]
    assert kinds == ["created", "note"]  # the import's own creation, and the note


def test_histories_follow_their_leads_across_batches(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(exporting, "FETCH_ROWS", 2)
    for number in range(5):
        cli("add", f"Person {number}", "--email", f"p{number}@example.com")
        cli("note", str(number + 1), f"note {number}")
    leads = cli.json("export", "--json")
    assert [lead["notes"] for lead in leads] == [[f"note {n}"] for n in range(5)]
    for lead in leads:
        assert {a["lead_id"] for a in lead["activities"]} == {lead["id"]}
    text = cli("export").stdout
    assert [row["notes"] for row in csv.DictReader(io.StringIO(text))] == [
        f"note {n}" for n in range(5)
    ]


def test_the_database_written_timeline_is_the_one_python_writes(cli, db_target):
    """SQLite writes each activity's JSON (the fast path); any other database gets
    the objects built in Python: both read back as `show --json` gives them."""
    cli("add", "Zoë Ñandú", "--email", "zoe@example.com", "--notes", 'quote " and \\ slash')
    cli("note", "1", 'tab\there, newline\nthere, \x1b escape, emoji 🎉, {"json": [1]}')
    cli("log", "1", "--type", "call", "--outcome", "ça va")
    from leadctl.storage import open_database

    database = open_database(db_target)
    with database.session() as session:
        conn = session.connection()
        slow, slow_notes = exporting._timelines(conn, [1])
        # SQLite's fast path (json_object, text times) exists there only
        fast = exporting._timelines_sqlite(conn, [1]) if database.is_sqlite else None
    database.close()
    assert slow[1] == cli.json("show", "1")["activities"]
    assert slow_notes == {1: ['quote " and \\ slash', slow[1][2]["body"]]}
    if fast is not None:
        assert isinstance(fast[0][1], exporting.RawJSON)
        assert json.loads(fast[0][1]) == slow[1]
        assert fast[1] == slow_notes
    lead = cli.json("export", "--json")[0]
    assert lead["activities"] == slow[1]


def test_the_history_crosses_from_the_reader_process(cli, tmp_path, new_db):
    """A big file is parsed in a second process: the history travels with its row."""
    from leadctl.importing import ImportOptions, run_import
    from leadctl.storage import open_database

    source, target = new_db("source"), new_db("target")
    build_pipeline(cli, source)
    out = tmp_path / "all.jsonl"
    cli("--db", source, "--as", "boss", "export", "-o", str(out))
    database = open_database(target)
    try:
        summary = run_import(database, str(out), ImportOptions(parallel=True), actor="boss")
    finally:
        database.close()
    assert (summary.imported, summary.warnings) == (11, 0)
    for table in TABLES:
        assert rows(target, table) == rows(source, table, live_leads_only=True), table


def test_an_export_imported_into_an_empty_database_keeps_its_ids(cli, tmp_path, second_db):
    """On either engine: gaps included, and what is added afterwards is numbered
    after them (PostgreSQL's sequences follow the kept ids)."""
    for name in ("Ada Lovelace", "Ada King", "Grace Hopper", "Alan Turing"):
        cli("add", name, "--email", f"{name.split()[1].lower()}@example.com")
    cli("merge", "1", "2")  # lead 2 archived: the export skips id 2
    cli("convert", "4", "--deal-value", "5000")
    exported = tmp_path / "all.json"
    cli("export", "--format", "json", "-o", str(exported))
    cli.json("--db", second_db, "import", str(exported))
    again = cli.json("--db", second_db, "list", "--all", "--limit", "0")
    assert sorted(lead["id"] for lead in again) == [1, 3, 4]
    client = cli.json("--db", second_db, "client", "show", "1")
    assert [deal["id"] for deal in client["deals"]] == [1]
    assert cli.json("--db", second_db, "add", "Edsger", "--email", "e@example.com")["id"] == 5
    made = cli.json("--db", second_db, "client", "add", "Initech")
    assert made["id"] == 2
    history = cli.json("--db", second_db, "show", "4")["activities"]
    assert history == cli.json("show", "4")["activities"]
