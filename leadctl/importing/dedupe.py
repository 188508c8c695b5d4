"""Finding each imported row's duplicate: among stored leads and rows earlier
in the file, by the match rule of ``leadctl.duplicates`` (same email, same
phone, same company and a similar name, in that order; within a rule the
oldest lead, stored ones before the file's new rows). A property test holds
this index's answers equal to ``duplicates.first_match``.

Memory stays flat: per batch, three indexed ``IN`` queries
(``records.find_by_key``) fetch the stored leads that share a key with the
batch's rows, and the batch's own new rows are held in dicts. Earlier batches
are in the database by the time a batch is looked up (committed, or inside the
``--atomic`` transaction); a dry run, which writes nothing, keeps their keys in
a scratch SQLite file instead.
"""

from __future__ import annotations

import bisect
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
)
from sqlalchemy.engine import Connection

from leadctl.duplicates import KEYS, REASONS, SIMILAR_NAME_SCORE, name_scorer
from leadctl.importing import records
from leadctl.importing.rows import Parsed
from leadctl.models import LEAD

COMPANY_CANDIDATES = 2000  # stored leads compared by name per company key and batch
SCRATCH_IDS = 1 << 62  # a dry run's new leads: numbered after every stored one


@dataclass(slots=True)
class Known:
    """A stored lead a row may duplicate."""

    lead_id: int
    name: str
    folded: str
    keys: dict[str, str | None]


@dataclass(slots=True)
class Match:
    """A row's duplicate: a stored lead (``target``) or an earlier new row of
    the batch (``pending``, its index among the batch's new rows)."""

    target: Known | None
    pending: int | None
    reason: str


class Scratch:
    """The keys a dry run would have stored, in a temporary SQLite file."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="leadctl-dry-run-")
        self.engine = create_engine(f"sqlite:///{Path(self._dir.name) / 'scratch.db'}")
        meta = MetaData()
        self.table = Table(
            "seen",
            meta,
            Column("id", Integer, index=True),
            Column("name", String),
            *(Column(k, String, index=True) for k in KEYS),
            Column("merged_into", Integer),
        )
        meta.create_all(self.engine)
        self.conn = self.engine.connect()
        self.next_id = SCRATCH_IDS

    def add(self, entries: Iterable[tuple[int | None, dict[str, Any]]]) -> None:
        """Remember leads a dry run would store (id None: new) with their keys."""
        rows = []
        for lead_id, values in entries:
            if lead_id is None:
                lead_id, self.next_id = self.next_id, self.next_id + 1
            keys = {k: values.get(k) for k in KEYS}
            rows.append({"id": lead_id, "name": values["name"], **keys, "merged_into": None})
        if rows:
            self.conn.execute(self.table.insert(), rows)
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()
        self._dir.cleanup()


class DuplicateIndex:
    """The duplicates of one batch of rows; build one per batch."""

    def __init__(self, conn: Connection, rows: list[Parsed], scratch: Scratch | None = None):
        self.stored: dict[str, dict[str, Known]] = {"email_key": {}, "phone": {}}
        self.companies: dict[str, list[Known]] = {}
        self.pending: dict[str, dict[str, int]] = {"email_key": {}, "phone": {}}
        self.pending_companies: dict[str, list[tuple[int, str]]] = {}
        self._known: dict[int, Known] = {}
        wanted = {k: {r.values[k] for r in rows if r.values.get(k)} for k in KEYS}
        sources: list[tuple[Connection, Table]] = [(conn, LEAD)]
        if scratch is not None:
            sources.append((scratch.conn, scratch.table))
        for source_conn, table in sources:
            for key in KEYS:
                self._load(source_conn, table, key, sorted(wanted[key]))

    def _load(self, conn: Connection, table: Table, key: str, values: list[str]) -> None:
        for row in records.find_by_key(conn, table, key, values):
            known = self._known.get(row[0])
            if known is None:
                keys: dict[str, str | None] = {k: row[2 + i] for i, k in enumerate(KEYS)}
                known = Known(row[0], row[1], row[1].casefold(), keys)
                self._known[row[0]] = known
            if key == "company_key":
                same = self.companies.setdefault(row[4], [])
                if len(same) < COMPANY_CANDIDATES:
                    same.append(known)
            else:
                self.stored[key].setdefault(row[2 + KEYS.index(key)], known)

    def find(self, values: dict[str, Any]) -> Match | None:
        """The lead this row duplicates, stored ones first within each rule."""
        for key in ("email_key", "phone"):
            value = values.get(key)
            if value:
                known = self.stored[key].get(value)
                if known is not None:
                    return Match(known, None, REASONS[key])
                pending = self.pending[key].get(value)
                if pending is not None:
                    return Match(None, pending, REASONS[key])
        company = values.get("company_key")
        if company:
            similar = name_scorer()  # duplicates.similar_names, without a call per pair
            name = values["name"].casefold()
            cutoff = SIMILAR_NAME_SCORE
            for known in self.companies.get(company, ()):
                if similar(known.folded, name, score_cutoff=cutoff):
                    return Match(known, None, REASONS["company_key"])
            for pending, folded in self.pending_companies.get(company, ()):
                if similar(folded, name, score_cutoff=cutoff):
                    return Match(None, pending, REASONS["company_key"])
        return None

    def add_pending(self, values: dict[str, Any], index: int) -> None:
        """Register a new row (``index`` among the batch's new rows) for later rows.

        A merge can give an earlier new row a key later (``gained``): each key keeps
        its earliest row, and a company's rows stay in row order, as the rule says."""
        email, phone, company = (
            values.get("email_key"),
            values.get("phone"),
            values.get("company_key"),
        )
        if email:
            held = self.pending["email_key"].get(email)
            if held is None or held > index:
                self.pending["email_key"][email] = index
        if phone:
            held = self.pending["phone"].get(phone)
            if held is None or held > index:
                self.pending["phone"][phone] = index
        if company:
            entry = (index, values["name"].casefold())
            same = self.pending_companies.setdefault(company, [])
            if same and same[-1][0] > index:
                bisect.insort(same, entry)
            else:
                same.append(entry)

    def known_ids(self) -> list[int]:
        """The stored leads this batch's rows may match."""
        return list(self._known)

    def gained(
        self, match: Match, values: dict[str, Any], target_values: dict[str, Any] | None
    ) -> None:
        """A merge fills the target's blank keys: later rows must find it by them too.

        ``target_values`` are a pending target's values before the merge."""
        if match.target is not None:
            known = match.target
            new = {k: values[k] for k in KEYS if values.get(k) and not known.keys.get(k)}
            known.keys.update(new)
            for key in ("email_key", "phone"):
                if new.get(key):
                    held = self.stored[key].get(new[key])
                    if held is None or held.lead_id > known.lead_id:  # the oldest lead wins
                        self.stored[key][new[key]] = known
            if new.get("company_key"):
                same = self.companies.setdefault(new["company_key"], [])
                bisect.insort(same, known, key=lambda k: k.lead_id)
        elif target_values is not None and match.pending is not None:
            new = {k: values[k] for k in KEYS if values.get(k) and not target_values.get(k)}
            if new:
                self.add_pending(new | {"name": target_values["name"]}, match.pending)
