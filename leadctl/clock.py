"""The one clock of leadctl, and parsing of the times people type.

Every "now" comes from :func:`now`, so ``LEADCTL_NOW`` can pin time for tests,
demos and backfills. Times are handled, and stored, as aware UTC datetimes.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, timedelta

from leadctl.errors import InvalidInput

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_DEFAULT_HOUR = time(9, 0)
_OFFSET = re.compile(r"^\+(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
WHEN_HELP = "ISO date/time, 'today 15:00', 'tomorrow', '+3d', '+2h', 'monday 10:00'"
# Dates people give must fall in these years (SPEC Additions): anything else is
# a typo or another tool's sentinel (0001-01-01, 9999-12-31), never a real date.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def now() -> datetime:
    """Current time as aware UTC, or ``LEADCTL_NOW`` when set."""
    fixed = os.environ.get("LEADCTL_NOW")
    if fixed:
        try:
            return to_utc(datetime.fromisoformat(fixed.strip()))
        except ValueError:
            raise InvalidInput(
                f"invalid LEADCTL_NOW {fixed!r}: expected ISO 8601 like 2026-11-23T09:00:00Z"
            ) from None
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Aware UTC from any datetime; a naive one is taken as local time."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored time as aware UTC: the drivers give them back naive, and they are UTC
    (unlike :func:`to_utc`, which takes a naive time as local)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601 for JSON: datetimes in UTC with ``Z``, dates as dates."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def local(value: datetime | None) -> str:
    """A stored (naive UTC) time as local 'YYYY-MM-DD HH:MM' for tables."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def check_year(value: datetime | date, field: str, text: str) -> None:
    """Refuse a date outside EARLIEST_YEAR..LATEST_YEAR as invalid input (exit 1)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InvalidInput(
            f"invalid {field} {text!r}: dates must fall between {EARLIEST_YEAR} and {LATEST_YEAR}"
        )


# Other tools' "no date": .NET's and SQL's minimum (0001-01-01), Excel's day zero
# (1899-12-30 or -31, read as 1900-01-00 too), 1900-01-01 and the far end (9999-12-31).
# A real lead or appointment never falls on them.
PLACEHOLDER_DAYS = frozenset(
    {date(1, 1, 1), date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1), date(9999, 12, 31)}
)


class NoDate(ValueError):
    """A date that is another tool's placeholder or out of range: an import
    leaves the field blank with this message as the warning."""


def date_problem(value: datetime | date) -> str | None:
    """Why a date cannot be a real one (a placeholder, or outside the years), or None."""
    day = value.date() if isinstance(value, datetime) else value
    if day in PLACEHOLDER_DAYS:
        return f"{day.isoformat()} is a placeholder for no date"
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        return f"dates must fall between {EARLIEST_YEAR} and {LATEST_YEAR}"
    return None


def check_date(value: datetime | date, field: str, text: str) -> None:
    """Refuse a date given for a stored value that is a placeholder or out of
    range (exit 1). Report bounds use :func:`check_year` (1900-01-01 is a fine start)."""
    problem = date_problem(value)
    if problem is not None:
        raise InvalidInput(f"invalid {field} {text!r}: {problem}")


def parse_iso(text: str, field: str, expected: str = "ISO 8601 like 2026-11-23") -> datetime:
    """An ISO 8601 date or date-time as given (naive when it names no zone), in range."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"invalid {field} {text!r}: expected {expected}") from None
    check_year(parsed, field, text)
    return parsed


def parse_when(text: str, field: str = "when") -> datetime:
    """Parse a future time as people write it, relative to :func:`now`.

    Returns aware UTC. Times without a date are local wall-clock times.
    Dates outside EARLIEST_YEAR..LATEST_YEAR are invalid input.
    """
    parsed = _parse_when(text, field)
    check_date(parsed, field, text)
    return parsed


def _parse_when(text: str, field: str) -> datetime:
    raw = " ".join(text.strip().lower().split())
    current = now().astimezone()
    if not raw:
        raise InvalidInput(f"invalid {field}: empty; expected {WHEN_HELP}")
    match = _OFFSET.match(raw)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        try:
            return to_utc(current + timedelta(**{_UNITS[unit]: amount}))
        except (OverflowError, ValueError):
            raise InvalidInput(f"invalid {field} {text!r}: too far in the future") from None
    day_word, _, rest = raw.partition(" ")
    day = _relative_day(day_word, current)
    if day is not None:
        clock_time = _parse_time(rest, field) if rest else _DEFAULT_HOUR
        if day_word in _WEEKDAYS and day == current.date() and clock_time <= current.time():
            day += timedelta(days=7)  # a bounded step: `now` itself is a valid date
        return to_utc(datetime.combine(day, clock_time, tzinfo=current.tzinfo))
    parsed = parse_iso(text, field, WHEN_HELP)  # in range, so the shifts below cannot overflow
    if len(text.strip()) <= 10:  # a bare date: morning of that day
        parsed = datetime.combine(parsed.date(), _DEFAULT_HOUR)
    return to_utc(parsed)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw]?)$")


def parse_duration(text: str, field: str = "duration") -> timedelta:
    """A span as settings and options take it: ``30m``, ``2h``, ``3d``, ``1w``;
    a bare number means hours."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise InvalidInput(
            f"invalid {field} {text!r}: expected a duration like 30m, 2h, 3d or 1w "
            "(a bare number is hours)"
        )
    amount = float(match.group(1))
    unit = _UNITS[match.group(2) or "h"]
    try:
        return timedelta(**{unit: amount})
    except OverflowError:
        raise InvalidInput(f"invalid {field} {text!r}: too long") from None


def parse_date(text: str, field: str = "date") -> date:
    """A calendar date: ISO, or any form :func:`parse_when` understands (in range)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return parse_when(text, field).astimezone().date()
    check_date(day, field, text)
    return day


def _relative_day(word: str, current: datetime) -> date | None:
    today = current.date()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word in _WEEKDAYS:
        ahead = (_WEEKDAYS.index(word) - today.weekday()) % 7
        return today + timedelta(days=ahead)
    return None


def _parse_time(text: str, field: str) -> time:
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", text)
    if not match:
        raise InvalidInput(f"invalid {field} time {text!r}: expected HH:MM like 15:00")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3) == "pm" and hour < 12:
        hour += 12
    elif match.group(3) == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise InvalidInput(f"invalid {field} time {text!r}: expected HH:MM like 15:00")
    return time(hour, minute)
