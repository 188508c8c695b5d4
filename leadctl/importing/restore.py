"""Restoring what a leadctl JSON export carries besides the lead's fields: its
timeline (``activities``), its ``client`` and its ``deals``
(``leadctl export --format json|jsonl``), so that an export imported into an
empty database gives the same database back.

Two halves. :func:`read` runs where rows are parsed (the reader process): it
checks the three cells of a row and keeps what is well formed, saying what it
leaves out (a warning each). :class:`Restorer` runs in the writer, around the
batch writer's own steps:

- :meth:`Restorer.hold` (before anything): a limited actor (a rep) restores
  nothing: no timeline, client or deals (one warning on the row), and not the
  file's owner (kept as ``owner_raw``); the lead is imported as from any file,
  with its notes as notes. Otherwise the lead's ``client_id`` waits for its
  client (:meth:`before_insert`), rather than naming whatever client has that
  id here.
- :meth:`Restorer.before_insert` (the new leads of the batch): their clients,
  found again (same id, name and creation time: a re-import) or stored, each
  once per import; the notes a timeline carries are not added twice.
- :meth:`Restorer.fresh`: the new leads that still need the import's own
  ``created`` (and ``assign``) activities: those with no timeline in the file.
- :meth:`Restorer.after_insert`: the timelines (``activities.row``, the one
  way activities are made) and deals of the new leads.

Only leads the import creates are restored: a row that merges into a stored
lead (a re-import of the same export) changes what a merge changes, nothing
more, so importing the same export twice changes nothing. Ids of activities,
clients and deals are kept when they are free (on SQLite, as the leads' own
ids are), else numbered anew (and a lead's client id follows its client).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from leadctl import activities, clock, storage
from leadctl.activities import ActivityRow
from leadctl.importing.headers import HISTORY
from leadctl.models import ACTIVITY, CLIENT, DEAL

if TYPE_CHECKING:
    from leadctl.importing.rows import Parsed

COLUMNS = HISTORY  # the columns of a leadctl export this module reads
IN_CHUNK = 2000
_TEXT_MAX = 1 << 20
Problem = tuple[str, str, str]  # (field, value, message): a warning, made by rows.py


@dataclass(slots=True)
class ClientIn:
    id: int | None
    name: str
    company: str | None
    email: str | None
    phone: str | None
    created_at: datetime


@dataclass(slots=True)
class DealIn:
    id: int | None
    client_id: int | None
    value: float | None
    close_date: date | None
    stage: str
    probability: int | None
    created_at: datetime


@dataclass(slots=True)
class History:
    """What one row of a leadctl export brings besides the lead's fields."""

    activities: list[tuple[int | None, ActivityRow]] = field(default_factory=list)  # lead_id 0
    client: ClientIn | None = None
    deals: list[DealIn] = field(default_factory=list)

    @property
    def timeline(self) -> bool:
        return bool(self.activities)

    def described(self) -> str:
        parts = [f"{len(self.activities)} activities"] if self.activities else []
        if self.client is not None:
            parts.append(f"client {self.client.name!r}")
        if self.deals:
            parts.append(f"{len(self.deals)} deal{'s' if len(self.deals) != 1 else ''}")
        return ", ".join(parts)


# --- reading (the reader process) ------------------------------------------------------


def read(cells: list[str], at: dict[str, int], problems: list[Problem]) -> History | None:
    """The history in a row's ``activities``/``client``/``deals`` cells, or None
    when they hold none; what is malformed is left out, with a problem each."""
    texts = {name: cells[at[name]].strip() for name in COLUMNS if name in at}
    if not any(texts.values()):
        return None
    history = History()
    if text := texts.get("activities"):
        for item in _json_list(text, "activities", problems):
            made = _activity(item)
            if made is None:
                problems.append(
                    (
                        "activities",
                        _short(item),
                        "not an activity (kind, actor, created_at); left out",
                    )
                )
            else:
                history.activities.append(made)
    if (text := texts.get("client")) and text != "null":
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        history.client = _client(value)
        if history.client is None:
            problems.append(("client", _short(text), "not a client (name, created_at); left out"))
    if text := texts.get("deals"):
        for item in _json_list(text, "deals", problems):
            deal = _deal(item)
            if deal is None:
                problems.append(("deals", _short(item), "not a deal (created_at); left out"))
            else:
                history.deals.append(deal)
    if not (history.activities or history.client or history.deals):
        return None
    return history


def _json_list(text: str, name: str, problems: list[Problem]) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list):
        problems.append((name, _short(text), f"not a JSON list of {name}; left out"))
        return []
    return value


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:199] + "…"


def _activity(item: Any) -> tuple[int | None, ActivityRow] | None:
    if not isinstance(item, dict):
        return None
    kind, actor = _name(item.get("kind")), _name(item.get("actor"))
    at = _moment(item.get("created_at"))
    texts = [_text(item.get(k)) for k in ("field", "old_value", "new_value", "body", "outcome")]
    if kind is None or actor is None or at is None or any(t is False for t in texts):
        return None
    name, old, new, body, outcome = (t if isinstance(t, str) else None for t in texts)
    made = activities.row(
        0, kind, actor, field=name, old=old, new=new, body=body, outcome=outcome, at=at
    )
    return _id(item.get("id")), made


