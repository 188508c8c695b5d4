"""`list` never hides without saying (issue 14): open leads by default, status
groups, the footer when --limit cuts, literal and Unicode-aware matching."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from leadctl import textmatch
from leadctl.models import Lead
from tests.conftest import POSTGRES


def _ids(cli, *args):
    return sorted(lead["id"] for lead in cli.json("list", *args))


@pytest.fixture
def pipeline(cli, add_lead):
    """One lead in each kind of status: new, contacted, nurture, lost,
    unqualified, converted."""
    ids = {name: add_lead(name.title())["id"] for name in
           ("new", "contacted", "nurture", "lost", "unqualified", "converted")}  # fmt: skip
    cli("status", ids["contacted"], "contacted")
    cli("status", ids["nurture"], "nurture")
    cli("status", ids["lost"], "lost", "--reason", "Other")
    cli("status", ids["unqualified"], "unqualified", "--reason", "Not a fit")
    cli("convert", ids["converted"], "--no-deal")
    return ids


def test_list_shows_open_leads_by_default(cli, pipeline):
    assert _ids(cli) == sorted(pipeline[s] for s in ("new", "contacted", "nurture"))
    assert _ids(cli) == _ids(cli, "--status", "open")


def test_all_shows_every_lead(cli, pipeline):
    assert _ids(cli, "--all") == sorted(pipeline.values())


def test_an_empty_open_list_points_to_all(cli, pipeline):
    result = cli("list", "--search", "lost")
    assert result.stderr == "no open leads match (--all shows closed ones too)\n"
    assert _ids(cli, "--search", "lost", "--all") == [pipeline["lost"]]
    assert cli("list", "--status", "new", "--search", "zzz").stderr == "no leads match\n"


def test_status_closed_and_several_statuses(cli, pipeline):
    closed = sorted(pipeline[s] for s in ("lost", "unqualified", "converted"))
    assert _ids(cli, "--status", "closed") == closed
    assert _ids(cli, "--status", "CLOSED") == closed
    assert _ids(cli, "--status", "new", "--status", "lost") == sorted(
        [pipeline["new"], pipeline["lost"]]
    )
    assert _ids(cli, "--status", "open", "--status", "converted") == sorted(
        pipeline[s] for s in ("new", "contacted", "nurture", "converted")
    )
    assert _ids(cli, "--status", "lost") == [pipeline["lost"]]  # a closed status by name


def test_an_unknown_status_names_the_allowed_ones(cli, pipeline):
    result = cli("list", "--status", "open", "--status", "bogus", code=1)
    assert result.stderr.startswith("error: unknown status 'bogus': expected one of new,")


def test_due_never_shows_closed_leads(cli, add_lead):
    open_lead = add_lead("Open Call")["id"]
    cli("schedule", open_lead, "2026-11-20 10:00")
    lost = add_lead("Lost Call")["id"]
    cli("schedule", lost, "2026-11-20 10:00")
    cli("status", lost, "lost", "--reason", "Other")
    assert _ids(cli, "--due", "overdue") == [open_lead]
    assert _ids(cli, "--due", "overdue", "--all") == [open_lead]
    assert _ids(cli, "--all") == sorted([open_lead, lost])


def test_export_still_exports_every_lead(cli, pipeline):
    rows = json.loads(cli("export", "--format", "json").stdout)
    assert sorted(row["id"] for row in rows) == sorted(pipeline.values())
    rows = json.loads(cli("export", "--format", "json", "--status", "closed").stdout)
    assert sorted(row["id"] for row in rows) == sorted(
        pipeline[s] for s in ("lost", "unqualified", "converted")
    )


# -- the footer -------------------------------------------------------------------


def test_a_cut_list_says_so_on_stderr_only(cli, add_lead):
    for number in range(3):
        add_lead(f"Lead {number}")
    result = cli("list", "--limit", "2", "--json")
    assert len(json.loads(result.stdout)) == 2  # stdout stays one JSON document
    assert result.stderr == "showing 2 of 3 (--limit 0 for all)\n"
    result = cli("list", "--limit", "2")
    assert "showing" not in result.stdout
    assert result.stderr == "showing 2 of 3 (--limit 0 for all)\n"
    assert cli("list", "--limit", "3").stderr == ""
    assert cli("list", "--limit", "0").stderr == ""
    assert cli("list", "--limit", "1", "--offset", "1").stderr == (
        "showing 2–2 of 3 (--limit 0 for all)\n"
    )
    assert cli("list", "--limit", "2", "--offset", "1").stderr == ""  # the last page


def test_the_footer_counts_what_matches_with_separators(cli, tmp_path):
    source = tmp_path / "many.csv"
    rows = [f"Lead {n},lead{n}@example.com" for n in range(1234)]
    source.write_text("name,email\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cli("import", source)
    result = cli("list")
    assert result.stderr == "showing 50 of 1,234 (--limit 0 for all)\n"
    result = cli("list", "--search", "Lead 12", "--limit", "5")
    assert result.stderr == "showing 5 of 45 (--limit 0 for all)\n"  # 12, 120-129, 1200-1233


# -- matching ---------------------------------------------------------------------


@pytest.fixture
def names(cli):
    ids = {}
    for name, email, tags in (
        ("Ömer Çelik", "omer@example.com", "VIP"),
        ("Ada 100% Lovelace", "ada@example.com", "50%off"),
        ("Grace_Hopper", "grace@example.com", "a_b"),
        ("Alan Turing", "alan@example.com", "vip,axb"),
        ("Straße Meier", "meier@example.com", "Ünlü"),
    ):
        ids[name] = cli.json("add", name, "--email", email, "--tag", tags)["id"]
    return ids


def _names(cli, *args):
    return sorted(lead["name"] for lead in cli.json("list", *args))


def test_search_matches_percent_and_underscore_literally(cli, names):
    assert _names(cli, "--search", "%") == ["Ada 100% Lovelace"]
    assert _names(cli, "--search", "_") == ["Grace_Hopper"]
    assert _names(cli, "--search", "a%l") == []
    assert _names(cli, "--search", "e_h") == ["Grace_Hopper"]
    assert _names(cli, "--search", "/") == []


def test_search_is_case_insensitive_the_unicode_way(cli, names):
    assert _names(cli, "--search", "ömer") == ["Ömer Çelik"]
    assert _names(cli, "--search", "ÖMER ÇELİK".replace("İ", "I")) == ["Ömer Çelik"]
    assert _names(cli, "--search", "çelik") == ["Ömer Çelik"]
    assert _names(cli, "--search", "STRASSE") == []  # lower-case, not ß → ss folding
    assert _names(cli, "--search", "STRAẞE") == ["Straße Meier"]
    assert _names(cli, "--search", "TURING") == ["Alan Turing"]
    assert _names(cli, "--search", "ALAN@EXAMPLE") == ["Alan Turing"]


@pytest.mark.skipif(not POSTGRES, reason="a PostgreSQL database's own locale")
def test_search_folds_unicode_on_a_server_database_whose_locale_folds_ascii_only(cli, monkeypatch):
    from tests import engines

    with engines.run_database(POSTGRES, ctype="C") as url:
        monkeypatch.setenv("LEADCTL_DB", url)
        cli("add", "Ömer Çelik", "--email", "omer@example.com", "--tag", "VIP,Ünlü")
        cli("add", "Alan Turing", "--email", "alan@example.com")
        assert _names(cli, "--search", "ömer") == ["Ömer Çelik"]
        assert _names(cli, "--search", "ÇELIK") == ["Ömer Çelik"]
        assert _names(cli, "--tag", "ünlü") == ["Ömer Çelik"]
        assert _names(cli, "--search", "TURING") == ["Alan Turing"]


def test_tag_matches_a_whole_tag_literally_whatever_the_case(cli, names):
    assert _names(cli, "--tag", "vip") == ["Alan Turing", "Ömer Çelik"]
    assert _names(cli, "--tag", "VIP") == ["Alan Turing", "Ömer Çelik"]
    assert _names(cli, "--tag", "ünlü") == ["Straße Meier"]
    assert _names(cli, "--tag", "50%OFF") == ["Ada 100% Lovelace"]
    assert _names(cli, "--tag", "%") == []
    assert _names(cli, "--tag", "a_b") == ["Grace_Hopper"]
    assert _names(cli, "--tag", "axb") == ["Alan Turing"]
    assert _names(cli, "--tag", "v") == []  # a whole tag, not a part of one


@pytest.mark.parametrize("option", ["--search", "--tag"])
def test_an_over_long_search_is_invalid_input(cli, option):
    result = cli("list", option, "%" * 1001, code=1)
    assert result.stderr.startswith(f"error: {option} is too long: at most 1,000 characters")
    assert len(result.stderr.splitlines()) == 1
    cli("list", option, "%" * 1000)  # at the limit: a search like any other


def test_the_match_is_one_rule_on_sqlite_and_postgresql():
    """PostgreSQL folds both sides with lower(); SQLite decides ASCII values with
    its LIKE and folds the others with leadctl_fold, on the same lowered pattern."""
    pg = select(func.count()).where(textmatch.contains(Lead.name, "Ö%_", "postgresql"))
    text = str(pg.compile(dialect=postgresql.dialect()))
    assert "lower(lead.name) LIKE lower(" in text and "ESCAPE '/'" in text
    lite = select(func.count()).where(textmatch.contains(Lead.name, "Ö%_", "sqlite"))
    compiled = lite.compile(dialect=sqlite.dialect())
    assert "leadctl_fold(lead.name) LIKE" in str(compiled)
    assert set(compiled.params.values()) == {"%ö/%/_%"}


def test_escape_like():
    assert textmatch.escape_like("50%_off/x") == "50/%/_off//x"
