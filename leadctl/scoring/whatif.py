"""What a rule set would do, without doing it (`score --rules FILE --dry-run`).

The new scores are the set-based rescore's own query (``batch.scores_query``)
read instead of written: one statement computes every lead's new score once
and counts, with window sums over all of them, what a real run would change
(``changed``: leads whose score or band differ, exactly the rows the real
``UPDATE`` writes), the bands and stages after (live leads, as `list` shows
them) and the stage changes ``stages.recompute`` would record, and returns the
top movers by |new − old| (ties: lowest id first). Only those few leads are
then explained rule by rule under the rules in force and the new ones, to say
which lines moved them. Nothing is written to the database: the text lookups
of the scoring query live in a TEMPORARY table, which is the connection's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, true
from sqlalchemy.engine import Connection
from sqlmodel import Session

from leadctl import stages
from leadctl.models import LEAD, Lead
from leadctl.scoring.batch import band_expr, scores_query
from leadctl.scoring.evaluate import Explanation, explain
from leadctl.scoring.rules import RuleSet

BANDS = ("hot", "warm", "cold")
MOVERS = 10  # top movers shown unless --limit says otherwise
MAX_MOVERS = 10_000


@dataclass
class Mover:
    """A lead whose score would move: stored score, new score, and the rule
    lines whose points differ (``rule``, points under the rules in force and
    under the new ones; None where the line does not fire)."""

    id: int
    name: str
    old: int
    new: int
    old_band: str
    band: str
    rules: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "old": self.old,
            "new": self.new,
            "old_band": self.old_band,
            "band": self.band,
            "rules": self.rules,
        }


@dataclass
class WhatIf:
    """What the real run would change: ``rescored`` leads looked at, ``changed``
    (score or band), bands and stages before and after (live leads), stage
    changes, and the top movers."""

    rescored: int = 0
    changed: int = 0
    bands: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))
    bands_before: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))
    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(stages.STAGES, 0))
    stages_before: dict[str, int] = field(default_factory=lambda: dict.fromkeys(stages.STAGES, 0))
    stage_changes: int = 0
    movers: list[Mover] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "rescored": self.rescored,
            "changed": self.changed,
            "bands": dict(self.bands),
            "bands_before": dict(self.bands_before),
            "stages": dict(self.stages),
            "stages_before": dict(self.stages_before),
            "stage_changes": self.stage_changes,
            "movers": [mover.to_dict() for mover in self.movers],
        }


def preview(
    session: Session,
    old_rules: RuleSet,
    new_rules: RuleSet,
    now: datetime,
    *,
    limit: int = MOVERS,
    scope: tuple[Any, ...] = (),
) -> WhatIf:
    """What rescoring every lead (or those ``scope`` clauses keep) by
    ``new_rules`` at ``now`` would change; writes nothing."""
    conn = session.connection()
    result = _count(conn, new_rules, now, limit, scope)
    for mover in result.movers:
        lead = session.get(Lead, mover.id)
        assert lead is not None
        mover.name = lead.name
        mover.rules = _moved_lines(
            _explained(session, lead, old_rules, now), _explained(session, lead, new_rules, now)
        )
    return result


def _count(
    conn: Connection, rules: RuleSet, now: datetime, limit: int, scope: tuple[Any, ...]
) -> WhatIf:
    """The one statement: new scores, window totals, the top movers."""
    live_case = case((LEAD.c.merged_into.is_(None), 1), else_=0)
    scored = (
        scores_query(conn, rules, now)
        .add_columns(
            LEAD.c.score.label("old"),
            LEAD.c.band.label("old_band"),
            LEAD.c.stage.label("old_stage"),
            LEAD.c.status.label("status"),
            live_case.label("live"),
        )
        .where(*scope)
        .subquery("whatif")
    )
    new = scored.c.score
    whatif = select(
        scored.c.id,
        scored.c.old,
        new.label("new"),
        scored.c.old_band,
        band_expr(rules, new).label("band"),
        scored.c.old_stage,
        stages.thresholds(conn).expression(new, scored.c.status).label("stage"),
        scored.c.live,
    ).cte("whatif")
    if conn.dialect.name in ("sqlite", "postgresql"):
        whatif = whatif.prefix_with("MATERIALIZED")  # computed once, read twice
    w = whatif.c
    live = w.live == 1

    def total(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    counts = select(
        func.count().label("rescored"),
        total(or_(w.old != w.new, w.old_band != w.band)).label("changed"),
        total(and_(live, w.stage != w.old_stage)).label("stage_changes"),
        *(total(and_(live, w.band == literal(b))).label(f"after_{b}") for b in BANDS),
        *(total(and_(live, w.old_band == literal(b))).label(f"before_{b}") for b in BANDS),
        *(total(and_(live, w.stage == literal(s))).label(f"stage_{s}") for s in stages.STAGES),
        *(total(and_(live, w.old_stage == literal(s))).label(f"was_{s}") for s in stages.STAGES),
    ).subquery("counts")
    order = (w.live.desc(), func.abs(w.new - w.old).desc(), w.id)
    top = (
        select(w.id, w.old, w.new, w.old_band, w.band, live.label("is_live"))
        .order_by(*order)
        .limit(max(limit, 1))
        .subquery("top")
    )
    # one statement: the counts (one row) beside the top movers
    statement = (
        select(counts, top)
        .select_from(counts.outerjoin(top, true()))
        .order_by(top.c.is_live.desc(), func.abs(top.c.new - top.c.old).desc(), top.c.id)
    )
    rows = conn.execute(statement).mappings().all()
    first = rows[0]
    if not first["rescored"]:
        return WhatIf()
    return WhatIf(
        rescored=int(first["rescored"]),
        changed=int(first["changed"] or 0),
        stage_changes=int(first["stage_changes"] or 0),
        bands={b: int(first[f"after_{b}"] or 0) for b in BANDS},
        bands_before={b: int(first[f"before_{b}"] or 0) for b in BANDS},
        stages={s: int(first[f"stage_{s}"] or 0) for s in stages.STAGES},
        stages_before={s: int(first[f"was_{s}"] or 0) for s in stages.STAGES},
        movers=[
            Mover(row["id"], "", row["old"], row["new"], row["old_band"], row["band"])
            for row in rows[:limit]
            if row["id"] is not None and row["is_live"] and row["new"] != row["old"]
        ],
    )


def _explained(session: Session, lead: Lead, rules: RuleSet, now: datetime) -> Explanation:
    from leadctl.scoring import engagements

    found = engagements(session, lead.id or 0, [e.kind for e in rules.behavioral.kinds])
    return explain(
        rules,
        lambda name: getattr(lead, name),
        found,
        adjustment=lead.score_adjustment or 0,
        now=now,
        lead_id=lead.id,
    )


def _moved_lines(old: Explanation, new: Explanation) -> list[dict[str, Any]]:
    """The lines whose points differ, in the order the new explanation gives them
    (then lines only the old one had)."""
    before = _points(old)
    after = _points(new)
    labels = list(after) + [label for label in before if label not in after]
    return [
        {"rule": label, "old": before.get(label), "new": after.get(label)}
        for label in labels
        if before.get(label) != after.get(label)
    ]


def _points(explanation: Explanation) -> dict[str, int]:
    points: dict[str, int] = {}
    for line in explanation.lines:
        points[line.label] = points.get(line.label, 0) + line.points
    if explanation.adjustment:
        points["adjustment"] = explanation.adjustment
    return points
