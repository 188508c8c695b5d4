"""Running an import: read → parse → dedupe → store, batch by batch.

How batches are stored (SPEC Import):
- by default each batch is one ``BEGIN IMMEDIATE`` transaction, so other
  writers get in between and a killed import leaves whole batches only (a
  rerun merges what is already there and stores the rest);
- ``--atomic`` keeps every batch in one transaction, rolled back if any row
  is rejected;
- a big file into a nearly empty database is a bulk load: without most lead
  indexes, which are built at its end, when its leads are scored in one pass
  (``importing.bulk``);
- ``--dry-run`` writes nothing (not even the rejects file, unless named) and
  counts the same, its new rows' keys kept in a scratch file for dedupe.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlmodel import Session

from leadctl import clock, scoring, stages, users
from leadctl.errors import DatabaseError, Interrupted, InvalidInput, invalid_choice
from leadctl.importing.bulk import indexes_deferred
from leadctl.importing.decoding import display_name, open_source
from leadctl.importing.dedupe import Scratch
from leadctl.importing.headers import header_key, is_known, plan_columns
from leadctl.importing.pipeline import Chunk, in_child, should_fork
from leadctl.importing.reading import Broken, Table, open_table, parse_delimiter
from leadctl.importing.records import Records
from leadctl.importing.restore import Restorer
from leadctl.importing.rows import Parsed, Rejected, RowParser
from leadctl.importing.vocabulary import NewSources, Vocabulary, add_sources
from leadctl.importing.warned import WarningKind, WarningsLog, warnings_path
from leadctl.importing.writer import BatchResult, BatchWriter, Counts, RejectsWriter, id_range
from leadctl.models import LEAD
from leadctl.routing import BatchDealer
from leadctl.storage import Database

ON_DUPLICATE = ["merge", "skip", "create", "fail"]
BATCH_ROWS = 5000
COLLECT_EVERY = 20_000  # allocations between two runs of the cycle collector, importing
FIRST_BATCH_ROWS = 500
MAX_NOTICES = 5  # in the summary; every one is in the rejects file
ANALYZE_FROM_ROWS = 1000  # new leads after which PostgreSQL's statistics are taken again
BULK_FROM_BYTES = 2 << 20  # a file this big into a nearly empty database: indexes built at the end


@dataclass
class ImportOptions:
    dry_run: bool = False
    atomic: bool = False
    on_duplicate: str = "merge"
    rejects: Path | None = None  # default: FILE.rejects.csv (stdin.rejects.csv for -)
    encoding: str | None = None
    delimiter: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # --map SRC=FIELD
    source: str | None = None  # source of rows that name none
    assign: str | None = None  # owner of every new lead (a user, me, or round-robin)
    batch_rows: int = BATCH_ROWS
    parallel: bool | None = None  # parse in a second process (None: when it pays off)
    # Called in each batch's transaction with what it stored (after scoring it).
    on_batch: Callable[[Session, BatchResult], None] | None = None
    # Called after each batch: rows read, bytes read, total bytes (None for stdin).
    progress: Callable[[int, int, int | None], None] | None = None
    # Keep every warning for the summary's warning_details (--json); else only
    # counts by kind (memory stays flat whatever the file).
    warning_details: bool = False


@dataclass
class ImportSummary:
    rows: int
    imported: int
    merged: int
    skipped: int
    rejected: int
    warnings: int
    rejects_file: str | None
    dry_run: bool
    stored: bool = True  # False when --atomic rolled everything back
    warnings_file: str | None = None
    # warnings by kind, most frequent first, with their first few lines
    warning_kinds: list[WarningKind] = field(default_factory=list)
    # every warning ({"line", "field", "value", "message"}) when asked for
    warning_details: list[dict[str, Any]] | None = None
    # what is wrong with the file itself (an unclosed quote), for the person
    notices: list[str] = field(default_factory=list)
    encoding: str | None = None  # the one the file was read in (None: an .xlsx)
    new_sources: list[str] = field(default_factory=list)  # added to the list (or would be)
    # each merged row, by line: (line, lead id (a dry run: the id it would get), reason)
    merges: list[tuple[int, int | None, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary of SPEC."""
        keys = "rows imported merged skipped rejected warnings rejects_file dry_run".split()
        keys += ["warnings_file", "encoding", "new_sources"]
        data = {key: getattr(self, key) for key in keys}
        data["warning_details"] = self.warning_details or []
        data["merges"] = [
            {"line": line, "lead_id": lead_id, "reason": reason}
            for line, lead_id, reason in self.merges
        ]
        return data


