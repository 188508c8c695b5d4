"""What the reports read "as of" a past moment (``report … --as-of WHEN``).

- statuses: from the status history, as ``--until`` always did (``common.at_end``,
  ``first_reach``): the period ends at the moment;
- owners and next calls: each lead's value then, from the history of changes
  (``leadctl.history``: the old value of its first change after the moment,
  else its present value);
- scores: no score is kept per moment, so a score "as of" a moment is
  recomputed, set-based, by the rules in force, from the lead's fields as they
  are now, the activities logged up to the moment (decayed to it: now = the
  moment) and the manual adjustment it had then. A report run at that moment
  read the scores stored then, which were computed when each lead last
  changed: the two agree for a lead rescored at the moment (or whose score does
  not fade), and differ by the decay of its engagements otherwise.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, String, cast, func, literal, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from leadctl import history, scoring
from leadctl.models import Lead
from leadctl.reports.common import Period, cohort
from leadctl.scoring import batch


def owner(period: Period) -> tuple[Any, Any]:
    """The owner column to group by, and the history to outer-join for it (None:
    the present owner, when the period is not read as of a moment)."""
    if period.as_of_end is None:
        return col(Lead.owner), None
    was = history.first_change("owner", period.as_of_end)
    return history.value_then(was, was.c.old, col(Lead.owner)).label("owner"), was


def with_history(statement: Any, was: Any) -> Any:
    """``statement`` (which reads the lead table) joined to a field's history, if any."""
    if was is None:
        return statement
    return statement.outerjoin(was, was.c.lead_id == col(Lead.id))


def scores_select(session: Session, period: Period) -> Any:
    """SELECT ``id, score`` of the period's leads as they stood at the --as-of
    moment (see above), from the lead table (more columns, joins and
    conditions may be added to it)."""
    assert period.as_of is not None and period.as_of_end is not None
    conn = session.connection()
    rules = scoring.current_rules(conn)
    query = batch.scores_query(conn, rules, period.as_of, before=period.as_of_end)
    return query.where(*cohort(period))


def scores(session: Session, period: Period, *extra: Any) -> Any:
    """``(id, score, *extra)`` of the period's leads as they stood at the
    --as-of moment, as a subquery."""
    return scores_select(session, period).add_columns(*extra).subquery("scores_then")


def hot(session: Session, score: Any) -> ColumnElement[bool]:
    """Whether a score is in the hot band of the rules in force."""
    return batch.band_expr(scoring.current_rules(session.connection()), score) == "hot"


def next_call_passed(session: Session, period: Period) -> tuple[ColumnElement[bool], Any]:
    """Whether the lead had no call ahead at the moment (none, or its time had
    come), and the history to outer-join for it."""
    assert period.as_of is not None and period.as_of_end is not None
    was = history.first_change("next_call_at", period.as_of_end)
    if session.get_bind().dialect.name == "sqlite":
        # stored times and ISO text, compared as 'YYYY-MM-DD HH:MM:SS'
        def seconds(value: Any) -> Any:
            return func.replace(func.substr(type_coerce(value, String), 1, 19), "T", " ")

        moment: Any = literal(period.as_of.strftime("%Y-%m-%d %H:%M:%S"))
        call = history.value_then(was, seconds(was.c.old), seconds(col(Lead.next_call_at)))
    else:
        moment = literal(period.as_of, DateTime(timezone=True))
        then = cast(was.c.old, DateTime(timezone=True))
        call = history.value_then(was, then, col(Lead.next_call_at))
    return (call.is_(None)) | (call < moment), was
