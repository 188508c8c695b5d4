"""The import's fast normalisers agree with the ones `add` uses; cell and header rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl import normalize
from leadctl.errors import InvalidInput
from leadctl.exporting import tags_text
from leadctl.importing.headers import lookup, plan_columns
from leadctl.importing.rows import split_tags


def outcome(function, *args):  # noqa: ANN001, ANN201
    try:
        return function(*args)
    except InvalidInput:
        return "invalid"


local_chars = st.sampled_from(list("abcXYZ019._%+-!#'&*/=?^`{|}~éøŁ\u0301\u200b \"(),;:<>@[]\\"))
domain_chars = st.sampled_from(list("abcXYZ019-._éß"))
addresses = st.builds(
    lambda local, domain, tld: f"{local}@{domain}{tld}",
    st.text(local_chars, max_size=12),
    st.text(domain_chars, max_size=12),
    st.sampled_from([".com", ".CO", ".test", ".x1", "", ".de", ".localhost", ".onion", ".museum"]),
)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(addresses | st.emails() | st.text(max_size=20))
def test_fast_email_agrees_with_email_validator(address):
    assert outcome(normalize.normalize_email_fast, address) == outcome(
        normalize.normalize_email, address
    )


@pytest.mark.parametrize(
    "address",
    ["Info@Acme.COM", "POSTMASTER@x.org", "a..b@x.com", "Chloé.García@Acme.com", "e\u0301@x.com"],
)
def test_fast_email_known_cases(address):
    assert outcome(normalize.normalize_email_fast, address) == outcome(
        normalize.normalize_email, address
    )


codes = st.sampled_from(
    ["1", "44", "49", "33", "39", "54", "7", "86", "91", "61", "353", "52", "800"]
)
numbers = st.builds(
    lambda plus, code, rest, sep: plus + code + sep + rest,
    st.sampled_from(["+", "00", ""]),
    codes,
    st.text(st.sampled_from("0123456789"), min_size=4, max_size=13),
    st.sampled_from(["", " ", "-", " (0) "]),
)


@settings(max_examples=3000, deadline=None)
@given(numbers, st.sampled_from(["US", "GB", "DE", "CA"]))
def test_fast_phone_agrees_with_phonenumbers(number, region):
    assert outcome(normalize.normalize_phone_fast, number, region) == outcome(
        normalize.normalize_phone, number, region
    )


def _supported_regions() -> list[str]:
    import phonenumbers

    return sorted(phonenumbers.SUPPORTED_REGIONS)


def national_written(region: str, kind: int, tail: str, style: int) -> str:
    """A region's example number of one type, its last digits replaced, written as
    people there write it (national format), or with its trunk prefix doubled or
    dropped, or the calling code without ``+``: what a real export's phone column holds."""
    import phonenumbers

    example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(
        region
    )
    if example is None:
        return "0" + tail
    national = phonenumbers.national_significant_number(example)
    national = (national[: max(len(national) - len(tail), 1)] + tail)[:17]
    number = phonenumbers.parse(f"+{example.country_code}{national}")
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return [
        written,
        national,
        "0" + national,
        f"{example.country_code}{national}",
        written.replace(" ", "-"),
        "00" + national,
    ][style]


@settings(max_examples=4000, deadline=None)
@given(
    st.sampled_from(_supported_regions()),
    st.integers(0, 10),
    st.text(st.sampled_from("0123456789"), max_size=5),
    st.integers(0, 5),
)
def test_fast_national_phone_agrees_with_phonenumbers(region, kind, tail, style):
    """Numbers in national form, in every region phonenumbers knows: the fast path
    (a trunk 0 stripped where that is all the parser would do) equals the parser."""
    number = national_written(region, kind, tail, style)
    assert outcome(normalize.normalize_phone_fast, number, region) == outcome(
        normalize.normalize_phone, number, region
    )


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(_supported_regions()),
    st.text(st.sampled_from("0123456789"), min_size=1, max_size=17),
)
def test_fast_phone_agrees_with_phonenumbers_on_any_digits(region, digits):
    assert outcome(normalize.normalize_phone_fast, digits, region) == outcome(
        normalize.normalize_phone, digits, region
    )


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("06449361", "RW"),  # the rest is too short: the parser keeps the trunk 0
        ("00036703129287", "MW"),  # 00 then 0: no calling code starts with 0
        ("000031232618122", "TG"),
        ("0795 4959534", "GB"),
        ("612 34 56 78", "ES"),
        ("0660874644", "FR"),
        ("1-206-357-9782", "US"),
        ("0311234567", "JP"),
        ("010 1234 5678", "JP"),  # JP's international prefix
    ],
)
def test_fast_phone_known_cases(number, region):
    assert outcome(normalize.normalize_phone_fast, number, region) == outcome(
        normalize.normalize_phone, number, region
    )


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(_supported_regions()),
    st.sampled_from(["", "0", "00", "000", "+", "+0"]),
    st.text(st.sampled_from("0123456789"), min_size=1, max_size=15),
)
def test_fast_phone_agrees_with_phonenumbers_after_any_prefix(region, prefix, digits):
    assert outcome(normalize.normalize_phone_fast, prefix + digits, region) == outcome(
        normalize.normalize_phone, prefix + digits, region
    )