class _RollBack(Exception):
    """Leaves the --atomic transaction without committing."""


def run_import(
    database: Database,
    location: str,
    options: ImportOptions,
    *,
    actor: str,
    stdin: BinaryIO | None = None,
) -> ImportSummary:
    """Import a file (or ``-``); refuses before storing anything when the file
    cannot be read or has no name/email/phone column (exit 1)."""
    with _few_collections():
        return _run_import(database, location, options, actor=actor, stdin=stdin)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Python's cycle collector, made to run rarely for the import's length.

    A load makes millions of small containers (a row's values, its warnings)
    that never form cycles, and by default the collector runs every 700 of
    them and, now and then, walks every object alive: a third of an import's
    time on a 100k file. What start-up made is frozen out of its walks, and it
    runs every :data:`COLLECT_EVERY` allocations; cycles are still collected."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(COLLECT_EVERY, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _run_import(
    database: Database,
    location: str,
    options: ImportOptions,
    *,
    actor: str,
    stdin: BinaryIO | None,
) -> ImportSummary:
    if options.on_duplicate not in ON_DUPLICATE:
        raise invalid_choice("--on-duplicate", options.on_duplicate, ON_DUPLICATE)
    if options.batch_rows < 1:
        raise InvalidInput("the batch size must be at least 1 row")
    delimiter = parse_delimiter(options.delimiter) if options.delimiter else None
    vocabulary, default_source, owner, who = _prepare(database, options, actor)
    scoped = not who.works_any  # a rep: a row duplicating a lead out of reach is rejected
    mapped = {header_key(k) for k in options.mapping}
    source = open_source(location, encoding=options.encoding, stdin=stdin)
    scratch: Scratch | None = None
    rejects: RejectsWriter | None = None
    warned: WarningsLog | None = None
    stored: bool | None = None  # False: --atomic stored nothing
    try:
        table = open_table(
            source, delimiter=delimiter, known=lambda h: is_known(h) or header_key(h) in mapped
        )
        plan = plan_columns(table.header, options.mapping)
        if default_source is None and "connectedon" in {header_key(h) for h in table.header}:
            default_source = vocabulary.source("LinkedIn")  # a LinkedIn connections export

        def parser_for(header: list[str]) -> RowParser:
            return RowParser(
                plan if header is plan.header else plan_columns(header, options.mapping),
                vocabulary,
                default_source=default_source,
                owner=owner,
                decimal_comma=table.decimal_comma,
                unguard=table.kind in ("csv", "xlsx"),
                keep_cells=options.on_duplicate == "fail" or scoped,
            )

        rejects_path = _rejects_path(location, options)
        rejects = RejectsWriter(rejects_path, table.delimiter)
        origin = "stdin" if location == "-" else location
        rejects.check(table.header, origin)
        warnings_at = warnings_path(rejects_path) if rejects_path is not None else None
        log = warned = WarningsLog(warnings_at, keep_details=options.warning_details)
        log.check()
        counts = Counts()
        if options.dry_run and options.on_duplicate != "create":
            scratch = Scratch(_top_id(database) + 1)
        records = Records(database.engine.dialect, clock.now())
        writer = BatchWriter(
            records=records,
            actor=actor,
            origin=source.name if source.path is None else source.path.name,
            on_duplicate=options.on_duplicate,
            counts=counts,
            scratch=scratch,
            scope=who,
            restore=_restorer(plan.leadctl_export, who, owner, counts),
            dealer=_dealer(database, options.assign),
        )
        first_parser = parser_for(plan.header)
        new_sources = NewSources(vocabulary)

        def produce() -> Iterator[Chunk]:
            return _chunks(table, first_parser, parser_for, options.batch_rows, source.position)

        chunks = in_child(produce) if should_fork(source.size, options.parallel) else produce()

        def store(session: Session, batch: list[Parsed]) -> None:
            added = new_sources.take(batch)
            if added and not options.dry_run:
                add_sources(session, added)
            result = writer.write(session, batch)
            for row, reason in result.duplicates:
                counts.rejected += 1
                rejects.add(row.line, row.cells, reason, table.header)
            unlogged.extend(result.placed)  # logged once committed
            if options.dry_run:
                return
            # Score new and merged leads in the batch's own transaction, set-based. A
            # leadctl export carries its leads' scores (their engagement history is
            # not in the file), so its new leads keep them: the round trip is exact.
            # A bulk load scores the leads it adds at its end, in one pass.
            new = [] if plan.leadctl_export or bulk_load is not None else result.inserted_ids
            merged = result.merged_ids
            if bulk_load is not None and bulk_load.score:
                merged = [lead for lead in merged if lead <= bulk_load.above]
            staged: list[int] = []
            if result.scored:  # stored with their scores: their stages follow
                staged, new = new, []
            if new or merged:
                scoring.rescore(session, new + merged)
            if staged:
                stages.recompute(session, select(LEAD.c.id).where(id_range(staged)))
            if options.on_batch is not None:
                options.on_batch(session, result)

        unlogged: list[tuple[Parsed, int | None]] = []
        notices: list[str] = []

        merges_logged = 0

        def log_stored() -> None:
            """Warnings and merges of committed batches go to the warnings file."""
            nonlocal merges_logged
            log.rows(unlogged)
            unlogged.clear()
            for line, lead_id, reason in counts.merges[merges_logged:]:
                log.write(line, lead_id, "", "", f"merged into lead {lead_id}: {reason}")
            merges_logged = len(counts.merges)

        def account(chunk: Chunk) -> None:
            log_stored()  # the batch before this one is committed by now
            counts.rows = chunk.read
            counts.warnings += chunk.warnings
            notices.extend(chunk.notices[: MAX_NOTICES - len(notices)])
            for line, cells, reason in chunk.rejects:
                counts.rejected += 1
                rejects.add(line, cells, reason, chunk.header or table.header)
            if options.progress is not None:
                options.progress(chunk.read, chunk.position, source.size)

        saved = Counts()  # what committed batches stored: said if Ctrl-C stops the import

        def committed() -> None:
            saved.rows, saved.imported, saved.merged = counts.rows, counts.imported, counts.merged

        bulk = not (options.dry_run or options.atomic) and (source.size or 0) >= BULK_FROM_BYTES
        try:
            with indexes_deferred(
                database, wanted=bulk, score=not plan.leadctl_export
            ) as bulk_load:
                stored = _store(database, chunks, store, account, options, counts, committed)
        except KeyboardInterrupt:
            raise _interrupted(options, saved, counts.rows) from None
        except DatabaseError as error:  # the server went away, or a lock wait ran out
            raise _lost(error, options, saved, counts.rows) from None
        log_stored()
        if stored and not options.dry_run:
            database.optimize()  # the batches skipped it: statistics of the table as loaded
            if not database.is_sqlite and counts.imported >= ANALYZE_FROM_ROWS:
                _analyze(database)
        return ImportSummary(
            rows=counts.rows,
            imported=counts.imported if stored else 0,
            merged=counts.merged if stored else 0,
            skipped=counts.skipped if stored else 0,
            rejected=counts.rejected,
            warnings=counts.warnings,
            rejects_file=str(rejects_path) if rejects.written else None,
            dry_run=options.dry_run,
            stored=stored,
            warnings_file=str(warnings_at) if log.written else None,
            warning_kinds=log.grouped(),
            warning_details=log.details,
            notices=notices,
            encoding=display_name(source.encoding) if source.kind == "text" else None,
            new_sources=new_sources.names if stored else [],
            merges=sorted(counts.merges) if stored else [],
        )
    finally:
        source.close()
        if rejects is not None:
            rejects.close()
        if warned is not None:
            warned.close(forget_leads=stored is False)
        if scratch is not None:
            scratch.close()


