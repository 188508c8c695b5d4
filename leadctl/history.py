"""A lead's fields as they were at a past moment, read back from its history.

Every change of a field is an activity naming the field with its old and new
value (``activities``: assign, release, claim, schedule, score_adjust, edit,
undo …). So a field's value at a moment is the *old* value of the lead's first
change of it after that moment, and its present value when it has not changed
since. Reading forward from the moment keeps the work to the changes made
since then (``ix_activity_time``), whatever the size of the older history.

What this cannot give back: a value filled in without naming the field (a
merge filling a blank, an import merging a row into the lead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.sql.elements import ColumnElement

from leadctl.models import ACTIVITY


def first_change(field: str, after: datetime) -> Any:
    """``(lead_id, old)`` of each lead's first change of ``field`` at or after
    ``after``, as a materialised CTE (worked out once per statement, however
    many parts of it read it)."""
    # the rows since the moment first (by ix_activity_time), then ranked: ranked
    # straight from the table, the database would walk the whole history in
    # lead order to spare itself the sort
    since = (
        select(
            ACTIVITY.c.lead_id,
            ACTIVITY.c.old_value,
            ACTIVITY.c.created_at,
            ACTIVITY.c.id,
        )
        .where(ACTIVITY.c.created_at >= after, ACTIVITY.c.field == field)
        .cte(f"since_{field}")
        .prefix_with("MATERIALIZED")
    )
    ranked = select(
        since.c.lead_id.label("lead_id"),
        since.c.old_value.label("old"),
        func.row_number()
        .over(partition_by=since.c.lead_id, order_by=(since.c.created_at, since.c.id))
        .label("rn"),
    ).subquery(f"changed_{field}")
    first = select(ranked.c.lead_id, ranked.c.old).where(ranked.c.rn == 1)
    return first.cte(f"was_{field}").prefix_with("MATERIALIZED")


def value_then(changed: Any, then: Any, present: Any) -> ColumnElement[Any]:
    """The value a lead had: ``then`` (the old value of its first later change,
    from ``changed`` outer-joined by lead id) when it changed since, else its
    ``present`` value."""
    return case((changed.c.lead_id.is_not(None), then), else_=present)
