"""`export`: every field, four formats, no formula cells, and back through `import` unchanged."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadctl import leads as core
from leadctl.models import LEAD_JSON_KEYS, Lead
from leadctl.storage import open_database
from leadctl.storage.migrations import LOST_REASONS, SOURCES

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def test_csv_has_every_field_and_guards_formulas(cli, add_lead):
    add_lead('=HYPERLINK("http://evil.example","x")', email="evil@example.com", title="-2+3")
    add_lead("Plain Person", phone="+14155550100", company="@Acme", tag="=cmd")
    text = cli("export").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [*LEAD_JSON_KEYS, "notes"]
    cells = [cell for row in rows[1:] for cell in row]
    unsafe = [c for c in cells if c.startswith(TRIGGERS)]
    assert unsafe == []
    first, second = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert first["name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert first["title"] == "'-2+3"
    assert (second["phone"], second["company"], second["tags"]) == (
        "'+14155550100",
        "'@Acme",
        "'=cmd",
    )


def test_formats_and_output_file(cli, add_lead, tmp_path):
    add_lead("Ada Lovelace", email="ada@example.com", tag="vip", field="k=v")
    add_lead("Alan Turing", phone="+442079460958", priority="high")
    as_json = json.loads(cli("export", "--format", "json").stdout)
    as_lines = [json.loads(line) for line in cli("export", "--format", "jsonl").stdout.splitlines()]
    listed = sorted(cli.json("list"), key=lambda lead: lead["id"])
    assert as_json == as_lines
    assert [{key: lead[key] for key in LEAD_JSON_KEYS} for lead in as_json] == listed
    for lead in as_json:  # and what `show` adds: the timeline
        assert lead["activities"] == cli.json("show", str(lead["id"]))["activities"]
    result = cli("export", "-o", str(tmp_path / "out.xlsx"))
    assert result.stderr == f"exported 2 leads to {tmp_path / 'out.xlsx'}\n"
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "out.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()  # a read-only workbook holds its file open until closed
    assert list(rows[0]) == [*LEAD_JSON_KEYS, "notes"]
    width = len(LEAD_JSON_KEYS) + 1
    ada = dict(zip(rows[0], (*rows[1], *[None] * width), strict=False))
    assert (ada["name"], ada["email"], ada["tags"], ada["fields"]) == (
        "Ada Lovelace",
        "ada@example.com",
        "vip",
        '{"k": "v"}',
    )
    alan = dict(zip(rows[0], (*rows[2], *[None] * width), strict=False))
    assert alan["phone"] == "'+442079460958"  # text, and no formula even if edited
    assert alan["score"] == 0 and isinstance(alan["id"], int)
    assert cli("export", "--format", "pdf", code=1).stderr.startswith("error: invalid --format")


def test_filters_and_archived_leads(cli, add_lead):
    keep = add_lead("Grace Hopper", email="grace@example.com")
    dup = add_lead("Grace B. Hopper", phone="+14155550111", company="Navy")
    cli("status", str(keep["id"]), "contacted")
    exported = [
        json.loads(x)
        for x in cli("export", "--format", "jsonl", "--status", "contacted").stdout.splitlines()
    ]
    assert [lead["id"] for lead in exported] == [keep["id"]]
    cli("merge", str(keep["id"]), str(dup["id"]))
    everyone = cli("export", "--format", "jsonl").stdout.splitlines()
    assert len(everyone) == 1  # archived duplicates are not exported


# --- export → import round trip, for any lead -------------------------------------------

PHONES = [
    "+14155550100", "+12125550199", "+442079460958", "+4915112345678", "+33612345678",
    "+61291234567", "+819012345678", "+5511912345678", "+390612345678", "+27211234567",
]  # fmt: skip
text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
).map(str.strip)
optional_text = st.one_of(st.none(), text.filter(bool))
moment = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
money = st.one_of(
    st.none(),
    st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=10**12).map(float),
)
STATUSES = ["new", "contacted", "qualified", "converted", "nurture", "unqualified", "lost"]


@st.composite
def lead_values(draw: Any, number: int) -> dict[str, Any]:
    status = draw(st.sampled_from(STATUSES))
    email = (
        f"lead.{number}@{draw(st.sampled_from(['example.com', 'EXAMPLE.org', 'mail.example.de']))}"
    )
    phone = draw(st.one_of(st.none(), st.just(PHONES[number])))
    company = draw(optional_text)
    values = {
        "name": draw(text.filter(bool)),
        "email": core.normalize.normalize_email(email)
        if phone is None or draw(st.booleans())
        else None,
        "phone": phone,
        "company": f"{company} {number}" if company else None,
        "title": draw(optional_text),
        "industry": draw(optional_text),
        "country": draw(st.sampled_from([None, "US", "Germany", "France", "Atlantis"])),
        "region": draw(optional_text),
        "company_size": draw(st.one_of(st.none(), st.integers(min_value=0, max_value=10**7))),
        "annual_revenue": draw(money),
        "source": draw(st.one_of(st.none(), st.sampled_from(SOURCES))),
        "priority": draw(st.sampled_from(["low", "medium", "high", "critical"])),
        "status": status,
        "lost_reason": draw(st.sampled_from(LOST_REASONS))
        if status in ("lost", "unqualified")
        else None,
        "owner": draw(optional_text),
        "claimed_by": draw(optional_text),
        "claim_expires_at": draw(st.one_of(st.none(), moment)),
        "score": draw(st.integers(min_value=0, max_value=100)),
        "score_adjustment": draw(st.integers(min_value=-100, max_value=100)),
        "band": draw(st.sampled_from(["cold", "warm", "hot"])),
        "budget": draw(money),
        "authority": draw(st.one_of(st.none(), st.booleans())),
        "need": draw(optional_text),
        "timeline": draw(
            st.one_of(st.none(), st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)))
        ),
        "deal_value": draw(money),
        "next_call_at": draw(st.one_of(st.none(), moment)),
        "tags": json.dumps(
            draw(st.lists(text.filter(bool), max_size=4, unique=True)), ensure_ascii=False
        ),
        "fields": json.dumps(
            draw(st.dictionaries(text.filter(bool), text, max_size=4)), ensure_ascii=False
        ),
        "utm_source": draw(optional_text),
        "utm_medium": draw(optional_text),
        "utm_campaign": draw(optional_text),
        "created_at": draw(moment),
        "updated_at": draw(moment),
        "first_contacted_at": draw(st.one_of(st.none(), moment)),
        "converted_at": draw(st.one_of(st.none(), moment)),
    }
    values["email_key"] = core.normalize.email_key(values["email"])
    values["company_key"] = core.normalize.company_key(values["company"])
    return values


lead_sets = st.integers(min_value=1, max_value=4).flatmap(
    lambda n: st.tuples(*(lead_values(i) for i in range(n)))
)


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(leads=lead_sets, fmt=st.sampled_from(["csv", "json", "jsonl", "xlsx"]))
def test_export_then_import_round_trips_any_lead(cli, leads, fmt):
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "source.db"), Path(folder, "target.db")
        database = open_database(str(source))
        with database.session() as session:
            for offset, values in enumerate(leads):
                session.add(Lead(id=offset * 7 + 3, **values))
        database.close()
        out = Path(folder, f"leads.{fmt}")
        cli("--db", str(source), "export", "-o", str(out))
        result = cli("--db", str(target), "import", str(out), "--json")
        assert json.loads(result.stdout)["warnings"] == 0, result.stdout
        before = json.loads(cli("--db", str(source), "export", "--format", "json").stdout)
        after = json.loads(cli("--db", str(target), "export", "--format", "json").stdout)
        changed = [
            (key, b[key], a[key])
            for b, a in zip(before, after, strict=True)
            for key in b
            if a[key] != b[key] and key != "activities"  # none before; the import's after
        ]
        assert len(after) == len(before) and changed == []


def test_an_export_into_a_database_whose_ids_are_taken(cli, add_lead, tmp_path):
    for number in range(4):
        add_lead(f"Person {number}", email=f"p{number}@example.com", company=f"Co {number}")
    exported = tmp_path / "all.csv"
    cli("export", "-o", str(exported))
    other = tmp_path / "other.db"
    cli("--db", str(other), "add", "Someone Else", "--email", "else@example.com")
    cli("--db", str(other), "add", "Another One", "--email", "another@example.com")
    summary = cli.json("--db", str(other), "import", str(exported))
    assert summary["imported"] == 4
    ids = sorted(lead["id"] for lead in cli.json("--db", str(other), "list"))
    assert ids == [1, 2, 3, 4, 5, 6]  # 3 and 4 kept, 1 and 2 were taken: numbered after