def _client(item: Any) -> ClientIn | None:
    if not isinstance(item, dict):
        return None
    name, at = _name(item.get("name")), _moment(item.get("created_at"))
    texts = [_text(item.get(k)) for k in ("company", "email", "phone")]
    if name is None or at is None or any(t is False for t in texts):
        return None
    company, email, phone = (t if isinstance(t, str) else None for t in texts)
    return ClientIn(_id(item.get("id")), name, company, email, phone, at)


def _deal(item: Any) -> DealIn | None:
    if not isinstance(item, dict):
        return None
    at = _moment(item.get("created_at"))
    value = item.get("value")
    probability = item.get("probability")
    close = item.get("close_date")
    stage = _name(item.get("stage")) if item.get("stage") is not None else "open"
    close_date = _day(close) if close is not None else None
    if (
        at is None
        or stage is None
        or (value is not None and (isinstance(value, bool) or not isinstance(value, int | float)))
        or (
            probability is not None
            and (type(probability) is not int or not 0 <= probability <= 100)
        )
        or (close is not None and close_date is None)
    ):
        return None
    amount = float(value) if value is not None else None
    client_id = _id(item.get("client_id"))
    return DealIn(_id(item.get("id")), client_id, amount, close_date, stage, probability, at)


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() and len(value) <= 200 else None


def _text(value: Any) -> str | None | bool:
    """Text or None; False for anything else."""
    if value is None or (isinstance(value, str) and len(value) <= _TEXT_MAX):
        return value
    return False


def _id(value: Any) -> int | None:
    return value if type(value) is int and 0 < value < 2**63 else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = clock.as_utc(moment)
    return moment if clock.EARLIEST_YEAR <= moment.year <= clock.LATEST_YEAR else None


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if clock.EARLIEST_YEAR <= day.year <= clock.LATEST_YEAR else None


# --- restoring (the writer) ---------------------------------------------------------


