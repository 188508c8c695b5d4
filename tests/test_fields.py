"""The field registry (leadctl/fields.py): what is derived from it stays derived,
and the files generated from it are up to date."""

from __future__ import annotations

import importlib
from pathlib import Path

from leadctl import exporting, fields, leads
from leadctl.cli.fields import FIELD_OPTIONS, NAME_OPTION
from leadctl.importing import headers, records
from leadctl.models import LEAD_JSON_KEYS, Lead

INTERNAL = {"id", "email_key", "company_key", "merged_into", "external_id", "touched_at"}


def test_docs_table_is_up_to_date():
    assert fields.DOCS_FILE.read_text(encoding="utf-8") == fields.render_docs(), (
        "docs/fields.md is stale: run `python -m leadctl.fields`"
    )


def test_typed_view_of_lead_is_up_to_date():
    current = fields.MODELS_FILE.read_text(encoding="utf-8")
    assert fields.render_models(current) == current, (
        "the typed block of models.Lead is stale: run `python -m leadctl.fields`"
    )


def test_lead_columns_are_the_registry_plus_internal_columns():
    columns = Lead.__table__.columns
    assert set(columns.keys()) == set(fields.NAMES) | INTERNAL
    for spec in fields.LEAD_FIELDS:
        column = columns[spec.name]
        assert column.nullable == (not spec.required and spec.default is None), spec.name
        assert bool(column.index) == spec.index, spec.name
        assert Lead.model_fields[spec.name].annotation == spec.annotation, spec.name


def test_json_keys_export_columns_and_defaults_come_from_the_registry():
    # the fields, and the computed keys (SPEC Additions: `rotting`) after theirs
    assert [k for k in LEAD_JSON_KEYS if k not in fields.COMPUTED_KEYS] == ["id", *fields.NAMES]
    assert LEAD_JSON_KEYS.index("rotting") == LEAD_JSON_KEYS.index("stage") + 1
    assert exporting.EXPORT_COLUMNS == LEAD_JSON_KEYS
    assert {k: v for k, v in records.DEFAULTS.items() if v is not None} == {
        "priority": "medium",
        "status": "new",
        "score": 0,
        "score_adjustment": 0,
        "band": "cold",
        "tags": "[]",
        "fields": "{}",
        "alt_emails": "[]",
        "alt_phones": "[]",
        "stage": "lead",
    }
    assert set(records.DEFAULTS) == set(fields.NAMES) | INTERNAL - {"id"}


def test_one_copy_of_each_field_constant():
    assert leads.TEXT_FIELDS is fields.TEXT_FIELDS
    assert leads.DATETIME_FIELDS is fields.DATETIME_FIELDS
    assert leads.BANDS == list(fields.BANDS)
    assert fields.MONEY_FIELDS == ("annual_revenue", "budget", "deal_value")
    assert {"created_at", "next_call_at", "claim_expires_at"} <= fields.DATETIME_FIELDS
    assert {"name", "company", "title", "utm_campaign"} <= fields.TEXT_FIELDS
    for module in ("leadctl.importing.rows", "leadctl.leads", "leadctl.exporting"):
        text = Path(importlib.import_module(module).__file__ or "").read_text(encoding="utf-8")
        for constant in ("TEXT_FIELDS =", "MONEY_FIELDS =", "DATETIME_FIELDS =", "BANDS ="):
            assert f"{constant} (" not in text and f'{constant} "' not in text, (module, constant)


def test_cli_options_come_from_the_registry():
    options = {name: option for _, name, option, _ in FIELD_OPTIONS}
    assert options == {f.name: f.option for f in fields.OPTION_FIELDS if f.name != "name"}
    assert options["annual_revenue"] == "--revenue" and options["client_id"] == "--client"
    assert NAME_OPTION == ("name", "name", "--name", "Full name.")


def test_import_synonyms_come_from_the_registry_and_name_one_field_each():
    for spec in fields.LEAD_FIELDS:
        assert headers.SYNONYMS.get(spec.name, []) == list(spec.synonyms)
    owners: dict[str, str] = {}
    for name, keys in headers.SYNONYMS.items():
        for key in keys:
            assert key == headers.header_key(key), key
            assert owners.setdefault(key, name) == name, f"{key} names {owners[key]} and {name}"
    assert headers.lookup("Annual Revenue") == ("annual_revenue", 0)
    assert set(headers.ROUND_TRIP) == {"id", *fields.ROUND_TRIP}


def test_never_filled_is_what_merges_must_keep():
    never = fields.never_filled()
    assert {"created_at", "updated_at", "status", "lost_reason", "score", "band"} <= never
    assert {"tags", "fields", "claimed_by", "claim_expires_at", "score_adjustment"} <= never
    assert not never & {"email", "phone", "company", "title", "source", "next_call_at"}


def test_every_option_field_parses_strictly_and_every_field_has_help():
    for spec in fields.LEAD_FIELDS:
        assert spec.help.endswith("."), spec.name
        if spec.option:
            assert spec.strict is not None, spec.name
