"""The one error family of leadctl.

Each class carries the exit code SPEC assigns to it, so the CLI can map any
core failure to a message and an exit status in one place.
"""

from __future__ import annotations


class LeadctlError(Exception):
    """Base of every error a user can cause; never shown with a traceback."""

    exit_code = 1


class InvalidInput(LeadctlError):
    """A value is malformed or outside its list (exit 1)."""

    exit_code = 1


class NotFound(LeadctlError):
    """An id or name does not exist (exit 1)."""

    exit_code = 1


class Conflict(LeadctlError):
    """Duplicate, claim held elsewhere, forbidden move, final status (exit 3)."""

    exit_code = 3


class DuplicateLead(Conflict):
    """A new lead matches an existing one; carries the match for the prompt."""

    def __init__(self, message: str, existing_id: int, reason: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id
        self.reason = reason


class PermissionDenied(LeadctlError):
    """The acting user lacks a permission (exit 4)."""

    exit_code = 4


class Interrupted(LeadctlError):
    """Stopped by Ctrl-C (SIGINT) once what was done is safe (exit 130, as shells do)."""

    exit_code = 130


class DatabaseError(LeadctlError):
    """The database is busy, unreachable, foreign or too new (exit 5)."""

    exit_code = 5


def invalid_choice(field: str, value: object, allowed: list[str]) -> InvalidInput:
    """Build the error for a value outside a list, naming the accepted values."""
    return InvalidInput(f"invalid {field} {value!r}: expected one of {', '.join(allowed)}")
