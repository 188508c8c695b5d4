"""Per-status aging: touched_at, `statuses set --rots-after`, `rotting`, `list --rotting`."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl import clock

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> str:
    """LEADCTL_NOW this long after the fixed test clock."""
    return (NOW + timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def later(monkeypatch: pytest.MonkeyPatch, days: float = 0, hours: float = 0) -> None:
    monkeypatch.setenv("LEADCTL_NOW", at(days, hours))


def stored(value: str | datetime | None) -> str | None:
    """A stored time as SQLite keeps it (text, UTC); PostgreSQL's in the same form."""
    if isinstance(value, datetime):
        return clock.as_utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _stored_time(sql, column: str) -> Callable[[int], str | None]:
    """A reader of one time column of a lead, as stored."""

    def read(lead_id: int) -> str | None:
        (row,) = sql(f"SELECT {column} FROM lead WHERE id = :id", id=lead_id)
        return stored(row[0])

    return read


@pytest.fixture
def touched(sql) -> Callable[[int], str | None]:
    """A lead's ``touched_at`` as stored."""
    return _stored_time(sql, "touched_at")


@pytest.fixture
def arrived(sql) -> Callable[[int], str | None]:
    """A lead's ``created_at`` as stored."""
    return _stored_time(sql, "created_at")


# --- touched_at: kept where activities are written -----------------------------------------


def test_a_new_lead_is_touched_at_its_arrival(add_lead, touched):
    lead = add_lead()
    assert touched(lead["id"]) == "2026-11-23 09:00:00.000000"


@pytest.mark.parametrize(
    "args",
    [
        ["note", "{id}", "called back"],
        ["log", "{id}", "--type", "call"],
        ["status", "{id}", "contacted"],
        ["edit", "{id}", "--company", "Acme"],
        ["schedule", "{id}", "tomorrow"],
        ["claim", "{id}"],
        ["assign", "{id}", "--to", "me"],
    ],
)
def test_working_a_lead_touches_it(cli, add_lead, monkeypatch, args, touched):
    lead = add_lead()
    later(monkeypatch, days=1)
    cli(*[a.format(id=lead["id"]) for a in args])
    assert touched(lead["id"]) == "2026-11-24 09:00:00.000000"


def test_engagements_scores_and_releases_do_not_touch(cli, add_lead, monkeypatch, touched):
    lead = add_lead()
    cli("claim", lead["id"])
    later(monkeypatch, days=1)
    cli("log", lead["id"], "--type", "email_open")
    cli("score", lead["id"], "--adjust", "5", "--reason", "fit")
    cli("release", lead["id"])
    assert touched(lead["id"]) == "2026-11-23 09:00:00.000000"


def test_touched_at_never_goes_back(cli, add_lead, monkeypatch, touched):
    lead = add_lead()
    later(monkeypatch, days=2)
    cli("note", lead["id"], "later")
    later(monkeypatch, days=1)  # a clock set back (a backfill) does not undo a touch
    cli("note", lead["id"], "earlier")
    assert touched(lead["id"]) == "2026-11-25 09:00:00.000000"


def test_bulk_commands_touch_every_lead_they_change(cli, add_lead, monkeypatch, touched):
    ids = [add_lead(f"Lead {n}")["id"] for n in range(3)]
    later(monkeypatch, days=3)
    cli("status", *ids, "contacted")
    assert {touched(i) for i in ids} == {"2026-11-26 09:00:00.000000"}


def test_an_import_touches_new_leads_at_their_arrival_and_merged_ones_now(
    cli, add_lead, tmp_path, monkeypatch, touched, arrived
):
    old = add_lead("Ada Lovelace", email="ada@example.com")
    source = tmp_path / "in.csv"
    source.write_text(
        "Name,Email,Company,Created\n"
        "Ada Lovelace,ada@example.com,Engines,\n"
        "Grace Hopper,grace@example.com,,2026-11-01\n"
    )
    later(monkeypatch, days=5)
    cli("import", str(source))
    assert touched(old["id"]) == "2026-11-28 09:00:00.000000"  # a fill is a touch
    grace = next(lead for lead in cli.json("list") if lead["name"] == "Grace Hopper")
    assert touched(grace["id"]) == arrived(grace["id"])


