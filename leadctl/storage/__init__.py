"""Opening a leadctl database: SQLite by default, PostgreSQL by URL.

The bottom layer: it imports only ``leadctl.errors``, ``leadctl.models`` and
``leadctl.clock``. Opening is cheap on purpose: one query reads the schema
version (and whether a killed bulk import left indexes to build: the layer
above finishes that, see ``leadctl.database``), and the migration machinery is
imported only when a new file needs its schema or an old one an upgrade.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadctl.errors import DatabaseError, PermissionDenied

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session as OrmSession
    from sqlalchemy.pool import ConnectionPoolEntry
    from sqlmodel import Session

SQLITE_MAGIC = b"SQLite format 3\x00"
META_TABLE = "leadctl_meta"
SCHEMA_KEY = "schema_version"  # meta key: how many of MIGRATIONS the database has run
BULK_MARKER = "indexes_deferred"  # meta key set while a bulk import has indexes down
DEFAULT_BUSY_SECONDS = 15.0
# PostgreSQL: the advisory lock every writer takes (the bytes of "leadctl")
WRITER_LOCK = int.from_bytes(b"leadctl", "big")
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE for a right a login lacks
INVALID_SCHEMA = "3F000"  # ... and for no schema to create tables in
ANALYSIS_LIMIT = 400  # rows ANALYZE reads per index (SQLite's advice: 100 to 1000)

# The modules of ``leadctl.storage.migrations``, in the order they run.
MIGRATIONS = (
    "m001_initial",
    "m002_website_linkedin",
    "m003_identity",
    "m004_undo",
    "m005_automation",
    "m006_bigint",
)
SCHEMA_VERSION = len(MIGRATIONS)
# The SQL function that case-folds text on SQLite (leadctl.textmatch compiles to it)
FOLD_FUNCTION = "leadctl_fold"
# SQLite's words for a file it cannot read as a database (truncated, overwritten, foreign)
DAMAGED = ("malformed", "not a database", "file is encrypted")


def default_target() -> str:
    """Where the database lives when neither ``--db`` nor ``LEADCTL_DB`` says."""
    env = os.environ.get("LEADCTL_DB")
    if env:
        return env
    from platformdirs import user_data_dir

    return str(Path(user_data_dir("leadctl", appauthor=False)) / "leads.db")


def busy_seconds() -> float:
    """How long a command waits for another writer's lock before exit 5."""
    try:
        seconds = float(os.environ.get("LEADCTL_BUSY_TIMEOUT", DEFAULT_BUSY_SECONDS))
    except ValueError:
        return DEFAULT_BUSY_SECONDS
    return seconds if 0 < seconds <= 3600 else DEFAULT_BUSY_SECONDS


def is_url(target: str) -> bool:
    """A ``scheme://`` target (any scheme: one leadctl cannot use is refused
    by name, never taken for a file path)."""
    scheme, sep, _ = target.partition("://")
    return bool(sep) and scheme[:1].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


def url_password(target: str) -> str | None:
    """The password written in a URL (``scheme://user:PASSWORD@host``, as
    written: percent-encoded where it was), if any.

    The credentials end at the last ``@`` before the path or query that
    follows the first ``@``: a password may hold a raw ``@``, ``/`` or ``?``,
    and a query an ``@`` of its own (``?application_name=ada@laptop``)."""
    if not is_url(target):
        return None
    rest = target.partition("://")[2]
    first = rest.find("@")
    if first < 0:
        return None
    ends = [at for at in (rest.find("/", first), rest.find("?", first)) if at >= 0]
    credentials = rest[: rest.rfind("@", 0, min(ends, default=len(rest)))]
    user, colon, password = credentials.partition(":")
    return password if colon and password else None


def shown(target: str) -> str:
    """The database as messages name it: a URL's password as ``***``, so no
    error line, log or terminal scrollback ever holds it."""
    return hide_password(target, target)


def hide_password(text: str, target: str) -> str:
    """``text`` (a message about ``target``) with the target's password as ``***``."""
    password = url_password(target)
    if password is None:
        return text
    from urllib.parse import unquote

    for written in {password, unquote(password)}:
        text = text.replace(f":{written}@", ":***@")
    return text