def test_uk_is_great_britain():
    """ "UK" is the name people write, not an ISO code (GB): a phone column's numbers
    parse for GB."""
    assert normalize.country_code("UK") == "GB"
    assert normalize.region_for("uk") == "GB"
    assert normalize.country_code("DE") == "DE"


main_regions = st.sampled_from(
    ["US", "CA", "GB", "DE", "FR", "IT", "AR", "RU", "CN", "IN", "AU", "IE", "MX", "JP", "BR", "NL"]
)


digit_strings = st.text(st.sampled_from("0123456789"), min_size=1, max_size=17)


def example_national(region: str, kind: int, tail: str) -> str:
    """A region's example number of one type, its last digits replaced: near-valid numbers."""
    import phonenumbers

    example = phonenumbers.example_number_for_type(region, kind)
    digits = phonenumbers.national_significant_number(example) if example else "12345"
    return (digits[: max(len(digits) - len(tail), 1)] + tail)[:17]


@settings(max_examples=3000, deadline=None)
@given(
    main_regions,
    digit_strings | st.builds(str, st.integers(0, 1)),
    st.integers(0, 10),
    st.text(st.sampled_from("0123456789"), max_size=4),
    st.booleans(),
)
def test_region_validity_agrees_with_phonenumbers(region, digits, kind, tail, near):
    """The two-pattern check equals phonenumbers' own, for random and near-valid numbers."""
    import phonenumbers

    national = example_national(region, kind, tail) if near else digits
    code = phonenumbers.country_code_for_region(region)
    number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
    zeros = len(national) - len(national.lstrip("0"))
    if zeros == len(national):
        return
    if zeros:
        number.italian_leading_zero = True
        number.number_of_leading_zeros = zeros
    assert normalize._valid_in_region(code, region, national) == (
        phonenumbers.is_valid_number_for_region(number, region)
    )


@pytest.mark.parametrize(
    ("text", "comma", "amount"),
    [
        ("$2.5M", False, 2_500_000),
        ("1,200,000", False, 1_200_000),
        ("1.234.567,89", True, 1_234_567.89),
        ("2,5", True, 2.5),
        ("1,234,567", True, 1_234_567),
        ("6.28123E+12", False, 6_281_230_000_000),
        ("12 000 €", True, 12_000),
        ("€1.5K", False, 1_500),
    ],
)
def test_lenient_money(text, comma, amount):
    assert normalize.parse_money_lenient(text, "revenue", decimal_comma=comma) == amount


@pytest.mark.parametrize("text", ["lots", "-5", "nan", "inf", ""])
def test_lenient_money_refuses(text):
    with pytest.raises(InvalidInput):
        normalize.parse_money_lenient(text, "revenue")


@given(st.text())
def test_formula_guard_round_trips_and_is_safe(text):
    guarded = normalize.guard_formula(text)
    assert normalize.unguard_formula(guarded) == text
    assert not guarded.startswith(normalize.FORMULA_TRIGGERS)


@given(st.lists(st.text().map(str.strip).filter(bool), unique=True, max_size=5))
def test_tags_text_reads_back(tags):
    assert split_tags(tags_text(tags)) == tags if tags else tags_text(tags) == ""


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail Address", "email"),
        ("EMAILADDRESS", "email"),
        ("Person - Email - Work", "email"),
        ("Person - Name", "name"),
        ("Person - Organization", "company"),
        ("No. of Employees", "company_size"),
        ("Country/Region", "country"),
        ("CreatedDate", "created_at"),
        ("Connected On", "created_at"),
        ("\ufeffName", "name"),
        ("Lead - Title", None),
        ("Record ID", None),
        ("Contact owner", None),
        ("Person - Owner", None),
        ("owner", "owner"),
    ],
)
def test_header_synonyms(header, field):
    found = lookup(header)
    assert (found[0] if found else None) == field


def test_title_is_a_salutation_when_job_title_is_there():
    plan = plan_columns(["Title", "First Name", "Last Name", "Job Title", "E-mail Address"])
    assert plan.columns["title"] == [3]
    assert (0, "Title") in plan.custom


def test_another_tools_id_is_a_custom_field_but_leadctls_own_is_kept():
    assert "id" not in plan_columns(["id", "name", "email"]).columns
    export = plan_columns(
        ["id", "name", "email", "score_adjustment", "created_at", "updated_at", "fields"]
    )
    assert export.leadctl_export and export.columns["id"] == [0]