def test_touches_are_utc_whatever_the_servers_time_zone(cli, add_lead, touched, monkeypatch):
    """PostgreSQL keeps an aware time in a column without a zone (``touched_at``)
    as the session's wall clock: leadctl's sessions are UTC whatever the server's
    ``TimeZone`` (here ``PGTZ``, which the driver sends); SQLite ignores PGTZ."""
    monkeypatch.setenv("PGTZ", "Asia/Tokyo")  # UTC+9
    lead = add_lead()
    assert touched(lead["id"]) == "2026-11-23 09:00:00.000000"
    later(monkeypatch, days=2)  # exactly 2 days: not yet
    assert cli.json("show", lead["id"])["rotting"] is False
    later(monkeypatch, days=2, hours=1)
    assert cli.json("show", lead["id"])["rotting"] is True
    assert [x["id"] for x in cli.json("list", "--rotting")] == [lead["id"]]
    cli("note", lead["id"], "called")
    assert touched(lead["id"]) == "2026-11-25 10:00:00.000000"
    assert cli.json("list", "--rotting") == []


def test_imported_leads_arrive_in_utc_whatever_the_servers_time_zone(
    cli, touched, arrived, monkeypatch, tmp_path
):
    """The import stores its leads by COPY on PostgreSQL: the same UTC times as
    an INSERT, ``touched_at`` (a column without a zone) included."""
    monkeypatch.setenv("PGTZ", "America/New_York")  # UTC-5
    source = tmp_path / "leads.csv"
    source.write_text("Name,Email\nGrace Hopper,grace@example.com\n", encoding="utf-8")
    cli("import", str(source))
    grace = cli.json("list")[0]
    assert grace["created_at"] == "2026-11-23T09:00:00Z"
    assert touched(grace["id"]) == arrived(grace["id"]) == "2026-11-23 09:00:00.000000"
    assert cli.json("show", grace["id"])["rotting"] is False
    later(monkeypatch, days=2, hours=1)
    assert [x["id"] for x in cli.json("list", "--rotting")] == [grace["id"]]


# --- statuses set --rots-after -------------------------------------------------------------


def rots(cli) -> dict[str, str | None]:
    return {s["name"]: s["rots_after"] for s in cli.json("statuses")}


def test_default_rot_times_and_their_json(cli):
    assert rots(cli) == {
        "new": "2d", "contacted": "7d", "qualified": "14d", "converted": None,
        "nurture": "30d", "unqualified": None, "lost": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("given", "shown"),
    [("30m", "30m"), ("2h", "2h"), ("3d", "3d"), ("1w", "7d"), ("36", "36h"), ("1.5h", "90m"),
     ("off", None), ("never", None)],
)  # fmt: skip
def test_statuses_set_rots_after(cli, given, shown):
    cli("statuses", "set", "contacted", "--rots-after", given)
    assert rots(cli)["contacted"] == shown
    assert "Rots after" in cli("statuses").stdout


@pytest.mark.parametrize("status", ["lost", "converted", "unqualified"])
def test_final_and_won_statuses_never_rot(cli, status):
    result = cli("statuses", "set", status, "--rots-after", "2d", code=1)
    assert "never rots" in result.stderr
    assert rots(cli)[status] is None


@pytest.mark.parametrize("value", ["soon", "-2d", "0", "10s", "99999d", ""])
def test_a_bad_rots_after_is_refused(cli, value):
    result = cli("statuses", "set", "new", "--rots-after", value, code=1)
    assert "--rots-after" in result.stderr
    assert rots(cli)["new"] == "2d"


def test_only_an_admin_sets_rot_times(cli):
    cli("user", "add", "ann", "--role", "admin")
    cli("--as", "ann", "user", "add", "max", "--role", "manager")
    cli("--as", "max", "statuses", "set", "new", "--rots-after", "1d", code=4)
    cli("--as", "ann", "statuses", "set", "new", "--rots-after", "1d")
    assert {s["name"]: s["rots_after"] for s in cli.json("--as", "max", "statuses")}["new"] == "1d"


# --- rotting: in every lead object, list --rotting, the table's mark -----------------------


def test_a_lead_rots_after_its_status_time(cli, add_lead, monkeypatch):
    lead = add_lead()
    later(monkeypatch, days=2)  # exactly 2 days: not yet
    assert cli.json("show", lead["id"])["rotting"] is False
    later(monkeypatch, days=2, hours=1)
    assert cli.json("show", lead["id"])["rotting"] is True
    assert [x["id"] for x in cli.json("list", "--rotting")] == [lead["id"]]
    cli("status", lead["id"], "contacted")  # a move touches it, and contacted rots after 7d
    assert cli.json("show", lead["id"])["rotting"] is False
    later(monkeypatch, days=9, hours=2)
    assert cli.json("list", "--rotting")[0]["rotting"] is True


def test_final_leads_and_statuses_set_off_never_rot(cli, add_lead, monkeypatch):
    lost = add_lead("Lost Lead")
    cli("status", lost["id"], "lost", "--reason", "No budget")
    fresh = add_lead("New Lead")
    cli("statuses", "set", "new", "--rots-after", "off")
    later(monkeypatch, days=400)
    assert cli.json("list", "--rotting", "--all") == []
    assert not cli.json("show", lost["id"])["rotting"]
    assert not cli.json("show", fresh["id"])["rotting"]