@dataclass
class Database:
    """An open leadctl database: the engine and how to start sessions on it."""

    engine: Engine
    target: str
    # the marker of a bulk load whose indexes are still down (killed, or still
    # running): the import side decides, on opening, whether to finish it
    pending_bulk_load: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def shown(self) -> str:
        """The database as messages name it (:func:`shown`: no password)."""
        return shown(self.target)

    @contextmanager
    def session(
        self, *, immediate: bool = False, analyze: bool = True, serialize: bool = True
    ) -> Iterator[Session]:
        """A session committed on success and rolled back on any error.

        ``immediate`` takes SQLite's write lock at BEGIN, so a command that reads
        then decides queues behind other writers instead of failing on a lock
        upgrade; such a transaction ends with :func:`optimize` unless ``analyze``
        is False (an import's batches: statistics taken while a table fills
        mislead the planner for the rest of the load, so it runs
        :meth:`optimize` once at its end). On PostgreSQL it takes the writer
        lock (:func:`_serialize_writers`) unless ``serialize`` is False: for a
        writer whose row locks already keep it apart from the others
        (``claim --next``: ``FOR UPDATE SKIP LOCKED``, then a conditional
        UPDATE), which then waits for no other writer.
        """
        from sqlmodel import Session

        bind = (
            self.engine.execution_options(leadctl_immediate=True, leadctl_serialize=serialize)
            if immediate
            else self.engine
        )
        with translate_errors(self.shown), Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                if immediate and analyze and session.in_transaction():
                    optimize(session.connection())
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def optimize(self) -> None:
        """:func:`optimize` in a write transaction of its own."""
        with self.session(immediate=True, analyze=False) as session:
            optimize(session.connection())

    def let_waiters_in(self) -> None:
        """Between two transactions of a long run of them (an import's
        batches), pause while other writers wait for SQLite's lock: it is not
        a queue (see :mod:`leadctl.storage.turns`). PostgreSQL queues them."""
        if self.engine.dialect.name == "sqlite":
            from leadctl.storage import turns

            turns.let_waiters_in(Path(self.target), patience=busy_seconds())

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def translate_errors(target: str) -> Iterator[None]:
    """Turn driver lock and I/O failures, and a file SQLite cannot read as a
    database, into :class:`DatabaseError` (exit 5)."""
    from sqlalchemy import exc

    try:
        yield
    except exc.DBAPIError as error:
        detail = str(error.orig).splitlines()[0] if error.orig else str(error)
        if "locked" in detail or "busy" in detail or "lock timeout" in detail:
            raise DatabaseError(
                f"database {target} is busy: another command held its lock for over "
                f"{busy_seconds():g}s; try again"
            ) from None
        if any(word in detail for word in DAMAGED):
            raise DatabaseError(
                f"database {target} is damaged or not a leadctl database ({detail}); left untouched"
            ) from None
        if getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            raise PermissionDenied(
                f"database {target} refuses this login: {detail}; the database's owner "
                "grants a login its rights (docs/team.md)"
            ) from None
        if getattr(error.orig, "sqlstate", None) == INVALID_SCHEMA:
            raise DatabaseError(
                f"database {target} has no schema this login may create leadctl's tables in "
                "(the URL's search_path names none that exists, or the login may not use it)"
            ) from None
        if isinstance(error, exc.OperationalError):
            raise DatabaseError(f"database {target} is unavailable: {detail}") from None
        raise


def read_meta(conn: Connection | OrmSession, *keys: str) -> dict[str, str]:
    """The stored values of these ``leadctl_meta`` keys (absent ones left out)."""
    from sqlalchemy import select

    from leadctl.models import META as table

    statement = select(table.c.key, table.c.value).where(table.c.key.in_(keys))
    return {row.key: row.value for row in conn.execute(statement)}


def write_meta(conn: Connection | OrmSession, key: str, value: str | None) -> None:
    """Store one ``leadctl_meta`` value, or remove the key (``None``)."""
    from sqlalchemy import delete, insert

    from leadctl.models import META as table

    conn.execute(delete(table).where(table.c.key == key))
    if value is not None:
        conn.execute(insert(table).values(key=key, value=value))


def optimize(conn: Connection) -> None:
    """Let SQLite gather planner statistics where it judges them missing or
    stale, as it advises before a short-lived connection closes and after
    indexes are built (``PRAGMA optimize``: usually a no-op; any ANALYZE it
    runs reads at most ``ANALYSIS_LIMIT`` rows an index). Call it inside a
    write transaction. PostgreSQL analyzes by itself (autovacuum)."""
    if conn.dialect.name == "sqlite":
        # Driver SQL: a PRAGMA has no SQLAlchemy expression. main only: the
        # temporary tables scoring refills per batch need no statistics.
        conn.exec_driver_sql("PRAGMA main.optimize")


