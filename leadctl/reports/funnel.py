"""`report funnel`: how far the leads of a period got through the pipeline.

Rows are the pipeline stages (open statuses and the won one, in list order).
A lead has reached a stage once it had that status or a later stage (moves can
skip a stage: a lead converted from ``new`` has been contacted and qualified
too). Every lead is in the first stage from its creation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from leadctl.models import Lead
from leadctl.reports.common import (
    Column,
    Period,
    Report,
    cohort,
    count,
    days_between,
    first_reach,
    rate,
    rounded,
    statuses,
    summarize,
)

COLUMNS = [
    Column("status", "text"),
    Column("leads"),
    Column("of_previous", "rate"),
    Column("median_days", "days"),
]


def run(session: Session, period: Period) -> Report:
    pipeline = statuses(session)
    total = count(session, select(col(Lead.id)).where(*cohort(period)))
    if total == 0 or not pipeline.stages:
        return Report("funnel", COLUMNS, [], bar="leads")
    parts = {}
    for stage in pipeline.stages[1:]:
        reach = first_reach(pipeline.from_stage(stage), period)
        parts[stage] = (
            select(days_between(session, reach.c.at, Lead.created_at))
            .select_from(reach)
            .join(Lead, col(Lead.id) == reach.c.lead_id)
            .where(*cohort(period))
        )
    reached = summarize(session, parts)
    rows: list[dict[str, Any]] = [
        {"status": pipeline.stages[0], "leads": total, "of_previous": None, "median_days": 0.0}
    ]
    for stage in pipeline.stages[1:]:
        rows.append(
            {
                "status": stage,
                "leads": reached[stage].n,
                "of_previous": rate(reached[stage].n, rows[-1]["leads"]),
                "median_days": rounded(reached[stage].median),
            }
        )
    return Report("funnel", COLUMNS, rows, bar="leads")
