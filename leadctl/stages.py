"""The lifecycle stage: ``lead``, ``mql`` (marketing qualified) or ``sql``
(sales qualified), set from the score by two thresholds (the ``mql_score`` and
``sql_score`` settings), and, when ``sql_requires_qualified`` is on, SQL only
for a lead whose status is ``qualified`` or a later one in the pipeline.

Stored on the lead (``lead.stage``, m005_automation) so that lists filter and
sort by it, and recomputed with the score (:func:`recompute`, set-based; a
single rescored lead through :func:`stage_of`). Each change is an activity
(kind ``stage``, field ``stage``, old → new): reports read reached stages and
past stages from the history. Those rows belong to no command: a stage is
derived, so ``undo`` never reverts one (it rescores, which derives it again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import ColumnElement

from leadctl import activities, clock, settings
from leadctl.fields import STAGES
from leadctl.models import ACTIVITY, CHOICE, LEAD

__all__ = ["STAGES", "Thresholds", "recompute", "thresholds"]
KIND = "stage"  # the activity kind of a stage change
ACTOR = "leadctl"  # who a derived change is recorded as: the rules, not a person
FEW = 500  # changes written by id after the one pass that found them (see recompute)


@dataclass(frozen=True)
class Thresholds:
    """The settings a stage is derived from, read once per command."""

    mql: int
    sql: int
    # when SQL needs the status ``qualified`` or later: those statuses; else None
    sql_statuses: frozenset[str] | None

    def stage_of(self, score: int | None, status: str | None) -> str:
        """A lead's stage from its score and status (the one rule; the SQL
        form :meth:`expression` is held equal to it by the tests)."""
        points = score or 0
        if points >= self.sql and (self.sql_statuses is None or status in self.sql_statuses):
            return "sql"
        if points >= self.mql:
            return "mql"
        return "lead"

    def expression(self, score: Any, status: Any) -> ColumnElement[str]:
        """:meth:`stage_of` as a SQL ``CASE`` over the given columns."""
        sql_when: ColumnElement[bool] = score >= self.sql
        if self.sql_statuses is not None:
            sql_when = and_(sql_when, status.in_(sorted(self.sql_statuses)))
        return case((sql_when, literal("sql")), (score >= self.mql, literal("mql")), else_="lead")


def thresholds(target: OrmSession | Connection) -> Thresholds:
    """The stage settings in force."""
    mql = int(settings.get(target, "mql_score"))
    sql = int(settings.get(target, "sql_score"))
    if settings.get(target, "sql_requires_qualified") != "yes":
        return Thresholds(mql, sql, None)
    return Thresholds(mql, sql, frozenset(qualified_or_later(target)))


def qualified_or_later(target: OrmSession | Connection) -> list[str]:
    """Statuses at or after ``qualified`` in the pipeline: its own position
    onward among open statuses, plus the won one (converted)."""
    conn = target if isinstance(target, Connection) else target.connection()
    rows = conn.execute(
        select(CHOICE.c.name, CHOICE.c.position, CHOICE.c.role).where(CHOICE.c.list == "status")
    ).all()
    start = next((position for name, position, _ in rows if name == "qualified"), None)
    return [
        name
        for name, position, role in rows
        if role == "won" or (start is not None and role in (None, "open") and position >= start)
    ]


def recompute(
    target: OrmSession | Connection,
    lead_ids: Sequence[int] | Any | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Set the stage of ``lead_ids`` (every live lead when None; a SELECT of
    ids for many, as the set-based rescore passes) from their stored scores;
    returns how many changed.

    One pass finds the changes, up to :data:`FEW` of them (usually none or a
    handful: a cron sweep, one rescored lead), which are then written by id;
    when there are more (new thresholds, new rules), two set-based statements
    write the history rows and the changes, whatever their number."""
    conn = target if isinstance(target, Connection) else target.connection()
    if isinstance(target, OrmSession):
        target.flush()
    wanted = thresholds(conn).expression(LEAD.c.score, LEAD.c.status)
    where = [LEAD.c.merged_into.is_(None), LEAD.c.stage != wanted]
    if lead_ids is not None:
        where.append(LEAD.c.id.in_(list(lead_ids) if isinstance(lead_ids, Sequence) else lead_ids))
    at = clock.to_utc(now or clock.now())
    found = conn.execute(select(LEAD.c.id, LEAD.c.stage, wanted).where(*where).limit(FEW + 1)).all()
    if len(found) <= FEW:
        rows = [
            activities.row(lead_id, KIND, ACTOR, field=KIND, old=old, new=new, at=at)
            for lead_id, old, new in found
        ]
        activities.record_many(conn, rows, command=False)
        for stage in STAGES:
            ids = [lead_id for lead_id, _, new in found if new == stage]
            if ids:
                conn.execute(update(LEAD).where(LEAD.c.id.in_(ids)).values(stage=stage))
        return len(found)
    changes = select(
        LEAD.c.id,
        literal(KIND),
        literal(KIND),
        LEAD.c.stage,
        wanted,
        literal(ACTOR),
        literal(at, ACTIVITY.c.created_at.type),
    ).where(*where)
    columns = ("lead_id", "kind", "field", "old_value", "new_value", "actor", "created_at")
    activities.record_select(conn, columns, changes)
    done = conn.execute(update(LEAD).where(*where).values(stage=wanted))
    if conn.dialect.name == "sqlite":
        return int(conn.execute(select(func.changes())).scalar_one())
    return int(done.rowcount)


def record_change(conn: Connection, lead_id: int, old: str, new: str) -> None:
    """The history row of one lead's stage change (no command: see above)."""
    made = activities.row(lead_id, KIND, ACTOR, field=KIND, old=old, new=new)
    activities.record_many(conn, [made], command=False)
