"""A database file leadctl cannot read, and a backup that cannot be written:
one line `error: …`, the documented exit code, and nothing changed on disk."""

from __future__ import annotations

import resource
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from benchmarks.make_db import build
from leadctl import storage
from tests.conftest import leadctl_bin, run_leadctl

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real leadctl database with a few thousand leads (well over 50 KB)."""
    path = tmp_path_factory.mktemp("good") / "good.db"
    build(path, 3000)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.stat().st_size > 200_000
    return path


def damaged_files(good_db: Path, tmp_path: Path) -> dict[str, Path]:
    whole = good_db.read_bytes()
    files = {
        "text": b"name,email\nAda,ada@example.com\n",
        "png": PNG,
        **{f"truncated at {n}": whole[:n] for n in (50, 100, 4096, 50_000, len(whole) // 2)},
    }
    paths = {}
    for name, content in files.items():
        path = tmp_path / (name.replace(" ", "_") + ".db")
        path.write_bytes(content)
        paths[name] = path
    foreign = tmp_path / "photos.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, taken TEXT)")
        conn.execute("INSERT INTO photos (taken) VALUES ('2026-01-01')")
    paths["another program's SQLite"] = foreign
    lookalike = tmp_path / "lookalike.db"
    with sqlite3.connect(lookalike) as conn:  # our table name, not our content
        conn.execute("CREATE TABLE leadctl_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        conn.execute("INSERT INTO leadctl_meta VALUES ('owner', 'someone else')")
    paths["a leadctl_meta without a version"] = lookalike
    return paths


COMMANDS = [
    ("list",),
    ("show", "1"),
    ("add", "Ada", "--email", "ada@example.com"),
    ("status", "1", "contacted"),
    ("report", "summary"),
    ("export", "--format", "json"),
    ("config", "get"),
    ("user", "list"),
    ("backup", "{tmp}/copy.db"),
]


def test_an_unreadable_file_is_exit_5_and_stays_as_it_was(cli, good_db, tmp_path):
    for kind, path in damaged_files(good_db, tmp_path).items():
        before = path.read_bytes()
        for command in COMMANDS:
            args = [a.format(tmp=tmp_path) for a in command]
            result = cli("--db", path, *args, code=5)
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (kind, args, lines)
            assert str(path) in lines[0], (kind, lines)
            assert path.read_bytes() == before, (kind, args)
            assert result.stdout == "", (kind, args)
        assert sorted(p.name for p in tmp_path.glob(path.name + "*")) == [path.name], kind
    assert not (tmp_path / "copy.db").exists()


def test_the_truncated_file_of_the_issue_through_the_installed_command(good_db, tmp_path):
    truncated = tmp_path / "t.db"
    truncated.write_bytes(good_db.read_bytes()[:50_000])
    result = run_leadctl("--db", str(truncated), "list")
    assert result.returncode == 5
    assert result.stderr.splitlines() == [
        f"error: database {truncated} is damaged or not a leadctl database "
        "(database disk image is malformed); left untouched"
    ]
    assert truncated.read_bytes() == good_db.read_bytes()[:50_000]


def test_a_good_copy_of_the_same_file_still_opens(cli, good_db, tmp_path):
    copy = tmp_path / "copy.db"
    copy.write_bytes(good_db.read_bytes())
    assert len(cli.json("--db", copy, "list", "--limit", "5")) == 5


def limited_to(size: int) -> None:
    """In the child: files may grow to ``size`` bytes; a bigger write fails
    with EFBIG (Python ignores SIGXFSZ), as on a full disk."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@pytest.mark.parametrize("existing", [False, True], ids=["new FILE", "FILE --force"])
def test_backup_onto_a_full_disk_leaves_no_part_file(good_db, tmp_path, existing):
    db = tmp_path / "leads.db"
    db.write_bytes(good_db.read_bytes())
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    if existing:
        target.write_bytes(b"yesterday's backup")
    result = subprocess.run(
        [leadctl_bin(), "--db", str(db), "backup", str(target), "--force"],
        capture_output=True,
        text=True,
        preexec_fn=lambda: limited_to(100_000),
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"error: cannot write backup {target}: disk I/O error; nothing was written"
    ]
    assert result.stdout == ""
    left = sorted(p.name for p in target.parent.iterdir())
    if existing:
        assert left == ["copy.db"] and target.read_bytes() == b"yesterday's backup"
    else:
        assert left == []
    # with room enough, the same backup is whole
    run = run_leadctl("--db", str(db), "backup", str(target), "--force")
    assert run.returncode == 0, run.stderr
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM lead").fetchone()[0] == 3000


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ada:s3cret@127.0.0.1:1/leads",  # nothing listens (or no driver)
        "postgresql://ada:s3cret@127.0.0.1:notaport/leads",  # malformed
        "postgres://ada:s3cret@127.0.0.1:1/leads",
        "postgresql+nodriver://ada:s3cret@db/leads",
        "mysql://ada:s3cret@db/leads",
        "postgresql://ada:s3%40cret@db:x/leads",  # a percent-encoded password
    ],
)
def test_a_database_url_is_never_printed_with_its_password(cli, tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    result = cli("--db", url, "list", code=5)
    assert "s3cret" not in result.stderr and "s3%40cret" not in result.stderr
    assert result.stderr.startswith("error: ") and "ada:***@" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no URL was taken for a file path


def test_url_schemes_are_told_from_paths():
    assert storage.is_url("postgresql+psycopg://db/x") and storage.is_url("sqlite:///x.db")
    assert not storage.is_url("leads.db") and not storage.is_url("/tmp/a://b")
    assert storage.shown("postgresql://ada:pw@db/x") == "postgresql://ada:***@db/x"
    assert storage.shown("postgresql://ada@db/x") == "postgresql://ada@db/x"
    assert storage.shown("/home/ada/leads.db") == "/home/ada/leads.db"


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://ada:pw@db/x?application_name=ada@laptop", "pw"),  # an @ in the query
        ("postgresql://ada@db/x?application_name=a:b@c", None),  # no password at all
        ("postgresql://ada:p@ss@db/x?application_name=ada@laptop", "p@ss"),  # raw @ in it
        ("postgresql://ada:p/s?s@db/x", "p/s?s"),
        ("postgresql://ada:s3%40cret@db/x", "s3%40cret"),  # as written
        ("postgresql:///?service=team", None),
    ],
)
def test_the_password_is_read_from_the_credentials_only(url, password):
    """One reader for the messages that hide it and for backup, which hands it
    to pg_dump apart from the URL."""
    from leadctl.storage.backup import _without_password

    assert storage.url_password(url) == password
    libpq_url, given = _without_password(url)
    assert given == (unquote(password) if password else None)
    if password:
        assert storage.shown(url) == url.replace(f":{password}@", ":***@", 1)
        assert libpq_url == url.replace(f":{password}@", "@", 1)
    else:
        assert storage.shown(url) == libpq_url == url