def _analyze(database: Database) -> None:
    """PostgreSQL: fresh planner statistics for the tables an import grew, so
    the commands run right after it are planned for the tables as they are
    (autovacuum would take them, but only a minute or so later)."""
    from leadctl.models import ACTIVITY
    from leadctl.storage import analyze

    with database.session(immediate=False) as session:
        analyze(session.connection(), LEAD.name, ACTIVITY.name)


def _restorer(
    leadctl_export: bool, who: users.Actor, owner: str | None, counts: Counts
) -> Restorer | None:
    """For a leadctl export: what restores its timelines, clients and deals."""
    if not leadctl_export:
        return None

    def warn() -> None:
        counts.warnings += 1

    return Restorer(allowed=who.works_any, actor=who.name, assigned=owner, keep_ids=True, warn=warn)


def _dealer(database: Database, assign: str | None) -> BatchDealer | None:
    """``--assign round-robin``: new leads dealt among reps and managers (checked
    here: exit 1 when there are none)."""
    from leadctl import routing

    if assign is None or not routing.is_round_robin(assign):
        return None
    with database.session(immediate=False) as session:
        return routing.batch_dealer(session)


def _prepare(
    database: Database, options: ImportOptions, actor: str
) -> tuple[Vocabulary, str | None, str | None, users.Actor]:
    """Check the create permission; read the lists; resolve --source and --assign;
    the acting user."""
    from leadctl import claims, lists, routing

    with database.session(immediate=False) as session:
        who = users.actor(session, actor)
        users.require_permission(who, "create", "import leads")
        owner = None
        if options.assign and not routing.is_round_robin(options.assign):
            owner = claims.resolve_assignee(session, who, options.assign)
        default_source = (
            lists.find(session, "source", options.source).name if options.source else None
        )
        return Vocabulary.load(session), default_source, owner, who


