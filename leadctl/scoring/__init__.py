"""Lead scoring: rules in TOML, kept in the database, applied per lead or set-based.

- :func:`current_rules` / :func:`store_rules`: the rule set in force (the
  ``scoring_rules`` setting, else the shipped ``default.toml``).
- :func:`rescore_lead`: one lead, in Python, returning its explanation; called
  whenever a lead changes or an activity is logged.
- :func:`rescore`: many or all leads in a few set-based statements (``batch``);
  what `score`, rule changes and imports use.
- :func:`adjust`: the manual adjustment, which survives every recompute.
- :func:`change_rules`, :func:`score_lead`, :func:`adjust`: what `score` does for
  an actor, each checking the actor's rights itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from leadctl import activities, clock, settings
from leadctl.errors import InvalidInput
from leadctl.models import ACTIVITY, LEAD, Lead, id_of
from leadctl.scoring.evaluate import Explanation, Line, explain
from leadctl.scoring.rules import RuleSet, default_text, parse, parse_stored

if TYPE_CHECKING:
    from leadctl.scoring.batch import Rescored
    from leadctl.scoring.whatif import WhatIf
    from leadctl.users import Actor

__all__ = [
    "RULES_KEY",
    "Explanation",
    "Line",
    "RuleSet",
    "adjust",
    "change_rules",
    "current_rules",
    "explain_lead",
    "preview_rules",
    "rescore",
    "rescore_all",
    "rescore_lead",
    "score_lead",
    "store_rules",
]

RULES_KEY = "scoring_rules"
MAX_ADJUSTMENT = 100


def current_rules(target: OrmSession | Connection) -> RuleSet:
    """The stored rule set, else the shipped default."""
    text = settings.stored(target, RULES_KEY)
    return parse_stored(text if text is not None else default_text())


def store_rules(session: Session, text: str, source: str) -> RuleSet:
    """Validate ``text`` whole, then store it; nothing is stored when it is invalid."""
    rules = parse(text, source)
    settings.store(session, RULES_KEY, text)
    return rules


def rescore(
    target: OrmSession | Connection,
    lead_ids: Sequence[int] | None = None,
    *,
    above: int | None = None,
) -> Rescored:
    """Recompute scores of ``lead_ids`` (all leads when None; with ``above``,
    those with a higher id), set-based.

    Accepts a session (pending changes are flushed first, and leads it holds
    are refreshed) or a plain connection, e.g. an import's batch transaction.
    """
    from leadctl.scoring import batch

    if isinstance(target, OrmSession):
        target.flush()
        conn = target.connection()
    else:
        conn = target
    result = batch.rescore(conn, current_rules(conn), clock.now(), lead_ids, above=above)
    if isinstance(target, OrmSession):
        _refresh_held(target, lead_ids)
    return result


def _refresh_held(session: OrmSession, lead_ids: Sequence[int] | None) -> None:
    """Give Lead objects already in the session the scores just written under them."""
    from sqlalchemy.orm.attributes import set_committed_value

    wanted = None if lead_ids is None else set(lead_ids)
    held = {
        obj.id: obj
        for obj in session.identity_map.values()
        if isinstance(obj, Lead) and (wanted is None or obj.id in wanted)
    }
    ids = list(held)
    for start in range(0, len(ids), 500):
        rows = session.connection().execute(
            select(LEAD.c.id, LEAD.c.score, LEAD.c.band, LEAD.c.stage).where(
                LEAD.c.id.in_(ids[start : start + 500])
            )
        )
        for lead_id, score, band, stage in rows:
            set_committed_value(held[lead_id], "score", score)
            set_committed_value(held[lead_id], "band", band)
            set_committed_value(held[lead_id], "stage", stage)


def engagements(session: Session, lead_id: int, kinds: Sequence[str]) -> list[tuple[str, Any]]:
    """(kind, time) of the lead's activities that behavioural rules count."""
    if not kinds:
        return []
    statement = select(ACTIVITY.c.kind, ACTIVITY.c.created_at).where(
        ACTIVITY.c.lead_id == lead_id, ACTIVITY.c.kind.in_(list(kinds))
    )
    return [(kind, when) for kind, when in session.connection().execute(statement)]


