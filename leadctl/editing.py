"""Changing lead fields on one lead or many: `edit ID… --field…` and
`tag ID… +T -T`, all or none (``leadctl.bulk``).

Each changed field is one ``edit`` activity (old → new). Tags given to `edit
--tag` or `tag +T` are added to the lead's own (no duplicates, whatever the
case); `edit --untag T` and `tag -T` remove them, matching case-insensitively.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from leadctl import activities, bulk, clock, leads, normalize, users
from leadctl.errors import InvalidInput
from leadctl.users import Actor


def retag(current: list[str], add: Sequence[str], remove: Sequence[str]) -> list[str]:
    """``current`` without the tags of ``remove`` (case-insensitive), then with
    those of ``add`` it does not hold yet (case-insensitive, in order)."""
    gone = {t.casefold() for t in remove}
    tags = [t for t in current if t.casefold() not in gone]
    held = {t.casefold() for t in tags}
    for tag in add:
        if tag.casefold() not in held:
            tags.append(tag)
            held.add(tag.casefold())
    return tags


def changes(
    lead: Row[Any], values: dict[str, Any], untag: Sequence[str] = ()
) -> dict[str, tuple[Any, Any]]:
    """What validated ``values`` change on the lead: field → (old, new). Tags
    are added to the lead's own (and ``untag`` removed), custom fields merged."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in {**values, **({"tags": []} if untag else {})}.items():
        if name in ("email_key", "company_key"):
            continue
        if name == "tags":
            tags = retag(json.loads(lead.tags), values.get("tags", []), untag)
            value = json.dumps(tags, ensure_ascii=False)
            if tags == json.loads(lead.tags):
                continue
        if name == "fields":
            value = json.dumps(json.loads(lead.fields) | value, ensure_ascii=False)
        old = getattr(lead, name)
        if old != value:
            changed[name] = (old, value)
    return changed


def edit(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    raw: dict[str, Any],
    *,
    untag: Sequence[str] = (),
    dry_run: bool = False,
) -> bulk.Plan:
    """Change the fields of leads the actor may work, from option values (as
    ``leads.validate`` takes them), all or none; a lead left with neither email
    nor phone is refused. Phone numbers are read for each lead's country."""
    single = len(bulk.unique(lead_ids)) == 1
    removing = normalize.parse_tags(list(untag))
    by_country: dict[str | None, dict[str, Any]] = {}

    def validated(country: str | None) -> dict[str, Any]:
        key = country if "phone" in raw and not raw.get("country") else None
        if key not in by_country:
            by_country[key] = leads.validate(session, raw, country=key)
        return by_country[key]

    # a bad value is refused once, before any lead (a phone: per lead's country, below)
    first = leads.validate(session, {k: v for k, v in raw.items() if k != "phone"})
    if first.get("client_id") is not None:
        users.require_client_visible(session, who, first["client_id"])
    now = clock.now()

    def decide(lead: Row[Any]) -> bulk.Change | None:
        leads.check_work(who, lead, "edit")
        values = validated(lead.country)
        changed = changes(lead, values, removing)
        after = {name: new for name, (_, new) in changed.items()}
        email = after.get("email", lead.email)
        phone = after.get("phone", lead.phone)
        if not email and not phone:
            raise InvalidInput(
                f"lead {lead.id} needs an email or a phone; set one before clearing the other"
            )
        if not changed:
            return None
        for key in ("email_key", "company_key"):
            if key in values:
                after[key] = values[key]
        after["updated_at"] = now
        rows = [
            activities.row(lead.id, "edit", who.name, field=name, old=old, new=new, at=now)
            for name, (old, new) in changed.items()
        ]
        return bulk.Change(lead.id, after, rows)

    result = bulk.plan(session, lead_ids, decide, columns=None)  # every field may change
    result.rescore = True
    return bulk.finish(session, result, single=single, dry_run=dry_run)


def tag(
    session: Session,
    who: Actor,
    lead_ids: Sequence[int],
    add: Sequence[str],
    remove: Sequence[str],
    *,
    dry_run: bool = False,
) -> bulk.Plan:
    """Add and remove tags on leads the actor may work (`tag ID… +T -T`), all or none."""
    adding = normalize.parse_tags(list(add))
    removing = normalize.parse_tags(list(remove))
    if not adding and not removing:
        raise InvalidInput("give tags to add (+T) or remove (-T)")
    return edit(
        session, who, lead_ids, {"tags": adding} if adding else {}, untag=removing, dry_run=dry_run
    )
