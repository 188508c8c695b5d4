"""One row of cells → the values of a lead, or the reason the row is rejected.

SPEC: a row is rejected only when it has no name (nor first + last name) or no
usable contact (no valid email and no phone that parses). Any other value that
does not fit its field leaves the field at its default, keeps the text under
``fields`` as ``<field>_raw`` and counts as a warning. Columns that are no
field's first choice are kept as custom fields under their header. Which
parser reads which field comes from the registry (``leadctl.fields``); name,
contact, choices (priority, source, status) and owner are read here.

This runs once per row, so it is written for speed: columns are resolved once
per header, lookups are dicts, and the costly normalisers are cached or take a
fast path (see :func:`leadctl.normalize.normalize_phone_fast`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from leadctl import clock, fields, normalize
from leadctl.duplicates import LEADCTL_SYSTEM, placeholder_email, placeholder_phone
from leadctl.errors import InvalidInput
from leadctl.importing import restore
from leadctl.importing.headers import Plan
from leadctl.importing.vocabulary import DateReader, Vocabulary

MAX_CELL = 1 << 20  # characters; a bigger cell is a broken file, not a lead
_SPLIT_MULTI = re.compile(r"\s*(?:,|;|:::)\s*")
_company_key = lru_cache(maxsize=8192)(normalize.company_key)


# Cells that mean "no value" in the exports people have (case variants listed:
# a set lookup per row, no per-cell folding). `?`, `--`, `nil` and Excel's
# error values are blanks too: none of them is ever a real value of a field.
_BLANK_WORDS = (
    "-", "--", "---", "—", "–", "?", "n/a", "n.a.", "#n/a", "none", "null", "nil",
    "(blank)", "(none)", "(empty)", "(null)", "<blank>", "<none>", "<null>", "#value!",
    "#ref!", "#name?", "#div/0!", "#null!", "#num!",
)  # fmt: skip
BLANK_CELLS = frozenset(
    variant
    for word in _BLANK_WORDS
    for variant in (word, word.upper(), word.title(), word.capitalize(), f" {word}", f"{word} ")
) | {"nan", "NaN"}  # pandas' not-a-number as written by str(); not "Nan", a name
# An HTML entity with its semicolon (``&amp;``, ``&#39;``, ``&#x27;``): a bare ``&``
# or ``&copy=1`` in a URL is left alone, as html.unescape would not.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_entities(text: str) -> str:
    """``Smith &amp; Co`` → ``Smith & Co``; only complete entities are read."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def _not_a_name(text: str) -> bool:
    """Whether a ``Contact`` cell holds an address or a number, not a person."""
    return "@" in text or sum(ch.isdigit() for ch in text) >= 5


class Rejected(Exception):
    """A row that cannot become a lead; the message is the rejects file's reason."""


@dataclass(slots=True, frozen=True)
class RowWarning:
    """One value of a row that was not taken as it stood: which field, the
    text in the file, and what was done about it (for the summary, ``--json``
    and the warnings file)."""

    field: str
    value: str
    message: str


@dataclass(slots=True)
class Parsed:
    """A valid row: lead column values (``tags`` a list, ``fields`` a dict)."""

    line: int
    values: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    lead_id: int | None = None  # leadctl's own id, from one of its exports
    cells: list[str] | None = None  # kept only when a duplicate is to be rejected
    history: restore.History | None = None  # timeline, client, deals (a leadctl JSON export)


