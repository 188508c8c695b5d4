"""Version 1: the first schema, with the default lists.

Frozen: these are copies of the tables as version 1 declared them, not the
current models, so a database created today and one created by leadctl 0.x at
version 1 hold the same schema before the later migrations run. Never edit
this file; change the schema in a new migration (and in ``leadctl.models``).
Partial indexes carry their condition for both SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Connection

STATUSES = [
    ("new", "open"),
    ("contacted", "open"),
    ("qualified", "open"),
    ("converted", "won"),
    ("nurture", "side"),
    ("unqualified", "final"),
    ("lost", "final"),
]
SOURCES = [
    "Website",
    "Referral",
    "LinkedIn",
    "Social Media",
    "Email",
    "Cold Call",
    "Event",
    "Advertisement",
    "Direct Mail",
    "Other",
]
LOST_REASONS = [
    "Not interested",
    "Not a fit",
    "Bad timing",
    "No budget",
    "Competitor",
    "Unreachable",
    "Other",
]

META_DDL = "CREATE TABLE leadctl_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"


def _partial(name: str, *columns: str, where: str) -> Index:
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


def _str(name: str, nullable: bool = True) -> Column[str]:
    return Column(name, String, nullable=nullable)


def _int(name: str, nullable: bool = True) -> Column[int]:
    return Column(name, Integer, nullable=nullable)


def _time(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def tables() -> MetaData:
    """The version 1 tables (all but ``leadctl_meta``, see :data:`META_DDL`)."""
    metadata = MetaData()
    Table(
        "lead",
        metadata,
        Column("id", Integer, primary_key=True),
        _str("name", nullable=False),
        _str("email"),
        _str("email_key"),
        _str("phone"),
        _str("company"),
        _str("company_key"),
        _str("title"),
        _str("industry"),
        _str("country"),
        _str("region"),
        _int("company_size"),
        Column("annual_revenue", Float),
        _str("source"),
        _str("priority", nullable=False),
        _str("status", nullable=False),
        _str("lost_reason"),
        _str("owner"),
        _str("claimed_by"),
        _time("claim_expires_at"),
        _int("score", nullable=False),
        _int("score_adjustment", nullable=False),
        _str("band", nullable=False),
        Column("budget", Float),
        Column("authority", Boolean),
        _str("need"),
        Column("timeline", Date),
        Column("deal_value", Float),
        _time("next_call_at"),
        _int("client_id"),
        Column("tags", Text, nullable=False),
        Column("fields", Text, nullable=False),
        _str("utm_source"),
        _str("utm_medium"),
        _str("utm_campaign"),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
        _time("first_contacted_at"),
        _time("converted_at"),
        _int("merged_into"),
        Index("ix_lead_status_next_call", "status", "next_call_at"),
        Index("ix_lead_next_call_score", "next_call_at", "score"),
        Index("ix_lead_score_created", "score", "created_at"),
        _partial("ix_lead_archived", "merged_into", where="merged_into IS NOT NULL"),
        Index("ix_lead_pool", "owner", "merged_into", text("score DESC"), "created_at", "id"),
        _partial(
            "ix_lead_claim_expiry",
            "owner",
            "claim_expires_at",
            where="claim_expires_at IS NOT NULL",
        ),
        Index("ix_lead_report_owner", "owner", "merged_into", "created_at", "first_contacted_at"),
        Index("ix_lead_report_source", "source", "merged_into", "created_at", "score"),
        Index("ix_lead_report_status", "status", "merged_into", "created_at"),
        Index("ix_lead_email_key", "email_key"),
        Index("ix_lead_phone", "phone"),
        Index("ix_lead_company_key", "company_key"),
        Index("ix_lead_claimed_by", "claimed_by"),
        Index("ix_lead_band", "band"),
        Index("ix_lead_client_id", "client_id"),
        Index("ix_lead_created_at", "created_at"),
    )
    Table(
        "activity",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("lead_id", Integer, ForeignKey("lead.id"), nullable=False),
        _str("kind", nullable=False),
        _str("field"),
        _str("old_value"),
        _str("new_value"),
        _str("body"),
        _str("outcome"),
        _str("actor", nullable=False),
        _time("created_at", nullable=False),
        Index("ix_activity_lead_time", "lead_id", "created_at"),
        Index("ix_activity_kind_new", "kind", "new_value"),
        Index("ix_activity_time", "created_at"),
        Index("ix_activity_kind_lead_time", "kind", "lead_id", "created_at"),
        _partial(
            "ix_activity_status_reach",
            "new_value",
            "lead_id",
            "created_at",
            "field",
            where="field = 'status'",
        ),
        _partial(
            "ix_activity_status_latest",
            "lead_id",
            "created_at",
            "new_value",
            "field",
            where="field = 'status'",
        ),
        Index("ix_activity_kind_actor_time", "kind", "actor", "created_at"),
    )
    Table(
        "choice",
        metadata,
        Column("id", Integer, primary_key=True),
        _str("list", nullable=False),
        _str("name", nullable=False),
        _int("position", nullable=False),
        _str("role"),
        Index("ix_choice_list", "list"),
    )
    Table(
        "setting",
        metadata,
        Column("key", String, primary_key=True),
        Column("value", Text, nullable=False),
    )
    Table(
        "app_user",
        metadata,
        Column("name", String, primary_key=True),
        _str("role", nullable=False),
        _time("created_at", nullable=False),
    )
    Table(
        "client",
        metadata,
        Column("id", Integer, primary_key=True),
        _str("name", nullable=False),
        _str("company"),
        _str("email"),
        _str("phone"),
        _time("created_at", nullable=False),
        Index("ix_client_company", "company"),
        Index("ix_client_email", "email"),
    )
    Table(
        "deal",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("client_id", Integer, ForeignKey("client.id"), nullable=False),
        Column("lead_id", Integer, ForeignKey("lead.id")),
        Column("value", Float),
        Column("close_date", Date),
        _str("stage", nullable=False),
        _int("probability"),
        _time("created_at", nullable=False),
        Index("ix_deal_client_id", "client_id"),
        Index("ix_deal_lead_id", "lead_id"),
    )
    return metadata


def upgrade(conn: Connection) -> None:
    conn.execute(text(META_DDL))  # text(): version 1's DDL exactly (a NULL-able key)
    metadata = tables()
    metadata.create_all(conn)
    rows = [
        {"list": "status", "name": name, "position": i, "role": role}
        for i, (name, role) in enumerate(STATUSES, 1)
    ]
    rows += [{"list": "source", "name": n, "position": i} for i, n in enumerate(SOURCES, 1)]
    rows += [
        {"list": "lost_reason", "name": n, "position": i} for i, n in enumerate(LOST_REASONS, 1)
    ]
    conn.execute(metadata.tables["choice"].insert(), [{"role": None} | row for row in rows])
