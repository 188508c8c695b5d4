"""The rule "same company and a similar name" for an import, without comparing a
row with every earlier lead of its company.

Real exports hold accounts of thousands of leads; comparing each row's name
with every earlier name of its company made an import quadratic. Here each
name gets a *signature*, 64 bits saying which characters it holds (32 classes)
and which it holds twice or more. The bits two names differ in never exceed
the number of edits (insertions and deletions) between them, and
``token_sort_ratio`` reaches :data:`~leadctl.duplicates.SIMILAR_NAME_SCORE`
only within ``(100 - score) %`` of their joint length in edits; so one
vectorised pass (numpy's popcount) over a company's signatures leaves a
handful of candidates, and only those are scored, by rapidfuzz as the rule
says. A property test holds the filter to never drop a pair the scorer
accepts.

A company's names are loaded from the database on its first row and kept, in
id order, for the rest of the import (ids, signatures and lengths: 20 bytes a
lead; the few candidates' names are read back from the database to be
scored); leads the import stores are appended. Another writer committing
between two batches makes the cache stale: it is dropped and reloaded
(SQLite's ``data_version`` tells; on other engines it is reloaded every batch).
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from leadctl.duplicates import SIMILAR_NAME_SCORE, name_scorer
from leadctl.importing import records

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

BLOCK_CELLS = 1 << 16  # name pairs filtered in one numpy pass (a few hundred KiB)
LOOP_CELLS = 192  # name pairs below which the filter runs in Python: numpy's set-up costs more
_SLACK = 100 - SIMILAR_NAME_SCORE  # percent of the joint length allowed in edits


def name_key(folded: str) -> str:
    """A casefolded name as ``token_sort_ratio`` compares it: its words sorted."""
    return " ".join(sorted(folded.split()))


def signature(key: str) -> int:
    """Which of 32 character classes ``key`` holds (low bits), and which it
    holds twice or more (high bits). For two keys, the differing bits are at
    most the insertions and deletions that turn one into the other: a class
    held by one key only, or twice by one and once by the other, costs at least
    one edit, held twice by one and not at all by the other at least two."""
    once = twice = 0
    for char in key:
        bit = 1 << (ord(char) & 31)
        twice |= once & bit
        once |= bit
    return once | twice << 32


@lru_cache(maxsize=16384)  # a row's name is looked up, then added twice (held, then stored)
def _measure(folded: str) -> tuple[int, int]:
    key = name_key(folded)
    return signature(key), len(key)


def may_be_similar(key: str, other: str) -> bool:
    """The filter for one pair of name keys: False only when they cannot reach the score."""
    return _reachable(signature(key) ^ signature(other), len(key), len(other))


def _reachable(differ: int, length: int, other: int) -> bool:
    """The bound for one pair (``differ``: their signatures' differing bits), as
    :meth:`Names.candidates` applies it to a whole block in numpy."""
    return max(differ.bit_count(), abs(length - other)) * 100 <= _SLACK * (length + other)


class Names:
    """One company's names, in id order, as compact arrays (20 bytes a lead);
    with ``keep_names`` also the names themselves, to score the candidates
    (the import's cache of stored leads reads those from the database instead)."""

    __slots__ = ("ids", "sigs", "lengths", "names")

    def __init__(self, *, keep_names: bool = True) -> None:
        self.ids = array("q")
        self.sigs = array("Q")
        self.lengths = array("i")  # of the name keys, in characters
        self.names: list[str] | None = [] if keep_names else None

    def add(self, lead_id: int, folded: str) -> None:
        """Add a lead: appended (its id above every id held), or inserted in id order."""
        sig, length = _measure(folded)
        if not self.ids or self.ids[-1] < lead_id:
            at = len(self.ids)
        else:
            at = bisect.bisect(self.ids, lead_id)  # a merge gave an older lead this company
        self.ids.insert(at, lead_id)
        self.sigs.insert(at, sig)
        self.lengths.insert(at, length)
        if self.names is not None:
            self.names.insert(at, folded)

    def __len__(self) -> int:
        return len(self.ids)

    def candidates(self, folded: list[str]) -> list[list[int]]:
        """For each name of ``folded``, the positions of the names the filter lets
        through (in id order): a batch's rows of one company at once, as one numpy
        pass per block of rows."""
        measured = [_measure(name) for name in folded]
        if len(self.ids) * len(folded) < LOOP_CELLS:
            return [self._near(sig, length) for sig, length in measured]
        sigs = np.frombuffer(self.sigs, dtype=np.uint64)
        sizes = np.frombuffer(self.lengths, dtype=np.int32)
        block = max(1, BLOCK_CELLS // len(sigs))  # rows a pass: its arrays stay small
        found: list[list[int]] = []
        for start in range(0, len(measured), block):
            part = measured[start : start + block]
            wanted = np.array([sig for sig, _ in part], dtype=np.uint64)[:, None]
            length = np.array([size for _, size in part], dtype=np.int32)[:, None]
            edits = np.maximum(np.bitwise_count(sigs ^ wanted), np.abs(sizes - length))
            rows, columns = np.nonzero(edits * 100 <= (sizes + length) * _SLACK)
            found.extend([] for _ in part)
            for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
                found[start + row].append(column)
        return found

    def matching(self, folded: list[str]) -> list[list[int]]:
        """For each name of ``folded``, the ids of the leads whose names score as
        one person's with it, oldest first."""
        assert self.names is not None, "scoring needs the names"
        names, scorer = self.names, name_scorer()
        return [
            [
                self.ids[at]
                for at in near
                if scorer(names[at], name, score_cutoff=SIMILAR_NAME_SCORE)
            ]
            for name, near in zip(folded, self.candidates(folded), strict=True)
        ]

    def similar(self, folded: str) -> list[int]:
        """Ids of the leads whose names score as one person's with ``folded``, oldest first."""
        return self.matching([folded])[0]

    def _near(self, sig: int, length: int) -> list[int]:
        # the loosest bound first (the longest partner the score allows), then the exact one
        cap = _SLACK * (length + length * (100 + _SLACK) // (100 - _SLACK) + 1) // 100
        near = [i for i, other in enumerate(self.sigs) if (other ^ sig).bit_count() <= cap]
        lengths, sigs = self.lengths, self.sigs
        return [i for i in near if _reachable(sigs[i] ^ sig, lengths[i], length)]


class Companies:
    """Names by company key, for one import: loaded on first use, kept current."""

    def __init__(self) -> None:
        self._names: dict[str, Names] = {}
        self._seen: tuple[int, int] | None = None  # (connection, data_version) after a batch

    def prepare(self, conn: Connection, keys: Iterable[str], load: Any) -> None:
        """Before a batch (inside its transaction): forget everything if another
        writer committed since the last batch, then load the companies in
        ``keys`` not yet held. ``load(missing)`` yields ``(id, name, key)`` by id."""
        if self._changed(conn):
            self._names.clear()
        self._seen = None  # until done(): a batch that fails leaves the cache suspect
        missing = sorted({k for k in keys if k not in self._names})
        for lead_id, name, key in load(missing):
            held = self._names.get(key)
            if held is None:
                held = self._names[key] = Names(keep_names=False)
            held.add(lead_id, name.casefold())
        # A company with no stored lead is not held: most companies of a file
        # come once, and one asked again is read again (with what was stored).

    def done(self, conn: Connection) -> None:
        """After a batch's writes: what the database looks like to the next batch."""
        self._seen = records.seen_version(conn)

    def _changed(self, conn: Connection) -> bool:
        return self._seen is None or records.seen_version(conn) != self._seen

    def get(self, key: str) -> Names | None:
        return self._names.get(key)

    def add(self, key: str, lead_id: int, name: str) -> None:
        """A lead stored (or given this company) by the import: kept when its
        company is held (else it is read with the company next time)."""
        names = self._names.get(key)
        if names is not None:
            names.add(lead_id, name.casefold())
