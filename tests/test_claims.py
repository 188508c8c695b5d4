"""The pool: claim, claim --next, claim --release-expired, release, assign, list filters."""

from __future__ import annotations

import pytest

LATER = "2026-11-24T10:00:00Z"  # past the default 24 h window of a claim made at NOW


@pytest.fixture
def pool(add_lead):
    """Three leads, scores made different directly in the database."""
    ids = [add_lead(name)["id"] for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing")]
    set_scores(dict(zip(ids, (40, 90, 90), strict=True)))
    return ids


def set_scores(scores):
    """Scores are another issue's business; tests of the pool set them directly."""
    import os

    from tests.engines import Sql

    with Sql(os.environ["LEADCTL_DB"]) as sql:
        for lead_id, score in scores.items():
            sql("UPDATE lead SET score = :score WHERE id = :id", score=score, id=lead_id)


def kinds(cli, lead_id):
    return [(a["kind"], a["actor"]) for a in cli.json("show", lead_id)["activities"]]


def test_claim_holds_a_lead_for_the_default_window(cli, add_lead):
    lead = add_lead()
    claimed = cli.json("claim", lead["id"])
    assert claimed["id"] == lead["id"]
    assert claimed["claimed_by"] == "tester"
    assert claimed["claim_expires_at"] == "2026-11-24T09:00:00Z"
    assert ("claim", "tester") in kinds(cli, lead["id"])


def test_claim_hours_and_the_setting(cli, add_lead):
    lead = add_lead()
    assert cli.json("claim", lead["id"], "--hours", "2")["claim_expires_at"] == (
        "2026-11-23T11:00:00Z"
    )
    cli("config", "set", "claim_hours", "48")
    other = add_lead("Grace Hopper")
    assert cli.json("claim", other["id"])["claim_expires_at"] == "2026-11-25T09:00:00Z"


@pytest.mark.parametrize("hours", ["0", "-1", "9000", "1e9", "nan"])
def test_claim_refuses_absurd_hours(cli, add_lead, hours):
    lead = add_lead()
    result = cli("claim", lead["id"], "--hours", hours, code=1)
    assert "--hours" in result.stderr


def test_claim_held_by_someone_else_names_holder_and_end(cli, add_lead):
    lead = add_lead()
    cli("--as", "bob", "claim", lead["id"])
    result = cli("claim", lead["id"], code=3)
    assert "claimed by bob until 2026-11-24 09:00" in result.stderr


def test_claim_renews_your_own_claim(cli, add_lead):
    lead = add_lead()
    cli("claim", lead["id"], "--hours", "1")
    assert cli.json("claim", lead["id"], "--hours", "5")["claim_expires_at"] == (
        "2026-11-23T14:00:00Z"
    )


def test_an_expired_claim_can_be_taken(cli, add_lead, monkeypatch):
    lead = add_lead()
    cli("--as", "bob", "claim", lead["id"])
    monkeypatch.setenv("LEADCTL_NOW", LATER)
    assert cli.json("claim", lead["id"])["claimed_by"] == "tester"
    claims = [a for a in cli.json("show", lead["id"])["activities"] if a["kind"] == "claim"]
    assert [(a["old_value"], a["new_value"]) for a in claims] == [(None, "bob"), ("bob", "tester")]


def test_claim_next_takes_over_expired_claims(cli, add_lead, monkeypatch):
    lead = add_lead()
    cli("--as", "bob", "claim", lead["id"], "--hours", "1")
    cli("claim", "--next", code=1)
    monkeypatch.setenv("LEADCTL_NOW", LATER)
    assert cli.json("claim", "--next")["id"] == lead["id"]
    last = cli.json("show", lead["id"])["activities"][-1]
    assert (last["kind"], last["old_value"], last["new_value"]) == ("claim", "bob", "tester")


def test_claiming_a_final_lead_is_a_conflict(cli, add_lead):
    lead = add_lead()
    cli("status", lead["id"], "lost", "--reason", "Other")
    assert "final status" in cli("claim", lead["id"], code=3).stderr


def test_claiming_an_owned_lead_is_a_conflict(cli, add_lead):
    lead = add_lead("Ada Lovelace", "--assign", "bob")
    assert "owned by bob" in cli("claim", lead["id"], code=3).stderr


def test_claim_several_is_all_or_nothing(cli, add_lead):
    first, second = add_lead()["id"], add_lead("Grace Hopper")["id"]
    cli("--as", "bob", "claim", second)
    cli("claim", first, second, code=3)
    assert cli.json("show", first)["claimed_by"] is None
    cli("claim", first, "99", code=1)  # an unknown id: nothing claimed either
    assert cli.json("show", first)["claimed_by"] is None


def test_claim_several_prints_an_array(cli, add_lead):
    ids = [add_lead()["id"], add_lead("Grace Hopper")["id"]]
    assert [lead["id"] for lead in cli.json("claim", *ids)] == ids


def test_claim_unknown_lead_is_exit_1(cli):
    cli("claim", "42", code=1)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["1", "--next"],
        ["--next", "--release-expired"],
        ["1", "--count", "2"],
        ["--release-expired", "--hours", "3"],
    ],
)
def test_claim_flags_that_do_not_go_together_are_usage_errors(cli, args):
    cli("claim", *args, code=2)


