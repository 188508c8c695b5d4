"""Leads: validating fields, creating (duplicates: ``leadctl.duplicates``), editing, listing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from leadctl import activities, clock, duplicates, fields, lists, normalize, users
from leadctl.duplicates import Duplicate
from leadctl.errors import Conflict, DuplicateLead, InvalidInput, NotFound, invalid_choice
from leadctl.models import Activity, Lead
from leadctl.users import Actor

ON_DUPLICATE = ["merge", "create", "skip"]
SORTS = ["next-call", "score", "created"]
DUE = ["today", "overdue", "week"]
TEXT_FIELDS = fields.TEXT_FIELDS
DATETIME_FIELDS = fields.DATETIME_FIELDS
BANDS = list(fields.BANDS)


def get(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound(f"no lead with id {lead_id}")
    return lead


# --- loading a lead for an actor: the one gate of every read and change of one lead ---------


def for_view(session: Session, who: Actor, lead_id: int) -> Lead:
    """A lead the actor may see (exit 1 when there is none, 4 when it is not theirs to see)."""
    lead = get(session, lead_id)
    users.require_visible(who, lead)
    return lead


def for_change(
    session: Session, who: Actor, lead_id: int, doing: str, *, lock: bool = False
) -> Lead:
    """A lead the actor is about to change, whatever the change.

    Every lead-changing operation loads its leads here (the pool's rules for
    claims and assignments build on it; :func:`for_work` adds SPEC's rule for
    working a lead): viewers change nothing (exit 4), a rep only a lead they may
    see (exit 4), and a merged (archived) lead refuses every change (exit 3,
    naming the lead it was merged into). ``lock`` row-locks it on PostgreSQL.
    """
    lead = session.get(Lead, lead_id, with_for_update=lock) if lock else session.get(Lead, lead_id)
    if lead is None:
        raise NotFound(f"no lead with id {lead_id}")
    check_change(who, lead, doing)
    return lead


def check_change(who: Actor, lead: users.LeadState, doing: str) -> None:
    """:func:`for_change`'s rules on a lead already loaded (a bulk command loads
    thousands in one SELECT and checks each here)."""
    if not who.works_any:
        users.require_permission(
            who, "manage", f"{doing} lead {lead.id} (viewers change nothing)", [lead]
        )
        users.require_visible(who, lead)
    if lead.merged_into:
        raise Conflict(f"lead {lead.id} was merged into lead {lead.merged_into}")


def check_work(who: Actor, lead: users.LeadState, doing: str) -> None:
    """:func:`for_work`'s rules on a lead already loaded."""
    check_change(who, lead, doing)
    users.require_work(who, lead, doing)


def for_work(session: Session, who: Actor, lead_id: int, doing: str) -> Lead:
    """A lead the actor is about to work (edit, status, log, schedule, score, convert,
    merge): :func:`for_change`, and a rep may not work a pool lead someone else
    holds on a live claim (exit 3, naming the holder)."""
    lead = for_change(session, who, lead_id, doing)
    users.require_work(who, lead, doing)
    return lead


def validate(
    session: Session, raw: dict[str, Any], *, country: str | None = None
) -> dict[str, Any]:
    """Turn option values into stored values, refusing any bad one (exit 1).

    ``raw`` maps field names to text ('' clears a field); ``tags`` and ``fields``
    come as a list and a dict. ``country`` is the lead's current country, used
    for phone numbers when ``raw`` does not set one.
    """
    values: dict[str, Any] = {}
    context = fields.StrictContext(session, raw.get("country") or country)
    for name, given in raw.items():
        if given is None:
            continue
        if name == "tags":
            values["tags"] = normalize.parse_tags(given)
            continue
        if name == "fields":
            context.extra.update(given)
            continue
        text = normalize.clean(given)
        if text is None:
            spec = fields.BY_NAME.get(name)
            if spec is not None and spec.required:
                raise InvalidInput(f"invalid {name}: must not be empty")
            if spec is not None and spec.default is not None:
                # always set (priority: medium): its own parser refuses the empty text
                values[name] = fields.parse_strict(name, given, context)
                continue
            values[name] = None
            continue
        values[name] = fields.parse_strict(name, text, context)
    if "email" in values:
        values["email_key"] = normalize.email_key(values["email"])
    if "company" in values:
        values["company_key"] = normalize.company_key(values["company"])
    if context.extra:
        values["fields"] = context.extra
    return values


