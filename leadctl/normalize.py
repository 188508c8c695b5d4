"""Normalisers for the values people type or import.

Each returns the stored form or raises :class:`InvalidInput` naming the field
and what it accepts. They are pure functions (no database), so hypothesis can
exercise them directly.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from leadctl.errors import InvalidInput, invalid_choice

if TYPE_CHECKING:  # imported lazily at run time: they cost start-up time
    from email_validator.syntax import LocalPartValidationResult
    from phonenumbers import PhoneNumberDesc

PRIORITIES = ["low", "medium", "high", "critical"]
MAX_INTEGER = 2**63 - 1  # what SQLite and PostgreSQL store in a BIGINT
MAX_AMOUNT = 1e15  # a larger revenue or deal is a typo, and would lose cents as a float
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0", ""}
_MONEY_SUFFIX = {"k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
_COUNTRY_CODES = {
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.": "US",
    "u.s.a.": "US", "america": "US", "canada": "CA", "mexico": "MX", "brazil": "BR",
    "argentina": "AR", "chile": "CL", "colombia": "CO", "ecuador": "EC", "peru": "PE",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
    "ireland": "IE", "germany": "DE", "deutschland": "DE", "france": "FR", "spain": "ES",
    "españa": "ES", "portugal": "PT", "italy": "IT", "italia": "IT", "netherlands": "NL",
    "the netherlands": "NL", "belgium": "BE", "switzerland": "CH", "austria": "AT",
    "sweden": "SE", "norway": "NO", "denmark": "DK", "finland": "FI", "poland": "PL",
    "czech republic": "CZ", "czechia": "CZ", "greece": "GR", "turkey": "TR", "israel": "IL",
    "india": "IN", "china": "CN", "japan": "JP", "south korea": "KR", "korea": "KR",
    "singapore": "SG", "australia": "AU", "new zealand": "NZ", "south africa": "ZA",
    "nigeria": "NG", "kenya": "KE", "egypt": "EG", "united arab emirates": "AE", "uae": "AE",
    "saudi arabia": "SA", "indonesia": "ID", "philippines": "PH", "vietnam": "VN",
    "thailand": "TH", "malaysia": "MY", "ukraine": "UA", "romania": "RO", "hungary": "HU",
}  # fmt: skip


def clean(value: str | None) -> str | None:
    """Strip whitespace; an empty string is no value."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def normalize_email(value: str) -> str:
    """The email as stored: syntax-checked offline, domain lower-cased."""
    from email_validator import EmailNotValidError, validate_email

    text = value.strip()
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        raise InvalidInput(f"invalid email {text!r}: {reason}; expected name@domain.tld") from None


def email_key(email: str | None) -> str | None:
    """The form duplicates are matched on: whole address, case-folded."""
    return email.casefold() if email else None


def region_for(country: str | None, setting: str | None = None) -> str:
    """The phone region for numbers without ``+``: the lead's country, else
    ``LEADCTL_REGION``, else the ``region`` setting, else US."""
    return (
        (country_code(country) or os.environ.get("LEADCTL_REGION") or setting or "US")
        .strip()
        .upper()
    )


def country_code(country: str | None) -> str | None:
    """An ISO 3166 alpha-2 code for a country name or code, when known."""
    if not country:
        return None
    text = country.strip()
    named = _COUNTRY_CODES.get(text.casefold())  # first: "UK" is GB, not a code
    if named is None and len(text) == 2 and text.isalpha():
        return text.upper()
    return named


def normalize_phone(value: str, region: str = "US") -> tuple[str, str | None]:
    """E.164 form and extension of a phone number, parsed for ``region``.

    ``00`` and ``011`` international prefixes and ``ext.``/``x`` extensions
    are understood.
    """
    import phonenumbers

    text = value.strip()
    candidate = text.lstrip("'")  # spreadsheet-escaped values such as '+33 6…
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    try:
        number = phonenumbers.parse(candidate, region.upper())
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _invalid_phone(text, region)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, number.extension or None


