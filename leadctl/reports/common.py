"""What the reports share: their shape, the period, the pipeline as the status
list defines it, first-reach queries over the status history, and medians.

Every figure is aggregated by the database: a report reads a handful of rows
per group, never the leads or activities themselves. Medians are the middle
one or two values of a sort the database does (``ORDER BY … LIMIT … OFFSET``),
so only they reach Python.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    Select,
    String,
    case,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from leadctl import clock, lists
from leadctl.errors import InvalidInput
from leadctl.models import Activity, Lead

JUST_AFTER = timedelta(microseconds=1)  # an --as-of moment counts what happened at it
_RELATIVE = re.compile(r"^-(\d+)\s*([dw])$")
BOUND_HELP = "a date like 2026-11-01, a time like 2026-11-01T09:00, today, yesterday or -30d"

Group = TypeVar("Group", bound=Hashable)  # what a report summarises by: a stage, an owner, …


@dataclass(frozen=True)
class Column:
    """A report column: its JSON/CSV key and the kind of value, which says how a
    table shows it: text, int, rate (a 0–1 fraction), days, hours, money, score."""

    key: str
    kind: str = "int"


@dataclass
class Report:
    name: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    bar: str | None = None  # the column a terminal draws as a bar chart
    scope: str | None = None  # whose leads, when not all of them ("your leads")

    @property
    def keys(self) -> list[str]:
        return [column.key for column in self.columns]


@dataclass(frozen=True)
class Period:
    """``since`` inclusive, ``until`` exclusive; None is open-ended (the whole history).

    ``as_of`` (``report … --as-of``): the moment the report stands at. The
    period then ends there at the latest (``until`` is just after it, so what
    happened at that very moment counts), and the leads' owners, scores and
    next calls are read as they were then (``leadctl.reports.past``), not as
    they are now.
    """

    since: datetime | None = None
    until: datetime | None = None
    # WHERE clauses on the lead table limiting a report to the leads its reader
    # may see (``users.visible_clauses``); set by ``reports.run``, empty for all.
    leads: tuple[Any, ...] = field(default=(), compare=False)
    as_of: datetime | None = None

    @property
    def as_of_end(self) -> datetime | None:
        """The bound of the history an --as-of report reads for owners and scores."""
        return None if self.as_of is None else self.as_of + JUST_AFTER

    @property
    def moment(self) -> datetime:
        """When "now" is for a period: its end (the --as-of moment itself when
        that is the end), else the clock."""
        if self.as_of is not None and (self.until is None or self.as_of < self.until):
            return self.as_of
        return self.until or clock.now()

    def within(self, column: Any) -> list[ColumnElement[bool]]:
        clauses = []
        if self.since is not None:
            clauses.append(column >= self.since)
        if self.until is not None:
            clauses.append(column < self.until)
        return clauses

    def before_end(self, column: Any) -> list[ColumnElement[bool]]:
        return [column < self.until] if self.until is not None else []


def parse_period(since: str | None, until: str | None, as_of: str | None = None) -> Period:
    """``--since``/``--until`` as people type them; an ``--until`` date includes
    that day. ``--as-of`` is a moment (a date: the end of that day; never
    later than now), and the period ends there at the latest."""
    period = Period(
        since=parse_bound(since, "--since", end=False) if since else None,
        until=parse_bound(until, "--until", end=True) if until else None,
    )
    if as_of is not None:
        moment, bound = parse_as_of(as_of)
        end = bound if period.until is None else min(period.until, bound)
        period = replace(period, until=end, as_of=moment)
        if period.since and period.since >= end:
            raise InvalidInput(f"--since {since} is not before --as-of {as_of}")
    if period.since and period.until and period.since >= period.until:
        raise InvalidInput(f"--since {since} is not before --until {until}")
    return period


def parse_as_of(text: str) -> tuple[datetime, datetime]:
    """The moment ``--as-of`` names, and the period bound just after it (one
    microsecond later, so what happened at that very moment counts).

    A date stands for the end of that day (as an ``--until`` date); a time for
    that moment; a moment still to come for now."""
    end = parse_bound(text, "--as-of", end=True)
    raw = " ".join(text.strip().lower().split())
    named_day = raw in ("today", "yesterday") or _RELATIVE.match(raw) is not None
    timed = not named_day and len(text.strip()) > 10  # as parse_bound reads it
    moment = end if timed else end - JUST_AFTER
    moment = min(moment, clock.to_utc(clock.now()))
    return moment, moment + JUST_AFTER


def parse_bound(text: str, option: str, *, end: bool) -> datetime:
    """A period bound as aware UTC: dates are local days (an end date runs to its midnight)."""
    raw = " ".join(text.strip().lower().split())
    today = clock.now().astimezone().date()
    relative = _RELATIVE.match(raw)
    if raw in ("today", "yesterday"):
        day = today - timedelta(days=1 if raw == "yesterday" else 0)
    elif relative:
        amount = int(relative.group(1)) * (7 if relative.group(2) == "w" else 1)
        try:
            day = today - timedelta(days=amount)
        except OverflowError:
            day = date.min  # refused just below, with the allowed years
    else:
        parsed = clock.parse_iso(text, option, BOUND_HELP)
        if len(text.strip()) > 10:  # a time was given: taken as it is
            return clock.to_utc(parsed)
        day = parsed.date()
    clock.check_year(day, option, text)
    if end:
        day += timedelta(days=1)
    return clock.to_utc(datetime.combine(day, time(0)))


@dataclass(frozen=True)
class Statuses:
    """The status list read as a pipeline.

    ``stages`` are the open statuses and the won one, in list order: the funnel.
    ``working`` are the statuses a lead is still being worked in (open and side,
    e.g. nurture); the others are final or won.
    """

    stages: list[str]
    working: list[str]
    won: list[str]

    def from_stage(self, name: str) -> list[str]:
        """The stage and every later one: a lead in any of them has reached it."""
        return self.stages[self.stages.index(name) :]

    def named(self, name: str, fallback: int) -> str | None:
        """The stage SPEC names (``contacted``, ``qualified``), else the one at ``fallback``."""
        if name in self.stages:
            return name
        open_stages = [s for s in self.stages if s not in self.won]
        try:
            return open_stages[fallback]
        except IndexError:
            return None


def statuses(session: Session) -> Statuses:
    entries = lists.entries(session, "status")
    return Statuses(
        stages=[e.name for e in entries if e.role in ("open", "won")],
        working=[e.name for e in entries if e.role in ("open", "side")],
        won=[e.name for e in entries if e.role == "won"],
    )


def cohort(period: Period) -> list[ColumnElement[bool]]:
    """The leads a period is about: created in it, archived duplicates left out.

    ``merged_into`` is tested through ``coalesce`` on purpose: as ``IS NULL`` it
    tempts SQLite into its one-column index (nearly every lead matches) instead of
    the covering ``ix_lead_report_*`` indexes the per-owner and per-source
    aggregates scan.
    """
    return [
        func.coalesce(Lead.merged_into, 0) == 0,
        *period.within(Lead.created_at),
        *period.leads,
    ]


def status_rows() -> ColumnElement[bool]:
    """``field = 'status'`` written out, not bound: SQLite uses a partial index only
    when the query repeats its condition literally."""
    return col(Activity.field) == literal_column("'status'")


def first_reach(names: list[str], period: Period) -> Any:
    """Per lead, when it first had one of ``names`` (a stage or a later one), by the period's end.

    Reads the ``created`` and ``status`` activities (``field='status'``) through
    the ``ix_activity_status_reach`` index alone.
    """
    return (
        select(col(Activity.lead_id).label("lead_id"), func.min(Activity.created_at).label("at"))
        .where(
            status_rows(),
            col(Activity.new_value).in_(names),
            *period.before_end(Activity.created_at),
        )
        .group_by(col(Activity.lead_id))
        .subquery()
    )


def status_as_of(session: Session, moment: datetime) -> Any:
    """Per lead, its status at ``moment`` and since when: its latest status activity before.

    Read from the history alone, so a past period sees the pipeline as it was
    then. On SQLite, one pass over ``ix_activity_status_latest`` takes per lead
    the ``max()`` of ``created_at|id|new_value`` as text (the id as 13 digits, so
    the text sorts as time then id) and cuts the time and status out of it; other
    databases rank each lead's rows with a window.
    """
    before = [status_rows(), col(Activity.created_at) < moment]
    if session.get_bind().dialect.name == "sqlite":
        as_text = type_coerce(Activity.created_at, String)
        number = (col(Activity.id) + 10**12).self_group()
        key = func.max(as_text.concat("|").concat(number).concat("|").concat(Activity.new_value))
        latest = (
            select(col(Activity.lead_id).label("lead_id"), key.label("k"))
            .where(*before)
            .group_by(col(Activity.lead_id))
            .subquery()
        )
        cut = func.instr(latest.c.k, "|")
        return select(
            latest.c.lead_id,
            func.substr(latest.c.k, cut + 15).label("status"),
            func.substr(latest.c.k, 1, cut - 1).label("at"),
        ).subquery()
    ranked = (
        select(
            col(Activity.lead_id).label("lead_id"),
            col(Activity.new_value).label("status"),
            col(Activity.created_at).label("at"),
            func.row_number()
            .over(
                partition_by=col(Activity.lead_id),
                order_by=(col(Activity.created_at).desc(), col(Activity.id).desc()),
            )
            .label("rn"),
        )
        .where(*before)
        .subquery()
    )
    return select(ranked.c.lead_id, ranked.c.status, ranked.c.at).where(ranked.c.rn == 1).subquery()


def at_end(session: Session, period: Period) -> Any:
    """``(lead_id, status, at)`` of the period's leads as they stood at its end (``--until``).

    Only leads with a status history before the end appear, which are the
    period's leads: every lead has its ``created`` row at its creation, and a merge
    moves an archived duplicate's rows to the lead it kept. So the lead table is
    joined only when ``--since`` needs the creation times, or the reader may see
    only some leads.
    """
    assert period.until is not None
    latest = status_as_of(session, period.until)
    statement = select(latest.c.lead_id, latest.c.status, latest.c.at)
    if period.since is not None or period.leads:
        statement = statement.join(Lead, Lead.id == latest.c.lead_id).where(*cohort(period))
    return statement.subquery()


def days_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float | Decimal]:
    """``later - earlier`` in days, as the database computes it (PostgreSQL: a numeric)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


