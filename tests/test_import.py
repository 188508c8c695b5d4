"""`import`: bad input, rejects, duplicates, --dry-run, --atomic, --map, --template, stdin."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from leadctl.importing import ImportOptions, run_import
from leadctl.storage import open_database

HEADER = "Name,Email,Phone,Company,Priority,Lead Source,Notes\n"


def write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def count(sql: Any, table: str = "lead") -> int:
    """Rows in a table of the test's database (either engine)."""
    return int(sql(f"SELECT count(*) FROM {table}")[0][0])


def names(cli: Any) -> list[str]:
    return [lead["name"] for lead in cli.json("list", "--limit", "0", "--sort", "created")]


# --- files that are refused whole: exit 1, clear message, nothing stored ----------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (b"\xef\xbb\xbf\r\n  \n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "not a text file"),
        (bytes(range(256)) * 40, "not a text file"),
        (b"PK\x03\x04" + b"\x00" * 100, "not a text file"),
        (b"SQLite format 3\x00" + b"\x00" * 100, "not a text file"),
        (b"Company,City\nAcme,Paris\n", "no recognisable name column"),
        (b"Name,City\nAda,Paris\n", "no recognisable email/phone column"),
    ],
)
def test_refused_files_store_nothing(cli, tmp_path, sql, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    result = cli("import", str(path), code=1)
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert count(sql) == 0
    assert not (tmp_path / "bad.rejects.csv").exists()


def test_no_name_column_names_the_columns_and_the_fix(cli, tmp_path):
    path = write(tmp_path, "Firm,Mail\nAcme,a@acme.example.com\n")
    stderr = cli("import", str(path), code=1).stderr
    assert "'Firm', 'Mail'" in stderr and "--map COLUMN=name" in stderr
    summary = cli.json("import", str(path), "--map", "Firm=name", "--map", "Mail=email")
    assert summary["imported"] == 1
    assert names(cli) == ["Acme"]


def test_a_folder_and_an_unknown_encoding_are_refused(cli, tmp_path):
    assert "is a folder" in cli("import", str(tmp_path), code=1).stderr
    path = write(tmp_path, HEADER + "Ada,ada@example.com,,,,,\n")
    assert "unknown encoding" in cli("import", str(path), "--encoding", "klingon", code=1).stderr
    assert "--on-duplicate" in cli("import", str(path), "--on-duplicate", "maybe", code=1).stderr


# --- rows that are rejected or stored verbatim, never a crash ---------------------------


def test_hostile_rows_are_rejected_or_kept_verbatim(cli, tmp_path, sql):
    big = "x" * (2 * 1024 * 1024)
    rows = [
        ["Name", "Email", "Phone", "Notes", "Title"],
        ["Big Note", "big@example.com", "", big, ""],
        ["Nul Byte", "nul@example.com", "", "a\x00b", ""],
        ['=HYPERLINK("http://evil.example","x")', "formula@example.com", "", "@SUM(1)", "+cmd"],
        ["Ragged", "ragged@example.com", "", "", "", "extra", "cells"],
        ["Short", "short@example.com"],
        ["Trailing", "trailing@example.com", "", "", "", "", ""],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path = write(tmp_path, buffer.getvalue())
    result = cli("import", str(path), "--json", code=1)
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["rejected"]) == (3, 3)
    assert "rejected 3" in result.stderr
    stored = {lead["name"]: lead for lead in cli.json("list", "--limit", "0")}
    formula = '=HYPERLINK("http://evil.example","x")'
    assert set(stored) == {formula, "Short", "Trailing"}
    assert stored[formula]["title"] == "+cmd"  # stored verbatim, guarded only on export
    with open(tmp_path / "in.rejects.csv", encoding="utf-8-sig", newline="") as handle:
        rejected = list(csv.reader(handle))
    assert rejected[0] == ["Name", "Email", "Phone", "Notes", "Title", "line", "reason"]
    reasons = {row[0]: row[6] for row in rejected[1:]}
    assert reasons["Big Note"].startswith("column 'Notes' holds 2,097,152 characters")
    assert reasons["Nul Byte"] == "column 'Notes' contains a NUL byte (not text)"
    assert reasons["Ragged"] == "the row has 7 cells but the header has 5 columns"
    ragged = next(row for row in rejected if row[0] == "Ragged")
    assert ragged[-2:] == ["extra", "cells"]  # nothing of the row is lost
    big_row = next(row for row in rejected if row[0] == "Big Note")
    assert big_row[3] == big and big_row[5] == "2"
    assert count(sql) == 3


def test_unterminated_quote_is_one_clear_reject(cli, tmp_path):
    path = write(tmp_path, HEADER + 'Ada,ada@example.com,,,,,"never closed\nBob,bob@example.com\n')
    result = cli("import", str(path), "--json", code=None)
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 1)


