"""Reports computed from the activity history, for any period.

Each report is a module with ``run(session, period, …) -> Report``; ``run``
here picks one by name. Nothing here knows about terminals: the CLI renders.
"""

from __future__ import annotations

from importlib import import_module

from sqlmodel import Session

from leadctl.errors import InvalidInput, invalid_choice
from leadctl.reports.common import Column, Period, Report, parse_period

NAMES = ["funnel", "sources", "reps", "aging", "trend", "summary"]
TREND_BY = ["week", "month"]

__all__ = ["NAMES", "TREND_BY", "Column", "Period", "Report", "check", "parse_period", "run"]


def check(name: str, *, by: str | None = None, per_source: bool = False) -> str | None:
    """Refuse an unknown report or an option it does not take (exit 1); ``by`` defaulted."""
    if name not in NAMES:
        raise invalid_choice("report", name, NAMES)
    if name != "trend":
        if by is not None or per_source:
            raise InvalidInput("--by and --per-source are options of `report trend` only")
        return None
    by = by or "week"
    if by not in TREND_BY:
        raise invalid_choice("--by", by, TREND_BY)
    return by


def run(
    session: Session,
    name: str,
    period: Period,
    *,
    by: str | None = None,
    per_source: bool = False,
) -> Report:
    """Compute report ``name``; ``by`` and ``per_source`` belong to ``trend`` only."""
    by = check(name, by=by, per_source=per_source)
    module = import_module(f"leadctl.reports.{name}")
    if name == "trend":
        return module.run(session, period, by=by, per_source=per_source)  # type: ignore[no-any-return]
    return module.run(session, period)  # type: ignore[no-any-return]
