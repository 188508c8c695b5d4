"""Normalisers for the values people type or import.

Each returns the stored form or raises :class:`InvalidInput` naming the field
and what it accepts. They are pure functions (no database), so hypothesis can
exercise them directly.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from leadctl.errors import InvalidInput, invalid_choice

PRIORITIES = ["low", "medium", "high", "critical"]
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
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _COUNTRY_CODES.get(text.casefold())


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
        raise InvalidInput(
            f"invalid phone {text!r}: expected a number valid for region {region.upper()} "
            "or in international form like +14155550100"
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, number.extension or None


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
    if not match:
        raise InvalidInput(f"invalid {field} {value!r}: expected a whole number like 50 or 11-50")
    return int(match.group(1))


@lru_cache(maxsize=4096)
def parse_money(value: str, field: str) -> float:
    """An amount: thousands separators, currency signs and K/M/B are understood."""
    text = value.strip().lower().replace(",", "").replace("_", "").replace(" ", "")
    text = re.sub(r"^[$€£¥]|^(usd|eur|gbp)|[$€£¥]$|(usd|eur|gbp)$", "", text)
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)(k|mm|m|bn|b)?", text)
    if not match:
        raise InvalidInput(f"invalid {field} {value!r}: expected an amount like 25000 or $2.5M")
    amount = float(match.group(1)) * _MONEY_SUFFIX.get(match.group(2) or "", 1.0)
    if amount < 0:
        raise InvalidInput(f"invalid {field} {value!r}: must not be negative")
    return amount


def company_key(company: str | None) -> str | None:
    """The form companies are matched on: case-folded, legal suffixes and punctuation dropped."""
    if not company:
        return None
    text = re.sub(r"[^\w\s]", " ", company.casefold())
    words = [w for w in text.split() if w not in _LEGAL_SUFFIXES]
    return " ".join(words) or None


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
