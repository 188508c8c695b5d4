"""`report reps`: per owner, the leads of a period and how they were worked.

- ``leads``: leads created in the period that the rep owns now;
- ``activities``: calls, emails, meetings and tasks the rep logged in the period
  (on any lead the reader may see), so a rep who owns nothing but works the pool
  shows too;
- ``median_first_response_hours``: hours from a lead's creation to its first
  contact (its ``first_contacted_at``: the first contact logged or the first
  status move), over the rep's leads contacted by the period's end;
- ``conversions``: the rep's leads that reached the won stage by then.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from leadctl.activities import CONTACT_KINDS
from leadctl.models import Activity, Lead
from leadctl.reports.common import (
    Column,
    Period,
    Report,
    cohort,
    days_between,
    first_reach,
    rate,
    rounded,
    statuses,
    summarize,
)

COLUMNS = [
    Column("owner", "text"),
    Column("leads"),
    Column("activities"),
    Column("median_first_response_hours", "hours"),
    Column("conversions"),
    Column("conversion_rate", "rate"),
]


def run(session: Session, period: Period) -> Report:
    leads = dict(
        session.execute(
            select(col(Lead.owner), func.count()).where(*cohort(period)).group_by(col(Lead.owner))
        ).all()
    )
    worked: dict[Any, int] = defaultdict(int)
    logged = (
        select(col(Activity.kind), col(Activity.actor), func.count())
        .where(col(Activity.kind).in_(CONTACT_KINDS), *period.within(Activity.created_at))
        .group_by(col(Activity.kind), col(Activity.actor))
    )
    if period.leads:  # only what was logged on leads the reader may see
        logged = logged.join(Lead, col(Lead.id) == col(Activity.lead_id)).where(*period.leads)
    for _, actor, n in session.execute(logged):
        worked[actor] += n
    if not leads and not worked:
        return Report("reps", COLUMNS, [], bar="conversions")
    pipeline = statuses(session)
    conversions: dict[Any, int] = {}
    if pipeline.won:
        reach = first_reach(pipeline.from_stage(pipeline.won[0]), period)
        conversions = dict(
            session.execute(
                select(col(Lead.owner), func.count())
                .select_from(reach)
                .join(Lead, col(Lead.id) == reach.c.lead_id)
                .where(*cohort(period))
                .group_by(col(Lead.owner))
            ).all()
        )
    responded = [
        *cohort(period),
        col(Lead.first_contacted_at).is_not(None),
        *period.before_end(Lead.first_contacted_at),
    ]
    hours = (days_between(session, Lead.first_contacted_at, Lead.created_at) * 24).label("hours")
    owners = sorted(set(leads) | set(worked), key=lambda owner: (owner is None, owner or ""))
    response = summarize(
        session,
        {
            owner: select(hours).where(
                *responded, col(Lead.owner).is_(None) if owner is None else col(Lead.owner) == owner
            )
            for owner in owners
        },
    )
    rows = [
        {
            "owner": owner,
            "leads": leads.get(owner, 0),
            "activities": worked.get(owner, 0),
            "median_first_response_hours": rounded(response[owner].median),
            "conversions": conversions.get(owner, 0),
            "conversion_rate": rate(conversions.get(owner, 0), leads.get(owner, 0)),
        }
        for owner in owners
    ]
    rows.sort(key=lambda row: (row["owner"] is None, -row["leads"], row["owner"] or ""))
    return Report("reps", COLUMNS, rows, bar="conversions")
