"""Scoring rules: the TOML format, parsed and checked before anything is stored.

A rule set is validated whole, so a bad file never half-replaces a good one;
every error names the line it comes from, because the person fixing it has
the file open, not the parsed structure.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from leadctl.activities import LOG_KINDS
from leadctl.errors import InvalidInput
from leadctl.fields import LEAD_FIELDS

COMPONENTS = {"demographic": 40, "behavioral": 40, "firmographic": 20}  # name: largest cap
RULE_COMPONENTS = ("demographic", "firmographic")
# The lead fields a rule may test, and so its operators, come from the field
# registry (``scoreable``), by the field's type.
_SCORED = [spec for spec in LEAD_FIELDS if spec.scoreable]
TEXT_FIELDS = [spec.name for spec in _SCORED if spec.type is str]
NUMBER_FIELDS = [spec.name for spec in _SCORED if spec.type in (int, float)]
BOOL_FIELDS = [spec.name for spec in _SCORED if spec.type is bool]
DATE_FIELDS = [spec.name for spec in _SCORED if spec.type is date]
FIELDS = TEXT_FIELDS + NUMBER_FIELDS + BOOL_FIELDS + DATE_FIELDS
OPERATORS = {
    **dict.fromkeys(TEXT_FIELDS, ("words", "in", "present")),
    **dict.fromkeys(NUMBER_FIELDS, ("at_least", "below", "present")),
    **dict.fromkeys(BOOL_FIELDS, ("is", "present")),
    **dict.fromkeys(DATE_FIELDS, ("within_days", "present")),
}
MAX_POINTS = 100


def fold(text: str) -> str:
    """The form text is compared in: case-folded, whitespace runs made one space."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Condition:
    """One test of one lead field; ``op`` is one of :data:`OPERATORS`."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Rule:
    """Points given when every condition holds; within a group the first match wins."""

    name: str
    points: int
    conditions: tuple[Condition, ...]
    group: str | None = None


@dataclass(frozen=True)
class Component:
    name: str
    cap: int
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Engagement:
    """Points for one logged activity kind, decayed by age, at most ``max`` in all."""

    kind: str
    points: int
    max: int | None = None


@dataclass(frozen=True)
class Behavioral:
    cap: int
    half_life_days: float
    kinds: tuple[Engagement, ...]

    @property
    def half_life_seconds(self) -> int:
        """Whole seconds, so SQL and Python decay from exactly the same numbers."""
        return max(1, round(self.half_life_days * 86400))


@dataclass(frozen=True)
class RuleSet:
    """A validated rule set and the TOML text it came from (what is stored)."""

    warm: int
    hot: int
    demographic: Component
    behavioral: Behavioral
    firmographic: Component
    hot_eligible: tuple[Rule, ...]
    text: str = field(repr=False, compare=False)

    def band(self, score: int) -> str:
        return "hot" if score >= self.hot else "warm" if score >= self.warm else "cold"


class RuleError(Exception):
    """A semantic error at a path in the parsed document; located later."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def default_text() -> str:
    """The shipped default rules (a copy of examples/scoring.toml inside the package)."""
    return resources.files("leadctl.scoring").joinpath("default.toml").read_text("utf-8")


