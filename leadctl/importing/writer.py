"""Storing one batch of parsed rows: new leads, merges, activities; and the
rejects file.

A batch is written with a few SQLAlchemy Core statements (executemany), not
one ORM object per row. New leads get their ``created`` activity (field
``status``, at the row's creation time, so reports count them) and their
notes; a merge fills the stored lead's blanks, never overwriting, and appends
notes it does not already have (``leadctl.duplicates``: the one fill rule, for
stored leads and for earlier rows of the file alike), and is recorded as an
``import`` activity. A merge with nothing new writes nothing, so importing a
file twice changes nothing. A limited user's (a rep's) row whose duplicate is
a lead they may not see, or (to merge) may not work on, is rejected
(``duplicates.refusal``): nothing about that lead is told or written.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import String, and_, func, insert, literal, select, type_coerce, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from leadctl import duplicates
from leadctl.duplicates import NEVER_FILLED, UNIONED
from leadctl.importing.dedupe import DuplicateIndex, Known, Scratch
from leadctl.importing.headers import REJECTS_COLUMNS
from leadctl.importing.records import ACTIVITY, LEAD, Records
from leadctl.importing.rows import Parsed
from leadctl.models import Client
from leadctl.users import Actor

CACHE_KIB = 16 * 1024
CHECKPOINT_PAGES = 10000


@dataclass
class Counts:
    rows: int = 0
    imported: int = 0
    merged: int = 0
    skipped: int = 0
    rejected: int = 0
    warnings: int = 0


@dataclass
class BatchResult:
    """What one batch stored: the hook for scoring new leads."""

    inserted_ids: list[int] = field(default_factory=list)  # new leads, in file order
    merged_ids: list[int] = field(default_factory=list)  # stored leads a merge changed
    # rejected: duplicates in fail mode, and a limited user's duplicates of leads out of reach
    duplicates: list[tuple[Parsed, str]] = field(default_factory=list)


class BatchWriter:
    """Writes batches with one policy for duplicates (merge, skip, create, fail)."""

    def __init__(
        self,
        *,
        actor: str,
        origin: str,
        on_duplicate: str,
        counts: Counts,
        scratch: Scratch | None = None,
        records: Records,
        keep_ids: bool = True,
        scope: Actor | None = None,
    ) -> None:
        self.records = records
        # The acting user when what they may see or work on is limited (a rep): their
        # rows' duplicates are checked against it. None: no limit (and no cost).
        self.scope = scope if scope is not None and not scope.works_any else None
        self.actor = actor
        self.origin = origin  # "data.csv", for activity bodies
        self.on_duplicate = on_duplicate
        self.counts = counts
        self.scratch = scratch  # set for a dry run: nothing is written
        self.keep_ids = keep_ids

    def write(self, session: Session, rows: list[Parsed]) -> BatchResult:
        conn = session.connection()
        if conn.dialect.name == "sqlite":
            # A bulk writer's settings, for this connection only (set per batch:
            # it may be another pooled connection): a page cache that holds the
            # indexes' hot pages (random keys: email, phone), and checkpoints
            # every ~40 MB of WAL rather than every 4 MB.
            conn.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")
            conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        now = self.records.now
        result = BatchResult()
        new: list[Parsed] = []
        pending_fills: list[tuple[int, Parsed, list[str]]] = []
        stored_merges: dict[int, list[Parsed]] = {}
        touched: dict[int, Known] = {}  # stored leads merged into (a dry run remembers them)
        lookup = self.on_duplicate != "create" or self.scope is not None
        index = DuplicateIndex(conn, rows, self.scratch) if lookup else None
        reach = (
            duplicates.reach_rows(conn, self.scope, index.known_ids())
            if self.scope is not None and index is not None
            else {}
        )
        for row in rows:
            match = index.find(row.values) if index is not None else None
            if match is not None and match.target is not None and match.target.lead_id in reach:
                refused = duplicates.refusal(
                    self.scope,  # type: ignore[arg-type]
                    reach[match.target.lead_id],
                    match.reason,
                    writing=self.on_duplicate == "merge",
                )
                if refused is not None:
                    result.duplicates.append((row, str(refused)))
                    continue
            if match is None or self.on_duplicate == "create":
                if index is not None and self.on_duplicate != "create":
                    index.add_pending(row.values, len(new))
                new.append(row)
                continue
            pending = new[match.pending] if match.pending is not None else None
            if self.on_duplicate == "skip":
                self.counts.skipped += 1
            elif self.on_duplicate == "fail":
                what = (
                    f"lead {match.target.lead_id} ({match.target.name})"
                    if match.target is not None
                    else f"line {pending.line} ({pending.values['name']})"  # type: ignore[union-attr]
                )
                result.duplicates.append((row, f"duplicate of {what}: {match.reason}"))
            else:
                self.counts.merged += 1
                before = dict(pending.values) if pending is not None else None
                if pending is not None:
                    filled = _fill_pending(pending, row)
                    if filled:
                        pending_fills.append((match.pending, row, filled))  # type: ignore[arg-type]
                else:
                    stored_merges.setdefault(match.target.lead_id, []).append(row)  # type: ignore[union-attr]
                    touched[match.target.lead_id] = match.target  # type: ignore[union-attr]
                index.gained(match, row.values, before)  # type: ignore[union-attr]
        if self.scratch is not None:
            self.counts.imported += len(new)
            entries = [(None, r.values) for r in new]
            entries += [(k.lead_id, {"name": k.name, **k.keys}) for k in touched.values()]
            self.scratch.add(entries)
            return result
        self._check_clients(conn, new)
        ids = self._insert(conn, new)
        result.inserted_ids = ids
        self.counts.imported += len(ids)
        activities = self._new_activities(conn, new, ids, pending_fills, now)
        result.merged_ids = self._merge(conn, stored_merges, activities, now)
        self.records.insert_activities(conn, activities)
        return result

    def _check_clients(self, conn: Connection, rows: list[Parsed]) -> None:
        """A client id must name a client here; else it is kept as text (a warning)."""
        wanted = {r.values["client_id"] for r in rows if r.values.get("client_id") is not None}
        if not wanted:
            return
        table = Client.__table__
        found = set(conn.scalars(select(table.c.id).where(table.c.id.in_(wanted))))
        for row in rows:
            client = row.values.get("client_id")
            if client is not None and client not in found:
                del row.values["client_id"]
                row.values.setdefault("fields", {})["client_id_raw"] = str(client)
                row.warnings += 1
                self.counts.warnings += 1

    def _insert(self, conn: Connection, rows: list[Parsed]) -> list[int]:
        """Insert new leads; returns their ids in row order. An id from a leadctl
        export is kept when it is free (SQLite), so an export imports back unchanged."""
        if not rows:
            return []
        keep = [i for i, r in enumerate(rows) if r.lead_id is not None] if self.keep_ids else []
        if keep:
            wanted = [rows[i].lead_id for i in keep]
            taken = set(conn.scalars(select(LEAD.c.id).where(LEAD.c.id.in_(wanted))))
            chosen = []
            for i in keep:
                if rows[i].lead_id not in taken:
                    taken.add(rows[i].lead_id)
                    chosen.append(i)
            keep = chosen
        ids: list[int] = [0] * len(rows)
        for i in keep:
            ids[i] = rows[i].lead_id  # type: ignore[assignment]
        kept = set(keep)
        rest = [i for i in range(len(rows)) if i not in kept]
        if rest and not self.records.sqlite:
            statement = insert(LEAD).returning(LEAD.c.id, sort_by_parameter_order=True)
            values = [self.records.values(rows[i].values) for i in rest]
            for i, lead_id in zip(rest, conn.execute(statement, values).scalars(), strict=True):
                ids[i] = lead_id
            rest = []
        elif rest:
            # Under BEGIN IMMEDIATE nobody else inserts: number them as SQLite would.
            stored_top = conn.scalar(select(func.max(LEAD.c.id))) or 0
            top = max([stored_top, *(ids[i] for i in keep)])
            for offset, i in enumerate(rest, start=1):
                ids[i] = top + offset
        chosen_rows = [(ids[i], rows[i].values) for i in (*keep, *rest)]
        self.records.insert_leads(conn, chosen_rows)
        return ids

    def _new_activities(
        self,
        conn: Connection,
        rows: list[Parsed],
        ids: list[int],
        pending_fills: list[tuple[int, Parsed, list[str]]],
        now: datetime,
    ) -> list[tuple[Any, ...]]:
        """Each new lead's ``created`` activity (and ``assign`` when it has an
        owner) is copied from the rows just stored, in one INSERT … SELECT: no
        parameters bound per lead. Notes and in-batch merges are returned."""
        if ids:
            stored = _id_range(ids)
            self._copy_activity(
                conn, stored, "created", "status", LEAD.c.status, f"imported from {self.origin}"
            )
            if any(row.values.get("owner") for row in rows):
                owned = and_(stored, LEAD.c.owner.is_not(None))
                self._copy_activity(conn, owned, "assign", "owner", LEAD.c.owner, "on import")
        activities = []
        for row, lead_id in zip(rows, ids, strict=True):
            if row.notes:
                created = row.values.get("created_at") or now
                for note in row.notes:
                    activities.append(_activity(lead_id, "note", self.actor, created, body=note))
        for position, row, filled in pending_fills:
            text = f"filled {', '.join(filled)} from {self.origin} line {row.line}"
            activities.append(_activity(ids[position], "import", self.actor, now, body=text))
        return activities

    def _copy_activity(
        self, conn: Connection, where: Any, kind: str, field: str, new: Any, body: str
    ) -> None:
        """One activity per stored lead matching ``where``, at its creation time."""
        source = select(
            LEAD.c.id,
            literal(kind),
            literal(field),
            new,
            literal(body),
            literal(self.actor),
            LEAD.c.created_at,
        ).where(where)
        columns = ["lead_id", "kind", "field", "new_value", "body", "actor", "created_at"]
        conn.execute(insert(ACTIVITY).from_select(columns, source))

    def _merge(
        self,
        conn: Connection,
        merges: dict[int, list[Parsed]],
        activities: list[tuple[Any, ...]],
        now: datetime,
    ) -> list[int]:
        """Fill stored leads' blanks from their duplicates; only changes are written."""
        if not merges:
            return []
        ids = list(merges)
        wanted = {k for rows in merges.values() for r in rows for k in r.values} - NEVER_FILLED
        # Only blankness is read, so the stored text is enough: no datetime parsing.
        columns = [type_coerce(LEAD.c[k], String).label(k) for k in sorted(wanted | set(UNIONED))]
        current = {
            row.id: dict(row._mapping)
            for row in conn.execute(select(LEAD.c.id, *columns).where(LEAD.c.id.in_(ids)))
        }
        with_notes = [i for i in ids if any(r.notes for r in merges[i])]
        notes: dict[int, set[str]] = {}
        if with_notes:
            statement = select(ACTIVITY.c.lead_id, ACTIVITY.c.body).where(
                ACTIVITY.c.kind == "note", ACTIVITY.c.lead_id.in_(with_notes)
            )
            for lead_id, text in conn.execute(statement):
                notes.setdefault(lead_id, set()).add(text)
        changed_ids = []
        for lead_id, rows in merges.items():
            lead = current[lead_id]
            changes: dict[str, Any] = {}
            for row in rows:
                filled = fill_blanks(lead, row.values, changes)
                have = notes.setdefault(lead_id, set())
                added = duplicates.new_notes(have, row.notes)
                for note in added:
                    have.add(note)
                    activities.append(_activity(lead_id, "note", self.actor, now, body=note))
                if added:
                    filled.append("notes")
                if filled:
                    text = f"filled {', '.join(filled)} from {self.origin} line {row.line}"
                    activities.append(_activity(lead_id, "import", self.actor, now, body=text))
            if changes:
                changes["updated_at"] = now
                conn.execute(update(LEAD).where(LEAD.c.id == lead_id).values(changes))
                changed_ids.append(lead_id)
        return changed_ids