def test_rotting_is_in_every_lead_object(cli, add_lead, monkeypatch):
    lead = add_lead()
    later(monkeypatch, days=3)
    assert cli.json("list")[0]["rotting"] is True
    assert cli.json("show", lead["id"])["rotting"] is True
    assert cli.json("next")[0]["rotting"] is True
    assert cli.json("export", "--format", "json")[0]["rotting"] is True
    # a command's own output knows its touch: the ORM path (claim) and the bulk one (tag)
    assert cli.json("claim", lead["id"])["rotting"] is False
    later(monkeypatch, days=6)
    assert cli.json("show", lead["id"])["rotting"] is True
    assert cli.json("tag", lead["id"], "+x")["rotting"] is False


def test_the_list_marks_rotting_leads(cli, add_lead, monkeypatch):
    add_lead("Ada Lovelace")
    later(monkeypatch, days=1)
    assert "rotting" not in cli("list").stdout
    later(monkeypatch, days=3)
    row = next(line for line in cli("list").stdout.splitlines() if "Ada Lovelace" in line)
    assert "new rotting" in row


def test_rotting_is_computed_not_imported(cli, add_lead, tmp_path, second_db, monkeypatch):
    add_lead("Ada Lovelace", field="crm=1")
    later(monkeypatch, days=3)
    out = tmp_path / "all.csv"
    cli("export", "-o", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows[0]["rotting"] == "yes"  # as CSV writes booleans
    monkeypatch.setenv("LEADCTL_DB", second_db)
    monkeypatch.setenv("LEADCTL_NOW", at())
    cli("import", str(out))
    (lead,) = cli.json("list")
    assert lead["fields"] == {"crm": "1"}  # no "rotting" custom field
    assert lead["rotting"] is False


# --- the rule's two forms agree -------------------------------------------------------------

STATUSES = ["new", "contacted", "qualified", "nurture", "converted", "lost"]


@settings(max_examples=60, deadline=None)
@given(
    leads=st.lists(
        st.tuples(
            st.sampled_from(STATUSES),
            st.one_of(st.none(), st.integers(min_value=-30 * 86_400, max_value=86_400)),
        ),
        max_size=25,
    ),
    times=st.fixed_dictionaries(
        {
            s: st.one_of(st.none(), st.integers(min_value=60, max_value=20 * 86_400))
            for s in STATUSES
        }
    ),
)
def test_the_sql_clause_and_the_python_predicate_agree(leads, times):
    from sqlalchemy import delete, select, update

    from leadctl import aging
    from leadctl.database import open_database
    from leadctl.models import CHOICE, LEAD

    # the test's database, on either engine (a fixture would be one for all examples)
    database = open_database(os.environ["LEADCTL_DB"])
    try:
        with database.session(immediate=True) as session:
            conn = session.connection()
            conn.execute(delete(LEAD))  # the last example's leads
            for status, seconds in times.items():
                conn.execute(
                    update(CHOICE)
                    .where(CHOICE.c.list == "status", CHOICE.c.name == status)
                    .values(rots_after=seconds)
                )
            rows = [
                {"name": f"L{n}", "status": status, "priority": "medium", "score": 0,
                 "score_adjustment": 0, "band": "cold", "tags": "[]", "fields": "{}",
                 "created_at": NOW - timedelta(days=n % 5), "updated_at": NOW,
                 "touched_at": None if offset is None else NOW + timedelta(seconds=offset)}
                for n, (status, offset) in enumerate(leads)
            ]  # fmt: skip
            if rows:
                conn.execute(LEAD.insert(), rows)
            rules = aging.load(conn)
            in_sql = set(conn.execute(select(LEAD.c.id).where(rules.clause(NOW))).scalars())
            in_python = {
                row.id
                for row in conn.execute(
                    select(LEAD.c.id, LEAD.c.status, LEAD.c.touched_at, LEAD.c.created_at)
                )
                if rules.is_rotting(row.status, row.touched_at, NOW, row.created_at)
            }
    finally:
        database.close()
    assert in_sql == in_python
    for status in ("converted", "lost"):  # final and won statuses never rot, whatever is stored
        assert status not in rules.rots_after


def test_a_lead_never_touched_counts_from_its_arrival(cli, add_lead, sql, monkeypatch):
    """Rows written behind leadctl's back have no touched_at: their arrival stands in."""
    lead = add_lead()
    sql("UPDATE lead SET touched_at = NULL")
    later(monkeypatch, days=1)
    assert cli.json("show", lead["id"])["rotting"] is False
    later(monkeypatch, days=3)
    assert cli.json("show", lead["id"])["rotting"] is True
    assert [x["id"] for x in cli.json("list", "--rotting")] == [lead["id"]]
