"""Write a realistic CRM-export CSV of N leads for the import benchmarks.

    python benchmarks/make_csv.py FILE N [--dup-rate 0.05] [--bad-rate 0.01]

The shape is a Salesforce lead report (label headers, quoted fields, CRLF),
with the mess real files carry: phones in several national and international
formats, mixed-case emails, revenue as ``$2.5M`` or ``1,200,000``, company
sizes as ranges, other-CRM statuses and sources, notes with commas and line
breaks. About ``dup-rate`` of the rows repeat an earlier person (same email in
another case, or same phone) and ``bad-rate`` have no name or no usable
contact. Deterministic (seeded).
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HEADER = [
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Company",
    "Title",
    "Industry",
    "Country",
    "No. of Employees",
    "Annual Revenue",
    "Lead Source",
    "Lead Status",
    "Created Date",
    "Description",
]
FIRST = (
    "Ada Grace Alan Edsger Barbara Donald Ken Dennis Linus Guido Margaret Katherine "
    "Sofia Lucas Mia Noah Emma Liam Olivia Mateo Chloé Björn Zoë José Anaïs Łukasz"
).split()
LAST = (
    "Lovelace Hopper Turing Dijkstra Liskov Knuth Thompson Ritchie Torvalds Hamilton "
    "García Müller Rossi Dubois Nowak Silva Jensen O'Brien Van der Berg Kowalski"
).split()
COMPANY_WORDS = "Acme Globex Initech Umbrella Hooli Stark Wayne Wonka Soylent Tyrell".split()
SUFFIXES = ["Inc.", "LLC", "Ltd", "GmbH", "", "", "Corp."]
TITLES = ["CEO", "CTO", "VP Sales", "Head of Marketing", "Engineer", "Analyst", "Director", ""]
INDUSTRIES = ["Software", "Retail", "Finance", "Healthcare", "Manufacturing", "Education", ""]
COUNTRIES = ["United States"] * 6 + ["US", "United Kingdom", "Germany", "France", ""]
SOURCES = ["Web", "Partner Referral", "Trade Show", "Cold Call", "LinkedIn", "Advertisement", ""]
STATUSES = ["Open - Not Contacted"] * 5 + [
    "Working - Contacted",
    "Working - Contacted",
    "Qualified",
    "Closed - Not Converted",
    "Re-nurture",
]
SIZES = ["1-10", "11-50", "51-200", "201-500", "5000+", "250", "", "1,200"]
REVENUES = ["$2.5M", "1,200,000", "500000", "$750K", "", "", "10000000"]
US_AREAS = ["415", "212", "646", "312", "617", "206", "512", "303", "404", "305"]
BASE = datetime(2024, 1, 1, tzinfo=UTC)


def phone_for(i: int, country: str, rng: random.Random) -> str:
    """A valid number, unique per ``i``, written the way that country writes it."""
    if country == "United Kingdom":
        return f"+44 20 7{(i // 10000) % 1000:03d} {i % 10000:04d}"
    if country == "Germany":
        return f"+49 151 {i % 100000000:08d}"
    if country == "France":
        return f"+33 6 {i // 1000000 % 100:02d} {i // 10000 % 100:02d} {i // 100 % 100:02d} "
    area = US_AREAS[i % len(US_AREAS)]
    exchange = 200 + (i // 10000) % 800
    line = i % 10000
    style = rng.randrange(4)
    if style == 0:
        return f"({area}) {exchange}-{line:04d}"
    if style == 1:
        return f"+1 {area} {exchange} {line:04d}"
    if style == 2:
        return f"{area}.{exchange}.{line:04d}"
    return f"+1{area}{exchange}{line:04d}"


def row_for(i: int, rng: random.Random) -> list[str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(COMPANY_WORDS)} {i // 4} {rng.choice(SUFFIXES)}".strip()
    country = rng.choice(COUNTRIES)
    local = f"{first}.{last}.{i}".replace("'", "").replace(" ", "")
    email = f"{local}@{company.split()[0]}{i % 500}.com"
    if rng.random() < 0.2:
        email = email.title()
    phone = phone_for(i, country, rng) if rng.random() < 0.85 else ""
    if country == "France" and phone:
        phone = phone.rstrip() + f" {i % 100:02d}"
    created = BASE + timedelta(minutes=i * 5, seconds=rng.randrange(60))
    description = ""
    if rng.random() < 0.1:
        where = rng.choice(["expo", "webinar"])
        description = f"Met at the {where}, asked about pricing,\nfollow up"
    return [
        first,
        last,
        email,
        phone,
        company,
        rng.choice(TITLES),
        rng.choice(INDUSTRIES),
        country,
        rng.choice(SIZES),
        rng.choice(REVENUES),
        rng.choice(SOURCES),
        rng.choice(STATUSES),
        created.strftime("%Y-%m-%d %H:%M:%S"),
        description,
    ]


def write(path: Path, count: int, dup_rate: float = 0.05, bad_rate: float = 0.01) -> None:
    rng = random.Random(7)
    recent: list[list[str]] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(count):
            roll = rng.random()
            if roll < dup_rate and recent:
                row = list(rng.choice(recent))
                if rng.random() < 0.5:
                    row[2] = row[2].upper()  # same address, other case
                    row[3] = ""
                else:
                    row[2] = ""  # same phone, no email
                    row[9] = row[9] or "$1M"  # and something new to fill in
                    if not row[3]:
                        row[2] = recent[0][2]
            elif roll < dup_rate + bad_rate:
                row = row_for(i, rng)
                if rng.random() < 0.5:
                    row[0] = row[1] = ""  # no name
                else:
                    row[2], row[3] = "not-an-email", ""  # no usable contact
            else:
                row = row_for(i, rng)
                recent.append(row)
                if len(recent) > 1000:
                    recent.pop(0)
            writer.writerow(row)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--dup-rate", type=float, default=0.05)
    parser.add_argument("--bad-rate", type=float, default=0.01)
    args = parser.parse_args()
    write(args.file, args.count, args.dup_rate, args.bad_rate)
