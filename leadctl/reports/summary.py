"""`report summary`: the period in one row.

- ``leads``: leads created in the period;
- ``open`` / ``won``: of those, how many are in a working status (open or side)
  and in the won one at the period's end;
- ``won_value``: the value of the won leads' deals (a lead won without a deal
  counts its own ``deal_value``);
- ``median_days_to_qualified``: days from creation to reaching ``qualified`` (or
  a later stage), over the leads that did by the period's end;
- ``hot_without_next_call``: working leads in the hot band with no call ahead
  (none scheduled, or its time has passed). Band and next call are known only as
  they are now, so this one reads the leads' present state; with ``--as-of``,
  the status, score (hence band) and next call each lead had then
  (``leadctl.reports.past``);
- ``pipeline_value``: the open pipeline, weighted: each deal created in the
  period and in an open stage adds value × probability (its own, else its
  stage's default; ``deals.pipeline_value``). Deal stages are known only as they
  are now, so this one too reads the present state.
"""

from __future__ import annotations

from sqlalchemy import CTE, Subquery, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from leadctl import clients, clock, deals
from leadctl.models import Deal, Lead
from leadctl.reports import past
from leadctl.reports.common import (
    Column,
    Period,
    Report,
    at_end,
    cohort,
    count,
    days_between,
    first_reach,
    rounded,
    statuses,
    summarize,
)

COLUMNS = [
    Column("leads"),
    Column("open"),
    Column("won"),
    Column("won_value", "money"),
    Column("median_days_to_qualified", "days"),
    Column("hot_without_next_call"),
    Column("pipeline_value", "money"),
]


def run(session: Session, period: Period) -> Report:
    leads = count(session, select(col(Lead.id)).where(*cohort(period)))
    if not leads:
        return Report("summary", COLUMNS, [])
    pipeline = statuses(session)
    state: Subquery | CTE  # (lead_id, status) of the period's leads
    if period.until is None:
        state = (
            select(col(Lead.id).label("lead_id"), col(Lead.status))
            .where(*cohort(period))
            .subquery()
        )
    else:  # the status each lead had then, from the history (worked out once)
        then = at_end(session, period)
        state = select(then.c.lead_id, then.c.status).cte("at_end").prefix_with("MATERIALIZED")
    lead = aliased(Lead)
    worth = func.coalesce(
        select(func.sum(Deal.value))
        .where(col(Deal.lead_id) == state.c.lead_id, *period.before_end(Deal.created_at))
        .scalar_subquery(),
        select(col(lead.deal_value)).where(col(lead.id) == state.c.lead_id).scalar_subquery(),
        0,
    )
    won = col(state.c.status).in_(pipeline.won)
    open_, won_count, won_value = session.execute(
        select(
            func.sum(case((col(state.c.status).in_(pipeline.working), 1), else_=0)),
            func.sum(case((won, 1), else_=0)),
            func.sum(case((won, worth), else_=0)),  # looked up for the won leads only
        )
    ).one()
    qualified = pipeline.named("qualified", -1)
    to_qualified = None
    if qualified is not None:
        reach = first_reach(pipeline.from_stage(qualified), period)
        days = days_between(session, reach.c.at, Lead.created_at)
        values = (
            select(days).select_from(reach).join(Lead, col(Lead.id) == reach.c.lead_id)
        ).where(*cohort(period))
        to_qualified = summarize(session, {qualified: values})[qualified].median
    if period.as_of is not None:
        hot = _hot_then(session, period, state, pipeline.working)
    else:
        hot = count(
            session,
            select(col(Lead.id)).where(
                *cohort(period),
                col(Lead.band) == "hot",
                col(Lead.status).in_(pipeline.working),
                or_(col(Lead.next_call_at).is_(None), col(Lead.next_call_at) < clock.now()),
            ),
        )
    pipeline_value = session.execute(
        select(func.sum(deals.pipeline_value(clients.stages(session)))).where(
            *period.within(Deal.created_at), *clients.deal_scope(period.leads)
        )
    ).scalar()
    row = {
        "leads": leads,
        "open": int(open_ or 0),
        "won": int(won_count or 0),
        "won_value": float(won_value or 0),
        "median_days_to_qualified": rounded(to_qualified),
        "hot_without_next_call": hot,
        "pipeline_value": float(pipeline_value or 0),
    }
    return Report("summary", COLUMNS, [row])


def _hot_then(session: Session, period: Period, state: Subquery | CTE, working: list[str]) -> int:
    """``hot_without_next_call`` as of the --as-of moment: status, score and next
    call as each lead had them then. One pass over the leads: the scores query
    itself, joined to their status then and their next-call history."""
    passed, was = past.next_call_passed(session, period)
    then = (
        past.scores_select(session, period)
        .join(state, state.c.lead_id == col(Lead.id))
        .outerjoin(was, was.c.lead_id == col(Lead.id))
        .where(col(state.c.status).in_(working), passed)
        .subquery("hot_then")
    )
    return count(session, select(then.c.id).where(past.hot(session, then.c.score)))
