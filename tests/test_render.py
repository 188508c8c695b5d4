"""One safe renderer: data never reaches a terminal with control characters or
escape sequences in it (tables, key/value blocks, messages, errors), while
--json, CSV and exports keep every character exactly."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadctl.cli.render import Markup, clean

# clears the screen, then retitles the terminal window
HOSTILE = "X\x1b[2J\x1b]0;title\x07"
# what must never reach a terminal: C0 controls but newline, DEL, C1 controls
UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def assert_safe(result) -> None:
    """No control character reaches the terminal (an error may quote a value
    with repr, as the text ``'X\\x1b[2J'``: visible, and harmless)."""
    for stream in (result.stdout, result.stderr):
        assert not UNSAFE.search(stream), repr(stream)


def shown(result) -> str:
    """The terminal output of a command that shows data: safe, and the escape
    sequences' payloads are gone with them."""
    assert_safe(result)
    text = result.stdout + result.stderr
    assert "0;title" not in text and "[2J" not in text, text
    return text


@pytest.fixture
def hostile_lead(cli):
    """A lead with the hostile text in every kind of field a terminal shows."""
    cli("sources", "add", HOSTILE)
    lead = cli.json(
        "add",
        HOSTILE,
        "--email",
        "x@example.com",
        "--company",
        HOSTILE,
        "--title",
        HOSTILE,
        "--source",
        HOSTILE,
        "--tag",
        HOSTILE,
        "--field",
        f"k{HOSTILE}={HOSTILE}",
        "--notes",
        HOSTILE,
    )
    cli("note", lead["id"], f"first line\n{HOSTILE}\r\n\tlast")
    return lead


def test_json_keeps_the_exact_characters(cli, hostile_lead):
    lead = cli.json("show", hostile_lead["id"])
    assert lead["name"] == lead["company"] == lead["title"] == lead["source"] == HOSTILE
    assert lead["tags"] == [HOSTILE.lower()] or lead["tags"] == [HOSTILE]
    assert lead["fields"] == {f"k{HOSTILE}": HOSTILE}
    bodies = [a["body"] for a in lead["activities"]]
    assert f"first line\n{HOSTILE}\r\n\tlast" in bodies
    assert cli.json("list")[0]["name"] == HOSTILE


def test_list_show_and_messages_are_clean(cli, hostile_lead, tmp_path):
    lead_id = hostile_lead["id"]
    for args in (
        ["list"],
        ["list", "--search", HOSTILE],
        ["show", lead_id],
        ["status", lead_id],
        ["score", lead_id],
        ["score", lead_id, "--explain"],
        ["edit", lead_id, "--company", f"{HOSTILE}2"],
        ["note", lead_id, HOSTILE],
        ["schedule", lead_id, "tomorrow"],
        ["claim", lead_id],
        ["release", lead_id],
        ["assign", lead_id, "--to", "me"],
        ["sources"],
        ["report", "sources"],
        ["export", "--format", "json", "-o", str(tmp_path / "out.json")],
    ):
        shown(cli(*args))
    assert "X" in shown(cli("assign", lead_id, "--to", HOSTILE))  # solo mode: any owner name
    page = shown(cli("show", lead_id))
    assert "first line" in page and "last" in page  # a multi-line note stays readable


def test_duplicate_and_convert_messages_are_clean(cli, hostile_lead):
    skipped = cli("add", HOSTILE, "--email", "x@example.com", "--on-duplicate", "skip")
    assert "duplicate of lead 1" in shown(skipped)
    refused = cli("add", HOSTILE, "--email", "x@example.com", code=3)
    assert shown(refused).startswith("error: ")
    cli("add", f"{HOSTILE}!", "--email", "x@example.com", "--on-duplicate", "create")
    assert "group" in shown(cli("dedupe"))
    converted = cli("convert", hostile_lead["id"], "--deal-value", "100")
    assert "converted" in shown(converted)
    assert "X" in shown(cli("client", "list"))
    assert "X" in shown(cli("client", "show", "1"))
    assert cli.json("client", "show", "1")["name"] == HOSTILE


def test_a_status_named_with_escapes_is_shown_clean(cli, add_lead):
    add_lead("Ada")
    cli("statuses", "add", HOSTILE, "--position", "2")
    assert HOSTILE in [s["name"] for s in cli.json("statuses")]
    assert "X" in shown(cli("statuses"))
    assert "is now X" in shown(cli("status", "1", HOSTILE))
    assert cli.json("show", "1")["status"] == HOSTILE
    for args in (["list"], ["show", "1"], ["status", "1"], ["report", "funnel"]):
        shown(cli(*args))
    assert HOSTILE in cli("report", "funnel", "--csv").stdout  # CSV keeps the data
    refused = cli("statuses", "add", HOSTILE, code=3)
    assert_safe(refused)
    assert refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1