def parse(text: str, source: str) -> RuleSet:
    """Parse and validate rules; :class:`InvalidInput` names ``source``, the line and the fault."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        detail = str(error)
        match = re.search(r"\(at line (\d+), column \d+\)", detail)
        where = f", line {match.group(1)}" if match else ""
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", detail) if match else detail
        raise InvalidInput(f"invalid scoring rules {source}{where}: {reason}") from None
    try:
        return _build(document, text)
    except RuleError as error:
        line = locate(text, error.path)
        raise InvalidInput(
            f"invalid scoring rules {source}, line {line}: {error.message}"
        ) from None


@lru_cache(maxsize=8)
def parse_stored(text: str) -> RuleSet:
    """Rules already validated when stored; cached since every lead change scores."""
    return parse(text, "stored in the database")


def _build(doc: dict[str, Any], text: str) -> RuleSet:
    _only(doc, (), {"bands", *COMPONENTS, "hot_eligible"})
    bands = _table(doc, ("bands",), required=False)
    _only(bands, ("bands",), {"warm", "hot"})
    warm = _int(bands.get("warm", 31), ("bands", "warm"), 1, 99)
    hot = _int(bands.get("hot", 70), ("bands", "hot"), 2, 100)
    if hot <= warm:
        raise RuleError(("bands", "hot"), f"hot ({hot}) must be above warm ({warm})")
    eligible = doc.get("hot_eligible", [])
    if not isinstance(eligible, list):
        raise RuleError(("hot_eligible",), "expected [[hot_eligible]] tables")
    return RuleSet(
        warm=warm,
        hot=hot,
        demographic=_component(doc, "demographic"),
        behavioral=_behavioral(doc),
        firmographic=_component(doc, "firmographic"),
        hot_eligible=tuple(
            _rule(item, ("hot_eligible", i), points=False) for i, item in enumerate(eligible)
        ),
        text=text,
    )


def _component(doc: dict[str, Any], name: str) -> Component:
    table = _table(doc, (name,), required=True)
    _only(table, (name,), {"cap", "rules"})
    cap = _int(table.get("cap", COMPONENTS[name]), (name, "cap"), 0, COMPONENTS[name])
    items = table.get("rules", [])
    if not isinstance(items, list):
        raise RuleError((name, "rules"), f"expected [[{name}.rules]] tables")
    rules = tuple(_rule(item, (name, "rules", i)) for i, item in enumerate(items))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.name in seen:
            raise RuleError((name, "rules", i, "name"), f"duplicate rule name {rule.name!r}")
        seen.add(rule.name)
    return Component(name, cap, rules)


def _rule(item: Any, path: tuple[str | int, ...], *, points: bool = True) -> Rule:
    if not isinstance(item, dict):
        raise RuleError(path, "expected a table")
    allowed = {"name", "group", *FIELDS} | ({"points"} if points else set())
    _only(item, path, allowed)
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleError(path, 'a rule needs a name (name = "…")')
    group = item.get("group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise RuleError((*path, "group"), "group must be a non-empty string")
    value = _int(item.get("points"), (*path, "points"), -MAX_POINTS, MAX_POINTS) if points else 0
    conditions = tuple(_condition(key, item[key], (*path, key)) for key in FIELDS if key in item)
    if not conditions:
        raise RuleError(path, f"rule {name!r} has no condition; give a lead field like title")
    return Rule(name.strip(), value, conditions, group.strip() if group else None)


def _condition(name: str, spec: Any, path: tuple[str | int, ...]) -> Condition:
    ops = OPERATORS[name]
    example = {
        "words": '["ceo"]',
        "at_least": "50",
        "is": "true",
        "within_days": "90",
    }[ops[0]]
    if not isinstance(spec, dict) or not spec:
        raise RuleError(
            path,
            f"{name} needs a test: one of {', '.join(ops)} (e.g. {name} = {{ {ops[0]} = "
            f"{example} }})",
        )
    for op in spec:
        if op not in ops:
            raise RuleError(path, f"{name} cannot use {op!r}; expected one of {', '.join(ops)}")
    if set(spec) <= {"at_least", "below"}:
        low = _number(spec.get("at_least"), path, "at_least")
        high = _number(spec.get("below"), path, "below")
        if low is not None and high is not None and high <= low:
            raise RuleError(path, f"{name}: below ({high:g}) must be above at_least ({low:g})")
        return Condition(name, "range", (low, high))
    if len(spec) != 1:
        raise RuleError(path, f"{name} takes one test, got {', '.join(spec)}")
    op, value = next(iter(spec.items()))
    return Condition(name, op, _operand(op, value, path))


def _number(value: Any, path: tuple[str | int, ...], op: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleError(path, f"{op} must be a number, not {value!r}")
    return value


def _operand(op: str, value: Any, path: tuple[str | int, ...]) -> Any:
    if op in ("present", "is"):
        if not isinstance(value, bool):
            raise RuleError(path, f"{op} must be true or false, not {value!r}")
        return value
    if op == "within_days":
        return _int(value, path, 0, 36500, label="within_days")
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise RuleError(path, f"{op} must be a non-empty list of strings")
    cleaned = tuple(fold(v) for v in value)
    if not all(cleaned):
        raise RuleError(path, f"{op} must not contain an empty string")
    return cleaned


def _behavioral(doc: dict[str, Any]) -> Behavioral:
    path: tuple[str | int, ...] = ("behavioral",)
    table = _table(doc, path, required=True)
    _only(table, path, {"cap", "half_life_days", "kinds"})
    cap = _int(table.get("cap", COMPONENTS["behavioral"]), (*path, "cap"), 0, 40)
    half_life = table.get("half_life_days", 30)
    if isinstance(half_life, bool) or not isinstance(half_life, int | float) or half_life <= 0:
        raise RuleError((*path, "half_life_days"), "half_life_days must be a number above 0")
    kinds_table = _table(table, (*path, "kinds"), required=False)
    kinds = []
    for kind, spec in kinds_table.items():
        where = (*path, "kinds", kind)
        if kind not in LOG_KINDS:
            raise RuleError(
                where, f"unknown activity kind {kind!r}; expected one of {', '.join(LOG_KINDS)}"
            )
        if isinstance(spec, dict):
            _only(spec, where, {"points", "max"})
            points = _int(spec.get("points"), where, 0, MAX_POINTS)
            most = spec.get("max")
            kinds.append(
                Engagement(kind, points, None if most is None else _int(most, where, 0, MAX_POINTS))
            )
        else:
            kinds.append(Engagement(kind, _int(spec, where, 0, MAX_POINTS)))
    return Behavioral(cap, float(half_life), tuple(kinds))


def _table(doc: dict[str, Any], path: tuple[str | int, ...], *, required: bool) -> dict[str, Any]:
    value = doc.get(str(path[-1]))
    if value is None:
        if required:
            raise RuleError(path[:-1], f"missing [{'.'.join(map(str, path))}] table")
        return {}
    if not isinstance(value, dict):
        raise RuleError(path, f"{'.'.join(map(str, path))} must be a table")
    return value


def _only(table: dict[str, Any], path: tuple[str | int, ...], allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise RuleError(
                (*path, key), f"unknown key {key!r}; expected one of {', '.join(sorted(allowed))}"
            )


def _int(
    value: Any, path: tuple[str | int, ...], low: int, high: int, *, label: str | None = None
) -> int:
    key = label or next((p for p in reversed(path) if isinstance(p, str)), "value")
    if value is None:
        raise RuleError(path, f"missing {key}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(path, f"{key} must be a whole number from {low} to {high}, not {value!r}")
    if not low <= value <= high:
        raise RuleError(path, f"{key} must be from {low} to {high}, not {value}")
    return value


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def locate(text: str, path: tuple[str | int, ...]) -> int:
    """The 1-based line that ``path`` (keys and array indexes) comes from.

    Walks the headers (``[a.b]``, ``[[a.b]]`` counted per name) to the deepest
    table that holds the path, then the key line inside it; falls back to the
    table's header, else line 1.
    """
    lines = text.splitlines()
    counts: dict[str, int] = {}
    best_line, best_depth = 1, -1
    block_start = 0
    block_path: tuple[str | int, ...] = ()  # root block
    blocks: list[tuple[int, tuple[str | int, ...]]] = [(0, ())]
    for number, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match:
            continue
        name = tuple(part.strip().strip("\"'") for part in match.group(2).split("."))
        header: tuple[str | int, ...] = name
        if match.group(1) == "[[":
            index = counts.get(".".join(name), 0)
            counts[".".join(name)] = index + 1
            header = (*name, index)
        blocks.append((number + 1, header))
    for start, header in blocks:
        if path[: len(header)] == header and len(header) > best_depth:
            best_line, best_depth, block_start, block_path = (
                max(start, 1),
                len(header),
                start,
                header,
            )
    rest = [str(p) for p in path[len(block_path) :] if isinstance(p, str)]
    if rest:
        for number in range(block_start, len(lines)):
            if number > block_start and _HEADER.match(lines[number]):
                break
            match = _KEY.match(lines[number])
            if match:
                key = [k.strip().strip("\"'") for k in match.group(1).split(".")]
                if key[: len(rest)] == rest[: len(key)]:  # `title = {…}` or `title.words =`
                    return number + 1
    return best_line