def analyze(conn: Connection, *tables: str) -> None:
    """Fresh planner statistics for tables a bulk load has just grown.

    Those taken while they were small mislead the planner into plans fit for
    a few rows: a lead table analysed at one row made scoring a 30,000-lead
    load quadratic (a minute, the write lock held). SQLite reads at most
    ``ANALYSIS_LIMIT`` rows an index; PostgreSQL samples."""
    for table in tables:
        # Driver SQL: ANALYZE has no SQLAlchemy expression.
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table)}")


def follow_ids(conn: Connection, *tables: Table) -> None:
    """PostgreSQL: move each table's id sequence past the ids stored in it
    (rows written with their own ids: an export imported back keeps them), so
    the next row numbered by the sequence is free. SQLite numbers from the
    table itself and needs nothing."""
    if conn.dialect.name != "postgresql":
        return
    from sqlalchemy import func, select

    for table in tables:
        top = select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery()
        sequence = func.pg_get_serial_sequence(table.name, "id")
        conn.execute(select(func.setval(sequence, func.greatest(top, 1), top > 0)))


def too_new(target: str, version: int) -> str:
    return (
        f"database {target} has schema version {version}, newer than this "
        f"leadctl understands ({SCHEMA_VERSION}); upgrade leadctl"
    )


def open_database(target: str | None = None) -> Database:
    """Open (creating or upgrading when due) the database at a path or URL."""
    target = target or default_target()
    if is_url(target) and not target.startswith("sqlite:"):
        engine = _server_engine(target)
    else:
        path = Path(target.removeprefix("sqlite:///")).expanduser()
        _prepare_sqlite_file(path)
        engine = _sqlite_engine(path)
        target = str(path)
    database = Database(engine=engine, target=target)
    try:
        with translate_errors(database.shown):
            _ensure_schema(database)
    except BaseException:
        if not database.is_sqlite:  # a server's connection ends with the failed open
            database.close()
        raise
    return database


def open_existing(target: str | None = None, *, busy: float = 0.5) -> Database | None:
    """Open a database that exists, at this version's schema, creating,
    upgrading and finishing nothing (shell completion: a tab key never
    writes); None when there is none such. ``busy``: how long to wait for
    another writer's lock, in seconds. Errors of a broken file are raised."""
    target = target or default_target()
    if is_url(target) and not target.startswith("sqlite:"):
        engine = _server_engine(target)
    else:
        path = Path(target.removeprefix("sqlite:///")).expanduser()
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                return None
        engine = _sqlite_engine(path, busy=busy)
        target = str(path)
    database = Database(engine=engine, target=target)
    try:
        with engine.connect() as conn:
            version = read_meta(conn, SCHEMA_KEY).get(SCHEMA_KEY)
    except BaseException:
        database.close()  # a server's pooled connection ends here, not at exit
        raise
    if version != str(SCHEMA_VERSION):
        database.close()
        return None
    return database


def _prepare_sqlite_file(path: Path) -> None:
    if path.is_dir():
        raise DatabaseError(f"database path {path} is a directory; give a file path with --db")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseError(f"database {path} is not readable and writable by you")
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            raise DatabaseError(f"{path} is not a leadctl database (not SQLite); left untouched")
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(f"cannot create database {path}: {error.strerror}") from None
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # another process created it a moment ago
    except OSError as error:
        raise DatabaseError(f"cannot create database {path}: {error.strerror}") from None