def test_invalid_values_in_a_valid_row_are_warnings(cli, tmp_path):
    path = write(
        tmp_path,
        "Name,Email,Phone,Priority,Lead Source,Annual Revenue,No. of Employees,Created Date\n"
        "Ada,ada@example.com,not a phone,urgent-ish,Carrier pigeon,lots,many,yesterday-ish\n",
    )
    summary = cli.json("import", str(path))
    # issue 12: a source no entry matches is a new source, not a warning
    assert (summary["imported"], summary["warnings"], summary["rejected"]) == (1, 5, 0)
    assert summary["new_sources"] == ["Carrier pigeon"]
    lead = cli.json("list")[0]
    assert (lead["phone"], lead["priority"], lead["source"]) == (None, "medium", "Carrier pigeon")
    assert lead["fields"] == {
        "phone_raw": "not a phone",
        "priority_raw": "urgent-ish",
        "annual_revenue_raw": "lots",
        "company_size_raw": "many",
        "created_at_raw": "yesterday-ish",
    }
    assert lead["created_at"] == "2026-11-23T09:00:00Z"


def test_rejects_file_can_be_fixed_and_imported_again(cli, tmp_path):
    path = write(tmp_path, HEADER + "Ada,ada@example.com,,,,,\n,nobody@example.com,,,,,\n")
    cli("import", str(path), code=1)
    rejects = tmp_path / "in.rejects.csv"
    text = rejects.read_text(encoding="utf-8-sig").replace(",nobody@", "Nobody Known,nobody@")
    fixed = write(tmp_path, text, "fixed.csv")
    summary = cli.json("import", str(fixed))
    assert (summary["imported"], summary["rejected"], summary["warnings"]) == (1, 0, 0)
    lead = next(x for x in cli.json("list") if x["name"] == "Nobody Known")
    assert lead["fields"] == {}  # the rejects file's line and reason are not custom fields


# --- duplicates ----------------------------------------------------------------------


def test_duplicates_merge_fill_blanks_never_overwrite_and_append_notes(cli, add_lead, tmp_path):
    stored = add_lead("Ada Lovelace", email="ada@example.com", company="Analytical")
    path = write(
        tmp_path,
        HEADER
        + "Ada L.,ADA@example.com,+1 415 555 0100,Other Co,high,Web,Wants a demo\n"
        + "Ada Again,ada@example.com,,,,,Wants a demo\n",
    )
    summary = cli.json("import", str(path))
    assert (summary["imported"], summary["merged"]) == (0, 2)
    lead = cli.json("show", str(stored["id"]))
    assert lead["name"] == "Ada Lovelace" and lead["company"] == "Analytical"
    assert (lead["phone"], lead["priority"], lead["source"]) == (
        "+14155550100",
        "medium",
        "Website",
    )
    bodies = [(a["kind"], a["body"]) for a in lead["activities"]]
    assert bodies.count(("note", "Wants a demo")) == 1
    assert ("import", "filled phone, source, notes from in.csv line 2") in bodies
    before = lead["activities"]
    again = cli.json("import", str(path))
    assert (again["imported"], again["merged"]) == (0, 2)
    assert cli.json("show", str(stored["id"]))["activities"] == before  # nothing changed


