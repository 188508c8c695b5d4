"""The tables of a leadctl database, as SQLModel classes.

Partial indexes name their condition for SQLite only: a ``postgresql_where``
here would import the PostgreSQL dialect on every start, so
``storage.migrations`` gives PostgreSQL the same condition when it creates the
schema. Times are aware UTC (SQLModel stores them as UTC). ``tags`` and ``fields``
hold JSON text so a lead stays one row (exports and imports stream it as it
is). Every filter and sort that ``list`` offers has an index here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

LEAD_JSON_KEYS = (
    "id name email phone company title industry country region company_size annual_revenue "
    "source priority status lost_reason owner claimed_by claim_expires_at score "
    "score_adjustment band budget authority need timeline deal_value next_call_at client_id "
    "tags fields utm_source utm_medium utm_campaign created_at updated_at "
    "first_contacted_at converted_at"
).split()


class Lead(SQLModel, table=True):
    __tablename__ = "lead"
    __table_args__ = (
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
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str | None = None
    email_key: str | None = Field(default=None, index=True)
    phone: str | None = Field(default=None, index=True)
    company: str | None = None
    company_key: str | None = Field(default=None, index=True)
    title: str | None = None
    industry: str | None = None
    country: str | None = None
    region: str | None = None
    company_size: int | None = None
    annual_revenue: float | None = None
    source: str | None = None  # ix_lead_report_source leads with it
    priority: str = "medium"
    status: str = "new"
    lost_reason: str | None = None
    owner: str | None = None
    claimed_by: str | None = Field(default=None, index=True)
    claim_expires_at: datetime | None = None  # ix_lead_claim_expiry
    score: int = 0
    score_adjustment: int = 0
    band: str = Field(default="cold", index=True)
    budget: float | None = None
    authority: bool | None = None
    need: str | None = None
    timeline: date | None = None
    deal_value: float | None = None
    next_call_at: datetime | None = None
    client_id: int | None = Field(default=None, index=True)
    tags: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    fields: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    created_at: datetime = Field(index=True)
    updated_at: datetime
    first_contacted_at: datetime | None = None
    converted_at: datetime | None = None
    merged_into: int | None = None  # ix_lead_archived


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
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id")
    kind: str
    field: str | None = None
    old_value: str | None = None
    new_value: str | None = None
    body: str | None = None
    outcome: str | None = None
    actor: str
    created_at: datetime


class Choice(SQLModel, table=True):
    """An entry of an editable list: statuses, sources, lost reasons.

    ``role`` gives a status its pipeline meaning: ``open`` (forward-only),
    ``side`` (nurture: reachable from and back to any open status), ``won``
    (only through convert) and ``final`` (needs a lost reason).
    """

    __tablename__ = "choice"

    id: int | None = Field(default=None, primary_key=True)
    list: str = Field(index=True)
    name: str
    position: int
    role: str | None = None


class Setting(SQLModel, table=True):
    __tablename__ = "setting"

    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    name: str = Field(primary_key=True)
    role: str
    created_at: datetime


class Client(SQLModel, table=True):
    __tablename__ = "client"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    company: str | None = Field(default=None, index=True)
    email: str | None = Field(default=None, index=True)
    phone: str | None = None
    created_at: datetime


class Deal(SQLModel, table=True):
    __tablename__ = "deal"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    lead_id: int | None = Field(default=None, foreign_key="lead.id", index=True)
    value: float | None = None
    close_date: date | None = None
    stage: str = "open"
    probability: int | None = None
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
