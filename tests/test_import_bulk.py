"""A big import into a nearly empty database builds its indexes once, at the end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks.make_csv import write
from leadctl import scoring
from leadctl.importing import ImportOptions, run_import
from leadctl.storage import bulk, open_database
from leadctl.storage.bulk import MARKER

pytestmark = pytest.mark.slow


def schema(db: Path) -> dict[str, str]:
    """Every index of the file and its SQL."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        return {name: sql for name, sql in rows if sql is not None}


def marker(db: Path) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM leadctl_meta WHERE key = ?", (MARKER,)).fetchone()
        return row[0] if row else None


def assert_scored(db: Path) -> None:
    """Every lead holds the score the rules give it: a recompute changes nothing."""
    with sqlite3.connect(db) as conn:
        hot = conn.execute("SELECT count(*) FROM lead WHERE score > 0").fetchone()[0]
    assert hot > 0
    database = open_database(str(db))
    with database.session(immediate=True) as session:
        assert scoring.rescore(session).changed == 0


def import_watching_indexes(db: Path, csv: Path, tmp_path: Path) -> set[str]:
    """Import ``csv``; the lead indexes seen by each batch's transaction."""
    seen: set[str] = set()

    def look(session, _result) -> None:  # noqa: ANN001
        names = session.connection().exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lead'"
        )
        seen.update(name for (name,) in names)

    options = ImportOptions(on_batch=look, rejects=tmp_path / "rejects.csv")
    run_import(open_database(str(db)), str(csv), options, actor="tester")
    return seen


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bulk") / "big.csv"
    write(path, 12_000)  # over 2 MiB
    assert path.stat().st_size >= 2 << 20
    return path


def test_empty_database_loads_without_indexes_then_builds_them(tmp_path, db_path, big_csv):
    fresh = tmp_path / "fresh.db"
    open_database(str(fresh)).close()
    seen = import_watching_indexes(db_path, big_csv, tmp_path)
    assert "ix_lead_pool" not in seen and "ix_lead_report_source" not in seen
    assert {"ix_lead_email_key", "ix_lead_phone", "ix_lead_company_key"} <= seen
    assert schema(db_path) == schema(fresh)  # every index back, as created
    assert marker(db_path) is None
    assert_scored(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_database_with_leads_keeps_its_indexes(tmp_path, db_path, big_csv):
    small = tmp_path / "small.csv"
    write(small, bulk.MAX_STORED_LEADS + 200)  # under 2 MiB: a plain import
    run_import(open_database(str(db_path)), str(small), ImportOptions(), actor="tester")
    seen = import_watching_indexes(db_path, big_csv, tmp_path)
    assert "ix_lead_pool" in seen and "ix_lead_report_source" in seen


def test_opening_rebuilds_only_when_the_loading_process_is_gone(tmp_path, db_path):
    database = open_database(str(db_path))
    complete = schema(db_path)
    with database.session(immediate=True) as session:
        conn = session.connection()
        for index in bulk.deferrable():
            index.drop(conn)
        conn.exec_driver_sql(
            "INSERT INTO leadctl_meta (key, value) VALUES (?, ?)", (MARKER, bulk.this_process())
        )
    open_database(str(db_path)).close()  # the load (this process) still runs: left alone
    assert "ix_lead_pool" not in schema(db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE leadctl_meta SET value = ? WHERE key = ?", ("nohost:1", MARKER))
    open_database(str(db_path)).close()
    assert schema(db_path) == complete
    assert marker(db_path) is None


def test_a_killed_loads_leads_are_scored_when_it_is_finished(tmp_path, db_path):
    cli_add = open_database(str(db_path))
    with cli_add.session(immediate=True) as session:
        session.connection().exec_driver_sql(
            "INSERT INTO lead (name, email, title, company_size, priority, status, score, "
            "score_adjustment, band, tags, fields, created_at, updated_at) VALUES "
            "('Ada', 'ada@x.com', 'CEO', 5000, 'medium', 'new', 0, 0, 'cold', '[]', '{}', "
            "'2026-11-01 00:00:00.000000', '2026-11-01 00:00:00.000000')"
        )
        session.connection().exec_driver_sql(
            "INSERT INTO leadctl_meta (key, value) VALUES (?, ?)", (MARKER, "nohost:1+scores")
        )
    open_database(str(db_path)).close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT score FROM lead").fetchone()[0] > 0
    assert marker(db_path) is None


def test_is_running():
    assert bulk.is_running(bulk.this_process())
    assert not bulk.is_running("another-host:1")
    assert not bulk.is_running("garbage")
