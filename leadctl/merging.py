"""Duplicate groups among stored leads, and merging them (`dedupe`, `merge`).

Groups use the match rule of ``leadctl.duplicates``: same normalised email,
same E.164 phone, same company and a similar name; leads linked by any of them
form one group (the transitive closure of the pairwise rule, which a property
test checks). A merge keeps the first lead, fills its blanks from the others
(``duplicates.fill_lead``: never overwrites, never the fields of
``duplicates.NEVER_FILLED``), moves their activities and deals to it, and
archives them (``merged_into``): hidden from lists, still shown by ``show``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from leadctl import activities, clock, duplicates, leads, undo, users
from leadctl.duplicates import fill_lead
from leadctl.errors import Conflict, InvalidInput
from leadctl.models import ACTIVITY, DEAL, LEAD, Lead, id_of
from leadctl.users import Actor

IN_CHUNK = 2000
COMPANY_CAP = 2000  # leads compared pairwise per company


@dataclass
class Group:
    """Leads that are one person; ``ids[0]`` (the oldest) is the one a merge keeps."""

    ids: list[int]
    reasons: list[str] = field(default_factory=list)

    @property
    def keep(self) -> int:
        return self.ids[0]


class _Links:
    """Union-find over lead ids, remembering why two leads were linked."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.reasons: dict[int, set[str]] = {}

    def root(self, lead_id: int) -> int:
        self.parent.setdefault(lead_id, lead_id)
        top = lead_id
        while self.parent[top] != top:
            top = self.parent[top]
        while self.parent[lead_id] != top:  # path compression
            self.parent[lead_id], lead_id = top, self.parent[lead_id]
        return top

    def link(self, a: int, b: int, reason: str) -> None:
        root_a, root_b = self.root(a), self.root(b)
        top, other = min(root_a, root_b), max(root_a, root_b)
        if top != other:
            self.parent[other] = top
            self.reasons.setdefault(top, set()).update(self.reasons.pop(other, set()))
        self.reasons.setdefault(top, set()).add(reason)

    def groups(self) -> list[Group]:
        members: dict[int, list[int]] = {}
        for lead_id in self.parent:
            members.setdefault(self.root(lead_id), []).append(lead_id)
        found = []
        for root, ids in members.items():
            if len(ids) > 1:
                reasons = [r for r in duplicates.REASON_ORDER if r in self.reasons.get(root, set())]
                found.append(Group(sorted(ids), reasons))
        return sorted(found, key=lambda g: g.keep)


def find_groups(session: Session, extra: Sequence[Any] = ()) -> list[Group]:
    """Every duplicate group among active leads (``extra``: visibility clauses)."""
    from rapidfuzz import process

    conn = session.connection()
    active = [duplicates.not_merged(LEAD), *extra]
    links = _Links()
    rule = duplicates.rule_matches
    for key, reason in duplicates.RULES[:3]:  # same record id, same email, same phone
        column = LEAD.c[key]
        shared = (
            select(column)
            .where(column.is_not(None), *active)
            .group_by(column)
            .having(func.count() > 1)
        )
        keys = list(conn.scalars(shared))
        for start in range(0, len(keys), IN_CHUNK):
            by_key: dict[str, list[dict[str, Any]]] = {}
            statement = select(LEAD.c.id, LEAD.c.name, LEAD.c.external_id, column).where(
                column.in_(keys[start : start + IN_CHUNK]), *active
            )
            for lead_id, name, record, value in conn.execute(statement.order_by(LEAD.c.id)):
                holders = by_key.setdefault(value, [])
                if len(holders) < COMPANY_CAP:
                    holders.append({"id": lead_id, "name": name, "external_id": record, key: value})
            for members in by_key.values():
                # one person only when the names agree (and no record ids differ)
                for i, one in enumerate(members[:-1]):
                    for other in members[i + 1 :]:
                        if rule(key, one, other):
                            links.link(one["id"], other["id"], reason)
    company = LEAD.c.company_key
    shared = (
        select(company)
        .where(company.is_not(None), *active)
        .group_by(company)
        .having(func.count() > 1)
    )
    keys = list(conn.scalars(shared))
    for start in range(0, len(keys), IN_CHUNK):
        by_company: dict[str, list[tuple[int, str]]] = {}
        records: dict[int, str] = {}
        named = select(LEAD.c.id, LEAD.c.name, LEAD.c.external_id, company).where(
            company.in_(keys[start : start + IN_CHUNK]), *active
        )
        for lead_id, name, record, key in conn.execute(named.order_by(LEAD.c.id)):
            same = by_company.setdefault(key, [])
            if len(same) < COMPANY_CAP:
                same.append((lead_id, name.casefold()))
                if record:
                    records[lead_id] = record
        for in_company in by_company.values():
            names = [name for _, name in in_company]
            for i, name in enumerate(names[:-1]):
                similar = process.extract(
                    name,
                    names[i + 1 :],
                    scorer=duplicates.name_scorer(),
                    score_cutoff=duplicates.SIMILAR_NAME_SCORE,
                    limit=None,
                )
                for _, _, j in similar:
                    first, second = in_company[i][0], in_company[i + 1 + j][0]
                    if not duplicates.external_conflict(
                        {"id": first, "external_id": records.get(first)},
                        {"id": second, "external_id": records.get(second)},
                    ):
                        links.link(first, second, duplicates.SAME_COMPANY)
    return links.groups()