def _top_id(database: Database) -> int:
    """The highest lead id: a dry run numbers its new leads after it."""
    from sqlalchemy import func, select

    from leadctl.models import LEAD

    with database.session(immediate=False) as session:
        return int(session.connection().scalar(select(func.max(LEAD.c.id))) or 0)


def _rejects_path(location: str, options: ImportOptions) -> Path | None:
    if options.rejects is not None:
        return options.rejects
    if options.dry_run:
        return None  # a dry run writes nothing unless asked to
    if location == "-":
        return Path("stdin.rejects.csv")
    path = Path(location).expanduser()
    # x.csv → x.rejects.csv; any other input keeps its whole name (x.json →
    # x.json.rejects.csv), so x.csv and x.json never share a rejects file
    name = path.name[: -len(".csv")] if path.name.lower().endswith(".csv") else path.name
    return path.with_name(name + ".rejects.csv")


def _interrupted(options: ImportOptions, saved: Counts, read: int) -> Interrupted:
    """What Ctrl-C left: the batches committed before it (the one under way is
    rolled back), so a rerun of the same import stores the rest."""
    if options.dry_run:
        return Interrupted(f"interrupted after {read:,} rows read (dry run: nothing stored)")
    if options.atomic:
        return Interrupted(f"interrupted after {read:,} rows read; --atomic: nothing stored")
    return Interrupted(f"interrupted: {_stored_so_far(saved, read)}")