def test_claim_next_takes_the_best_then_oldest(cli, pool):
    assert cli.json("claim", "--next")["id"] == pool[1]  # 90, older than the other 90
    assert [lead["id"] for lead in cli.json("claim", "--next", "--count", "5")] == [
        pool[2],
        pool[0],
    ]
    result = cli("claim", "--next", code=1)
    assert "no unclaimed leads left" in result.stderr


def test_claim_next_skips_claimed_owned_and_final_leads(cli, pool):
    cli("--as", "bob", "claim", pool[1])
    cli("assign", pool[2], "--to", "carol")
    cli("status", pool[0], "lost", "--reason", "Other")
    cli("claim", "--next", code=1)


def test_claim_next_with_count_prints_an_array(cli, pool):
    assert len(cli.json("claim", "--next", "--count", "1")) == 1
    cli("claim", "--next", "--count", "0", code=1)


def test_release_expired_is_quiet_idempotent_and_counts(cli, pool, monkeypatch):
    assert cli("claim", "--release-expired").stdout == ""
    assert cli.json("claim", "--release-expired") == {"released": 0, "ids": []}
    cli("--as", "bob", "claim", pool[0], pool[1])
    cli("claim", pool[2], "--hours", "48")
    monkeypatch.setenv("LEADCTL_NOW", LATER)
    assert cli("claim", "--release-expired").stdout == "released 2\n"
    assert cli("claim", "--release-expired").stdout == ""
    assert cli.json("show", pool[0])["claimed_by"] is None
    assert cli.json("show", pool[2])["claimed_by"] == "tester"
    release = [a for a in cli.json("show", pool[1])["activities"] if a["kind"] == "release"]
    assert len(release) == 1 and release[0]["body"] == "claim expired"


def test_release_expired_json_lists_ids(cli, pool, monkeypatch):
    cli("claim", pool[0], pool[2])
    monkeypatch.setenv("LEADCTL_NOW", LATER)
    assert cli.json("claim", "--release-expired") == {"released": 2, "ids": sorted(pool[::2])}


def test_release_expired_leaves_owned_leads(cli, pool, monkeypatch):
    cli("claim", pool[0])
    cli("assign", pool[0], "--to", "me")
    monkeypatch.setenv("LEADCTL_NOW", LATER)
    assert cli.json("claim", "--release-expired")["released"] == 0
    assert cli.json("show", pool[0])["owner"] == "tester"


def test_release_ends_your_claim_then_your_ownership(cli, add_lead):
    lead = add_lead()["id"]
    cli("claim", lead)
    released = cli.json("release", lead)
    assert released["claimed_by"] is None and released["claim_expires_at"] is None
    assert "neither claimed nor owned" in cli("release", lead, code=3).stderr
    cli("assign", lead, "--to", "me")
    assert cli.json("release", lead)["owner"] is None
    assert [k for k, _ in kinds(cli, lead)].count("release") == 2


