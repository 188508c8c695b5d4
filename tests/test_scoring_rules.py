"""The scoring rule file: the shipped default, and every mistake named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadctl.errors import InvalidInput
from leadctl.scoring.rules import default_text, locate, parse

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = """
[demographic]
cap = 40
[behavioral]
cap = 40
[firmographic]
cap = 20
"""


def error_of(text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse(text, "rules.toml")
    return str(caught.value)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_examples_file_is_the_packaged_default():
    assert (ROOT / "examples" / "scoring.toml").read_text("utf-8") == default_text()


def test_default_rules_parse_with_the_spec_bands_and_caps():
    rules = parse(default_text(), "default")
    assert (rules.warm, rules.hot) == (31, 70)
    assert (rules.demographic.cap, rules.behavioral.cap, rules.firmographic.cap) == (40, 40, 20)
    assert {e.kind for e in rules.behavioral.kinds} == {
        "email_open", "email_click", "page_view", "download", "form_submit", "meeting", "call"
    }  # fmt: skip
    assert rules.behavioral.half_life_days == 30
    assert len(rules.hot_eligible) == 1
    fields = {c.field for c in rules.hot_eligible[0].conditions}
    assert fields == {"budget", "authority", "need", "timeline", "deal_value"}


def test_every_line_of_the_default_file_is_documented():
    for number, line in enumerate(default_text().splitlines(), 1):
        assert not line.strip() or "#" in line, f"line {number} has no comment: {line}"


def test_a_minimal_file_gives_defaults_for_bands_and_no_rules():
    rules = parse(MINIMAL, "m")
    assert (rules.warm, rules.hot) == (31, 70)
    assert rules.demographic.rules == () and rules.behavioral.kinds == ()
    assert rules.hot_eligible == ()


def test_toml_syntax_error_names_file_and_line():
    text = MINIMAL + "\n[bands]\nhot = = 3\n"
    message = error_of(text)
    assert message.startswith(f"invalid scoring rules rules.toml, line {line_of(text, 'hot = =')}:")


@pytest.mark.parametrize(
    ("snippet", "needle", "what"),
    [
        ("[bands]\nwarm = 50\nhot = 40\n", "hot = 40", "hot (40) must be above warm (50)"),
        ("[bands]\nhot = 101\n", "hot = 101", "hot must be from 2 to 100, not 101"),
        ("[bands]\ncold = 3\n", "cold = 3", "unknown key 'cold'"),
        ("[colour]\nx = 1\n", "[colour]", "unknown key 'colour'"),
        (
            '[[demographic.rules]]\nname = "A"\ntitel = { words = ["ceo"] }\npoints = 5\n',
            "titel",
            "unknown key 'titel'",
        ),
        (
            '[[demographic.rules]]\nname = "A"\ntitle = { words = ["ceo"] }\npoints = 5.5\n',
            "points = 5.5",
            "points must be a whole number from -100 to 100, not 5.5",
        ),
        (
            '[[demographic.rules]]\nname = "A"\ntitle = { words = ["ceo"] }\n',
            "[[demographic.rules]]",
            "missing points",
        ),
        (
            '[[demographic.rules]]\ntitle = { words = ["ceo"] }\npoints = 1\n',
            "[[demographic.rules]]",
            "a rule needs a name",
        ),
        (
            '[[demographic.rules]]\nname = "A"\npoints = 1\n',
            "[[demographic.rules]]",
            "rule 'A' has no condition",
        ),
        (
            '[[demographic.rules]]\nname = "A"\ncompany_size = { words = ["big"] }\npoints = 1\n',
            "company_size",
            "company_size cannot use 'words'; expected one of at_least, below, present",
        ),
        (
            '[[demographic.rules]]\nname = "A"\ntitle = { words = [] }\npoints = 1\n',
            "title =",
            "words must be a non-empty list of strings",
        ),
        (
            '[[firmographic.rules]]\nname = "A"\ncompany_size = { at_least = 50, below = 10 }\n'
            "points = 1\n",
            "company_size",
            "below (10) must be above at_least (50)",
        ),
        (
            '[[firmographic.rules]]\nname = "A"\nauthority = { is = "yes" }\npoints = 1\n',
            "authority",
            "is must be true or false, not 'yes'",
        ),
        (
            '[[firmographic.rules]]\nname = "A"\ntimeline = { within_days = -1 }\npoints = 1\n',
            "timeline",
            "within_days must be from 0 to 36500, not -1",
        ),
        ("[firmographic]\ncap = 30\n", "cap = 30", "cap must be from 0 to 20, not 30"),
        ("[behavioral]\nhalf_life_days = 0\n", "half_life_days", "above 0"),
        ("[behavioral.kinds]\nsmoke_signal = 3\n", "smoke_signal", "unknown activity kind"),
        ("[behavioral.kinds]\npage_view = { points = 1, most = 3 }\n", "page_view", "'most'"),
        ("[behavioral.kinds]\npage_view = -1\n", "page_view", "from 0 to 100, not -1"),
        (
            '[[hot_eligible]]\nname = "H"\ndeal_value = { at_least = 1 }\npoints = 3\n',
            "points = 3",
            "unknown key 'points'",
        ),
    ],
)
def test_semantic_errors_name_the_line_and_the_fault(snippet, needle, what):
    # later tables of the same name merge into MINIMAL's by appending as new sections
    base = MINIMAL
    for name in ("bands", "behavioral", "firmographic"):
        if snippet.startswith(f"[{name}]\n"):
            base = base.replace(f"[{name}]\ncap = {20 if name == 'firmographic' else 40}\n", "")
    text = base + "\n" + snippet
    message = error_of(text)
    expected = f"invalid scoring rules rules.toml, line {line_of(text, needle)}: "
    assert message.startswith(expected), message
    assert what in message


def test_duplicate_rule_names_in_one_component_are_refused():
    text = MINIMAL + (
        '[[demographic.rules]]\nname = "A"\ntitle = { words = ["x"] }\npoints = 1\n'
        '[[demographic.rules]]\nname = "A"\ntitle = { words = ["y"] }\npoints = 2\n'
    )
    message = error_of(text)
    assert "duplicate rule name 'A'" in message
    second_name = [n for n, line in enumerate(text.splitlines(), 1) if line == 'name = "A"'][1]
    assert f"line {second_name}:" in message


def test_missing_component_table_is_named():
    assert "missing [behavioral] table" in error_of("[demographic]\n[firmographic]\n")


def test_locate_finds_keys_in_array_tables_and_inline_tables():
    text = (
        "[bands]\nhot = 70\n"
        '[[demographic.rules]]\nname = "a"\n'
        '[[demographic.rules]]\nname = "b"\ntitle = { words = ["x"] }\n'
        "[behavioral]\nkinds = { page_view = 1 }\n"
    )
    assert locate(text, ("bands", "hot")) == 2
    assert locate(text, ("demographic", "rules", 1)) == 5
    assert locate(text, ("demographic", "rules", 1, "title")) == 7
    assert locate(text, ("behavioral", "kinds", "page_view")) == 9
    assert locate(text, ("nowhere",)) == 1


def test_words_and_values_are_folded_once_when_parsed():
    text = MINIMAL + (
        '[[demographic.rules]]\nname = "A"\ntitle = { words = ["  Vice   PRESIDENT "] }\n'
        'country = { in = ["United  States"] }\npoints = 1\n'
    )
    rule = parse(text, "r").demographic.rules[0]
    assert [c.value for c in rule.conditions] == [("vice president",), ("united states",)]
