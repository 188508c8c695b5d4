"""The lead's fields, each declared once.

One :class:`LeadField` a field: its column type and default, the strict parser
``add``/``edit`` use (a bad value is exit 1), the lenient parser an import uses
(a bad value leaves the field at its default, keeps the text under ``fields`` as
``<field>_raw`` and counts a warning), its ``add``/``edit`` option, the import
header synonyms, whether it is an export column and a key of the JSON lead
object, and whether a merge may fill it. ``models.Lead``, the CLI options,
``leads.validate``/``to_dict``, the import (headers, rows, defaults), the export
and ``docs/fields.md`` are all derived from :data:`LEAD_FIELDS`.

Adding a field: one entry below (in the place its JSON key takes), a migration
module that adds the column (``storage/migrations/``, named in
``storage.MIGRATIONS``), then
``python -m leadctl.fields`` to regenerate ``docs/fields.md`` and the typed view
of ``Lead`` for mypy; tests/test_fields.py checks both are up to date.

Internal columns (``id``, ``email_key``, ``company_key``, ``merged_into``, ``external_id``) are no
lead fields: they stay declared in ``models.py``. Parsers import what they need
when called, so that importing the registry (every command does, via the
models) stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from leadctl.errors import InvalidInput

if TYPE_CHECKING:
    from sqlmodel import Session

BANDS = ("cold", "warm", "hot")
STAGES = ("lead", "mql", "sql")  # lifecycle stages (``leadctl.stages``)


class StrictContext:
    """What an ``add``/``edit`` parser may need beyond the text: the session (lists,
    settings, clients), the lead's country (phones) and the custom fields a parser
    may add to (a phone's extension)."""

    __slots__ = ("session", "country", "extra")

    def __init__(self, session: Session, country: str | None = None) -> None:
        self.session = session
        self.country = country
        self.extra: dict[str, str] = {}


class DateReader(Protocol):
    """A column's date reader (``importing.vocabulary.DateReader``)."""

    def __call__(self, text: str) -> datetime: ...

    def date(self, text: str) -> date: ...


class DateReaders(Protocol):
    """Makes a date reader; a bare date read by it gets ``bare_time``, if given."""

    def __call__(self, bare_time: time | None = None) -> DateReader: ...


class ImportContext:
    """What an import's lenient parsers may depend on, given once per header:
    whether amounts use a decimal comma, and the import's date reader class
    (``importing.vocabulary.DateReader``: one instance a column, as it learns
    the column's format)."""

    __slots__ = ("decimal_comma", "date_reader")

    def __init__(self, *, decimal_comma: bool, date_reader: DateReaders) -> None:
        self.decimal_comma = decimal_comma
        self.date_reader = date_reader


Strict = Callable[[str, StrictContext], Any]
# Called once per header: returns the cell parser (raising InvalidInput or
# ValueError on a bad value), or None when the text is stored as it is.
Lenient = Callable[[ImportContext], Callable[[str], Any] | None]


@dataclass(frozen=True)  # no slots: building a slotted class costs every command
class LeadField:
    """One field of a lead (see the module's docstring)."""

    name: str
    type: type  # the column's Python type
    help: str
    default: Any = None  # None: nullable (unless required)
    required: bool = False  # NOT NULL without a default (name, creation times)
    index: bool = False
    json_text: bool = False  # stored as JSON text (tags, fields)
    strict: Strict | None = None  # add/edit; None: no command sets it through validate
    option: str | None = None  # the add/edit option; None: not one
    lenient: Lenient | None = None  # import; None: the row parser reads it itself, or never
    synonyms: tuple[
        str, ...
    ] = ()  # import header keys (letters and digits, case-folded), best first
    round_trip: bool = False  # its header is read only from a `leadctl export` file
    exported: bool = True  # a key of the JSON lead object and a column of exports
    merge_fills: bool = True  # a merge may fill it when blank on the kept lead
    scoreable: bool = False  # scoring rules may test it (operators by its type)

    @property
    def annotation(self) -> Any:
        """The column's type as the model declares it."""
        return self.type if self.required or self.default is not None else self.type | None

    @property
    def annotation_text(self) -> str:
        text = self.type.__name__
        return text if self.required or self.default is not None else f"{text} | None"

    @property
    def param(self) -> str | None:
        """The option's Python parameter name (``--company-size`` → ``company_size``)."""
        return self.option.removeprefix("--").replace("-", "_") if self.option else None


# --- strict parsers (add, edit): a bad value raises InvalidInput -------------------


def _text(text: str, ctx: StrictContext) -> str:
    return text


def _email(text: str, ctx: StrictContext) -> str:
    from leadctl import duplicates, normalize

    email = normalize.normalize_email(text)
    if duplicates.placeholder_email(email):
        raise InvalidInput(f"invalid email {text!r}: a placeholder address, not a contact")
    return email


def _phone(text: str, ctx: StrictContext) -> str:
    from leadctl import duplicates, normalize, settings

    region = normalize.region_for(ctx.country, settings.get(ctx.session, "region"))
    e164, extension = normalize.normalize_phone(text, region)
    if duplicates.placeholder_phone(e164):
        raise InvalidInput(f"invalid phone {text!r}: a placeholder number, not a contact")
    if extension:
        ctx.extra["phone_ext"] = extension
    return e164


def _priority(text: str, ctx: StrictContext) -> str:
    from leadctl import normalize

    return normalize.normalize_priority(text)


def _source(text: str, ctx: StrictContext) -> str:
    from leadctl import lists, normalize

    return normalize.match_choice(text, lists.names(ctx.session, "source"), "source")


def _count(text: str, ctx: StrictContext) -> int:
    from leadctl import normalize

    return normalize.parse_count(text, "company size")


def _money(label: str) -> Strict:
    def parse(text: str, ctx: StrictContext) -> float:
        from leadctl import normalize

        return normalize.parse_money(text, label)

    return parse


def _authority(text: str, ctx: StrictContext) -> bool:
    from leadctl import normalize

    return normalize.parse_bool(text, "authority")


def _timeline(text: str, ctx: StrictContext) -> date:
    from leadctl import clock

    return clock.parse_date(text, "timeline")


def _next_call(text: str, ctx: StrictContext) -> datetime:
    from leadctl import clock

    return clock.to_utc(clock.parse_when(text, "next call"))


def _client(text: str, ctx: StrictContext) -> int:
    from leadctl.errors import NotFound
    from leadctl.models import Client

    if not (text.isascii() and text.isdigit()) or ctx.session.get(Client, int(text)) is None:
        raise NotFound(f"no client with id {text}")
    return int(text)


# --- lenient parsers (import): built once per header ------------------------------


def _as_text(ctx: ImportContext) -> None:
    return None


@lru_cache(maxsize=4096)
def _cached_count(text: str) -> int:
    from leadctl import normalize

    return normalize.parse_count(text, "company size")


def _read_count(ctx: ImportContext) -> Callable[[str], Any]:
    if ctx.decimal_comma:
        return lambda text: _cached_count(text.replace(".", ""))
    return _cached_count


@lru_cache(maxsize=4096)
def _cached_money(text: str, name: str, decimal_comma: bool) -> float:
    from leadctl import normalize

    return normalize.parse_money_lenient(text, name, decimal_comma=decimal_comma)


def _read_money(name: str) -> Lenient:
    def build(ctx: ImportContext) -> Callable[[str], Any]:
        comma = ctx.decimal_comma
        return lambda text: _cached_money(text, name, comma)

    return build


def _read_bool(ctx: ImportContext) -> Callable[[str], Any]:
    from leadctl import normalize

    return lambda text: normalize.parse_bool(text, "authority")


def _read_datetime(ctx: ImportContext) -> Callable[[str], Any]:
    return ctx.date_reader()


def _read_appointment(ctx: ImportContext) -> Callable[[str], Any]:
    """A bare date is a call at 9:00 local time."""
    return ctx.date_reader(bare_time=time(9, 0))


def _read_date(ctx: ImportContext) -> Callable[[str], Any]:
    return ctx.date_reader().date


def stored_int(text: str) -> int:
    """An integer a 64-bit column holds; anything else is a bad value (a warning)."""
    number = int(text)
    if not -(2**63) <= number < 2**63:
        raise ValueError(text)
    return number


def _read_int(ctx: ImportContext) -> Callable[[str], Any]:
    return stored_int


def json_strings(text: str) -> list[str]:
    """A JSON list of strings, as `leadctl export` writes lists (tags, notes);
    ValueError for anything else."""
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(text)
    return value


def _read_list(ctx: ImportContext) -> Callable[[str], Any]:
    return json_strings


def _one_of(values: tuple[str, ...]) -> Lenient:
    """A lenient parser taking exactly one of ``values`` (a computed field's)."""

    def lenient(ctx: ImportContext) -> Callable[[str], Any]:
        def parse(text: str) -> str:
            if text not in values:
                raise ValueError(text)
            return text

        return parse

    return lenient


_read_band = _one_of(BANDS)


# --- the fields, in the order of SPEC's lead object -------------------------------

F = LeadField
LEAD_FIELDS: tuple[LeadField, ...] = (
    F("name", str, "Full name.", required=True, strict=_text, option="--name",
      synonyms=(
          "name", "fullname", "contactname", "leadname", "contactperson", "displayname",
          "contact", "kontakt", "contacto", "contato", "contatto",
      )),
    F("email", str, "Email address (syntax-checked).", strict=_email, option="--email",
      synonyms=(
          "email", "emailaddress", "email1value", "email1", "primaryemail", "workemail",
          "businessemail", "emailwork", "mail", "courriel", "emailadresse", "email1address",
          "email2value", "email2address", "email2", "secondaryemail", "emailhome", "homeemail",
          "personalemail", "emailother", "otheremail", "alternateemail", "email3value",
          "email3address",
      )),
    F("phone", str, "Phone number; stored as E.164.", index=True, strict=_phone,
      option="--phone",
      synonyms=(
          "phone", "phonenumber", "primaryphone", "phone1value", "businessphone", "workphone",
          "phonework", "telephone", "telephonenumber", "tel", "officephone", "directphone",
          "telefon", "mobile", "mobilephone", "mobilephonenumber", "phonemobile", "cellphone",
          "cell", "mobilenumber", "handy", "phone2value", "businessphone2", "companymainphone",
          "homephone", "phonehome", "homephone2", "otherphone", "phoneother", "phone3value",
          "whatsappphonenumber",
      )),
    F("company", str, "Company name.", strict=_text, option="--company", lenient=_as_text,
      synonyms=(
          "company", "companyname", "organization", "organisation", "organizationname",
          "organization1name", "account", "accountname", "employer", "firma", "société",
          "associatedcompany",
      )),
    F("title", str, "Job title.", strict=_text, option="--title", lenient=_as_text,
      synonyms=(
          "jobtitle", "position", "jobposition", "designation", "organizationtitle",
          "organization1title", "jobrole", "title",
      ), scoreable=True),
    F("industry", str, "Industry.", strict=_text, option="--industry", lenient=_as_text,
      synonyms=("industry", "sector", "branche"), scoreable=True),
    F("country", str, "Country (name or ISO code).", strict=_text, option="--country",
      synonyms=(
          "country", "countryregion", "countrycode", "cc", "address1country", "businesscountry",
          "businesscountryregion", "mailingcountry", "billingcountry", "countryofpostaladdress",
          "homecountry", "homecountryregion", "othercountry", "land", "pays",
      ), scoreable=True),
    F("region", str, "Region or state.", strict=_text, option="--region", lenient=_as_text,
      synonyms=(
          "region", "state", "stateregion", "province", "stateprovince", "stateorprovince",
          "address1region", "businessstate", "mailingstate", "billingstate", "statecode",
          "homestate",
      ), scoreable=True),
    F("company_size", int, "Employees (e.g. 50 or 11-50).", strict=_count,
      option="--company-size", lenient=_read_count,
      synonyms=(
          "companysize", "numberofemployees", "noofemployees", "employees", "employeecount",
          "headcount", "companyheadcount", "mitarbeiter",
      ), scoreable=True),
    F("annual_revenue", float, "Annual revenue (e.g. 2500000 or $2.5M).",
      strict=_money("annual revenue"), option="--revenue", lenient=_read_money("annual_revenue"),
      synonyms=("annualrevenue", "revenue", "companyrevenue", "yearlyrevenue", "umsatz"),
      scoreable=True),
    F("source", str, "Source, from `leadctl sources`.", strict=_source, option="--source",
      synonyms=("leadsource", "source", "originalsource", "sourcechannel"), scoreable=True),
    F("priority", str, "low, medium, high or critical.", default="medium", strict=_priority,
      option="--priority", synonyms=("priority", "leadpriority", "contactpriority", "importance"),
      scoreable=True),
    F("status", str, "Pipeline status, from `leadctl statuses` (changed by `status`).",
      default="new", merge_fills=False,
      synonyms=("leadstatus", "status", "stage", "leadstage", "lifecyclestage", "pipelinestage")),
    F("lost_reason", str, "Why a lead was lost (set with a final status).", merge_fills=False,
      synonyms=("lostreason", "reasonlost", "closedlostreason", "disqualificationreason")),
    F("owner", str, "The user the lead belongs to (changed by `assign`).", strict=_text,
      synonyms=("owner",), merge_fills=False),  # ownership moves by assign/claim only
    F("claimed_by", str, "Who holds the lead's pool claim.", index=True, lenient=_as_text,
      round_trip=True, merge_fills=False),
    F("claim_expires_at", datetime, "When the claim ends.", lenient=_read_datetime,
      round_trip=True, merge_fills=False),
    F("score", int, "Lead score (computed).", default=0, lenient=_read_int, round_trip=True,
      merge_fills=False),
    F("score_adjustment", int, "Manual score adjustment (`score ID --adjust`).", default=0,
      lenient=_read_int, round_trip=True, merge_fills=False),
    F("band", str, "cold, warm or hot (from the score).", default="cold", index=True,
      lenient=_read_band, round_trip=True, merge_fills=False),
    F("stage", str, "Lifecycle stage: lead, mql or sql (from the score).",
      default="lead", index=True, lenient=_one_of(STAGES), round_trip=True, merge_fills=False),
    F("budget", float, "BANT budget amount.", strict=_money("budget"), option="--budget",
      lenient=_read_money("budget"), synonyms=("budget",), scoreable=True),
    F("authority", bool, "BANT: is a decision maker (yes/no).", strict=_authority,
      option="--authority", lenient=_read_bool,
      synonyms=("authority", "decisionmaker", "isdecisionmaker"), scoreable=True),
    F("need", str, "BANT need.", strict=_text, option="--need", lenient=_as_text,
      synonyms=("need", "needs"), scoreable=True),
    F("timeline", date, "BANT expected purchase date.", strict=_timeline, option="--timeline",
      lenient=_read_date, synonyms=("timeline", "expectedclosedate", "closedate", "purchasedate"),
      scoreable=True),
    F("deal_value", float, "Estimated deal value.", strict=_money("deal value"),
      option="--deal-value", lenient=_read_money("deal_value"),
      synonyms=("dealvalue", "expectedrevenue", "dealamount", "opportunityvalue"), scoreable=True),
    F("next_call_at", datetime, "Next scheduled call (set by `schedule`).", strict=_next_call,
      lenient=_read_appointment,
      synonyms=("nextcallat", "nextcall", "nextactivitydate", "nextcontactdate")),
    F("client_id", int, "Id of the existing client this lead belongs to.", index=True,
      strict=_client, option="--client", lenient=_read_int, round_trip=True),
    F("tags", str, "Tags (a JSON list).", default="[]", json_text=True, merge_fills=False,
      synonyms=("tags", "tag", "labels", "label", "categories", "groupmembership")),
    F("fields", str, "Custom fields (a JSON object).", default="{}", json_text=True,
      round_trip=True, merge_fills=False),
    F("utm_source", str, "Campaign source.", strict=_text, option="--utm-source",
      lenient=_as_text, synonyms=("utmsource",), scoreable=True),
    F("utm_medium", str, "Campaign medium.", strict=_text, option="--utm-medium",
      lenient=_as_text, synonyms=("utmmedium", "medium"), scoreable=True),
    F("utm_campaign", str, "Campaign name.", strict=_text, option="--utm-campaign",
      lenient=_as_text, synonyms=("utmcampaign", "campaign", "campaignname"), scoreable=True),
    F("created_at", datetime, "When the lead was created.", required=True, index=True,
      lenient=_read_datetime, merge_fills=False,
      synonyms=(
          "createdat", "createddate", "createdate", "createdtime", "createdon", "creationdate",
          "datecreated", "created", "personcreated", "connectedon", "optintime", "confirmtime",
          "dateadded", "erstellt", "erstelltam", "datedecreation",
      )),
    F("updated_at", datetime, "When the lead last changed.", required=True,
      lenient=_read_datetime, round_trip=True, merge_fills=False),
    F("first_contacted_at", datetime, "First logged call, email or meeting.",
      lenient=_read_datetime,
      synonyms=("firstcontactedat", "firstcontacted", "firstcontactdate")),
    F("converted_at", datetime, "When the lead became a client.", lenient=_read_datetime,
      merge_fills=False,  # only a conversion sets it: never on a lead that is not converted
      synonyms=("convertedat", "converteddate", "converteddatetime", "conversiondate")),
    F("alt_emails", str, "Other email addresses a merge kept (a JSON list).", default="[]",
      json_text=True, lenient=_read_list, round_trip=True, merge_fills=False),
    F("alt_phones", str, "Other phones (E.164) a merge kept (a JSON list).", default="[]",
      json_text=True, lenient=_read_list, round_trip=True, merge_fills=False),
    F("website", str, "Website URL.", strict=_text, option="--website", lenient=_as_text,
      synonyms=("website", "companywebsite", "websiteurl", "webpage", "website1value"),
      scoreable=True),
    F("linkedin", str, "LinkedIn profile URL.", strict=_text, option="--linkedin",
      lenient=_as_text,
      synonyms=(
          "linkedin", "linkedinurl", "linkedinprofile", "linkedinprofileurl", "profileurl", "url",
      ), scoreable=True),
)  # fmt: skip
del F

BY_NAME: dict[str, LeadField] = {f.name: f for f in LEAD_FIELDS}
NAMES = tuple(BY_NAME)
# Keys of the JSON lead object computed when it is shown, never stored nor
# imported: each after the field it follows (``rotting``: ``leadctl.aging``).
COMPUTED_KEYS = {"rotting": "stage"}
LEAD_JSON_KEYS = ["id"]
for _spec in LEAD_FIELDS:
    if _spec.exported:
        LEAD_JSON_KEYS.append(_spec.name)
        LEAD_JSON_KEYS += [k for k, after in COMPUTED_KEYS.items() if after == _spec.name]
EXPORT_COLUMNS = LEAD_JSON_KEYS
TEXT_FIELDS = frozenset(f.name for f in LEAD_FIELDS if f.type is str and not f.json_text)
DATETIME_FIELDS = frozenset(f.name for f in LEAD_FIELDS if f.type is datetime)
DATE_FIELDS = frozenset(f.name for f in LEAD_FIELDS if f.type is date)
MONEY_FIELDS = tuple(f.name for f in LEAD_FIELDS if f.type is float)
NUMERIC_FIELDS = frozenset(f.name for f in LEAD_FIELDS if f.type in (int, float))
JSON_TEXT_FIELDS = frozenset(f.name for f in LEAD_FIELDS if f.json_text)
OPTION_FIELDS = tuple(f for f in LEAD_FIELDS if f.option)
# A new lead's stored value of every field with a default (the rest are NULL).
DEFAULTS: dict[str, Any] = {f.name: f.default for f in LEAD_FIELDS if f.default is not None}
# field → header keys, best first (import adds its own: first/last name, notes)
SYNONYMS: dict[str, list[str]] = {f.name: list(f.synonyms) for f in LEAD_FIELDS if f.synonyms}
ROUND_TRIP = tuple(f.name for f in LEAD_FIELDS if f.round_trip)


def never_filled() -> frozenset[str]:
    """The fields a merge must not fill on the lead it keeps (tags and custom
    fields are unioned instead; internal columns follow their field)."""
    return frozenset(f.name for f in LEAD_FIELDS if not f.merge_fills)


def parse_strict(name: str, text: str, ctx: StrictContext) -> Any:
    """The stored value of ``text`` given to add/edit for a field (exit 1 if bad)."""
    spec = BY_NAME.get(name)
    if spec is None or spec.strict is None:
        raise InvalidInput(f"unknown field {name!r}")
    return spec.strict(text, ctx)


def _json_converter(spec: LeadField) -> Callable[[Any], Any] | None:
    if spec.type is datetime:
        from leadctl import clock

        return clock.iso
    if spec.type is date:
        return lambda value: None if value is None else value.isoformat()
    if spec.json_text:
        return json.loads
    return None


# (key, converter or None), for to_dict: resolved once
JSON_CONVERTERS: tuple[tuple[str, Callable[[Any], Any] | None], ...] = (
    ("id", None),
    *((f.name, _json_converter(f)) for f in LEAD_FIELDS if f.exported),
)


# --- generated files ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
DOCS_FILE = ROOT / "docs" / "fields.md"
MODELS_FILE = Path(__file__).resolve().parent / "models.py"
TYPED_BEGIN = "        # BEGIN generated from leadctl.fields: python -m leadctl.fields\n"
TYPED_END = "        # END generated\n"


def render_annotations() -> str:
    """The typed view of ``Lead``'s fields for type checkers (``models.py``)."""
    return "".join(f"        {f.name}: {f.annotation_text}\n" for f in LEAD_FIELDS)


def render_docs() -> str:
    """``docs/fields.md``: one row a field."""
    lines = [
        "# Lead fields",
        "",
        "Generated from `leadctl/fields.py` by `python -m leadctl.fields`; do not edit.",
        "Every field is a key of the JSON lead object (`show --json`, `list --json`,",
        "`export`) in this order, after `id`. Import reads a column whose header,",
        "compared by its letters and digits only and case-folded, is one of the listed",
        "names (earlier names win); *export only* fields are read back from a",
        "`leadctl export` file alone. A merge fills a blank field of the lead it keeps",
        "from the other, except where the table says no. `add` takes the name as its",
        "argument; the other options are those of both `add` and `edit`.",
        "",
        "| field | type | add/edit option | import headers | merge fills | meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in LEAD_FIELDS:
        kind = f.type.__name__ + ("" if f.required or f.default is not None else ", optional")
        if f.default is not None:
            kind += f", default `{f.default}`"
        option = f"`{f.option}`" if f.option else ""
        if f.synonyms:
            headers = ", ".join(f"`{s}`" for s in f.synonyms)
        elif f.round_trip:
            headers = f"`{f.name}` (export only)"
        else:
            headers = ""
        fills = "yes" if f.merge_fills else "no"
        lines.append(f"| `{f.name}` | {kind} | {option} | {headers} | {fills} | {f.help} |")
    return "\n".join(lines) + "\n"


def render_models(current: str) -> str:
    """``models.py`` with its typed block of lead fields brought up to date."""
    head, begin, rest = current.partition(TYPED_BEGIN)
    _, end, tail = rest.partition(TYPED_END)
    if not begin or not end:
        raise RuntimeError("models.py has lost its generated block markers")
    return head + begin + render_annotations() + end + tail


def write_generated() -> list[Path]:
    """Rewrite the generated files that are out of date; returns those written."""
    written = []
    models_text = MODELS_FILE.read_text(encoding="utf-8")
    for path, wanted in (
        (DOCS_FILE, render_docs()),
        (MODELS_FILE, render_models(models_text)),
    ):
        if not path.exists() or path.read_text(encoding="utf-8") != wanted:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_generated():
        print(f"wrote {written_path}")
