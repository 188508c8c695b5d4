"""`report NAME`: funnel, sources, reps, aging, trend, summary as a table, --json or --csv."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadctl.cli.state import JsonOpt, state

if TYPE_CHECKING:
    from rich.console import JustifyMethod

    from leadctl.reports import Period, Report

NONE_LABEL = {"source": "(no source)", "owner": "(unassigned)"}


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="funnel, sources, reps, aging, trend or summary.",
            show_default=False,
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(help="From this day or time: 2026-11-01, -30d, today (default: the start)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Through this day, or up to this time (default: now)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="WHEN",
            help="The report as it stood then: statuses, owners, scores and next calls of "
            "that moment (a date: its end), from the history; the period ends there.",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="trend: week (default) or month; funnel: status (default) or stage "
            "(lifecycle: lead, mql, sql, converted).",
        ),
    ] = None,
    per_source: Annotated[
        bool, typer.Option("--per-source", help="trend: one row per period and source.")
    ] = False,
    json_out: JsonOpt = False,
    csv_out: Annotated[bool, typer.Option("--csv", help="Print CSV (the JSON columns).")] = False,
) -> None:
    """Reports computed from the lead history, for any period (the whole history by default)."""
    from leadctl import reports, users
    from leadctl.cli import render
    from leadctl.errors import InvalidInput

    if json_out and csv_out:
        raise InvalidInput("--json and --csv print different formats: choose one")
    by = reports.check(name, by=by, per_source=per_source)
    period = reports.parse_period(since, until, as_of)
    app = state(ctx)
    with app.session(immediate=False) as session:
        who = users.actor(session, app.actor)
        result = reports.run(session, who, name, period, by=by, per_source=per_source)
    if json_out:
        render.emit_json({"report": result.name, "rows": result.rows})
    elif csv_out:
        render.write_csv(result.keys, ([row[key] for key in result.keys] for row in result.rows))
    elif not result.rows:
        render.message(f"report {result.name}: no leads ({_describe(result, period)})")
    else:
        _table(result, period)


def _table(result: "Report", period: "Period") -> None:
    """The rows as a Rich table; the report's bar column gets a bar chart beside it."""
    from leadctl.cli import render

    headers: list[str] = []
    justify: dict[str, JustifyMethod] = {}
    for column in result.columns:
        header = column.key.replace("_", " ").capitalize()
        headers.append(header)
        if column.kind != "text":
            justify[header] = "right"
        if column.key == result.bar:
            headers.append("")
    texts = [[_cell(c.key, c.kind, row[c.key]) for c in result.columns] for row in result.rows]
    width = _bar_width(headers, texts) if result.bar else 0
    if not width:  # no room for a chart beside the figures: the figures alone
        headers = [h for h in headers if h]
    bar = result.bar if width else None  # width is 0 without a bar column
    top = max((row[bar] or 0 for row in result.rows), default=0) if bar is not None else 0
    cells = []
    for row, text in zip(result.rows, texts, strict=True):
        line = []
        for column, cell in zip(result.columns, text, strict=True):
            line.append(cell)
            if width and column.key == result.bar:
                line.append(render.Markup(f"[cyan]{render.bar(row[column.key], top, width)}[/]"))
        cells.append(line)
    render.table(
        headers,
        cells,
        title=f"{result.name} · {_describe(result, period)}",
        justify=justify,
        no_wrap=[""],
    )


def _bar_width(headers: list[str], texts: list[list[str]]) -> int:
    """As wide a bar as the terminal leaves beside the other columns (at most 20
    cells); 0 when fewer than 6 are left."""
    from leadctl.cli import render

    named = [h for h in headers if h]
    used = sum(max([len(h), *(len(line[i]) for line in texts)]) + 3 for i, h in enumerate(named))
    room = min(render.BAR_WIDTH, render.console().width - used - 4)
    return room if room >= 6 else 0


def _cell(key: str, kind: str, value: Any) -> str:
    from leadctl.cli import render

    if value is None:
        return NONE_LABEL.get(key, "—") if kind == "text" else "—"
    if kind == "rate":
        return render.percent(value)
    if kind in ("days", "hours", "score"):  # the JSON value, with at least one decimal
        text = f"{value:.2f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if kind == "money":
        return render.money(value)
    if kind == "int":
        return f"{value:,}"
    return str(value)


def _describe(result: "Report", period: "Period") -> str:
    """Whose leads (when not all) and the period in words, for a table title."""
    when = _describe_period(period)
    return f"{result.scope} · {when}" if result.scope else when


def _describe_period(period: "Period") -> str:
    """The period in words: dates for whole days, times otherwise."""
    from datetime import timedelta

    from leadctl.clock import local

    if period.since is None and period.until is None:
        return "whole history"
    parts = []
    if period.as_of is not None and period.moment == period.as_of:
        if period.since is not None:
            parts.append(f"since {local(period.since).removesuffix(' 00:00')}")
        moment = period.as_of + timedelta(microseconds=1)
        if local(moment).endswith(" 00:00"):  # a date: as of the end of that day
            parts.append(f"as of the end of {local(period.as_of)[:10]}")
        else:
            parts.append(f"as of {local(period.as_of)}")
        return " ".join(parts)
    if period.since is not None:
        since = local(period.since)
        parts.append(f"since {since.removesuffix(' 00:00')}")
    if period.until is not None:
        until = local(period.until)
        if until.endswith(" 00:00"):  # an --until date: shown as the last day it includes
            parts.append(f"through {local(period.until - timedelta(days=1))[:10]}")
        else:
            parts.append(f"until {until}")
    return " ".join(parts)