def _invalid_phone(text: str, region: str) -> InvalidInput:
    return InvalidInput(
        f"invalid phone {text!r}: expected a number valid for region {region.upper()} "
        "or in international form like +14155550100"
    )


def normalize_priority(value: str) -> str:
    text = value.strip().lower()
    if text not in PRIORITIES:
        raise invalid_choice("priority", value, PRIORITIES)
    return text


def match_choice(value: str, choices: list[str], field: str) -> str:
    """The list entry matching ``value`` case-insensitively, else exit 1."""
    folded = value.strip().casefold()
    for choice in choices:
        if choice.casefold() == folded:
            return choice
    raise invalid_choice(field, value, choices)


def parse_bool(value: str, field: str) -> bool:
    text = value.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidInput(f"invalid {field} {value!r}: expected yes or no")


def parse_count(value: str, field: str) -> int:
    """A whole number; a range such as ``11-50`` or ``5000+`` gives its lower bound."""
    text = value.strip().replace(",", "").replace("_", "").replace(" ", "")
    match = re.fullmatch(r"(\d+)(?:\.0+)?(?:\+|-\d+|–\d+|to\d+)?", text, re.IGNORECASE)
    if not match or int(match.group(1)) > MAX_INTEGER:
        raise InvalidInput(f"invalid {field} {value!r}: expected a whole number like 50 or 11-50")
    return int(match.group(1))


@lru_cache(maxsize=4096)
def parse_money(value: str, field: str) -> float:
    """An amount: thousands separators, currency signs and K/M/B are understood.

    A comma is read only as a thousands separator (``1,200,000``); ``1.234,5``
    is refused rather than misread.
    """
    text = value.strip().lower().replace("_", "").replace(" ", "")
    text = re.sub(r"^[$€£¥]|^(usd|eur|gbp)|[$€£¥]$|(usd|eur|gbp)$", "", text)
    if "," in text and re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?[a-z]*", text):
        text = text.replace(",", "")
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)(k|mm|m|bn|b)?", text)
    amount = float(match.group(1)) * _MONEY_SUFFIX.get(match.group(2) or "", 1.0) if match else -1
    if not match or not math.isfinite(amount) or amount > MAX_AMOUNT:
        raise InvalidInput(f"invalid {field} {value!r}: expected an amount like 25000 or $2.5M")
    if amount < 0:
        raise InvalidInput(f"invalid {field} {value!r}: must not be negative")
    return amount


def company_key(company: str | None) -> str | None:
    """The form companies are matched on: case-folded, legal suffixes and punctuation dropped."""
    if not company:
        return None
    text = _PUNCTUATION.sub(" ", company.casefold())
    words = [w for w in text.split() if w not in _LEGAL_SUFFIXES]
    return " ".join(words) or None


_PUNCTUATION = re.compile(r"[^\w\s]")
_LEGAL_SUFFIXES = {
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "gmbh", "ag",
    "sa", "sas", "sarl", "bv", "nv", "plc", "pty", "srl", "spa", "oy", "ab", "as", "kg",
}  # fmt: skip


def parse_tags(values: list[str]) -> list[str]:
    """Tags from repeated options or comma-separated text, deduplicated in order."""
    tags: list[str] = []
    for value in values:
        for tag in value.split(","):
            tag = tag.strip()
            if tag and tag not in tags:
                tags.append(tag)
    return tags


def parse_field_pairs(values: list[str]) -> dict[str, str]:
    """Custom fields from ``key=value`` options."""
    fields: dict[str, str] = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"invalid field {pair!r}: expected key=value")
        fields[key.strip()] = value.strip()
    return fields


# --- Bulk-import variants (leadctl.importing): same results, cheaper per row ---

_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_UNUSUAL = re.compile(r'[\s"\\<>()\[\],;:]')
_PLAIN_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_PHONE_SEPARATORS = re.compile(r"[\s().\-/]+")


