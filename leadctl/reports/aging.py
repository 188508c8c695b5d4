"""`report aging`: where the working leads sit now, and for how long.

Rows are the statuses a lead is still worked in (open ones, and side ones such
as nurture), in list order. A lead is in a status since its latest move into it
(its creation when it never moved). ``stuck`` counts the leads in it for longer
than the ``stuck_days`` setting (default 14). With ``--until`` the report is
read as of that moment, from the history alone; ``--since`` keeps the leads
created since then.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, func, literal, select
from sqlmodel import Session, col

from leadctl import settings
from leadctl.models import Activity, Lead
from leadctl.reports.common import (
    Column,
    Period,
    Report,
    at_end,
    cohort,
    days_between,
    rounded,
    status_rows,
    statuses,
    summarize,
)

COLUMNS = [
    Column("status", "text"),
    Column("leads"),
    Column("median_days", "days"),
    Column("max_days", "days"),
    Column("stuck"),
]


def run(session: Session, period: Period) -> Report:
    working = statuses(session).working
    stuck_days = int(settings.get(session, "stuck_days"))
    moment = literal(period.moment, DateTime)
    if period.until is None:
        parts = {status: _now(session, period, status, moment) for status in working}
    else:
        latest = _as_of(session, period).cte("as_of").prefix_with("MATERIALIZED")
        parts = {s: select(latest.c.days).where(latest.c.status == s) for s in working}
    found = summarize(session, parts, over=stuck_days)
    rows = [
        {
            "status": status,
            "leads": found[status].n,
            "median_days": rounded(found[status].median),
            "max_days": rounded(found[status].max),
            "stuck": found[status].over,
        }
        for status in working
    ]
    if not any(row["leads"] for row in rows):
        rows = []
    return Report("aging", COLUMNS, rows, bar="leads")


def _now(session: Session, period: Period, status: str, moment: Any) -> Any:
    """Days in ``status`` of the leads in it now.

    The lead rows come from ``ix_lead_report_status``; each one's latest move
    into the status is one seek into ``ix_activity_status_reach``.
    """
    entered = (
        select(col(Activity.created_at))
        .where(
            status_rows(),
            col(Activity.new_value) == col(Lead.status),
            col(Activity.lead_id) == col(Lead.id),
        )
        .order_by(col(Activity.created_at).desc())
        .limit(1)
        .correlate(Lead)
        .scalar_subquery()
    )
    since = func.coalesce(entered, Lead.created_at)
    return select(days_between(session, moment, since)).where(
        col(Lead.status) == status, *cohort(period)
    )


def _as_of(session: Session, period: Period) -> Any:
    """``(status, days in it)`` per lead, from its latest status activity before the end."""
    then = at_end(session, period)
    days = days_between(session, literal(period.until, DateTime), then.c.at)
    return select(then.c.status.label("status"), days.label("days"))