class RowParser:
    """Parses the rows of one header; build a new one when the header changes."""

    def __init__(
        self,
        plan: Plan,
        vocabulary: Vocabulary,
        *,
        default_source: str | None = None,
        owner: str | None = None,
        decimal_comma: bool = False,
        unguard: bool = False,
        keep_cells: bool = False,
    ) -> None:
        self.plan = plan
        self.keep_cells = keep_cells
        self.vocabulary = vocabulary
        self.width = len(plan.header)
        self.default_source = default_source
        self.owner = owner
        self.decimal_comma = decimal_comma
        self.unguard = unguard
        self.clean = not plan.leadctl_export
        self.contact_name = plan.contact_name
        self.at = {name: columns[0] for name, columns in plan.columns.items()}
        self.emails = plan.columns.get("email", [])
        self.phones = plan.columns.get("phone", [])
        self.custom = plan.custom
        self.record_id = plan.record_id
        # The fields read by their registry parser, each resolved once for this
        # header: (field, column, parser or None to keep the text).
        context = fields.ImportContext(decimal_comma=decimal_comma, date_reader=DateReader)
        self.readers: list[tuple[str, int, Callable[[str], Any] | None]] = [
            (spec.name, self.at[spec.name], spec.lenient(context))
            for spec in fields.LEAD_FIELDS
            if spec.lenient is not None and spec.name in self.at
        ]
        # A field with several candidate columns (a creation time): the next one
        # is read when the first is blank.
        self.fallbacks = {
            name: columns[1:]
            for name, columns in plan.columns.items()
            if len(columns) > 1 and name not in ("email", "phone")
        }
        self._regions: dict[str | None, str] = {}
        from leadctl.importing.converted import Conversion  # it reads parsed rows

        self.conversion = Conversion.for_plan(plan, vocabulary)

    def parse(self, line: int, cells: list[str]) -> Parsed:
        """The lead values of a row; raises :class:`Rejected` with the reason."""
        width = len(cells)
        if width > self.width and any(c.strip() for c in cells[self.width :]):
            raise Rejected(f"the row has {width} cells but the header has {self.width} columns")
        joined = "\x1f".join(cells)
        if "\x00" in joined:
            column = next(i for i, c in enumerate(cells) if "\x00" in c)
            raise Rejected(f"column {self._label(column)} contains a NUL byte (not text)")
        if len(joined) > MAX_CELL:
            for index, text in enumerate(cells):
                if len(text) > MAX_CELL:
                    raise Rejected(
                        f"column {self._label(index)} holds {len(text):,} characters "
                        f"(the limit is {MAX_CELL:,})"
                    )
        if self.unguard and "'" in joined:
            cells = [normalize.unguard_formula(c) for c in cells]
        if width < self.width:
            cells = cells + [""] * (self.width - width)
        at = self.at
        row = Parsed(line, {}, cells=cells if self.keep_cells else None)  # as in the file
        if self.clean:  # not in a leadctl export: it writes what was stored
            if not BLANK_CELLS.isdisjoint(cells):
                cells = ["" if c in BLANK_CELLS else c for c in cells]
            if "&" in joined:
                cells = [unescape_entities(c) if "&" in c else c for c in cells]
        values = row.values
        extra: dict[str, Any] = {}

        name = cells[at["name"]].strip() if "name" in at else ""
        if name and self.contact_name and _not_a_name(name):
            extra[self._key(at["name"])] = name  # a `Contact` column holding an address
            name = ""
        if not name:
            parts = [
                cells[at[p]].strip() for p in ("first_name", "middle_name", "last_name") if p in at
            ]
            name = " ".join(p for p in parts if p)
        if not name:
            raise Rejected("no name (nor first and last name)")
        values["name"] = name
        country = cells[at["country"]].strip() if "country" in at else ""
        if country:
            values["country"] = country
        email_problem = self._email(cells, values, extra, row)
        phone_problem = self._phone(cells, values, extra, row, country or None)
        if "email" not in values and "phone" not in values:
            problems = [p for p in (email_problem, phone_problem) if p]
            raise Rejected("no usable contact: " + ("; ".join(problems) or "no email or phone"))
        if self.record_id is not None:
            record = cells[self.record_id[0]].strip()
            if record:
                values["external_id"] = f"{self.record_id[1]}:{record}"
        for name_, index, parse in self.readers:
            text = cells[index].strip()
            if not text and name_ in self.fallbacks:
                text = next((t for i in self.fallbacks[name_] if (t := cells[i].strip())), "")
            if text:
                if parse is None:
                    values[name_] = text
                else:
                    try:
                        values[name_] = parse(text)
                    except clock.NoDate as error:
                        _warn(extra, row, name_, text, str(error))
                    except (InvalidInput, ValueError):
                        _warn(extra, row, name_, text, f"not a valid {name_}")
        if "company" in values:
            values["company_key"] = _company_key(values["company"])
        if self.owner:
            values["owner"] = self.owner
        elif "owner" in at and (text := cells[at["owner"]].strip()):
            values["owner"] = text
        self._choices(cells, values, extra, row)
        if self.conversion is not None:
            self.conversion.settle(cells, values, extra, row)
        if "notes" in at:
            note = cells[at["notes"]].strip()
            if note:
                row.notes.extend(split_notes(note) if self.plan.leadctl_export else [note])
        if "tags" in at and cells[at["tags"]].strip():
            values["tags"] = split_tags(cells[at["tags"]])
        if self.plan.leadctl_export:
            self._round_trip(cells, values, extra, row)
        for index, key in self.custom:
            text = cells[index].strip()
            if text and key not in extra:
                extra[key] = text
        if extra:
            values["fields"] = extra
        return row

    def _label(self, index: int) -> str:
        header = self.plan.header[index] if index < self.width else ""
        return repr(header) if header else str(index + 1)

    def _email(self, cells: list[str], values: dict, extra: dict, row: Parsed) -> str | None:
        """Take the first valid address of the email columns; say why there was none."""
        problem = None
        for rank, index in enumerate(self.emails):
            text = cells[index].strip()
            if not text:
                continue
            found, split = _first_valid(text, normalize.normalize_email_fast)
            if found is None:
                problem = problem or f"invalid email {text!r}"
                if rank == 0:
                    _warn(extra, row, "email", text, "not a valid email")
                continue
            if placeholder_email(found):  # a@a.com, noreply@…: no one's address
                problem = problem or f"placeholder email {text!r}"
                if rank == 0:
                    _warn(extra, row, "email", text, "a placeholder address, not a contact")
                continue
            values["email"] = found
            values["email_key"] = normalize.email_key(found)
            if split and rank == 0:
                extra[self._key(index)] = text  # the other addresses of the cell
            return None
        return problem

    def _phone(
        self, cells: list[str], values: dict, extra: dict, row: Parsed, country: str | None
    ) -> str | None:
        """Take the first phone that parses, for the row's country (else the default region)."""
        problem = None
        region = self._region(country)

        def parse(text: str) -> tuple[str, str | None]:
            return normalize.normalize_phone_fast(text, region)

        for rank, index in enumerate(self.phones):
            text = cells[index].strip()
            if not text:
                continue
            found, split = _first_valid(text, parse)
            if found is None:
                problem = problem or f"phone {text!r} does not parse for region {region}"
                if rank == 0:
                    _warn(extra, row, "phone", text, f"phone does not parse for region {region}")
                continue
            if placeholder_phone(found[0]):  # 0000000000, 1234567890: no one's phone
                problem = problem or f"placeholder phone {text!r}"
                if rank == 0:
                    _warn(extra, row, "phone", text, "a placeholder phone, not a contact")
                continue
            values["phone"], extension = found
            if extension:
                extra["phone_ext"] = extension
            if split and rank == 0:
                extra[self._key(index)] = text
            return None
        return problem

    def _key(self, index: int) -> str:
        return self.plan.header[index].replace("\ufeff", "").strip() or f"column {index + 1}"

    def _region(self, country: str | None) -> str:
        region = self._regions.get(country)
        if region is None:
            if len(self._regions) > 1000:
                self._regions.clear()
            region = normalize.region_for(country, self.vocabulary.region_setting)
            self._regions[country] = region
        return region

    def _choices(self, cells: list[str], values: dict, extra: dict, row: Parsed) -> None:
        at, words = self.at, self.vocabulary
        if "priority" in at and (text := cells[at["priority"]].strip()):
            priority = words.priority(text)
            if priority:
                values["priority"] = priority
            else:
                _warn(extra, row, "priority", text, "not a priority")
        source = cells[at["source"]].strip() if "source" in at else ""
        if source:
            matched = words.source(source) or words.new_source(source)
            if matched:
                values["source"] = matched  # a new one is added to the list when stored
            else:
                _warn(extra, row, "source", source, "cannot name a source")
        if "source" not in values and self.default_source:
            values["source"] = self.default_source
        reason = cells[at["lost_reason"]].strip() if "lost_reason" in at else ""
        if "status" in at and (text := cells[at["status"]].strip()):
            found = words.status(text)
            if found is None:
                _warn(extra, row, "status", text, "not a known status")
            else:
                values["status"] = found[0]
                if found[1] == "final":
                    values["lost_reason"] = (
                        reason and words.lost_reason(reason)
                    ) or words.other_reason
                    if reason and values["lost_reason"].casefold() != reason.casefold():
                        extra["lost_reason_raw"] = reason
                    reason = ""
        if reason:
            _warn(extra, row, "lost_reason", reason, "a lost reason on a lead that is not lost")

    def _round_trip(self, cells: list[str], values: dict, extra: dict, row: Parsed) -> None:
        """What only `leadctl export` writes besides fields: the lead's id, and its
        custom fields as a JSON object, so that its files import back unchanged."""
        at = self.at
        if "id" in at and (text := cells[at["id"]].strip()):
            try:
                number = fields.stored_int(text)
            except ValueError:
                _warn(extra, row, "id", text, "not a lead id")
            else:
                row.lead_id = number if number > 0 else None
                if row.lead_id is not None:
                    values["external_id"] = f"{LEADCTL_SYSTEM}:{number}"
        if "fields" in at and (text := cells[at["fields"]].strip()):
            try:
                stored = json.loads(text)
            except ValueError:
                stored = None
            if isinstance(stored, dict):
                extra.update({str(k): v for k, v in stored.items()})
            else:
                _warn(extra, row, "fields", text, "not a JSON object of custom fields")
        if any(name in at for name in restore.COLUMNS):
            problems: list[tuple[str, str, str]] = []
            row.history = restore.read(cells, at, problems)
            row.warnings.extend(RowWarning(*problem) for problem in problems)


