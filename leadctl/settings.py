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


def _region(value: str) -> str:
    import phonenumbers

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"invalid region {value!r}: expected a two-letter code like US or DE")
    return code


DEFAULT_DEAL_STAGES = "qualification:10, proposal:40, negotiation:70, won:100, lost:0"
_STAGES_HELP = (
    "expected stages in order with their default probabilities, like "
    f"{DEFAULT_DEAL_STAGES} (names unique, probabilities 0-100, the first stage open: 1-99)"
)


def stage_pairs(value: str) -> dict[str, int]:
    """The ``deal_stages`` setting read: stage name → default probability, in order.

    Written ``name:probability`` (or ``name=probability``, with an optional
    ``%``), comma-separated. A stage at 100 % is a won stage, at 0 % a lost one;
    both are closed. The first stage is where a new deal starts, so it must be
    open (1-99).
    """
    stages: dict[str, int] = {}
    for part in value.split(","):
        name, sep, number = part.replace("=", ":").rpartition(":")
        name, number = name.strip(), number.strip().removesuffix("%").strip()
        if (
            not sep
            or not name
            or len(name) > 40
            or not name.isprintable()
            or ":" in name
            or name.casefold() in {known.casefold() for known in stages}
            or not (number.isascii() and number.isdigit())
            or not 0 <= int(number) <= 100
        ):
            raise InvalidInput(f"invalid deal_stages {value!r}: {_STAGES_HELP}")
        stages[name] = int(number)
    if not 0 < next(iter(stages.values())) < 100:
        raise InvalidInput(f"invalid deal_stages {value!r}: {_STAGES_HELP}")
    return stages


def _deal_stages(value: str) -> str:
    return ", ".join(f"{name}:{number}" for name, number in stage_pairs(value).items())


def _first_call_after(value: str) -> str:
    """``off``, or a duration (``30m``, ``2h``, ``3d``, ``1w``; a bare number is
    hours) from a minute to a year."""
    from datetime import timedelta

    from leadctl.clock import parse_duration

    text = value.strip().lower()
    if text in ("off", "none", "0"):
        return "off"
    try:
        span = parse_duration(text)
    except InvalidInput:
        span = timedelta(0)
    if not timedelta(minutes=1) <= span <= timedelta(days=365):
        raise InvalidInput(
            f"invalid value {value!r}: expected off or a duration from 1m to 1 year, "
            "like 30m, 2h, 3d or 1w (a bare number is hours)"
        )
    return text if text[-1].isalpha() else f"{text}h"


def _score(value: str) -> str:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 100:
        raise InvalidInput(f"invalid value {value!r}: expected a whole score from 0 to 100")
    return str(int(text))


def _yes_no(value: str) -> str:
    text = value.strip().lower()
    if text in ("yes", "true", "on", "1"):
        return "yes"
    if text in ("no", "false", "off", "0"):
        return "no"
    raise InvalidInput(f"invalid value {value!r}: expected yes or no")


def _days_or_off(value: str) -> str:
    text = value.strip().lower()
    if text in ("off", "none", "0"):
        return "off"
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 3650:
        raise InvalidInput(f"invalid value {value!r}: expected off or whole days from 1 to 3650")
    return str(int(text))


def _command_or_off(value: str) -> str:
    text = value.strip()
    if text.lower() in ("", "off", "none"):
        return "off"
    if not text.isprintable():
        raise InvalidInput(f"invalid value {value!r}: expected a shell command on one line, or off")
    return text


def _escalate_to(value: str) -> str:
    """``pool`` (back to the unassigned pool) or user names, comma-separated
    (round-robin among them); that the users exist is checked by
    :func:`set_value`, which has the session."""
    text = value.strip()
    if text.lower() in ("pool", "off", "none", ""):
        return "pool"
    names = [name.strip() for name in text.split(",")]
    if any(not name or not name.isprintable() for name in names):
        raise InvalidInput(f"invalid value {value!r}: expected pool or user names, comma-separated")
    return ",".join(dict.fromkeys(names))