def dedupe(
    session: Session, who: Actor, *, merge_all: bool = False
) -> list[tuple[Group, list[Lead]]]:
    """The duplicate groups among the leads the actor may see, with their leads;
    ``merge_all`` merges each into its oldest lead (:func:`merge`'s rules)."""
    groups = find_groups(session, users.visible_clauses(who))
    found = [(group, [leads.get(session, i) for i in group.ids]) for group in groups]
    if merge_all:
        for group in groups:
            merge(session, who, group.keep, group.ids[1:])
    return found


def merge(session: Session, who: Actor, keep_id: int, dup_ids: Sequence[int]) -> Lead:
    """Merge duplicates into ``keep_id``: fill its blanks, move their history, archive them.

    The actor needs work rights on every lead involved (:func:`leads.for_work`:
    exit 4 for a lead they may not see or change, 3 for a pool lead someone else
    holds); an archived lead is neither kept nor merged again (exit 3).
    """
    if not dup_ids:
        raise InvalidInput("name at least one duplicate: merge KEEP_ID DUP_ID…")
    if keep_id in dup_ids:
        raise InvalidInput(f"lead {keep_id} cannot be merged into itself")
    involved = list(dict.fromkeys((keep_id, *dup_ids)))
    for lead_id in involved:  # nothing is said about a lead the actor may not see
        leads.for_view(session, who, lead_id)
    keep = leads.get(session, keep_id)
    if keep.merged_into:
        raise Conflict(f"lead {keep_id} was merged into lead {keep.merged_into}; keep that one")
    for dup_id in involved[1:]:
        dup = leads.get(session, dup_id)
        if dup.merged_into:
            raise Conflict(f"lead {dup_id} was already merged into lead {dup.merged_into}")
    others = [leads.for_work(session, who, lead_id, "merge") for lead_id in involved][1:]
    actor = who.name
    now = clock.now()
    for dup in others:
        undo.remember_merge(session, actor, keep, dup)  # what `leadctl undo` needs
        values = {k: getattr(dup, k) for k in LEAD.columns.keys()}
        values["tags"] = json.loads(dup.tags)
        values["fields"] = json.loads(dup.fields)
        values["alt_emails"] = json.loads(dup.alt_emails)  # kept, with its email and phone
        values["alt_phones"] = json.loads(dup.alt_phones)
        fill_lead(session, keep, values, actor=actor, kind="merge")
        session.flush()
        for table in (ACTIVITY, DEAL):
            session.execute(update(table).where(table.c.lead_id == dup.id).values(lead_id=keep.id))
        session.execute(
            update(LEAD).where(LEAD.c.merged_into == dup.id).values(merged_into=keep.id)
        )
        dup.merged_into = keep.id
        dup.claimed_by = dup.claim_expires_at = None
        dup.updated_at = now
        session.add(dup)
        activities.record(
            session,
            id_of(keep),
            "merge",
            actor,
            body=f"merged lead {dup.id} ({dup.name}) into this lead",
        )
        activities.record(session, id_of(dup), "merge", actor, body=f"merged into lead {keep.id}")
    keep.updated_at = now
    session.add(keep)
    session.flush()
    leads.rescore(session, keep)
    return keep
