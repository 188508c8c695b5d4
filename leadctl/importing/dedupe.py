"""Finding each imported row's duplicate: among stored leads and rows earlier
in the file, by the match rule of ``leadctl.duplicates`` (same record id of
another system, same email or phone with names that agree, same company and
a similar name, in that order; within a rule the oldest lead, stored ones
before the file's new rows). A property test holds
this index's answers equal to ``duplicates.first_match``.

Memory stays flat: per batch, four indexed ``IN`` queries
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

from leadctl.duplicates import (
    CONTACT_KEYS,
    KEYS,
    NEVER_FILLED,
    REASONS,
    SAME_RECORD,
    SIMILAR_NAME_SCORE,
    external_conflict,
    name_scorer,
    placeholder_phone,
    rule_matches,
)
from leadctl.importing import records
from leadctl.importing.companies import Companies, Names
from leadctl.importing.rows import Parsed
from leadctl.models import LEAD

PAIRWISE_UP_TO = 8  # a company's rows in a batch compared pair by pair (no filter to build)
SCRATCH_IDS = 1 << 62  # a dry run's new leads: numbered after every stored one
EXACT = ("external_id", *CONTACT_KEYS)  # the keys compared whole (the company's by name)
GAINED = tuple(k for k in KEYS if k not in NEVER_FILLED)  # keys a merge can fill (no record id)


@dataclass(slots=True)
class Known:
    """A stored lead a row may duplicate: its name and match keys (``values``)."""

    lead_id: int
    name: str
    folded: str
    keys: dict[str, str | None]

    @property
    def values(self) -> dict[str, Any]:
        return {"id": self.lead_id, "name": self.name, **self.keys}


@dataclass(slots=True)
class Match:
    """A row's duplicate: a stored lead (``target``) or an earlier new row of
    the batch (``pending``, its index among the batch's new rows)."""

    target: Known | None
    pending: int | None
    reason: str


@dataclass(slots=True)
class Shared:
    """A lead (stored, or an earlier new row) sharing a row's email or phone that
    is another person (their names differ): the two are linked, not merged."""

    target: Known | None
    pending: int | None
    word: str  # "email" or "phone"
    value: str


class Scratch:
    """The keys a dry run would have stored, in a temporary SQLite file."""

    def __init__(self, first_id: int = SCRATCH_IDS) -> None:
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
        # new leads numbered after every stored one, as SQLite would number them
        self.next_id = first_id

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
    """The duplicates of one batch of rows; build one per batch.

    Per key, every stored lead holding a value (oldest first) and every new row
    of the batch (in row order): a shared email or phone is one person only when
    the names agree (``duplicates.rule_matches``), compared only on a collision."""

    def __init__(
        self,
        conn: Connection,
        rows: list[Parsed],
        scratch: Scratch | None = None,
        *,
        records_only: bool = False,
        companies: Companies | None = None,
    ):
        """``records_only``: only the record id rule (``--on-duplicate create``: the
        same record of another system is still the same lead). ``companies``: the
        import's names by company, kept from batch to batch (default: this batch's)."""
        self.records_only = records_only
        self.stored: dict[str, dict[str, list[Known]]] = {k: {} for k in EXACT}
        self.companies = companies if companies is not None else Companies()
        self.pending: dict[str, dict[str, list[int]]] = {k: {} for k in EXACT}
        self.rows: dict[int, dict[str, Any]] = {}  # new rows' values, by index
        self._known: dict[int, Known] = {}
        self._sources: list[tuple[Connection, Table]] = [(conn, LEAD)]
        if scratch is not None:
            self._sources.append((scratch.conn, scratch.table))
        wanted = {k: {r.values[k] for r in rows if r.values.get(k)} for k in KEYS}
        for source_conn, table in self._sources:
            for key in ("external_id",) if records_only else EXACT:
                if wanted[key]:
                    self._load(source_conn, table, key, sorted(wanted[key]))
        # the company rule, for the whole batch at once: by row position, the
        # stored leads and the earlier rows whose names score as one person's
        self._similar_stored: dict[int, list[int]] = {}
        self._similar_earlier: dict[int, list[int]] = {}
        self._pending_at: dict[int, int] = {}  # a new row's position → its index
        # leads given a company by a merge in this batch (stored ids, new rows' indexes)
        self._late_stored: dict[str, Names] = {}
        self._late_pending: dict[str, Names] = {}
        if not records_only:
            self.companies.prepare(conn, wanted["company_key"], self._company_names)
            self._compare_names(rows)

    def _compare_names(self, rows: list[Parsed]) -> None:
        by_company: dict[str, list[int]] = {}
        for position, row in enumerate(rows):
            company = row.values.get("company_key")
            if company and row.values.get("name"):
                by_company.setdefault(company, []).append(position)
        wanted: dict[int, list[int]] = {}  # row position → stored candidates' ids
        for company, positions in by_company.items():
            folded = [rows[p].values["name"].casefold() for p in positions]
            stored = self.companies.get(company)
            if stored is not None and len(stored):
                ids = stored.ids
                for position, near in zip(positions, stored.candidates(folded), strict=True):
                    if near:
                        wanted[position] = [ids[at] for at in near]
            if 1 < len(positions) <= PAIRWISE_UP_TO:  # most companies of a batch: score pairs
                scorer = name_scorer()
                for i, position in enumerate(positions[1:], start=1):
                    earlier = [
                        positions[j]
                        for j in range(i)
                        if scorer(folded[j], folded[i], score_cutoff=SIMILAR_NAME_SCORE)
                    ]
                    if earlier:
                        self._similar_earlier[position] = earlier
            elif len(positions) > PAIRWISE_UP_TO:
                batch = Names()
                for position, name in zip(positions, folded, strict=True):
                    batch.add(position, name)
                for position, same in zip(positions, batch.matching(folded), strict=True):
                    earlier = [j for j in same if j < position]
                    if earlier:
                        self._similar_earlier[position] = earlier
        if wanted:
            self._score_stored(rows, wanted)

    def _score_stored(self, rows: list[Parsed], wanted: dict[int, list[int]]) -> None:
        """The stored candidates scored by name, their names read in one query."""
        names = self._stored_names(sorted({i for ids in wanted.values() for i in ids}))
        scorer = name_scorer()
        for position, ids in wanted.items():
            folded = rows[position].values["name"].casefold()
            same = [
                i
                for i in ids
                if i in names and scorer(names[i], folded, score_cutoff=SIMILAR_NAME_SCORE)
            ]
            if same:
                self._similar_stored[position] = same

    def _stored_names(self, ids: list[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for source_conn, table in self._sources:
            for lead_id, name in records.names_by_id(source_conn, table, ids):
                found.setdefault(lead_id, name.casefold())
        return found

    def _company_names(self, keys: list[str]) -> Iterable[tuple[int, str, str]]:
        at = 2 + KEYS.index("company_key")
        for source_conn, table in self._sources:
            for row in records.find_by_key(source_conn, table, "company_key", keys):
                yield row[0], row[1], row[at]

    def _load(self, conn: Connection, table: Table, key: str, values: list[str]) -> None:
        at = 2 + KEYS.index(key)
        for row in records.find_by_key(conn, table, key, values):
            self.stored[key].setdefault(row[at], []).append(self._remember(row))

    def _remember(self, row: Any) -> Known:
        known = self._known.get(row[0])
        if known is None:
            keys: dict[str, str | None] = {k: row[2 + i] for i, k in enumerate(KEYS)}
            known = Known(row[0], row[1], row[1].casefold(), keys)
            self._known[row[0]] = known
        return known

    def _stored_lead(self, lead_id: int) -> Known:
        """A stored lead the company rule found (its keys were not loaded)."""
        known = self._known.get(lead_id)
        if known is None:
            for source_conn, table in self._sources:
                row = records.find_by_id(source_conn, table, lead_id)
                if row is not None:
                    return self._remember(row)
            raise LookupError(f"lead {lead_id} is gone")  # held in the cache: cannot happen
        return known

    def find(self, values: dict[str, Any], position: int) -> Match | None:
        """The lead the row at ``position`` of the batch duplicates, stored ones
        first within each rule."""
        record = values.get("external_id")
        if record:
            same = self.stored["external_id"].get(record)
            if same:
                return Match(same[0], None, SAME_RECORD)
            held = self.pending["external_id"].get(record)
            if held:
                return Match(None, held[0], SAME_RECORD)
        if self.records_only:
            return None
        for key in CONTACT_KEYS:
            value = values.get(key)
            if value:
                for known in self.stored[key].get(value, ()):
                    if rule_matches(key, values, known.values):
                        return Match(known, None, REASONS[key])
                for pending in self.pending[key].get(value, ()):
                    if rule_matches(key, values, self.rows[pending]):
                        return Match(None, pending, REASONS[key])
        company = values.get("company_key")
        if company:
            for lead_id in self._with_late(
                self._similar_stored.get(position, []), self._late_stored, company, values
            ):
                known = self._stored_lead(lead_id)
                if not (record and external_conflict(values, known.values)):
                    return Match(known, None, REASONS["company_key"])
            pending_at = self._pending_at
            earlier = [
                pending_at[j] for j in self._similar_earlier.get(position, ()) if j in pending_at
            ]
            for pending in self._with_late(earlier, self._late_pending, company, values):
                if not (record and external_conflict(values, self.rows[pending])):
                    return Match(None, pending, REASONS["company_key"])
        return None

    @staticmethod
    def _with_late(
        found: list[int], late: dict[str, Names], company: str, values: dict[str, Any]
    ) -> list[int]:
        """``found`` and the leads a merge gave this company in the batch, in order."""
        given = late.get(company)
        if given is None:
            return found
        return sorted({*found, *given.similar(values["name"].casefold())})

    def shared(self, values: dict[str, Any]) -> Shared | None:
        """For a row with no duplicate: the first lead sharing its email or phone
        (another person), stored ones first."""
        for key, word in (("email_key", "email"), ("phone", "phone")):
            value = values.get(key)
            if not value:
                continue
            same = self.stored[key].get(value)
            held = None if same else self.pending[key].get(value)
            if (same or held) and key == "phone" and placeholder_phone(value):
                continue  # checked only on a hit: a row's own phone is rarely shared
            if same:
                return Shared(same[0], None, word, values[word])
            if held:
                return Shared(None, held[0], word, values[word])
        return None

    def add_pending(self, values: dict[str, Any], index: int, position: int | None) -> None:
        """Register a new row (``index`` among the batch's new rows, ``position``
        in the batch) for later rows.

        A merge can give an earlier new row a key later (``gained``, no position):
        each key's rows stay in row order, as the rule says."""
        self.rows.setdefault(index, values)
        if position is not None:
            self._pending_at[position] = index
        pending = self.pending
        for key in EXACT:
            value = values.get(key)
            if value:
                same = pending[key].get(value)
                if same is None:  # the common case: a key no earlier row holds
                    pending[key][value] = [index]
                elif index not in same:
                    bisect.insort(same, index)
        company = values.get("company_key")
        if company and position is None:  # a company given by a merge
            held = self._late_pending.setdefault(company, Names())
            held.add(index, values["name"].casefold())

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
            new = {k: values[k] for k in GAINED if values.get(k) and not known.keys.get(k)}
            known.keys.update(new)
            for key in EXACT:
                if new.get(key):
                    same = self.stored[key].setdefault(new[key], [])
                    if known not in same:
                        bisect.insort(same, known, key=lambda k: k.lead_id)
            if new.get("company_key"):
                self.companies.add(new["company_key"], known.lead_id, known.name)
                late = self._late_stored.setdefault(new["company_key"], Names())
                late.add(known.lead_id, known.folded)
        elif target_values is not None and match.pending is not None:
            new = {k: values[k] for k in GAINED if values.get(k) and not target_values.get(k)}
            if new:
                self.add_pending(new | {"name": target_values["name"]}, match.pending, None)
