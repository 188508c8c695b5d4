"""`leadctl export`: every field of the leads a list query selects, streamed
from the database in id order, as CSV, JSON lines, a JSON array or .xlsx.

Nothing is lost: JSON and JSON lines give each lead its ``notes`` (their
texts), its whole timeline (``activities``, as ``show --json`` gives them), its
``client`` (the client object, or null) and its ``deals``; CSV and .xlsx add a
``notes`` column (one note as it is, several as a JSON list of texts). The
history is read per batch of leads (one query each for activities, deals and
clients per thousand leads), so memory stays flat and the cost per lead small.

Each format imports back unchanged (``leadctl import`` recognises an export by
its header): CSV has one column per key of SPEC's lead object, tags
comma-joined (a JSON list when a tag would not survive that), custom fields as
a JSON object. No cell is one a spreadsheet would run as a formula: text that
starts with ``= + - @``, a tab or CR gets a leading ``'`` (OWASP's advice for
CSV injection), which import takes off again.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import case, func, literal, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from leadctl import clock, fields, leads
from leadctl.clients import deal_to_dict
from leadctl.errors import InvalidInput, invalid_choice
from leadctl.fields import EXPORT_COLUMNS
from leadctl.models import ACTIVITY, CLIENT, DEAL, LEAD
from leadctl.normalize import guard_formula

if TYPE_CHECKING:
    from leadctl.storage import Database
from leadctl.users import Actor, require_permission

FORMATS = ["csv", "jsonl", "json", "xlsx"]
# What a lead object of a JSON export adds to SPEC's lead keys; CSV and .xlsx add notes.
HISTORY_KEYS = ["notes", "activities", "client", "deals"]
CSV_COLUMNS = [*EXPORT_COLUMNS, "notes"]
ACTIVITY_KEYS = ["id", "lead_id", "kind", "field", "old_value", "new_value", "body", "outcome"]
CLIENT_KEYS = ["id", "name", "company", "email", "phone"]
NUMERIC = {"id", *fields.NUMERIC_FIELDS}  # numbers in a workbook; the rest is text
_UNSAFE_TAG = re.compile(r"[,;]|:::|^\s|\s$|^\* |^\[")
FETCH_ROWS = 1000
_OOXML_LITERAL = re.compile(r"(_x[0-9A-Fa-f]{4}_)")
_OOXML_ILLEGAL = re.compile(r"[\x00-\x08\x0b-\x1f]")  # and CR, which XML reads as LF


class WriteFailed(InvalidInput):
    """The output could not be written (a full disk, say); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot write the workbook: {reason}")
        self.reason = reason


def format_for(fmt: str | None, filename: str | None) -> str:
    """The format asked for, else the output file's suffix, else CSV."""
    if fmt is None and filename:
        suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        fmt = {"ndjson": "jsonl"}.get(suffix, suffix) if suffix in FORMATS + ["ndjson"] else None
    fmt = (fmt or "csv").lower()
    if fmt not in FORMATS:
        raise invalid_choice("--format", fmt, FORMATS)
    return fmt


def lead_rows(
    session: Session, who: Actor, query: leads.ListQuery, *, history: str | None = None
) -> Iterator[dict[str, Any]]:
    """Lead objects of the query among those the actor may see, in id order,
    fetched a thousand at a time; ``history`` adds what :func:`history_for`
    gives (``"full"`` for JSON, ``"notes"`` for CSV and .xlsx)."""
    query.limit = None
    query.offset = 0
    statement = (
        leads.list_statement(session, who, query)
        .with_only_columns(*LEAD.columns)
        .order_by(None)
        .order_by(LEAD.c.id)
    )
    result = session.connection().execution_options(yield_per=FETCH_ROWS).execute(statement)
    if history is None:
        for row in result:
            yield leads.to_dict(row)
        return
    for rows in result.partitions(FETCH_ROWS):
        batch = [leads.to_dict(row) for row in rows]
        yield from history_for(session, batch, full=history == "full")


class RawJSON(str):
    """JSON text made by the database (a lead's timeline, on SQLite), written
    into the lead's object as it is (:func:`lead_json`)."""


