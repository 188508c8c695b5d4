"""`report trend`: new leads per ISO week (``2026-W47``) or month (``2026-11``).

The database counts leads per local day (at today's UTC offset) and Python
folds those few hundred rows into weeks or months. Periods without leads
between the first and the last one show as 0 (per source, only periods where
the source had leads are listed).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from leadctl import clock
from leadctl.models import Lead
from leadctl.reports.common import Column, Period, Report, cohort


def run(session: Session, period: Period, *, by: str = "week", per_source: bool = False) -> Report:
    columns = [Column("period", "text"), Column("leads")]
    if per_source:
        columns.insert(1, Column("source", "text"))
    day = _local_day(session, Lead.created_at).label("day")
    keys: list[Any] = [day, Lead.source] if per_source else [day]
    found = session.execute(
        select(*keys, func.count()).where(*cohort(period)).group_by(*keys)
    ).all()
    counts: Counter[tuple[str, Any]] = Counter()
    for row in found:
        label = _label(date.fromisoformat(str(row[0])[:10]), by)
        counts[(label, row[1] if per_source else None)] += row[-1]
    if per_source:
        rows = [
            {"period": label, "source": source, "leads": n}
            for (label, source), n in sorted(
                counts.items(), key=lambda item: (item[0][0], item[0][1] is None, item[0][1] or "")
            )
        ]
    else:
        labels = _fill(sorted(label for label, _ in counts), by)
        rows = [{"period": label, "leads": counts.get((label, None), 0)} for label in labels]
    return Report("trend", columns, rows, bar="leads")


def _local_day(session: Session, column: Any) -> Any:
    """The local calendar day of a stored UTC time, at the current UTC offset."""
    offset = clock.now().astimezone().utcoffset() or timedelta(0)
    seconds = int(offset.total_seconds())
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, f"{seconds:+d} seconds")
    return func.date(column + timedelta(seconds=seconds))


def _label(day: date, by: str) -> str:
    if by == "month":
        return f"{day.year}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _fill(labels: list[str], by: str) -> list[str]:
    """Every period from the first label to the last, so gaps show as 0."""
    if not labels:
        return []
    first, last = labels[0], labels[-1]
    if by == "month":
        current = date(int(first[:4]), int(first[5:]), 1)
    else:
        current = date.fromisocalendar(int(first[:4]), int(first[6:]), 1)
    filled = []
    while True:
        label = _label(current, by)
        filled.append(label)
        if label >= last:
            return filled
        if by == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current += timedelta(days=7)