def normalize_email_fast(value: str) -> str:
    """:func:`normalize_email`, cheaper for the usual address.

    email-validator costs tens of µs a call, most of it on the domain: here the
    domain is validated once per distinct domain (cached) and the part before
    the @ on its own; anything unusual (quotes, display names, IDN domains,
    very long) takes the full path.
    """
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if (
        at
        and local
        and domain.isascii()
        and len(text.encode()) <= 200
        and not _UNUSUAL.search(text)
    ):
        local_part = _email_local_part(local)
        domain_part = _email_domain(domain) if local_part is not None else None
        if domain_part is not None:
            return f"{local_part}@{domain_part}"
    return _normalize_email_cached(text)


def _email_local_part(local: str) -> str | None:
    """The normalised local part, or None when only the full path can tell."""
    if local.isascii():
        if not _DOT_ATOM.fullmatch(local):
            return None
        lowered = local.lower()
        return lowered if lowered in _email_names()[0] else local
    validate, invalid = _local_part_validator()
    normalized = unicodedata.normalize("NFC", local)
    try:
        if normalized != local:
            validate(local)
        return validate(normalized)["local_part"]
    except invalid:
        return None


@lru_cache(maxsize=1)
def _local_part_validator() -> tuple[Callable[[str], LocalPartValidationResult], type[Exception]]:
    """email-validator's check of a local part, imported once (not per address)."""
    from email_validator import EmailNotValidError
    from email_validator.syntax import validate_email_local_part

    return validate_email_local_part, EmailNotValidError


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str | None:
    """The normalised domain of an address, or None when it is not valid.

    A plain letters-digits-hyphens name is only lower-cased by email-validator;
    any other goes to it (cached per domain).
    """
    if _PLAIN_DOMAIN.fullmatch(domain) and "--" not in domain and len(domain) <= 253:
        lowered = domain.lower()
        labels = lowered.split(".")
        if max(map(len, labels)) <= 63 and not _special_use(lowered):
            return lowered
    return _email_domain_checked(domain)


def _special_use(domain: str) -> bool:
    _, tlds, dotted = _email_names()
    return domain.rpartition(".")[2] in tlds or any(domain.endswith("." + d) for d in dotted)


@lru_cache(maxsize=1)
def _email_names() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """email-validator's mailbox names it lower-cases, and its special-use
    domains (one-label ones, which are all of them today, and any others)."""
    from email_validator import SPECIAL_USE_DOMAIN_NAMES
    from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

    special = [d.lower() for d in SPECIAL_USE_DOMAIN_NAMES]
    return (
        frozenset(CASE_INSENSITIVE_MAILBOX_NAMES),
        frozenset(d for d in special if "." not in d),
        tuple(d for d in special if "." in d),
    )


