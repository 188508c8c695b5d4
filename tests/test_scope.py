"""What a rep may see bounds clients and reports; merge needs work rights on every
lead; a merged (archived) lead refuses every change.

Users: ann (admin), meg (manager), rob and rita (reps), vic (viewer).
"""

from __future__ import annotations

import pytest

from tests.test_permissions import build


def team(cli):
    cli("user", "add", "ann", "--role", "admin")
    for name, role in (("meg", "manager"), ("rob", "rep"), ("rita", "rep"), ("vic", "viewer")):
        cli("--as", "ann", "user", "add", name, "--role", role)


def lead(cli, name, *args):
    email = f"{name.lower().replace(' ', '.')}@example.com"
    return cli.json("--as", "ann", "add", name, "--email", email, *args)["id"]


# --- clients ------------------------------------------------------------------------------


@pytest.fixture
def converted(cli):
    """Clients converted from rita's lead, rob's lead and a pool lead (in that order)."""
    team(cli)
    ids = {
        "ritas": lead(cli, "Rita Client", "--company", "Ritaco", "--assign", "rita"),
        "robs": lead(cli, "Rob Client", "--company", "Robco", "--assign", "rob"),
        "pool": lead(cli, "Pool Client", "--company", "Poolco"),
    }
    clients = {}
    for kind, lead_id in ids.items():
        clients[kind] = cli.json("--as", "ann", "convert", lead_id, "--deal-value", "100")[
            "client"
        ]["id"]
    return clients


def test_a_reps_client_list_leaves_out_clients_of_other_reps_leads(cli, converted):
    names = [c["name"] for c in cli.json("--as", "rob", "client", "list")]
    assert names == ["Rob Client", "Pool Client"]
    table = cli("--as", "rob", "client", "list").stdout
    assert "Rita Client" not in table and "Ritaco" not in table
    for boss in ("ann", "meg", "vic"):
        everyone = [c["name"] for c in cli.json("--as", boss, "client", "list")]
        assert everyone == ["Rita Client", "Rob Client", "Pool Client"]


def test_a_rep_may_not_show_a_client_of_another_reps_lead(cli, converted):
    result = cli("--as", "rob", "client", "show", converted["ritas"], code=4)
    assert "may not see client" in result.stderr
    assert "Rita" not in result.stdout
    shown = cli.json("--as", "rob", "client", "show", converted["robs"])
    assert [contact["name"] for contact in shown["leads"]] == ["Rob Client"]
    assert cli.json("--as", "rita", "client", "show", converted["ritas"])["totals"]["deals"] == 1
    assert cli.json("--as", "vic", "client", "show", converted["ritas"])["totals"]["leads"] == 1


def test_a_rep_may_not_join_a_client_of_another_reps_lead(cli, converted):
    mine = lead(cli, "Rob Second", "--assign", "rob")
    result = cli("--as", "rob", "convert", mine, "--client", converted["ritas"], code=4)
    assert "may not see client" in result.stderr and "Rita" not in result.stderr
    assert cli.json("--as", "ann", "show", mine)["status"] == "new"
    done = cli.json("--as", "rob", "convert", mine, "--client", converted["robs"])
    assert done["client"]["id"] == converted["robs"]


def test_a_rep_may_not_attach_a_lead_to_a_client_of_another_reps_lead(cli, converted):
    mine = lead(cli, "Rob Fourth", "--assign", "rob")
    result = cli("--as", "rob", "edit", mine, "--client", converted["ritas"], code=4)
    assert "may not see client" in result.stderr and "Rita" not in result.stderr
    added = cli("--as", "rob", "add", "Rob Fifth", "--email", "r5@example.com",
                "--client", converted["ritas"], code=4)  # fmt: skip
    assert "may not see client" in added.stderr
    assert cli.json("--as", "ann", "show", mine)["client_id"] is None
    assert "Rob Fifth" not in {x["name"] for x in cli.json("--as", "ann", "list", "--limit", "0")}
    assert (
        cli.json("--as", "rob", "edit", mine, "--client", converted["robs"])["client_id"]
        == (converted["robs"])
    )
    assert (
        cli.json("--as", "meg", "edit", mine, "--client", converted["ritas"])["client_id"]
        == (converted["ritas"])
    )