def count(session: Session, statement: Select[Any]) -> int:
    return int(session.execute(select(func.count()).select_from(statement.subquery())).scalar_one())


@dataclass(frozen=True)
class Summary:
    """What a report needs of a group's values: how many, their median and maximum,
    and how many exceed a threshold."""

    n: int = 0
    median: float | None = None
    max: float | None = None
    over: int = 0


def summarize(
    session: Session,
    parts: Mapping[Group, Select[Any]],
    *,
    over: float | Mapping[Group, float | None] | None = None,
) -> dict[Group, Summary]:
    """Summaries of several one-column selects (one per group), in one statement.

    Each select is materialised once and counted; its median is the middle one
    or two values of a sort the database does (``ORDER BY … LIMIT … OFFSET``), so
    only one row per group reaches Python. Null values are left out. Giving each
    group its own select lets the database read just that group's index range.
    ``over`` is one threshold, or one per group (None: nothing counts as over).
    """
    if not parts:
        return {}
    rows = []
    for index, (key, values) in enumerate(parts.items()):
        data = values.cte(f"report_values_{index}").prefix_with("MATERIALIZED")
        value = data.c[0]
        limit = over.get(key) if isinstance(over, Mapping) else over
        above = func.sum(case((value > limit, 1), else_=0)) if limit is not None else literal(0)
        stats = (
            select(func.count(value).label("n"), func.max(value).label("top"), above.label("over"))
            .cte(f"report_stats_{index}")
            .prefix_with("MATERIALIZED")
        )
        n = select(stats.c.n).scalar_subquery()
        middle = (
            select(value.label("v"))
            .where(value.is_not(None))
            .order_by(value)
            .limit(2 - n % 2)
            .offset((n - 1) // 2)
            .subquery()
        )
        rows.append(
            select(
                literal(index).label("i"),
                n.label("n"),
                select(func.avg(middle.c.v)).scalar_subquery().label("median"),
                select(stats.c.top).scalar_subquery().label("top"),
                select(stats.c.over).scalar_subquery().label("over"),
            )
        )
    keys = list(parts)
    found: dict[Group, Summary] = {key: Summary() for key in keys}
    statement = rows[0] if len(rows) == 1 else union_all(*rows)
    for index, n, mid, top, above in session.execute(statement):
        if n:
            found[keys[index]] = Summary(int(n), float(mid), float(top), int(above or 0))
    return found


def rate(part: int, whole: int) -> float | None:
    """A fraction 0–1, rounded for stable output; None when there is no whole."""
    return round(part / whole, 4) if whole else None


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)