@pytest.mark.parametrize(
    ("policy", "imported", "merged", "skipped", "rejected", "leads"),
    [
        ("merge", 2, 2, 0, 0, 2),
        ("skip", 2, 0, 2, 0, 2),
        ("create", 4, 0, 0, 0, 4),
        ("fail", 2, 0, 0, 2, 2),
    ],
)
def test_on_duplicate_policies(
    cli, tmp_path, sql, policy, imported, merged, skipped, rejected, leads
):
    path = write(
        tmp_path,
        "Name,Email,Phone,Company\n"
        "Grace Hopper,grace@navy.example.com,,Navy\n"
        "Grace M. Hopper,GRACE@navy.example.com,,\n"
        "Alan Turing,,+44 20 7946 0958,Bletchley\n"
        "Alan M Turing,,+442079460958,Bletchley\n",
    )
    result = cli("import", str(path), "--on-duplicate", policy, "--json", code=None)
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["merged"], summary["skipped"], summary["rejected"]) == (
        imported,
        merged,
        skipped,
        rejected,
    )
    assert result.exit_code == (1 if rejected else 0)
    assert count(sql) == leads
    if policy == "fail":
        text = (tmp_path / "in.rejects.csv").read_text(encoding="utf-8-sig")
        reason = "duplicate of line 2 (Grace Hopper): same email"
        assert f"Grace M. Hopper,GRACE@navy.example.com,,,3,{reason}" in text


def test_company_and_similar_name_is_a_duplicate(cli, add_lead, tmp_path):
    add_lead("Katherine Johnson", email="kj@nasa.example.gov", company="NASA Langley")
    path = write(
        tmp_path, "Name,Phone,Company\nKatherine G. Johnson,+1 757 555 0100,NASA Langley Inc\n"
    )
    assert cli.json("import", str(path))["merged"] == 1


def test_rerun_of_the_same_file_changes_nothing(cli, tmp_path, sql):
    rows = [HEADER.strip()] + [
        f"Person {i},p{i}@example.com,,Co {i},,Web,note {i}" for i in range(50)
    ]
    path = write(tmp_path, "\n".join(rows) + "\n")
    first = cli.json("import", str(path))
    assert first["imported"] == 50
    leads_before, activities_before = count(sql), count(sql, "activity")
    second = cli.json("import", str(path))
    assert (second["imported"], second["merged"]) == (0, 50)
    assert (count(sql), count(sql, "activity")) == (leads_before, activities_before)


# --- dry run, atomic, batches --------------------------------------------------------


def test_dry_run_writes_nothing_and_reports_the_same_counts(cli, add_lead, tmp_path, sql):
    add_lead("Stored Person", email="stored@example.com")
    text = (
        HEADER
        + "".join(f"Person {i},p{i % 7}@example.com,,,,,\n" for i in range(20))
        + "Stored Again,stored@example.com,,,,,\n,nameless@example.com,,,,,\n"
    )
    path = write(tmp_path, text)
    dry = cli.json("import", str(path), "--dry-run", code=1)
    assert dry["dry_run"] is True and dry["rejects_file"] is None
    assert count(sql) == 1 and not (tmp_path / "in.rejects.csv").exists()
    real = cli.json("import", str(path), code=1)
    files = ("dry_run", "rejects_file", "warnings_file")  # a dry run writes no files
    assert dry["warnings_file"] is None and real["warnings_file"] is not None  # merges listed
    assert {k: v for k, v in dry.items() if k not in files} == {
        k: v for k, v in real.items() if k not in files
    }
    assert (real["imported"], real["merged"], real["rejected"]) == (7, 14, 1)


def test_dry_run_counts_match_across_batches(tmp_path, db_target):
    text = HEADER + "".join(f"Person {i},p{i % 30}@example.com,,,,,\n" for i in range(100))
    path = write(tmp_path, text)
    database = open_database(db_target)
    dry = run_import(database, str(path), ImportOptions(dry_run=True, batch_rows=7), actor="t")
    real = run_import(database, str(path), ImportOptions(batch_rows=7), actor="t")
    assert (dry.imported, dry.merged) == (real.imported, real.merged) == (30, 70)


def test_atomic_stores_nothing_when_a_row_is_rejected(cli, tmp_path, sql):
    path = write(tmp_path, HEADER + "Ada,ada@example.com,,,,,\n,nobody@example.com,,,,,\n")
    result = cli("import", str(path), "--atomic", "--json", code=1)
    assert json.loads(result.stdout)["imported"] == 0
    assert "nothing stored (--atomic" in result.stderr
    assert count(sql) == 0 and (tmp_path / "in.rejects.csv").exists()
    good = write(tmp_path, HEADER + "Ada,ada@example.com,,,,,\n", "good.csv")
    assert cli.json("import", str(good), "--atomic")["imported"] == 1