def history_for(
    session: Session, batch: list[dict[str, Any]], *, full: bool
) -> list[dict[str, Any]]:
    """A batch of lead objects with their notes, and when ``full`` their
    activities, client and deals: one query for each, whatever the batch's size."""
    conn = session.connection()
    ids = [lead["id"] for lead in batch]
    if full:
        read = _timelines_sqlite if conn.dialect.name == "sqlite" else _timelines
        timelines, notes = read(conn, ids)
    else:
        notes = {lead_id: [] for lead_id in ids}
        statement = (
            select(ACTIVITY.c.lead_id, ACTIVITY.c.body)
            .where(ACTIVITY.c.kind == "note", ACTIVITY.c.lead_id.in_(ids))
            .order_by(ACTIVITY.c.lead_id, ACTIVITY.c.created_at, ACTIVITY.c.id)
        )
        for lead_id, body in conn.execute(statement).all():
            if body:
                notes[lead_id].append(body)
        for lead in batch:
            lead["notes"] = notes[lead["id"]]
        return batch
    iso = clock.iso
    deals: dict[int, list[dict[str, Any]]] = {lead_id: [] for lead_id in ids}
    statement = select(DEAL).where(DEAL.c.lead_id.in_(ids)).order_by(DEAL.c.created_at, DEAL.c.id)
    for row in conn.execute(statement):
        deals[row.lead_id].append(deal_to_dict(row))
    wanted = {lead["client_id"] for lead in batch if lead["client_id"] is not None}
    clients: dict[int, dict[str, Any]] = {}
    if wanted:
        columns = [CLIENT.c[k] for k in CLIENT_KEYS] + [CLIENT.c.created_at]
        for row in conn.execute(select(*columns).where(CLIENT.c.id.in_(wanted))):
            client = dict(zip(CLIENT_KEYS, row, strict=False))
            client["created_at"] = iso(row.created_at)
            clients[row.id] = client
    for lead in batch:
        lead_id = lead["id"]
        lead["notes"] = notes[lead_id]
        lead["activities"] = timelines[lead_id]
        lead["client"] = clients.get(lead["client_id"]) if lead["client_id"] is not None else None
        lead["deals"] = deals[lead_id]
    return batch


Timelines = tuple[dict[int, Any], dict[int, list[str]]]


def _timelines(conn: Connection, ids: list[int]) -> Timelines:
    """Each lead's activities as ``show --json`` gives them, oldest first, and
    its notes' texts."""
    timelines: dict[int, Any] = {lead_id: [] for lead_id in ids}
    notes: dict[int, list[str]] = {lead_id: [] for lead_id in ids}
    columns = [*(ACTIVITY.c[k] for k in ACTIVITY_KEYS), ACTIVITY.c.actor, ACTIVITY.c.created_at]
    statement = (
        select(*columns)
        .where(ACTIVITY.c.lead_id.in_(ids))
        .order_by(ACTIVITY.c.lead_id, ACTIVITY.c.created_at, ACTIVITY.c.id)
    )
    iso = clock.iso
    for row in conn.execute(statement).all():
        activity = dict(zip(ACTIVITY_KEYS, row, strict=False))
        activity["actor"] = row.actor
        activity["created_at"] = iso(row.created_at)
        timelines[row.lead_id].append(activity)
        if row.kind == "note" and row.body:
            notes[row.lead_id].append(row.body)
    return timelines, notes


def _timelines_sqlite(conn: Connection, ids: list[int]) -> Timelines:
    """:func:`_timelines` with each activity as JSON text that SQLite writes
    (``json_object``; the time cut from the stored text, which is UTC), joined
    into a list per lead: an export reads eight or more activities a lead, and
    this costs a third of building them in Python."""
    pairs: list[Any] = []
    for key in [*ACTIVITY_KEYS, "actor"]:
        pairs += [literal(key), ACTIVITY.c[key]]
    at = ACTIVITY.c.created_at
    iso = func.substr(at, 1, 10).concat("T").concat(func.substr(at, 12, 8)).concat("Z")
    pairs += [literal("created_at"), iso]
    note = case((ACTIVITY.c.kind == "note", ACTIVITY.c.body), else_=None)
    statement = (
        select(ACTIVITY.c.lead_id, func.json_object(*pairs), note)
        .where(ACTIVITY.c.lead_id.in_(ids))
        .order_by(ACTIVITY.c.lead_id, ACTIVITY.c.created_at, ACTIVITY.c.id)
    )
    texts: dict[int, list[str]] = {lead_id: [] for lead_id in ids}
    notes: dict[int, list[str]] = {lead_id: [] for lead_id in ids}
    for lead_id, text, body in conn.execute(statement).all():
        texts[lead_id].append(text)
        if body:
            notes[lead_id].append(body)
    timelines = {lead_id: RawJSON("[" + ",".join(found) + "]") for lead_id, found in texts.items()}
    return timelines, notes


def lead_json(lead: dict[str, Any]) -> str:
    """A lead object as JSON text; a timeline the database wrote goes in as it
    is (the lead's last keys, so its text is the rest's, cut open before ``}``)."""
    timeline = lead.get("activities")
    if not isinstance(timeline, RawJSON):
        return json.dumps(lead, ensure_ascii=False)
    del lead["activities"]
    client, deals = lead.pop("client"), lead.pop("deals")
    head = json.dumps(lead, ensure_ascii=False)
    client_text = "null" if client is None else json.dumps(client, ensure_ascii=False)
    deals_text = json.dumps(deals, ensure_ascii=False) if deals else "[]"
    return (
        f'{head[:-1]}, "activities": {timeline}, "client": {client_text}, "deals": {deals_text}}}'
    )


