"""Settings kept in the database (`config get|set`), with their defaults."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from leadctl.errors import InvalidInput
from leadctl.models import Setting
from leadctl.users import Actor, require_permission


def _positive_number(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        number = -1
    if not 0 < number <= 24 * 365:
        raise InvalidInput(f"invalid value {value!r}: expected a number of hours from 0 to 8760")
    return f"{number:g}"


def _whole_days(value: str) -> str:
    if not value.strip().isdigit() or int(value) < 1:
        raise InvalidInput(f"invalid value {value!r}: expected a whole number of days ≥ 1")
    return str(int(value))


def _region(value: str) -> str:
    import phonenumbers

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"invalid region {value!r}: expected a two-letter code like US or DE")
    return code


# key: (default, validator returning the stored text, help)
KNOWN: dict[str, tuple[str, Callable[[str], str], str]] = {
    "claim_hours": ("24", _positive_number, "hours a claim holds a lead"),
    "region": ("US", _region, "phone region for numbers without + (after LEADCTL_REGION)"),
    "stuck_days": ("14", _whole_days, "days in one status before `report aging` calls it stuck"),
}


def get(session: Session, key: str) -> str:
    _check_key(key)
    row = session.get(Setting, key)
    return row.value if row else KNOWN[key][0]


def set_value(session: Session, who: Actor, key: str, value: str) -> str:
    """Change a setting (admin; exit 4 otherwise); returns the value as stored."""
    require_permission(who, "admin", "change settings")
    _check_key(key)
    stored = KNOWN[key][1](value)
    row = session.get(Setting, key) or Setting(key=key, value=stored)
    row.value = stored
    session.add(row)
    return stored


def typed(value: str) -> str | int | float:
    """A setting as JSON shows it: numbers as numbers."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def all_settings(session: Session) -> dict[str, str]:
    return {key: get(session, key) for key in KNOWN}


def _check_key(key: str) -> None:
    if key not in KNOWN:
        raise InvalidInput(f"unknown setting {key!r}: expected one of {', '.join(KNOWN)}")