def test_assign_to_me_ends_the_claim(cli, add_lead):
    lead = add_lead()["id"]
    cli("--as", "bob", "claim", lead)
    assigned = cli.json("--as", "bob", "assign", lead, "--to", "me")
    assert assigned["owner"] == "bob"
    assert assigned["claimed_by"] is None
    body = [a["body"] for a in cli.json("show", lead)["activities"] if a["kind"] == "assign"]
    assert body == ["ended claim by bob"]


def test_assign_several_prints_an_array_and_needs_one_target(cli, pool):
    assert [lead["owner"] for lead in cli.json("assign", *pool, "--to", "ann")] == ["ann"] * 3
    cli("assign", pool[0], code=2)
    cli("assign", pool[0], "--to", "ann", "--round-robin", "ann,bob", code=2)
    cli("assign", "99", "--to", "ann", code=1)


def test_round_robin_spreads_evenly_and_continues(cli, add_lead):
    ids = [add_lead(f"Lead {n}", email=f"l{n}@example.com")["id"] for n in range(7)]
    first = cli.json("assign", *ids[:4], "--round-robin", "ann,bob,cy")
    assert [lead["owner"] for lead in first] == ["ann", "bob", "cy", "ann"]
    second = cli.json("assign", *ids[4:], "--round-robin", "ann,bob,cy")
    assert [lead["owner"] for lead in second] == ["bob", "cy", "ann"]
    owners = [cli.json("show", i)["owner"] for i in ids]
    assert sorted(owners.count(name) for name in ("ann", "bob", "cy")) == [2, 2, 3]
    body = {a["body"] for a in cli.json("show", ids[0])["activities"] if a["kind"] == "assign"}
    assert body == {"round robin"}


def test_list_owner_and_claimed_filters(cli, pool):
    cli("assign", pool[0], "--to", "me")
    cli("assign", pool[1], "--to", "bob")
    cli("claim", pool[2])

    def ids(*args):
        return sorted(lead["id"] for lead in cli.json("list", *args))

    assert ids("--owner", "me") == [pool[0]]
    assert ids("--owner", "bob") == [pool[1]]
    assert ids("--owner", "unassigned") == [pool[2]]
    assert ids("--claimed") == [pool[2]]


def test_add_assign_is_recorded_and_checks_users(cli, add_lead):
    lead = add_lead("Ada Lovelace", "--assign", "me")
    assert lead["owner"] == "tester"
    assert ("assign", "tester") in kinds(cli, lead["id"])
    cli("user", "add", "tester", "--role", "admin")
    result = cli("add", "Grace Hopper", "--email", "g@example.com", "--assign", "nobody", code=1)
    assert "unknown user 'nobody'" in result.stderr


def test_human_output(cli, add_lead):
    lead = add_lead()["id"]
    result = cli("claim", lead)
    assert result.stdout == ""
    assert "claimed lead 1 (Ada Lovelace, score 0) until 2026-11-24 09:00" in result.stderr
    assert "is owned by ann" in cli("assign", lead, "--to", "ann").stderr
    assert "released lead 1" in cli("release", lead).stderr


@pytest.mark.sqlite_only
def test_pool_queries_use_their_indexes(cli, pool, db_path, monkeypatch):
    """claim --next walks ix_lead_pool; release-expired finds claims by ix_lead_claim_expiry."""
    import sqlite3

    from sqlalchemy import event

    from leadctl import claims, users
    from leadctl.storage import open_database

    cli("claim", pool[0], "--hours", "1")
    monkeypatch.setenv("LEADCTL_NOW", LATER)
    database = open_database(str(db_path))
    seen: list[tuple[str, tuple]] = []
    event.listen(
        database.engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, params, *_: seen.append((sql, params)),
    )
    with database.session(immediate=True) as session:
        who = users.actor(session, "tester")
        claims.release_expired(session, who)
        claims.claim_next(session, who)
    database.close()
    plans = []
    with sqlite3.connect(db_path) as conn:
        for sql, params in seen:
            if sql.startswith("SELECT lead.id, lead.claimed_by"):
                plans += [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    conn.close()
    assert any("ix_lead_claim_expiry" in plan for plan in plans), plans
    assert any("ix_lead_pool" in plan for plan in plans), plans
    assert not any("TEMP B-TREE" in plan for plan in plans), plans