def history_kind(fmt: str) -> str:
    """What an export in this format carries besides the lead's fields."""
    return "full" if fmt in ("json", "jsonl") else "notes"


def export(rows: Iterator[dict[str, Any]], fmt: str, out: BinaryIO) -> int:
    """Write lead objects to a binary stream; returns how many."""
    if fmt == "xlsx":
        return _xlsx(rows, out)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    try:
        if fmt == "csv":
            count = _csv(rows, text)
        elif fmt == "jsonl":
            count = 0
            for count, lead in enumerate(rows, start=1):  # noqa: B007
                text.write(lead_json(lead) + "\n")
        else:
            count = _json_array(rows, text)
        text.flush()
    finally:
        text.detach()
    return count


def csv_cells(lead: dict[str, Any]) -> list[Any]:
    """One lead as CSV cells, in ``CSV_COLUMNS`` order (its notes last, when it has them)."""
    cells = [_cell(key, lead[key]) for key in EXPORT_COLUMNS]
    cells.append(guard_formula(notes_text(lead.get("notes") or [])))
    return cells


def _cell(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key == "tags":
        return guard_formula(tags_text(value))
    if key == "fields":
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return guard_formula(str(value))


def tags_text(tags: list[str]) -> str:
    """``a, b``; a JSON list when a tag holds a separator (import reads both)."""
    if not tags:
        return ""
    if any(not tag or _UNSAFE_TAG.search(tag) for tag in tags):
        return json.dumps(tags, ensure_ascii=False)
    return ", ".join(tags)


def notes_text(notes: list[str]) -> str:
    """A lead's notes in one cell: one note as it is, several (or one that reads
    as a JSON list) as a JSON list of texts, which import splits again."""
    if not notes:
        return ""
    if len(notes) == 1 and not notes[0].lstrip().startswith("["):
        return notes[0]
    return json.dumps(notes, ensure_ascii=False)


def number_text(value: float) -> str:
    """A float as the shortest text that reads back to it (``2500000``, ``0.1``)."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _fits_a_sheet(value: int | float) -> bool:
    """Sheets keep 15 significant digits: a number that needs more goes as text."""
    return not isinstance(value, float) or float(f"{value:.15g}") == value


def xlsx_escape(text: str) -> str:
    """Control characters as OOXML writes them (``_x001B_``), which Excel reads
    back; a literal ``_xHHHH_`` gets its underscore escaped first, as Excel does."""
    if "_x" in text:
        text = _OOXML_LITERAL.sub(r"_x005F\1", text)
    return _OOXML_ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def _csv(rows: Iterator[dict[str, Any]], out: io.TextIOBase) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for count, lead in enumerate(rows, start=1):  # noqa: B007
        writer.writerow(csv_cells(lead))
    return count


def _json_array(rows: Iterator[dict[str, Any]], out: io.TextIOBase) -> int:
    count = 0
    out.write("[")
    for count, lead in enumerate(rows, start=1):  # noqa: B007
        out.write(("\n" if count == 1 else ",\n") + lead_json(lead))
    out.write("\n]\n" if count else "]\n")
    return count


def _xlsx(rows: Iterator[dict[str, Any]], out: BinaryIO) -> int:
    """A write-only (streamed) workbook; text cells typed as text, never formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("leads")
    sheet.append(CSV_COLUMNS)
    count = 0
    for count, lead in enumerate(rows, start=1):  # noqa: B007
        cells = []
        for key in EXPORT_COLUMNS:
            value = lead[key]
            if key in NUMERIC and value is not None and _fits_a_sheet(value):
                cells.append(value)
                continue
            cell = WriteOnlyCell(sheet, value=None)
            text = _cell(key, value)
            if text != "":
                cell.value = xlsx_escape(text)
                cell.data_type = "s"
            cells.append(cell)
        notes = notes_text(lead.get("notes") or [])
        note_cell = WriteOnlyCell(sheet, value=xlsx_escape(guard_formula(notes)) if notes else None)
        if notes:
            note_cell.data_type = "s"
        cells.append(note_cell)
        sheet.append(cells)
    try:
        book.save(out)
    except BrokenPipeError:
        raise  # the reader stopped (`| head`): the CLI exits quietly
    except OSError as error:
        raise WriteFailed(error.strerror or str(error)) from None
    return count


def backup(database: Database, who: Actor, destination: Path, *, overwrite: bool = False) -> int:
    """A consistent copy of the whole database (``storage.backup``); a copy holds
    every lead, so it needs the view_all permission (exit 4). Returns its size."""
    from leadctl.storage.backup import backup as copy

    require_permission(who, "view_all", "back up the database")
    return copy(database, destination, overwrite=overwrite)