def explain_lead(session: Session, lead: Lead, *, now: datetime | None = None) -> Explanation:
    """The lead's score under the current rules, with every step; stores nothing."""
    rules = current_rules(session)
    session.flush()
    found = engagements(session, id_of(lead), [e.kind for e in rules.behavioral.kinds])
    return explain(
        rules,
        lambda name: getattr(lead, name),
        found,
        adjustment=lead.score_adjustment or 0,
        now=now or clock.now(),
        lead_id=lead.id,
    )


def rescore_lead(session: Session, lead: Lead) -> Explanation:
    """Recompute one lead's score, band and stage (on the object; the session
    stores it)."""
    from leadctl import stages

    explanation = explain_lead(session, lead)
    if lead.score != explanation.score or lead.band != explanation.band:
        lead.score = explanation.score
        lead.band = explanation.band
        session.add(lead)
    stage = stages.thresholds(session).stage_of(lead.score, lead.status)
    if stage != lead.stage:
        stages.record_change(session.connection(), id_of(lead), lead.stage, stage)
        lead.stage = stage
        session.add(lead)
    return explanation


def change_rules(session: Session, who: Actor, text: str, source: str) -> Rescored:
    """Store a new rule set (admin; exit 4 otherwise) and rescore every lead by it."""
    from leadctl.users import require_permission

    require_permission(who, "admin", "change the scoring rules")
    store_rules(session, text, source)
    return rescore(session)


def preview_rules(
    session: Session, who: Actor, text: str | None, source: str, *, limit: int
) -> WhatIf:
    """What `score --rules FILE` (``text``; admin) or a plain `score` (None;
    the rules in force, over the leads the actor may see) would change, with
    the top ``limit`` movers; writes nothing (`score … --dry-run`)."""
    from leadctl.scoring import whatif
    from leadctl.users import require_permission, visible_clauses

    if not 0 <= limit <= whatif.MAX_MOVERS:
        raise InvalidInput(f"invalid --limit {limit}: expected 0 to {whatif.MAX_MOVERS}")
    old = current_rules(session)
    if text is not None:
        require_permission(who, "admin", "change the scoring rules")
        return whatif.preview(session, old, parse(text, source), clock.now(), limit=limit)
    require_permission(who, "manage", "recompute scores")
    scope = tuple(visible_clauses(who))
    return whatif.preview(session, old, old, clock.now(), limit=limit, scope=scope)


def rescore_all(session: Session, who: Actor) -> Rescored:
    """Recompute the scores of every lead the actor may see (`score` without ids).

    Writing scores needs the manage permission (a viewer changes nothing); a
    rep's run covers, and counts, only the leads the rep may see."""
    from leadctl.users import require_permission, visible_clauses

    require_permission(who, "manage", "recompute scores")
    visible = visible_clauses(who)
    if not visible:
        return rescore(session)
    return rescore(session, list(session.execute(select(LEAD.c.id).where(*visible)).scalars()))


def score_lead(session: Session, who: Actor, lead_id: int) -> tuple[Lead, Explanation]:
    """Recompute the score of a lead the actor may see; returns it and its explanation."""
    from leadctl import leads

    lead = leads.for_view(session, who, lead_id)
    return lead, rescore_lead(session, lead)


def adjust(
    session: Session, who: Actor, lead_id: int, points: int, *, reason: str | None
) -> tuple[Lead, Explanation]:
    """Set the manual adjustment (±points, kept across recomputes) of a lead the
    actor may work, audited in the timeline."""
    from leadctl import leads

    lead = leads.for_work(session, who, lead_id, "adjust the score of")
    actor = who.name
    if not reason or not reason.strip():
        raise InvalidInput("--adjust needs --reason: say why the score is adjusted")
    if not -MAX_ADJUSTMENT <= points <= MAX_ADJUSTMENT:
        raise InvalidInput(
            f"invalid adjustment {points}: expected -{MAX_ADJUSTMENT} to +{MAX_ADJUSTMENT}"
        )
    old = lead.score_adjustment or 0
    if points != old:
        activities.record(
            session,
            id_of(lead),
            "score_adjust",
            actor,
            field="score_adjustment",
            old=f"{old:+d}",
            new=f"{points:+d}",
            body=reason.strip(),
        )
        lead.score_adjustment = points
        lead.updated_at = clock.now()
        session.add(lead)
    return lead, rescore_lead(session, lead)
