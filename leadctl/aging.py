"""Per-status aging: when a lead is rotting, the one rule.

Each open or side status may have a "rots after" time (``choice.rots_after``,
seconds; set with `statuses set STATUS --rots-after 2d`; the default statuses
get new 2d, contacted 7d, qualified 14d, nurture 30d). A lead is *rotting*
when its status has one and nobody has worked it for longer: ``now -
touched_at > rots_after`` (``lead.touched_at``, kept by ``leadctl.activities``).
A lead in a final or won status never rots. A lead with no ``touched_at``
(every lead gets one when it arrives; only rows written behind leadctl's back
lack it) counts from its arrival (``created_at``).

The rule has two forms, held equal by the tests: :meth:`Rules.is_rotting`
(Python, for a lead object's ``rotting`` key and the list's mark) and
:meth:`Rules.clause` (SQL: one ``status = S AND touched_at < now - S's time``
per status, OR-ed, each a range of the ``ix_lead_rot`` index; ``list
--rotting`` and the sweep's escalation).

Lead objects are often rendered after their command's transaction has ended,
so the rules a command loaded (:func:`load`, at the start of each CLI
transaction) are also kept for the process (:func:`current`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import ColumnElement

from leadctl import clock
from leadctl.errors import InvalidInput
from leadctl.models import CHOICE, LEAD

ROTTING_ROLES = (None, "open", "side")  # final and won statuses never rot
NEVER = ("off", "never", "none")
MIN_SECONDS = 60
MAX_SECONDS = 3650 * 86_400


@dataclass(frozen=True)
class Rules:
    """Status name → seconds untouched before a lead in it is rotting (only
    statuses that rot)."""

    rots_after: dict[str, int] = field(default_factory=dict)
    # the command's moment (one clock read a command): what "now" is for its leads
    now: datetime | None = None

    def deadline(self, status: str, now: datetime) -> datetime | None:
        """Untouched since before this moment, a lead in ``status`` is rotting."""
        seconds = self.rots_after.get(status)
        return None if seconds is None else now - timedelta(seconds=seconds)

    def is_rotting(
        self,
        status: str | None,
        touched_at: datetime | None,
        now: datetime,
        created_at: datetime | None = None,
    ) -> bool:
        """The rule, in Python (:meth:`clause` is its SQL form)."""
        since = touched_at if touched_at is not None else created_at
        if status is None or since is None:
            return False
        before = self.deadline(status, now)
        return before is not None and clock.as_utc(since) < before

    def clause(self, now: datetime, table: Any = LEAD) -> ColumnElement[bool]:
        """The rule as a WHERE clause on the lead table: one indexed range per status."""
        ranges = []
        for status, seconds in sorted(self.rots_after.items()):
            before = now - timedelta(seconds=seconds)
            ranges.append(and_(table.c.status == status, table.c.touched_at < before))
            # never touched: counted from creation. Written through coalesce so that
            # the only indexed terms are status and touched_at IS NULL (ix_lead_rot):
            # a range on created_at would read every old lead of the status
            since = func.coalesce(table.c.touched_at, table.c.created_at)
            never = and_(table.c.touched_at.is_(None), since < before)
            ranges.append(and_(table.c.status == status, never))
        return or_(*ranges) if ranges else false()


_CURRENT: ContextVar[Rules | None] = ContextVar("leadctl_aging_rules", default=None)


def load(target: OrmSession | Connection) -> Rules:
    """The rules stored now (kept for :func:`current` too)."""
    conn = target if isinstance(target, Connection) else target.connection()
    statement = select(CHOICE.c.name, CHOICE.c.role, CHOICE.c.rots_after).where(
        CHOICE.c.list == "status", CHOICE.c.rots_after.is_not(None)
    )
    rows = conn.execute(statement)
    found = Rules(
        {name: int(seconds) for name, role, seconds in rows if role in ROTTING_ROLES}, clock.now()
    )
    _CURRENT.set(found)
    return found


def current() -> Rules:
    """The rules the last transaction of this process loaded (none: nothing rots)."""
    return _CURRENT.get() or Rules()


def rotting(lead: Any, rules: Rules | None = None) -> bool:
    """Whether a lead (object or row with ``status`` and ``touched_at``) is
    rotting, by ``rules`` (default: :func:`current`) at their moment."""
    chosen = rules if rules is not None else current()
    if not chosen.rots_after or getattr(lead, "merged_into", None):
        return False
    now = chosen.now or clock.now()
    return chosen.is_rotting(lead.status, lead.touched_at, now, lead.created_at)


# --- the rots-after time as people write it ----------------------------------------------


def parse(text: str) -> int | None:
    """``--rots-after``: a duration (``30m``, ``2h``, ``3d``, ``1w``; a bare
    number is hours), kept in whole minutes, or ``off``/``never`` (None)."""
    if text.strip().lower() in NEVER:
        return None
    span = clock.parse_duration(text, "--rots-after")
    seconds = round(span.total_seconds() / 60) * 60
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise InvalidInput(
            f"invalid --rots-after {text!r}: expected off or a duration from 1m to 3650d, "
            "like 30m, 2h, 3d or 1w (a bare number is hours)"
        )
    return seconds


def describe(seconds: int | None) -> str | None:
    """Seconds as the shortest duration that says them exactly: ``2d``, ``36h``, ``90m``."""
    if seconds is None:
        return None
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds / 60:g}m"


def span(seconds: float) -> str:
    """How long, in words: ``3 days``, ``5 hours``, ``20 minutes``."""
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "under a minute"


def set_rots_after(session: OrmSession, who: Any, name: str, text: str) -> Any:
    """`statuses set NAME --rots-after DURATION` (admin): an open or side
    status only; a final or won one never rots (exit 1)."""
    from leadctl import lists
    from leadctl.users import require_permission

    require_permission(who, "admin", "edit the pipeline statuses")
    seconds = parse(text)
    entry = lists.find(session, "status", name)  # type: ignore[arg-type]
    if entry.role not in ROTTING_ROLES:
        raise InvalidInput(
            f"invalid --rots-after for {entry.name}: it is a {entry.role} status, and a lead "
            "there is done with, so it never rots (only open and side statuses do)"
        )
    entry.rots_after = seconds
    session.add(entry)
    return entry
