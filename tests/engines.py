"""The suite on either engine: a PostgreSQL database per run and a schema
per test (``LEADCTL_TEST_POSTGRES``), and SQL run the same way on both."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine


def _driver_url(url: str) -> str:
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    server = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{server}/{name}" + (f"?{query}" if query else "")


@contextmanager
def run_database(server_url: str, *, ctype: str | None = None) -> Iterator[str]:
    """A database made for this test run on the server (with the character
    type ``ctype`` when given, else the server's), dropped afterwards."""
    name = f"leadctl_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(_driver_url(server_url), isolation_level="AUTOCOMMIT")
    locale = f" TEMPLATE template0 LC_CTYPE '{ctype}'" if ctype else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{locale}'))
        yield _with_database(server_url, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh_schema(run_url: str) -> str:
    """A new empty schema in the run's database: the URL of a database that
    is the test's alone (its search path is the schema)."""
    name = f"t{uuid.uuid4().hex[:16]}"
    engine = create_engine(_driver_url(run_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {name}"))
    finally:
        engine.dispose()
    separator = "&" if "?" in run_url else "?"
    return f"{run_url}{separator}options={quote(f'-csearch_path={name}')}"


def engine_for(target: str) -> Engine:
    """An engine on a test's database (a SQLite file path or a server URL)."""
    if "://" in target:
        return create_engine(_driver_url(target))
    return create_engine(f"sqlite:///{target}")


class Sql:
    """Statements on a test's database through SQLAlchemy: the same SQL text
    (named ``:params``) on SQLite and PostgreSQL."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._engine: Engine | None = None

    def __enter__(self) -> Sql:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def __call__(self, statement: str, **params: Any) -> list[Any]:
        if self._engine is None:
            self._engine = engine_for(self.target)
        with self._engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