def test_a_user_named_with_escapes_is_shown_clean(cli):
    # user names are one word without whitespace or commas: escape characters pass
    cli("user", "add", HOSTILE, "--role", "admin")
    cli("--as", HOSTILE, "add", "Ada", "--email", "ada@example.com", "--assign", "me")
    assert cli.json("--as", HOSTILE, "show", "1")["owner"] == HOSTILE
    assert [u["name"] for u in cli.json("--as", HOSTILE, "user", "list")] == [HOSTILE]
    for args in (["user", "list"], ["list"], ["show", "1"], ["report", "reps"]):
        shown(cli("--as", HOSTILE, *args))
    denied = cli("--as", f"{HOSTILE}2", "list", code=4)
    assert_safe(denied)
    assert denied.stderr.startswith("error: ") and len(denied.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["edit", "1", "--priority", HOSTILE],
        ["edit", "1", "--source", HOSTILE],
        ["edit", "1", "--email", HOSTILE],
        ["edit", "1", "--country", "US", "--phone", HOSTILE],
        ["status", "1", HOSTILE],
        ["log", "1", "--type", HOSTILE],
        ["schedule", "1", HOSTILE],
        ["config", "set", HOSTILE, "1"],
        ["config", "set", "claim_hours", HOSTILE],
        ["report", HOSTILE],
        ["report", "sources", "--since", HOSTILE],
        ["export", "--format", HOSTILE],
        ["import", HOSTILE],
        ["list", "--sort", HOSTILE],
        ["user", "add", "bob", "--role", HOSTILE],
        ["sources", "remove", HOSTILE],
    ],
)
def test_error_messages_quoting_values_are_clean(cli, add_lead, args):
    add_lead("Ada")
    result = cli(*args, code=None)
    assert result.exit_code in (1, 2, 3, 4)
    assert_safe(result)
    if result.exit_code != 2:
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [["list", f"--{HOSTILE}"], [HOSTILE], ["show", HOSTILE]])
def test_usage_errors_are_clean(cli, args):
    result = cli(*args, code=2)
    assert_safe(result)


def test_an_import_with_escapes_keeps_them_and_reports_clean(cli, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        f'name,email,priority,notes\n"{HOSTILE}",x@example.com,"{HOSTILE}","{HOSTILE}"\n'
        f'"{HOSTILE}",,,\n',
        encoding="utf-8",
    )
    result = cli("import", source, code=1)
    assert_safe(result)
    assert "rejected 1" in result.stderr
    summary = json.loads(cli("import", source, "--json", "--dry-run", code=1).stdout)
    assert summary["rejected"] == 1
    lead = cli.json("show", "1")
    assert lead["name"] == HOSTILE and lead["fields"]["priority_raw"] == HOSTILE
    exported = cli("export", "--format", "csv").stdout
    assert HOSTILE in exported  # exports are data: exact


def test_rich_markup_in_data_is_shown_literally(cli, add_lead):
    add_lead("[bold]Ada[/] [/]", company="[red]x", title="\\[", email="ada@example.com")
    text = shown(cli("list"))
    assert "[bold]Ada[/] [/]" in text and "[red]x" in text
    page = shown(cli("show", "1"))
    assert "#1 [bold]Ada[/] [/]" in page and "\\[" in page


# -- the sanitiser itself -------------------------------------------------------

BIDI = ["\u202e", "\u202a", "\u2066", "\u2069", "\u200f", "\u061c"]  # reorder a line
ESCAPES = st.sampled_from(
    ["\x1b[2J", "\x1b]0;title\x07", "\x1b]8;;http://x\x1b\\", "\x1bc", "\x1b(B", "\x9b31m",
     "\x1bP1$r\x1b\\", "\x1b", "\x07", "\x00", "\x7f", "\x85", "\r", "\n", "\t", "\x1b[", "\x9d",
     *BIDI]
)  # fmt: skip
TEXT = st.lists(st.one_of(st.text(), ESCAPES)).map("".join)


@given(TEXT, st.booleans())
def test_clean_never_lets_a_control_or_escape_through(text, multiline):
    out = clean(text, multiline=multiline)
    allowed = "\n" if multiline else ""
    assert not any((ord(c) < 32 or 0x7F <= ord(c) <= 0x9F) and c not in allowed for c in out), repr(
        out
    )
    assert not any(c in BIDI for c in out), repr(out)
    assert clean(out, multiline=multiline) == out  # idempotent


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf"))))
def test_clean_leaves_printable_text_unchanged(text):
    assert clean(text) == text and clean(text, multiline=True) == text


@pytest.mark.parametrize(
    ("raw", "one_line", "multi"),
    [
        (HOSTILE, "X", "X"),
        ("a\r\nb\rc\nd", "a b c d", "a\nb\nc\nd"),
        ("a\tb", "a b", "a b"),
        ("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\", "link", "link"),
        ("red \x1b[31mx\x1b[0m \x9b1mC1", "red x C1", "red x C1"),
        ("bell\x07 del\x7f nul\x00 nel\x85", "bell del nul nel", "bell del nul nel"),
        ("[bold]kept[/]", "[bold]kept[/]", "[bold]kept[/]"),
        (
            "Ann \u202eevil.exe\u202c 👩\u200d💻",
            "Ann evil.exe 👩\u200d💻",
            "Ann evil.exe 👩\u200d💻",
        ),
    ],
)
def test_clean_examples(raw, one_line, multi):
    assert clean(raw) == one_line
    assert clean(raw, multiline=True) == multi


def test_markup_is_read_only_when_marked(capsys):
    from leadctl.cli import render

    render.table(
        ["Plain", "Marked"],
        [["[bold]a[/]", Markup("[bold]b[/]")], [HOSTILE, render.escape(f"[x]{HOSTILE}")]],
        title=f"[red]{HOSTILE}",
    )
    out = capsys.readouterr().out
    assert "[bold]a[/]" in out and "[bold]b" not in out and " b " in out
    assert "[x]X" in out and "[red]X" in out
    assert not UNSAFE.search(out) and "[2J" not in out
