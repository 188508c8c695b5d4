"""Opening, creating, refusing and upgrading database files; backup."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import time
import types

import pytest

from leadctl import storage
from leadctl.storage import SCHEMA_VERSION, open_database
from tests.conftest import POSTGRES, run_leadctl


def test_first_use_creates_file_with_schema_and_mode_0600(cli, tmp_path):
    target = tmp_path / "deep" / "folder" / "crm.db"
    cli("--db", str(target), "list")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as conn:
        version = conn.execute("SELECT value FROM leadctl_meta").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert int(version) == SCHEMA_VERSION
    assert mode == "wal"


@pytest.mark.sqlite_only
def test_help_and_usage_errors_never_create_the_database(cli, db_path):
    cli("--help")
    cli("list", "--help")
    cli("list", "--no-such-flag", code=2)
    assert not db_path.exists()


def test_directory_as_db_exits_5_with_path(cli, tmp_path):
    result = cli("--db", str(tmp_path), "list", code=5)
    assert str(tmp_path) in result.stderr and "directory" in result.stderr


def test_unwritable_location_exits_5(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("--db", str(blocker / "x.db"), "list", code=5)
    assert str(blocker / "x.db") in result.stderr


@pytest.mark.parametrize("content", [b"hello, not a database\n", b"\x00\x01binary" * 100])
def test_non_sqlite_file_is_refused_untouched(cli, tmp_path, content):
    target = tmp_path / "notes.txt"
    target.write_bytes(content)
    result = cli("--db", str(target), "list", code=5)
    assert "not a leadctl database" in result.stderr
    assert target.read_bytes() == content


def test_foreign_sqlite_database_is_refused_untouched(cli, tmp_path):
    target = tmp_path / "other.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    before = target.read_bytes()
    result = cli("--db", str(target), "add", "Ada", "--email", "a@example.com", code=5)
    assert "not a leadctl database" in result.stderr
    assert target.read_bytes() == before


@pytest.mark.sqlite_only
def test_newer_schema_is_refused_with_exit_5(cli, db_path):
    cli("list")
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE leadctl_meta SET value = ?", (str(SCHEMA_VERSION + 1),))
    result = cli("list", code=5)
    assert "newer" in result.stderr and "upgrade leadctl" in result.stderr


@pytest.mark.sqlite_only
def test_old_database_is_upgraded_in_place(cli, db_path, monkeypatch):
    cli("add", "Ada", "--email", "ada@example.com")

    def upgrade(conn):
        from sqlalchemy import text

        conn.execute(text("CREATE TABLE upgrade_probe (id INTEGER)"))

    m_next = types.ModuleType("leadctl.storage.migrations.m_next")
    m_next.upgrade = upgrade  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, m_next.__name__, m_next)
    monkeypatch.setattr(storage, "MIGRATIONS", (*storage.MIGRATIONS, "m_next"))
    monkeypatch.setattr(storage, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    assert [lead["name"] for lead in cli.json("list")] == ["Ada"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT value FROM leadctl_meta").fetchone()[0] == str(
            SCHEMA_VERSION + 1
        )
        conn.execute("SELECT * FROM upgrade_probe")


@pytest.mark.sqlite_only
def test_opening_current_database_does_not_import_migrations(db_path):
    open_database(str(db_path)).close()
    code = (
        "import sys; from leadctl.storage import open_database; "
        f"open_database({str(db_path)!r}); "
        "print('leadctl.storage.migrations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_help_does_not_import_sqlalchemy():
    code = (
        "import sys; from leadctl.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'phonenumbers', 'openpyxl')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.sqlite_only
def test_backup_is_a_consistent_copy_while_another_process_writes(cli, db_path, tmp_path):
    cli("add", "Ada", "--email", "ada@example.com")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n"
            "for i in range(400):\n"
            "    c.execute('BEGIN IMMEDIATE')\n"
            "    c.execute(\"INSERT INTO setting (key, value) VALUES (?, 'x')\", (f'k{i}',))\n"
            "    c.execute('COMMIT')\n",
            str(db_path),
        ]
    )
    time.sleep(0.1)
    copies = []
    for i in range(3):
        target = tmp_path / f"copy{i}.db"
        result = run_leadctl("backup", str(target), "--json")
        assert result.returncode == 0, result.stderr
        copies.append(target)
    writer.wait(timeout=60)
    assert writer.returncode == 0
    for target in copies:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT name FROM lead").fetchall() == [("Ada",)]
    restored = cli.json("--db", str(copies[-1]), "show", "1")
    assert restored["email"] == "ada@example.com"


def test_backup_refuses_to_overwrite_without_force(cli, tmp_path):
    cli("list")
    target = tmp_path / "b.db"
    target.write_text("precious")
    assert "--force" in cli("backup", str(target), code=3).stderr
    assert target.read_text() == "precious"
    cli("backup", str(target), "--force")
    assert target.read_bytes().startswith(b"PGDMP" if POSTGRES else b"SQLite format 3")


def stat_rows(db) -> dict[str, str]:
    """The planner statistics SQLite keeps (sqlite_stat1), by index."""
    with sqlite3.connect(db) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return {}
        return dict(conn.execute("SELECT idx, stat FROM sqlite_stat1 WHERE idx IS NOT NULL"))


@pytest.mark.sqlite_only
def test_a_writing_command_leaves_planner_statistics_a_reading_one_writes_none(cli, db_path):
    cli("list")
    assert stat_rows(db_path) == {}  # reading wrote nothing
    for i in range(30):
        cli("add", f"Lead {i}", "--email", f"lead{i}@example.com")
    stats = stat_rows(db_path)
    assert "ix_lead_email_key" in stats  # the duplicate check used it: analyzed
    wal = db_path.with_name(db_path.name + "-wal")
    before = (db_path.read_bytes(), wal.read_bytes())
    cli("list")
    cli("show", "1")
    assert (db_path.read_bytes(), wal.read_bytes()) == before


@pytest.mark.sqlite_only
def test_an_import_analyzes_once_at_its_end_not_per_batch(cli, db_path, tmp_path):
    """Statistics taken while the table fills would describe its first batch;
    the import skips them per batch and leaves them for the table as loaded."""
    source = tmp_path / "leads.csv"
    rows = [f"Lead {i},lead{i}@example.com" for i in range(6000)]  # two batches
    source.write_text("Name,Email\n" + "\n".join(rows) + "\n")
    cli("list")
    cli("import", str(source))
    stats = stat_rows(db_path)
    assert "ix_lead_email_key" in stats  # the duplicate lookups used it: analyzed
    # the table as loaded (an estimate: ANALYZE samples), not its first batch of 500 rows
    assert int(stats["ix_lead_email_key"].split()[0]) >= 5000


@pytest.mark.sqlite_only
def test_import_lookups_keep_their_index_under_statistics_from_a_small_table(cli, db_path):
    """Statistics taken when the lead table was small (SQLite refreshes them
    only after 25x growth) must not turn the import's key lookups into scans."""
    from sqlalchemy.dialects import sqlite

    from leadctl.importing.records import _lookup_sql
    from leadctl.models import LEAD

    for i in range(30):
        cli("add", f"Lead {i}", "--email", f"lead{i}@example.com", "--phone", f"+1202555{i:04}")
    assert "ix_lead_email_key" in stat_rows(db_path)
    with sqlite3.connect(db_path) as conn:  # as if analyzed at 2,000 leads, not grown since
        conn.execute(
            "UPDATE sqlite_stat1 SET stat = '2000' || substr(stat, instr(stat, ' ')) "
            "WHERE tbl = 'lead'"
        )
    with sqlite3.connect(db_path) as conn:
        for key in ("email_key", "phone", "company_key"):
            sql = _lookup_sql(sqlite.dialect(), LEAD, key, 500)
            plan = " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ["x"] * 500))
            assert f"USING INDEX ix_lead_{key}" in plan, plan


def test_storage_imports_nothing_above_it():
    """The bottom layer: leadctl.storage may import errors, models and clock only."""
    import ast
    from pathlib import Path

    allowed = ("leadctl.errors", "leadctl.models", "leadctl.clock", "leadctl.storage")
    root = Path(storage.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                if node.module == "leadctl":
                    names = [f"leadctl.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("leadctl") and not name.startswith(allowed):
                    found.append(f"{path.relative_to(root)}: {name}")
    assert found == []