@dataclass
class AddResult:
    lead: Lead
    outcome: str  # created | merged | skipped
    duplicate: Duplicate | None = None
    filled: list[str] = field(default_factory=list)
    # other people sharing its email or phone (names that differ): linked, not merged
    shared: list[tuple[int, str, str]] = field(default_factory=list)  # (id, name, "email"…)


def add(
    session: Session,
    who: Actor,
    values: dict[str, Any],
    *,
    on_duplicate: str | None = None,
    notes: str | None = None,
) -> AddResult:
    """Create a lead from validated values, or resolve it against a duplicate.

    Needs the create permission (exit 4). Without ``on_duplicate`` a duplicate
    raises :class:`DuplicateLead` (exit 3) so the caller can ask a person or
    fail a script. A duplicate the actor may not see is exit 3 naming nothing,
    whatever ``on_duplicate`` says (``duplicates.refusal``); so a limited
    actor's ``create`` looks too. A lead created with an owner has that
    assignment in its timeline too.
    """
    users.require_permission(who, "create", "add leads")
    if values.get("client_id") is not None:
        users.require_client_visible(session, who, values["client_id"])
    actor = who.name
    if not values.get("name"):
        raise InvalidInput("invalid name: a lead needs a name")
    if not values.get("email") and not values.get("phone"):
        raise InvalidInput("a lead needs an email or a phone (--email or --phone)")
    if on_duplicate is not None and on_duplicate not in ON_DUPLICATE:
        raise invalid_choice("--on-duplicate", on_duplicate, ON_DUPLICATE)
    if on_duplicate != "create" or not who.works_any:
        found = duplicates.find(session, values)
        if found:
            dup = found[0]
            refused = duplicates.refusal(who, dup.lead, dup.reason, writing=on_duplicate == "merge")
            if refused is not None:
                raise refused
            if on_duplicate is None:
                assert dup.lead.id is not None  # a stored lead
                raise DuplicateLead(
                    f"duplicate of lead {dup.lead.id} ({dup.lead.name}): {dup.reason}; "
                    "use --on-duplicate merge|create|skip",
                    dup.lead.id,
                    dup.reason,
                )
            if on_duplicate == "skip":
                return AddResult(dup.lead, "skipped", dup)
            if on_duplicate == "merge":
                filled = duplicates.fill_lead(session, dup.lead, values, actor=actor, notes=notes)
                return AddResult(dup.lead, "merged", dup, filled)
    now = clock.now()
    if values.get("next_call_at") is None:  # the first_call_after setting, when set
        from leadctl import followup

        values = dict(values)
        followup.first_calls(session.connection(), [values], now)
    created = values.get("created_at") or now
    lead = Lead(
        **{k: v for k, v in values.items() if k not in ("tags", "fields")},
        tags=json.dumps(values.get("tags", []), ensure_ascii=False),
        fields=json.dumps(values.get("fields", {}), ensure_ascii=False),
        created_at=created,
        updated_at=now,
        touched_at=created,  # aging counts from its arrival (``activities.TOUCH_KINDS``)
    )
    session.add(lead)
    session.flush()
    assert lead.id is not None  # the flush stored it
    activities.record(
        session, lead.id, "created", actor, field="status", new=lead.status, at=lead.created_at
    )
    if lead.owner:  # the first owner belongs in the timeline too
        activities.record(
            session, lead.id, "assign", actor, field="owner", new=lead.owner, body="on add"
        )
    if notes:
        activities.record(session, lead.id, "note", actor, body=notes)
    linked = []
    for other, word in duplicates.shared(session, values, exclude=[lead.id]):
        if not users.may_see(who, other):
            continue  # a limited user learns nothing of a lead they may not see
        assert other.id is not None  # a stored lead
        linked.append((other.id, other.name, word))
        rows = duplicates.link_rows(
            word, (lead.id, lead.name), (other.id, other.name), how="added", actor=actor
        )
        activities.record_many(session.connection(), rows)
    rescore(session, lead)
    return AddResult(lead, "created", shared=linked)


def edit(session: Session, who: Actor, lead_id: int, raw: dict[str, Any]) -> tuple[Lead, list[str]]:
    """Change one lead's fields (``editing.edit`` with one id); returns the lead
    and what changed."""
    from leadctl import editing

    done = editing.edit(session, who, [lead_id], raw)
    changed = [a.field for c in done.changes for a in c.rows if a.field]
    return session.get_one(Lead, lead_id, populate_existing=True), changed


def schedule(session: Session, who: Actor, lead_id: int, when: str) -> Lead:
    """Set one lead's next call (``followup.schedule`` with one id)."""
    from leadctl import followup

    followup.schedule(session, who, [lead_id], when)
    return session.get_one(Lead, lead_id, populate_existing=True)


