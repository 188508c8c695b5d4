"""The tables of a leadctl database, as SQLModel classes.

Partial indexes name their condition for SQLite only: a ``postgresql_where``
here would import the PostgreSQL dialect on every start, so
``storage.migrations`` gives PostgreSQL the same condition when it creates the
schema. Times are aware UTC (SQLModel stores them as UTC). ``tags`` and ``fields``
hold JSON text so a lead stays one row (exports and imports stream it as it
is). Every filter and sort that ``list`` offers has an index here. The lead's
columns are its fields, declared once in ``leadctl.fields``.

Two ways in, one split: the classes for single-object work (the ORM: load a
lead, change it, ``session.add``), and their Core tables (:data:`LEAD`,
:data:`ACTIVITY`, … typed as SQLAlchemy ``Table``) for set-based work (one
``UPDATE``/``INSERT``/``SELECT`` over many rows). Core code uses these
constants, never ``Model.__table__`` (which SQLModel leaves untyped).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, inspect, text
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelMetaclass

from leadctl import fields

LEAD_JSON_KEYS = fields.LEAD_JSON_KEYS

# Every integer column: 64 bits on every engine (SQLite's INTEGER is; PostgreSQL's
# is not, so there it is BIGINT: m006_bigint). SQLite keeps INTEGER, so that an
# INTEGER PRIMARY KEY stays its rowid.
BIG = BigInteger().with_variant(Integer(), "sqlite")

# text() in an index: a partial index's condition or a DESC key, given as SQL
# because the columns it names are not built yet when the indexes are declared.
LEAD_INDEXES = (
    Index("ix_lead_status_next_call", "status", "next_call_at"),
    Index("ix_lead_next_call_score", "next_call_at", "score"),
    Index("ix_lead_score_created", "score", "created_at"),
    # archived duplicates only: a plain index on merged_into tempts SQLite to
    # scan it for `merged_into IS NULL AND x IN (…)`, which made import quadratic
    Index("ix_lead_archived", "merged_into", sqlite_where=text("merged_into IS NOT NULL")),
    # claim --next walks the pool best-first and stops at the first free lead
    Index("ix_lead_pool", "owner", "merged_into", text("score DESC"), "created_at", "id"),
    # claim --release-expired: only claimed rows are in it, found by expiry
    Index(
        "ix_lead_claim_expiry",
        "owner",
        "claim_expires_at",
        sqlite_where=text("claim_expires_at IS NOT NULL"),
    ),
    # reports: per owner, source and status aggregates read these indexes alone
    Index("ix_lead_report_owner", "owner", "merged_into", "created_at", "first_contacted_at"),
    Index("ix_lead_report_source", "source", "merged_into", "created_at", "score"),
    Index("ix_lead_report_status", "status", "merged_into", "created_at"),
    # another system's record id (issue 12): most leads have none, so only those that do
    Index("ix_lead_external_id", "external_id", sqlite_where=text("external_id IS NOT NULL")),
    # rotting: open leads of one status untouched since a moment (m005_automation)
    Index("ix_lead_rot", "status", "touched_at"),
)

# Columns that are no lead field: (the field they follow, type, declaration).
# email_key, company_key and external_id are the duplicate check's match keys; merged_into
# marks an archived duplicate (ix_lead_archived).
INTERNAL_COLUMNS: dict[str, tuple[str | None, Any, Any]] = {
    "email_key": ("email", str | None, lambda: Field(default=None, index=True)),
    "company_key": ("company", str | None, lambda: Field(default=None, index=True)),
    "merged_into": ("converted_at", int | None, lambda: Field(default=None, sa_type=BIG)),
    # another system's record id, "system:value" (issue 12): the first match key
    "external_id": ("name", str | None, lambda: Field(default=None)),
    # when a person last worked the lead (m005_automation): aging counts from it
    "touched_at": ("stage", datetime | None, lambda: Field(default=None)),
}


# Columns added after version 1 as NOT NULL: their DEFAULT is in the schema
# (m003_identity, m005_automation)
SERVER_DEFAULTS = ("alt_emails", "alt_phones", "stage")


def _column(spec: fields.LeadField) -> Any:
    """A lead field's SQLModel declaration."""
    if spec.json_text:
        # a column added by a migration (ALTER TABLE) carries its default in the schema
        server = text(f"'{spec.default}'") if spec.name in SERVER_DEFAULTS else None
        column = Column(Text, nullable=False, default=spec.default, server_default=server)
        return Field(default=spec.default, sa_column=column)
    if spec.required:
        return Field(index=spec.index)
    if spec.type is int:
        return Field(default=spec.default, index=spec.index, sa_type=BIG)
    if spec.name in SERVER_DEFAULTS:
        column = Column(
            String, nullable=False, index=spec.index, server_default=text(f"'{spec.default}'")
        )
        return Field(default=spec.default, sa_column=column)
    return Field(default=spec.default, index=spec.index)


