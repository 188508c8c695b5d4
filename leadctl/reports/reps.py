"""`report reps`: per owner, the leads of a period and how they were worked.

- ``leads``: leads created in the period that the rep owns now;
- ``activities``: calls, emails, meetings and tasks the rep logged in the period
  (on any lead the reader may see), so a rep who owns nothing but works the pool
  shows too;
- ``median_first_response_hours``: hours from a lead's creation to its first
  contact (its ``first_contacted_at``: the first contact logged or the first
  status move), over the rep's leads contacted by the period's end;
- ``conversions``: the rep's leads that reached the won stage by then.

With ``--as-of`` a lead counts for whoever owned it at that moment
(``leadctl.reports.past``), not for its owner now.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from leadctl.activities import CONTACT_KINDS
from leadctl.models import Activity, Lead
from leadctl.reports import past
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
    owner, was = past.owner(period)
    leads = dict(
        session.execute(
            past.with_history(select(owner, func.count()).select_from(Lead), was)
            .where(*cohort(period))
            .group_by(owner)
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
        reached = select(owner, func.count()).select_from(reach)
        reached = reached.join(Lead, col(Lead.id) == reach.c.lead_id)
        conversions = dict(
            session.execute(
                past.with_history(reached, was).where(*cohort(period)).group_by(owner)
            ).all()
        )
    responded = [
        *cohort(period),
        col(Lead.first_contacted_at).is_not(None),
        *period.before_end(Lead.first_contacted_at),
    ]
    hours = (days_between(session, Lead.first_contacted_at, Lead.created_at) * 24).label("hours")
    owners = sorted(set(leads) | set(worked), key=lambda name: (name is None, name or ""))
    response = summarize(
        session,
        {
            name: past.with_history(select(hours).select_from(Lead), was).where(
                *responded, owner.is_(None) if name is None else owner == name
            )
            for name in owners
        },
    )
    rows = [
        {
            "owner": name,
            "leads": leads.get(name, 0),
            "activities": worked.get(name, 0),
            "median_first_response_hours": rounded(response[name].median),
            "conversions": conversions.get(name, 0),
            "conversion_rate": rate(conversions.get(name, 0), leads.get(name, 0)),
        }
        for name in owners
    ]
    rows.sort(key=lambda row: (row["owner"] is None, -row["leads"], row["owner"] or ""))
    return Report("reps", COLUMNS, rows, bar="conversions")
