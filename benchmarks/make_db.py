"""Build a realistic leadctl database of N leads for benchmarks.

    python benchmarks/make_db.py DB N [--activities K] [--claims-expired M] [--history]

Rows go in through batched SQLAlchemy Core inserts on the real schema, so the
database is exactly what leadctl itself creates. Deterministic (seeded).
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from leadctl.models import Activity, Client, Deal, Lead
from leadctl.storage import open_database
from leadctl.storage.migrations import SOURCES

FIRST = "Ada Grace Alan Edsger Barbara Donald Ken Dennis Linus Guido Margaret Katherine".split()
LAST = "Lovelace Hopper Turing Dijkstra Liskov Knuth Thompson Ritchie Torvalds Hamilton".split()
COMPANIES = "Acme Globex Initech Umbrella Hooli Stark Wayne Wonka Soylent Tyrell Cyberdyne".split()
TITLES = ["CEO", "CTO", "VP Sales", "Head of Marketing", "Engineer", "Analyst", "Director"]
INDUSTRIES = ["Software", "Retail", "Finance", "Healthcare", "Manufacturing", "Education"]
STATUSES = ["new"] * 5 + ["contacted"] * 3 + ["qualified"] * 2 + ["nurture", "lost"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def lead_row(i: int, rng: random.Random) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(COMPANIES)} {i % 997}"
    score = rng.randint(0, 100)
    created = BASE + timedelta(minutes=i * 3)
    next_call = created + timedelta(days=rng.randint(1, 400)) if rng.random() < 0.3 else None
    status = rng.choice(STATUSES)
    return {
        "name": f"{first} {last} {i}",
        "email": f"{first}.{last}.{i}@example.com".lower(),
        "email_key": f"{first}.{last}.{i}@example.com".lower(),
        "phone": f"+1415{5550000 + i:07d}"[:12],
        "company": company,
        "company_key": company.lower(),
        "title": rng.choice(TITLES),
        "industry": rng.choice(INDUSTRIES),
        "country": "US",
        "company_size": rng.choice([5, 20, 80, 300, 1200, 8000]),
        "annual_revenue": float(rng.choice([1e5, 1e6, 5e6, 2e7, 1e8])),
        "source": rng.choice(SOURCES),
        "priority": rng.choice(["low", "medium", "medium", "high", "critical"]),
        "status": status,
        "lost_reason": "Other" if status == "lost" else None,
        "score": score,
        "band": "hot" if score >= 70 else "warm" if score >= 31 else "cold",
        "next_call_at": next_call,
        "tags": json.dumps(["vip"] if i % 50 == 0 else []),
        "fields": "{}",
        "created_at": created,
        "updated_at": created,
    }


def build(
    path: Path | str,
    count: int,
    activities: int = 0,
    expired_claims: int = 0,
    history: bool = False,
) -> None:
    """Fill a new database: a SQLite file (replaced) or an empty server database (a URL)."""
    if "://" not in str(path):
        Path(path).unlink(missing_ok=True)
    database = open_database(str(path))
    rng = random.Random(42)
    batch = 5000
    with database.engine.begin() as conn:
        for start in range(0, count, batch):
            rows = [lead_row(i, rng) for i in range(start, min(count, start + batch))]
            conn.execute(Lead.__table__.insert(), rows)
        if history:
            _write_history(conn, count, max(activities, 1))
        elif activities:
            for start in range(1, count + 1, batch):
                rows = []
                for lead_id in range(start, min(count + 1, start + batch)):
                    created = BASE + timedelta(minutes=(lead_id - 1) * 3)
                    rows.append(_activity(lead_id, "created", created, new="new"))
                    for k in range(1, activities):
                        kind = rng.choice(["call", "email", "note", "page_view", "meeting"])
                        rows.append(_activity(lead_id, kind, created + timedelta(hours=k * 7)))
                conn.execute(Activity.__table__.insert(), rows)
        if expired_claims:
            past = BASE - timedelta(days=1)
            conn.execute(
                Lead.__table__.update()
                .where(Lead.__table__.c.id <= expired_claims)
                .values(claimed_by="rep1", claim_expires_at=past)
            )
    database.close()


# --history: the status path that leads to each lead's status (and a third of the
# qualified ones go on to be converted into a client with a deal).
PATHS = {
    "new": ["new"],
    "contacted": ["new", "contacted"],
    "qualified": ["new", "contacted", "qualified"],
    "nurture": ["new", "contacted", "nurture"],
    "lost": ["new", "contacted", "lost"],
}
REPS = [f"rep{n}" for n in range(1, 6)]
CONTACTS = {"call", "email", "meeting", "task"}


def _write_history(conn: Connection, count: int, per_lead: int) -> None:
    """A history the reports can read: status moves, assignments, contacts, conversions.

    Uses its own random stream, so the leads themselves stay those of a plain build.
    """
    rng = random.Random(7)
    lead = Lead.__table__
    update = (
        lead.update()
        .where(lead.c.id == bindparam("b_id"))
        .values(
            owner=bindparam("b_owner"),
            status=bindparam("b_status"),
            client_id=bindparam("b_client"),
            converted_at=bindparam("b_converted"),
            first_contacted_at=bindparam("b_contacted"),
        )
    )
    client_id = 0
    for start in range(1, count + 1, 5000):
        found = conn.execute(
            select(lead.c.id, lead.c.status, lead.c.created_at).where(
                lead.c.id.between(start, start + 4999)
            )
        ).all()
        activities, updates, clients, deals = [], [], [], []
        for lead_id, status, created in found:
            path = list(PATHS.get(status, [status]))
            if status == "lost" and rng.random() < 0.4:
                path = ["new", "lost"]
            if status == "qualified" and rng.random() < 0.3:
                path.append("converted")
            owner = rng.choice(REPS) if rng.random() < 0.7 else None
            rows = [_history_row(lead_id, "created", created, field="status", new="new")]
            if owner:
                at = created + timedelta(hours=1)
                rows.append(_history_row(lead_id, "assign", at, field="owner", new=owner))
            at, contacted = created, []
            for old, new in zip(path, path[1:], strict=False):
                at += timedelta(hours=rng.randint(4, 24 * 12))
                rows.append(_history_row(lead_id, "status", at, field="status", old=old, new=new))
                contacted.append(at)
            converted_at = at if path[-1] == "converted" else None
            if converted_at:
                client_id += 1
                clients.append({"id": client_id, "name": f"Client {lead_id}", "created_at": at})
                value = float(rng.choice([2000, 5000, 12000, 40000]))
                deals.append(
                    {
                        "client_id": client_id,
                        "lead_id": lead_id,
                        "value": value,
                        "stage": "open",
                        "probability": 50,
                        "created_at": at,
                    }
                )
                rows.append(_history_row(lead_id, "convert", at, field="client_id", new=client_id))
            moment = created
            while len(rows) < per_lead:
                moment += timedelta(hours=rng.randint(2, 24 * 5))
                kind = rng.choice(["call", "email", "note", "page_view", "meeting"])
                rows.append(_history_row(lead_id, kind, moment, actor=owner or "bench"))
                if kind in CONTACTS:
                    contacted.append(moment)
            activities += rows
            updates.append(
                {
                    "b_id": lead_id,
                    "b_owner": owner,
                    "b_status": path[-1],
                    "b_client": client_id if converted_at else None,
                    "b_converted": converted_at,
                    "b_contacted": min(contacted, default=None),
                }
            )
        conn.execute(update, updates)
        if clients:
            conn.execute(Client.__table__.insert(), clients)
            conn.execute(Deal.__table__.insert(), deals)
        conn.execute(Activity.__table__.insert(), activities)


def _history_row(
    lead_id: int,
    kind: str,
    at: datetime,
    *,
    field: str | None = None,
    old: object = None,
    new: object = None,
    actor: str = "bench",
) -> dict:
    return {
        "lead_id": lead_id,
        "kind": kind,
        "field": field,
        "old_value": old,
        "new_value": None if new is None else str(new),
        "body": None,
        "outcome": None,
        "actor": actor,
        "created_at": at,
    }


def _activity(lead_id: int, kind: str, at: datetime, new: str | None = None) -> dict:
    return {
        "lead_id": lead_id,
        "kind": kind,
        "field": "status" if new else None,
        "old_value": None,
        "new_value": new,
        "body": None,
        "outcome": None,
        "actor": "bench",
        "created_at": at,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--activities", type=int, default=0, help="activities per lead")
    parser.add_argument("--claims-expired", type=int, default=0)
    parser.add_argument(
        "--history",
        action="store_true",
        help="status moves consistent with each lead's status, owners, conversions "
        "(clients and deals); --activities K then counts them in",
    )
    args = parser.parse_args()
    build(args.db, args.count, args.activities, args.claims_expired, args.history)