class Restorer:
    """Restores the history of the leads one import creates (see the module's text)."""

    def __init__(
        self,
        *,
        allowed: bool,
        actor: str,
        assigned: str | None,
        keep_ids: bool,
        warn: Callable[[], None],
    ) -> None:
        self.allowed = allowed  # solo mode, a manager or an admin
        self.actor = actor
        self.assigned = assigned  # --assign: an owner the actor chose, kept
        self.keep_ids = keep_ids
        self.warn = warn  # counts one more warning
        self.clients: dict[int, int] = {}  # client id in the file → stored client id

    def hold(self, rows: list[Parsed]) -> None:
        """Before the batch is written: refuse a limited actor's history and owners;
        hold the client id of a lead that comes with its client."""
        for row in rows:
            history = row.history
            if not self.allowed:
                self._limited(row)
            elif history is not None and history.client is not None:
                row.values.pop("client_id", None)

    def _limited(self, row: Parsed) -> None:
        """A rep's row of a leadctl export: no history, no owner but the rep."""
        if row.history is not None:
            self._note(
                row,
                "activities",
                row.history.described(),
                "not restored (timeline, client and deals): only a manager's or an "
                "admin's import restores them",
            )
            row.history = None
        owner = row.values.get("owner")
        if owner and owner not in (self.actor, self.assigned):
            row.values.pop("owner")
            row.values.setdefault("fields", {})["owner_raw"] = owner
            self._note(row, "owner", owner, "only a manager's import sets it; kept as owner_raw")

    def before_insert(self, conn: Connection, rows: list[Parsed]) -> None:
        """The clients of the new leads, found or stored; their notes are in their timeline."""
        restored = [row for row in rows if row.history is not None]
        given: dict[int, ClientIn] = {}
        for row in restored:
            client = row.history.client if row.history is not None else None
            if client is not None and client.id is not None and client.id not in self.clients:
                given.setdefault(client.id, client)
        if given:
            self._store_clients(conn, list(given.values()))
        for row in restored:
            assert row.history is not None
            client = row.history.client
            if client is not None:
                row.values["client_id"] = (
                    self.clients[client.id] if client.id is not None else self._new(conn, client)
                )
            if row.history.timeline:
                row.notes = []  # each note is an activity of the timeline

    def _store_clients(self, conn: Connection, wanted: list[ClientIn]) -> None:
        """Each client (with an id) found again or stored, in ``self.clients``."""
        stored: dict[int, tuple[str, str | None]] = {}
        for chunk in _chunks([c.id for c in wanted if c.id is not None]):
            statement = select(CLIENT.c.id, CLIENT.c.name, CLIENT.c.created_at).where(
                CLIENT.c.id.in_(chunk)
            )
            for client_id, name, created in conn.execute(statement):
                stored[client_id] = (name, clock.iso(created))
        keep, fresh = [], []
        for client in wanted:
            assert client.id is not None
            if client.id in stored:
                if stored[client.id] == (client.name, clock.iso(client.created_at)):
                    self.clients[client.id] = client.id  # the same client (a re-import)
                else:
                    fresh.append(client)
            elif self.keep_ids:
                keep.append(_client_values(client) | {"id": client.id})
                self.clients[client.id] = client.id
            else:
                fresh.append(client)
        if keep:  # first: a new number could take an id kept after it
            conn.execute(insert(CLIENT), keep)
            storage.follow_ids(conn, CLIENT)
        for client in fresh:
            assert client.id is not None
            self.clients[client.id] = self._new(conn, client)

    def _new(self, conn: Connection, client: ClientIn) -> int:
        made = conn.execute(insert(CLIENT).values(_client_values(client))).inserted_primary_key
        assert made is not None  # an insert of one row
        return int(made[0])

    def fresh(self, rows: list[Parsed], ids: list[int]) -> list[int]:
        """The new leads that get the import's own ``created`` activity: those
        without a timeline in the file."""
        return [
            lead_id
            for row, lead_id in zip(rows, ids, strict=True)
            if row.history is None or not row.history.timeline
        ]

    def after_insert(self, conn: Connection, rows: list[Parsed], ids: list[int]) -> None:
        """The timelines and deals of the new leads."""
        timeline: list[tuple[int | None, ActivityRow]] = []
        deals: list[tuple[int | None, dict[str, Any]]] = []
        for row, lead_id in zip(rows, ids, strict=True):
            history = row.history
            if history is None:
                continue
            for given_id, made in history.activities:
                timeline.append((given_id, made._replace(lead_id=lead_id)))
            for deal in history.deals:
                client_id = self.clients.get(deal.client_id) if deal.client_id else None
                client_id = client_id or row.values.get("client_id")
                if client_id is None:
                    text = f"deal {deal.id}" if deal.id else "a deal"
                    self._note(row, "deals", text, "its client is not in the file; left out")
                    continue
                values = {
                    "client_id": client_id,
                    "lead_id": lead_id,
                    "value": deal.value,
                    "close_date": deal.close_date,
                    "stage": deal.stage,
                    "probability": deal.probability,
                    "created_at": deal.created_at,
                }
                deals.append((deal.id, values))
        if timeline:
            keep = self._keep(
                conn, ACTIVITY, [i for i, _ in timeline], [r.lead_id for _, r in timeline]
            )
            kept = [(k, r) for (_, r), k in zip(timeline, keep, strict=True) if k is not None]
            # the kept ids first: a new number could take an id kept after it
            activities.record_many(conn, [r for _, r in kept], ids=[k for k, _ in kept])
            storage.follow_ids(conn, ACTIVITY)
            activities.record_many(
                conn, [r for (_, r), k in zip(timeline, keep, strict=True) if k is None]
            )
        if deals:
            keep = self._keep(conn, DEAL, [i for i, _ in deals], [v["lead_id"] for _, v in deals])
            fresh = [v for (_, v), k in zip(deals, keep, strict=True) if k is None]
            given = [v | {"id": k} for (_, v), k in zip(deals, keep, strict=True) if k is not None]
            for batch in (given, fresh):  # kept ids first
                if batch:
                    conn.execute(insert(DEAL), batch)
                    storage.follow_ids(conn, DEAL)

    def _keep(
        self, conn: Connection, table: Any, wanted: list[int | None], leads: list[int]
    ) -> list[int | None]:
        """For each given id, itself when it may be kept (free in
        ``table`` and not given before), else None (numbered anew). A lead's rows
        keep all their ids or none: those of a time are shown in id order, which
        stays the file's."""
        if not self.keep_ids:
            return [None] * len(wanted)
        given = list(dict.fromkeys(i for i in wanted if i is not None))
        taken: set[int] = set()
        for chunk in _chunks(given):
            taken.update(conn.scalars(select(table.c.id).where(table.c.id.in_(chunk))))
        keep: list[int | None] = []
        for i in wanted:
            if i is None or i in taken:
                keep.append(None)
            else:
                keep.append(i)
                taken.add(i)
        broken = {lead for lead, kept in zip(leads, keep, strict=True) if kept is None}
        if broken:
            keep = [None if lead in broken else k for lead, k in zip(leads, keep, strict=True)]
        return keep

    def _note(self, row: Parsed, name: str, value: str, message: str) -> None:
        from leadctl.importing.rows import RowWarning

        row.warnings.append(RowWarning(name, value, message))
        self.warn()


def _client_values(client: ClientIn) -> dict[str, Any]:
    return {
        "name": client.name,
        "company": client.company,
        "email": client.email,
        "phone": client.phone,
        "created_at": client.created_at,
    }


def _chunks(values: list[int]) -> list[list[int]]:
    return [values[start : start + IN_CHUNK] for start in range(0, len(values), IN_CHUNK)]