def _lead_namespace() -> dict[str, Any]:
    """The body of the ``Lead`` class: ``id``, then the registry's fields in
    order, each internal column after the field it follows."""
    annotations: dict[str, Any] = {"id": int | None}
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": "Lead",
        "__doc__": "A lead: its fields come from ``leadctl.fields.LEAD_FIELDS``.",
        "__tablename__": "lead",
        "__table_args__": LEAD_INDEXES,
        "id": Field(default=None, primary_key=True, sa_type=BIG),
    }
    for spec in fields.LEAD_FIELDS:
        annotations[spec.name] = spec.annotation
        namespace[spec.name] = _column(spec)
        for name, (after, annotation, declare) in INTERNAL_COLUMNS.items():
            if after == spec.name:
                annotations[name] = annotation
                namespace[name] = declare()
    namespace["__annotations__"] = annotations
    return namespace


if TYPE_CHECKING:
    # What type checkers see: the same columns, typed. The block between the
    # markers is generated from the registry (python -m leadctl.fields) and
    # tests/test_fields.py keeps it in step; at run time the class is built
    # from the registry below.
    class Lead(SQLModel):
        id: int | None
        email_key: str | None
        company_key: str | None
        merged_into: int | None
        external_id: str | None
        touched_at: datetime | None
        # BEGIN generated from leadctl.fields: python -m leadctl.fields
        name: str
        email: str | None
        phone: str | None
        company: str | None
        title: str | None
        industry: str | None
        country: str | None
        region: str | None
        company_size: int | None
        annual_revenue: float | None
        source: str | None
        priority: str
        status: str
        lost_reason: str | None
        owner: str | None
        claimed_by: str | None
        claim_expires_at: datetime | None
        score: int
        score_adjustment: int
        band: str
        stage: str
        budget: float | None
        authority: bool | None
        need: str | None
        timeline: date | None
        deal_value: float | None
        next_call_at: datetime | None
        client_id: int | None
        tags: str
        fields: str
        utm_source: str | None
        utm_medium: str | None
        utm_campaign: str | None
        created_at: datetime
        updated_at: datetime
        first_contacted_at: datetime | None
        converted_at: datetime | None
        alt_emails: str
        alt_phones: str
        website: str | None
        linkedin: str | None
        # END generated

else:
    Lead = SQLModelMetaclass("Lead", (SQLModel,), _lead_namespace(), table=True)


