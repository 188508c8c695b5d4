"""`add`, `list`, `show`, `edit` through the real CLI on a real database file."""

from __future__ import annotations

import json

import pytest

from leadctl.models import LEAD_JSON_KEYS


def test_add_prints_the_full_lead_object(add_lead):
    lead = add_lead(
        "Ada Lovelace",
        email="Ada@Example.COM",
        phone="(415) 555-0100",
        company="Analytical Engines",
        source="referral",
        priority="HIGH",
        company_size="11-50",
        revenue="$2.5M",
        timeline="2027-01-15",
        authority="yes",
    )
    assert list(lead) == LEAD_JSON_KEYS
    assert lead["id"] == 1
    assert lead["email"] == "Ada@example.com"
    assert lead["phone"] == "+14155550100"
    assert lead["source"] == "Referral"
    assert lead["priority"] == "high"
    assert lead["company_size"] == 11
    assert lead["annual_revenue"] == 2_500_000
    assert lead["timeline"] == "2027-01-15"
    assert lead["authority"] is True
    assert lead["status"] == "new"
    assert lead["created_at"] == "2026-11-23T09:00:00Z"
    assert lead["tags"] == [] and lead["fields"] == {}


def test_add_message_goes_to_stderr_and_stdout_stays_empty(cli):
    result = cli("add", "Ada", "--email", "ada@example.com")
    assert result.stdout == ""
    assert "added lead 1: Ada" in result.stderr


def test_phone_uses_country_then_region_env(cli, monkeypatch):
    de = cli.json("add", "Berlin Lead", "--phone", "030 1234567", "--country", "Germany")
    assert de["phone"] == "+49301234567"
    monkeypatch.setenv("LEADCTL_REGION", "GB")
    gb = cli.json("add", "London Lead", "--phone", "020 7946 0958")
    assert gb["phone"] == "+442079460958"


def test_phone_extension_is_kept_as_custom_field(cli):
    lead = cli.json("add", "Ext", "--phone", "415-555-0100 ext. 12")
    assert lead["phone"] == "+14155550100"
    assert lead["fields"] == {"phone_ext": "12"}


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--email", "not-an-email", "email"),
        ("--phone", "1234", "phone"),
        ("--priority", "urgent", "low, medium, high, critical"),
        ("--source", "Carrier pigeon", "Website, Referral"),
        ("--timeline", "someday", "timeline"),
        ("--company-size", "many", "company size"),
        ("--revenue", "lots", "annual revenue"),
        ("--authority", "perhaps", "yes or no"),
        ("--client", "42", "client"),
    ],
)
def test_bad_field_exits_1_naming_it_and_stores_nothing(cli, option, value, named):
    result = cli("add", "Ada", "--email", "ada@example.com", option, value, code=1)
    assert result.stderr.startswith("error: ")
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli.json("list") == []


def test_name_and_contact_are_required(cli):
    assert "email or a phone" in cli("add", "Ada", code=1).stderr
    assert "name" in cli("add", " ", "--email", "a@example.com", code=1).stderr
    cli("add", code=2)


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        (["--email", "ada@example.com"], ["--email", "ADA@EXAMPLE.com"], "same email"),
        (["--phone", "+1 415 555 0100"], ["--phone", "(415) 555-0100"], "same phone"),
        (
            ["--email", "a1@example.com", "--company", "Acme Inc."],
            ["--email", "a2@example.com", "--company", "ACME"],
            "same company and similar name",
        ),
    ],
)
def test_duplicate_without_terminal_exits_3_naming_it(cli, first, second, reason):
    cli("add", "Ada Lovelace", *first)
    result = cli("add", "Ada  lovelace", *second, code=3)
    assert "lead 1 (Ada Lovelace)" in result.stderr
    assert reason in result.stderr
    assert len(cli.json("list")) == 1


def test_different_person_at_same_company_is_not_a_duplicate(cli):
    cli("add", "Ada Lovelace", "--email", "a1@example.com", "--company", "Acme")
    cli("add", "Charles Babbage", "--email", "c@example.com", "--company", "Acme")
    assert len(cli.json("list")) == 2


def test_on_duplicate_merge_fills_blanks_never_overwrites(cli):
    cli("add", "Ada", "--email", "ada@example.com", "--title", "CTO")
    merged = cli.json(
        "add", "Ada", "--email", "ada@example.com", "--title", "CEO", "--company", "Acme",
        "--on-duplicate", "merge", "--notes", "met at expo",
    )  # fmt: skip
    assert merged["id"] == 1
    assert merged["title"] == "CTO"
    assert merged["company"] == "Acme"
    kinds = [a["kind"] for a in cli.json("show", "1")["activities"]]
    assert kinds == ["created", "note", "merge"]


def test_on_duplicate_skip_and_create(cli):
    cli("add", "Ada", "--email", "ada@example.com")
    skipped = cli.json("add", "Ada", "--email", "ada@example.com", "--on-duplicate", "skip")
    assert skipped["id"] == 1
    created = cli.json("add", "Ada", "--email", "ada@example.com", "--on-duplicate", "create")
    assert created["id"] == 2
    cli("add", "Ada", "--email", "x@example.com", "--on-duplicate", "bogus", code=1)


def test_list_default_order_is_next_call_then_score(cli, db_target):
    from leadctl.storage import open_database

    for name in ("NoCall Low", "NoCall High", "Call Later", "Call Overdue"):
        cli("add", name, "--email", f"{name.split()[1].lower()}@example.com")
    cli("schedule", "3", "2026-11-30 10:00")
    cli("schedule", "4", "2026-11-20 10:00")
    database = open_database(db_target)
    with database.session() as session:
        from leadctl.leads import get

        get(session, 2).score = 90
        get(session, 1).score = 10
    names = [lead["name"] for lead in cli.json("list")]
    assert names == ["Call Overdue", "Call Later", "NoCall High", "NoCall Low"]
    table = cli("list").stdout
    assert table.index("Call Overdue") < table.index("NoCall Low")


