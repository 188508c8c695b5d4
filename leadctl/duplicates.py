"""Duplicates: when two leads are one person, and what a merge takes from the other.

The one home of these rules; ``add``, ``import``, ``dedupe`` and ``merge`` use them:

- **match**: two leads are one person when they have the same normalised email
  (``email_key``), the same E.164 phone, or the same company key and similar
  names (rapidfuzz ``token_sort_ratio`` ≥ :data:`SIMILAR_NAME_SCORE` on the
  casefolded names). The duplicate of a new lead is its *first* match: the first
  rule that matches (in :data:`RULES` order), and within a rule the oldest lead.
  :func:`first_match` and :func:`match_reasons` are the reference; :func:`find`
  asks the database for one lead, ``importing.dedupe.DuplicateIndex`` answers
  for a batch and ``merging.find_groups`` for all leads, and property tests
  (``tests/test_duplicates.py``) hold those fast forms equal to the reference.
- **fill**: a merge fills the kept lead's blanks and never overwrites a value;
  tags and custom fields are unions; a note is appended unless the lead already
  has it. :data:`NEVER_FILLED` names the fields a merge never fills.
- **reach**: a user limited to their own leads and the pool (a rep) never learns
  of a duplicate outside what they may see, nor writes to one they may not work
  on (a pool lead on someone else's live claim): :func:`refusal`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import literal_column

from leadctl import fields
from leadctl.errors import Conflict

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Table
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

    from leadctl.models import Lead
    from leadctl.users import Actor

SIMILAR_NAME_SCORE = 85  # rapidfuzz token_sort_ratio at which two names count as one person
SAME_EMAIL = "same email"
SAME_PHONE = "same phone"
SAME_COMPANY = "same company and similar name"
# The match rules, in the order they are tried: (the lead column compared, the reason).
RULES = (("email_key", SAME_EMAIL), ("phone", SAME_PHONE), ("company_key", SAME_COMPANY))
KEYS = tuple(key for key, _ in RULES)
REASONS = dict(RULES)
REASON_ORDER = [reason for _, reason in RULES]

# Merged as unions (new tags and new custom fields added), never "filled".
UNIONED = ("tags", "fields")
# The fields a merge never fills, whoever merges (add, import, merge, dedupe). One set
# since issue 11, reconciling three that had drifted apart:
#   leads.blanks_filled      never=("created_at",)
#   importing/writer         NEVER_FILLED = tags fields created_at updated_at lost_reason
#   merging                  NOT_MERGED = the set below, plus tags fields
# ``add`` never carries the extra fields, and the stored ones are never blank, so for
# ``add`` and for merges into stored leads this changes nothing except that an import
# row (a leadctl export's) no longer puts its ``claimed_by``/``claim_expires_at`` on an
# unclaimed lead; and an import row merged into an *earlier row of the same file* no
# longer fills that new lead's status (it could, and leave a lost lead without its
# lost_reason), score, band or claim: in-file and stored merges now follow one rule.
# Which lead fields a merge may fill is declared with each field (``merge_fills`` in
# the registry, leadctl/fields.py): not its own times, not the pipeline (status and
# lost_reason move only through `status`), not a claim (taken only through `claim`),
# not what the rules compute (score, band) nor the audited adjustment. Add the
# internal columns: a lead's id and its archive link are its own.
NEVER_FILLED = (fields.never_filled() - frozenset(UNIONED)) | {"id", "merged_into"}
HIDDEN = "duplicate of a lead you cannot see; ask a manager"

Candidate = TypeVar("Candidate")


def not_merged(table: Table) -> ColumnElement[bool]:
    """Active (not archived) leads of a Core lead table, for the set-based duplicate
    queries (the import's lookups, dedupe's groups): ``merged_into IS NULL``, written
    so that SQLite will not use its index: next to an ``IN`` list it would, and scan
    every active lead per query."""
    return (table.c.merged_into + literal_column("0")).is_(None)


# --- the match rule ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def name_scorer() -> Any:
    """rapidfuzz's ``token_sort_ratio``, imported on first use (it is not needed to start)."""
    from rapidfuzz import fuzz

    return fuzz.token_sort_ratio


