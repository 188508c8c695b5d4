"""The one place output is drawn: Rich tables on a terminal, JSON for scripts.

Data goes to stdout, messages to stderr. Rich is imported only when a table
is drawn; colour is left to Rich, which turns it off when stdout is not a
terminal or NO_COLOR is set.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

STATUS_STYLE = {
    "new": "cyan",
    "contacted": "blue",
    "qualified": "magenta",
    "converted": "green",
    "nurture": "yellow",
    "unqualified": "dim",
    "lost": "red",
}
BAND_STYLE = {"hot": "bold red", "warm": "yellow", "cold": "blue"}


def console() -> Console:
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            """`leadctl list | head` is a normal way to read: stop quietly, exit 0."""
            raise BrokenPipeError(32, "Broken pipe")

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    return PipeConsole(highlight=False, width=width, soft_wrap=False)


def emit_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str, allow_nan=False)
    sys.stdout.write(text + "\n")


def message(text: str) -> None:
    """A message for the person, on stderr (never mixed into data)."""
    sys.stderr.write(text + "\n")


def error(text: str) -> None:
    sys.stderr.write(f"error: {text}\n")


def styled(value: str | None, styles: dict[str, str]) -> str:
    from rich.markup import escape

    if not value:
        return ""
    style = styles.get(value)
    return f"[{style}]{escape(value)}[/]" if style else escape(value)


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    justify: dict[str, str] | None = None,
    no_wrap: Sequence[str] = (),
) -> None:
    """Print rows as a Rich table; cells may carry Rich markup.

    ``no_wrap`` columns (bar charts) are cropped, never folded, on a narrow terminal.
    """
    from rich.table import Table

    justify = justify or {}
    grid = Table(title=title, header_style="bold", expand=False)
    for column in columns:
        keep = column in no_wrap
        grid.add_column(
            column,
            justify=justify.get(column, "left"),  # type: ignore[arg-type]
            overflow="crop" if keep else "fold",
            no_wrap=keep,
        )
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(grid)


def key_values(pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in pairs:
        if value not in (None, "", [], {}):
            grid.add_row(key, str(value))
    out = console()
    if title:
        out.print(f"[bold]{title}[/]")
    out.print(grid)


def lead_rows(leads: Sequence[Any], *, overdue: Any) -> None:
    """The lead list: overdue next calls highlighted, status and band coloured."""
    from leadctl import clock

    rows = []
    for lead in leads:
        when = clock.local(lead.next_call_at)
        if when and overdue(lead):
            when = f"[bold red]{when}[/]"
        rows.append(
            (
                lead.id,
                escape(lead.name),
                escape(lead.company),
                styled(lead.status, STATUS_STYLE),
                f"{lead.score} {styled(lead.band, BAND_STYLE)}",
                escape(lead.owner)
                or (f"{escape(lead.claimed_by)} (claim)" if lead.claimed_by else ""),
                when,
                escape(lead.email or lead.phone),
            )
        )
    table(
        ["ID", "Name", "Company", "Status", "Score", "Owner", "Next call", "Contact"],
        rows,
        justify={"ID": "right", "Score": "right"},
    )


def local(value: Any) -> str:
    """A stored UTC time as local 'YYYY-MM-DD HH:MM' for tables and messages."""
    from leadctl.clock import local as to_local

    return to_local(value)


def escape(value: str | None) -> str:
    """Text shown in a table cell, safe from Rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(value) if value else ""


BAR_WIDTH = 20
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float | None, maximum: float | None, width: int = BAR_WIDTH) -> str:
    """A horizontal bar for a table cell, drawn in eighths of a character."""
    if not value or not maximum or value <= 0 or maximum <= 0:
        return ""
    eighths = max(1, round(width * 8 * min(value / maximum, 1.0)))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def money(value: float | None) -> str:
    """An amount with thousands separators; cents only when there are any."""
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def percent(fraction: float | None) -> str:
    """A 0–1 fraction as a table shows it (JSON and CSV keep the fraction)."""
    return "" if fraction is None else f"{fraction * 100:.1f}%"


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows as CSV on stdout: a header line, then one line per row; None is an empty cell."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