def _lost(error: DatabaseError, options: ImportOptions, saved: Counts, read: int) -> DatabaseError:
    """The database failed mid-import (exit 5): what the committed batches
    stored, as after Ctrl-C (the batch under way is rolled back whole)."""
    if options.dry_run:
        return error
    if options.atomic:
        return DatabaseError(f"{error}; --atomic: nothing stored")
    return DatabaseError(f"{error}; {_stored_so_far(saved, read)}")


def _stored_so_far(saved: Counts, read: int) -> str:
    """What the committed batches of a stopped import stored, and what to do."""
    stored = saved.imported + saved.merged
    return (
        f"{stored:,} row{'s' if stored != 1 else ''} stored "
        f"(imported {saved.imported:,}, merged {saved.merged:,}) of {read:,} read; "
        "run the same import again to store the rest"
    )


def _chunks(
    table: Table,
    parser: RowParser,
    parser_for: Callable[[list[str]], RowParser],
    batch_rows: int,
    position: Callable[[], int],
) -> Iterator[Chunk]:
    """Parsed rows in batches, with the rows rejected on the way (runs in the
    reader process when there is one)."""
    chunk = Chunk()
    width = len(table.header)
    limit = min(batch_rows, FIRST_BATCH_ROWS)  # a small first batch: the writer starts sooner
    for line, cells in table.records:
        chunk.read += 1
        if isinstance(cells, Broken):
            chunk.rejects.append((line, None, cells.reason))
            if cells.notice:
                chunk.notices.append(f"line {line}: {cells.reason}")
            continue
        if len(table.header) != width:  # a JSON object brought new keys
            width = len(table.header)
            parser = parser_for(list(table.header))
        try:
            row = parser.parse(line, cells)
        except Rejected as error:
            chunk.rejects.append((line, cells, str(error)))
            chunk.header = list(table.header)
            continue
        chunk.warnings += len(row.warnings)
        chunk.rows.append(row)
        if len(chunk.rows) >= limit:
            chunk.position = position()
            yield chunk
            chunk = Chunk(read=chunk.read)
            limit = batch_rows
    chunk.position = position()
    yield chunk


def _store(
    database: Database,
    chunks: Iterator[Chunk],
    store: Callable[[Session, list[Parsed]], None],
    account: Callable[[Chunk], None],
    options: ImportOptions,
    counts: Counts,
    committed: Callable[[], None],
) -> bool:
    """Store the batches the chosen way; False when --atomic stored nothing.
    ``committed`` is called after each batch's commit."""
    if options.atomic and not options.dry_run:
        try:
            with database.session(immediate=True, analyze=False) as session:
                for chunk in chunks:
                    account(chunk)
                    if chunk.rows:
                        store(session, chunk.rows)
                if counts.rejected:
                    raise _RollBack
        except _RollBack:
            return False
        return True
    with _CommitGuard() as guard:
        for chunk in chunks:
            account(chunk)
            if chunk.rows:
                with database.session(immediate=not options.dry_run, analyze=False) as session:
                    store(session, chunk.rows)
                    guard.hold()  # the commit follows: Ctrl-C waits until it is counted
                committed()
                guard.release()
                database.let_waiters_in()
    return True


class _CommitGuard:
    """Ctrl-C between a batch's commit and its counting would say fewer rows
    stored than were: while held, SIGINT is noted and raised on release.
    Elsewhere it interrupts at once (a batch being stored is rolled back)."""

    def __init__(self) -> None:
        self._held = False
        self._pending = False
        self._previous: Any = None

    def __enter__(self) -> _CommitGuard:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is signal.default_int_handler:  # not ignored nor someone else's
                self._previous = previous
                signal.signal(signal.SIGINT, self._noted)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        self._held = False

    def _noted(self, signum: int, frame: object) -> None:
        if self._held:
            self._pending = True
        else:
            raise KeyboardInterrupt

    def hold(self) -> None:
        self._held = True

    def release(self) -> None:
        self._held = False
        if self._pending:
            self._pending = False
            raise KeyboardInterrupt
