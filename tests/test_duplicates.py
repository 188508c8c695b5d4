"""The one duplicates module: its fast forms (the import's index, `dedupe`'s groups,
`add`'s query) answer as its reference rule does, and its fill rule. The rule
since issue 12: same record id first; a shared email or phone only with names that
agree; never across differing record ids of one system; placeholders never.

Random leads share emails, phones and companies and have similar and dissimilar
names; each example gets its own real database file.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from leadctl import duplicates, merging, normalize
from leadctl.importing.dedupe import DuplicateIndex
from leadctl.importing.rows import Parsed
from leadctl.models import Lead
from leadctl.storage import open_database

# Names that are one person by token_sort_ratio ≥ 85 and names that are not; names
# that agree for a shared email or phone (initials, one first name, one word) and
# names that clearly differ (issue 12: never merge two different people).
NAMES = [
    "Ada Lovelace", "Lovelace Ada", "ada  lovelace", "ADA LOVELACE", "Ada Lovelac",
    "Ada King", "A. Lovelace", "Grace Hopper", "Grace M Hopper", "Hopper Grace",
    "Alan Turing", "Alan Turin", "Émile Zola", "EMILE ZOLA", "Ada", "Bob Smith",
    "Mary Smith", "G. Hopper",
]  # fmt: skip
EMAILS = [
    None, "ada@example.com", "ADA@example.com", "grace@example.com", "alan@example.com",
    "info@acme.com",  # a role address: one person only with similar names
]  # fmt: skip
# the last: a placeholder (one repeated digit), never a key, as stored by older versions
PHONES = [None, "+14155550100", "+14155550101", "+442071234567", "+15555555555"]
# other systems' record ids: the first key, and ids of one system that differ keep apart
RECORDS = [None, None, None, "salesforce:A", "salesforce:B", "hubspot:A", "leadctl:1", "leadctl:2"]
COMPANIES = [None, "Acme", "ACME Inc", "Globex", "Initech LLC"]
AT = datetime(2026, 11, 1, tzinfo=UTC)
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def people(draw: Any) -> dict[str, Any]:
    """A lead's values as an import row carries them (keys derived as the parsers do)."""
    values: dict[str, Any] = {"name": draw(st.sampled_from(NAMES))}
    email = draw(st.sampled_from(EMAILS))
    phone = draw(st.sampled_from(PHONES))
    if email is None and phone is None:
        phone = PHONES[1]
    company = draw(st.sampled_from(COMPANIES))
    record = draw(st.sampled_from(RECORDS))
    if record:
        values["external_id"] = record
    if email:
        values["email"] = normalize.normalize_email(email)
        values["email_key"] = normalize.email_key(values["email"])
    if phone:
        values["phone"] = phone
    if company:
        values["company"] = company
        values["company_key"] = normalize.company_key(company)
    return values


stored_leads = st.lists(st.tuples(people(), st.booleans()), max_size=12)  # (values, archived)


def _database(leads: list[tuple[dict[str, Any], bool]]) -> tuple[Any, list[dict[str, Any]]]:
    """A fresh database file holding ``leads``; returns it and the active leads as
    reference candidates (id, name, keys), oldest first."""
    folder = Path(tempfile.mkdtemp(prefix="leadctl-dupes-"))
    database = open_database(str(folder / "leads.db"))
    table = Lead.metadata.tables["lead"]
    active = []
    with database.session(immediate=True) as session:
        for lead_id, (values, archived) in enumerate(leads, start=1):
            row = {
                "id": lead_id,
                "created_at": AT,
                "updated_at": AT,
                "merged_into": 1 if archived and lead_id > 1 else None,
                **values,
            }
            session.execute(insert(table).values(row))
            if row["merged_into"] is None:
                active.append({"id": lead_id, **_keys(values)})
    return database, active


def _keys(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values.get(k) for k in ("name", *duplicates.KEYS)}


@PROFILE
@given(stored=stored_leads, rows=st.lists(people(), min_size=1, max_size=15))
def test_the_import_index_answers_as_the_reference_rule(stored, rows):
    """Row by row as the writer merges (``--on-duplicate merge``): the index's match
    is the reference's first match among stored leads and the batch's new rows,
    including keys a merge gave a lead earlier in the batch."""
    database, candidates = _database(stored)
    parsed = [Parsed(line, dict(values)) for line, values in enumerate(rows, start=2)]
    with database.session(immediate=True) as session:
        index = DuplicateIndex(session.connection(), parsed)
        new: list[Parsed] = []
        for position, row in enumerate(parsed):
            match = index.find(row.values, position)
            expected = duplicates.first_match(row.values, candidates)
            if expected is None:
                assert match is None
                candidates.append({"id": f"new {len(new)}", **_keys(row.values)})
                index.add_pending(row.values, len(new), position)
                new.append(row)
                continue
            target, reason = expected
            assert match is not None and match.reason == reason
            if match.target is not None:
                assert target["id"] == match.target.lead_id
            else:
                assert target["id"] == f"new {match.pending}"
            before = dict(new[match.pending].values) if match.pending is not None else None
            target.update(
                {k: v for k, v in duplicates.fill(target, row.values).items() if k in target}
            )
            if match.pending is not None:
                new[match.pending].values.update(duplicates.fill(before, row.values))  # type: ignore[arg-type]
            index.gained(match, row.values, before)
    database.close()


