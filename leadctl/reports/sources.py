"""`report sources`: where the leads of a period came from, and how far each source's got.

``contacted``, ``qualified`` and ``converted`` count the leads that ever reached
that stage (or a later one) by the period's end; ``avg_score`` is the leads'
current score (scores are not kept per moment), or with ``--as-of`` their
score recomputed as of then (``leadctl.reports.past``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from leadctl.models import Lead
from leadctl.reports import past
from leadctl.reports.common import Column, Period, Report, cohort, first_reach, rate, statuses

COLUMNS = [
    Column("source", "text"),
    Column("leads"),
    Column("contacted"),
    Column("qualified"),
    Column("converted"),
    Column("conversion_rate", "rate"),
    Column("avg_score", "score"),
]


def run(session: Session, period: Period) -> Report:
    pipeline = statuses(session)
    if period.as_of is not None:
        then = past.scores(session, period, col(Lead.source).label("source"))
        base = session.execute(
            select(then.c.source, func.count(), func.avg(then.c.score)).group_by(then.c.source)
        ).all()
    else:
        base = session.execute(
            select(col(Lead.source), func.count(), func.avg(Lead.score))
            .where(*cohort(period))
            .group_by(col(Lead.source))
        ).all()
    stages = {
        "contacted": pipeline.named("contacted", 1),
        "qualified": pipeline.named("qualified", -1),
        "converted": pipeline.won[0] if pipeline.won else None,
    }
    reached: dict[str, dict[Any, int]] = {}
    for key, stage in stages.items():
        reached[key] = {}
        if stage is None or not base:
            continue
        reach = first_reach(pipeline.from_stage(stage), period)
        counted = session.execute(
            select(col(Lead.source), func.count())
            .select_from(reach)
            .join(Lead, col(Lead.id) == reach.c.lead_id)
            .where(*cohort(period))
            .group_by(col(Lead.source))
        ).all()
        reached[key] = dict(counted)
    rows = [
        {
            "source": source,
            "leads": leads,
            "contacted": reached["contacted"].get(source, 0),
            "qualified": reached["qualified"].get(source, 0),
            "converted": reached["converted"].get(source, 0),
            "conversion_rate": rate(reached["converted"].get(source, 0), leads),
            "avg_score": round(float(score), 1),
        }
        for source, leads, score in base
    ]
    rows.sort(key=lambda row: (-row["leads"], row["source"] is None, row["source"] or ""))
    return Report("sources", COLUMNS, rows, bar="leads")
