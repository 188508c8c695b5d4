"""Each rule kind, and the caps, floors, lift, clamp and bands at their edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadctl.scoring.evaluate import decay_milli, explain
from leadctl.scoring.rules import RuleSet, default_text, parse

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BASE = """
[bands]
warm = 31
hot = 70
[demographic]
cap = 40
[behavioral]
cap = 40
half_life_days = 10
[firmographic]
cap = 20
"""


def ruleset(extra: str = "", base: str = BASE) -> RuleSet:
    return parse(base + extra, "test")


def score(
    rules: RuleSet,
    adjustment: int = 0,
    engagements: list[tuple[str, datetime]] | None = None,
    **facts: Any,
) -> Any:
    result = explain(rules, facts.get, engagements or [], adjustment=adjustment, now=NOW, lead_id=1)
    assert sum(line.points for line in result.lines) + result.adjustment == result.score
    return result


def rule(component: str, name: str, test: str, points: int, group: str | None = None) -> str:
    grouped = f'group = "{group}"\n' if group else ""
    return f'[[{component}.rules]]\nname = "{name}"\n{grouped}{test}\npoints = {points}\n'


# ── one test of each kind ──────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("title", "fires"),
    [
        ("CTO", True),
        ("cto, Acme", True),
        ("Co-CTO", True),
        ("Director", False),  # "cto" inside a word does not count
        ("Vice  President", True),  # whitespace runs are one space
        ("VICE PRESIDENT SALES", True),
        ("Präsident", False),
        ("", False),
        (None, False),
    ],
)
def test_words_match_whole_words_ignoring_case(title, fires):
    rules = ruleset(rule("demographic", "Senior", 'title.words = ["cto", "vice president"]', 7))
    assert score(rules, title=title).score == (7 if fires else 0)


def test_words_fold_unicode_case():
    rules = ruleset(rule("demographic", "Chef", 'title.words = ["geschäftsführer"]', 5))
    assert score(rules, title="GESCHÄFTSFÜHRER").score == 5


@pytest.mark.parametrize(
    ("country", "fires"), [("US", True), ("us", True), ("United  States", True), ("USA", False)]
)
def test_in_matches_whole_values_ignoring_case(country, fires):
    rules = ruleset(rule("demographic", "Home", 'country.in = ["US", "United States"]', 4))
    assert score(rules, country=country).score == (4 if fires else 0)


@pytest.mark.parametrize(
    ("size", "points"), [(None, 0), (9, 0), (10, 2), (49, 2), (50, 4), (199, 4), (200, 0)]
)
def test_number_ranges_include_at_least_and_exclude_below(size, points):
    rules = ruleset(
        rule("firmographic", "Small", "company_size = { at_least = 10, below = 50 }", 2, "size")
        + rule("firmographic", "Mid", "company_size = { at_least = 50, below = 200 }", 4, "size")
    )
    assert score(rules, company_size=size).score == points


@pytest.mark.parametrize(("authority", "points"), [(True, 10), (False, -3), (None, 0)])
def test_is_tests_yes_and_no_and_unknown_matches_neither(authority, points):
    rules = ruleset(
        rule("demographic", "Boss", "authority.is = true", 10)
        + rule("demographic", "Not boss", "authority.is = false", -3)
    )
    result = score(rules, authority=authority)
    assert sum(line.points for line in result.lines if line.component == "demographic") == (
        points if points >= 0 else 0
    )


@pytest.mark.parametrize(
    ("days", "fires"), [(-1, False), (0, True), (90, True), (91, False), (None, False)]
)
def test_within_days_counts_from_today_to_n_days_ahead(days, fires):
    rules = ruleset(rule("demographic", "Soon", "timeline.within_days = 90", 5))
    timeline = None if days is None else NOW.date() + timedelta(days=days)
    assert score(rules, timeline=timeline).score == (5 if fires else 0)


@pytest.mark.parametrize(("need", "fires"), [("a CRM", True), ("", False), (None, False)])
def test_present_means_set_and_not_empty(need, fires):
    rules = ruleset(
        rule("demographic", "Need", "need.present = true", 5)
        + rule("demographic", "No need", "need.present = false", 1)
    )
    assert score(rules, need=need).score == (5 if fires else 1)


def test_all_tests_of_a_rule_must_hold():
    rules = ruleset(
        rule(
            "firmographic",
            "Big bank",
            'industry.words = ["banking"]\ncompany_size.at_least = 500',
            9,
        )
    )
    assert score(rules, industry="Banking", company_size=800).score == 9
    assert score(rules, industry="Banking", company_size=100).score == 0
    assert score(rules, industry="Retail", company_size=800).score == 0


def test_first_rule_of_a_group_wins_and_ungrouped_rules_add_up():
    rules = ruleset(
        rule("demographic", "VP", 'title.words = ["vp"]', 15, "seniority")
        + rule("demographic", "President", 'title.words = ["president"]', 20, "seniority")
        + rule("demographic", "Any title", "title.present = true", 1)
    )
    result = score(rules, title="VP, Vice President")
    assert [(line.rule, line.points) for line in result.lines] == [("VP", 15), ("Any title", 1)]
    assert score(rules, title="President").score == 21


# ── behaviour: points per kind, decay, per-kind max ───────────────────────────


def test_engagement_points_decay_by_half_life():
    rules = ruleset("[behavioral.kinds]\nmeeting = 20\n")
    assert score(rules, engagements=[("meeting", NOW)]).score == 20
    assert score(rules, engagements=[("meeting", NOW - timedelta(days=10))]).score == 10
    assert score(rules, engagements=[("meeting", NOW - timedelta(days=20))]).score == 5
    assert score(rules, engagements=[("meeting", NOW - timedelta(days=400))]).score == 0
    future = score(rules, engagements=[("meeting", NOW + timedelta(days=5))])
    assert future.score == 20  # a future-dated activity counts as new, never more


def test_decay_rounds_the_sum_of_a_kind_not_each_activity():
    rules = ruleset("[behavioral.kinds]\npage_view = 1\n")
    old = NOW - timedelta(days=10)  # each worth 0.5
    result = score(rules, engagements=[("page_view", old)] * 3)
    assert result.score == 2  # 1.5 rounds half up
    assert [line.rule for line in result.lines] == ["page_view ×3"]


def test_a_kinds_max_and_unlisted_kinds_are_ignored():
    rules = ruleset("[behavioral.kinds]\nemail_open = { points = 2, max = 5 }\n")
    result = score(rules, engagements=[("email_open", NOW)] * 4 + [("task", NOW)])
    assert [(line.rule, line.points) for line in result.lines] == [("email_open ×4 (max 5)", 5)]


def test_decay_milli_is_whole_thousandths():
    assert decay_milli(3, 0, 86400) == 3000
    assert decay_milli(3, 86400, 86400) == 1500
    assert decay_milli(1, -50, 86400) == 1000


# ── caps, floors, lift, clamp, bands ──────────────────────────────────────────


def test_component_cap_is_shown_as_a_negative_line():
    rules = ruleset(
        rule("demographic", "A", "title.present = true", 30)
        + rule("demographic", "B", "title.present = true", 25)
    )
    result = score(rules, title="x")
    assert result.components["demographic"] == 40
    assert result.lines[-1].label == "demographic: cap at 40"
    assert result.lines[-1].points == -15


def test_component_exactly_at_cap_has_no_cap_line():
    rules = ruleset(rule("firmographic", "A", "industry.present = true", 20))
    result = score(rules, industry="x")
    assert result.components["firmographic"] == 20
    assert [line.rule for line in result.lines] == ["A"]


def test_negative_component_is_floored_at_zero_with_a_line():
    rules = ruleset(rule("demographic", "Intern", 'title.words = ["intern"]', -10))
    result = score(rules, title="Intern")
    assert result.components["demographic"] == 0
    assert [(line.rule, line.points) for line in result.lines] == [
        ("Intern", -10),
        ("floor at 0", 10),
    ]


def test_behavioral_cap():
    rules = ruleset("[behavioral.kinds]\nmeeting = 15\n")
    result = score(rules, engagements=[("meeting", NOW)] * 3)
    assert result.components["behavioral"] == 40
    assert result.lines[-1].label == "behavioral: cap at 40"


@pytest.mark.parametrize(
    ("adjustment", "expected", "clamp"),
    [(50, 100, None), (51, 100, -1), (-50, 0, None), (-51, 0, 1), (-60, 0, 10)],
)
def test_total_is_clamped_to_0_100_with_a_line(adjustment, expected, clamp):
    rules = ruleset(
        rule("demographic", "D", "title.present = true", 40)
        + rule("firmographic", "F", "title.present = true", 10)
    )
    result = score(rules, adjustment, title="x")  # 50 from rules
    assert result.score == expected
    clamps = [line.points for line in result.lines if line.component == "total"]
    assert clamps == ([] if not clamp else [clamp])


@pytest.mark.parametrize(
    ("points", "band"), [(0, "cold"), (30, "cold"), (31, "warm"), (69, "warm"), (70, "hot")]
)
def test_bands_at_their_edges(points, band):
    result = score(ruleset(), points)
    assert (result.score, result.band) == (points, band)
    assert score(ruleset(), 100).band == "hot"


def test_bands_come_from_the_file():
    rules = ruleset(base=BASE.replace("warm = 31", "warm = 10").replace("hot = 70", "hot = 20"))
    assert [score(rules, n).band for n in (9, 10, 19, 20)] == ["cold", "warm", "warm", "hot"]


HOT = """
[[hot_eligible]]
name = "BANT"
budget.at_least = 1
authority.is = true
need.present = true
timeline.within_days = 90
deal_value.at_least = 10000
"""
BANT = {
    "budget": 5000.0,
    "authority": True,
    "need": "a CRM",
    "timeline": date(2027, 1, 15),
    "deal_value": 25000.0,
}


def test_hot_eligible_lifts_to_the_hot_threshold():
    result = score(ruleset(HOT), **BANT)
    assert (result.score, result.band) == (70, "hot")
    assert [(line.label, line.points) for line in result.lines] == [
        ("hot-eligible: BANT (lifted to 70)", 70)
    ]


@pytest.mark.parametrize("missing", sorted(BANT))
def test_hot_eligible_needs_every_bant_test(missing):
    assert score(ruleset(HOT), **(BANT | {missing: None})).score == 0


def test_hot_eligible_small_deal_or_late_timeline_is_not_enough():
    assert score(ruleset(HOT), **(BANT | {"deal_value": 9999.0})).score == 0
    assert score(ruleset(HOT), **(BANT | {"timeline": date(2027, 3, 1)})).score == 0


def test_hot_eligible_already_hot_adds_nothing_and_adjustment_still_applies():
    rules = ruleset(
        HOT
        + rule("demographic", "D", "need.present = true", 40)
        + rule("firmographic", "F", "need.present = true", 20)
        + "[behavioral.kinds]\nmeeting = 40\n"
    )
    result = score(rules, engagements=[("meeting", NOW)], **BANT)
    assert result.score == 100
    assert result.lines[-1].label == "hot-eligible: BANT (already hot)"
    assert score(ruleset(HOT), -20, **BANT).score == 50  # a person can overrule the lift


def test_explanation_json_shape():
    data = score(ruleset(HOT), 3, **BANT).to_dict()
    assert list(data) == ["id", "score", "band", "components", "adjustment", "rules"]
    assert list(data["components"]) == ["demographic", "behavioral", "firmographic"]
    assert data["rules"] == [{"rule": "hot-eligible: BANT (lifted to 70)", "points": 70}]
    assert data["score"] == 73 and data["adjustment"] == 3


# ── properties ────────────────────────────────────────────────────────────────

DEFAULT = parse(default_text(), "default")
TITLES = ["CEO", "VP Sales", "Intern", "Director", "Team Lead", "Engineer", "", None]
texts = st.one_of(st.none(), st.sampled_from(TITLES), st.text(max_size=20))
leads = st.fixed_dictionaries(
    {
        "title": texts,
        "country": st.one_of(st.none(), st.sampled_from(["US", "Germany", "fr", "Peru"])),
        "industry": st.one_of(st.none(), st.sampled_from(["Software", "Retail", "Mining"])),
        "company_size": st.one_of(st.none(), st.integers(0, 100_000)),
        "annual_revenue": st.one_of(st.none(), st.floats(0, 1e9)),
        "authority": st.one_of(st.none(), st.booleans()),
        "budget": st.one_of(st.none(), st.floats(0, 1e6)),
        "need": st.one_of(st.none(), st.just(""), st.just("a CRM")),
        "timeline": st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2028, 1, 1))),
        "deal_value": st.one_of(st.none(), st.floats(0, 1e6)),
    }
)
engagement_lists = st.lists(
    st.tuples(
        st.sampled_from(["email_open", "page_view", "download", "meeting", "call", "note"]),
        st.integers(-5, 400).map(lambda days: NOW - timedelta(days=days, seconds=17)),
    ),
    max_size=30,
)


@given(lead=leads, engagements=engagement_lists, adjustment=st.integers(-100, 100))
def test_explanation_always_adds_up_and_scores_stay_in_range(lead, engagements, adjustment):
    result = explain(DEFAULT, lead.get, engagements, adjustment=adjustment, now=NOW)
    assert 0 <= result.score <= 100
    assert sum(line.points for line in result.lines) + adjustment == result.score
    for name, cap in (("demographic", 40), ("behavioral", 40), ("firmographic", 20)):
        assert 0 <= result.components[name] <= cap
        assert result.components[name] == sum(
            line.points for line in result.lines if line.component == name
        )
    assert result.band == DEFAULT.band(result.score)
