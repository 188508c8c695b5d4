"""Write a CSV shaped like a real CRM export of N leads (issue 13's benchmark file).

    python benchmarks/make_real.py FILE N

``make_csv.py`` writes tidy rows: nearly every company different, phones in a
few formats, no warnings. Real exports are not like that, and what differs
is what costs: this file has

- companies that repeat: about one company per 33 rows, sized by a Zipf law,
  so the largest accounts hold hundreds to thousands of leads (more as the
  file grows, as in life); names with punctuation, quotes and line breaks;
- names from a large pool (thousands of first/last pairs), so two people of
  one big account rarely share a name, as in a real account;
- phones from 24 countries, national and international formats, some with
  extensions, a country column (name or code), and about 7 % that do not
  parse for their region;
- about 10 % of rows that warn (that phone, a date that does not parse or a
  sentinel date, a status or rating outside the list, a revenue written
  ``3.400.000 €``), about 1.5 % rejected
  (no name, or only placeholder contacts), about 5 % repeating an earlier
  person (email in another case or with a ``+tag``, the same phone written
  another way, the same company and a similar name);
- blank markers (``-``, ``n/a``, ``N/A``), revenue as ``$2.5M`` or ``1,200,000``;
- notes of a few hundred characters with commas, quotes and newlines.

Deterministic (seeded); about 330 bytes a row.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import random
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

HEADER = [
    "Lead ID",
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
    "Rating",
    "Created Date",
    "Description",
]
FIRST = (
    "Ada Grace Alan Edsger Barbara Donald Ken Dennis Linus Guido Margaret Katherine Sofia "
    "Lucas Mia Noah Emma Liam Olivia Mateo Chloé Björn Zoë José Anaïs Łukasz John Mary "
    "James Patricia Robert Jennifer Michael Linda William Elizabeth David Susan Richard "
    "Jessica Joseph Sarah Thomas Karen Charles Nancy Christopher Lisa Daniel Betty Matthew "
    "Sandra Anthony Ashley Mark Kimberly Paul Donna Steven Emily Andrew Michelle Kenneth "
    "Carol Joshua Amanda Kevin Melissa Brian Deborah George Stephanie Timothy Rebecca Ronald "
    "Laura Jason Helen Jeffrey Sharon Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Shirley "
    "Eric Angela Jonathan Anna Hiroshi Yuki Wei Mei Arjun Priya Mohammed Fatima Olu Chiamaka "
    "Sven Ingrid Pierre Camille Giulia Marco Ewa Piotr Ahmet Elif Dmitri Olga Ana João Lars"
).split()
LAST_HEADS = (
    "Lind Berg Holm Sand Öst Nord Hag Ek Fager Stén Mac O' Van Fitz Del Ross Kowal Nowak "
    "Schmid Müll Wagn Beck Hoff Schul Kel Rich Lang Fisch Web Mey Garc Rodr Fern Lop Mart "
    "Gonz Sanch Per Gom Tan Yam Nak Kob Sato Suzu Chen Wang Li Zhang Pat Shar Gup Sing"
).split()
LAST_TAILS = (
    "son sen ström qvist man mann er ez es ia ini elli ski ak ov ova berg stein feld ford "
    "ley ton wood field moto shi ura ta ng hi ao el ez a o ière ard"
).split()
COMPANY_HEADS = (
    "Acme Globex Initech Umbrella Hooli Stark Wayne Wonka Soylent Tyrell Cyberdyne Aperture "
    "Vandelay Pied Piper Monarch Nakatomi Oscorp Gringotts Duff Krusty Bluth Dunder Sterling "
    "Prestige Massive Virtucon Genco Oceanic Weyland Zorg Blue Sun Kiwi Nordwind Fjord Alpen "
    "Sakura Lotus Condor Jaguar Atlas Orion Vega Helios Boreal Sierra"
).split()
COMPANY_MIDS = (
    "Dynamics Systems Labs Holdings Analytics Logistics Foods Energy Health Capital Media "
    "Robotics Textiles Pharma Motors Software Consulting Partners Ventures Industries"
).split()
SUFFIXES = ["Inc.", "LLC", "Ltd", "GmbH", "", "", "", "Corp.", "S.A.", "AB", "K.K.", "plc"]
TITLES = ["CEO", "CTO", "VP Sales", "Head of Marketing", "Engineer", "Analyst", "Director", ""]
INDUSTRIES = ["Software", "Retail", "Finance", "Healthcare", "Manufacturing", "Education", "", "-"]
SOURCES = ["Web", "Partner Referral", "Trade Show", "Cold Call", "LinkedIn", "Advertisement", ""]
STATUSES = ["Open - Not Contacted"] * 6 + [
    "Working - Contacted",
    "Working - Contacted",
    "Qualified",
    "Closed - Not Converted",
    "Re-nurture",
    "",
]
RATINGS = ["Hot", "Warm", "Cold", "", "", "", "n/a"]
SIZES = ["1-10", "11-50", "51-200", "201-500", "5000+", "250", "", "1,200", "N/A"]
REVENUES = ["$2.5M", "1,200,000", "500000", "$750K", "", "", "10000000", "-", "€3.4M"]
# (ISO region, what the country column says, phone formats: N national, I international,
# E E.164, D dots, H hyphens-with-trunk); the column is a name, a code or blank
COUNTRIES = [
    ("US", ["United States", "USA", "US", ""], "NIEDH"),
    ("CA", ["Canada", "CA"], "NIE"),
    ("GB", ["United Kingdom", "UK", "GB"], "NIE"),
    ("DE", ["Germany", "Deutschland", "DE"], "NIE"),
    ("FR", ["France", "FR"], "NIE"),
    ("ES", ["Spain", "España", "ES"], "NIE"),
    ("IT", ["Italy", "IT"], "NIE"),
    ("NL", ["Netherlands", "NL"], "NI"),
    ("SE", ["Sweden", "SE"], "NI"),
    ("PL", ["Poland", "PL"], "NI"),
    ("CH", ["Switzerland", "CH"], "NI"),
    ("AT", ["Austria", "AT"], "NI"),
    ("IE", ["Ireland", "IE"], "NI"),
    ("PT", ["Portugal", "PT"], "NI"),
    ("BR", ["Brazil", "BR"], "NI"),
    ("MX", ["Mexico", "MX"], "NI"),
    ("AR", ["Argentina", "AR"], "NI"),
    ("IN", ["India", "IN"], "NIE"),
    ("JP", ["Japan", "JP"], "NI"),
    ("AU", ["Australia", "AU"], "NIE"),
    ("NZ", ["New Zealand", "NZ"], "NI"),
    ("ZA", ["South Africa", "ZA"], "NI"),
    ("NG", ["Nigeria", "NG"], "NI"),
    ("SG", ["Singapore", "SG"], "NI"),
]
COUNTRY_WEIGHTS = [40, 5, 10, 8, 6, 3, 3, 2, 2, 2, 2, 1, 2, 1, 3, 2, 1, 3, 2, 2, 1, 1, 1, 1]
NANP_AREAS = ["512", "408", "206", "415", "212", "646", "312", "617", "303", "404", "305", "713"]
BAD_PHONES = ["12345", "555-CALL-NOW", "n/a", "0", "+1 (555) 01", "call reception", "tbd"]
PLACEHOLDER_EMAILS = ["test@test.com", "none@none.com", "a@a.com", "noemail@example.com"]
BAD_DATES = ["31/02/2024", "sometime in May", "2024-13-45", "??"]
SENTINEL_DATES = ["1900-01-01", "0000-00-00", "1970-01-01 00:00:00", "9999-12-31"]
NOTE_WORDS = (
    'called, left voicemail; asked about "enterprise" pricing, wants a demo next week '
    "budget approved Q3 decision maker is the CFO, not the CTO; send the deck follow up "
    "after the conference met at the booth, interested in the API integration"
).split()
BASE = datetime(2022, 1, 1, tzinfo=UTC)
ROWS_PER_COMPANY = 33


@cache
def _phone_lib():  # type: ignore[no-untyped-def]
    import phonenumbers

    return phonenumbers


@cache
def _template(region: str) -> tuple[int, str]:
    """The country calling code and a valid national number (mobile, else fixed) to vary."""
    lib = _phone_lib()
    example = lib.example_number_for_type(region, lib.PhoneNumberType.MOBILE)
    if example is None:
        example = lib.example_number(region)
    return example.country_code, str(example.national_number)


def phone_for(i: int, region: str, style: str, rng: random.Random) -> str:
    """A valid number of ``region`` for person ``i``, written in ``style``."""
    lib = _phone_lib()
    code, national = _template(region)
    if code == 1:  # NANP: real area codes and exchanges, never 555
        area = NANP_AREAS[i % len(NANP_AREAS)] if region == "US" else rng.choice(["416", "604"])
        number = lib.parse(f"+1{area}{200 + (i // 10000) % 700 + (i % 7 == 5)}{i % 10000:04d}")
    else:
        for attempt in range(20):
            tail = f"{(i * 7919 + attempt * 104729) % 1000000:06d}"
            number = lib.parse(f"+{code}{national[:-6]}{tail}")
            if lib.is_valid_number(number):
                break
        else:
            number = lib.parse(f"+{code}{national}")
    if style == "N":
        text = lib.format_number(number, lib.PhoneNumberFormat.NATIONAL)
    elif style == "I":
        text = lib.format_number(number, lib.PhoneNumberFormat.INTERNATIONAL)
    elif style == "E":
        text = lib.format_number(number, lib.PhoneNumberFormat.E164)
    elif style == "D":  # 408.988.1024
        digits = str(number.national_number)
        text = f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    else:  # 1-206-357-9782
        digits = str(number.national_number)
        text = f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if rng.random() < 0.03:
        text += rng.choice([" ext. 12", " x204", " ext 7"])
    return text


def company_names(count: int, rng: random.Random) -> list[str]:
    names = []
    for k in range(count):
        head = rng.choice(COMPANY_HEADS)
        mid = rng.choice(COMPANY_MIDS)
        name = f"{head} {mid} {k}".strip()
        roll = rng.random()
        if roll < 0.05:
            name = f'{head} "{mid}" {k}'
        elif roll < 0.08:
            name = f"{head} & {mid}, {k}"
        elif roll < 0.10:
            name = f"{head} {mid}\nEurope {k}"
        elif roll < 0.13:
            name = f"O'{head} {mid} {k}"
        names.append(f"{name} {rng.choice(SUFFIXES)}".strip())
    return names


def zipf_table(count: int, exponent: float = 0.8) -> list[float]:
    """Cumulative weights of ``count`` companies sized by a Zipf law."""
    return list(itertools.accumulate(1 / (k + 1) ** exponent for k in range(count)))


def person(rng: random.Random) -> tuple[str, str]:
    first = rng.choice(FIRST)
    last = rng.choice(LAST_HEADS) + rng.choice(LAST_TAILS)
    if rng.random() < 0.3:
        last = f"{last}-{rng.choice(LAST_HEADS)}{rng.choice(LAST_TAILS)}"
    return first, last


def note(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(["", "", "-", "n/a"]) if roll < 0.1 else ""
    words = rng.choices(NOTE_WORDS, k=rng.randrange(25, 60))
    text = " ".join(words)
    cut = rng.randrange(len(text) // 3, len(text))
    return f"{text[:cut]}\n{text[cut:]}" if rng.random() < 0.5 else text


def row_for(
    i: int, rng: random.Random, companies: list[str], table: list[float]
) -> tuple[list[str], str]:
    """A new person's row, and the phone region used."""
    k = bisect.bisect(table, rng.random() * table[-1])
    company = companies[min(k, len(companies) - 1)]
    first, last = person(rng)
    region, names, styles = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
    country = rng.choice(names)
    domain = "".join(c for c in company.split()[0].casefold() if c.isalnum()) or "mail"
    local = f"{first}.{last}".casefold().replace("'", "").replace(" ", "")
    email = f"{local}.{i}@{domain}{k}.com"
    if rng.random() < 0.15:
        email = email.title()
    if rng.random() < 0.05:
        email = f"{local}{i}@gmail.com"
    phone = ""
    if rng.random() < 0.85:
        phone = phone_for(i, region, rng.choice(styles), rng)
    created = BASE + timedelta(minutes=i * 3, seconds=rng.randrange(60))
    row = [
        f"00Q{i:012d}" if rng.random() < 0.9 else "",
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
        rng.choice(RATINGS),
        created.strftime("%Y-%m-%d %H:%M:%S" if rng.random() < 0.7 else "%m/%d/%Y %I:%M %p"),
        note(rng),
    ]
    return row, region