@dataclass
class ListQuery:
    statuses: list[str] = field(default_factory=list)  # names, or the groups open / closed
    open_only: bool = False  # no status given: open leads only (`list` without --all)
    source: str | None = None
    owner: str | None = None  # a name, or None
    unassigned: bool = False
    claimed: bool = False  # only leads on a live (unexpired) claim
    band: str | None = None
    stage: str | None = None  # lifecycle stage (``leadctl.stages``)
    rotting: bool = False  # only leads left untouched past their status's time (``leadctl.aging``)
    tag: str | None = None
    due: str | None = None
    search: str | None = None
    sort: str = "next-call"
    limit: int | None = 50
    offset: int = 0
    extra: list[Any] = field(default_factory=list)  # further WHERE clauses


SEARCH_MAX = 1000


def make_query(
    actor: str,
    *,
    owner: str | None = None,
    status: str | Sequence[str] | None = None,
    **options: Any,
) -> ListQuery:
    """A :class:`ListQuery` from command-line filters, checked (exit 1 naming the
    accepted values) and with ``--owner me|unassigned`` resolved for ``actor``.
    ``status`` is one status or several; ``open`` and ``closed`` name the groups."""
    if options.get("sort", "next-call") not in SORTS:
        raise invalid_choice("--sort", options["sort"], SORTS)
    if options.get("band") and options["band"] not in BANDS:
        raise invalid_choice("--band", options["band"], BANDS)
    if options.get("stage") and options["stage"] not in fields.STAGES:
        raise invalid_choice("--stage", options["stage"], list(fields.STAGES))
    if options.get("due") and options["due"] not in DUE:
        raise invalid_choice("--due", options["due"], DUE)
    for name in ("search", "tag"):  # SQLite refuses long LIKE patterns
        if len(options.get(name) or "") > SEARCH_MAX:
            raise InvalidInput(
                f"--{name} is too long: at most {SEARCH_MAX:,} characters "
                f"(this one has {len(options[name]):,})"
            )
    if options.get("limit", 0) < 0 or options.get("offset", 0) < 0:
        raise InvalidInput("--limit and --offset must not be negative")
    if "limit" in options:
        options["limit"] = options["limit"] or None  # 0: all
    return ListQuery(
        statuses=[status] if isinstance(status, str) else list(status or []),
        owner=actor if owner == "me" else (None if owner == "unassigned" else owner),
        unassigned=owner == "unassigned",
        **options,
    )


@dataclass
class Page:
    """One page of :func:`list_page`: the leads, and how many match in all when
    the limit cut some (None when nothing was cut)."""

    leads: Sequence[Lead]
    total: int | None = None


def list_leads(session: Session, who: Actor, query: ListQuery) -> Sequence[Lead]:
    """Leads the actor may see matching the query, sorted and paged by the
    database (indexes and LIMIT)."""
    return session.exec(list_statement(session, who, query)).all()


def list_page(session: Session, who: Actor, query: ListQuery) -> Page:
    """:func:`list_leads`, saying how many match in all when the limit cuts rows:
    one row more than asked is read, and only then are the matches counted."""
    if not query.limit:
        return Page(list_leads(session, who, query))
    probe = replace(query, limit=query.limit + 1)
    found = list_leads(session, who, probe)
    if len(found) <= query.limit:
        return Page(found)
    counting = select(func.count()).select_from(Lead).where(*filters(session, who, query))
    return Page(found[: query.limit], session.exec(counting).one())


def list_statement(session: Session, who: Actor, query: ListQuery) -> SelectOfScalar[Lead]:
    """The SELECT behind :func:`list_leads`, for callers that stream it (export):
    always within the actor's scope (:func:`users.visible_clauses`)."""
    statement = select(Lead).where(*filters(session, who, query))
    if query.sort == "score":
        statement = statement.order_by(col(Lead.score).desc(), col(Lead.created_at), col(Lead.id))
    elif query.sort == "created":
        statement = statement.order_by(col(Lead.created_at).desc(), col(Lead.id).desc())
    elif session.get_bind().dialect.name == "postgresql":
        # The same order, written so that PostgreSQL walks the next-call index
        # (ascending puts NULLs last there) and LIMIT stops the walk: the
        # ``IS NULL`` term below made it sort every open lead (100 ms at 100k).
        statement = statement.order_by(
            col(Lead.next_call_at).asc().nulls_last(), col(Lead.score).desc(), col(Lead.id)
        )
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


