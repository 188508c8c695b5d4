"""Scoring one lead in Python, line by line, so the score can be explained.

This is the reference the set-based recompute (``batch``) must equal: the same
tests, the same group and cap order, and decay computed from the same whole
seconds with the same float operations, so both give identical integers.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from leadctl.scoring.rules import (
    Behavioral,
    Component,
    Condition,
    Rule,
    RuleSet,
    fold,
)

SCORE_MIN, SCORE_MAX = 0, 100


@dataclass(frozen=True)
class Line:
    """One step of a score: a rule that fired, a cap, a lift or a clamp."""

    component: str  # demographic, behavioral, firmographic, hot-eligible or total
    rule: str
    points: int

    @property
    def label(self) -> str:
        return f"{self.component}: {self.rule}"


@dataclass
class Explanation:
    """A score and every step that made it; ``sum(lines) + adjustment == score``."""

    lead_id: int | None
    score: int
    band: str
    components: dict[str, int]
    adjustment: int
    lines: list[Line] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The `score --explain` JSON shape of SPEC."""
        return {
            "id": self.lead_id,
            "score": self.score,
            "band": self.band,
            "components": dict(self.components),
            "adjustment": self.adjustment,
            "rules": [{"rule": line.label, "points": line.points} for line in self.lines],
        }


def epoch_seconds(moment: datetime) -> int:
    """Whole UTC seconds (fraction dropped); naive datetimes are stored UTC."""
    return calendar.timegm(moment.utctimetuple())


def decay_milli(points: int, age_seconds: int, half_life_seconds: int) -> int:
    """Thousandths of a point one activity is worth at this age (never more when newer).

    Written to match the SQL in ``batch`` operation for operation:
    CAST(points * 1000.0 * pow(2.0, -age / half) + 0.5 AS INTEGER).
    """
    age = max(age_seconds, 0)
    return int(points * 1000.0 * 2.0 ** ((0 - age) * 1.0 / half_life_seconds) + 0.5)


@lru_cache(maxsize=512)
def word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the words or phrases, whole: not inside a longer word ("cto" ≠ "director")."""
    alternatives = "|".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def holds(condition: Condition, value: Any, today: date) -> bool:
    """Whether one condition holds for a field value (None never matches a test)."""
    op, operand = condition.op, condition.value
    if op == "present":
        is_set = value is not None and value != ""
        return is_set is operand
    if value is None:
        return False
    if op == "words":
        return isinstance(value, str) and word_pattern(operand).search(fold(value)) is not None
    if op == "in":
        return isinstance(value, str) and fold(value) in operand
    if op == "is":
        return bool(value) is operand
    if op == "range":
        low, high = operand
        return (low is None or value >= low) and (high is None or value < high)
    if op == "within_days":
        moment = value if isinstance(value, date) else date.fromisoformat(str(value))
        return today <= moment <= today + timedelta(days=operand)
    raise ValueError(f"unknown test {op!r}")


def fires(rule: Rule, facts: Callable[[str], Any], today: date) -> bool:
    return all(holds(c, facts(c.field), today) for c in rule.conditions)


def _bounded(name: str, lines: list[Line], cap: int) -> int:
    """Add a cap or floor line when the component's sum leaves 0..cap."""
    total = sum(line.points for line in lines)
    if total > cap:
        lines.append(Line(name, f"cap at {cap}", cap - total))
        return cap
    if total < 0:
        lines.append(Line(name, "floor at 0", -total))
        return 0
    return total


def component_lines(
    component: Component, facts: Callable[[str], Any], today: date
) -> tuple[int, list[Line]]:
    """Rules that fired (first per group), then the cap or floor."""
    lines: list[Line] = []
    groups_done: set[str] = set()
    for rule in component.rules:
        if rule.group is not None and rule.group in groups_done:
            continue
        if fires(rule, facts, today):
            lines.append(Line(component.name, rule.name, rule.points))
            if rule.group is not None:
                groups_done.add(rule.group)
    return _bounded(component.name, lines, component.cap), lines


def behavioral_lines(
    behavioral: Behavioral, engagements: Iterable[tuple[str, datetime]], now_seconds: int
) -> tuple[int, list[Line]]:
    """One line per logged kind: its decayed points, within the kind's max; then the cap."""
    half = behavioral.half_life_seconds
    points = {e.kind: e for e in behavioral.kinds}
    milli: dict[str, int] = {}
    counts: dict[str, int] = {}
    for kind, when in engagements:
        if kind in points:
            age = now_seconds - epoch_seconds(when)
            milli[kind] = milli.get(kind, 0) + decay_milli(points[kind].points, age, half)
            counts[kind] = counts.get(kind, 0) + 1
    lines = []
    for rule in behavioral.kinds:
        if rule.kind not in counts:
            continue
        earned = (milli[rule.kind] + 500) // 1000
        label = f"{rule.kind} ×{counts[rule.kind]}"
        if rule.max is not None and earned > rule.max:
            earned, label = rule.max, f"{label} (max {rule.max})"
        lines.append(Line("behavioral", label, earned))
    return _bounded("behavioral", lines, behavioral.cap), lines


def explain(
    rules: RuleSet,
    facts: Callable[[str], Any],
    engagements: Iterable[tuple[str, datetime]],
    *,
    adjustment: int,
    now: datetime,
    lead_id: int | None = None,
) -> Explanation:
    """Score a lead from its fields (``facts(name)``) and logged (kind, time) pairs."""
    today = today_utc(now)
    demographic, lines = component_lines(rules.demographic, facts, today)
    behavioral, more = behavioral_lines(rules.behavioral, engagements, epoch_seconds(now))
    lines += more
    firmographic, more = component_lines(rules.firmographic, facts, today)
    lines += more
    total = demographic + behavioral + firmographic
    eligible = next((rule for rule in rules.hot_eligible if fires(rule, facts, today)), None)
    if eligible is not None:
        lift = max(rules.hot - total, 0)
        note = f"lifted to {rules.hot}" if lift else "already hot"
        lines.append(Line("hot-eligible", f"{eligible.name} ({note})", lift))
        total += lift
    total += adjustment
    if total > SCORE_MAX or total < SCORE_MIN:
        bound = SCORE_MAX if total > SCORE_MAX else SCORE_MIN
        lines.append(Line("total", f"clamped to {bound}", bound - total))
        total = bound
    return Explanation(
        lead_id=lead_id,
        score=total,
        band=rules.band(total),
        components={
            "demographic": demographic,
            "behavioral": behavioral,
            "firmographic": firmographic,
        },
        adjustment=adjustment,
        lines=lines,
    )


def today_utc(now: datetime) -> date:
    """The date timelines are compared with: UTC, so every machine agrees."""
    if now.tzinfo is None:
        return now.date()
    return now.astimezone(UTC).date()
