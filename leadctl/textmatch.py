"""Matching text people type against stored text: literally (``%`` and ``_``
are characters, not wildcards), case-insensitively, the Unicode way (``ömer``
finds ``Ömer Çelik``), on SQLite and PostgreSQL alike.

The rule is one: the stored text, lower-cased, contains the text typed,
lower-cased (Python's ``str.lower``, which is PostgreSQL's ``lower`` under a UTF-8
locale). PostgreSQL runs it as written; a database whose character type is
``C`` folds ASCII only, so there ``lower`` runs under ICU's root collation
(``und-x-icu``) when the server has it (:func:`fold_collation`). SQLite's own ``lower`` and ``LIKE``
fold ASCII letters only, so there the same rule takes two steps and a search
stays a scan in C: ``LIKE`` with the pattern lower-cased decides every value
that is plain ASCII (folding ASCII is all of it there), and ``leadctl_fold``
(``str.lower``, registered on every connection by ``leadctl.storage``) folds
only the values that are not.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    LargeBinary,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    null,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from leadctl.storage import FOLD_FUNCTION

ESCAPE = "/"
ICU_ROOT = "und-x-icu"  # ICU's root collation: folds Unicode whatever the database's locale


def escape_like(text: str) -> str:
    """``text`` as a LIKE pattern that matches exactly it (escape character ``/``)."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(
    column: Any, text: str, dialect: str, collation: str | None = None
) -> ColumnElement[bool]:
    """``column`` contains ``text``: literally, whatever the case, on the
    database named ``dialect`` (``sqlite``, ``postgresql``); on PostgreSQL
    folded under ``collation`` when given (see :func:`fold_collation`)."""
    pattern = f"%{escape_like(text.lower())}%"
    if dialect != "sqlite":
        typed: Any = literal(pattern, String())
        if collation:
            column, typed = column.collate(collation), typed.collate(collation)
        return func.lower(column).like(func.lower(typed), escape=ESCAPE)
    not_ascii = func.length(column) < func.length(cast(column, LargeBinary))  # bytes > characters
    folded = getattr(func, FOLD_FUNCTION)(column, type_=String())
    return or_(
        column.like(pattern, escape=ESCAPE),
        and_(not_ascii, folded.like(pattern, escape=ESCAPE)),
    )


_COLLATIONS: dict[str, str | None] = {}  # per server database, for the process


def fold_collation(session: Session) -> str | None:
    """On PostgreSQL, the collation ``lower`` must run under to fold Unicode:
    None where the database's own locale does (a UTF-8 one), ICU's root
    collation where it folds ASCII only (character type ``C``) and the server
    has ICU. Asked once per database and process, only by a search."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        return None
    key = str(bind.engine.url)
    if key not in _COLLATIONS:
        catalog = table("pg_collation", column("collname", String()))
        icu = select(catalog.c.collname).where(catalog.c.collname == ICU_ROOT).scalar_subquery()
        folds = func.lower(literal("\u00c4", String())) == "\u00e4"
        _COLLATIONS[key] = session.execute(select(case((folds, null()), else_=icu))).scalar()
    return _COLLATIONS[key]
