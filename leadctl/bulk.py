"""Changing many leads in one command: `status`, `edit`, `schedule`, `assign`,
`note`, `log` and `tag` take several ids (or ``-``: ids on stdin).

A bulk command is one transaction, all or nothing:

1. :func:`load` reads every lead in a few Core SELECTs (chunks of ids, row-locked
   on PostgreSQL), never one ORM round-trip per lead;
2. the command builds a :class:`Change` per lead (the columns to set and the
   activities to write) or a refusal (the very error the one-lead command
   raises), through the rules it shares with that command (``leads.check_work``…);
3. :func:`apply` refuses the whole command when any lead was refused
   (:class:`Refused`: every lead and why, exit 4 when any refusal is about
   permission, else 3 when any is a rule, else 1), or writes it: one UPDATE …
   WHERE id IN (…) per set of equal values (a status move on 10,000 leads is a
   few statements), an executemany UPDATE for values of a lead's own (tags),
   and one INSERT of all the activities,
   which share one time (one clock read per command, so `undo` can take a
   command back as a whole).

With one id a command behaves as it always did (its JSON is the single lead
object); when only one lead is refused, the refusal is that lead's own error line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlmodel import Session

from leadctl import activities
from leadctl.activities import ActivityRow
from leadctl.errors import InvalidInput, LeadctlError, NotFound, PermissionDenied
from leadctl.models import LEAD
from leadctl.users import LeadDenied

CHUNK = 5000  # ids per SELECT: far below SQLite's and PostgreSQL's parameter limits
MAX_ID = 2**63 - 1
# Which exit code a mixed refusal takes: permission over rule over not found/invalid.
RANK = {4: 3, 3: 2, 1: 1}


def parse_ids(text: str) -> list[int]:
    """Lead ids read from stdin: one a line, or JSON (an array of objects with
    ``id`` as `list --json` prints, of plain ids, or one object a line)."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
            items = data if isinstance(data, list) else [data]
        except json.JSONDecodeError:
            items = []
            for number, line in enumerate(stripped.splitlines(), start=1):
                if line.strip():
                    try:
                        items.append(json.loads(line))
                    except json.JSONDecodeError:
                        raise InvalidInput(
                            f"stdin line {number} is not JSON: expected lead ids, one a line, "
                            "or the JSON of `leadctl list --json`"
                        ) from None
        return [_json_id(item) for item in items]
    ids = []
    for number, line in enumerate(stripped.splitlines(), start=1):
        word = line.strip()
        if not word:
            continue
        if not (word.isascii() and word.isdigit()):
            raise InvalidInput(f"stdin line {number} is not a lead id: {word[:40]!r}")
        ids.append(check_id(int(word)))
    return ids


def _json_id(item: Any) -> int:
    value = item.get("id") if isinstance(item, dict) else item
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            "the JSON on stdin must be lead ids or objects with an integer `id` "
            "(as `leadctl list --json` prints)"
        )
    return check_id(value)


def check_id(value: int) -> int:
    if not 0 <= value <= MAX_ID:
        raise NotFound(f"no lead with id {value}")
    return value


def unique(ids: Iterable[int]) -> list[int]:
    """The ids once each, in the order given."""
    return list(dict.fromkeys(ids))


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


# What the rules of a status move, a log, a schedule or an assignment read: the
# gate (``leads.check_work``), the status, the next call, the first contact.
STATE = ("id", "name", "status", "owner", "claimed_by", "claim_expires_at", "merged_into",
         "first_contacted_at", "next_call_at", "converted_at", "tags")  # fmt: skip


def load(
    session: Session, ids: Sequence[int], columns: Sequence[str] | None = None
) -> dict[int, Row[Any]]:
    """The leads' rows (every column, or ``columns``), by id; missing ids are
    absent. Pending ORM changes are flushed first, and the rows are locked on
    PostgreSQL."""
    session.flush()
    conn = session.connection()
    found: dict[int, Row[Any]] = {}
    chosen = [LEAD.c[name] for name in columns] if columns is not None else [LEAD]
    for chunk in _chunks(ids):
        statement = select(*chosen).where(LEAD.c.id.in_(chunk)).with_for_update()
        for row in conn.execute(statement):
            found[row.id] = row
    return found


def fetch(session: Session, ids: Sequence[int]) -> list[Row[Any]]:
    """The leads' rows as they are now, in the order of ``ids`` (for output)."""
    found = load(session, ids)
    return [found[i] for i in ids if i in found]


@dataclass
class Change:
    """What a command does to one lead: columns to set, activities to write."""

    lead_id: int
    values: dict[str, Any]
    rows: list[ActivityRow] = field(default_factory=list)


@dataclass
class Plan:
    """A bulk command's changes and refusals, before anything is written."""

    total: int
    changes: list[Change] = field(default_factory=list)
    refusals: list[tuple[int, LeadctlError]] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # nothing to do (already so)
    rescore: bool = False  # the changes can move scores: recompute the changed leads
    after: list[Row[Any]] = field(default_factory=list)  # a dry run's leads as they would be

    @property
    def changed_ids(self) -> list[int]:
        return [c.lead_id for c in self.changes]


