"""`report funnel`: how far the leads of a period got through the pipeline.

Rows are the pipeline stages (open statuses and the won one, in list order).
A lead has reached a stage once it had that status or a later stage (moves can
skip a stage: a lead converted from ``new`` has been contacted and qualified
too). Every lead is in the first stage from its creation.

``--by stage`` counts the lifecycle stages instead (``leadctl.stages``): every
lead starts as ``lead``; it reached ``mql`` or ``sql`` at its first stage
change to that stage or a later one (the ``stage`` activities), and
``converted`` when it reached the won status. A conversion counts as reaching
every stage before it, as a status move that skips a stage does: a lead won
without ever scoring as an SQL has passed through sales all the same. Rows are
keyed ``stage``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal_column, select, union_all
from sqlmodel import Session, col

from leadctl.fields import STAGES
from leadctl.models import Activity, Lead
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
    status_rows,
    statuses,
    summarize,
)

COLUMNS = [
    Column("status", "text"),
    Column("leads"),
    Column("of_previous", "rate"),
    Column("median_days", "days"),
]


def run(session: Session, period: Period, *, by: str | None = None) -> Report:
    if by == "stage":
        return _by_stage(session, period)
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


STAGE_COLUMNS = [Column("stage", "text"), *COLUMNS[1:]]
WON = "converted"  # the row of leads that reached the won status


def _by_stage(session: Session, period: Period) -> Report:
    """Leads that reached each lifecycle stage, then the won status."""
    total = count(session, select(col(Lead.id)).where(*cohort(period)))
    if total == 0:
        return Report("funnel", STAGE_COLUMNS, [], bar="leads")
    won = statuses(session).won
    later = list(STAGES[1:])
    names = [*later, *([WON] if won else [])]
    parts = {}
    for index, name in enumerate(names):
        reach = _stage_reach(later[index:], won, period)
        parts[name] = (
            select(days_between(session, reach.c.at, Lead.created_at))
            .select_from(reach)
            .join(Lead, col(Lead.id) == reach.c.lead_id)
            .where(*cohort(period))
        )
    reached = summarize(session, parts)
    rows: list[dict[str, Any]] = [
        {"stage": STAGES[0], "leads": total, "of_previous": None, "median_days": 0.0}
    ]
    for name in names:
        rows.append(
            {
                "stage": name,
                "leads": reached[name].n,
                "of_previous": rate(reached[name].n, rows[-1]["leads"]),
                "median_days": rounded(reached[name].median),
            }
        )
    return Report("funnel", STAGE_COLUMNS, rows, bar="leads")


def _stage_reach(stages: list[str], won: list[str], period: Period) -> Any:
    """Per lead, when it first had one of ``stages`` or a won status, by the period's end."""
    at: tuple[Any, ...] = (
        col(Activity.lead_id).label("lead_id"),
        col(Activity.created_at).label("at"),
    )
    before = period.before_end(Activity.created_at)
    parts: list[Select[Any]] = []
    if stages:
        is_stage = col(Activity.kind) == literal_column("'stage'")
        parts.append(select(*at).where(is_stage, col(Activity.new_value).in_(stages), *before))
    if won:
        parts.append(select(*at).where(status_rows(), col(Activity.new_value).in_(won), *before))
    every: Any = parts[0].subquery() if len(parts) == 1 else union_all(*parts).subquery()
    return (
        select(every.c.lead_id, func.min(every.c.at).label("at"))
        .group_by(every.c.lead_id)
        .subquery()
    )
