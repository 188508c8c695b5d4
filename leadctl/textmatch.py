"""Matching text people type against stored text: literally (``%`` and ``_``
are characters, not wildcards), case-insensitively, the Unicode way (``ömer``
finds ``Ömer Çelik``), on SQLite and PostgreSQL alike.

The rule is one: the stored text, lower-cased, contains the text typed,
lower-cased (Python's ``str.lower``, which is PostgreSQL's ``lower`` on a UTF-8
database). PostgreSQL runs it as written. SQLite's own ``lower`` and ``LIKE``
fold ASCII letters only, so there the same rule takes two steps and a search
stays a scan in C: ``LIKE`` with the pattern lower-cased decides every value
that is plain ASCII (folding ASCII is all of it there), and ``leadctl_fold``
(``str.lower``, registered on every connection by ``leadctl.storage``) folds
only the values that are not.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary, String, and_, cast, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from leadctl.storage import FOLD_FUNCTION

ESCAPE = "/"


def escape_like(text: str) -> str:
    """``text`` as a LIKE pattern that matches exactly it (escape character ``/``)."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(column: Any, text: str, dialect: str) -> ColumnElement[bool]:
    """``column`` contains ``text``: literally, whatever the case, on the
    database named ``dialect`` (``sqlite``, ``postgresql``)."""
    pattern = f"%{escape_like(text.lower())}%"
    if dialect != "sqlite":
        return func.lower(column).like(func.lower(literal(pattern, String())), escape=ESCAPE)
    not_ascii = func.length(column) < func.length(cast(column, LargeBinary))  # bytes > characters
    folded = getattr(func, FOLD_FUNCTION)(column, type_=String())
    return or_(
        column.like(pattern, escape=ESCAPE),
        and_(not_ascii, folded.like(pattern, escape=ESCAPE)),
    )
