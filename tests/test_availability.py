"""Availability and capacity (issue 15): `user away/back/set`, and round-robin
(`assign --round-robin`, `import --assign round-robin`) skipping users away at
the clock's now and users whose open leads reached their capacity."""

from __future__ import annotations

import pytest

LATER = "2026-11-26T09:00:00Z"  # three days after the fixed clock


@pytest.fixture
def team(cli):
    cli("user", "add", "tester", "--role", "admin")
    for name in ("ana", "ben", "cy"):
        cli("user", "add", name, "--role", "rep")
    cli("user", "add", "vic", "--role", "viewer")


def leads(cli, count, *, prefix="Lead"):
    return [
        cli.json("add", f"{prefix} {n}", "--email", f"{prefix.lower()}{n}@example.com")["id"]
        for n in range(count)
    ]


def users(cli):
    return {u["name"]: u for u in cli.json("user", "list")}


def owners(result):
    """The owners of `assign --json`'s leads (one id: one object)."""
    return [lead["owner"] for lead in (result if isinstance(result, list) else [result])]


# --- away / back ----------------------------------------------------------------------------


def test_away_until_then_available_again_as_the_clock_moves(cli, team, monkeypatch):
    shown = cli.json("user", "away", "ana", "--until", "+2d")
    assert shown["away"] is True
    assert shown["away_from"] == "2026-11-23T09:00:00Z"
    assert shown["away_until"] == "2026-11-25T09:00:00Z"
    assert users(cli)["ana"]["away"] is True
    ids = leads(cli, 2)
    assert owners(cli.json("assign", *ids, "--round-robin", "ana,ben")) == ["ben", "ben"]
    monkeypatch.setenv("LEADCTL_NOW", LATER)  # the --until has passed: available again
    row = users(cli)["ana"]
    assert row["away"] is False and row["away_until"] is None
    more = leads(cli, 2, prefix="More")
    assert owners(cli.json("assign", *more, "--round-robin", "ana,ben")) == ["ana", "ben"]


def test_away_without_until_lasts_until_back(cli, team, monkeypatch):
    assert cli("user", "away", "ben").stderr == "ben is away until `user back`\n"
    monkeypatch.setenv("LEADCTL_NOW", "2027-06-01T09:00:00Z")
    row = users(cli)["ben"]
    assert row["away"] is True and row["away_until"] is None
    line = next(row for row in cli("user", "list").stdout.splitlines() if " ben " in row)
    assert "yes" in line
    assert cli("user", "back", "ben").stderr == "ben is back\n"
    assert users(cli)["ben"]["away"] is False
    assert cli("user", "back", "ben").stderr == "ben was not away\n"  # idempotent


def test_away_dates_are_checked(cli, team):
    for bad in ("0001-01-01", "9999-12-31", "1899-06-01", "2201-01-01", "soon"):
        result = cli("user", "away", "ana", "--until", bad, code=1)
        assert result.stderr.startswith("error: invalid --until")
    result = cli("user", "away", "ana", "--until", "2026-11-01", code=1)
    assert "already past" in result.stderr
    cli("user", "away", "nobody", code=1)
    assert users(cli)["ana"]["away"] is False  # nothing was stored


def test_reps_mark_themselves_away_admins_anyone(cli, team):
    cli("--as", "ana", "user", "away", "ana", "--until", "tomorrow")
    assert users(cli)["ana"]["away"] is True
    cli("--as", "ana", "user", "back", "ana")
    result = cli("--as", "ana", "user", "away", "ben", code=4)
    assert "lacks the admin permission to mark away another user" in result.stderr
    cli("--as", "ana", "user", "back", "ben", code=4)
    cli("--as", "tester", "user", "away", "ben")
    assert users(cli)["ben"]["away"] is True
    cli("--as", "vic", "user", "away", "vic")  # even a viewer: their own out-of-office


# --- capacity, territory, industries --------------------------------------------------------


def test_user_set_capacity_territory_industries(cli, team):
    shown = cli.json(
        "user", "set", "ana", "--capacity", "5", "--territory", "DE,AT", "--territory", "ch",
        "--industries", "Software", "--industries", "software",
    )  # fmt: skip
    assert shown["capacity"] == 5
    assert shown["territory"] == ["DE", "AT", "ch"]
    assert shown["industries"] == ["Software"]  # once each, case-insensitively
    table = cli("user", "list").stdout
    assert "DE, AT, ch" in table and "0/5" in table
    cleared = cli.json("user", "set", "ana", "--capacity", "none", "--territory", "none")
    assert cleared["capacity"] is None and cleared["territory"] == []
    assert cleared["industries"] == ["Software"]  # not given: kept