@PROFILE
@given(stored=stored_leads, values=people())
def test_add_finds_the_reference_duplicate_first(stored, values):
    database, candidates = _database(stored)
    with database.session() as session:
        found = duplicates.find(session, values)
        expected = duplicates.first_match(values, candidates)
        if expected is None:
            assert found == []
        else:
            assert (found[0].lead.id, found[0].reason) == (expected[0]["id"], expected[1])
        every = {c["id"] for c in candidates if duplicates.match_reasons(values, c)}
        assert {d.lead.id for d in found} == every
    database.close()


@PROFILE
@given(stored=stored_leads)
def test_dedupe_groups_are_the_transitive_closure_of_the_pairwise_rule(stored):
    database, active = _database(stored)
    parent = {lead["id"]: lead["id"] for lead in active}
    reasons: dict[int, set[str]] = {}

    def root(lead_id: int) -> int:
        while parent[lead_id] != lead_id:
            lead_id = parent[lead_id]
        return lead_id

    links = []
    for i, a in enumerate(active):
        for b in active[i + 1 :]:
            why = duplicates.match_reasons(a, b)
            assert why == duplicates.match_reasons(b, a)  # the rule is symmetric
            if why:
                links.append((a["id"], b["id"], why))
                parent[root(b["id"])] = root(a["id"])
    for a, _, why in links:
        reasons.setdefault(root(a), set()).update(why)
    members: dict[int, list[int]] = {}
    for lead in active:
        members.setdefault(root(lead["id"]), []).append(lead["id"])
    expected = sorted(
        (sorted(ids), [r for r in duplicates.REASON_ORDER if r in reasons[top]])
        for top, ids in members.items()
        if len(ids) > 1
    )
    with database.session() as session:
        groups = [(g.ids, g.reasons) for g in merging.find_groups(session)]
    assert groups == expected
    database.close()


def test_fill_fills_blanks_never_overwrites_and_unites_tags_and_fields():
    current = {"title": "CTO", "company": None, "tags": ["a"], "fields": {"x": "1"}}
    values = {
        "title": "CEO",
        "company": "Acme",
        "industry": "",
        "tags": ["a", "b"],
        "fields": {"x": "2", "y": "3"},
        **dict.fromkeys(duplicates.NEVER_FILLED, "taken"),
    }
    assert duplicates.fill(current, values) == {
        "company": "Acme",
        "tags": ["a", "b"],
        "fields": {"x": "1", "y": "3"},
    }


def test_the_fields_never_filled_are_lead_columns_a_merge_must_not_take():
    columns = set(Lead.metadata.tables["lead"].columns.keys())
    assert duplicates.NEVER_FILLED <= columns
    assert {"status", "lost_reason", "claimed_by", "claim_expires_at", "created_at"} <= (
        duplicates.NEVER_FILLED
    )
    assert not set(duplicates.UNIONED) & duplicates.NEVER_FILLED


def test_new_notes_are_those_the_lead_lacks_each_once():
    assert duplicates.new_notes({"met"}, ["met", "call back", "call back", ""]) == ["call back"]


# fill_stored decodes a stored lead's JSON columns only when the row can change them
_texts = st.sampled_from(["a", "B", "ada@example.org", "ADA@example.org", "+14155550100", ""])
_lists = st.lists(_texts, max_size=3)


@settings(max_examples=300, deadline=None)
@given(
    current=st.fixed_dictionaries(
        {
            "email": st.none() | _texts,
            "phone": st.none() | _texts,
            "tags": st.none() | _lists,
            "fields": st.none() | st.dictionaries(_texts, _texts, max_size=2),
            "alt_emails": st.none() | _lists,
            "alt_phones": st.none() | _lists,
        }
    ),
    values=st.fixed_dictionaries(
        {},
        optional={
            "email": _texts,
            "phone": _texts,
            "company": _texts,
            "tags": _lists,
            "fields": st.dictionaries(_texts, _texts, max_size=2),
            "alt_emails": _lists,
        },
    ),
)
def test_fill_stored_is_fill_on_the_stored_json(current, values):
    import json

    from leadctl.duplicates import fill, fill_stored

    json_columns = ("tags", "fields", "alt_emails", "alt_phones")
    stored = {
        k: (json.dumps(v, ensure_ascii=False) if k in json_columns and v is not None else v)
        for k, v in current.items()
    }
    expected = {
        k: (json.dumps(v, ensure_ascii=False) if k in json_columns else v)
        for k, v in fill(current, values).items()
    }
    assert fill_stored(stored, values) == expected