@lru_cache(maxsize=1024)
def _email_domain_checked(domain: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email("a@" + domain, check_deliverability=False).domain
    except EmailNotValidError:
        return None


@lru_cache(maxsize=1024)
def _normalize_email_cached(text: str) -> str:
    return normalize_email(text)


def normalize_phone_fast(value: str, region: str = "US") -> tuple[str, str | None]:
    """:func:`normalize_phone`, with a fast path for numbers already in
    international form (or 10-digit NANP numbers in a NANP region).

    Those skip phonenumbers' parser and are only checked for validity; a
    number the fast path cannot vouch for takes the full path.
    """
    text = value.strip()
    digits = _PHONE_SEPARATORS.sub("", text.lstrip("'"))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    candidate = None
    sure = True  # an invalid candidate is what the parser would find
    if digits[:1] == "+" and digits[1:].isascii() and digits[1:].isdigit():
        candidate = digits if digits[1:2] != "0" else None  # no calling code starts with 0
    elif digits.isascii() and digits.isdigit():
        if region.upper() in _nanp_regions():
            if len(digits) == 10:
                candidate = "+1" + digits
            elif len(digits) == 11 and digits[0] == "1":
                candidate = "+" + digits
        else:
            candidate = _national_candidate(digits, region.upper())
            # a trunk 0 stripped: when the rest is no number, the parser tries it with the 0
            sure = candidate is None or not candidate.endswith(digits)
    if candidate is not None:
        valid = _valid_international(candidate)
        if valid:
            return candidate, None
        if valid is False and sure:  # the parser would read the same number: invalid
            raise _invalid_phone(text, region)
    return normalize_phone(text, region)


def _national_candidate(digits: str, region: str) -> str | None:
    """A national number (``0795 4959534`` in GB) in international form, where
    phonenumbers' parser would only strip a trunk ``0`` (or nothing, in regions
    without one); None where it might do more: an international call prefix,
    the calling code written without ``+``, a longer national prefix."""
    rule = _national_rule(region)
    if rule is None:
        return None
    code, trunk, calling = rule
    if calling.match(digits) or digits.startswith(str(code)):
        return None
    if trunk is None:
        return f"+{code}{digits}"
    found = trunk.match(digits)
    if found is None or found.end() != 1 or digits[0] != "0" or any(found.groups()):
        return None
    return f"+{code}{digits[1:]}"


@lru_cache(maxsize=256)
def _national_rule(region: str) -> tuple[int, re.Pattern[str] | None, re.Pattern[str]] | None:
    """A region's calling code, national-prefix pattern (None: the region has no
    trunk prefix) and international call prefix; None for regions whose parsing
    takes more than stripping a prefix (a transform rule, a trunk prefix not ``0``)."""
    from phonenumbers import PhoneMetadata

    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.international_prefix is None or not metadata.country_code:
        return None
    calling = re.compile(metadata.international_prefix)
    pattern = metadata.national_prefix_for_parsing
    if metadata.national_prefix is None and pattern is None:
        return metadata.country_code, None, calling
    if metadata.national_prefix != "0" or pattern is None:
        return None
    return metadata.country_code, re.compile(pattern), calling


@lru_cache(maxsize=1)
def _nanp_regions() -> frozenset[str]:
    import phonenumbers

    return frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])


def _valid_international(candidate: str) -> bool | None:
    """Whether ``+digits`` is a valid number, as phonenumbers would parse it;
    None when the parser might read it otherwise (strip a national prefix)."""
    code, length = _calling_code_of(candidate[1:4])
    if code is None:
        return False
    national = candidate[1 + length :]
    known, prefix, main = _calling_code(code)
    if not known or not 2 <= len(national) <= 17:
        return False
    if prefix is not None:
        stripped = prefix.match(national)
        if stripped is not None and stripped.end() > 0:
            return None  # the parser might strip or transform a national prefix
    zeros = len(national) - len(national.lstrip("0"))
    if zeros == len(national):
        return False
    # is_valid_number first finds the number's region, trying the calling code's
    # main region first: a number valid there is valid, found in half the work.
    if main is not None and _valid_in_region(code, main, national):
        return True
    # phonenumbers' region_code_for_number: the first of the code's regions whose
    # leading digits match, or (regions without them) where the number has a type;
    # valid when it has a type there
    for region, leading in _regions_of(code):
        if leading is None:
            if _valid_in_region(code, region, national):
                return True
        elif leading.match(national):
            return _valid_in_region(code, region, national)
    return False


@lru_cache(maxsize=512)
def _regions_of(code: int) -> tuple[tuple[str, re.Pattern[str] | None], ...]:
    """A calling code's regions in phonenumbers' order, with their leading-digits patterns."""
    import phonenumbers
    from phonenumbers import PhoneMetadata

    found = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        if metadata is not None:
            leading = metadata.leading_digits
            found.append((region, re.compile(leading) if leading is not None else None))
    return tuple(found)


def _valid_in_region(code: int, region: str, national: str) -> bool:
    """``phonenumbers.is_valid_number_for_region`` for the calling code's own
    region, in two regular expressions instead of up to eleven.

    phonenumbers calls a number valid there when it matches the region's general
    pattern and the pattern of any one number type (fixed line, mobile, toll
    free, …), each considered only when the number's length is one it allows.
    """
    general, types = _region_patterns(code, region, len(national))
    return (
        general is not None
        and types is not None
        and (general.fullmatch(national) is not None and types.fullmatch(national) is not None)
    )


