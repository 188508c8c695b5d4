"""Build a realistic leadctl database of N leads for benchmarks.

    python benchmarks/make_db.py DB N [--activities K] [--claims-expired M]

Rows go in through batched SQLAlchemy Core inserts on the real schema, so the
database is exactly what leadctl itself creates. Deterministic (seeded).
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadctl.models import Activity, Lead
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


def build(path: Path, count: int, activities: int = 0, expired_claims: int = 0) -> None:
    path.unlink(missing_ok=True)
    database = open_database(str(path))
    rng = random.Random(42)
    batch = 5000
    with database.engine.begin() as conn:
        for start in range(0, count, batch):
            rows = [lead_row(i, rng) for i in range(start, min(count, start + batch))]
            conn.execute(Lead.__table__.insert(), rows)
        if activities:
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
    args = parser.parse_args()
    build(args.db, args.count, args.activities, args.claims_expired)