def test_a_reps_conversion_matches_only_clients_the_rep_may_see(cli, converted):
    same_company = lead(cli, "Rob Third", "--company", "Ritaco", "--assign", "rob")
    done = cli.json("--as", "rob", "convert", same_company, "--no-deal")
    assert done["client"]["id"] not in converted.values()  # a new client, not rita's
    pool_company = lead(cli, "Rob Fourth", "--company", "Poolco", "--assign", "rob")
    done = cli.json("--as", "rob", "convert", pool_company, "--no-deal")
    assert done["client"]["id"] == converted["pool"]
    boss = lead(cli, "Meg Lead", "--company", "Ritaco")
    assert (
        cli.json("--as", "meg", "convert", boss, "--no-deal")["client"]["id"] == converted["ritas"]
    )


# --- reports ------------------------------------------------------------------------------


@pytest.fixture
def history(cli):
    """Rita's two leads, rob's one, one in the pool; a call logged on each owned lead."""
    team(cli)
    ritas = [lead(cli, "Rita One", "--assign", "rita"), lead(cli, "Rita Two", "--assign", "rita")]
    robs = lead(cli, "Rob One", "--assign", "rob")
    lead(cli, "Pool One")
    for lead_id in ritas:
        cli("--as", "rita", "log", lead_id, "--type", "call")
        cli("--as", "rita", "status", lead_id, "qualified")
    cli("--as", "rob", "log", robs, "--type", "call")
    cli("--as", "ann", "convert", ritas[0], "--deal-value", "500")
    return ritas, robs


def leads_in(report: dict) -> int:
    """How many leads a report's rows cover."""
    rows = report["rows"]
    if report["report"] == "funnel":
        return rows[0]["leads"] if rows else 0
    return sum(row["leads"] for row in rows)


NAMES = ["funnel", "sources", "reps", "aging", "trend", "summary"]
WORKING = 3  # aging counts the leads still worked: all but the converted one


@pytest.mark.parametrize("name", NAMES)
def test_a_reps_reports_count_only_the_leads_the_rep_may_see(cli, history, name):
    everyone = 4 if name != "aging" else WORKING
    for boss in ("ann", "meg", "vic"):
        assert leads_in(cli.json("--as", boss, "report", name)) == everyone
    assert leads_in(cli.json("--as", "rob", "report", name)) == 2  # his own and the pool's
    assert leads_in(cli.json("--as", "rita", "report", name)) == (3 if name != "aging" else 2)


@pytest.mark.parametrize("name", NAMES)
def test_a_reps_report_title_says_it_covers_their_leads(cli, history, name):
    assert "your leads" in cli("--as", "rob", "report", name).stdout
    assert "your leads" not in cli("--as", "meg", "report", name).stdout
    assert cli.json("--as", "rob", "report", name)["report"] == name


def test_a_reps_reports_leave_out_other_reps_work_and_wins(cli, history):
    reps = {row["owner"]: row for row in cli.json("--as", "rob", "report", "reps")["rows"]}
    assert set(reps) == {"rob", None}
    assert reps["rob"]["activities"] == 1
    summary = cli.json("--as", "rob", "report", "summary")["rows"][0]
    assert (summary["won"], summary["won_value"]) == (0, 0)
    everyone = cli.json("--as", "meg", "report", "summary")["rows"][0]
    assert (everyone["won"], everyone["won_value"]) == (1, 500)
    sources = cli.json("--as", "rob", "report", "sources")["rows"]
    assert sum(row["qualified"] for row in sources) == 0


