"""`import` and `export`: leads in and out in bulk."""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from leadctl.cli.state import (
    BandOpt,
    DueOpt,
    JsonOpt,
    OwnerOpt,
    SearchOpt,
    SourceOpt,
    StatusOpt,
    TagOpt,
    state,
)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)


def import_command(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE",
            help="CSV/TSV, .xlsx, JSON or JSONL file; - for stdin.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")
    ] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", metavar="SRC=FIELD", help="Read column SRC as FIELD (repeat)."),
    ] = None,
    on_duplicate: Annotated[
        str,
        typer.Option(
            "--on-duplicate",
            help="merge (fill blanks), skip, create, or fail (reject the row).",
        ),
    ] = "merge",
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Where rejected rows go [default: FILE.rejects.csv].", show_default=False
        ),
    ] = None,
    atomic: Annotated[
        bool, typer.Option("--atomic", help="Store nothing if any row is rejected.")
    ] = False,
    encoding: Annotated[
        str | None, typer.Option(help="Force the encoding (default: detected).", show_default=False)
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(help="Force the delimiter: , ; tab | (default: sniffed).", show_default=False),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source of rows that name none.", show_default=False)
    ] = None,
    assign: Annotated[
        str | None,
        typer.Option(
            help="Owner of every new lead: a user, me, or round-robin (reps and managers "
            "in turn, skipping users away or at capacity)."
        ),
    ] = None,
    template: Annotated[
        bool, typer.Option("--template", help="Print a header-only CSV of the importable fields.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Import leads from another tool's export, a spreadsheet or a leadctl export."""
    from leadctl.cli import render

    if template:
        if file is not None:
            raise typer.BadParameter("--template takes no FILE")
        from leadctl.importing import template_csv

        sys.stdout.write(template_csv())
        return
    if file is None:
        raise typer.BadParameter("give a FILE to import (or - for stdin), or --template")
    from leadctl.importing import ImportOptions, run_import

    options = ImportOptions(
        dry_run=dry_run,
        atomic=atomic,
        on_duplicate=on_duplicate,
        rejects=rejects,
        encoding=encoding,
        delimiter=delimiter,
        mapping=_parse_map(mapping or []),
        source=source,
        assign=assign,
        warning_details=json_out,
    )
    app = state(ctx)
    with _progress(file) as options.progress:
        summary = run_import(app.database, file, options, actor=app.actor)
    if json_out:
        render.emit_json(summary.to_dict())
    render.message("; ".join([_summary_line(summary), *_reading_notes(summary)]))
    for text in _warning_lines(summary):
        render.message(text)
    for text in summary.notices:
        render.message(f"  {text}")
    for line in _merge_lines(summary):
        render.message(line)
    if summary.rejected:
        raise typer.Exit(1)


def _parse_map(pairs: list[str]) -> dict[str, str]:
    from leadctl.errors import InvalidInput

    mapping = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip():
            raise InvalidInput(f"invalid --map {pair!r}: expected SRC=FIELD, e.g. 'E-Mail=email'")
        mapping[column] = target
    return mapping


def _reading_notes(summary: Any) -> list[str]:
    """How the file was read, when a person should know (on the summary line):
    an encoding other than UTF-8, and the sources the import added to the list."""
    notes = []
    if summary.encoding not in (None, "utf-8", "ascii"):
        notes.append(f"read as {summary.encoding}")
    if summary.new_sources:
        verb = "would add" if summary.dry_run else "added"
        count = len(summary.new_sources)
        shown = ", ".join(summary.new_sources[:5])
        more = f" and {count - 5} more (--json lists them)" if count > 5 else ""
        notes.append(f"{verb} {count} new source{'s' if count != 1 else ''}: {shown}{more}")
    return notes


MERGES_SHOWN = 10  # merged rows listed after the summary line; the rest are counted


def _merge_lines(summary: Any) -> list[str]:
    """The merges, line → lead, for a person to review (``--dry-run`` first)."""
    merges = summary.merges
    shown = [
        f"  line {line} → lead {lead_id} ({reason})"
        for line, lead_id, reason in merges[:MERGES_SHOWN]
    ]
    if len(merges) > MERGES_SHOWN:
        shown.append(f"  and {len(merges) - MERGES_SHOWN:,} more (--json lists them all)")
    return [f"{'would merge' if summary.dry_run else 'merged'}:", *shown] if shown else []


def _summary_line(summary: Any) -> str:
    verb = "would import" if summary.dry_run else "imported"
    parts = [
        f"{verb} {summary.imported:,}",
        f"merged {summary.merged:,}",
        f"skipped {summary.skipped:,}",
        f"rejected {summary.rejected:,}",
        f"{summary.warnings:,} warning{'s' if summary.warnings != 1 else ''}",
    ]
    line = ", ".join(parts) + f" (of {summary.rows:,} rows)"
    if summary.rejects_file:
        line += f"; rejected rows are in {summary.rejects_file}"
    if summary.warnings_file:
        listed = " and ".join(
            word
            for word, count in (("warnings", summary.warnings), ("merges", summary.merged))
            if count
        )
        line += f"; {listed or 'warnings'} are in {summary.warnings_file}"
    if not summary.stored:
        line = f"nothing stored (--atomic, {summary.rejected:,} rejected): " + line
    return ("dry run: " if summary.dry_run else "") + line


def _warning_lines(summary: Any, shown: int = 3) -> list[str]:
    """``  12 phone does not parse for region US (lines 4, 9, 17, …)``: one line a kind."""
    lines = []
    width = max((len(f"{kind.count:,}") for kind in summary.warning_kinds), default=0)
    for kind in summary.warning_kinds:
        where = ", ".join(str(n) for n in kind.lines[:shown])
        if kind.count > shown:
            where += ", …"
        label = "line" if kind.count == 1 else "lines"
        lines.append(f"  {kind.count:>{width},} {kind.text} ({label} {where})")
    return lines


@contextmanager
def _progress(file: str) -> Iterator[Callable[[int, int, int | None], None] | None]:
    """A Rich progress bar (rows/s, ETA) on a terminal; nothing when piped or NO_COLOR."""
    if not sys.stderr.isatty() or os.environ.get("NO_COLOR"):
        yield None
        return
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    started = time.monotonic()
    bar = Progress(
        TextColumn("importing {task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]:,} rows, {task.fields[rate]:,.0f} rows/s"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    from leadctl.cli.render import escape

    name = escape(Path(file).name) if file != "-" else "stdin"  # shown as markup: cleaned
    task = bar.add_task(name, total=None, rows=0, rate=0)

    def update(rows: int, done: int, total: int | None) -> None:
        if not bar.live.is_started:  # started late: the reader process is forked by then
            bar.start()
        rate = rows / max(time.monotonic() - started, 1e-6)
        bar.update(task, completed=done, total=total, rows=rows, rate=rate)

    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()


def export_command(
    ctx: typer.Context,
    status: StatusOpt = None,
    source: SourceOpt = None,
    owner: OwnerOpt = None,
    band: BandOpt = None,
    tag: TagOpt = None,
    due: DueOpt = None,
    search: SearchOpt = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv, jsonl, json or xlsx [default: from -o, else csv]."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file (default stdout).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the -o file if it exists.")
    ] = False,
) -> None:
    """Export every field of the leads you may see (filters as in `list`)."""
    from leadctl import exporting, leads, users
    from leadctl.cli import render
    from leadctl.errors import InvalidInput
    from leadctl.storage import files as outfiles

    if json_out:
        if fmt not in (None, "json"):
            raise InvalidInput(f"--json asks for JSON, --format for {fmt}: give one")
        fmt = "json"
    chosen = exporting.format_for(fmt, str(output) if output else None)
    if output is None and chosen == "xlsx" and sys.stdout.isatty():
        raise InvalidInput("an .xlsx workbook is binary: write it to a file with -o FILE.xlsx")
    if output is not None:  # before any work: a link, FIFO, device, folder or existing file
        outfiles.check_target(output, what="the export file", replace=force)
    app = state(ctx)
    query = leads.make_query(
        app.actor,
        status=status,
        source=source,
        owner=owner,
        band=band,
        tag=tag,
        due=due,
        search=search,
    )
    with app.session(immediate=False) as session:
        who = users.actor(session, app.actor)
        rows = exporting.lead_rows(session, who, query, history=exporting.history_kind(chosen))
        if output is None:
            count = exporting.export(rows, chosen, sys.stdout.buffer)
            sys.stdout.flush()
            return
        # written under a temporary name (mode 0600, never through a link), then renamed
        partial = outfiles.PrivateFile(output, what="the export file")
        try:
            with partial.open_binary() as handle:
                count = exporting.export(rows, chosen, handle)
                handle.flush()
                os.fsync(handle.fileno())  # a full disk says so now, not after the rename
        except (OSError, exporting.WriteFailed) as error:
            partial.discard()
            reason = error.strerror if isinstance(error, OSError) else error.reason
            raise InvalidInput(
                f"cannot write the export file {output}: {reason or error}; nothing was written"
            ) from None
        except BaseException:
            partial.discard()
            raise
        partial.commit()
    render.message(f"exported {count:,} lead{'s' if count != 1 else ''} to {output}")