class Activity(SQLModel, table=True):
    """One event in a lead's history; reports are computed from these rows."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_lead_time", "lead_id", "created_at"),
        Index("ix_activity_kind_new", "kind", "new_value"),
        Index("ix_activity_time", "created_at"),
        # covering index of the set-based behavioural score (kind → lead → age)
        Index("ix_activity_kind_lead_time", "kind", "lead_id", "created_at"),
        # reports: the status history alone (partial: only field='status' rows), read
        # by stage (first reach) and by lead (status at a moment); work per actor
        Index(
            "ix_activity_status_reach",
            "new_value",
            "lead_id",
            "created_at",
            "field",
            sqlite_where=text("field = 'status'"),
        ),
        Index(
            "ix_activity_status_latest",
            "lead_id",
            "created_at",
            "new_value",
            "field",
            sqlite_where=text("field = 'status'"),
        ),
        Index("ix_activity_kind_actor_time", "kind", "actor", "created_at"),
        # undo: one command's activities (m004_undo)
        Index("ix_activity_command_id", "command_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG)
    lead_id: int = Field(foreign_key="lead.id", sa_type=BIG)
    kind: str
    field: str | None = None
    old_value: str | None = None
    new_value: str | None = None
    body: str | None = None
    outcome: str | None = None
    actor: str
    created_at: datetime
    # the command that wrote it (``command_log``); None before schema version 4
    command_id: int | None = Field(default=None, sa_type=BIG)


class CommandLog(SQLModel, table=True):
    """One command that wrote activities (m004_undo): who ran it and when,
    the ``undo`` command that reverted it, and ``data``: JSON the command kept
    only so that it can be undone (what a merge moved). Written through
    ``leadctl.activities`` only."""

    __tablename__ = "command_log"
    __table_args__ = (Index("ix_command_log_actor", "actor"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG)
    actor: str
    created_at: datetime
    undone_by: int | None = Field(default=None, sa_type=BIG)
    data: str | None = Field(default=None, sa_column=Column(Text))


class Choice(SQLModel, table=True):
    """An entry of an editable list: statuses, sources, lost reasons.

    ``role`` gives a status its pipeline meaning: ``open`` (forward-only),
    ``side`` (nurture: reachable from and back to any open status), ``won``
    (only through convert) and ``final`` (needs a lost reason).
    """

    __tablename__ = "choice"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG)
    list: str = Field(index=True)
    name: str
    position: int = Field(sa_type=BIG)
    role: str | None = None
    # statuses: seconds untouched before a lead in it is rotting; None: never (m005)
    rots_after: int | None = Field(default=None, sa_type=BIG)


class Setting(SQLModel, table=True):
    __tablename__ = "setting"

    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    name: str = Field(primary_key=True)
    role: str
    created_at: datetime
    # availability (m005_automation): away from a moment, until one (None: until back)
    away_from: datetime | None = None
    away_until: datetime | None = None
    capacity: int | None = Field(
        default=None, sa_type=BIG
    )  # most open leads round-robin gives them; None: no limit
    # routing: JSON lists of text
    territory: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default=text("'[]'"))
    )
    industries: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default=text("'[]'"))
    )


class Event(SQLModel, table=True):
    """One entry of the outbox (m005_automation): what changed, for a hook or
    ``leadctl events`` to pass on. Ids are never reused (AUTOINCREMENT)."""

    __tablename__ = "event"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG)
    at: datetime
    kind: str
    lead_id: int | None = Field(default=None, sa_type=BIG)
    actor: str
    data: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, server_default=text("'{}'"))
    )


class Client(SQLModel, table=True):
    __tablename__ = "client"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG)
    name: str
    company: str | None = Field(default=None, index=True)
    email: str | None = Field(default=None, index=True)
    phone: str | None = None
    created_at: datetime


class Deal(SQLModel, table=True):
    __tablename__ = "deal"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG)
    client_id: int = Field(foreign_key="client.id", index=True, sa_type=BIG)
    lead_id: int | None = Field(default=None, foreign_key="lead.id", index=True, sa_type=BIG)
    value: float | None = None
    close_date: date | None = None
    stage: str = "open"
    probability: int | None = Field(default=None, sa_type=BIG)
    created_at: datetime


class Meta(SQLModel, table=True):
    """leadctl's own bookkeeping: the schema version, a bulk load under way.

    Read and written through ``storage.read_meta`` / ``storage.write_meta`` only.
    The key may be NULL as version 1 created it (SQLite lets a primary key that
    is not an integer be NULL); nothing stores one.
    """

    __tablename__ = "leadctl_meta"

    key: str = Field(primary_key=True, sa_column_kwargs={"nullable": True})
    value: str | None = None


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model class, typed (SQLModel declares no ``__table__``)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


# The Core tables: set-based statements are written on these.
LEAD = table_of(Lead)
ACTIVITY = table_of(Activity)
CHOICE = table_of(Choice)
SETTING = table_of(Setting)
USER = table_of(User)
CLIENT = table_of(Client)
DEAL = table_of(Deal)
META = table_of(Meta)
COMMAND_LOG = table_of(CommandLog)
EVENT = table_of(Event)


class Stored(Protocol):
    id: int | None


def id_of(row: Stored) -> int:
    """The id of a stored (flushed) row: where the type says ``int | None``, the
    code knows it is there; a row not stored yet is a programming error."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush the session first")
    return row.id