def _events_scope(value: str) -> str:
    text = value.strip().lower()
    if text not in ("automated", "all"):
        raise InvalidInput(f"invalid value {value!r}: expected one of automated, all")
    return text


# key: (default, validator returning the stored text, help)
KNOWN: dict[str, tuple[str, Callable[[str], str], str]] = {
    "claim_hours": ("24", _positive_number, "hours a claim holds a lead"),
    "region": ("US", _region, "phone region for numbers without + (after LEADCTL_REGION)"),
    "deal_stages": (DEFAULT_DEAL_STAGES, _deal_stages, "deal stages and their default probability"),
    "first_call_after": (
        "off",
        _first_call_after,
        "when a new lead's first call falls: 2h, 3d… after it comes in, or off",
    ),
    "first_response_hours": (
        "24",
        _positive_number,
        "hours a new lead may wait for a first contact",
    ),
    "expiring_hours": ("4", _positive_number, "`next` shows your claims ending within these hours"),
    "escalate_to": (
        "pool",
        _escalate_to,
        "where `sweep` sends claimed or owned leads left rotting: pool, or users (round-robin)",
    ),
    "inactive_days": (
        "off",
        _days_or_off,
        "`sweep` moves open leads idle this many days to nurture",
    ),
    "mql_score": ("50", _score, "score from which a lead is an MQL (stage mql)"),
    "sql_score": ("70", _score, "score from which a lead is an SQL (stage sql)"),
    "sql_requires_qualified": (
        "no",
        _yes_no,
        "yes: stage sql also needs status qualified or later",
    ),
    "hook_command": ("off", _command_or_off, "command that gets each batch of events on stdin"),
    "events": ("automated", _events_scope, "what goes to the outbox: automated changes, or all"),
}
# settings naming users: each name must be a user (``pool`` is none)
NAMES_USERS = ("escalate_to",)
# settings a lifecycle stage is derived from (``leadctl.stages``)
STAGE_KEYS = ("mql_score", "sql_score", "sql_requires_qualified")


def get(session: OrmSession | Connection, key: str) -> str:
    _check_key(key)
    value = stored(session, key)
    return value if value is not None else KNOWN[key][0]


def set_value(session: OrmSession | Connection, who: Actor, key: str, value: str) -> str:
    """Change a setting (admin; exit 4 otherwise); returns the value as stored."""
    require_permission(who, "admin", "change settings")
    _check_key(key)
    text = KNOWN[key][1](value)
    if key in NAMES_USERS and text != "pool":
        _check_users(session, key, text.split(","))
    if key in ("mql_score", "sql_score"):
        _check_order(session, key, int(text))
    store(session, key, text)
    if key in STAGE_KEYS:  # the stages follow their thresholds at once
        from leadctl import stages

        stages.recompute(session)
    return text


def _check_users(session: OrmSession | Connection, key: str, names: list[str]) -> None:
    from leadctl.models import USER

    known = list(_connection(session).execute(select(USER.c.name).order_by(USER.c.name)).scalars())
    missing = [name for name in names if name not in known]
    if missing:
        allowed = ", ".join(["pool", *known])
        raise InvalidInput(f"invalid {key}: no user {missing[0]!r}: expected one of {allowed}")


def _check_order(session: OrmSession | Connection, key: str, score: int) -> None:
    """The MQL threshold may not be above the SQL one."""
    mql = score if key == "mql_score" else int(get(session, "mql_score"))
    sql = score if key == "sql_score" else int(get(session, "sql_score"))
    if mql > sql:
        other = "sql_score" if key == "mql_score" else "mql_score"
        bound = f"at most {sql}" if key == "mql_score" else f"at least {mql}"
        raise InvalidInput(f"invalid {key} {score}: expected {bound} (the {other})")


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