def _sqlite_engine(path: Path, *, busy: float | None = None) -> Engine:
    from sqlalchemy import create_engine, event

    from leadctl.storage import turns

    busy = busy_seconds() if busy is None else busy
    busy_ms = int(busy * 1000)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": busy, "check_same_thread": False},
    )

    # Connection set-up speaks to the driver itself: these are settings of the
    # sqlite3 connection (and PRAGMAs, which have no SQLAlchemy expression),
    # made once per connection before SQLAlchemy runs anything on it.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Take transactions into our own hands (pysqlite's are deferred and
        # implicit), so BEGIN IMMEDIATE is possible; see SQLAlchemy's pysqlite docs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")  # see optimize()
        cursor.close()
        _ensure_pow(dbapi_connection)
        # Unicode-aware case folding for search and tag matching (SQLite's own
        # lower() folds ASCII only); PostgreSQL's lower() folds Unicode itself
        dbapi_connection.create_function(FOLD_FUNCTION, 1, _fold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Driver SQL: SQLAlchemy has no expression for BEGIN IMMEDIATE, which
        # takes the write lock at once (writers queue instead of failing).
        if not connection.get_execution_options().get("leadctl_immediate"):
            connection.exec_driver_sql("BEGIN")
            return
        raw = connection.connection.driver_connection
        if raw is not None and turns.begin_at_once(raw, busy_ms):
            return
        with turns.waiting(path):  # so a batch writer lets this one in
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _ensure_pow(dbapi_connection: sqlite3.Connection) -> None:
    """A SQLite built without its math functions gets Python's ``pow`` (the
    same libm call): set-based scoring's decay is written with it."""
    import sqlite3

    try:
        dbapi_connection.execute("SELECT pow(2.0, 0.5)")
    except sqlite3.OperationalError:  # no such function: pow
        dbapi_connection.create_function("pow", 2, _pow, deterministic=True)


def _pow(base: float, exponent: float) -> float:
    return float(base) ** exponent


def _fold(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    """SQLite's ``leadctl_fold(x)``: text lower-cased the Unicode way (as
    PostgreSQL's ``lower``), anything else as it is."""
    return value.lower() if isinstance(value, str) else value


def _server_engine(url: str) -> Engine:
    from sqlalchemy import create_engine

    given = url
    url = url.replace("postgres://", "postgresql://", 1)
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    if not url.startswith("postgresql+"):
        raise DatabaseError(
            f"cannot use database {shown(given)}: expected a file path, sqlite:///PATH "
            "or postgresql://USER@HOST/DATABASE"
        )
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError:
        raise DatabaseError(
            f"cannot use database {shown(given)}: PostgreSQL needs the driver: "
            "pip install 'leadctl[postgres]'"
        ) from None
    except Exception as error:  # URL malformed
        detail = hide_password(str(error), given)
        raise DatabaseError(f"cannot use database {shown(given)}: {detail}") from None
    _utc_sessions(engine)
    _serialize_writers(engine)
    return engine


def _utc_sessions(engine: Engine) -> None:
    """Every session in UTC, whatever the server's ``TimeZone`` (a server set up
    in Berlin or New York, or ``PGTZ``): some time columns are ``timestamp``
    without a zone (``lead.touched_at``, ``app_user.away_from``/``away_until``,
    ``command_log.created_at``, ``event.at``), and PostgreSQL stores an aware
    time there as the session's wall clock, which leadctl reads back as UTC."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Driver SQL on the new connection, before SQLAlchemy uses it, outside
        # a transaction (one round trip): the setting is the session's. Not an
        # ``options`` in the URL: that would override the user's PGOPTIONS or
        # service file (a search_path, say)
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("SET TIME ZONE 'UTC'")
        finally:
            dbapi_connection.autocommit = False


def _serialize_writers(engine: Engine) -> None:
    """A writer's transaction (``leadctl_immediate``) takes one advisory lock
    at its start on PostgreSQL, as BEGIN IMMEDIATE takes SQLite's write lock:
    writers that read, decide, then write (the duplicate check of add, import,
    merge and convert; creating and upgrading the schema) queue behind each
    other instead of deciding on the same snapshot. The wait is bounded by the
    busy timeout (then exit 5); readers never wait."""
    from sqlalchemy import event, func, select

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if not options.get("leadctl_immediate"):
            return
        milliseconds = int(busy_seconds() * 1000)
        # Driver SQL: SET LOCAL has no SQLAlchemy expression. Row-lock waits of a
        # writer that skips the queue (claim --next) are bounded by it too
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
        if options.get("leadctl_serialize", True):
            connection.execute(select(func.pg_advisory_xact_lock(WRITER_LOCK)))


def _ensure_schema(database: Database) -> None:
    from sqlalchemy import exc

    with database.engine.connect() as conn:
        try:
            stored = read_meta(conn, SCHEMA_KEY, BULK_MARKER)
        except exc.DBAPIError as error:
            detail = str(error.orig)
            if "no such table" not in detail and "does not exist" not in detail:
                raise
            conn.rollback()
            stored = {}
    version = stored.get(SCHEMA_KEY)
    if (
        version is not None
        and version.isascii()
        and version.isdigit()
        and int(version) > SCHEMA_VERSION
    ):
        raise DatabaseError(too_new(database.shown, int(version)))
    if version != str(SCHEMA_VERSION):
        from leadctl.storage import migrations

        migrations.bring_up_to_date(database)
    database.pending_bulk_load = stored.get(BULK_MARKER)