def filters(session: Session, who: Actor, query: ListQuery) -> list[Any]:
    """The WHERE clauses of a query: the actor's scope, then its filters."""
    from leadctl import textmatch

    clauses: list[Any] = [
        col(Lead.merged_into).is_(None),
        *users.visible_clauses(who),
        *query.extra,
    ]
    dialect = session.get_bind().dialect.name
    closed: list[str] | None = None
    if query.statuses or query.open_only or query.due:
        closed = lists.closed_statuses(session)
    if query.statuses:
        clauses.append(_status_clause(session, query.statuses, closed or []))
    elif query.open_only:
        clauses.append(col(Lead.status).not_in(closed or []))
    if query.source:
        clauses.append(col(Lead.source) == lists.find(session, "source", query.source).name)
    if query.unassigned:
        clauses.append(col(Lead.owner).is_(None))
    elif query.owner:
        clauses.append(col(Lead.owner) == query.owner)
    if query.claimed:
        clauses += [col(Lead.claimed_by).is_not(None), col(Lead.claim_expires_at) > clock.now()]
    if query.band:
        clauses.append(col(Lead.band) == query.band)
    if query.stage:
        clauses.append(col(Lead.stage) == query.stage)
    if query.rotting:
        from leadctl import aging

        clauses.append(aging.load(session).clause(clock.now()))
    collation = textmatch.fold_collation(session) if query.tag or query.search else None
    if query.tag:
        # tags are one JSON array: the tag with its quotes matches one whole element
        tag = json.dumps(query.tag.strip(), ensure_ascii=False)
        clauses += [col(Lead.tags) != "[]", textmatch.contains(Lead.tags, tag, dialect, collation)]
    if query.due:
        # a closed lead's call is no call to make, whatever --status or --all say
        clauses += [col(Lead.next_call_at) < due_before(query.due)]
        clauses += [col(Lead.status).not_in(closed or [])]
    if query.search:
        text = query.search.strip()
        clauses.append(
            or_(
                *(
                    textmatch.contains(c, text, dialect, collation)
                    for c in (Lead.name, Lead.email, Lead.company)
                ),
                col(Lead.phone).contains(text, autoescape=True),
            )
        )
    return clauses


def _status_clause(session: Session, given: Sequence[str], closed: list[str]) -> Any:
    """Leads in any of the statuses given (names, or the groups open / closed)."""
    names: list[str] = []
    either: list[Any] = []
    for status in given:
        group = status.strip().casefold()
        if group == "open":
            either.append(col(Lead.status).not_in(closed))
        elif group == "closed":
            either.append(col(Lead.status).in_(closed))
        else:
            names.append(lists.find(session, "status", status).name)
    if names:
        either.append(col(Lead.status).in_(names))
    return or_(*either)


def due_before(due: str) -> datetime:
    """The time before which a next call is due: now (overdue), the end of today
    (local time), or a week from now."""
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


def to_dict(lead: Lead | Row[Any]) -> dict[str, Any]:
    """The JSON lead object of SPEC: its keys, null where unset, times in UTC.

    ``lead`` is a Lead, or a row of the lead table's columns (export streams those).
    ``rotting`` is computed (``leadctl.aging``) by the rules the command loaded."""
    from leadctl import aging

    data: dict[str, Any] = {}
    for key, convert in fields.JSON_CONVERTERS:
        value = getattr(lead, key)
        data[key] = value if convert is None else convert(value)
        if key == fields.COMPUTED_KEYS["rotting"]:
            data["rotting"] = aging.rotting(lead)
    return data


def is_overdue(lead: Lead) -> bool:
    return lead.next_call_at is not None and lead.next_call_at < clock.now()


def history(session: Session, who: Actor, lead_id: int) -> tuple[Lead, list[Activity]]:
    """A lead the actor may see and its whole timeline (with the leads merged into it)."""
    lead = for_view(session, who, lead_id)
    return lead, activities.timeline(session, [lead_id])


def log_activity(
    session: Session,
    who: Actor,
    lead_id: int,
    kind: str,
    *,
    body: str | None = None,
    outcome: str | None = None,
) -> Activity:
    """Record a note, contact or engagement on one lead (``followup.log``)."""
    from leadctl import followup

    followup.log(session, who, [lead_id], kind, body=body, outcome=outcome)
    return followup.last_activity(session, lead_id, kind)


def rescore(session: Session, lead: Lead) -> None:
    """Bring a changed lead's score up to date (scoring is imported only here,
    when a lead changes, so listing never loads it)."""
    from leadctl import scoring

    scoring.rescore_lead(session, lead)
