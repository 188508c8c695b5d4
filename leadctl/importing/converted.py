"""Rows that another tool says were converted: a converted lead has a client.

Other CRMs mark a won lead in several ways: Salesforce ``IsConverted`` (and a
``ConvertedDate``), Zoho ``Is Converted``, HubSpot's ``Lifecycle Stage`` =
customer (next to its ``Lead Status``), Odoo's won ``Stage``, or a status the
vocabulary maps onto the won status (``Closed - Converted``). Such a row
becomes a lead in the won status with a client (SPEC: ``converted`` is a lead
that turned into a client):

- when it is parsed (:class:`Conversion`, maybe in the reader process): its
  status is set to the won one; a conversion date on a row that is *not*
  converted is left out (kept as ``converted_at_raw``, with a warning), so no
  lead has ``converted_at`` without being converted;
- when it is stored (:func:`attach_clients`, in the batch's transaction, for
  new leads only: a merge never changes a stored lead's status): each such
  lead without a client joins the client of a lead with the same email or
  company (as ``leadctl convert`` finds one), or of an earlier row of the
  import with the same company, or else a new client is made from it; its
  ``converted_at`` is the file's date, else its creation time; and its
  timeline says which client (:func:`activities_for`).

A `leadctl export` file is taken as it was written (its rows carry their
lead ids): it is the other way round, leadctl's own record of its leads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from leadctl import activities
from leadctl.activities import ActivityRow
from leadctl.importing.headers import Plan, header_key
from leadctl.importing.rows import Parsed, RowWarning
from leadctl.importing.vocabulary import Vocabulary
from leadctl.models import CHOICE, CLIENT, LEAD

# Header keys of a yes/no "was converted" column (Salesforce, Zoho).
FLAG_HEADERS = {"isconverted", "converted", "leadconverted", "wasconverted"}
# Header keys of a second stage column whose won value means converted (HubSpot
# has both `Lead Status` and `Lifecycle Stage`: the first is the status).
STAGE_HEADERS = {"lifecyclestage", "stage", "leadstage", "pipelinestage", "dealstage"}
_YES = {"1", "true", "yes", "y", "x", "si", "sí", "ja", "oui", "sim", "vero", "да", "wahr"}
_NO = {"0", "false", "no", "n", "nein", "non", "não", "nao", "нет", "falso", "falsch", "faux"}


def flag(text: str) -> bool | None:
    """A yes/no cell: True, False, or None when it says neither."""
    folded = text.strip().casefold()
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    return None


class Conversion:
    """Decides, row by row, whether a row is a converted lead (see the module)."""

    def __init__(self, plan: Plan, vocabulary: Vocabulary, won: str) -> None:
        self.won = won
        self.vocabulary = vocabulary
        self.flag_at: int | None = None
        self.stages: list[int] = []
        for index, _ in plan.custom:
            key = header_key(plan.header[index])
            if key in FLAG_HEADERS and self.flag_at is None:
                self.flag_at = index
            elif key in STAGE_HEADERS:
                self.stages.append(index)
        self.date_at = plan.first("converted_at")

    @classmethod
    def for_plan(cls, plan: Plan, vocabulary: Vocabulary) -> Conversion | None:
        """The check for a header, or None when the header has no word on conversion."""
        won = vocabulary.won_status()
        if won is None or plan.leadctl_export:  # an export holds what leadctl stored
            return None
        made = cls(plan, vocabulary, won)
        wanted = made.flag_at is not None or made.stages or made.date_at is not None
        return made if wanted or "status" in plan.columns else None

    def settle(self, cells: list[str], values: dict[str, Any], extra: dict, row: Parsed) -> None:
        said = flag(cells[self.flag_at]) if self.flag_at is not None else None
        status = values.get("status")
        converted = said is True or status == self.won
        if not converted and said is None:
            for index in self.stages:
                found = self.vocabulary.status(cells[index]) if cells[index].strip() else None
                if found is not None and found[0] == self.won:
                    converted = True
            if "converted_at" in values and status is None:
                converted = True  # a conversion date and no other word: converted
        if converted:
            values["status"] = self.won
            values.pop("lost_reason", None)
        elif "converted_at" in values:
            del values["converted_at"]
            text = cells[self.date_at].strip() if self.date_at is not None else ""
            extra["converted_at_raw"] = text
            row.warnings.append(
                RowWarning(
                    "converted_at",
                    text,
                    "a conversion date on a lead that is not converted; kept as converted_at_raw",
                )
            )


@dataclass
class Attached:
    """The clients given to a batch's converted rows, for their timelines."""

    won: str | None = None
    how: dict[int, str] = field(default_factory=dict)  # row position → activity body
    clients: dict[int, tuple[int, datetime]] = field(default_factory=dict)  # (client, when)