def _warn(extra: dict, row: Parsed, name: str, text: str, message: str) -> None:
    """Keep a value that does not fit its field as ``<name>_raw``, and say so."""
    extra[f"{name}_raw"] = text
    row.warnings.append(RowWarning(name, text, f"{message}; kept as {name}_raw"))


def _first_valid(text: str, parse: Any) -> tuple[Any, bool]:
    """The first value of a cell that parses, and whether the cell held several
    (``a, b`` or ``a ::: b``)."""
    try:
        return parse(text), False
    except InvalidInput:
        pass
    if _SPLIT_MULTI.search(text):
        for part in _SPLIT_MULTI.split(text):
            if part:
                try:
                    return parse(part), True
                except InvalidInput:
                    continue
    return None, False


def split_notes(text: str) -> list[str]:
    """The notes of a leadctl export's cell: a JSON list of texts (several
    notes), else the cell is one note."""
    if text.startswith("["):
        try:
            return [n for n in fields.json_strings(text) if n.strip()]
        except ValueError:
            pass
    return [text]


def split_tags(text: str) -> list[str]:
    """Tags from a cell: a JSON list (leadctl export) or ``,`` ``;`` ``:::``-separated
    (Google's ``* myContacts ::: Friends``: the ``*`` marks a system group)."""
    text = text.strip()
    if text.startswith("["):
        try:
            return list(dict.fromkeys(fields.json_strings(text)))
        except ValueError:
            pass
    tags = (part.removeprefix("* ").strip() for part in _SPLIT_MULTI.split(text))
    return list(dict.fromkeys(t for t in tags if t))
