"""Settings kept in the database (`config get|set`), with their defaults.

The one module that reads and writes the ``setting`` table: the settings of
`config` (:data:`KNOWN`) and the values other modules keep there under their
own keys (the scoring rules, the round-robin pointer) through
:func:`stored` / :func:`store`. (leadctl's own bookkeeping, ``leadctl_meta``,
has the same pair in storage: ``storage.read_meta`` / ``storage.write_meta``.)
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

from leadctl.errors import InvalidInput
from leadctl.models import SETTING
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
    if not (value.strip().isascii() and value.strip().isdigit()) or int(value) < 1:
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
    "first_response_hours": (
        "24",
        _positive_number,
        "hours a new lead may wait for a first contact",
    ),
    "expiring_hours": ("4", _positive_number, "`next` shows your claims ending within these hours"),
}


def get(session: OrmSession | Connection, key: str) -> str:
    _check_key(key)
    value = stored(session, key)
    return value if value is not None else KNOWN[key][0]


def set_value(session: OrmSession | Connection, who: Actor, key: str, value: str) -> str:
    """Change a setting (admin; exit 4 otherwise); returns the value as stored."""
    require_permission(who, "admin", "change settings")
    _check_key(key)
    text = KNOWN[key][1](value)
    store(session, key, text)
    return text


def stored(target: OrmSession | Connection, key: str, *, lock: bool = False) -> str | None:
    """The text stored under ``key``, None when unset. ``lock`` holds the row
    until the transaction ends where the database can (PostgreSQL's FOR UPDATE;
    a SQLite writer holds the whole file already)."""
    statement = select(SETTING.c.value).where(SETTING.c.key == key)
    if lock:
        statement = statement.with_for_update()
    value: str | None = _connection(target).execute(statement).scalar_one_or_none()
    return value


def store(target: OrmSession | Connection, key: str, value: str) -> None:
    """Store ``value`` under ``key`` (validation is the caller's)."""
    conn = _connection(target)
    done = conn.execute(update(SETTING).where(SETTING.c.key == key).values(value=value))
    if not done.rowcount:
        conn.execute(insert(SETTING).values(key=key, value=value))


def _connection(target: OrmSession | Connection) -> Connection:
    """Settings are Core statements on the ``setting`` table, run on the
    session's connection (its transaction) or on a bare connection."""
    return target if isinstance(target, Connection) else target.connection()


def typed(value: str) -> str | int | float:
    """A setting as JSON shows it: numbers as numbers."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def all_settings(session: OrmSession | Connection) -> dict[str, str]:
    return {key: get(session, key) for key in KNOWN}


def _check_key(key: str) -> None:
    if key not in KNOWN:
        raise InvalidInput(f"unknown setting {key!r}: expected one of {', '.join(KNOWN)}")