def test_batches_hand_their_new_lead_ids_to_a_hook(tmp_path, db_target):
    text = HEADER + "".join(f"Person {i},p{i}@example.com,,,,,\n" for i in range(10))
    path = write(tmp_path, text)
    seen: list[list[int]] = []
    options = ImportOptions(batch_rows=4, on_batch=lambda s, r: seen.append(r.inserted_ids))
    run_import(open_database(db_target), str(path), options, actor="t")
    assert seen == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]


@pytest.mark.parametrize("parallel", [True, False])
def test_reader_process_and_in_process_agree(tmp_path, db_target, parallel):
    text = (
        HEADER
        + "".join(f"Person {i},p{i % 40}@example.com,,Co {i % 40},,Web,\n" for i in range(200))
        + ",bad@example.com,,,,,\n"
    )
    path = write(tmp_path, text)
    options = ImportOptions(batch_rows=16, parallel=parallel)
    summary = run_import(open_database(db_target), str(path), options, actor="t")
    assert (summary.rows, summary.imported, summary.merged, summary.rejected) == (201, 40, 160, 1)
    assert (tmp_path / "in.rejects.csv").read_text(encoding="utf-8-sig").count("\n") == 2


# --- input forms -----------------------------------------------------------------------


def test_stdin_rejects_go_to_the_current_folder(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli(
        "import", "-", "--json", input=HEADER + "Ada,ada@example.com,,,,,\n,x@y.com,,,,,\n", code=1
    )
    assert json.loads(result.stdout)["rejects_file"] == "stdin.rejects.csv"
    assert (tmp_path / "stdin.rejects.csv").exists()
    assert names(cli) == ["Ada"]


@pytest.mark.parametrize(
    ("delimiter", "newline"), [("\t", "\n"), ("|", "\r\n"), (";", "\r"), (",", "\r\n")]
)
def test_delimiters_and_line_ends_are_sniffed(cli, tmp_path, delimiter, newline):
    rows = [
        ["Name", "Email", "Notes"],
        ["Ada", "ada@example.com", "two\nlines"],
        ["Bob", "bob@example.com", ""],
    ]
    buffer = io.StringIO()
    csv.writer(
        buffer, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_ALL
    ).writerows(rows)
    path = write(tmp_path, buffer.getvalue())
    assert cli.json("import", str(path))["imported"] == 2
    assert sorted(names(cli)) == ["Ada", "Bob"]


def test_forced_delimiter_and_encoding(cli, tmp_path):
    path = write(tmp_path, "Name;Email\nRenée;renee@example.fr\n", encoding="latin-1")
    summary = cli.json("import", str(path), "--delimiter", ";", "--encoding", "latin-1")
    assert summary["imported"] == 1
    assert names(cli) == ["Renée"]


def test_excel_sep_hint_and_mixed_encoding(cli, tmp_path):
    body = "sep=;\nName;Email\nJosé;jose@example.es\n".encode() + "Zoë;zoe@example.nl\n".encode(
        "cp1252"
    )
    path = tmp_path / "mixed.csv"
    path.write_bytes(body)
    assert cli.json("import", str(path))["imported"] == 2
    assert sorted(names(cli)) == ["José", "Zoë"]


def test_template_is_a_header_that_imports_cleanly(cli, tmp_path):
    template = cli("import", "--template").stdout
    assert template.startswith("name,email,phone,company,")
    path = write(tmp_path, template, "template.csv")
    assert cli.json("import", str(path)) == {
        "rows": 0,
        "imported": 0,
        "merged": 0,
        "skipped": 0,
        "rejected": 0,
        "warnings": 0,
        "rejects_file": None,
        "dry_run": False,
        "warnings_file": None,
        "warning_details": [],
        "encoding": "utf-8",
        "new_sources": [],
        "merges": [],
    }
    values = {
        "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+14155550100",
        "company": "Acme", "title": "CTO", "industry": "Software", "country": "US",
        "region": "CA", "company_size": "11-50", "annual_revenue": "$2.5M", "source": "Web",
        "priority": "high", "status": "lost", "lost_reason": "Competitor", "owner": "sam",
        "tags": "vip, beta", "notes": "hello", "budget": "1000", "authority": "yes",
        "need": "CRM", "timeline": "2027-01-31", "deal_value": "5000",
        "next_call_at": "2027-01-05 10:00", "utm_source": "google", "utm_medium": "cpc",
        "utm_campaign": "spring", "created_at": "2026-01-02T03:04:05Z", "first_name": "",
        "last_name": "",
    }  # fmt: skip
    buffer = io.StringIO(template)
    buffer.seek(0, 2)
    csv.DictWriter(buffer, fieldnames=template.strip().split(",")).writerow(values)
    summary = cli.json("import", str(write(tmp_path, buffer.getvalue(), "filled.csv")))
    assert (summary["imported"], summary["warnings"]) == (1, 0)
    lead = cli.json("list", "--status", "lost")[0]
    assert (lead["status"], lead["lost_reason"], lead["company_size"]) == ("lost", "Competitor", 11)
    assert (lead["authority"], lead["timeline"], lead["tags"]) == (
        True,
        "2027-01-31",
        ["vip", "beta"],
    )
    assert lead["next_call_at"] == "2027-01-05T10:00:00Z"


def test_source_and_assign_options(cli, tmp_path):
    path = write(
        tmp_path, "Name,Email,Source\nAda,ada@example.com,\nBob,bob@example.com,Referral\n"
    )
    cli.json("import", str(path), "--source", "event", "--assign", "me")
    found = {lead["name"]: lead for lead in cli.json("list")}
    assert (found["Ada"]["source"], found["Bob"]["source"]) == ("Event", "Referral")
    assert found["Ada"]["owner"] == "tester"
    assert "unknown source" in cli("import", str(path), "--source", "Pigeon", code=1).stderr


def test_map_errors_name_the_choices(cli, tmp_path):
    path = write(tmp_path, HEADER + "Ada,ada@example.com,,,,,\n")
    assert "no column named 'Nope'" in cli("import", str(path), "--map", "Nope=name", code=1).stderr
    assert "unknown field 'nam'" in cli("import", str(path), "--map", "Name=nam", code=1).stderr
    assert cli("import", code=2).exit_code == 2


def test_json_and_jsonl_input(cli, tmp_path):
    objects = [
        {"Name": "Ada", "Email": "ada@example.com"},
        {"Name": "Bob", "Phone": "+14155550100", "Tags": ["x", "y"]},
    ]
    write(tmp_path, json.dumps(objects, indent=2), "in.json")
    write(tmp_path, "\n".join(json.dumps(o) for o in objects) + "\n", "in.jsonl")
    assert cli.json("import", str(tmp_path / "in.json"))["imported"] == 2
    assert cli.json("import", str(tmp_path / "in.jsonl"))["merged"] == 2
    bob = next(lead for lead in cli.json("list") if lead["name"] == "Bob")
    assert bob["tags"] == ["x", "y"]


def test_no_progress_or_noise_when_piped(run_leadctl, tmp_path):
    path = write(tmp_path, HEADER + "Ada,ada@example.com,,,,,\n")
    result = run_leadctl("import", str(path))
    assert result.returncode == 0
    assert result.stderr == "imported 1, merged 0, skipped 0, rejected 0, 0 warnings (of 1 rows)\n"
    assert result.stdout == ""


def test_imported_leads_are_scored_in_the_import(cli, tmp_path):
    source = tmp_path / "scored.csv"
    source.write_text(
        "Name,Email,Job Title,Country,No. of Employees\n"
        "Ada Lovelace,ada@example.com,CEO,US,500\n"
        "Bob Intern,bob@example.com,Intern,,\n"
    )
    cli("import", str(source))
    leads = {lead["name"]: lead for lead in cli.json("list", "--sort", "score")}
    explained = cli.json("score", str(leads["Ada Lovelace"]["id"]), "--explain")
    assert leads["Ada Lovelace"]["score"] == explained["score"] > 0
    assert leads["Ada Lovelace"]["score"] > leads["Bob Intern"]["score"]
