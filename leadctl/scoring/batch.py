"""Set-based recompute: rules become CASE expressions, behaviour one aggregate
over the activity table, and one UPDATE … FROM writes the leads whose score
or band changed.

Text tests (``words``, ``in``) are decided once per *distinct* value of a
field, by the very function the per-lead path uses, and handed to SQL as a
small lookup table of bit masks: a title shared by 5,000 leads is matched
once, and both paths agree on case folding and word boundaries by
construction. Everything else mirrors ``evaluate`` step for step (first match
per group, cap and floor per component, hot-eligible lift, adjustment,
clamp); tests hold the two paths together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from leadctl.models import ACTIVITY, BIG, LEAD
from leadctl.scoring.evaluate import SCORE_MAX, SCORE_MIN, epoch_seconds, holds, today_utc
from leadctl.scoring.rules import TEXT_FIELDS, Behavioral, Component, Condition, Rule, RuleSet

MASK_BITS = 62  # text tests per lookup key (bits of a signed 64-bit integer, with room)
NO_LIMIT = 1_000_000  # the per-kind limit of a kind without ``max``
TEXT_MATCH = Table(
    "leadctl_score_text",
    MetaData(),
    Column("key", String, primary_key=True),
    Column("value", String, primary_key=True),
    Column("mask", BIG, nullable=False),
    prefixes=["TEMPORARY"],
)
CHOSEN = Table(  # the leads to rescore, when not all
    "leadctl_score_ids",
    MetaData(),
    Column("id", BIG, primary_key=True),
    prefixes=["TEMPORARY"],
)


@dataclass
class Rescored:
    """How many leads were recomputed, how many of them changed score or band,
    and how many changed lifecycle stage (``leadctl.stages``)."""

    rescored: int
    changed: int
    stage_changes: int = 0


def rescore(
    conn: Connection,
    rules: RuleSet,
    now: datetime,
    lead_ids: Sequence[int] | None,
    *,
    above: int | None = None,
) -> Rescored:
    """Recompute and store scores and bands; only changed rows are written.

    Given ids go through a temporary table, so any number of them is one pass
    (an import's batch or 100,000 at once) with no bound-parameter limit;
    ``above`` (instead of ids) takes the leads with a higher id (a bulk load's).
    """
    from leadctl import stages

    if above is not None:
        chosen = select(LEAD.c.id).where(LEAD.c.id > above)
        found = conn.execute(select(func.count()).select_from(chosen.subquery())).scalar_one()
        changed = _update(conn, rules, now, chosen)
        return Rescored(found, changed, stages.recompute(conn, chosen, now=now))
    if lead_ids is None:
        total = conn.execute(select(func.count()).select_from(LEAD)).scalar_one()
        changed = _update(conn, rules, now, None)
        return Rescored(total, changed, stages.recompute(conn, None, now=now))
    unique = sorted(set(lead_ids))
    if not unique:
        return Rescored(0, 0)
    CHOSEN.create(conn, checkfirst=True)
    conn.execute(delete(CHOSEN))
    if conn.dialect.name == "postgresql":  # one array, not a statement per id
        given = bindparam("ids", unique, type_=ARRAY(BigInteger()))
        conn.execute(insert(CHOSEN).from_select(["id"], select(func.unnest(given))))
    else:
        conn.execute(insert(CHOSEN), [{"id": lead_id} for lead_id in unique])
    chosen = select(CHOSEN.c.id)
    found = conn.execute(select(func.count()).where(LEAD.c.id.in_(chosen))).scalar_one()
    changed = _update(conn, rules, now, chosen)
    return Rescored(found, changed, stages.recompute(conn, chosen, now=now))


def _update(conn: Connection, rules: RuleSet, now: datetime, ids: Any) -> int:
    sql = _Sql(conn, rules, now, ids)
    scores = sql.scores().cte("scores")
    if sql.dialect in ("sqlite", "postgresql"):
        scores = scores.prefix_with("MATERIALIZED")  # computed once, read three times
    band = band_expr(rules, scores.c.score)
    statement = (
        update(LEAD)
        .values(score=scores.c.score, band=band)
        .where(LEAD.c.id == scores.c.id)
        .where(or_(LEAD.c.score != scores.c.score, LEAD.c.band != band))
    )
    result = conn.execute(statement)
    if sql.dialect == "sqlite":  # pysqlite reports no rowcount for a statement starting WITH
        return int(conn.execute(select(func.changes())).scalar_one())
    return int(result.rowcount)


def staged(conn: Connection, rules: RuleSet, now: datetime, table: Table) -> list[Any]:
    """``(id, score, band)`` of each row of ``table`` (the lead table's columns:
    leads about to be stored, an import's batch on PostgreSQL), as
    :func:`rescore` would give them once stored: it reads the same columns,
    and the activities of ids not stored yet are none."""
    scores = _Sql(conn, rules, now, select(table.c.id), table=table).scores().subquery()
    band = band_expr(rules, scores.c.score)
    return list(conn.execute(select(scores.c.id, scores.c.score, band)))


def band_expr(rules: RuleSet, score: Any) -> ColumnElement[str]:
    return case((score >= rules.hot, "hot"), (score >= rules.warm, "warm"), else_="cold")


def scores_query(
    conn: Connection,
    rules: RuleSet,
    now: datetime,
    ids: Any = None,
    *,
    before: datetime | None = None,
) -> Any:
    """SELECT id, score of the leads (all, or ``ids``) as the rules give them at ``now``.

    ``before``: as they stood at a moment gone (``report … --as-of``; ``now``
    is that moment, ``before`` just after it): only the activities logged
    before it count, and the manual adjustment is the one the lead had then
    (``leadctl.history``); the other fields are read as they are now."""
    return _Sql(conn, rules, now, ids, before=before).scores()


class _Sql:
    """The expressions of one rule set, for one dialect, moment and set of leads."""

    def __init__(
        self,
        conn: Connection,
        rules: RuleSet,
        now: datetime,
        ids: Any,
        *,
        before: datetime | None = None,
        table: Table = LEAD,
    ) -> None:
        self.conn = conn
        self.before = before
        self.dialect = conn.dialect.name
        self.rules = rules
        self.ids = ids  # None (all leads) or a SELECT of lead ids
        self.today = today_utc(now)
        self.now_seconds = epoch_seconds(now)
        self.table = table  # the leads' columns: lead, or leads about to be stored (staged)
        self.source: Any = table
        self.text_bits: dict[Condition, tuple[Any, int]] = {}

    def scores(self) -> Any:
        rules = self.rules
        self._prepare_text_tests()
        earned: ColumnElement[Any] = literal(0)
        behaviour = self.behavioral(rules.behavioral)
        if behaviour is not None:
            self.source = self.source.outerjoin(behaviour, behaviour.c.lead_id == self.table.c.id)
            earned = self.clamp(func.coalesce(behaviour.c.points, 0), 0, rules.behavioral.cap)
        base = self.component(rules.demographic) + earned + self.component(rules.firmographic)
        if rules.hot_eligible:
            # components are never negative, so the lift is max(base, hot or 0): base once
            eligible = or_(*(self.rule(rule) for rule in rules.hot_eligible))
            base = self.greatest(base, case((eligible, rules.hot), else_=0))
        adjustment: Any = self.table.c.score_adjustment
        if self.before is not None:
            from leadctl import history

            was = history.first_change("score_adjustment", self.before)
            self.source = self.source.outerjoin(was, was.c.lead_id == self.table.c.id)
            then = func.coalesce(cast(was.c.old, Integer), 0)
            adjustment = history.value_then(was, then, self.table.c.score_adjustment)
        total = self.clamp(base + adjustment, SCORE_MIN, SCORE_MAX)
        query = select(self.table.c.id, total.label("score")).select_from(self.source)
        if self.ids is not None:
            query = query.where(self.table.c.id.in_(self.ids))
        return query

    # SQLite's two-argument min/max are scalar; elsewhere they are aggregates.
    def least(self, *args: Any) -> ColumnElement[Any]:
        return func.min(*args) if self.dialect == "sqlite" else func.least(*args)

    def greatest(self, *args: Any) -> ColumnElement[Any]:
        return func.max(*args) if self.dialect == "sqlite" else func.greatest(*args)

    def clamp(self, value: Any, low: int, high: int) -> ColumnElement[Any]:
        return self.greatest(literal(low), self.least(literal(high), value))

    def _text_conditions(self) -> Iterator[Condition]:
        rules = (*self.rules.demographic.rules, *self.rules.firmographic.rules)
        for rule in (*rules, *self.rules.hot_eligible):
            for condition in rule.conditions:
                if condition.op in ("words", "in"):
                    yield condition

    def _prepare_text_tests(self) -> None:
        """Match each distinct field value in Python; join the masks in as lookups."""
        by_field: dict[str, list[Condition]] = {}
        for condition in self._text_conditions():
            tests = by_field.setdefault(condition.field, [])
            if condition not in tests:
                tests.append(condition)
        if not by_field:
            return
        TEXT_MATCH.create(self.conn, checkfirst=True)
        self.conn.execute(delete(TEXT_MATCH))
        today = self.today
        for field, tests in by_field.items():
            column = self.table.c[field]
            values = select(column).distinct().where(column.is_not(None))
            if self.ids is not None:
                values = values.where(self.table.c.id.in_(self.ids))
            distinct = list(self.conn.execute(values).scalars())
            for block in range(0, len(tests), MASK_BITS):
                key = f"{field}:{block}"
                chunk = tests[block : block + MASK_BITS]
                rows = []
                for value in distinct:
                    mask = sum(1 << i for i, test in enumerate(chunk) if holds(test, value, today))
                    if mask:
                        rows.append({"key": key, "value": value, "mask": mask})
                if rows:
                    self.conn.execute(insert(TEXT_MATCH), rows)
                lookup = TEXT_MATCH.alias(f"text_{field}_{block // MASK_BITS}")
                self.source = self.source.outerjoin(
                    lookup, and_(lookup.c.key == key, lookup.c.value == column)
                )
                for i, test in enumerate(chunk):
                    self.text_bits[test] = (lookup.c.mask, 1 << i)

    def condition(self, condition: Condition) -> ColumnElement[bool]:
        column = self.table.c[condition.field]
        op, operand = condition.op, condition.value
        if op in ("words", "in"):
            mask, bit = self.text_bits[condition]
            return mask.op("&")(bit) != 0
        if op == "present":
            is_set: ColumnElement[bool] = column.is_not(None)
            if condition.field in TEXT_FIELDS:
                is_set = and_(is_set, column != "")
            return is_set if operand else not_(is_set)
        if op == "is":
            return column == (true() if operand else false())
        if op == "range":
            low, high = operand
            parts = [column.is_not(None)]
            if low is not None:
                parts.append(column >= low)
            if high is not None:
                parts.append(column < high)
            return and_(*parts)
        if op == "within_days":
            until = self.today + timedelta(days=operand)
            return and_(column >= literal(self.today, Date), column <= literal(until, Date))
        raise ValueError(f"unknown test {op!r}")

    def rule(self, rule: Rule) -> ColumnElement[bool]:
        return and_(*(self.condition(c) for c in rule.conditions))

    def component(self, component: Component) -> ColumnElement[Any]:
        """Sum of the component's rules (a group is one CASE: first match wins), capped."""
        slots: list[list[Rule]] = []
        groups: dict[str, list[Rule]] = {}
        for rule in component.rules:
            if rule.group is None:
                slots.append([rule])
            elif rule.group in groups:
                groups[rule.group].append(rule)
            else:
                groups[rule.group] = [rule]
                slots.append(groups[rule.group])
        total: ColumnElement[Any] = literal(0)
        for slot in slots:
            total = total + case(*((self.rule(r), r.points) for r in slot), else_=0)
        return self.clamp(total, 0, component.cap)

    def behavioral(self, behavioral: Behavioral) -> Any:
        """Per lead: Σ over kinds of min(max, round(Σ decayed milli-points / 1000)).

        The per-activity term is ``evaluate.decay_milli`` written in SQL:
        CAST(points * 1000.0 * pow(2.0, (0 - age) * 1.0 / half) + 0.5 AS INTEGER),
        with ages in whole seconds, so both paths do the same float operations
        (``pow`` is SQLite's own, or Python's where SQLite was built without
        math functions: storage registers it on every connection).
        """
        if not behavioral.kinds:
            return None
        kind = ACTIVITY.c.kind
        stamp = func.substr(ACTIVITY.c.created_at, 1, 19)  # whole seconds, like Python
        if self.dialect == "sqlite":
            seconds = cast(func.strftime("%s", stamp), Integer)
        else:
            seconds = cast(func.floor(func.extract("epoch", ACTIVITY.c.created_at)), Integer)
        age = self.greatest(literal(self.now_seconds) - seconds, literal(0))
        points = case({e.kind: e.points for e in behavioral.kinds}, value=kind, else_=0)
        decay = func.pow(2.0, (literal(0) - age) * 1.0 / behavioral.half_life_seconds)
        milli = cast(points * 1000.0 * decay + 0.5, Integer)
        per_kind = select(ACTIVITY.c.lead_id, kind, func.sum(milli).label("milli")).where(
            kind.in_([e.kind for e in behavioral.kinds])
        )
        if self.ids is not None:
            per_kind = per_kind.where(ACTIVITY.c.lead_id.in_(self.ids))
        if self.before is not None:
            per_kind = per_kind.where(ACTIVITY.c.created_at < self.before)
        grouped = per_kind.group_by(kind, ACTIVITY.c.lead_id).subquery("per_kind")  # index order
        earned: Any = (grouped.c.milli + 500) // 1000
        limits = {e.kind: e.max for e in behavioral.kinds if e.max is not None}
        if limits:
            earned = self.least(earned, case(limits, value=grouped.c.kind, else_=NO_LIMIT))
        # a whole number on either engine: PostgreSQL's sum of bigints is a
        # numeric, and the scores made of it came back as Decimals there
        per_lead = cast(func.sum(earned), Integer)
        return (
            select(grouped.c.lead_id, per_lead.label("points"))
            .group_by(grouped.c.lead_id)
            .subquery("behaviour")
        )