def similar_names(folded: str, other_folded: str) -> bool:
    """Two casefolded names that count as one person's."""
    return bool(name_scorer()(folded, other_folded, score_cutoff=SIMILAR_NAME_SCORE))


def rule_matches(key: str, values: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Does the rule on ``key`` (one of :data:`KEYS`) make the two one person?"""
    mine = values.get(key)
    if not mine or mine != other.get(key):
        return False
    if key != "company_key":
        return True
    return similar_names(values["name"].casefold(), other["name"].casefold())


def match_reasons(values: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    """Every reason the two leads (``name`` and the :data:`KEYS`) are one person."""
    return [reason for key, reason in RULES if rule_matches(key, values, other)]


def first_match(
    values: Mapping[str, Any],
    candidates: Sequence[Candidate],
    keys_of: Any = lambda candidate: candidate,
) -> tuple[Candidate, str] | None:
    """The reference rule: the duplicate of ``values`` among ``candidates`` (oldest
    first) and why; the first rule that matches wins, then the oldest candidate."""
    for key, reason in RULES:
        if values.get(key):
            for candidate in candidates:
                if rule_matches(key, values, keys_of(candidate)):
                    return candidate, reason
    return None


@dataclass
class Duplicate:
    lead: Lead
    reason: str


def find(
    session: Session, values: Mapping[str, Any], exclude: Iterable[int] = ()
) -> list[Duplicate]:
    """Active leads that are the same person as ``values`` (a lead's validated values),
    each once, in :func:`first_match` order: the first is *the* duplicate."""
    from sqlmodel import col, select

    from leadctl import normalize
    from leadctl.models import Lead

    name: str = values.get("name") or ""
    keys = {
        "email_key": normalize.email_key(values.get("email")),
        "phone": values.get("phone"),
        "company_key": normalize.company_key(values.get("company")),
    }
    found: dict[int, Duplicate] = {}
    excluded = set(exclude)
    for key, reason in RULES:
        if not keys[key] or (key == "company_key" and not name):
            continue
        column = getattr(Lead, key)
        statement = (
            select(Lead)
            .where(column == keys[key], col(Lead.merged_into).is_(None))
            .order_by(col(Lead.id))
        )
        for lead in session.exec(statement):
            lead_id = lead.id
            assert lead_id is not None  # a stored lead
            if lead_id in found or lead_id in excluded:
                continue
            if key != "company_key" or similar_names(lead.name.casefold(), name.casefold()):
                found[lead_id] = Duplicate(lead, reason)
    return list(found.values())


# --- the fill rule ----------------------------------------------------------------------


def fill(current: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The merge rule: the changes that fill ``current``'s blanks from ``values``
    without overwriting anything, plus new tags and custom fields (``tags`` a list,
    ``fields`` a dict, on both sides and in the changes)."""
    changes = {
        name: value
        for name, value in values.items()
        if name not in NEVER_FILLED
        and name not in UNIONED
        and value not in (None, "")
        and current.get(name) in (None, "")
    }
    tags = current.get("tags") or []
    new_tags = [t for t in values.get("tags") or [] if t not in tags]
    if new_tags:
        changes["tags"] = [*tags, *new_tags]
    fields = current.get("fields") or {}
    new_fields = {k: v for k, v in (values.get("fields") or {}).items() if k not in fields}
    if new_fields:
        changes["fields"] = fields | new_fields
    return changes


def fill_stored(current: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`fill` for a stored lead: ``tags`` and ``fields`` as stored JSON text,
    in ``current`` and in the changes."""
    decoded = dict(current)
    decoded["tags"] = json.loads(current["tags"])
    decoded["fields"] = json.loads(current["fields"])
    changes = fill(decoded, values)
    for name in UNIONED:
        if name in changes:
            changes[name] = json.dumps(changes[name], ensure_ascii=False)
    return changes


def new_notes(have: Collection[str], notes: Iterable[str]) -> list[str]:
    """The notes a merge appends: those the lead does not have yet (each once)."""
    return [note for note in dict.fromkeys(notes) if note and note not in have]


def filled_names(changes: Mapping[str, Any]) -> list[str]:
    """What a merge filled, as told to people (derived match keys left out)."""
    return [name for name in changes if not name.endswith("_key")]


def fill_lead(
    session: Session,
    lead: Lead,
    values: Mapping[str, Any],
    *,
    actor: str,
    notes: str | None = None,
    kind: str = "merge",
) -> list[str]:
    """Merge values into a stored lead by :func:`fill`, appending ``notes`` unless it
    has them; records a ``kind`` activity naming what was filled (nothing when nothing
    is new) and returns the filled field names."""
    from sqlmodel import col, select

    from leadctl import activities, clock, leads
    from leadctl.models import Activity

    lead_id = lead.id
    assert lead_id is not None  # a stored lead
    current = {name: getattr(lead, name) for name in values if hasattr(lead, name)}
    changes = fill_stored(current | {"tags": lead.tags, "fields": lead.fields}, values)
    for name, value in changes.items():
        setattr(lead, name, value)
    filled = filled_names(changes)
    added: list[str] = []
    if notes:
        have = session.exec(
            select(Activity.body).where(Activity.lead_id == lead_id, col(Activity.kind) == "note")
        ).all()
        added = new_notes({h for h in have if h is not None}, [notes])
    for note in added:
        activities.record(session, lead_id, "note", actor, body=note)
    if filled or added:
        lead.updated_at = clock.now()
        body = f"filled {', '.join(filled)}" if filled else "nothing to fill"
        activities.record(session, lead_id, kind, actor, body=body)
        session.add(lead)
    if filled:
        leads.rescore(session, lead)
    return filled


# --- reach: what a limited user may learn of and write to --------------------------------


class HiddenDuplicate(Conflict):
    """The duplicate is a lead the acting user may not see (exit 3, naming nothing)."""

    def __init__(self) -> None:
        super().__init__(HIDDEN)


def refusal(who: Actor, lead: Any, reason: str, *, writing: bool) -> Conflict | None:
    """Why ``who`` may not act on ``lead`` as the duplicate found (by ``reason``), or None.

    A lead outside what ``who`` may see (``users.may_see``) is never named: whatever
    ``--on-duplicate`` says, that is :data:`HIDDEN` (exit 3); even ``create`` is refused,
    since SPEC makes such a duplicate exit 3 and a second copy of a colleague's lead is
    what the duplicate check is there to stop (a manager can assign or merge it). When
    ``writing`` (a merge), a pool lead on someone else's live claim is refused too, as
    ``users.require_work`` refuses working on it: it is visible, so it is named.
    ``lead`` is a Lead or a row with ``id name owner claimed_by claim_expires_at``.
    """
    from leadctl import clock, users

    if who.works_any:
        return None
    if not users.may_see(who, lead):
        return HiddenDuplicate()
    holder = users.claim_holder(lead) if writing and lead.owner is None else None
    if holder not in (None, who.name):
        until = clock.local(lead.claim_expires_at)
        return Conflict(
            f"duplicate of lead {lead.id} ({lead.name}): {reason}; it is claimed by "
            f"{holder} until {until}, so it cannot be merged into"
        )
    return None


def reach_rows(conn: Connection, who: Actor, ids: Iterable[int]) -> dict[int, Any]:
    """What :func:`refusal` reads of stored leads (an import batch's candidates), by id;
    empty for a user who may act on every lead, so their imports pay nothing."""
    from sqlalchemy import select

    from leadctl.models import Lead

    if who.works_any:
        return {}
    table = Lead.metadata.tables["lead"]
    columns = [table.c[c] for c in ("id", "name", "owner", "claimed_by", "claim_expires_at")]
    wanted = sorted(i for i in ids if i > 0)
    rows: dict[int, Any] = {}
    for start in range(0, len(wanted), 2000):
        statement = select(*columns).where(table.c.id.in_(wanted[start : start + 2000]))
        rows.update((row.id, row) for row in conn.execute(statement))
    return rows