def test_user_set_is_checked_and_admin_only(cli, team):
    for bad in ("-1", "lots", "1.5", "100001", ""):
        result = cli("user", "set", "ana", "--capacity", bad, code=1)
        assert "expected a whole number" in result.stderr
    cli("user", "set", "ana", "--territory", "", code=1)
    cli("user", "set", "ana", "--territory", "none,DE", code=1)
    cli("user", "set", "ana", code=2)
    result = cli("--as", "ana", "user", "set", "ana", "--capacity", "99", code=4)
    assert "lacks the admin permission" in result.stderr
    assert users(cli)["ana"]["capacity"] is None


def test_capacity_counts_open_leads_only(cli, team):
    ids = leads(cli, 4)
    cli("assign", *ids[:3], "--to", "ana")
    cli("status", ids[0], "lost", "--reason", "Not a fit")  # closed: not a load
    assert users(cli)["ana"]["open_leads"] == 2
    cli("user", "set", "ana", "--capacity", "3")
    # ana has room for one more open lead; then ben
    more = leads(cli, 2, prefix="More")
    assert owners(cli.json("assign", *more, "--round-robin", "ana,ben")) == ["ana", "ben"]
    assert users(cli)["ana"]["open_leads"] == 3


def test_round_robin_counts_the_leads_it_deals_in_the_same_call(cli, team):
    cli("user", "set", "ana", "--capacity", "2")
    cli("user", "set", "ben", "--capacity", "1")
    ids = leads(cli, 3)
    assert owners(cli.json("assign", *ids, "--round-robin", "ana,ben")) == ["ana", "ben", "ana"]
    row = users(cli)
    assert (row["ana"]["open_leads"], row["ben"]["open_leads"]) == (2, 1)


def test_re_dealing_a_full_users_own_lead_is_not_over_capacity(cli, team):
    ids = leads(cli, 2)
    cli("assign", *ids, "--to", "ana")
    cli("user", "set", "ana", "--capacity", "2")
    # dealt anew, each of ana's leads makes room as it goes: the first stays
    # with her (2 of 2, not 3), the second goes on to ben
    dealt = cli.json("assign", *ids, "--round-robin", "ana,ben")
    assert owners(dealt) == ["ben"]  # the JSON array holds the leads that changed
    assert [cli.json("show", i)["owner"] for i in ids] == ["ana", "ben"]
    assert users(cli)["ana"]["open_leads"] == 1


def test_nobody_available_refuses_the_whole_command(cli, team):
    cli("user", "away", "ana", "--until", "+1d")
    cli("user", "set", "ben", "--capacity", "1")
    ids = leads(cli, 3)
    result = cli("assign", *ids, "--round-robin", "ana,ben", code=3)
    assert result.stderr.startswith("error: nobody available for 2 of 3 leads")
    assert "ana is away until 2026-11-24 09:00" in result.stderr
    assert "ben is full (1 of 1 open leads)" in result.stderr
    assert "nothing was assigned" in result.stderr
    assert [cli.json("show", i)["owner"] for i in ids] == [None, None, None]  # all or nothing
    one = cli("assign", ids[0], "--round-robin", "ana", code=3)
    assert one.stderr.startswith("error: nobody available for lead ")


def test_away_times_are_utc_whatever_the_servers_time_zone(cli, team, monkeypatch):
    """``away_from``/``away_until`` are columns without a zone on PostgreSQL:
    stored and read in UTC whatever the server's ``TimeZone`` (here ``PGTZ``)."""
    monkeypatch.setenv("PGTZ", "America/New_York")  # UTC-5 in November
    cli("user", "away", "ana", "--until", "+2d")
    row = users(cli)["ana"]
    assert (row["away_from"], row["away_until"]) == ("2026-11-23T09:00:00Z", "2026-11-25T09:00:00Z")
    monkeypatch.setenv("LEADCTL_NOW", "2026-11-25T08:00:00Z")  # an hour before: still away
    assert users(cli)["ana"]["away"] is True
    (lead,) = leads(cli, 1)
    result = cli("assign", lead, "--round-robin", "ana", code=3)
    assert "ana is away until 2026-11-25 09:00" in result.stderr


def test_an_explicit_to_is_not_refused_for_away_or_full(cli, team):
    cli("user", "away", "ana")
    cli("user", "set", "ana", "--capacity", "0")
    (lead,) = leads(cli, 1)
    assert cli.json("assign", lead, "--to", "ana")["owner"] == "ana"


def test_round_robin_pointer_per_group_and_old_pointer_still_read(cli, team, sql):
    ids = leads(cli, 6)
    assert owners(cli.json("assign", *ids[:2], "--round-robin", "ana,ben")) == ["ana", "ben"]
    # a group never dealt continues after the last deal of any group (ben)
    assert owners(cli.json("assign", *ids[2:3], "--round-robin", "cy,ben")) == ["cy"]
    # each group continues after whoever its own last deal ended on
    assert owners(cli.json("assign", *ids[3:4], "--round-robin", "ana,ben")) == ["ana"]
    # a pointer as it was stored before issue 15
    sql("UPDATE setting SET value = 'ben' WHERE key = 'round_robin_last'")
    assert owners(cli.json("assign", *ids[4:], "--round-robin", "ana,ben,cy")) == ["cy", "ana"]


