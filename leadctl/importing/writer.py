"""Storing one batch of parsed rows: new leads, merges, activities; and the
rejects file.

A batch is written with a few SQLAlchemy Core statements (executemany), not
one ORM object per row. New leads get their ``created`` activity (field
``status``, at the row's creation time, so reports count them) and their
notes; a merge fills the stored lead's blanks, never overwriting, and appends
notes it does not already have (``leadctl.duplicates``: the one fill rule, for
stored leads and for earlier rows of the file alike), and is recorded as an
``import`` activity naming the file's line, even when it filled nothing (once:
a lead that already has that line, or came from that file, gets no second trace,
so importing a file twice changes nothing). A row that shares an email or phone
with another person (the names differ: ``duplicates.shared_key``) is stored as a
new lead, both leads get a ``link`` activity and the row a warning. A limited
user's (a rep's) row whose duplicate is a lead they may not see, or (to merge)
may not work on, is rejected
(``duplicates.refusal``): nothing about that lead is told or written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import String, and_, func, or_, select, type_coerce, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from leadctl import activities, duplicates, followup, storage, users
from leadctl.activities import ActivityRow
from leadctl.duplicates import NEVER_FILLED, SAME_RECORD, UNIONED
from leadctl.importing import converted, records
from leadctl.importing.companies import Companies
from leadctl.importing.dedupe import DuplicateIndex, Known, Match, Scratch, Shared
from leadctl.importing.headers import REJECTS_COLUMNS
from leadctl.importing.records import Records
from leadctl.importing.restore import Restorer
from leadctl.importing.rows import Parsed, RowWarning
from leadctl.models import ACTIVITY, CLIENT, DEAL, LEAD
from leadctl.routing import BatchDealer
from leadctl.storage.files import PrivateFile, check_target, first_line
from leadctl.users import Actor

# Columns of a leadctl export that only `claim` and `score --adjust` may set
# (a limited actor's import keeps them as text): the claim, and the score.
PRIVILEGED = ("claimed_by", "claim_expires_at", "score", "score_adjustment")


@dataclass
class Counts:
    rows: int = 0
    imported: int = 0
    merged: int = 0
    skipped: int = 0
    rejected: int = 0
    warnings: int = 0
    # each merged row: (line, the lead it went into (a dry run: the id it would have), why)
    merges: list[tuple[int, int | None, str]] = field(default_factory=list)


@dataclass
class BatchResult:
    """What one batch stored: the hook for scoring new leads."""

    inserted_ids: list[int] = field(default_factory=list)  # new leads, in file order
    merged_ids: list[int] = field(default_factory=list)  # stored leads a merge changed
    # rejected: duplicates in fail mode, and a limited user's duplicates of leads out of reach
    duplicates: list[tuple[Parsed, str]] = field(default_factory=list)
    # rows with warnings, each with the lead it became or merged into (None: no
    # lead, e.g. skipped or rejected; or a dry run's new lead): the warnings file
    placed: list[tuple[Parsed, int | None]] = field(default_factory=list)
    # the new leads were stored with their scores (PostgreSQL): only their
    # stages are left to recompute
    scored: bool = False


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
        restore: Restorer | None = None,
        dealer: BatchDealer | None = None,
    ) -> None:
        self.records = records
        self.dealer = dealer  # --assign round-robin: deals each new lead an owner
        self.restore = restore  # a leadctl export's timelines, clients and deals
        # The acting user when what they may see or work on is limited (a rep): their
        # rows' duplicates are checked against it. None: no limit (and no cost).
        self.scope = scope if scope is not None and not scope.works_any else None
        self.actor = actor
        self.origin = origin  # "data.csv", for activity bodies
        self.on_duplicate = on_duplicate
        self.counts = counts
        self.scratch = scratch  # set for a dry run: nothing is written
        self.keep_ids = keep_ids
        self.companies = Companies()  # names by company, from batch to batch

    def write(self, session: Session, rows: list[Parsed]) -> BatchResult:
        conn = session.connection()
        records.tune(conn)
        if self.restore is not None:
            self.restore.hold(rows)
        self._check_clients(conn, rows)  # before merges too: they fill client_id
        if self.scope is not None:
            self._untrusted(rows)
        now = self.records.now
        result = BatchResult()
        new: list[Parsed] = []
        pending_fills: list[tuple[int, Parsed, list[str]]] = []
        pending_merges: list[tuple[int, Parsed, str]] = []  # (new row index, row, reason)
        links: list[tuple[int, Parsed, Shared]] = []  # a new row and the other person
        stored_merges: dict[int, list[Parsed]] = {}
        touched: dict[int, Known] = {}  # stored leads merged into (a dry run remembers them)
        lookup = self.on_duplicate != "create" or self.scope is not None
        # create: still one lead per record of another system (its id seen again)
        records_only = not lookup and any(r.values.get("external_id") for r in rows)
        index = (
            DuplicateIndex(
                conn, rows, self.scratch, records_only=records_only, companies=self.companies
            )
            if lookup or records_only
            else None
        )
        create = self.on_duplicate == "create"
        reach = (
            duplicates.reach_rows(conn, self.scope, index.known_ids())
            if self.scope is not None and index is not None
            else {}
        )
        scope = self.scope
        dealer = self.dealer
        if dealer is not None:
            dealer.start(conn)  # availability and loads: once a batch
        # rows with warnings: where they went (a new row's position, or a lead id)
        fates: list[tuple[Parsed, int | None, int | None]] = []  # (row, new position, lead)
        for position, row in enumerate(rows):
            match = index.find(row.values, position) if index is not None else None
            known = match.target if match is not None else None
            if scope is not None and known is not None and known.lead_id not in reach:
                # found by company: its keys (and so its reach) were not loaded
                reach.update(duplicates.reach_rows(conn, scope, [known.lead_id]))
            if (
                match is not None
                and known is not None
                and known.lead_id in reach
                and scope is not None
            ):
                refused = duplicates.refusal(
                    scope,
                    reach[known.lead_id],
                    match.reason,
                    writing=self.on_duplicate == "merge",
                )
                if refused is not None:
                    result.duplicates.append((row, str(refused)))
                    if row.warnings:
                        fates.append((row, None, None))
                    continue
            if match is None or index is None or (create and match.reason != SAME_RECORD):
                if index is not None and records_only:
                    index.add_pending(row.values, len(new), position)
                elif index is not None and not create:
                    shared = index.shared(row.values)
                    if shared is not None and self._may_link(shared, reach):
                        links.append((len(new), row, shared))
                        self._shared_warning(row, shared, new)
                    index.add_pending(row.values, len(new), position)
                if dealer is not None:
                    self._deal(row, dealer)
                if row.warnings:
                    fates.append((row, len(new), None))
                new.append(row)
                continue
            if row.warnings:  # where a merged row's warnings belong
                merging = self.on_duplicate == "merge" or create
                if merging and known is not None:
                    fates.append((row, None, known.lead_id))
                elif merging:
                    fates.append((row, match.pending, None))
                else:
                    fates.append((row, None, None))
            if self.on_duplicate == "skip" and not create:
                self.counts.skipped += 1
            elif self.on_duplicate == "fail":
                what = _described(match, new)
                result.duplicates.append((row, f"duplicate of {what}: {match.reason}"))
            elif known is not None:  # merge into a stored lead (create: the same record)
                self.counts.merged += 1
                self.counts.merges.append((row.line, known.lead_id, match.reason))
                stored_merges.setdefault(known.lead_id, []).append(row)
                touched[known.lead_id] = known
                index.gained(match, row.values, None)
            elif match.pending is not None:  # merge into a new row of this batch
                self.counts.merged += 1
                pending = new[match.pending]
                before = dict(pending.values)
                filled = _fill_pending(pending, row)
                pending_fills.append((match.pending, row, filled))  # a trace, filled or not
                pending_merges.append((match.pending, row, match.reason))
                index.gained(match, row.values, before)
        if dealer is not None:
            dealer.finish(conn, save=self.scratch is None)
        if self.scratch is not None:
            for position, row, reason in pending_merges:  # the ids they would get
                self.counts.merges.append((row.line, self.scratch.next_id + position, reason))
            self.counts.imported += len(new)
            entries: list[tuple[int | None, dict[str, Any]]] = [(None, r.values) for r in new]
            entries += [(k.lead_id, {"name": k.name, **k.keys}) for k in touched.values()]
            first = self.scratch.next_id  # the ids the dry run's new leads get
            self._remember_companies(new, range(first, first + len(new)))
            self.scratch.add(entries)
            self.companies.done(conn)
            result.placed = [(row, lead) for row, _, lead in fates]
            return result
        if self.restore is not None:
            self.restore.before_insert(conn, new)
        visible = users.visible_clauses(self.scope) if self.scope is not None else None
        attached = converted.attach_clients(conn, new, now, visible)
        followup.first_calls(conn, [r.values for r in new], now)  # first_call_after (issue 14)
        ids, result.scored = self._insert(conn, new)
        self._remember_companies(new, ids)
        result.inserted_ids = ids
        result.placed = [
            (row, ids[position] if position is not None else lead) for row, position, lead in fates
        ]
        self.counts.imported += len(ids)
        for position, row, reason in pending_merges:
            self.counts.merges.append((row.line, ids[position], reason))
        made = self._new_activities(conn, new, ids, pending_fills, now)
        made += converted.activities_for(attached, ids, self.actor)
        made += self._links(new, ids, links, now)
        result.merged_ids = self._merge(conn, stored_merges, made, now)
        self.records.insert_activities(conn, made)
        if self.restore is not None:
            self.restore.after_insert(conn, new, ids)
        if not self.records.sqlite:  # rows stored with their ids: the sequences follow
            storage.follow_ids(conn, LEAD, ACTIVITY, CLIENT, DEAL)
        self.companies.done(conn)
        return result

    def _deal(self, row: Parsed, dealer: BatchDealer) -> None:
        """A new lead's owner, round-robin; nobody available: the pool, and a warning."""
        owner = dealer.next()
        given = row.values.pop("owner", None)
        if owner is not None:
            row.values["owner"] = owner
            return
        if given:
            row.values.setdefault("fields", {})["owner_raw"] = given
        why = f"nobody available for round-robin ({dealer.why_nobody()}); left in the pool"
        row.warnings.append(RowWarning("owner", given or "", why))
        self.counts.warnings += 1

    def _remember_companies(self, new: list[Parsed], ids: Iterable[int]) -> None:
        """New leads with a company, for the company rule in later batches."""
        for row, lead_id in zip(new, ids, strict=True):
            company = row.values.get("company_key")
            if company:
                self.companies.add(company, lead_id, row.values["name"])

    def _may_link(self, shared: Shared, reach: dict[int, Any]) -> bool:
        """A limited user is told of (and links to) only the leads they may see."""
        if self.scope is None or shared.target is None:
            return True
        stored = reach.get(shared.target.lead_id)
        return stored is not None and users.may_see(self.scope, stored)

    def _shared_warning(self, row: Parsed, shared: Shared, new: list[Parsed]) -> None:
        """Another person (their names differ) shares this row's email or phone."""
        if shared.target is not None:
            other = f"lead {shared.target.lead_id} ({shared.target.name})"
        else:
            assert shared.pending is not None  # a shared lead is stored or an earlier row
            earlier = new[shared.pending]
            other = f"line {earlier.line} ({earlier.values['name']})"
        message = f"shares {shared.word} with {other}, another name: stored apart, linked"
        row.warnings.append(RowWarning(shared.word, shared.value, message))
        self.counts.warnings += 1

    def _links(
        self,
        new: list[Parsed],
        ids: list[int],
        links: list[tuple[int, Parsed, Shared]],
        now: datetime,
    ) -> list[ActivityRow]:
        """An activity on each of two people sharing an email or phone."""
        made = []
        for position, row, shared in links:
            lead_id = ids[position]
            if shared.target is not None:
                other_id, other_name = shared.target.lead_id, shared.target.name
            else:
                assert shared.pending is not None
                other_id, other_name = ids[shared.pending], new[shared.pending].values["name"]
            made += duplicates.link_rows(
                shared.word,
                (lead_id, row.values["name"]),
                (other_id, other_name),
                how=f"imported from {self.origin} line {row.line}",
                actor=self.actor,
                at=now,
            )
        return made

    def _check_clients(self, conn: Connection, rows: list[Parsed]) -> None:
        """A client id must name a client here, and for a limited actor one they may
        see (a lead of theirs or the pool's under it, as `add --client` requires);
        else it is kept as text (a warning)."""
        wanted = {r.values["client_id"] for r in rows if r.values.get("client_id") is not None}
        if not wanted:
            return
        if self.scope is None:
            statement = select(CLIENT.c.id).where(CLIENT.c.id.in_(wanted))
        else:
            visible = users.visible_clauses(self.scope)
            statement = select(LEAD.c.client_id).where(LEAD.c.client_id.in_(wanted), *visible)
        found = set(conn.scalars(statement))
        for row in rows:
            client = row.values.get("client_id")
            if client is not None and client not in found:
                self._demote(row, "client_id", "no such client you may use")

    def _untrusted(self, rows: list[Parsed]) -> None:
        """What only `claim` and `score --adjust` may set (each checked and recorded
        there) is not taken from a limited actor's file: kept as text (a warning)."""
        for row in rows:
            for name in PRIVILEGED:
                if row.values.get(name) is not None:
                    self._demote(row, name, "only a manager's import sets it")

    def _demote(self, row: Parsed, name: str, why: str) -> None:
        """Leave a field out of the row, its value kept as ``<name>_raw`` (a warning)."""
        value = row.values.pop(name)
        text = value.isoformat() if isinstance(value, datetime) else str(value)
        row.values.setdefault("fields", {})[f"{name}_raw"] = text
        row.warnings.append(RowWarning(name, text, f"{why}; kept as {name}_raw"))
        self.counts.warnings += 1

    def _insert(self, conn: Connection, rows: list[Parsed]) -> tuple[list[int], bool]:
        """Insert new leads; returns their ids in row order, and whether they
        were stored with their scores (see ``Records.insert_leads``). An id from
        a leadctl export is kept when it is free, so an export imports back unchanged."""
        if not rows:
            return [], False
        keep: dict[int, int] = {}  # row position: the id it carries, when that id is free
        if self.keep_ids:
            keep = {i: r.lead_id for i, r in enumerate(rows) if r.lead_id is not None}
        if keep:
            taken = set(conn.scalars(select(LEAD.c.id).where(LEAD.c.id.in_(keep.values()))))
            chosen = {}
            for i, lead_id in keep.items():
                if lead_id not in taken:
                    taken.add(lead_id)
                    chosen[i] = lead_id
            keep = chosen
        ids: list[int] = [0] * len(rows)
        for i, lead_id in keep.items():
            ids[i] = lead_id
        rest = [i for i in range(len(rows)) if i not in keep]
        if rest:
            # Under the writer lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's
            # advisory lock) nobody else inserts: number them as SQLite would.
            stored_top = conn.scalar(select(func.max(LEAD.c.id))) or 0
            top = max([stored_top, *keep.values()])
            for offset, i in enumerate(rest, start=1):
                ids[i] = top + offset
        chosen_rows = [(ids[i], rows[i].values) for i in (*keep, *rest)]
        # a leadctl export's leads keep the scores of the file: none computed
        scored = self.records.insert_leads(conn, chosen_rows, score=self.restore is None)
        return ids, scored

    def _new_activities(
        self,
        conn: Connection,
        rows: list[Parsed],
        ids: list[int],
        pending_fills: list[tuple[int, Parsed, list[str]]],
        now: datetime,
    ) -> list[ActivityRow]:
        """Each new lead's ``created`` activity (and ``assign`` when it has an
        owner) is copied from the rows just stored, in one INSERT … SELECT: no
        parameters bound per lead. Notes and in-batch merges are returned."""
        actor = self.actor
        fresh = ids if self.restore is None else self.restore.fresh(rows, ids)
        if fresh:
            stored = id_range(fresh)
            body = f"imported from {self.origin}"
            copy = records.copy_activities
            copy(
                conn,
                stored,
                kind="created",
                field="status",
                new=LEAD.c.status,
                body=body,
                actor=actor,
            )
            if any(row.values.get("owner") for row in rows):
                owned = and_(stored, LEAD.c.owner.is_not(None))
                copy(
                    conn,
                    owned,
                    kind="assign",
                    field="owner",
                    new=LEAD.c.owner,
                    body="on import",
                    actor=actor,
                )
        made = []
        for row, lead_id in zip(rows, ids, strict=True):
            if row.notes:
                created = row.values.get("created_at") or now
                for note in row.notes:
                    made.append(activities.row(lead_id, "note", actor, body=note, at=created))
        for position, row, filled in pending_fills:
            text = _trace(filled, self.origin, row.line)
            made.append(activities.row(ids[position], "import", actor, body=text, at=now))
        return made

    def _merge(
        self,
        conn: Connection,
        merges: dict[int, list[Parsed]],
        made: list[ActivityRow],
        now: datetime,
    ) -> list[int]:
        """Fill stored leads' blanks from their duplicates; only changes are written."""
        if not merges:
            return []
        ids = list(merges)
        first_made = len(made)  # this merge's activities start here
        wanted = {k for rows in merges.values() for r in rows for k in r.values} - NEVER_FILLED
        # Only blankness is read, so the stored text is enough: no datetime parsing.
        read = wanted | set(UNIONED) | {"alt_emails", "alt_phones"}
        columns = [type_coerce(LEAD.c[k], String).label(k) for k in sorted(read)]
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
        unchanged: list[tuple[int, Parsed]] = []  # rows that brought nothing: traced below
        for lead_id, rows in merges.items():
            lead = current[lead_id]
            changes: dict[str, Any] = {}
            for row in rows:
                filled = fill_blanks(lead, row.values, changes)
                have = notes.setdefault(lead_id, set())
                added = duplicates.new_notes(have, row.notes)
                for note in added:
                    have.add(note)
                    made.append(activities.row(lead_id, "note", self.actor, body=note, at=now))
                if added:
                    filled.append("notes")
                if filled:
                    text = _trace(filled, self.origin, row.line)
                    made.append(activities.row(lead_id, "import", self.actor, body=text, at=now))
                else:
                    unchanged.append((lead_id, row))
            if changes:
                changes["updated_at"] = now
                conn.execute(update(LEAD).where(LEAD.c.id == lead_id).values(changes))
                changed_ids.append(lead_id)
        activities.touch_leads(conn, made[first_made:])  # a fill is a touch; a bare trace not
        made.extend(self._traces(conn, unchanged, now))
        return changed_ids

    def _traces(
        self, conn: Connection, unchanged: list[tuple[int, Parsed]], now: datetime
    ) -> list[ActivityRow]:
        """A merged row that filled nothing still leaves a trace on the lead, unless
        the lead already has this file's line (or came from this file), or the row
        is that very lead in a leadctl export (its id): importing a file again
        changes nothing."""
        unchanged = [(lead_id, row) for lead_id, row in unchanged if row.lead_id != lead_id]
        if not unchanged:
            return []
        ids = sorted({lead_id for lead_id, _ in unchanged})
        came_from = f"imported from {self.origin}"
        # Only the activities that can tell (the lead's creation from this file,
        # this file's traces), not whole timelines: a re-import asks for every lead.
        traced = f"% from {_like_literal(self.origin)} line %"
        seen: dict[int, list[str]] = {}
        for start in range(0, len(ids), records.IN_CHUNK):
            chunk = ids[start : start + records.IN_CHUNK]
            statement = select(ACTIVITY.c.lead_id, ACTIVITY.c.body).where(
                ACTIVITY.c.lead_id.in_(chunk),
                or_(
                    and_(ACTIVITY.c.kind == "created", ACTIVITY.c.body == came_from),
                    and_(ACTIVITY.c.kind == "import", ACTIVITY.c.body.like(traced, escape="\\")),
                ),
            )
            for lead_id, body in conn.execute(statement):
                seen.setdefault(lead_id, []).append(body)
        made = []
        for lead_id, row in unchanged:
            ending = f" from {self.origin} line {row.line}"
            bodies = seen.setdefault(lead_id, [])
            if any(b == came_from or b.endswith(ending) for b in bodies):
                continue
            text = _trace([], self.origin, row.line)
            bodies.append(text)
            made.append(activities.row(lead_id, "import", self.actor, body=text, at=now))
        return made