def plan(
    session: Session,
    ids: Sequence[int],
    decide: Callable[[Row[Any]], Change | None],
    *,
    columns: Sequence[str] | None = STATE,
) -> Plan:
    """Load the leads (the :data:`STATE` columns, or ``columns``; None: all) and
    ask ``decide`` about each: a Change, None (nothing to do), or a raised
    LeadctlError (that lead's refusal)."""
    ids = unique(ids)
    rows = load(session, ids, columns)
    result = Plan(total=len(ids))
    for lead_id in ids:
        row = rows.get(lead_id)
        try:
            if row is None:
                raise NotFound(f"no lead with id {lead_id}")
            change = decide(row)
        except LeadctlError as error:
            result.refusals.append((lead_id, error))
            continue
        if change is None:
            result.unchanged.append(lead_id)
        else:
            result.changes.append(change)
    return result


class Refused(LeadctlError):
    """Some leads of a bulk command were refused, so nothing was written.

    ``details`` holds one line per refused lead (the CLI prints each as its own
    ``error:`` line before the summary); the exit code is the most serious one:
    4 (permission) over 3 (a rule) over 1 (not found, invalid)."""

    def __init__(self, refusals: list[tuple[int, LeadctlError]], total: int) -> None:
        LeadctlError.__init__(
            self, f"{len(refusals)} of {total} leads refused; nothing was changed"
        )
        self.details = [str(error) for _, error in refusals]
        self.exit_code = max((e.exit_code for _, e in refusals), key=lambda c: RANK.get(c, 0))


class RefusedDenied(Refused, LeadDenied):
    """A bulk refusal with permission refusals among them: those leads' timelines
    record the denial, as for one lead (``users.acting``)."""

    def __init__(self, refusals: list[tuple[int, LeadctlError]], total: int) -> None:
        Refused.__init__(self, refusals, total)
        self.lead_ids = [lead_id for lead_id, e in refusals if isinstance(e, LeadDenied)]


def check(result: Plan, *, single: bool, dry_run: bool = False) -> None:
    """Raise the refusal of a plan, if any: with one id, that lead's own error."""
    if not result.refusals:
        return
    if len(result.refusals) == 1:  # one lead refused: its own error, as of old
        refusal = result.refusals[0][1]
        if dry_run and isinstance(refusal, LeadDenied):
            raise PermissionDenied(str(refusal))  # a dry run records no denial
        raise refusal
    denied = any(isinstance(e, LeadDenied) for _, e in result.refusals)
    if denied and not dry_run:  # a dry run writes nothing, not even the denial
        raise RefusedDenied(result.refusals, result.total)
    raise Refused(result.refusals, result.total)


def finish(session: Session, result: Plan, *, single: bool, dry_run: bool = False) -> Plan:
    """Refuse the plan (:func:`check`) or write it (:func:`apply`); a dry run
    writes it inside a savepoint, reads the leads as they would be into
    ``result.after``, and rolls the savepoint back: nothing is written."""
    check(result, single=single, dry_run=dry_run)
    if not dry_run:
        apply(session, result)
        return result
    savepoint = session.begin_nested()
    try:
        apply(session, result)
        result.after = fetch(session, result.changed_ids)
    finally:
        savepoint.rollback()
        session.expire_all()
    return result


def apply(session: Session, result: Plan) -> None:
    """Write a checked plan: one UPDATE by ids per set of equal values, one
    executemany UPDATE per column set for values of a lead's own, one INSERT of
    every activity. Lead objects the session holds are expired so
    they read the new values."""
    conn = session.connection()
    alike: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for change in result.changes:
        if change.values:
            alike.setdefault(tuple(sorted(change.values.items())), []).append(change.lead_id)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for items, lead_ids in alike.items():
        if len(lead_ids) > 1:  # the same values on many leads: set-based, by id
            for chunk in _chunks(lead_ids):
                conn.execute(update(LEAD).where(LEAD.c.id.in_(chunk)).values(dict(items)))
            continue
        one: dict[str, Any] = {"_id": lead_ids[0]}
        one.update((f"v_{name}", value) for name, value in items)
        groups.setdefault(tuple(name for name, _ in items), []).append(one)
    for key, params in groups.items():  # values of their own: one executemany per column set
        statement = (
            update(LEAD)
            .where(LEAD.c.id == bindparam("_id"))
            .values({name: bindparam(f"v_{name}") for name in key})
        )
        for start in range(0, len(params), CHUNK):
            conn.execute(statement, params[start : start + CHUNK])
    activities.record_many(conn, [row for change in result.changes for row in change.rows])
    session.expire_all()
    if result.rescore and result.changes:
        from leadctl import scoring

        scoring.rescore(session, result.changed_ids)
