"""The one place output is drawn: Rich tables on a terminal, JSON for scripts.

Data goes to stdout, messages to stderr. Rich is imported only when a table
is drawn; colour is left to Rich, which turns it off when stdout is not a
terminal or NO_COLOR is set.

Every text shown on a terminal passes through :func:`clean`, which removes
control characters and terminal escape sequences, so a lead named
``$'X\\e[2J'`` cannot clear the screen or retitle the window. The functions
here do it themselves (table cells, key/value blocks, titles, messages,
errors, prompts), so a command cannot forget. A plain ``str`` cell is shown
literally (never read as Rich markup); markup the program builds itself is
passed as :class:`Markup` (``escape`` and ``styled`` return it). JSON, CSV
and exports are data and keep every character exactly.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod

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


# Escape sequences, longest forms first: CSI (ESC [ or 8-bit CSI), then OSC and
# the other string commands (DCS, SOS, PM, APC) up to their terminator (BEL, ST
# as ESC \\ or 8-bit ST), then any other ESC sequence (ESC, intermediates, final).
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)
# What is left of the C0 controls, DEL and the C1 controls (\n and \t are handled first),
# and the bidirectional controls, which reorder what follows them on the line ("Trojan
# Source": a name can make the rest of a table row read backwards).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"\r\n?|\n")


def clean(value: object, *, multiline: bool = False) -> str:
    """Text safe to show on a terminal: escape sequences and control characters
    removed, a tab shown as a space. Line breaks stay line breaks where the text
    may take several lines (a table cell, a key/value block); in a one-line text
    (a message, an error, a prompt, a title) each becomes a space, so a value
    can never start a line of its own. Printable text passes unchanged."""
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case: nothing to do
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _LINE_BREAK.sub("\n" if multiline else " ", text).replace("\t", " ")
    return _CONTROL.sub("", text)


class Markup(str):
    """Rich markup the program built itself, its data already passed through
    :func:`escape`. Table cells and titles that are plain ``str`` are shown
    literally; only ``Markup`` is read as markup."""


def _text(value: object, *, multiline: bool = True) -> Any:
    """A Rich Text for a cell or title: Markup is parsed, anything else literal."""
    from rich.text import Text

    if isinstance(value, Markup):
        return Text.from_markup(clean(value, multiline=multiline))
    return Text(clean(value, multiline=multiline))


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


def line(text: object) -> None:
    """One line of plain data for a person on stdout (``config get KEY``), cleaned;
    scripts that need the exact value read ``--json``."""
    sys.stdout.write(clean(text) + "\n")


def message(text: str) -> None:
    """A one-line message for the person, on stderr (never mixed into data)."""
    sys.stderr.write(clean(text) + "\n")


def error(text: str) -> None:
    """The one line a failure prints: ``error: ...`` on stderr."""
    sys.stderr.write(f"error: {clean(text)}\n")


def prompt(text: str, *, default: str | None = None) -> str:
    """Ask the person at the terminal (on stderr); the question is cleaned too."""
    import typer

    answer: str = typer.prompt(clean(text), default=default, err=True)
    return answer


def styled(value: str | None, styles: dict[str, str]) -> Markup:
    """A value coloured by its style (status, band), as Markup."""
    if not value:
        return Markup("")
    style = styles.get(value)
    return Markup(f"[{style}]{escape(value)}[/]") if style else escape(value)


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    justify: dict[str, JustifyMethod] | None = None,
    no_wrap: Sequence[str] = (),
) -> None:
    """Print rows as a Rich table. Every cell and the title are cleaned; a
    ``str`` is shown as it is, a :class:`Markup` cell is read as Rich markup.

    ``no_wrap`` columns (bar charts) are cropped, never folded, on a narrow terminal.
    """
    from rich.table import Table

    justify = justify or {}
    heading = None if title is None else _text(title, multiline=False)
    grid = Table(title=heading, header_style="bold", expand=False)
    for column in columns:
        keep = column in no_wrap
        grid.add_column(
            _text(column, multiline=False),
            justify=justify.get(column, "left"),
            overflow="crop" if keep else "fold",
            no_wrap=keep,
        )
    for row in rows:
        grid.add_row(*(_text(cell) for cell in row))
    console().print(grid)


def key_values(pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
    """A key/value block (``show``); keys, values and the title are cleaned as in :func:`table`."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in pairs:
        if value not in (None, "", [], {}):
            grid.add_row(_text(key, multiline=False), _text(value))
    out = console()
    if title:
        heading = _text(title, multiline=False)
        heading.stylize("bold")
        out.print(heading)
    out.print(grid)


def lead_rows(leads: Sequence[Any], *, overdue: Any) -> None:
    """The lead list: overdue next calls highlighted, status and band coloured,
    a rotting lead (``leadctl.aging``) marked beside its status."""
    from leadctl import aging, clock

    rules = aging.current()
    rows = []
    for lead in leads:
        when = clock.local(lead.next_call_at)
        if when and overdue(lead):
            when = Markup(f"[bold red]{when}[/]")
        rows.append(
            (
                lead.id,
                lead.name,
                lead.company,
                Markup(
                    f"{styled(lead.status, STATUS_STYLE)}{_rot_mark(aging.rotting(lead, rules))}"
                ),
                Markup(f"{lead.score} {styled(lead.band, BAND_STYLE)}{_stage_mark(lead.stage)}"),
                lead.owner or (f"{lead.claimed_by} (claim)" if lead.claimed_by else ""),
                when,
                lead.email or lead.phone,
            )
        )
    table(
        ["ID", "Name", "Company", "Status", "Score", "Owner", "Next call", "Contact"],
        rows,
        justify={"ID": "right", "Score": "right"},
    )


def _rot_mark(rotting: bool) -> str:
    """A rotting lead says so beside its status (``contacted rotting``)."""
    return " [bold red]rotting[/]" if rotting else ""


def _stage_mark(stage: str | None) -> str:
    """A lead past the ``lead`` stage says so beside its score (``72 hot SQL``)."""
    return f" [bold]{stage.upper()}[/]" if stage and stage != "lead" else ""


def local(value: Any) -> str:
    """A stored UTC time as local 'YYYY-MM-DD HH:MM' for tables and messages."""
    from leadctl.clock import local as to_local

    return to_local(value)


def escape(value: str | None) -> Markup:
    """Data to put inside markup the program builds: cleaned, and safe from
    being read as Rich markup. (A plain cell needs no escaping: it is literal.)"""
    from rich.markup import escape as rich_escape

    return Markup(rich_escape(clean(value, multiline=True))) if value else Markup("")


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
