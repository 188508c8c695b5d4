"""`website` and `linkedin` (SPEC Additions): added by one registry entry each and
a migration; add, edit, show, --json, import, export, and an old database file."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

from leadctl.importing.headers import lookup
from leadctl.storage import SCHEMA_VERSION

FIXTURE_V1 = Path(__file__).parent / "fixtures" / "schema" / "v1.db"
SITE = "https://analytical.example/"
PROFILE = "https://www.linkedin.com/in/ada-lovelace"


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_add_edit_show_and_json(cli, add_lead):
    lead = add_lead("Ada Lovelace", website=SITE, linkedin=PROFILE)
    assert (lead["website"], lead["linkedin"]) == (SITE, PROFILE)
    assert list(lead)[-2:] == ["website", "linkedin"]
    shown = cli("show", str(lead["id"])).stdout
    assert SITE in shown and PROFILE in shown
    cli("edit", str(lead["id"]), "--website", "https://ada.example", "--linkedin", "")
    edited = cli.json("show", str(lead["id"]))
    assert (edited["website"], edited["linkedin"]) == ("https://ada.example", None)
    changes = {(a["field"], a["new_value"]) for a in edited["activities"] if a["kind"] == "edit"}
    assert ("website", "https://ada.example") in changes and ("linkedin", None) in changes
    assert "--website" in cli("add", "--help").stdout
    assert "--linkedin" in cli("edit", "--help").stdout


def test_import_reads_the_synonyms(cli, tmp_path):
    path = write(
        tmp_path,
        "Name,Email,Company Website,LinkedIn URL\n"
        f"Ada,ada@example.com,{SITE},{PROFILE}\n"
        "Bob,bob@example.com,,\n",
    )
    summary = cli.json("import", str(path))
    assert (summary["imported"], summary["warnings"]) == (2, 0)
    found = {lead["name"]: lead for lead in cli.json("list")}
    assert (found["Ada"]["website"], found["Ada"]["linkedin"]) == (SITE, PROFILE)
    assert found["Ada"]["fields"] == {}
    assert (found["Bob"]["website"], found["Bob"]["linkedin"]) == (None, None)
    for header, field in [
        ("Website", "website"),
        ("Web Site", "website"),
        ("LinkedIn", "linkedin"),
        ("Profile URL", "linkedin"),
        ("URL", "linkedin"),
    ]:
        assert (lookup(header) or ("",))[0] == field, header


def test_linkedin_connections_url_column_is_the_profile(cli, tmp_path):
    path = write(
        tmp_path,
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        f"Ada,Lovelace,{PROFILE},ada@example.com,Analytical,Countess,15 Mar 2024\n",
    )
    cli.json("import", str(path))
    lead = cli.json("list")[0]
    assert (lead["name"], lead["linkedin"], lead["title"]) == ("Ada Lovelace", PROFILE, "Countess")
    assert "URL" not in lead["fields"]


def test_export_and_import_back_unchanged(cli, add_lead, tmp_path):
    add_lead("Ada Lovelace", website=SITE, linkedin=PROFILE)
    add_lead("Bob Plain")
    text = cli("export").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert (rows[0]["website"], rows[0]["linkedin"]) == (SITE, PROFILE)
    assert (rows[1]["website"], rows[1]["linkedin"]) == ("", "")
    before = cli.json("list", "--sort", "created")
    target = tmp_path / "other.db"
    path = write(tmp_path, text, "export.csv")
    cli.json("--db", str(target), "import", str(path))
    after = cli.json("--db", str(target), "list", "--sort", "created")
    keys = ("name", "email", "website", "linkedin", "fields")
    assert [[lead[k] for k in keys] for lead in after] == [
        [lead[k] for k in keys] for lead in before
    ]
    jsonl = cli("export", "--format", "jsonl").stdout
    assert PROFILE in jsonl and SITE in jsonl


def test_a_version_1_database_gains_the_columns(cli, tmp_path):
    db = tmp_path / "v1.db"
    shutil.copyfile(FIXTURE_V1, db)
    with sqlite3.connect(db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(lead)")}
        assert "website" not in columns and "linkedin" not in columns
        assert conn.execute("SELECT value FROM leadctl_meta").fetchone() == ("1",)
    db_as = ("--db", str(db), "--as", "ada")  # v1.db has users: ada is its admin
    alan = cli.json(*db_as, "show", "2")
    assert (alan["name"], alan["website"], alan["linkedin"]) == ("Alan Turing", None, None)
    assert alan["activities"]
    cli(*db_as, "edit", "2", "--website", SITE, "--linkedin", PROFILE)
    again = cli.json(*db_as, "show", "2")
    assert (again["website"], again["linkedin"]) == (SITE, PROFILE)
    assert "Grace Hopper" in {
        lead["name"] for lead in cli.json(*db_as, "list", "--all", "--limit", "0")
    }
    with sqlite3.connect(db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(lead)")}
        assert {"website", "linkedin"} <= columns
        version = conn.execute("SELECT value FROM leadctl_meta WHERE key = 'schema_version'")
        assert version.fetchone() == (str(SCHEMA_VERSION),)


def test_a_new_database_has_the_columns_and_the_current_version(cli, sql):
    cli("list")
    assert sql("SELECT website, linkedin FROM lead") == []
    version = sql("SELECT value FROM leadctl_meta WHERE key = 'schema_version'")
    assert version == [(str(SCHEMA_VERSION),)]
    assert SCHEMA_VERSION >= 2


def test_a_scoring_rule_may_test_the_new_fields(cli, tmp_path):
    """Which fields a rule may test comes from the registry: a new field needs no
    change to scoring."""
    from leadctl.scoring.rules import TEXT_FIELDS, default_text

    assert {"website", "linkedin"} <= set(TEXT_FIELDS)
    rules = tmp_path / "rules.toml"
    rules.write_text(  # the shipped rules, plus one on the new field
        default_text() + '\n[[demographic.rules]]\nname = "Has a LinkedIn profile"\n'
        "linkedin.present = true\npoints = 7\n"
    )
    cli("add", "Ada", "--email", "ada@example.com", "--linkedin", PROFILE)
    cli("add", "Bob", "--email", "bob@example.com")
    cli("score", "--rules", str(rules))
    scores = {lead["name"]: lead["score"] for lead in cli.json("list")}
    assert scores["Ada"] - scores["Bob"] == 7
    explained = cli.json("score", "1", "--explain")
    assert "demographic: Has a LinkedIn profile" in [r["rule"] for r in explained["rules"]]
    assert explained["score"] == scores["Ada"]  # the set-based pass and the explanation agree