def warn(row: list[str], rng: random.Random) -> None:
    """Make the row warn, as one row in ten of a real export does."""
    roll = rng.random()
    if roll < 0.6:
        row[4] = rng.choice(BAD_PHONES) if roll < 0.2 else row[4][:-3] or "555"  # too short
    elif roll < 0.75:
        row[14] = rng.choice(BAD_DATES)
    elif roll < 0.85:
        row[14] = rng.choice(SENTINEL_DATES)
    elif roll < 0.92:
        row[12] = rng.choice(["Zombie", "On Hold - Legal", "Stalled"])
    elif roll < 0.96:
        row[13] = rng.choice(["Burning", "Lukewarm"])
    else:
        row[10] = rng.choice(["€ 3,4 Mio", "3.400.000 €", "lots"])


def duplicate(earlier: list[str], rng: random.Random) -> list[str]:
    """An earlier person again, as real exports repeat them."""
    row = list(earlier)
    row[0] = ""  # another system's copy: no record id
    roll = rng.random()
    if roll < 0.3:
        row[3] = row[3].upper()  # email in another case
    elif roll < 0.5 and "@" in row[3]:
        local, _, domain = row[3].partition("@")
        row[3] = f"{local}+crm@{domain}"  # a +tag: same person by company and name
    elif roll < 0.75 and row[4]:
        row[3] = ""  # same phone, written another way
        digits = "".join(c for c in row[4] if c.isdigit() or c == "+")
        row[4] = digits if row[4] != digits else f"{digits[:4]} {digits[4:]}"
        row[10] = row[10] or "$1M"
    else:
        row[3] = ""  # same company, a similar name
        row[1] = row[1][:-1] if len(row[1]) > 4 else f"{row[1]}e"
    return row


def reject(row: list[str], rng: random.Random) -> None:
    if rng.random() < 0.5:
        row[1] = row[2] = ""  # no name
        row[3] = row[3] if rng.random() < 0.5 else ""
        row[4] = ""
        row[5] = ""
    else:
        row[3] = rng.choice(PLACEHOLDER_EMAILS)  # placeholder contacts only
        row[4] = ""


def write(path: Path, count: int) -> None:
    rng = random.Random(13)
    companies = company_names(max(1, count // ROWS_PER_COMPANY), rng)
    table = zipf_table(len(companies))
    recent: list[list[str]] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(count):
            roll = rng.random()
            if roll < 0.05 and recent:
                row = duplicate(rng.choice(recent), rng)
            else:
                row, _ = row_for(i, rng, companies, table)
                if roll < 0.06:
                    reject(row, rng)
                else:
                    if roll < 0.16:
                        warn(row, rng)
                    recent.append(row)
                    if len(recent) > 2000:
                        recent.pop(0)
            writer.writerow(row)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    write(args.file, args.count)
