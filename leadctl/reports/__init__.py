"""Reports computed from the activity history, for any period.

Each report is a module with ``run(session, period, …) -> Report``; ``run``
here picks one by name and limits it to the leads its reader may see (the
period carries that scope to every query on the lead table). Nothing here
knows about terminals: the CLI renders.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import import_module

from sqlmodel import Session

from leadctl.errors import InvalidInput, invalid_choice
from leadctl.reports.common import Column, Period, Report, parse_period
from leadctl.users import Actor, visible_clauses

NAMES = ["funnel", "sources", "reps", "aging", "trend", "summary"]
TREND_BY = ["week", "month"]
FUNNEL_BY = ["status", "stage"]
BY = {"trend": TREND_BY, "funnel": FUNNEL_BY}  # the reports --by belongs to, and its values
YOUR_LEADS = "your leads"  # what a report covers for a reader without view_all

__all__ = [
    "BY",
    "FUNNEL_BY",
    "NAMES",
    "TREND_BY",
    "Column",
    "Period",
    "Report",
    "check",
    "parse_period",
    "run",
]


def check(name: str, *, by: str | None = None, per_source: bool = False) -> str | None:
    """Refuse an unknown report or an option it does not take (exit 1); ``by``
    defaulted: ``trend`` counts per week or month, ``funnel`` per pipeline
    status or lifecycle stage."""
    if name not in NAMES:
        raise invalid_choice("report", name, NAMES)
    if per_source and name != "trend":
        raise InvalidInput("--per-source is an option of `report trend` only")
    allowed = BY.get(name)
    if allowed is None:
        if by is not None:
            raise InvalidInput(
                "--by is an option of `report trend` (week, month) and "
                "`report funnel` (status, stage) only"
            )
        return None
    by = allowed[0] if by is None else by
    if by not in allowed:
        raise invalid_choice("--by", by, allowed)
    return by


def run(
    session: Session,
    who: Actor,
    name: str,
    period: Period,
    *,
    by: str | None = None,
    per_source: bool = False,
) -> Report:
    """Compute report ``name`` over the leads ``who`` may see (all of them with
    view_all; else the report says whose: ``scope``). ``by`` belongs to
    ``trend`` and ``funnel``, ``per_source`` to ``trend``."""
    by = check(name, by=by, per_source=per_source)
    module = import_module(f"leadctl.reports.{name}")
    scope = tuple(visible_clauses(who))
    period = replace(period, leads=scope)
    if name == "trend":
        report: Report = module.run(session, period, by=by, per_source=per_source)
    elif name == "funnel":
        report = module.run(session, period, by=by)
    else:
        report = module.run(session, period)
    report.scope = YOUR_LEADS if scope else None
    return report
