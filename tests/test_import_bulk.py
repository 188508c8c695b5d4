"""A big import into a nearly empty database: indexes built, leads scored, once at the end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks.make_csv import write
from leadctl import scoring
from leadctl.database import open_database
from leadctl.importing import ImportOptions, bulk, run_import
from leadctl.storage import BULK_MARKER as MARKER
from tests.conftest import run_leadctl

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


@pytest.mark.sqlite_only
def test_empty_database_loads_without_indexes_then_builds_them(tmp_path, db_path, big_csv):
    fresh = tmp_path / "fresh.db"
    open_database(str(fresh)).close()
    seen = import_watching_indexes(db_path, big_csv, tmp_path)
    assert "ix_lead_pool" not in seen and "ix_lead_report_source" not in seen
    assert {"ix_lead_email_key", "ix_lead_phone", "ix_lead_company_key"} <= seen
    assert schema(db_path) == schema(fresh)  # every index back, as created
    assert marker(db_path) is None
    with sqlite3.connect(db_path) as conn:  # and the planner has statistics for them
        analyzed = {idx for (idx,) in conn.execute("SELECT idx FROM sqlite_stat1")}
    assert {"ix_lead_pool", "ix_lead_report_source"} <= analyzed
    assert_scored(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.sqlite_only
def test_a_database_with_leads_keeps_its_indexes(tmp_path, db_path, big_csv):
    small = tmp_path / "small.csv"
    write(small, bulk.MAX_STORED_LEADS + 200)  # under 2 MiB: a plain import
    run_import(open_database(str(db_path)), str(small), ImportOptions(), actor="tester")
    seen = import_watching_indexes(db_path, big_csv, tmp_path)
    assert "ix_lead_pool" in seen and "ix_lead_report_source" in seen


def insert_lead(db: Path, name: str, email: str, score: int, band: str) -> int:
    """A stored lead whose score the rules would not give (as a leadctl export carries)."""
    with sqlite3.connect(db) as conn:
        cursor = conn.execute(
            "INSERT INTO lead (name, email, email_key, title, company_size, priority, status, "
            "score, score_adjustment, band, tags, fields, created_at, updated_at) VALUES "
            "(?, ?, ?, 'CEO', 5000, 'medium', 'new', ?, 0, ?, '[]', '{}', "
            "'2026-11-01 00:00:00.000000', '2026-11-01 00:00:00.000000')",
            (name, email, email.casefold(), score, band),
        )
        return cursor.lastrowid


def drop_indexes(db: Path, value: str) -> None:
    """What a bulk load does before loading: indexes down, marker set."""
    database = open_database(str(db))
    with database.session(immediate=True) as session:
        conn = session.connection()
        for index in bulk.deferrable():
            index.drop(conn)
        conn.exec_driver_sql("INSERT INTO leadctl_meta (key, value) VALUES (?, ?)", (MARKER, value))


def score_of(db: Path, lead_id: int) -> tuple[int, str]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT score, band FROM lead WHERE id = ?", (lead_id,)).fetchone()


@pytest.mark.sqlite_only
def test_leads_stored_before_a_bulk_load_keep_their_scores(tmp_path, db_path, big_csv):
    open_database(str(db_path)).close()
    carried = insert_lead(db_path, "Kept Score", "kept@example.org", 97, "hot")
    merged = insert_lead(db_path, "Barbara Rossi", "barbara.rossi.0@acme0.com", 97, "hot")
    seen = import_watching_indexes(db_path, big_csv, tmp_path)
    assert "ix_lead_pool" not in seen  # a bulk load
    assert score_of(db_path, carried) == (97, "hot")  # not the load's to rescore
    assert score_of(db_path, merged) != (97, "hot")  # a row merged into it: rescored
    database = open_database(str(db_path))
    with database.session(immediate=True) as session:  # the load's own leads are scored
        assert scoring.rescore(session, above=merged).changed == 0


@pytest.mark.sqlite_only
def test_a_load_finished_early_by_another_process_still_scores_all_it_adds(
    tmp_path, db_path, big_csv
):
    seen: list[bool] = []

    def taken_for_dead(session, _result) -> None:  # noqa: ANN001
        # As if another command had found the loader gone and finished the load.
        seen.append(marker(db_path) is not None)
        session.connection().exec_driver_sql("DELETE FROM leadctl_meta WHERE key = ?", (MARKER,))

    options = ImportOptions(on_batch=taken_for_dead, rejects=tmp_path / "rejects.csv")
    run_import(open_database(str(db_path)), str(big_csv), options, actor="tester")
    assert seen[0] is True
    fresh = tmp_path / "fresh.db"
    open_database(str(fresh)).close()
    assert schema(db_path) == schema(fresh)
    assert_scored(db_path)


@pytest.mark.sqlite_only
def test_opening_finishes_only_when_the_loading_process_is_gone(db_path):
    open_database(str(db_path)).close()
    complete = schema(db_path)
    drop_indexes(db_path, bulk.Marker(bulk.this_process(), above=0, score=False).text())
    open_database(str(db_path)).close()  # the load (this process) still runs: left alone
    assert "ix_lead_pool" not in schema(db_path)
    gone = bulk.Marker("another-host:1:", above=0, score=False).text()
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE leadctl_meta SET value = ? WHERE key = ?", (gone, MARKER))
    open_database(str(db_path)).close()
    assert schema(db_path) == complete
    assert marker(db_path) is None


@pytest.mark.sqlite_only
def test_a_killed_loads_leads_are_scored_when_it_is_finished(db_path):
    open_database(str(db_path)).close()
    before = insert_lead(db_path, "Before", "before@example.org", 97, "hot")
    drop_indexes(db_path, bulk.Marker("another-host:1:", above=before, score=True).text())
    loaded = insert_lead(db_path, "Loaded", "loaded@example.org", 0, "cold")
    open_database(str(db_path)).close()
    assert score_of(db_path, before) == (97, "hot")
    assert score_of(db_path, loaded)[0] > 0
    assert marker(db_path) is None


@pytest.mark.sqlite_only
def test_a_stale_finish_leaves_a_newer_load_alone(db_path):
    open_database(str(db_path)).close()
    newer = bulk.Marker(bulk.this_process(), above=0, score=True)
    drop_indexes(db_path, newer.text())
    old = bulk.Marker("another-host:1:", above=0, score=True)  # read before the newer load began
    bulk.finish(open_database(str(db_path)), old, abandoned=True)
    assert marker(db_path) == newer.text()
    assert "ix_lead_pool" not in schema(db_path)


def test_is_running():
    assert bulk.is_running(bulk.this_process())
    host, pid, started = bulk.this_process().split(":")
    assert not bulk.is_running(f"{host}:{pid}:{started}1")  # the pid now names another process
    assert not bulk.is_running(f"another-host:{pid}:{started}")
    assert not bulk.is_running("garbage")


def test_statistics_of_a_small_table_do_not_slow_the_loads_scoring(tmp_path, big_csv):
    """A lead added (and the tables analysed, at one row) before a big load: the
    load's scoring pass must plan for the rows it has, not the row there was
    (stale statistics once made it quadratic: a minute at 30,000 leads)."""
    import time

    def load(db: Path) -> float:
        database = open_database(str(db))
        began = time.perf_counter()
        run_import(
            database, str(big_csv), ImportOptions(rejects=tmp_path / "r.csv"), actor="tester"
        )
        return time.perf_counter() - began

    empty = load(tmp_path / "empty.db")
    analysed = tmp_path / "analysed.db"
    assert (
        run_leadctl(
            "--db", str(analysed), "add", "Early Bird", "--email", "e@example.org"
        ).returncode
        == 0
    )
    with sqlite3.connect(analysed) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'lead'").fetchone()[0]
    assert load(analysed) < 3 * empty + 1
    assert_scored(analysed)