def test_list_filters_sorts_and_pages(cli):
    cli("add", "Ada", "--email", "ada@example.com", "--source", "Website", "--tag", "vip")
    cli("add", "Bob", "--email", "bob@corp.io", "--source", "Referral", "--company", "Corp")
    cli("add", "Cy", "--phone", "+14155550123", "--source", "Website")
    cli("status", "2", "contacted")

    def names(*args: str) -> list[str]:
        return [lead["name"] for lead in cli.json("list", *args)]

    assert names("--status", "contacted") == ["Bob"]
    assert names("--source", "website", "--sort", "created") == ["Cy", "Ada"]
    assert names("--tag", "vip") == ["Ada"]
    assert names("--search", "CORP") == ["Bob"]
    assert names("--search", "555-0123".replace("-", "")) == ["Cy"]
    assert names("--owner", "unassigned", "--sort", "created", "--limit", "2") == ["Cy", "Bob"]
    assert names("--sort", "created", "--limit", "1", "--offset", "1") == ["Bob"]
    assert names("--band", "hot") == []
    assert "new, contacted" in cli("list", "--status", "bogus", code=1).stderr
    assert "today, overdue, week" in cli("list", "--due", "later", code=1).stderr


def test_list_due_filters(cli):
    cli("add", "Overdue", "--email", "o@example.com")
    cli("add", "Today", "--email", "t@example.com")
    cli("add", "Soon", "--email", "s@example.com")
    cli("schedule", "1", "2026-11-22 10:00")
    cli("schedule", "2", "today 15:00")
    cli("schedule", "3", "+3d")
    due = {
        arg: [r["name"] for r in cli.json("list", "--due", arg)]
        for arg in ("overdue", "today", "week")
    }  # noqa: E501
    assert due == {
        "overdue": ["Overdue"],
        "today": ["Overdue", "Today"],
        "week": ["Overdue", "Today", "Soon"],
    }


def test_show_has_lead_and_timeline(cli):
    cli("add", "Ada", "--email", "ada@example.com", "--notes", "first touch")
    cli("status", "1", "contacted")
    shown = cli.json("show", "1")
    assert shown["name"] == "Ada"
    assert [(a["kind"], a["old_value"], a["new_value"]) for a in shown["activities"]] == [
        ("created", None, "new"),
        ("note", None, None),
        ("status", "new", "contacted"),
    ]
    assert set(shown["activities"][0]) >= {"id", "kind", "body", "outcome", "actor", "created_at"}
    assert shown["activities"][0]["actor"] == "tester"
    text = cli("show", "1").stdout
    assert "Timeline" in text and "new → contacted" in text and "first touch" in text
    assert "no lead with id 9" in cli("show", "9", code=1).stderr


def test_edit_changes_fields_and_records_each(cli):
    cli("add", "Ada", "--email", "ada@example.com", "--field", "a=1", "--tag", "x")
    lead = cli.json(
        "edit", "1", "--name", "Ada L", "--phone", "+44 20 7946 0958", "--field", "b=2",
        "--tag", "y", "--priority", "critical",
    )  # fmt: skip
    assert lead["name"] == "Ada L"
    assert lead["phone"] == "+442079460958"
    assert lead["fields"] == {"a": "1", "b": "2"}
    assert lead["tags"] == ["x", "y"]
    edits = [a for a in cli.json("show", "1")["activities"] if a["kind"] == "edit"]
    assert {a["field"] for a in edits} == {"name", "phone", "fields", "tags", "priority"}
    name_edit = next(a for a in edits if a["field"] == "name")
    assert (name_edit["old_value"], name_edit["new_value"]) == ("Ada", "Ada L")


def test_edit_clearing_and_refusals(cli):
    cli("add", "Ada", "--email", "ada@example.com", "--phone", "+14155550100")
    assert cli.json("edit", "1", "--phone", "")["phone"] is None
    assert "email or a phone" in cli("edit", "1", "--email", "", code=1).stderr
    assert cli.json("show", "1")["email"] == "ada@example.com"
    assert "nothing to change" in cli("edit", "1", code=1).stderr
    cli("edit", "7", "--title", "x", code=1)
    cli("edit", "1", "--email", "broken", code=1)


def test_json_output_is_one_document(cli):
    cli("add", "Ada", "--email", "ada@example.com")
    for args in (["list"], ["show", "1"], ["status", "1"], ["statuses"], ["config", "get"]):
        json.loads(cli(*args, "--json").stdout)


@pytest.mark.parametrize(
    ("answer", "count", "title"), [("merge", 1, "CTO"), ("keep both", 2, None), ("cancel", 1, None)]
)
def test_terminal_user_is_asked_about_a_duplicate(cli, monkeypatch, answer, count, title):
    import leadctl.cli.leads as lead_commands

    cli("add", "Ada", "--email", "ada@example.com")
    monkeypatch.setattr(lead_commands, "_interactive", lambda json_out: True)
    result = cli(
        "add", "Ada", "--email", "ada@example.com", "--title", "CTO",
        input=f"{answer}\n", code=3 if answer == "cancel" else 0,
    )  # fmt: skip
    assert "merge / keep both / cancel" in result.stderr
    leads = cli.json("list", "--sort", "created")
    assert len(leads) == count
    assert leads[-1]["title"] == title
