"""Migrations against the models and against files made by earlier versions.

A new database (every migration, in order) holds exactly the schema the models
declare; ``m001_initial`` holds exactly the schema version 1 created; and a
file made by each earlier version (tests/fixtures/schema/vN.db, made by that
version of leadctl; see make_v1.sh) opens with today's code, data intact.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from leadctl import models, storage
from leadctl.storage import SCHEMA_VERSION, open_database
from leadctl.storage.migrations import step

FIXTURES = Path(__file__).parent / "fixtures" / "schema"
MIGRATIONS_DIR = Path(storage.__file__).parent / "migrations"


def schema(db: Path) -> dict[str, object]:
    """Each table's columns (type, not null, default, primary key), foreign
    keys and index SQL (with any WHERE), independent of column order."""
    with sqlite3.connect(db) as conn:
        found: dict[str, object] = {}
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in tables.fetchall():
            if table.startswith("sqlite_"):
                continue
            info = conn.execute(f"PRAGMA table_info('{table}')").fetchall()
            keys = conn.execute(f"PRAGMA foreign_key_list('{table}')").fetchall()
            found[table] = {
                "columns": {c[1]: (c[2], c[3], c[4], c[5]) for c in info},
                "foreign keys": sorted((k[2], k[3], k[4]) for k in keys),
            }
        indexes = conn.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'"
        ).fetchall()
        for name, table, sql in indexes:
            # sqlite_autoindex_* (primary keys that are not rowids) carry no SQL
            found[f"index {name}"] = (table, sql and " ".join(sql.split()))
    return found


def models_schema(tmp_path: Path) -> dict[str, object]:
    """What the models declare, created in a file the way SQLite would see it;
    partial indexes are declared for SQLite there, so they come out as such."""
    path = tmp_path / "models.db"
    engine = create_engine(f"sqlite:///{path}")
    assert set(SQLModel.metadata.tables) == {t.__tablename__ for t in _model_classes()}
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return schema(path)


def _model_classes() -> list[type[SQLModel]]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, SQLModel) and value is not SQLModel
    ]


def test_a_new_database_holds_what_the_models_declare(tmp_path):
    new = tmp_path / "new.db"
    open_database(str(new)).close()
    expected = models_schema(tmp_path)
    found = schema(new)
    assert found.keys() == expected.keys()
    for name in expected:
        assert found[name] == expected[name], name


def test_migrations_are_the_modules_of_the_package_in_order():
    modules = sorted(p.stem for p in MIGRATIONS_DIR.glob("m[0-9][0-9][0-9]_*.py"))
    assert list(storage.MIGRATIONS) == modules
    assert [int(name[1:4]) for name in modules] == list(range(1, len(modules) + 1))
    assert SCHEMA_VERSION == len(modules)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_each_migration_is_frozen_as_its_version_made_files(tmp_path, version):
    """Running migrations 1..N on an empty file gives the schema of the file
    leadctl made at version N: a file made by every earlier version is kept
    (the current version is held to the models by the test above)."""
    fixture = FIXTURES / f"v{version}.db"
    path = tmp_path / "steps.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for name in storage.MIGRATIONS[:version]:
            step(name)(conn)
    engine.dispose()
    assert schema(path) == schema(fixture)


def stored_version(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM leadctl_meta WHERE key = 'schema_version'")
        return int(row.fetchone()[0])


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("v*.db")), ids=lambda p: p.stem)
def test_a_file_made_by_an_earlier_version_opens_and_keeps_its_data(cli, tmp_path, fixture):
    db = tmp_path / fixture.name
    shutil.copyfile(fixture, db)
    made_at = int(re.fullmatch(r"v(\d+)\.db", fixture.name)[1])  # type: ignore[index]
    assert stored_version(db) == made_at
    leads = cli.json("--db", db, "--as", "ada", "list", "--all", "--limit", "0")
    assert stored_version(db) == SCHEMA_VERSION
    assert schema(db) == models_schema(tmp_path)
    names = {lead["name"] for lead in leads}
    assert {"Grace Hopper", "Alan Turing", "Édith Piaf"} <= names
    assert "Alan M. Turing" not in names  # merged into lead 2, archived
    alan = cli.json("--db", db, "--as", "ada", "show", "2")
    assert alan["claimed_by"] == "rob"
    grace = cli.json("--db", db, "--as", "ada", "show", "1")
    assert grace["status"] == "converted" and grace["client_id"] == 1
    kinds = [a["kind"] for a in grace["activities"]]
    assert "call" in kinds and "status" in kinds
    users = {u["name"]: u["role"] for u in cli.json("--db", db, "--as", "ada", "user", "list")}
    assert users == {"ada": "admin", "rob": "rep"}
    statuses = [s["name"] for s in cli.json("--db", db, "--as", "ada", "statuses")]
    assert statuses[:4] == ["new", "contacted", "demo_booked", "qualified"]
    assert cli("--db", db, "--as", "ada", "config", "get", "claim_hours").stdout.strip() == "48"
    client = cli.json("--db", db, "--as", "ada", "client", "show", "1")
    assert [deal["value"] for deal in client["deals"]] == [15000]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        merged = conn.execute("SELECT merged_into FROM lead WHERE id = 3").fetchone()[0]
    assert merged == 2
    # a change still works on the upgraded file
    cli("--db", db, "--as", "ada", "note", "2", "still here")
