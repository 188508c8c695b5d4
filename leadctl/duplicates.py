"""Duplicates: when two leads are one person, and what a merge takes from the other.

The one home of these rules; ``add``, ``import``, ``dedupe`` and ``merge`` use them:

- **match**: two leads are one person when they carry the same record id of
  another system (``external_id``, ``"salesforce:00Q…"``: the first key), or the
  same normalised email (``email_key``) or E.164 phone *and names that agree*
  (:func:`names_agree`: similar, initials, one word of the other, or a side
  without a name), or the same company key and similar names (rapidfuzz
  ``token_sort_ratio`` ≥ :data:`SIMILAR_NAME_SCORE` on the casefolded names).
  Two leads of a leadctl export with different ids are never one person (kept
  apart on purpose there: :func:`external_conflict`). A shared email or phone
  with names that clearly differ is two people (the import and ``add`` link
  them: :func:`shared_key`). A role address (``info@``, ``sales@``:
  :data:`ROLE_LOCALS`) matches only with similar names. Placeholder emails and
  phones (:func:`placeholder_email`, :func:`placeholder_phone`) are never a key.
  The duplicate of a new lead is its *first* match: the first rule that matches
  (in :data:`RULES` order), and within a rule the oldest lead.
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
    from datetime import datetime

    from sqlalchemy import ColumnElement, Table
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

    from leadctl.activities import ActivityRow
    from leadctl.models import Lead
    from leadctl.users import Actor

SIMILAR_NAME_SCORE = 85  # rapidfuzz token_sort_ratio at which two names count as one person
SAME_RECORD = "same record id"
SAME_EMAIL = "same email"
SAME_PHONE = "same phone"
SAME_COMPANY = "same company and similar name"
# The match rules, in the order they are tried: (the lead column compared, the reason).
RULES = (
    ("external_id", SAME_RECORD),
    ("email_key", SAME_EMAIL),
    ("phone", SAME_PHONE),
    ("company_key", SAME_COMPANY),
)
LEADCTL_SYSTEM = "leadctl"  # external ids of a leadctl export's rows: "leadctl:<its id>"
CONTACT_KEYS = ("email_key", "phone")  # shared by different people too: names must agree
KEYS = tuple(key for key, _ in RULES)
REASONS = dict(RULES)
REASON_ORDER = [reason for _, reason in RULES]

# Merged as unions (new tags and new custom fields added), never "filled".
UNIONED = ("tags", "fields")
# A different second email or phone is kept in these lists (JSON arrays), never dropped.
ALTERNATES = (("email", "alt_emails"), ("phone", "alt_phones"))
JSON_LISTS = ("tags", "alt_emails", "alt_phones")
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
NEVER_FILLED = (fields.never_filled() - frozenset(UNIONED)) | {"id", "merged_into", "external_id"}
HIDDEN = "duplicate of a lead you cannot see; ask a manager"

Candidate = TypeVar("Candidate")


def not_merged(table: Table) -> ColumnElement[bool]:
    """Active (not archived) leads of a Core lead table, for the set-based duplicate
    queries (the import's lookups, dedupe's groups): ``merged_into IS NULL``, written
    so that SQLite will not use its index: next to an ``IN`` list it would, and scan
    every active lead per query."""
    return (table.c.merged_into + literal_column("0")).is_(None)


# --- placeholders and role addresses ------------------------------------------------------

# Addresses seen standing in for "no email" in real exports: never a match key.
PLACEHOLDER_EMAILS = frozenset(
    """a@a.com aa@aa.com abc@abc.com asdf@asdf.com email@email.com fake@fake.com
    na@na.com n/a@n/a.com no@email.com no@no.com noemail@noemail.com none@none.com
    noone@nowhere.com nobody@nowhere.com null@null.com test@test.com test@example.com
    unknown@unknown.com x@x.com xx@xx.com xxx@xxx.com""".split()
)
# Local parts that are no one's, at any domain.
NO_REPLY_LOCALS = frozenset(
    "noreply no-reply no_reply donotreply do-not-reply do_not_reply mailer-daemon".split()
)
# Domains that hold no one's mail: stand-ins, and the reserved top-level names
# .invalid, .test and .localhost (RFC 2606/6761). Not .example nor example.com:
# documentation (leadctl's own docs and tests) writes real-looking people there.
PLACEHOLDER_DOMAINS = frozenset(
    """none.com nomail.com noemail.com no-email.com nowhere.com fake.com test.com
    email.invalid example.invalid""".split()
)
PLACEHOLDER_TLDS = frozenset(("invalid", "test", "localhost"))
# example.com/.org/.net hold documentation addresses (the docs use them): a
# placeholder there only when the local part is itself a stand-in word.
EXAMPLE_DOMAINS = frozenset(("example.com", "example.org", "example.net"))
PLACEHOLDER_LOCALS = frozenset(
    "test tester none null noemail nomail unknown fake dummy sample email".split()
)
# Addresses of a role, not a person: they match only with a similar name.
ROLE_LOCALS = frozenset(
    """info sales contact contacts office hello admin support help enquiries enquiry
    inquiries inquiry team mail marketing billing accounts service hr jobs careers
    reception general""".split()
)


def _runs() -> frozenset[str]:
    """Digit strings that are no one's phone: one repeated digit (6 or more), and
    ascending or descending runs of 10 or more (``1234567890``, ``9876543210``)."""
    found = {digit * size for digit in "0123456789" for size in range(6, 16)}
    for cycle in ("0123456789" * 3, "9876543210" * 3):
        for start in range(10):
            for size in range(10, 16):
                found.add(cycle[start : start + size])
    return frozenset(found)


PLACEHOLDER_RUNS = _runs()


def placeholder_email(email: str) -> bool:
    """Is this (valid, normalised) address a stand-in for none? The documented
    list, ``noreply@``-like locals at any domain, reserved domains, a stand-in
    local at example.com/.org/.net, a local part of one character repeated
    three times or more (``xxx@``, ``aaaa@``; ``jj@`` may be someone's initials), and a local
    part equal to its domain's label (``a@a.com``, ``test@test.com``)."""
    folded = email.casefold()
    if folded in PLACEHOLDER_EMAILS:
        return True
    local, _, domain = folded.rpartition("@")
    if local in NO_REPLY_LOCALS or domain in PLACEHOLDER_DOMAINS:
        return True
    label, _, rest = domain.partition(".")
    if rest.rpartition(".")[2] in PLACEHOLDER_TLDS or label in PLACEHOLDER_TLDS and not rest:
        return True
    if domain in EXAMPLE_DOMAINS and local in PLACEHOLDER_LOCALS:
        return True
    return local == label or (len(local) > 2 and local.count(local[0]) == len(local))


def placeholder_phone(phone: str) -> bool:
    """Is this E.164 phone a stand-in for none: after a country code of 0 to 3
    digits, one repeated digit or a run such as ``1234567890``."""
    digits = phone[1:] if phone.startswith("+") else phone
    runs = PLACEHOLDER_RUNS
    return digits in runs or digits[1:] in runs or digits[2:] in runs or digits[3:] in runs


def role_address(email_key: str) -> bool:
    """An address of a role (``info@``, ``sales@``): one only with a similar name."""
    return email_key.partition("@")[0] in ROLE_LOCALS


# --- the match rule ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def name_scorer() -> Any:
    """rapidfuzz's ``token_sort_ratio``, imported on first use (it is not needed to start)."""
    from rapidfuzz import fuzz

    return fuzz.token_sort_ratio


def similar_names(folded: str, other_folded: str) -> bool:
    """Two casefolded names that count as one person's."""
    return bool(name_scorer()(folded, other_folded, score_cutoff=SIMILAR_NAME_SCORE))


def _tokens(folded: str) -> list[str]:
    return [t for t in folded.replace(".", " ").replace(",", " ").split() if t]


def names_agree(folded: str, other_folded: str) -> bool:
    """Two casefolded names that may be one person's, as a shared email or phone
    needs: either is empty, they are similar (:func:`similar_names`), they begin
    with one first name or its initial (``ada lovelace`` / ``ada king``,
    ``a. lovelace`` / ``ada king``: a surname may change),
    one is a single word of the other (``lovelace`` / ``ada lovelace``), or word by word each
    pair is the same or an initial of the other (``a. lovelace`` / ``ada lovelace``)."""
    if not folded or not other_folded or folded == other_folded:
        return True
    if similar_names(folded, other_folded):
        return True
    mine, theirs = _tokens(folded), _tokens(other_folded)
    if not mine or not theirs:
        return True
    if _same_word(mine[0], theirs[0]):  # one first name, or its initial (a surname may change)
        return True
    if len(mine) == 1 and len(mine[0]) > 1 and mine[0] in theirs:
        return True
    if len(theirs) == 1 and len(theirs[0]) > 1 and theirs[0] in mine:
        return True
    if len(mine) != len(theirs):
        return False
    for order in (theirs, theirs[::-1]):
        if all(_same_word(a, b) for a, b in zip(mine, order, strict=True)):
            return True
    return False


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == 1:
        return b.startswith(a)
    return len(b) == 1 and a.startswith(b)


def external_conflict(values: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Two leads of a leadctl export with different ids (``leadctl:3``,
    ``leadctl:4``): kept apart on purpose there (leadctl merges duplicates unless
    told not to), so never one person here. Another CRM's two records of one
    person are its own duplicates: their ids differing keeps nothing apart.
    A stored lead ``N`` is also ``leadctl:N`` (an export of this database)."""
    mine, theirs = values.get("external_id"), other.get("external_id")
    if not mine or not theirs or mine == theirs:
        return False
    prefix = f"{LEADCTL_SYSTEM}:"
    if not (mine.startswith(prefix) and theirs.startswith(prefix)):
        return False
    if other.get("id") is not None and mine == f"{prefix}{other['id']}":
        return False
    return not (values.get("id") is not None and theirs == f"{prefix}{values['id']}")


def key_agrees(key: str, value: str, folded: str, other_folded: str) -> bool:
    """Given a shared ``key`` (email_key or phone) of ``value``: do the names let
    it make one person? (Placeholders never do; a role address needs similar names.)"""
    if key == "phone":
        if placeholder_phone(value):
            return False
    elif role_address(value):
        return bool(folded and other_folded and similar_names(folded, other_folded))
    return names_agree(folded, other_folded)


def rule_matches(key: str, values: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Does the rule on ``key`` (one of :data:`KEYS`) make the two one person?"""
    mine = values.get(key)
    if not mine or mine != other.get(key):
        return False
    if key == "external_id":
        return True
    if external_conflict(values, other):
        return False
    folded = (values.get("name") or "").casefold()
    other_folded = (other.get("name") or "").casefold()
    if key != "company_key":
        return key_agrees(key, mine, folded, other_folded)
    return bool(folded and other_folded and similar_names(folded, other_folded))


def shared_key(values: Mapping[str, Any], other: Mapping[str, Any]) -> str | None:
    """The email or phone two leads share when they are *not* one person (their
    names differ): what links them (``"email"``/``"phone"``), else None."""
    for key, word in (("email_key", "email"), ("phone", "phone")):
        mine = values.get(key)
        if mine and mine == other.get(key) and not (key == "phone" and placeholder_phone(mine)):
            return word
    return None


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
        "external_id": values.get("external_id"),
        "email_key": normalize.email_key(values.get("email")),
        "phone": values.get("phone"),
        "company_key": normalize.company_key(values.get("company")),
    }
    mine = {"name": name, **keys}
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
            theirs = {k: getattr(lead, k) for k in KEYS} | {"name": lead.name, "id": lead_id}
            if rule_matches(key, mine, theirs):
                found[lead_id] = Duplicate(lead, reason)
    return list(found.values())


def shared(session: Session, values: Mapping[str, Any], exclude: Iterable[int] = ()) -> list[Any]:
    """Active leads sharing ``values``' email or phone that are *not* its duplicates
    (names that differ): ``(lead, "email"|"phone")``, oldest first, each once."""
    from sqlmodel import col, or_, select

    from leadctl import normalize
    from leadctl.models import Lead

    mine = {
        "name": values.get("name") or "",
        "external_id": values.get("external_id"),
        "email_key": normalize.email_key(values.get("email")),
        "phone": values.get("phone"),
    }
    clauses = [getattr(Lead, k) == mine[k] for k in CONTACT_KEYS if mine[k]]
    if not clauses:
        return []
    excluded = set(exclude)
    statement = (
        select(Lead).where(or_(*clauses), col(Lead.merged_into).is_(None)).order_by(col(Lead.id))
    )
    found = []
    for lead in session.exec(statement):
        theirs = {k: getattr(lead, k) for k in KEYS} | {"name": lead.name, "id": lead.id}
        if lead.id in excluded or match_reasons(mine, theirs):
            continue
        word = shared_key(mine, theirs)
        if word:
            found.append((lead, word))
    return found


def link_rows(
    word: str,
    new: tuple[int, str],
    other: tuple[int, str],
    *,
    how: str,
    actor: str,
    at: datetime | None = None,
) -> list[ActivityRow]:
    """The two ``link`` activities of two people sharing an email or phone (their
    names differ): one on each lead (id, name), naming the other; ``how`` says
    how the new one came ("added", "imported from FILE line N")."""
    from leadctl import activities

    (lead_id, name), (other_id, other_name) = new, other
    mine = f"shares {word} with lead {other_id} ({other_name}): another person"
    theirs = f"shares {word} with lead {lead_id} ({name}), {how}: another person"
    return [
        activities.row(lead_id, "link", actor, body=mine, at=at),
        activities.row(other_id, "link", actor, body=theirs, at=at),
    ]


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
    for key, alt in ALTERNATES:  # a different email or phone is kept, never dropped
        have = current.get(key) or changes.get(key)
        known = [*(current.get(alt) or [])]
        seen = {v.casefold() for v in known} | ({have.casefold()} if have else set())
        theirs = values.get(alt)
        for value in [values.get(key), *(theirs if isinstance(theirs, list) else [])]:
            if value and value.casefold() not in seen:
                seen.add(value.casefold())
                known.append(value)
        if len(known) > len(current.get(alt) or []):
            changes[alt] = known
    return changes


# Each stored JSON column a merge may change, and what in a row can change it.
_FILL_INPUTS = (
    *((name, (name,)) for name in UNIONED),
    *((alt, (key, alt)) for key, alt in ALTERNATES),
)


def fill_stored(current: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`fill` for a stored lead: ``tags`` and ``fields`` as stored JSON text,
    in ``current`` and in the changes."""
    decoded = dict(current)
    for name, inputs in _FILL_INPUTS:
        text = current.get(name)
        if text is None:
            continue
        if not any(values.get(given) for given in inputs):
            decoded[name] = None  # nothing in the row can change it: not decoded
        elif text in ("[]", "{}"):  # most leads: no tags, custom fields or second contacts
            decoded[name] = [] if text == "[]" else {}
        else:
            decoded[name] = json.loads(text)
    changes = fill(decoded, values)
    for name in (*UNIONED, "alt_emails", "alt_phones"):
        if name in changes:
            changes[name] = json.dumps(changes[name], ensure_ascii=False)
    return changes


def new_notes(have: Collection[str], notes: Iterable[str]) -> list[str]:
    """The notes a merge appends: those the lead does not have yet (each once)."""
    return [note for note in dict.fromkeys(notes) if note and note not in have]


def filled_names(changes: Mapping[str, Any]) -> list[str]:
    """What a merge filled, as told to people (derived match keys left out)."""
    return [name for name in changes if not name.endswith("_key") and name != "external_id"]


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
    current |= {"tags": lead.tags, "fields": lead.fields}
    current |= {"alt_emails": lead.alt_emails, "alt_phones": lead.alt_phones}
    changes = fill_stored(current, values)
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