def _like_literal(text: str) -> str:
    """``text`` matched literally by LIKE (with ``ESCAPE '\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _described(match: Match, new: list[Parsed]) -> str:
    """The lead or earlier row a row duplicates, for the rejects file."""
    if match.target is not None:
        return f"lead {match.target.lead_id} ({match.target.name})"
    if match.pending is None:
        raise ValueError("a match names a stored lead or an earlier row")
    earlier = new[match.pending]
    return f"line {earlier.line} ({earlier.values['name']})"


def _trace(filled: list[str], origin: str, line: int) -> str:
    """A merged row's activity on the lead it went into."""
    what = f"filled {', '.join(filled)}" if filled else "merged (nothing new)"
    return f"{what} from {origin} line {line}"


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
    ``reason``, so it can be fixed and imported again. Opened at the first
    reject, written under a temporary name (mode 0600, never through a link)
    and put in place by :meth:`close`."""

    def __init__(self, path: Path | None, delimiter: str) -> None:
        self.path = path
        self.delimiter = delimiter
        self._file: PrivateFile | None = None
        self._handle: TextIO | None = None
        self._writer: Any = None
        self._width = 0

    def check(self, header: list[str], origin: str) -> None:
        """Before anything is stored: an existing file at the path is replaced
        only when it is a rejects file of this input (its header is the
        input's, plus ``line`` and ``reason``)."""
        if self.path is None:
            return

        def ours(path: Path) -> bool:
            first = next(csv.reader([first_line(path)], delimiter=self.delimiter), [])
            if first[-len(REJECTS_COLUMNS) :] != list(REJECTS_COLUMNS):
                return False
            columns = first[: -len(REJECTS_COLUMNS)]
            shorter = min(len(columns), len(header))
            return bool(columns) and columns[:shorter] == header[:shorter]

        check_target(
            self.path,
            what="the rejects file",
            replace=ours,
            refusal=f"{self.path} exists and is not a rejects file of {origin}; "
            "move it or give --rejects FILE",
        )

    def add(self, line: int, cells: list[str] | None, reason: str, header: list[str]) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self._width = len(header)
            self._file = PrivateFile(self.path, what="the rejects file")
            self._handle = self._file.open_csv()
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
        if self._file is None or self._handle is None:
            return
        file, self._file = self._file, None
        try:
            self._handle.close()
        except OSError as error:
            file.discard()
            raise file.failure(error) from None
        file.commit()


def id_range(ids: list[int]) -> Any:
    """``id BETWEEN a AND b`` when the new ids are consecutive (as numbered on
    SQLite), else ``id IN (…)``."""
    low, high = min(ids), max(ids)
    if high - low + 1 == len(ids):
        return LEAD.c.id.between(low, high)
    return LEAD.c.id.in_(ids)
