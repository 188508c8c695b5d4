"""`import` of the exports people really have: one hand-made file per source
(shapes from ../shared/FORMATS.md), imported without --map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def load(cli: Any, name: str, *args: str, code: int = 0) -> dict[str, Any]:
    return cli.json("import", str(FIXTURES / name), *args, code=code)


def leads(cli: Any) -> dict[str, dict[str, Any]]:
    return {lead["name"]: lead for lead in cli.json("list", "--all", "--limit", "0")}


def test_salesforce_data_export(cli, tmp_path):
    rejects = tmp_path / "sf.rejects.csv"
    summary = load(cli, "salesforce_leads.csv", "--rejects", str(rejects), code=1)
    assert summary | {"rejects_file": None} == {
        "rows": 5,
        "imported": 3,
        "merged": 0,
        "skipped": 0,
        "rejected": 2,
        "warnings": 1,
        "rejects_file": None,
        "dry_run": False,
        "warnings_file": str(tmp_path / "sf.warnings.csv"),
        "warning_details": [
            {
                "line": 3,
                "field": "annual_revenue",
                "value": summary["warning_details"][0]["value"],
                "message": "not a valid annual_revenue; kept as annual_revenue_raw",
            }
        ],
        "encoding": "utf-8",
        "new_sources": [],
        "merges": [],
    }
    found = leads(cli)
    grace = found["Grace Hopper"]
    assert grace["email"] == "grace.hopper@cobol.example.com"
    assert grace["phone"] == "+17035550142"
    assert (grace["company"], grace["title"], grace["industry"]) == (
        "Cobol Systems Inc.",
        "VP Engineering",
        "Technology",
    )
    assert (grace["company_size"], grace["annual_revenue"]) == (250, 2500000.0)
    assert (grace["source"], grace["status"], grace["region"]) == ("Website", "new", "VA")
    assert grace["created_at"] == "2022-12-21T14:27:52Z"
    assert grace["id"] == 1  # Salesforce's Id is never taken as the lead's id
    assert grace["fields"]["Id"] == "00Q5g00000A1b2cEAB"
    assert grace["fields"]["OwnerId"] == "0055g00000XyZ12AAB"
    assert grace["fields"]["Salutation"] == "Ms."
    alan = found["Alan Turing"]
    assert (alan["phone"], alan["source"], alan["status"]) == (
        "+442079460958",
        "Referral",
        "contacted",
    )
    assert alan["annual_revenue"] is None and alan["fields"]["annual_revenue_raw"] == "lots"
    assert alan["company_size"] == 11  # "11-50": the lower bound
    edsger = found["Edsger Dijkstra"]
    assert (edsger["status"], edsger["lost_reason"], edsger["source"]) == (
        "unqualified",
        "Other",
        "Event",
    )
    text = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert text[0].endswith(",line,reason") and text[0].startswith("Id,IsDeleted,")
    assert "Barbara" in text[1] and text[1].endswith(
        ",5,no usable contact: invalid email 'not an email'; phone '1234' does not parse "
        "for region US"
    )
    assert text[2].endswith(",6,no name (nor first and last name)")
    shown = cli.json("show", str(grace["id"]))
    kinds = [(a["kind"], a["body"]) for a in shown["activities"]]
    assert kinds == [
        ("created", "imported from salesforce_leads.csv"),
        ("note", "Met at re:Invent, wants a pilot"),
    ]
    assert shown["activities"][0]["created_at"] == "2022-12-21T14:27:52Z"


def test_hubspot_contacts_with_a_duplicate_in_the_file(cli, tmp_path):
    rejects = tmp_path / "hubspot.rejects.csv"  # the merge is listed beside it, not in fixtures/
    assert load(cli, "hubspot_contacts.csv", "--rejects", str(rejects)) == {
        "rows": 4,
        "imported": 3,
        "merged": 1,
        "skipped": 0,
        "rejected": 0,
        "warnings": 0,
        "rejects_file": None,
        "dry_run": False,
        "warnings_file": str(tmp_path / "hubspot.warnings.csv"),
        "warning_details": [],
        "encoding": "utf-8",
        "new_sources": [],
        "merges": [{"line": 5, "lead_id": 1, "reason": "same email"}],
    }
    assert (tmp_path / "hubspot.warnings.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "line,lead_id,field,value,warning",
        "5,1,,,merged into lead 1: same email",
    ]
    found = leads(cli)
    katherine = found["Katherine Johnson"]
    assert katherine["company"] == "Orbit Mechanics"  # from "Associated Company"
    assert katherine["status"] == "new"  # the duplicate's "Open Deal" never overwrites
    assert katherine["fields"]["Record ID"] == "51"
    assert katherine["fields"]["Contact owner"] == "Ann Owner"
    assert katherine["owner"] is None  # another CRM's owner is not a leadctl user
    assert found["Dorothy Vaughan"]["status"] == "contacted"  # "In Progress"
    assert found["Mary Jackson"]["status"] == "unqualified"
    assert katherine["created_at"] == "2024-01-15T09:30:00Z"


def test_pipedrive_people_with_several_values_per_cell(cli):
    load(cli, "pipedrive_people.csv")
    found = leads(cli)
    linus = found["Linus Torvalds"]
    assert linus["email"] == "linus@kernel.example.org"
    assert linus["fields"]["Person - Email"] == "linus@kernel.example.org, linus.home@example.org"
    assert (linus["phone"], linus["company"], linus["title"]) == (
        "+358401234567",
        "Kernel Oy",
        "Maintainer",
    )
    assert linus["tags"] == ["Hot lead", "VIP"]
    assert linus["fields"]["Person - Owner"] == "Pat Rep"
    ada = found["Ada Lovelace"]
    assert ada["phone"] == "+442079460000"  # the first number of the cell is not valid
    assert ada["email"] is None
    notes = [a["body"] for a in cli.json("show", str(ada["id"]))["activities"]]
    assert 'Likes "notes" in quotes' in notes


def test_zoho_leads(cli):
    load(cli, "zoho_leads.csv")
    found = leads(cli)
    margaret = found["Margaret Hamilton"]
    assert margaret["title"] == "Director of Software"  # Designation
    assert (margaret["source"], margaret["status"]) == ("Event", "nurture")
    assert margaret["created_at"] == "2024-03-15T10:22:00Z"  # MM/dd/yyyy
    assert (margaret["company_size"], margaret["annual_revenue"]) == (51, 1200000.0)
    assert margaret["tags"] == ["Apollo", "VIP"]
    assert margaret["fields"]["Lead Owner.id"] == "4276919000000224001"
    dennis = found["Dennis Ritchie"]
    assert dennis["phone"] == "+19085550123"  # from Mobile when Phone is empty
    assert (dennis["status"], dennis["lost_reason"]) == ("unqualified", "Other")
    assert (dennis["company_size"], dennis["annual_revenue"]) == (5000, 2500000.0)


def test_odoo_export_quoted_with_formula_guards(cli):
    load(cli, "odoo_leads.csv")
    found = leads(cli)
    alice = found["Alice Martin"]
    assert alice["phone"] == "+33123456789"  # Odoo wrote '+33 1 23 45 67 89
    assert alice["fields"]["Mobile"] == "+33 6 12 34 56 78"
    assert (alice["company"], alice["title"]) == ("Boulangerie Martin", "Gérante")
    assert (alice["status"], alice["source"], alice["deal_value"]) == (
        "qualified",
        "Email",
        12000.0,
    )
    assert (alice["utm_medium"], alice["utm_campaign"]) == ("Email", "Spring promo")
    assert alice["fields"]["Opportunity"] == "Website redesign"
    chen = found["Chen Wei"]
    assert (chen["status"], chen["lost_reason"]) == ("lost", "No budget")
    assert chen["fields"]["lost_reason_raw"] == "Too expensive"
    formula = found['=HYPERLINK("http://evil.example","click")']  # stored verbatim
    assert formula["title"] == "-dangerous"


def test_linkedin_connections_after_three_preamble_lines(cli, tmp_path):
    rejects = tmp_path / "li.csv"
    summary = load(cli, "linkedin_connections.csv", "--rejects", str(rejects), code=1)
    assert (summary["imported"], summary["rejected"]) == (2, 1)
    found = leads(cli)
    frances = found["Frances Allen"]
    assert (frances["company"], frances["title"], frances["source"]) == (
        "Compilers, Inc.",
        "Fellow",
        "LinkedIn",
    )
    assert frances["created_at"] == "2024-03-15T00:00:00Z"
    # SPEC Additions: LinkedIn's own URL column is the lead's linkedin (a custom field before)
    assert frances["linkedin"] == "https://www.linkedin.com/in/frances-allen"
    assert "URL" not in frances["fields"]
    assert found["Jean Sammet"]["created_at"] == "2024-02-29T00:00:00Z"
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("John,Backus,") and lines[1].endswith(
        ",6,no usable contact: no email or phone"
    )


def test_google_contacts(cli):
    load(cli, "google_contacts.csv")
    found = leads(cli)
    hedy = found["Hedy Lamarr"]
    assert (hedy["email"], hedy["phone"]) == ("hedy@hop.example.com", "+13105550142")
    assert (hedy["company"], hedy["title"], hedy["region"]) == (
        "Frequency Hopping LLC",
        "Inventor",
        "CA",
    )
    assert hedy["tags"] == ["myContacts", "Prospects"]
    assert hedy["fields"]["E-mail 2 - Value"] == "hedy.home@example.com"
    assert hedy["fields"]["Address 1 - Formatted"] == "1 Studio Way\nLos Angeles"
    notes = [a["body"] for a in cli.json("show", str(hedy["id"]))["activities"]]
    assert "Met at the film festival,\nasked for a demo" in notes
    assert found["Claude Elwood Shannon"]["phone"] == "+16175550155"


def test_google_contacts_old_format_in_utf16(cli):
    load(cli, "google_contacts_utf16.csv")
    found = leads(cli)
    sophie = found["Sophie Germain"]
    assert (sophie["company"], sophie["title"]) == ("Élasticité SARL", "Fondatrice")
    assert sophie["tags"] == ["My Contacts", "Mathématiques"]
    assert sophie["phone"] == "+33698765432"
    assert found["Emmy Noether"]["company"] == "Göttingen Algebra GmbH"


@pytest.mark.parametrize(
    ("name", "title", "salutation"),
    [("outlook_contacts.csv", "Fellow", "Dr."), ("outlook_desktop.csv", "Professor", "Prof.")],
)
def test_outlook_title_is_a_salutation_next_to_job_title(cli, name, title, salutation):
    load(cli, name)
    found = leads(cli)
    lead = found.get("Radia Perlman") or found["Donald E. Knuth"]
    assert lead["title"] == title
    assert lead["fields"]["Title"] == salutation


def test_outlook_priorities_and_categories(cli):
    load(cli, "outlook_contacts.csv")
    found = leads(cli)
    assert (found["Radia Perlman"]["priority"], found["Bob Kahn"]["priority"]) == (
        "high",
        "medium",
    )
    assert found["Radia Perlman"]["tags"] == ["Networking", "Prospects"]
    assert found["Bob Kahn"]["phone"] == "+17035550133"  # Business Phone


def test_mailchimp_audience(cli):
    load(cli, "mailchimp_members.csv")
    found = leads(cli)
    rick = found["Rick Hawkins"]
    assert (rick["country"], rick["region"], rick["phone"]) == ("US", "WA", "+12065550123")
    assert rick["created_at"] == "2016-04-18T13:51:14Z"  # OPTIN_TIME
    assert rick["tags"] == ["Customer", "Newsletter"]
    assert rick["fields"]["TIMEZONE"] == "America/Los_Angeles"


def test_excel_semicolon_windows_1252_with_decimal_commas(cli):
    load(cli, "excel_semicolon_cp1252.csv")
    found = leads(cli)
    jurgen = found["Jürgen Müller"]
    assert jurgen["company"] == "Müller & Söhne GmbH"
    assert jurgen["annual_revenue"] == 1234567.89
    assert jurgen["phone"] == "+49301234567"  # national number, country Deutschland
    assert jurgen["created_at"] == "2023-12-31T00:00:00Z"
    assert found["Zoë Ångström"]["annual_revenue"] == 2.5
    assert found["François Lefèvre"]["company"] == "Lefèvre €uro"


def test_excel_utf8_with_bom_and_mangled_numbers(cli):
    load(cli, "excel_utf8_bom.csv")
    found = leads(cli)
    sakura = found["Sakura Tanaka"]  # "Full Name" is read although the BOM precedes it
    assert (sakura["company"], sakura["phone"]) == ("田中商事", "+14155550123")
    assert sakura["annual_revenue"] == 6281230000000.0  # 6.28123E+12
    assert found["Olusegun Obi"]["phone"] == "+2348031234567"


def test_xlsx_workbook_with_a_title_row(cli, tmp_path):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Leads from the trade show"])
    sheet.append([])
    sheet.append(["First Name", "Last Name", "Email", "Phone", "Employees", "Created", "Notes"])
    sheet.append(
        [
            "Ida",
            "Rhodes",
            "ida@rhodes.example.com",
            14155550111,
            120,
            datetime(2024, 6, 1, 9, 30),
            None,
        ]
    )
    sheet.append(["Betty", "Holberton", None, "+1 415 555 0112", "11-50", None, "=SUM(A1:A2)"])
    path = tmp_path / "show.xlsx"
    book.save(path)
    assert load(cli, str(path))["imported"] == 2
    found = leads(cli)
    ida = found["Ida Rhodes"]
    assert (ida["phone"], ida["company_size"]) == ("+14155550111", 120)
    assert ida["created_at"] == "2024-06-01T09:30:00Z"
    assert found["Betty Holberton"]["company_size"] == 11


def test_every_fixture_imports_without_map(cli):
    for path in sorted(FIXTURES.glob("*.csv")):
        result = cli("import", str(path), "--dry-run", "--json", code=None)
        assert result.exit_code in (0, 1), (path.name, result.stderr)
        assert json.loads(result.stdout)["imported"] >= 1, path.name