def won_status(conn: Connection) -> str | None:
    return conn.scalar(
        select(CHOICE.c.name).where(CHOICE.c.list == "status", CHOICE.c.role == "won").limit(1)
    )


def attach_clients(
    conn: Connection, rows: list[Parsed], now: datetime, visible: list[Any] | None = None
) -> Attached:
    """Give each new converted row (won status, no client) a client: joined by
    email or company, else made; returns what was done, for :func:`activities`."""
    attached = Attached()
    if not any(r.values.get("status") for r in rows):
        return attached
    won = attached.won = won_status(conn)
    todo = [
        (position, row)
        for position, row in enumerate(rows)
        if won is not None
        and row.values.get("status") == won
        and row.values.get("client_id") is None
        and row.lead_id is None  # a leadctl export's row (it has its id) is stored as exported
    ]
    if not todo:
        return attached
    emails = {r.values.get("email_key") for _, r in todo}
    by_email = _clients_of(conn, LEAD.c.email_key, emails, visible)
    companies = {r.values.get("company_key") for _, r in todo}
    by_company = _clients_of(conn, LEAD.c.company_key, companies, visible)
    for position, row in todo:
        values = row.values
        email_key, company_key = values.get("email_key"), values.get("company_key")
        client, how = None, ""
        if email_key and email_key in by_email:
            client, how = by_email[email_key], "email"
        elif company_key and company_key in by_company:
            client, how = by_company[company_key], "company"
        if client is None:
            client = conn.execute(
                insert(CLIENT).returning(CLIENT.c.id),
                {
                    "name": values["name"],
                    "company": values.get("company"),
                    "email": values.get("email"),
                    "phone": values.get("phone"),
                    "created_at": values.get("converted_at") or values.get("created_at") or now,
                },
            ).scalar_one()
            text = f"converted on import: new client {client}"
        else:
            text = f"converted on import: joined client {client} (by {how})"
        if company_key:
            by_company.setdefault(company_key, client)
        if email_key:
            by_email.setdefault(email_key, client)
        values["client_id"] = client
        values.setdefault("converted_at", values.get("created_at") or now)
        attached.how[position] = text
        attached.clients[position] = (client, values["converted_at"])
    return attached


def _clients_of(
    conn: Connection, column: Any, keys: set[Any], visible: list[Any] | None = None
) -> dict[str, int]:
    """Key → the client of a stored lead with that key (the lowest client id)."""
    keys.discard(None)
    keys.discard("")
    if not keys:
        return {}
    statement = (
        select(column, func.min(LEAD.c.client_id))
        .where(column.in_(keys), LEAD.c.client_id.is_not(None), *(visible or []))
        .group_by(column)
    )
    found: dict[str, int] = {}
    for key, client in conn.execute(statement):
        found[key] = client
    return found


def activities_for(attached: Attached, ids: list[int], actor: str) -> list[ActivityRow]:
    """Each converted row's ``convert`` activity, once its lead has an id."""
    return [
        activities.row(
            ids[position],
            "convert",
            actor,
            field="client_id",
            new=attached.clients[position][0],
            body=text,
            at=attached.clients[position][1],
        )
        for position, text in attached.how.items()
    ]