def test_round_robin_in_solo_mode_takes_any_names(cli):
    ids = leads(cli, 3)
    assert owners(cli.json("assign", *ids, "--round-robin", "x,y")) == ["x", "y", "x"]


def test_round_robin_is_a_reserved_name(cli, team):
    cli("user", "add", "round-robin", "--role", "rep", code=1)


# --- import --assign round-robin -------------------------------------------------------------


def write_csv(tmp_path, rows, name="in.csv"):
    path = tmp_path / name
    lines = ["name,email,owner"] + [f"{n},{n.lower()}@example.com,{o}" for n, o in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_deals_new_leads_among_reps_and_managers(cli, team, tmp_path):
    cli("user", "add", "meg", "--role", "manager")
    cli("user", "away", "cy")
    path = write_csv(tmp_path, [(f"N{i}", "") for i in range(6)])
    summary = cli.json("import", path, "--assign", "round-robin")
    assert summary["imported"] == 6 and summary["warnings"] == 0
    got = [lead["owner"] for lead in sorted(cli.json("list"), key=lambda lead: lead["id"])]
    # reps and managers in name order (admins and viewers are not dealt to), cy away
    assert got == ["ana", "ben", "meg", "ana", "ben", "meg"]
    # a second import continues the rotation
    again = write_csv(tmp_path, [("M1", "zed")], name="again.csv")
    cli("import", again, "--assign", "round-robin")
    m1 = next(lead for lead in cli.json("list") if lead["name"] == "M1")
    assert m1["owner"] == "ana"  # the file's owner column gives way, as for --assign USER


def test_import_round_robin_respects_capacity_across_batches(cli, team, tmp_path, db_target):
    from leadctl.database import open_database
    from leadctl.importing import ImportOptions, run_import

    cli("user", "set", "ana", "--capacity", "2")
    cli("user", "set", "ben", "--capacity", "1")
    cli("user", "set", "cy", "--capacity", "0")
    path = write_csv(tmp_path, [(f"N{i}", "") for i in range(5)])
    database = open_database(db_target)
    try:
        options = ImportOptions(assign="round-robin", batch_rows=2, warning_details=True)
        summary = run_import(database, str(path), options, actor="tester")
    finally:
        database.close()
    assert summary.imported == 5 and summary.warnings == 2
    assert {w["field"] for w in summary.warning_details or []} == {"owner"}
    assert all("nobody available" in w["message"] for w in summary.warning_details or [])
    by_owner: dict[str | None, int] = {}
    for lead in cli.json("list"):
        by_owner[lead["owner"]] = by_owner.get(lead["owner"], 0) + 1
    assert by_owner == {"ana": 2, "ben": 1, None: 2}
    assert (tmp_path / "in.warnings.csv").exists()


def test_import_round_robin_dry_run_deals_but_writes_nothing(cli, team, tmp_path):
    cli("user", "set", "ana", "--capacity", "1")
    cli("user", "set", "ben", "--capacity", "0")
    cli("user", "set", "cy", "--capacity", "0")
    path = write_csv(tmp_path, [("N1", ""), ("N2", "")])
    summary = cli.json("import", path, "--assign", "round-robin", "--dry-run")
    assert summary["dry_run"] is True and summary["warnings"] == 1  # N2: nobody left
    assert cli.json("list") == []


def test_import_round_robin_needs_someone_to_deal_to(cli, tmp_path):
    path = write_csv(tmp_path, [("N1", "")])
    result = cli("import", path, "--assign", "round-robin", code=1)
    assert "there are none" in result.stderr
    cli("user", "add", "tester", "--role", "admin")
    result = cli("import", path, "--assign", "round-robin", code=1)
    assert "reps and managers" in result.stderr
    assert cli.json("list") == []


def test_core_round_robin_partial_leaves_whom_nobody_can_take(cli, team, db_target):
    """How `sweep` (and any core caller) deals: a session, an actor, lead ids,
    user names; ``partial=True`` places what it can and lists the rest."""
    from leadctl import claims, users
    from leadctl.database import open_database

    cli("user", "set", "ana", "--capacity", "1")
    cli("user", "away", "ben")
    ids = leads(cli, 3)
    database = open_database(db_target)
    try:
        with database.session(immediate=True) as session:
            who = users.actor(session, "tester")
            dealt = claims.assign_round_robin(session, who, ids, ["ana", "ben"], partial=True)
            assert dealt.changed_ids == ids[:1]
            assert dealt.unplaced == ids[1:]
            assert dealt.owners == {ids[0]: "ana", ids[1]: None, ids[2]: None}
    finally:
        database.close()
    assert [cli.json("show", i)["owner"] for i in ids] == ["ana", None, None]
