"""Property and example tests of the normalisers (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl import clock, normalize
from leadctl.errors import InvalidInput

local_part = st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda s: ".." not in s
)
# A label with "--" in its third and fourth places is reserved for Punycode
# (RFC 5891): email-validator rightly refuses ``a0--0.com``.
domain = st.from_regex(
    r"[a-z][a-z0-9-]{0,15}[a-z0-9]\.(com|org|io|de|co\.uk)", fullmatch=True
).filter(lambda s: s[2:4] != "--")


@given(local_part, domain)
def test_valid_emails_normalise_idempotently(local, dom):
    stored = normalize.normalize_email(f"  {local}@{dom.upper()} ")
    assert stored == f"{local}@{dom}"
    assert normalize.normalize_email(stored) == stored
    assert normalize.email_key(stored.upper()) == normalize.email_key(stored)


@given(st.text(max_size=40))
def test_email_either_normalises_or_raises_invalid_input(text):
    try:
        stored = normalize.normalize_email(text)
    except InvalidInput as error:
        assert "invalid email" in str(error)
    else:
        assert "@" in stored and stored == stored.strip()


US_NUMBERS = st.integers(min_value=2_000_000, max_value=9_999_999).map(lambda n: f"415{n}")


NOTATIONS = [
    lambda d: d,
    lambda d: f"({d[:3]}) {d[3:6]}-{d[6:]}",
    lambda d: f"+1 {d}",
    lambda d: f"001{d}",
    lambda d: f"011 1 {d}",
    lambda d: f"{d[:3]}.{d[3:6]}.{d[6:]}",
]


@given(US_NUMBERS, st.sampled_from(NOTATIONS))
def test_us_numbers_in_any_notation_give_one_e164(digits, notation):
    text = notation(digits)
    try:
        e164, ext = normalize.normalize_phone(text, "US")
    except InvalidInput:
        assert not phonenumbers.is_valid_number(phonenumbers.parse("+1" + digits))
        return
    assert e164 == "+1" + digits
    assert ext is None
    assert normalize.normalize_phone(e164, "DE")[0] == e164  # E.164 ignores the region


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+44 20 7946 0958", "US", ("+442079460958", None)),
        ("0044 20 7946 0958", "US", ("+442079460958", None)),
        ("011 44 20 7946 0958", "US", ("+442079460958", None)),
        ("030 1234567", "DE", ("+49301234567", None)),
        ("(415) 555-0100 x12", "US", ("+14155550100", "12")),
        ("'+33 6 12 34 56 78", "US", ("+33612345678", None)),
    ],
)
def test_phone_examples(text, region, expected):
    assert normalize.normalize_phone(text, region) == expected


@given(st.text(alphabet="0123456789 -()+x", max_size=6))
def test_short_junk_phones_are_refused(text):
    with pytest.raises(InvalidInput):
        normalize.normalize_phone(text, "US")


def test_region_chain(monkeypatch):
    monkeypatch.delenv("LEADCTL_REGION", raising=False)
    assert normalize.region_for(None) == "US"
    assert normalize.region_for(None, "FR") == "FR"
    monkeypatch.setenv("LEADCTL_REGION", "de")
    assert normalize.region_for(None, "FR") == "DE"
    assert normalize.region_for("United Kingdom", "FR") == "GB"
    assert normalize.region_for("nz") == "NZ"


@given(
    st.integers(min_value=0, max_value=10**9),
    st.sampled_from(["{}", "{:,}", "{}+", "{}-99999999999"]),
)
def test_counts_take_the_lower_bound(n, pattern):
    assert normalize.parse_count(pattern.format(n), "size") == n


@pytest.mark.parametrize(
    ("text", "amount"),
    [("2500000", 2.5e6), ("$2.5M", 2.5e6), ("1,200,000", 1.2e6), ("€300k", 3e5), ("1.5B", 1.5e9),
     ("USD 40000", 4e4), ("12 000 £", 1.2e4)],
)  # fmt: skip
def test_money(text, amount):
    assert normalize.parse_money(text, "revenue") == amount


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False).map(lambda f: round(f, 2)))
def test_money_round_trips_plain_numbers(value):
    assert normalize.parse_money(f"{value}", "revenue") == pytest.approx(value)


def test_company_key_ignores_case_punctuation_and_legal_suffix():
    keys = {normalize.company_key(c) for c in ("Acme Inc.", "ACME, inc", "acme", "Acme GmbH")}
    assert keys == {"acme"}
    assert normalize.company_key("Acme Robotics") != normalize.company_key("Acme")


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday: LEADCTL_NOW of every test


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=500), st.sampled_from("mhdw"))
def test_offsets_are_relative_to_now(amount, unit):
    step = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
            "w": timedelta(weeks=1)}[unit]  # fmt: skip
    assert clock.parse_when(f"+{amount}{unit}") == NOW + amount * step


@given(st.sampled_from(clock._WEEKDAYS), st.integers(0, 23), st.integers(0, 59))
def test_weekday_is_the_next_occurrence_within_a_week(day, hour, minute):
    when = clock.parse_when(f"{day} {hour:02d}:{minute:02d}")
    assert NOW < when <= NOW + timedelta(days=7)
    assert when.strftime("%A").lower() == day
    assert (when.hour, when.minute) == (hour, minute)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_iso_times_round_trip(value):
    aware = value.replace(tzinfo=UTC, microsecond=0)
    assert clock.parse_when(aware.isoformat()) == aware
    assert clock.parse_when(clock.iso(aware)) == aware


@pytest.mark.parametrize("text", ["", "soon", "today 25:00", "tomorrow at noon", "+3y"])
def test_bad_times_name_the_accepted_forms(text):
    with pytest.raises(InvalidInput):
        clock.parse_when(text)


def test_bad_leadctl_now_is_invalid_input(monkeypatch):
    monkeypatch.setenv("LEADCTL_NOW", "yesterday-ish")
    with pytest.raises(InvalidInput, match="LEADCTL_NOW"):
        clock.now()