def fill_blanks(lead: dict[str, Any], values: dict[str, Any], changes: dict[str, Any]) -> list[str]:
    """``duplicates.fill_stored`` on a stored row (a dict). Updates ``lead`` and
    ``changes``; returns what was filled."""
    filled = duplicates.fill_stored(lead, values)
    lead.update(filled)
    changes.update(filled)
    return duplicates.filled_names(filled)


def _fill_pending(target: Parsed, row: Parsed) -> list[str]:
    """Merge a row into an earlier new row of the same batch (nothing stored yet)."""
    changes = duplicates.fill(target.values, row.values)
    target.values.update(changes)
    filled = duplicates.filled_names(changes)
    notes = duplicates.new_notes(target.notes, row.notes)
    if notes:
        target.notes.extend(notes)
        filled.append("notes")
    return filled


class RejectsWriter:
    """The rejects file: each rejected row's original cells, plus ``line`` and
    ``reason``, so it can be fixed and imported again. Opened at the first reject."""

    def __init__(self, path: Path | None, delimiter: str) -> None:
        self.path = path
        self.delimiter = delimiter
        self._handle: TextIO | None = None
        self._writer: Any = None
        self._width = 0

    def add(self, line: int, cells: list[str] | None, reason: str, header: list[str]) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self._width = len(header)
            try:
                self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            except OSError as error:
                from leadctl.errors import InvalidInput

                raise InvalidInput(
                    f"cannot write the rejects file {self.path}: {error.strerror}"
                ) from None
            self._writer = csv.writer(self._handle, delimiter=self.delimiter)
            self._writer.writerow([*header, *REJECTS_COLUMNS])
        cells = list(cells or [])
        extra = cells[self._width :]
        cells = cells[: self._width] + [""] * (self._width - len(cells))
        self._writer.writerow([*cells, line, reason, *extra])

    @property
    def written(self) -> bool:
        return self._writer is not None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _id_range(ids: list[int]) -> Any:
    """``id BETWEEN a AND b`` when the new ids are consecutive (as numbered on
    SQLite), else ``id IN (…)``."""
    low, high = min(ids), max(ids)
    if high - low + 1 == len(ids):
        return LEAD.c.id.between(low, high)
    return LEAD.c.id.in_(ids)


def _activity(
    lead_id: int,
    kind: str,
    actor: str,
    at: datetime,
    *,
    body: str | None = None,
    field: str | None = None,
    new: str | None = None,
) -> tuple[Any, ...]:
    """An activity row, in ``records.ACTIVITY_COLUMNS`` order."""
    return (lead_id, kind, field, None, new, body, None, actor, at)
