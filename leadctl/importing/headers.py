"""Which column holds which lead field: header synonyms of the common exports.

Headers are compared by their letters and digits only, case-folded, so
``E-mail Address``, ``EMAILADDRESS`` and ``email_address`` are one key.
Pipedrive's ``Person - Email - Work`` style is also tried without its entity
prefix. Within a field, earlier synonyms win: with both ``Title`` and ``Job
Title`` (Outlook), ``Job Title`` is the title and ``Title`` (a salutation)
stays a custom field. Every column that is not a field's first choice is kept
as a custom field under its own header, so nothing in a file is dropped.
Sources: ``../shared/FORMATS.md`` (Salesforce, HubSpot, Pipedrive, Zoho, Odoo,
LinkedIn, Google Contacts, Outlook, Mailchimp, Excel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from leadctl import fields
from leadctl.errors import InvalidInput

# Headers that name no lead field but parts of one: a name in parts, notes.
IMPORT_ONLY: dict[str, list[str]] = {
    "first_name": ["firstname", "givenname", "first", "fname", "vorname", "prénom", "prenom"],
    "middle_name": ["middlename", "additionalname", "middle"],
    "last_name": ["lastname", "familyname", "surname", "last", "lname", "nachname"],
    "notes": ["notes", "note", "description", "comments", "comment", "remarks", "message"],
}  # fmt: skip
# field: header keys, best first (the lead fields' synonyms are in leadctl.fields)
SYNONYMS: dict[str, list[str]] = fields.SYNONYMS | IMPORT_ONLY

# `Contact` headers read as the name (the registry's last name synonyms): the
# row parser leaves an email or phone found there out of the name.
CONTACT_HEADERS = {"contact", "kontakt", "contacto", "contato", "contatto"}

# Other tools' ids and owners (ids or people who are not leadctl users) stay
# custom fields even where a shorter key would match; `--map X=owner` takes one.
ALWAYS_CUSTOM = {
    "id", "recordid", "contactid", "leadid", "personid", "organizationid", "ownerid",
    "leadowner", "contactowner", "personowner", "recordowner", "salesperson", "leadtitle",
    "opportunity", "lead", "createdbyid", "createdby", "totalrevenue", "leadownerid",
}  # fmt: skip

# Other systems' record id columns, as they spell them (case matters: HubSpot writes
# "Record ID", Zoho "Record Id"): each row's id is kept as "system:value"
# (``external_id``), the first match key when that system's file comes again.
RECORD_IDS = {
    "Id": "salesforce",
    "ID": "pipedrive",
    "Person - ID": "pipedrive",
    "Record ID": "hubspot",
    "Record Id": "zoho",
    "External ID": "odoo",
    "External Id": "odoo",
}

# Written by `leadctl export` only: taken from a file that is one, else custom fields.
ROUND_TRIP = ["id", *fields.ROUND_TRIP]
# A leadctl JSON export's history of each lead (``importing.restore``).
HISTORY = ("activities", "client", "deals")
EXPORT_MARKERS = {"id", "name", "score_adjustment", "created_at", "updated_at", "fields"}
ENTITIES = {"person", "lead", "organization", "organisation", "contact", "deal", "company"}
# candidates tried in order; the first valid one is used (a creation time: the first
# given, e.g. Mailchimp's OPTIN_TIME, else its CONFIRM_TIME)
MULTI = {"email", "phone", "created_at"}
REJECTS_COLUMNS = ["line", "reason"]
# `import --template`: every field a file may give, then the parts of a name
TEMPLATE = [
    *(f.name for f in fields.LEAD_FIELDS if f.synonyms),
    "notes",
    "first_name",
    "last_name",
]
IMPORTABLE = sorted(set(SYNONYMS) | set(ROUND_TRIP) | {"name"})

_KEY = re.compile(r"[\W_]+")
_LOOKUP: dict[str, tuple[str, int]] = {
    key: (name, rank) for name, keys in SYNONYMS.items() for rank, key in enumerate(keys)
}


def header_key(header: str) -> str:
    """The comparison key of a header: letters and digits, case-folded."""
    return _KEY.sub("", header.replace("\ufeff", "").casefold())


def lookup(header: str) -> tuple[str, int] | None:
    """The field a header names, with its rank (lower is better), if any."""
    key = header_key(header)
    if key in ALWAYS_CUSTOM:
        return None
    found = _LOOKUP.get(key)
    if found is None and " - " in header:
        entity, _, rest = header.partition(" - ")
        if header_key(entity) in ENTITIES:
            rest_key = header_key(rest)
            if rest_key not in ALWAYS_CUSTOM:
                found = _LOOKUP.get(rest_key)
    if found and found[0] == "owner" and header.strip().casefold() != "owner":
        return None
    return found


def is_known(header: str) -> bool:
    """Whether a header names a field: used to find the header row under a preamble."""
    return lookup(header) is not None or header.strip().casefold() in ROUND_TRIP


@dataclass
class Plan:
    """Where each field comes from in one header, and which columns stay custom."""

    header: list[str]
    columns: dict[str, list[int]] = field(default_factory=dict)  # field → indexes, best first
    custom: list[tuple[int, str]] = field(default_factory=list)  # (index, custom field key)
    leadctl_export: bool = False
    contact_name: bool = False  # the name is a `Contact` column (an address there is no name)
    ignored: set[int] = field(default_factory=set)  # a rejects file's line and reason
    # another system's record id column (kept as a custom field too): (index, system)
    record_id: tuple[int, str] | None = None

    def first(self, name: str) -> int | None:
        found = self.columns.get(name)
        return found[0] if found else None

    def describe(self) -> str:
        return ", ".join(repr(h) for h in self.header) or "none"


def plan_columns(header: list[str], mapping: dict[str, str] | None = None) -> Plan:
    """Match a header row to fields; ``mapping`` (``--map``) wins over synonyms.

    Refuses (exit 1) a header with no name column (nor first/last name) or no
    email/phone column, before anything is stored.
    """
    mapping = mapping or {}
    plan = Plan(list(header))
    exact = [h.strip().replace("\ufeff", "").casefold() for h in header]
    plan.leadctl_export = EXPORT_MARKERS <= set(exact)
    forced = _forced_columns(header, mapping)
    if exact[-2:] == REJECTS_COLUMNS and len(header) > 2:
        plan.ignored = {len(header) - 2, len(header) - 1}
    if plan.leadctl_export:  # computed when shown (`rotting`): nothing to take back
        plan.ignored |= {i for i, text in enumerate(exact) if text in fields.COMPUTED_KEYS}
    ranked: dict[str, list[tuple[int, int]]] = {}
    keys_used: set[str] = set()
    for index, text in enumerate(header):
        if index in plan.ignored:
            continue
        target = forced.get(index, _default_target(text, exact[index], plan.leadctl_export))
        if target is not None:
            ranked.setdefault(target[0], []).append((target[1], index))
    chosen: set[int] = set()
    for name, entries in ranked.items():
        order = [index for _, index in sorted(entries)]
        plan.columns[name] = order if name in MULTI else order[:1]
        chosen.update(plan.columns[name])
    for index, text in enumerate(header):
        if index in chosen or index in plan.ignored:
            continue
        key = text.replace("\ufeff", "").strip() or f"column {index + 1}"
        base, count = key, 1
        while key in keys_used:
            count += 1
            key = f"{base} ({count})"
        keys_used.add(key)
        plan.custom.append((index, key))
    for index in (i for n in MULTI for i in plan.columns.get(n, [])[1:]):
        plan.custom.append((index, header[index].replace("\ufeff", "").strip()))
    if "name" in plan.columns:
        plan.contact_name = header_key(header[plan.columns["name"][0]]) in CONTACT_HEADERS
    if not plan.leadctl_export:  # a leadctl export's rows carry their own id
        for index, text in enumerate(header):
            system = RECORD_IDS.get(text.replace("\ufeff", "").strip())
            if system is not None and index not in chosen and index not in plan.ignored:
                plan.record_id = (index, system)
                break
    _require_identity(plan)
    return plan


def _default_target(text: str, exact: str, leadctl_export: bool) -> tuple[str, int] | None:
    if exact in ROUND_TRIP:  # elsewhere the word may mean another field (Odoo's Stage)
        return (exact, -1) if leadctl_export else lookup(text)
    if exact in HISTORY and leadctl_export:
        return (exact, -1)
    return lookup(text)


def _forced_columns(
    header: list[str], mapping: dict[str, str]
) -> dict[int, tuple[str, int] | None]:
    """Column index → (field, rank) from ``--map SRC=FIELD``; an empty FIELD keeps it custom."""
    forced: dict[int, tuple[str, int] | None] = {}
    keys = [header_key(h) for h in header]
    for source, target in mapping.items():
        wanted = source.strip().casefold()
        matches = [i for i, h in enumerate(header) if h.strip().casefold() == wanted]
        matches = matches or [i for i, k in enumerate(keys) if k == header_key(source)]
        if not matches:
            raise InvalidInput(
                f"--map {source}={target}: no column named {source!r}; the columns are "
                + ", ".join(repr(h) for h in header)
            )
        name = target.strip().lower().replace("-", "_").replace(" ", "_")
        if name in ("", "custom", "field"):
            forced[matches[0]] = None
            continue
        if name not in IMPORTABLE:
            raise InvalidInput(
                f"--map {source}={target}: unknown field {target!r}; expected one of "
                + ", ".join(IMPORTABLE)
            )
        forced[matches[0]] = (name, -2)
    return forced


def _require_identity(plan: Plan) -> None:
    has_name = any(n in plan.columns for n in ("name", "first_name", "last_name"))
    has_contact = "email" in plan.columns or "phone" in plan.columns
    if has_name and has_contact:
        return
    missing = (
        "a name column (or first and last name)" if not has_name else "an email or phone column"
    )
    example = "name" if not has_name else "email"
    raise InvalidInput(
        f"no recognisable {'name' if not has_name else 'email/phone'} column: the file needs "
        f"{missing}; its columns are {plan.describe()}; name the right one with "
        f"--map COLUMN={example}"
    )
