"""Identity (issue 12): never merge two different people.

A shared email or phone is one person only when the names agree; placeholder
addresses and numbers are never a match key; another system's record id is the
first key when its file comes again; every merged row leaves a trace and keeps
a second email or phone; the summary lists the merges.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from leadctl import duplicates

HEADER = "Name,Email,Phone,Company,Notes\n"


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def every(cli: Any) -> list[dict[str, Any]]:
    return sorted(cli.json("list", "--limit", "0"), key=lambda lead: lead["id"])


def bodies(cli: Any, lead_id: int, kind: str | None = None) -> list[str]:
    shown = cli.json("show", str(lead_id))["activities"]
    return [a["body"] for a in shown if kind is None or a["kind"] == kind]


SEVEN = [
    ("Ana Souza", "+55 11 91234 5601"),
    ("Bruno Lima", "+55 11 91234 5602"),
    ("Carla Dias", "+55 11 91234 5603"),
    ("Diego Rocha", "+55 11 91234 5604"),
    ("Elisa Prado", "+55 11 91234 5605"),
    ("Fabio Nunes", "+55 11 91234 5606"),
    ("Gisele Melo", "+55 11 91234 5607"),
]


def test_seven_people_sharing_a_placeholder_address_are_seven_leads(cli, tmp_path):
    rows = "".join(f"{name},a@a.com,{phone},,note of {name}\n" for name, phone in SEVEN)
    summary = cli.json("import", str(write(tmp_path, HEADER + rows)))
    assert (summary["imported"], summary["merged"], summary["rejected"]) == (7, 0, 0)
    assert summary["warnings"] == 7 and summary["merges"] == []
    stored = every(cli)
    assert [lead["name"] for lead in stored] == [name for name, _ in SEVEN]
    for lead, (name, _) in zip(stored, SEVEN, strict=True):
        assert lead["email"] is None and lead["fields"]["email_raw"] == "a@a.com"
        assert bodies(cli, lead["id"], "note") == [f"note of {name}"]  # nobody else's notes


def test_seven_people_sharing_a_real_address_are_stored_linked_and_warned(cli, tmp_path):
    rows = "".join(f"{name},office@acme-corp.com,{phone},Acme,\n" for name, phone in SEVEN)
    summary = cli.json("import", str(write(tmp_path, HEADER + rows)))
    assert (summary["imported"], summary["merged"]) == (7, 0)
    assert summary["warnings"] == 6  # each person after the first shares it
    stored = every(cli)
    first = stored[0]["id"]
    assert all(lead["email"] == "office@acme-corp.com" for lead in stored)
    links = bodies(cli, first, "link")
    assert len(links) == 6 and all("another person" in body for body in links)
    for lead in stored[1:]:
        assert bodies(cli, lead["id"], "link") == [
            f"shares email with lead {first} (Ana Souza): another person"
        ]
    again = cli.json("import", str(write(tmp_path, HEADER + rows)))  # each finds itself
    assert (again["imported"], again["merged"]) == (0, 7)


def test_a_placeholder_as_the_only_contact_is_rejected_with_the_reason(cli, tmp_path):
    path = write(tmp_path, HEADER + "Ana Souza,noreply@shop.com.br,,,\nBo Li,,0000000000,,\n")
    summary = cli.json("import", str(path), code=1)
    assert summary["rejected"] == 2
    text = (tmp_path / "in.rejects.csv").read_text(encoding="utf-8-sig")
    assert "no usable contact: placeholder email 'noreply@shop.com.br'" in text


def test_the_same_person_twice_with_two_phones_is_one_lead_keeping_both(cli, tmp_path):
    rows = (
        "Grace Hopper,grace@navy.mil,+1 202 555 0101,Navy,\n"
        "Grace M. Hopper,grace@navy.mil,+1 202 555 0199,,\n"
    )
    summary = cli.json("import", str(write(tmp_path, HEADER + rows)))
    assert (summary["imported"], summary["merged"]) == (1, 1)
    [lead] = every(cli)
    assert lead["phone"] == "+12025550101" and lead["alt_phones"] == ["+12025550199"]
    assert summary["merges"] == [{"line": 3, "lead_id": lead["id"], "reason": "same email"}]
    assert "filled alt_phones from in.csv line 3" in bodies(cli, lead["id"], "import")


@pytest.mark.parametrize("name", ["in.csv", "100%_done\\x.csv"])  # LIKE's wildcards, literally
def test_every_merged_row_leaves_a_trace_once(cli, add_lead, tmp_path, name):
    stored = add_lead("Grace Hopper", email="grace@navy.mil", phone="+1 202 555 0101")
    path = write(tmp_path, HEADER + "Grace Hopper,grace@navy.mil,+1 202 555 0101,,\n", name)
    summary = cli.json("import", str(path))
    assert summary["merges"] == [{"line": 2, "lead_id": stored["id"], "reason": "same email"}]
    traces = bodies(cli, stored["id"], "import")
    assert traces == [f"merged (nothing new) from {name} line 2"]
    before = cli.json("show", str(stored["id"]))
    cli.json("import", str(path))  # again: nothing changes
    assert cli.json("show", str(stored["id"])) == before


def test_dry_run_and_summary_list_the_merges(cli, add_lead, tmp_path):
    stored = add_lead("Grace Hopper", email="grace@navy.mil")
    rows = "".join(f"Grace Hopper,grace@navy.mil,+1 202 555 01{i:02},,\n" for i in range(12))
    path = write(tmp_path, HEADER + rows)
    dry = cli("import", str(path), "--dry-run")
    assert f"line 2 → lead {stored['id']} (same email)" in dry.stderr
    assert "and 2 more" in dry.stderr
    assert cli.json("show", str(stored["id"]))["phone"] is None  # nothing written
    real = cli.json("import", str(path), "--dry-run")
    assert [m["line"] for m in real["merges"]] == list(range(2, 14))


def test_a_role_address_matches_only_with_a_similar_name(cli, add_lead, tmp_path):
    stored = add_lead("Ana Souza", email="info@souza.com.br")
    rows = "Ana,info@souza.com.br,,,\nAna Souza,info@souza.com.br,,,\n"
    summary = cli.json("import", str(write(tmp_path, HEADER + rows)))
    assert (summary["imported"], summary["merged"]) == (1, 1)
    assert summary["merges"][0]["lead_id"] == stored["id"]


SALESFORCE = (
    "Id,FirstName,LastName,Email,Phone,Company\n"
    "00Q5g00000AAAA1,Ana,Souza,ana@souza.com.br,,Souza\n"
    "00Q5g00000AAAA2,Ana,Souza,ana@souza.com.br,,Souza\n"
    "00Q5g00000AAAA3,Bruno,Lima,bruno@lima.com.br,+55 11 91234 5602,Lima\n"
)


def test_a_salesforce_file_imported_twice_with_create_adds_nothing(cli, tmp_path):
    path = write(tmp_path, SALESFORCE, "Leads.csv")
    first = cli.json("import", str(path), "--on-duplicate", "create")
    assert first["imported"] == 3  # create: one lead per record
    again = cli.json("import", str(path), "--on-duplicate", "create")  # the same records
    assert (again["imported"], again["merged"]) == (0, 3)
    merged = cli.json("import", str(path))
    assert (merged["imported"], merged["merged"]) == (0, 3)
    assert {m["reason"] for m in merged["merges"]} == {"same record id"}
    stored = every(cli)
    assert len(stored) == 3 and stored[0]["fields"]["Id"] == "00Q5g00000AAAA1"


def test_two_records_of_one_person_in_another_crm_merge_by_email(cli, tmp_path):
    summary = cli.json("import", str(write(tmp_path, SALESFORCE, "Leads.csv")))
    assert (summary["imported"], summary["merged"]) == (2, 1)
    assert summary["merges"] == [{"line": 3, "lead_id": 1, "reason": "same email"}]
    again = cli.json("import", str(write(tmp_path, SALESFORCE, "Leads.csv")))
    assert (again["imported"], again["merged"]) == (0, 3)


def test_a_leadctl_export_round_trip_keeps_deliberately_separate_leads(cli, tmp_path):
    cli("add", "Ana Souza", "--email", "ana@souza.com.br")
    cli("add", "Ana Souza", "--email", "ana@souza.com.br", "--on-duplicate", "create")
    cli("add", "Bruno Lima", "--phone", "+55 11 91234 5602")
    out = tmp_path / "all.csv"
    cli("export", "-o", str(out))
    empty = tmp_path / "empty.db"
    summary = cli.json("--db", str(empty), "import", str(out))
    assert (summary["imported"], summary["merged"]) == (3, 0)
    again = cli.json("--db", str(empty), "import", str(out))
    assert (again["imported"], again["merged"]) == (0, 3)
    mine = cli.json("import", str(out))  # into the database it came from: itself
    assert (mine["imported"], mine["merged"]) == (0, 3)
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT count(*) FROM lead").fetchone()[0] == 3


def test_add_stores_a_different_person_sharing_an_email_and_links_them(cli, add_lead):
    first = add_lead("Ana Souza", email="contato@souza.com.br")
    result = cli("add", "Bruno Lima", "--email", "contato@souza.com.br", "--json")
    other = json.loads(result.stdout)
    assert other["id"] != first["id"]
    assert f"shares email with lead {first['id']} (Ana Souza)" in result.stderr
    assert bodies(cli, first["id"], "link") == [
        f"shares email with lead {other['id']} (Bruno Lima), added: another person"
    ]
    # the same person is still a duplicate
    cli("add", "Ana Souza", "--email", "contato@souza.com.br", code=3)


def test_add_merge_keeps_a_different_phone(cli, add_lead):
    lead = add_lead("Ana Souza", email="ana@souza.com.br", phone="+55 11 91234 5601")
    result = cli(
        "add", "Ana Souza", "--email", "ana@souza.com.br", "--phone", "+55 11 91234 5699",
        "--on-duplicate", "merge",
    )  # fmt: skip
    assert "alt_phones" in result.stderr
    assert cli.json("show", str(lead["id"]))["alt_phones"] == ["+5511912345699"]


def test_add_refuses_a_placeholder_contact(cli):
    assert "placeholder" in cli("add", "Ana", "--email", "test@test.com", code=1).stderr
    assert "placeholder" in cli("add", "Ana", "--phone", "+44 7777 777777", code=1).stderr


def test_merge_and_dedupe_keep_the_second_email_and_leave_different_people(cli, add_lead):
    a = add_lead("Ana Souza", email="ana@souza.com.br", phone="+55 11 91234 5601")
    b = add_lead("Ana Souza", "--on-duplicate", "create", email="ana.s@gmail.com",
                 phone="+55 11 91234 5601")  # fmt: skip
    c = add_lead("Bruno Lima", phone="+55 11 91234 5601")  # shares the phone: another person
    groups = cli.json("dedupe")
    assert [sorted(lead["id"] for lead in g["leads"]) for g in groups] == [[a["id"], b["id"]]]
    cli("edit", str(b["id"]), "--email", "ana.souza@outlook.com")
    cli("add", "Ana Souza", "--email", "ana.souza@outlook.com", "--phone", "+55 11 91234 5688",
        "--on-duplicate", "merge")  # fmt: skip
    assert cli.json("show", str(b["id"]))["alt_phones"] == ["+5511912345688"]
    cli("merge", str(a["id"]), str(b["id"]))
    kept = cli.json("show", str(a["id"]))
    assert kept["email"] == "ana@souza.com.br"
    assert kept["alt_emails"] == ["ana.souza@outlook.com"]
    assert kept["alt_phones"] == ["+5511912345688"]  # the merged lead's own second phone
    assert cli.json("show", str(c["id"]))["name"] == "Bruno Lima"


@pytest.mark.parametrize(
    "email",
    ["a@a.com", "xx@xx.com", "test@test.com", "noreply@stripe.com", "No-Reply@x.io",
     "none@none.com", "bob@mail.invalid", "x@shop.test", "test@example.com", "zzz@acme.com",
     "dummy@example.org"],
)  # fmt: skip
def test_placeholder_addresses(email):
    assert duplicates.placeholder_email(email.casefold())


@pytest.mark.parametrize(
    "email",
    [
        "ana@souza.com.br",
        "a@acme.example.com",
        "ada@example.com",
        "info@acme.com",
        "x@example.com",
        "hh@example.org",
        "grace@navy.example",
    ],
)
def test_real_addresses_are_no_placeholders(email):
    assert not duplicates.placeholder_email(email)


@pytest.mark.parametrize(
    ("phone", "placeholder"),
    [("+15555555555", True), ("+11234567890", True), ("+449876543210", True),
     ("+14155550100", False), ("+33123456789", False), ("+49301234567", False)],
)  # fmt: skip
def test_placeholder_phones(phone, placeholder):
    assert duplicates.placeholder_phone(phone) is placeholder


@pytest.mark.parametrize(
    ("one", "other", "agree"),
    [("ada lovelace", "a. lovelace", True), ("ada lovelace", "lovelace ada", True),
     ("ada lovelace", "ada", True), ("ada lovelace", "ada king", True), ("", "bruno", True),
     ("ana souza", "bruno lima", False), ("john smith", "mary smith", False)],
)  # fmt: skip
def test_names_agree(one, other, agree):
    assert duplicates.names_agree(one, other) is agree
    assert duplicates.names_agree(other, one) is agree
