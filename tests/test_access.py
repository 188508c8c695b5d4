"""One way to write activities, one home for raw driver SQL, typed Core tables."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlmodel import col, select

import leadctl
from leadctl import activities
from leadctl.database import open_database
from leadctl.models import ACTIVITY, LEAD, Activity, Lead

ROOT = Path(leadctl.__file__).parent
DRIVER_SQL = re.compile(r"exec_driver_sql|driver_connection|raw_connection|create_function")


def sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in sorted(ROOT.rglob("*.py"))}


def stored_row(activity: Activity) -> tuple[object, ...]:
    return tuple(getattr(activity, name) for name in activities.COLUMNS)


def test_raw_driver_sql_only_in_the_imports_records_and_storage():
    found = {
        path
        for path, text in sources().items()
        if DRIVER_SQL.search(text)
        and path != "importing/records.py"
        and not path.startswith("storage/")
    }
    assert found == set()


def test_each_driver_statement_says_why():
    """Every driver call in records.py and storage has a comment or docstring
    within the few lines before it."""
    unexplained = []
    for path, text in sources().items():
        if path != "importing/records.py" and not path.startswith("storage/"):
            continue
        lines = text.splitlines()
        for number, line in enumerate(lines):
            if DRIVER_SQL.search(line) and not line.lstrip().startswith(("#", "def ")):
                before = "\n".join(lines[max(0, number - 8) : number + 1])
                if "#" not in before and '"""' not in before:
                    unexplained.append(f"{path}:{number + 1}")
    assert unexplained == []


def test_activity_rows_are_written_by_activities_and_the_imports_records_only():
    """No module but activities builds an Activity or inserts into its table
    (the import's fast path, importing/records.py, stores activities' rows)."""
    offenders = []
    for path, text in sources().items():
        if path in ("activities.py", "importing/records.py", "models.py"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                argument = ast.unparse(node.args[0]) if node.args else ""
                inserts = name == "insert" and "ACTIVITY" in argument
                inserts |= name.endswith(".insert") and "ACTIVITY" in name.upper()
                if name in ("Activity", "models.Activity") or inserts:
                    offenders.append(f"{path}:{node.lineno} {name}({argument})")
    assert offenders == []


def test_text_sql_only_in_models_and_migrations():
    """``text()`` only where no Core expression fits: index conditions, frozen DDL."""
    found = {
        path
        for path, text in sources().items()
        if re.search(r"from sqlalchemy import[^\n]*\btext\b", text)
        and path != "models.py"
        and not path.startswith("storage/migrations/")
    }
    assert found == set()


def test_core_tables_are_typed_tables_of_the_models():
    assert LEAD is Lead.__table__
    assert ACTIVITY is Activity.__table__
    assert activities.COLUMNS == tuple(c.name for c in ACTIVITY.columns if c.name != "id")


def test_row_stores_values_as_text_and_the_time_in_utc():
    at = datetime(2026, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    made = activities.row(
        7, "edit", "ada", field="next_call_at", old=at, new=42, body="b", outcome="o", at=at
    )
    assert made == (
        7,
        "edit",
        "next_call_at",
        "2026-05-01T10:30:00Z",
        "42",
        "b",
        "o",
        "ada",
        datetime(2026, 5, 1, 10, 30, tzinfo=UTC),
        None,  # command_id: given when the row is stored (m004_undo)
    )
    assert made.created_at.tzinfo is UTC
    assert activities.row(7, "note", "ada").created_at == datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_record_and_record_many_store_the_same_row(db_target):
    database = open_database(db_target)
    try:
        with database.session() as session:
            now = datetime(2026, 1, 1, tzinfo=UTC)
            lead = Lead(name="Ada", email="ada@example.com", created_at=now, updated_at=now)
            session.add(lead)
            session.flush()
            assert lead.id is not None
            at = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
            values = {"field": "status", "old": "new", "new": "contacted", "at": at}
            activities.record(session, lead.id, "status", "ada", **values)
            session.flush()
            made = activities.row(lead.id, "status", "ada", **values)
            activities.record_many(session.connection(), [made])
        with database.session() as session:
            stored = session.exec(select(Activity).order_by(col(Activity.id))).all()
            one, many = (stored_row(a) for a in stored)
        # one transaction, one command (m004_undo): both rows carry its id
        assert one[-1] is not None
        assert one == many == tuple(made._replace(command_id=one[-1]))
    finally:
        database.close()


def test_the_imports_copied_activities_are_what_row_makes(cli, tmp_path, db_target):
    """The import writes each new lead's ``created`` and ``assign`` activities by
    INSERT … SELECT; they must be the rows ``activities.row`` would make."""
    source = tmp_path / "in.csv"
    source.write_text(
        "name,email,owner,status,notes,created\n"
        "Ada,ada@example.com,rep1,contacted,first note,2026-01-02 10:00\n"
        "Bob,bob@example.com,,,,\n",
        encoding="utf-8",
    )
    cli("import", str(source))
    database = open_database(db_target)
    try:
        with database.session() as session:
            leads = session.exec(select(Lead).order_by(col(Lead.id))).all()
            stored = {(a.lead_id, a.kind): stored_row(a) for a in session.exec(select(Activity))}
    finally:
        database.close()
    expected = {}
    for lead in leads:
        assert lead.id is not None
        body = "imported from in.csv"
        expected[lead.id, "created"] = activities.row(
            lead.id,
            "created",
            "tester",
            field="status",
            new=lead.status,
            body=body,
            at=lead.created_at,
        )
        if lead.owner:
            expected[lead.id, "assign"] = activities.row(
                lead.id,
                "assign",
                "tester",
                field="owner",
                new=lead.owner,
                body="on import",
                at=lead.created_at,
            )
    ada = leads[0].id
    expected[ada, "note"] = activities.row(
        ada, "note", "tester", body="first note", at=leads[0].created_at
    )
    assert stored == {key: tuple(value) for key, value in expected.items()}
    assert leads[0].created_at == datetime(2026, 1, 2, 10, tzinfo=UTC)
