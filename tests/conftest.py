"""Shared fixtures: every test gets its own real database file and a fixed clock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadctl.cli import app

NOW = "2026-11-23T09:00:00Z"
# The engine the suite runs on: SQLite files by default; a PostgreSQL server's URL
# here (its user may create databases) runs every test on it instead, each in a
# schema of its own inside one database made for the run (dropped at its end).
POSTGRES = os.environ.get("LEADCTL_TEST_POSTGRES")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: reads or damages the SQLite file itself (skipped on PostgreSQL)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES:
        skip = pytest.mark.skip(reason="about the SQLite file itself")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def _server() -> Iterator[str | None]:
    """On PostgreSQL: a database for this run (URL), dropped at its end."""
    if not POSTGRES:
        yield None
        return
    from tests import engines

    with engines.run_database(POSTGRES) as url:
        yield url


@pytest.fixture(autouse=True)
def _env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    _server: str | None,
) -> Path:
    """A fresh database, a fixed clock, UTC, no colour, wide tables, solo user."""
    db = tmp_path / "leads.db"
    if _server is None:
        monkeypatch.setenv("LEADCTL_DB", str(db))
    else:
        from leadctl import storage
        from tests import engines

        monkeypatch.setenv("LEADCTL_DB", engines.fresh_schema(_server))
        # a test that opens the database itself (``open_database``) leaves the
        # closing to its end, as a process would: the engines are disposed here
        opened: list[Any] = []

        def server_engine(url: str, _open: Any = storage._server_engine) -> Any:
            opened.append(_open(url))
            return opened[-1]

        monkeypatch.setattr(storage, "_server_engine", server_engine)
        request.addfinalizer(lambda: [engine.dispose() for engine in opened])
    monkeypatch.setenv("LEADCTL_NOW", NOW)
    monkeypatch.setenv("LEADCTL_USER", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.delenv("LEADCTL_REGION", raising=False)
    monkeypatch.delenv("LEADCTL_BUSY_TIMEOUT", raising=False)
    return db


@pytest.fixture
def db_path(_env: Path, request: pytest.FixtureRequest) -> Path:
    """The SQLite file itself: only for tests about the file (``sqlite_only``);
    others read the database through ``db_target`` or ``sql``, on either engine."""
    if POSTGRES and "sqlite_only" not in request.keywords:
        raise RuntimeError(f"{request.node.name}: use db_target or sql, or mark it sqlite_only")
    return _env


@pytest.fixture
def db_target() -> str:
    """The test's database as ``--db`` takes it: a file path or a server URL."""
    return os.environ["LEADCTL_DB"]


@pytest.fixture
def new_db(tmp_path: Path, _server: str | None) -> Callable[[str], str]:
    """More empty databases on the test's engine, as many as a test needs:
    ``new_db("source")`` is a file named so, or a new schema on the server."""

    def make(name: str) -> str:
        if _server is None:
            return str(tmp_path / f"{name}.db")
        from tests import engines

        return engines.fresh_schema(_server)

    return make


@pytest.fixture
def second_db(new_db: Callable[[str], str]) -> str:
    """Another empty database on the test's engine (a file, or a new schema)."""
    return new_db("second")


@pytest.fixture
def sql(db_target: str) -> Iterator[Callable[..., list[Any]]]:
    """Run one SQL statement on the test's database, on either engine, in its
    own transaction: ``sql("UPDATE lead SET score = :s WHERE id = 1", s=90)``;
    returns the rows (tuples) a query gives."""
    from tests import engines

    with engines.Sql(db_target) as run:
        yield run


class Cli:
    """Runs the real CLI in-process; ``json`` parses stdout of a ``--json`` call."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, code: int | None = 0) -> Any:
        result = self.runner.invoke(app, [str(a) for a in args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if code is not None:
            assert result.exit_code == code, (
                f"exit {result.exit_code} != {code}\nstdout: {result.stdout}\n"
                f"stderr: {result.stderr}"
            )
        return result

    def json(self, *args: str, code: int | None = 0) -> Any:
        return json.loads(self(*args, "--json", code=code).stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def add_lead(cli: Cli) -> Callable[..., dict[str, Any]]:
    """Add a lead through the CLI and return its JSON object."""

    def add(name: str = "Ada Lovelace", *options: str, **fields: str) -> dict[str, Any]:
        args = ["add", name, *options]
        for key, value in fields.items():
            args += [f"--{key.replace('_', '-')}", value]
        if not any(a in ("--email", "--phone") for a in args):
            args += ["--email", f"{name.lower().replace(' ', '.')}@example.com"]
        return cli.json(*args)

    return add


def leadctl_bin() -> str:
    """The installed console script, as cron would run it."""
    found = shutil.which("leadctl", path=str(Path(sys.executable).parent)) or shutil.which(
        "leadctl"
    )
    assert found, "leadctl is not installed in this environment"
    return found


def run_leadctl(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """Run the installed ``leadctl`` as a separate process with no terminal."""
    return subprocess.run(
        [leadctl_bin(), *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


@pytest.fixture(name="run_leadctl")
def _run_leadctl_fixture() -> Callable[..., Any]:
    """The subprocess runner as a fixture, for tests that prefer injection."""
    return run_leadctl
