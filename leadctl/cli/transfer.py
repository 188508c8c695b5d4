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
        str | None, typer.Option(help="Owner of every imported lead (user or me).")
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
    )
    app = state(ctx)
    with _progress(file) as options.progress:
        summary = run_import(app.database, file, options, actor=app.actor)
    if json_out:
        render.emit_json(summary.to_dict())
    render.message(_summary_line(summary))
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
    if not summary.stored:
        line = f"nothing stored (--atomic, {summary.rejected:,} rejected): " + line
    return ("dry run: " if summary.dry_run else "") + line


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
) -> None:
    """Export every field of the leads you may see (filters as in `list`)."""
    from leadctl import exporting, leads, users
    from leadctl.cli import render
    from leadctl.errors import InvalidInput

    if json_out:
        if fmt not in (None, "json"):
            raise InvalidInput(f"--json asks for JSON, --format for {fmt}: give one")
        fmt = "json"
    chosen = exporting.format_for(fmt, str(output) if output else None)
    if output is None and chosen == "xlsx" and sys.stdout.isatty():
        raise InvalidInput("an .xlsx workbook is binary: write it to a file with -o FILE.xlsx")
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
        rows = exporting.lead_rows(session, users.actor(session, app.actor), query)
        if output is None:
            count = exporting.export(rows, chosen, sys.stdout.buffer)
            sys.stdout.flush()
            return
        if output.is_dir():
            raise InvalidInput(f"-o {output} is a directory; give a file name")
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("wb") as handle:
                count = exporting.export(rows, chosen, handle)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
    render.message(f"exported {count:,} lead{'s' if count != 1 else ''} to {output}")