def test_a_reps_report_as_of_a_moment_keeps_the_scope(cli, history):
    until = ["--until", "2026-11-24"]
    assert leads_in(cli.json("--as", "rob", "report", "aging", *until)) == 2
    assert leads_in(cli.json("--as", "meg", "report", "aging", *until)) == WORKING
    assert cli.json("--as", "rob", "report", "summary", *until)["rows"][0]["leads"] == 2


# --- merge --------------------------------------------------------------------------------


def test_merge_needs_work_rights_on_every_lead(cli):
    actor, ids = build(cli, "rep")
    free = cli.json("--as", "ann", "add", "Free", "--email", "free@example.com")["id"]
    result = cli("--as", actor, "merge", ids["mine"], ids["held"], code=3)
    assert "claimed by rita" in result.stderr
    result = cli("--as", actor, "merge", ids["mine"], ids["ritas"], code=4)
    assert "may not see lead" in result.stderr
    result = cli("--as", actor, "merge", ids["ritas"], ids["mine"], code=4)
    assert "Ritas" not in result.stderr  # nothing said about a lead the rep may not see
    assert listed(cli) == {*ids.values(), free}  # nothing archived
    cli("--as", actor, "merge", ids["mine"], ids["pool"], free)
    assert listed(cli) == {ids["mine"], ids["held"], ids["ritas"]}


def test_a_manager_may_merge_any_lead(cli):
    _, ids = build(cli, "manager")
    cli("--as", "meg", "merge", ids["mine"], ids["ritas"], ids["held"])
    assert listed(cli) == {ids["mine"], ids["pool"]}


def listed(cli):
    """Ids of the active (not archived) leads."""
    return {lead["id"] for lead in cli.json("--as", "ann", "list", "--limit", "0")}


# --- a merged lead refuses every change ---------------------------------------------------

CHANGES = {
    "status": ["contacted"],
    "schedule": ["tomorrow"],
    "log": ["--type", "call"],
    "note": ["hello"],
    "edit": ["--title", "CTO"],
    "score": ["--adjust", "5", "--reason", "met them"],
    "claim": [],
    "release": [],
    "assign": ["--to", "me"],
    "convert": ["--no-deal"],
    "merge": ["KEEP"],
}


@pytest.mark.parametrize("role", ["solo", "admin", "rep"])
@pytest.mark.parametrize("command", list(CHANGES))
def test_a_merged_lead_refuses_every_change(cli, role, command):
    as_actor = [] if role == "solo" else ["--as", {"admin": "ann", "rep": "rob"}[role]]
    if role != "solo":
        team(cli)
    boss = [] if role == "solo" else ["--as", "ann"]
    owner = [] if role != "rep" else ["--assign", "rob"]
    keep = cli.json(*boss, "add", "Ada", "--email", "ada@example.com", *owner)["id"]
    gone = cli.json(*boss, "add", "Ada B", "--email", "ada.b@example.com", *owner)["id"]
    other = cli.json(*boss, "add", "Bea", "--email", "bea@example.com", *owner)["id"]
    cli(*boss, "merge", keep, gone)
    before = cli.json(*boss, "show", gone)
    args = [other if a == "KEEP" else a for a in CHANGES[command]]
    if command == "merge":  # the archived lead as the one to keep
        args = [gone, other]
        result = cli(*as_actor, command, *args, code=3)
    else:
        result = cli(*as_actor, command, gone, *args, code=3)
    assert f"lead {gone} was merged into lead {keep}" in result.stderr
    after = cli.json(*boss, "show", gone)
    assert after == before


def test_score_without_ids_writes_only_what_the_actor_may_change(cli):
    """A viewer changes nothing (exit 4); a rep's run covers, and counts, only the
    leads the rep may see; a manager's covers every lead."""
    team(cli)
    lead(cli, "Rita Own", "--assign", "rita")
    lead(cli, "Rob Own", "--assign", "rob")
    lead(cli, "Pool One")
    assert "manage permission" in cli("--as", "vic", "score", code=4).stderr
    assert cli.json("--as", "rob", "score")["rescored"] == 2  # his lead and the pool's
    assert cli.json("--as", "meg", "score")["rescored"] == 3
