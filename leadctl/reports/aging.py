"""`report aging`: where the working leads sit now, and for how long.

Rows are the statuses a lead is still worked in (open ones, and side ones such
as nurture), in list order. A lead is in a status since its latest move into it
(its creation when it never moved). ``stuck`` counts the leads in it for longer
than that status's rot time (``rots_after_days``: the status list's
``rots_after``, set with ``statuses set STATUS --rots-after``; defaults new 2
days, contacted 7, qualified 14, nurture 30; none: never stuck). The time
counted here is time *in the status*; the ``rotting`` flag of a lead counts
time untouched. With ``--until`` (or ``--as-of``) the report is read as of that
moment, from the history alone; ``--since`` keeps the leads created since then.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, func, literal, select
from sqlmodel import Session, col

from leadctl.models import CHOICE, Activity, Lead
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
    Column("rots_after_days", "days"),
    Column("stuck"),
]


def run(session: Session, period: Period) -> Report:
    working = statuses(session).working
    rots = rots_after_days(session)
    moment = literal(period.moment, DateTime)
    if period.until is None:
        parts = {status: _now(session, period, status, moment) for status in working}
    else:
        latest = _as_of(session, period).cte("as_of").prefix_with("MATERIALIZED")
        parts = {s: select(latest.c.days).where(latest.c.status == s) for s in working}
    found = summarize(session, parts, over=rots)
    rows = [
        {
            "status": status,
            "leads": found[status].n,
            "median_days": rounded(found[status].median),
            "max_days": rounded(found[status].max),
            "rots_after_days": rounded(rots.get(status)),
            "stuck": found[status].over,
        }
        for status in working
    ]
    if not any(row["leads"] for row in rows):
        rows = []
    return Report("aging", COLUMNS, rows, bar="leads")


def rots_after_days(session: Session) -> dict[str, float | None]:
    """Each status's rot time in days (``choice.rots_after`` is seconds; None: never)."""
    found = session.execute(
        select(CHOICE.c.name, CHOICE.c.rots_after).where(CHOICE.c.list == "status")
    ).all()
    return {name: None if seconds is None else seconds / 86400 for name, seconds in found}


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
    days = days_between(session, literal(period.moment, DateTime), then.c.at)
    return select(then.c.status.label("status"), days.label("days"))