@lru_cache(maxsize=1024)
def _region_patterns(
    code: int, region: str, length: int
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """The general pattern, and the number types' patterns joined in one, of
    a region's numbers of this length (None: no number of that length fits)."""
    from phonenumbers import PhoneMetadata

    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)

    def pattern(desc: PhoneNumberDesc | None) -> str | None:
        if desc is None:
            return None
        lengths = desc.possible_length
        text = desc.national_number_pattern
        return text if text and (not lengths or length in lengths) else None

    if metadata is None:
        return None, None
    general = pattern(metadata.general_desc)
    if general is None:
        return None, None
    names = _NUMBER_TYPES
    if metadata.same_mobile_and_fixed_line_pattern:
        names = [name for name in names if name != "mobile"]  # as phonenumbers skips it
    kinds = [pattern(getattr(metadata, name)) for name in names]
    found = [f"(?:{text})" for text in kinds if text is not None]
    return re.compile(general), re.compile("|".join(found)) if found else None


# The number types phonenumbers' _number_type_helper tries (any match is valid).
_NUMBER_TYPES = (
    "premium_rate toll_free shared_cost voip personal_number pager uan voicemail fixed_line mobile"
).split()


@lru_cache(maxsize=1024)
def _calling_code_of(head: str) -> tuple[int | None, int]:
    """The country calling code a number's first digits start with, and its length."""
    import phonenumbers

    for length in (1, 2, 3):
        code = int(head[:length] or 0)
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return code, length
    return None, 0


@lru_cache(maxsize=512)
def _calling_code(code: int) -> tuple[bool, re.Pattern[str] | None, str | None]:
    """Whether a calling code has metadata, its national-prefix-for-parsing
    pattern, and its main region when is_valid_number would try that first."""
    import phonenumbers
    from phonenumbers import PhoneMetadata

    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None:
        return False, None, None
    pattern = metadata.national_prefix_for_parsing
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    main = region if regions and regions[0] == region and not metadata.leading_digits else None
    if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        main = None
    return True, re.compile(pattern) if pattern else None, main


def parse_money_lenient(value: str, field: str, *, decimal_comma: bool = False) -> float:
    """:func:`parse_money` that also reads what spreadsheets write: ``1.234,5``
    (decimal comma, as in ``;``-separated files), ``6.28E+12``, ``2,5 €``."""
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        decimal_comma = text.rfind(",") > text.rfind(".")
    elif decimal_comma and re.search(r",\d{3}(?!\d)", text) and text.count(",") > 1:
        decimal_comma = False  # 1,234,567: thousands separators after all
    elif "," in text and not re.search(r"\d{1,3}(,\d{3})+(?!\d)", text):
        decimal_comma = True  # 2,5 € or 1234,56: a comma that groups no thousands
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    try:
        return parse_money(text, field)
    except InvalidInput:
        try:
            amount = float(text)  # 6.28E+12, as Excel writes long numbers
        except ValueError:
            raise InvalidInput(
                f"invalid {field} {value!r}: expected an amount like 25000 or $2.5M"
            ) from None
        if not 0 <= amount <= MAX_AMOUNT:
            raise InvalidInput(
                f"invalid {field} {value!r}: expected an amount from 0 to {MAX_AMOUNT:,.0f}"
            ) from None
        return amount


# A cell starting with one of these is run as a formula by spreadsheets (OWASP
# "CSV Injection"); exports prefix it with ' and imports take the ' off again.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_GUARDED = re.compile(r"'*[=+\-@\t\r]")


def guard_formula(text: str) -> str:
    """A cell value safe to open in a spreadsheet; :func:`unguard_formula` undoes it."""
    return "'" + text if _GUARDED.match(text) else text


def unguard_formula(text: str) -> str:
    """Drop the ' that :func:`guard_formula` (or Odoo's export) put before a formula-like value."""
    return text[1:] if text[:1] == "'" and _GUARDED.match(text, 1) else text
