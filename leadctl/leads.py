"""Leads: validating fields, creating, finding duplicates, editing, listing."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from leadctl import activities, clock, lists, normalize, settings
from leadctl.errors import DuplicateLead, InvalidInput, NotFound, invalid_choice
from leadctl.models import LEAD_JSON_KEYS, Lead

ON_DUPLICATE = ["merge", "create", "skip"]
SORTS = ["next-call", "score", "created"]
DUE = ["today", "overdue", "week"]
SIMILAR_NAME_SCORE = 85  # rapidfuzz token_sort_ratio at which two names count as one person
TEXT_FIELDS = "name title industry country region need utm_source utm_medium utm_campaign".split()
DATETIME_FIELDS = {
    "claim_expires_at",
    "next_call_at",
    "created_at",
    "updated_at",
    "first_contacted_at",
    "converted_at",
}


def get(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound(f"no lead with id {lead_id}")
    return lead


def default_region(session: Session) -> str | None:
    return settings.get(session, "region")


def validate(
    session: Session, raw: dict[str, Any], *, country: str | None = None
) -> dict[str, Any]:
    """Turn option values into stored values, refusing any bad one (exit 1).

    ``raw`` maps field names to text ('' clears a field); ``tags`` and ``fields``
    come as a list and a dict. ``country`` is the lead's current country, used
    for phone numbers when ``raw`` does not set one.
    """
    values: dict[str, Any] = {}
    extra_fields: dict[str, str] = {}
    for name, given in raw.items():
        if given is None:
            continue
        if name == "tags":
            values["tags"] = normalize.parse_tags(given)
            continue
        if name == "fields":
            extra_fields.update(given)
            continue
        text = normalize.clean(given)
        if text is None:
            if name == "name":
                raise InvalidInput("invalid name: must not be empty")
            if name == "priority":  # always set (default medium): it cannot be cleared
                raise invalid_choice("priority", given, normalize.PRIORITIES)
            values[name] = None
            continue
        values[name] = _parse_one(session, name, text, raw.get("country") or country, extra_fields)
    if "email" in values:
        values["email_key"] = normalize.email_key(values["email"])
    if "company" in values:
        values["company_key"] = normalize.company_key(values["company"])
    if extra_fields:
        values["fields"] = extra_fields
    return values


def _parse_one(
    session: Session, name: str, text: str, country: str | None, extra: dict[str, str]
) -> Any:
    if name in TEXT_FIELDS or name == "company":
        return text
    if name == "email":
        return normalize.normalize_email(text)
    if name == "phone":
        region = normalize.region_for(country, default_region(session))
        e164, extension = normalize.normalize_phone(text, region)
        if extension:
            extra["phone_ext"] = extension
        return e164
    if name == "priority":
        return normalize.normalize_priority(text)
    if name == "source":
        return normalize.match_choice(text, lists.names(session, "source"), "source")
    if name == "company_size":
        return normalize.parse_count(text, "company size")
    if name in ("annual_revenue", "budget", "deal_value"):
        return normalize.parse_money(text, name.replace("_", " "))
    if name == "authority":
        return normalize.parse_bool(text, "authority")
    if name == "timeline":
        return clock.parse_date(text, "timeline")
    if name == "next_call_at":
        return clock.to_utc(clock.parse_when(text, "next call"))
    if name == "client_id":
        return _client_id(session, text)
    if name == "owner":
        return text
    raise InvalidInput(f"unknown field {name!r}")


def _client_id(session: Session, text: str) -> int:
    from leadctl.models import Client

    if not text.isdigit() or session.get(Client, int(text)) is None:
        raise NotFound(f"no client with id {text}")
    return int(text)


@dataclass
class Duplicate:
    lead: Lead
    reason: str


def find_duplicates(
    session: Session,
    *,
    email: str | None,
    phone: str | None,
    company: str | None,
    name: str | None,
    exclude: Iterable[int] = (),
) -> list[Duplicate]:
    """Active leads that are the same person: same email, phone, or company + similar name."""
    found: dict[int, Duplicate] = {}
    excluded = set(exclude)

    def consider(statement: Any, reason: str, accept: Any = None) -> None:
        for lead in session.exec(statement.where(col(Lead.merged_into).is_(None))):
            if (
                lead.id not in found
                and lead.id not in excluded
                and (accept is None or accept(lead))
            ):
                found[lead.id] = Duplicate(lead, reason)

    key = normalize.email_key(email)
    if key:
        consider(select(Lead).where(Lead.email_key == key), "same email")
    if phone:
        consider(select(Lead).where(Lead.phone == phone), "same phone")
    company_key = normalize.company_key(company)
    if company_key and name:
        from rapidfuzz import fuzz

        def similar(lead: Lead) -> bool:
            score = fuzz.token_sort_ratio(lead.name.casefold(), name.casefold())
            return score >= SIMILAR_NAME_SCORE

        consider(
            select(Lead).where(Lead.company_key == company_key),
            "same company and similar name",
            similar,
        )
    return list(found.values())


@dataclass
class AddResult:
    lead: Lead
    outcome: str  # created | merged | skipped
    duplicate: Duplicate | None = None
    filled: list[str] = field(default_factory=list)


def add(
    session: Session,
    values: dict[str, Any],
    *,
    actor: str,
    on_duplicate: str | None = None,
    notes: str | None = None,
) -> AddResult:
    """Create a lead from validated values, or resolve it against a duplicate.

    Without ``on_duplicate`` a duplicate raises :class:`DuplicateLead` (exit 3)
    so the caller can ask a person or fail a script.
    """
    if not values.get("name"):
        raise InvalidInput("invalid name: a lead needs a name")
    if not values.get("email") and not values.get("phone"):
        raise InvalidInput("a lead needs an email or a phone (--email or --phone)")
    if on_duplicate is not None and on_duplicate not in ON_DUPLICATE:
        raise invalid_choice("--on-duplicate", on_duplicate, ON_DUPLICATE)
    if on_duplicate != "create":
        duplicates = find_duplicates(
            session,
            email=values.get("email"),
            phone=values.get("phone"),
            company=values.get("company"),
            name=values.get("name"),
        )
        if duplicates:
            dup = duplicates[0]
            if on_duplicate is None:
                raise DuplicateLead(
                    f"duplicate of lead {dup.lead.id} ({dup.lead.name}): {dup.reason}; "
                    "use --on-duplicate merge|create|skip",
                    dup.lead.id,  # type: ignore[arg-type]
                    dup.reason,
                )
            if on_duplicate == "skip":
                return AddResult(dup.lead, "skipped", dup)
            filled = fill_blanks(session, dup.lead, values, actor=actor, notes=notes)
            return AddResult(dup.lead, "merged", dup, filled)
    now = clock.now()
    lead = Lead(
        **{k: v for k, v in values.items() if k not in ("tags", "fields")},
        tags=json.dumps(values.get("tags", []), ensure_ascii=False),
        fields=json.dumps(values.get("fields", {}), ensure_ascii=False),
        created_at=values.get("created_at") or now,
        updated_at=now,
    )
    session.add(lead)
    session.flush()
    activities.record(
        session, lead.id, "created", actor, field="status", new=lead.status, at=lead.created_at
    )  # type: ignore[arg-type]
    if notes:
        activities.record(session, lead.id, "note", actor, body=notes)  # type: ignore[arg-type]
    rescore(session, lead)
    return AddResult(lead, "created")


def fill_blanks(
    session: Session,
    lead: Lead,
    values: dict[str, Any],
    *,
    actor: str,
    notes: str | None = None,
    kind: str = "merge",
) -> list[str]:
    """Merge values into a lead: fill its blanks, never overwrite, union tags and fields.

    Records one activity naming what was filled; returns the filled field names.
    """
    current = {name: getattr(lead, name) for name in values if hasattr(lead, name)}
    changes = blanks_filled(current | {"tags": lead.tags, "fields": lead.fields}, values)
    for name, value in changes.items():
        setattr(lead, name, value)
    filled = filled_names(changes)
    if notes:
        activities.record(session, lead.id, "note", actor, body=notes)  # type: ignore[arg-type]
    if filled or notes:
        lead.updated_at = clock.now()
        body = f"filled {', '.join(filled)}" if filled else "nothing to fill"
        activities.record(session, lead.id, kind, actor, body=body)  # type: ignore[arg-type]
        session.add(lead)
    if filled:
        rescore(session, lead)
    return filled


def blanks_filled(
    current: Mapping[str, Any],
    values: Mapping[str, Any],
    never: Collection[str] = ("created_at",),
) -> dict[str, Any]:
    """The merge rule, for a stored lead's ``current`` values (``tags`` and
    ``fields`` as stored JSON text): the changes that fill its blanks from
    ``values`` without overwriting anything, plus new tags and custom fields."""
    changes = {
        name: value
        for name, value in values.items()
        if name not in never
        and name not in ("tags", "fields")
        and value not in (None, "")
        and current.get(name) in (None, "")
    }
    tags = json.loads(current["tags"])
    new_tags = [t for t in values.get("tags") or [] if t not in tags]
    if new_tags:
        changes["tags"] = json.dumps(tags + new_tags, ensure_ascii=False)
    fields = json.loads(current["fields"])
    new_fields = {k: v for k, v in (values.get("fields") or {}).items() if k not in fields}
    if new_fields:
        changes["fields"] = json.dumps(fields | new_fields, ensure_ascii=False)
    return changes


def filled_names(changes: Mapping[str, Any]) -> list[str]:
    """What a merge filled, as told to people (derived match keys left out)."""
    return [name for name in changes if not name.endswith("_key")]


def edit(
    session: Session, lead: Lead, values: dict[str, Any], *, actor: str, kind: str = "edit"
) -> list[str]:
    """Apply validated values, one activity per changed field; returns what changed."""
    changed: list[str] = []
    for name, value in values.items():
        if name in ("email_key", "company_key"):
            setattr(lead, name, value)
            continue
        if name == "tags":  # tags given to edit are added to the lead's own
            current = json.loads(lead.tags)
            value = json.dumps(current + [t for t in value if t not in current], ensure_ascii=False)
        if name == "fields":
            value = json.dumps(json.loads(lead.fields) | value, ensure_ascii=False)
        old = getattr(lead, name)
        if old == value:
            continue
        setattr(lead, name, value)
        changed.append(name)
        activities.record(session, lead.id, kind, actor, field=name, old=old, new=value)  # type: ignore[arg-type]
    if not lead.email and not lead.phone:
        raise InvalidInput("a lead needs an email or a phone; set one before clearing the other")
    if changed:
        lead.updated_at = clock.now()
        session.add(lead)
        rescore(session, lead)
    return changed


@dataclass
class ListQuery:
    status: str | None = None
    source: str | None = None
    owner: str | None = None  # a name, or None
    unassigned: bool = False
    claimed: bool = False  # only leads on a live (unexpired) claim
    band: str | None = None
    tag: str | None = None
    due: str | None = None
    search: str | None = None
    sort: str = "next-call"
    limit: int | None = 50
    offset: int = 0
    extra: list[Any] = field(default_factory=list)  # further WHERE clauses (visibility, claims)


BANDS = ["cold", "warm", "hot"]


SEARCH_MAX = 1000


def make_query(actor: str, *, owner: str | None = None, **options: Any) -> ListQuery:
    """A :class:`ListQuery` from command-line filters, checked (exit 1 naming the
    accepted values) and with ``--owner me|unassigned`` resolved for ``actor``."""
    if options.get("sort", "next-call") not in SORTS:
        raise invalid_choice("--sort", options["sort"], SORTS)
    if options.get("band") and options["band"] not in BANDS:
        raise invalid_choice("--band", options["band"], BANDS)
    if options.get("due") and options["due"] not in DUE:
        raise invalid_choice("--due", options["due"], DUE)
    for name in ("search", "tag"):  # SQLite refuses long LIKE patterns
        if len(options.get(name) or "") > SEARCH_MAX:
            raise InvalidInput(f"--{name} is too long: at most {SEARCH_MAX:,} characters")
    if options.get("limit", 0) < 0 or options.get("offset", 0) < 0:
        raise InvalidInput("--limit and --offset must not be negative")
    if "limit" in options:
        options["limit"] = options["limit"] or None  # 0: all
    return ListQuery(
        owner=actor if owner == "me" else (None if owner == "unassigned" else owner),
        unassigned=owner == "unassigned",
        **options,
    )


def list_leads(session: Session, query: ListQuery) -> Sequence[Lead]:
    """Leads matching the query, sorted and paged by SQLite (indexes and LIMIT)."""
    return session.exec(list_statement(session, query)).all()


def list_statement(session: Session, query: ListQuery) -> Any:
    """The SELECT behind :func:`list_leads`, for callers that stream it (export)."""
    statement = select(Lead).where(col(Lead.merged_into).is_(None), *query.extra)
    if query.status:
        statement = statement.where(Lead.status == lists.find(session, "status", query.status).name)
    if query.source:
        statement = statement.where(Lead.source == lists.find(session, "source", query.source).name)
    if query.unassigned:
        statement = statement.where(col(Lead.owner).is_(None))
    elif query.owner:
        statement = statement.where(Lead.owner == query.owner)
    if query.claimed:
        statement = statement.where(
            col(Lead.claimed_by).is_not(None), col(Lead.claim_expires_at) > clock.now()
        )
    if query.band:
        statement = statement.where(Lead.band == query.band)
    if query.tag:
        statement = statement.where(col(Lead.tags).contains(json.dumps(query.tag)))
    if query.due:
        statement = statement.where(col(Lead.next_call_at) < _due_before(query.due))
    if query.search:
        pattern = f"%{query.search.strip().lower()}%"
        statement = statement.where(
            or_(
                *(
                    func.lower(c).like(pattern)
                    for c in (Lead.name, Lead.email, Lead.phone, Lead.company)
                )
            )
        )
    if query.sort == "score":
        statement = statement.order_by(col(Lead.score).desc(), col(Lead.created_at), col(Lead.id))
    elif query.sort == "created":
        statement = statement.order_by(col(Lead.created_at).desc(), col(Lead.id).desc())
    else:
        statement = statement.order_by(
            col(Lead.next_call_at).is_(None),
            col(Lead.next_call_at),
            col(Lead.score).desc(),
            col(Lead.id),
        )
    if query.limit:
        statement = statement.limit(query.limit)
    if query.offset:
        statement = statement.offset(query.offset)
    return statement


def _due_before(due: str) -> datetime:
    now = clock.now()
    if due == "overdue":
        return clock.to_utc(now)
    if due == "today":
        end = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            days=1
        )
        return clock.to_utc(end)
    if due == "week":
        return clock.to_utc(now + timedelta(days=7))
    raise InvalidInput(f"invalid --due {due!r}: expected one of {', '.join(DUE)}")


def to_dict(lead: Lead) -> dict[str, Any]:
    """The JSON lead object of SPEC: its keys, null where unset, times in UTC."""
    data: dict[str, Any] = {}
    for key in LEAD_JSON_KEYS:
        value = getattr(lead, key)
        if key in DATETIME_FIELDS:
            value = clock.iso(value)
        elif key == "timeline" and value is not None:
            value = value.isoformat()
        elif key in ("tags", "fields"):
            value = json.loads(value)
        data[key] = value
    return data


def is_overdue(lead: Lead) -> bool:
    return lead.next_call_at is not None and lead.next_call_at < clock.now()


def log_activity(
    session: Session,
    lead: Lead,
    kind: str,
    actor: str,
    *,
    body: str | None = None,
    outcome: str | None = None,
) -> activities.Activity:
    """Record a note, contact or engagement on a lead: a first contact stamps
    the lead, and the engagement counts in its score at once."""
    if kind == "note" and not (body or "").strip():
        raise InvalidInput("a note needs some text")
    activity = activities.record(session, lead.id, kind, actor, body=body, outcome=outcome)  # type: ignore[arg-type]
    if kind in activities.CONTACT_KINDS and lead.first_contacted_at is None:
        lead.first_contacted_at = activity.created_at
    lead.updated_at = activity.created_at
    session.add(lead)
    session.flush()
    rescore(session, lead)
    return activity


def rescore(session: Session, lead: Lead) -> None:
    """Bring a changed lead's score up to date (scoring is imported only here,
    when a lead changes, so listing never loads it)."""
    from leadctl import scoring

    scoring.rescore_lead(session, lead)
