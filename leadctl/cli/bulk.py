"""What the bulk commands share: lead ids from the arguments or stdin (``-``),
``--dry-run``, and printing what changed (or would)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sqlmodel import Session

    from leadctl.bulk import Plan

DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
]
PER_LEAD = 20  # up to this many changed leads get a line each; more, one summary line
IDS_HELP = "Lead ids, or - to read them from stdin (one a line, or `list --json`)."


def lead_ids(args: Sequence[str]) -> tuple[list[int], bool]:
    """The ids the arguments give (``-``: read stdin), and whether the command
    is in its bulk form (several ids, or ``-``), which prints JSON arrays."""
    from leadctl import bulk
    from leadctl.errors import InvalidInput

    ids: list[int] = []
    for arg in args:
        if arg == "-":
            if sys.stdin.isatty():
                raise InvalidInput(
                    "`-` reads lead ids from stdin: pipe them in, e.g. "
                    "`leadctl list --json | leadctl status - nurture`"
                )
            ids += bulk.parse_ids(sys.stdin.read())
        elif arg.isascii() and arg.isdigit():
            ids.append(bulk.check_id(int(arg)))
        else:
            raise typer.BadParameter(f"{arg!r} is not a lead id (a whole number, or -)")
    return ids, len(args) > 1 or "-" in args


def show(
    session: Session, plan: Plan, ids: list[int], *, as_list: bool, dry_run: bool, json_out: bool
) -> list[Any]:
    """The leads to print: those changed (as they would be, in a dry run); with
    one id, that lead whatever happened. Read inside the command's transaction."""
    from leadctl import bulk

    if dry_run:
        after = {row.id: row for row in plan.after}
        if as_list:
            return list(after.values())
        return [after.get(ids[0])] if ids[0] in after else bulk.fetch(session, ids[:1])
    if as_list and not json_out and len(plan.changes) > PER_LEAD:
        return []  # a summary line: no need to read thousands of leads back
    return bulk.fetch(session, plan.changed_ids if as_list else ids[:1])


def emit(rows: list[Any], *, as_list: bool) -> None:
    from leadctl import leads
    from leadctl.cli import render

    objects = [leads.to_dict(row) for row in rows]
    render.emit_json(objects if as_list else (objects[0] if objects else None))


def dry_run_lines(plan: Plan) -> None:
    """Each change a dry run found, one line on stdout, and a summary on stderr."""
    from leadctl.cli import render

    for change in plan.changes:
        for row in change.rows:
            if row.field:
                old = _shown(row.field, row.old_value)
                new = _shown(row.field, row.new_value)
                render.line(f"lead {row.lead_id}: {row.field} {old} → {new}")
            else:
                what = "; ".join(p for p in (row.body, row.outcome) if p)
                render.line(f"lead {row.lead_id}: {row.kind}" + (f" ({what})" if what else ""))
    render.message(
        f"dry run: {_count(len(plan.changes))} would change"
        + (f", {_count(len(plan.unchanged))} unchanged" if plan.unchanged else "")
        + "; nothing was written"
    )


def _shown(field: str | None, value: str | None) -> str:
    if value is None or value == "":
        return "—"
    if field and field.endswith("_at"):
        from datetime import datetime

        from leadctl import clock

        try:
            return clock.local(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return value


def report(
    plan: Plan,
    shown: list[Any],
    line: Callable[[Any], str],
    done: str,
    *,
    as_list: bool,
    json_out: bool,
    dry_run: bool,
    unchanged: str = "unchanged",
) -> None:
    """The one way a bulk command prints: the changed leads as JSON, a dry
    run's changes, or what was done (:func:`said`)."""
    if json_out:
        emit(shown, as_list=as_list)
    elif dry_run:
        dry_run_lines(plan)
    else:
        said(plan, shown, line, done, unchanged=unchanged)


def said(
    plan: Plan,
    shown: list[Any],
    line: Callable[[Any], str],
    done: str,
    *,
    unchanged: str = "unchanged",
) -> None:
    """What a command did, on stderr: a line per lead (``line``) when it changed
    at most :data:`PER_LEAD` (one id: that lead), else one summary line (how
    many leads ``done``); then how many were left as they were."""
    from leadctl.cli import render

    if shown:
        for lead in shown:
            render.message(line(lead))
    else:
        render.message(f"{_count(len(plan.changes))} {done}")
    if plan.unchanged and plan.total > 1:
        render.message(f"{_count(len(plan.unchanged))} {unchanged}")


def _count(n: int) -> str:
    return f"{n:,} lead" + ("" if n == 1 else "s")
