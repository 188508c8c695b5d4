"""Clients and deals after convert (issue 14): `client add/edit`, `deal add/list/
edit/stage`, the `deal_stages` setting, the weighted open value of `client show`
and `report summary`'s `pipeline_value`; validation, permissions and JSON shapes.

Users (where a test makes them): ann (admin), meg (manager), rob and rita (reps),
vic (viewer).
"""

from __future__ import annotations

import pytest

from leadctl import clients, settings
from leadctl.errors import InvalidInput
from leadctl.models import Deal
from tests.conftest import NOW
from tests.test_convert import CLIENT_KEYS, DEAL_KEYS
from tests.test_scope import lead, team

STAGES = "qualification, proposal, negotiation, won, lost"


@pytest.fixture
def acme(cli):
    """A client added by hand (id 1), no lead, no deal."""
    return cli.json(
        "client", "add", "Acme", "--company", "Acme Corp", "--email", "buy@acme.example"
    )


# --- clients by hand ----------------------------------------------------------------------


def test_client_add_prints_a_client_object(cli, acme):
    assert list(acme) == CLIENT_KEYS
    assert acme == {
        "id": 1,
        "name": "Acme",
        "company": "Acme Corp",
        "email": "buy@acme.example",
        "phone": None,
        "created_at": NOW,
    }
    result = cli("client", "add", "Initech", "--phone", "(415) 555-0100")
    assert result.stderr == "added client 2: Initech\n"
    assert cli.json("client", "show", "2")["phone"] == "+14155550100"
    shown = cli.json("client", "show", "1")
    assert shown["leads"] == [] and shown["deals"] == []
    assert shown["totals"] == {"leads": 0, "deals": 0, "value": 0, "weighted_value": 0}
    table = cli("client", "show", "1").stdout
    assert "0 lead(s), 0 deal(s), value 0, weighted open value 0" in table
    assert "Contacts" not in table and "Deals" not in table  # no empty tables


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "--email", "a@example.com"], "invalid name: must not be empty"),
        (["Bob", "--email", "not-an-email"], "invalid email 'not-an-email'"),
        (["Bob", "--phone", "12"], "invalid phone '12'"),
    ],
)
def test_client_add_refuses_bad_values(cli, args, message):
    assert message in cli("client", "add", *args, code=1).stderr
    assert cli.json("client", "list") == []


def test_client_add_refuses_a_client_that_exists(cli, acme):
    result = cli("client", "add", "Acme again", "--email", "BUY@acme.example", code=3)
    assert result.stderr.startswith("error: client 1 Acme has the same email")
    result = cli("client", "add", "Acme Inc", "--company", "ACME corp.", code=3)
    assert "client 1 Acme has the same company" in result.stderr
    assert [c["id"] for c in cli.json("client", "list")] == [1]


def test_client_edit_changes_and_clears_fields(cli, acme):
    edited = cli.json(
        "client", "edit", "1", "--name", "Acme Ltd", "--email", "", "--phone", "+14155550100"
    )
    assert (edited["name"], edited["email"], edited["phone"]) == (
        "Acme Ltd",
        None,
        "+14155550100",
    )
    assert (
        cli("client", "edit", "1", "--company", "Acme Corp").stderr == "client 1: nothing changed\n"
    )
    assert cli("client", "edit", "1", "--company", "Roadrunner").stderr == (
        "client 1 updated: company\n"
    )
    assert "nothing to change" in cli("client", "edit", "1", code=1).stderr
    assert "must not be empty" in cli("client", "edit", "1", "--name", " ", code=1).stderr
    assert "invalid email" in cli("client", "edit", "1", "--email", "x@", code=1).stderr
    assert (
        cli("client", "edit", "9", "--name", "X", code=1).stderr == "error: no client with id 9\n"
    )
    assert cli.json("client", "show", "1")["name"] == "Acme Ltd"


# --- deals --------------------------------------------------------------------------------


def test_deal_add_starts_at_the_first_stage_with_its_probability(cli, acme):
    deal = cli.json("deal", "add", "1", "--value", "$20K", "--close-date", "2027-02-01")
    assert list(deal) == DEAL_KEYS
    assert deal == {
        "id": 1,
        "client_id": 1,
        "lead_id": None,
        "value": 20000.0,
        "close_date": "2027-02-01",
        "stage": "qualification",
        "probability": 10,
        "created_at": NOW,
    }
    staged = cli.json("deal", "add", "1", "--stage", "Proposal")
    assert (staged["stage"], staged["probability"], staged["value"]) == ("proposal", 40, None)
    own = cli.json("deal", "add", "1", "--stage", "negotiation", "--probability", "55%")
    assert (own["stage"], own["probability"]) == ("negotiation", 55)
    result = cli("deal", "add", "1", "--value", "5000")
    assert result.stderr == "added deal 4 to client 1: value 5,000, stage qualification (10%)\n"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--value", "-5", "must not be negative"),
        ("--value", "nan", "invalid deal value 'nan'"),
        ("--value", "inf", "invalid deal value 'inf'"),
        ("--close-date", "1850-06-01", "dates must fall between 1900 and 2200"),
        ("--close-date", "2201-01-01", "dates must fall between 1900 and 2200"),
        ("--close-date", "soon", "invalid close date"),
        ("--probability", "101", "from 0 to 100"),
        ("--probability", "-1", "from 0 to 100"),
        ("--probability", "40.5", "from 0 to 100"),
        ("--stage", "closed", f"invalid stage 'closed': expected one of {STAGES}"),
        ("--stage", "open", f"invalid stage 'open': expected one of {STAGES}"),
        ("--lead", "42", "no lead with id 42"),
    ],
)
def test_deal_add_and_edit_refuse_bad_values(cli, acme, option, value, message):
    result = cli("deal", "add", "1", option, value, code=1)
    assert message in result.stderr and result.stderr.startswith("error: ")
    cli("deal", "add", "1")
    result = cli("deal", "edit", "1", option, value, code=1)
    assert message in result.stderr
    assert len(cli.json("deal", "list")) == 1


def test_deal_commands_need_an_existing_client_and_deal(cli, acme):
    assert cli("deal", "add", "7", code=1).stderr == "error: no client with id 7\n"
    assert cli("deal", "stage", "7", "won", code=1).stderr == "error: no deal with id 7\n"
    assert cli("deal", "edit", "7", "--value", "1", code=1).stderr == "error: no deal with id 7\n"
    assert cli("deal", "list", "--client", "7", code=1).stderr == "error: no client with id 7\n"
    cli("deal", "add", "1")
    assert "nothing to change" in cli("deal", "edit", "1", code=1).stderr


def test_deal_stage_moves_the_probability_with_the_stage(cli, acme):
    cli("deal", "add", "1", "--value", "1000")
    assert (
        cli("deal", "stage", "1", "proposal").stderr == "deal 1: qualification → proposal (40%)\n"
    )
    assert cli.json("deal", "stage", "1", "NEGOTIATION")["probability"] == 70
    assert cli.json("deal", "stage", "1", "won")["probability"] == 100
    assert cli.json("deal", "stage", "1", "proposal")["probability"] == 40  # reopened
    lost = cli.json("deal", "stage", "1", "lost")
    assert (lost["stage"], lost["probability"]) == ("lost", 0)
    result = cli("deal", "stage", "1", "signed", code=1)
    assert result.stderr == f"error: invalid stage 'signed': expected one of {STAGES}\n"


def test_an_own_probability_stays_until_the_deal_closes(cli, acme):
    cli("deal", "add", "1", "--probability", "55")
    assert cli.json("deal", "stage", "1", "proposal")["probability"] == 55
    assert cli.json("deal", "stage", "1", "negotiation")["probability"] == 55
    assert cli.json("deal", "stage", "1", "won")["probability"] == 100
    assert cli.json("deal", "stage", "1", "negotiation")["probability"] == 70
    # an own estimate given with the stage wins; '' gives the deal its stage's back
    moved = cli.json("deal", "edit", "1", "--stage", "proposal", "--probability", "65")
    assert (moved["stage"], moved["probability"]) == ("proposal", 65)
    assert cli.json("deal", "edit", "1", "--probability", "")["probability"] == 40


def test_deal_edit_changes_and_clears(cli, acme):
    cli("deal", "add", "1", "--value", "1000", "--close-date", "2027-01-31")
    edited = cli.json("deal", "edit", "1", "--value", "2,500", "--close-date", "2027-03-01")
    assert (edited["value"], edited["close_date"]) == (2500.0, "2027-03-01")
    cleared = cli.json("deal", "edit", "1", "--value", "", "--close-date", "")
    assert (cleared["value"], cleared["close_date"]) == (None, None)
    result = cli("deal", "edit", "1", "--value", "300")
    assert result.stderr == "deal 1: value 300, stage qualification (10%)\n"


def test_a_deal_of_a_lead_is_in_its_timeline(cli, add_lead):
    ada = add_lead("Ada Lovelace", company="Analytical Engines")
    cli("convert", ada["id"], "--no-deal")
    other = add_lead("Grace Hopper")
    upsell = add_lead("Ada Phase 2", "--client", "1")
    deal = cli.json("deal", "add", "1", "--value", "900", "--lead", ada["id"])
    assert deal["lead_id"] == ada["id"]
    cli("deal", "stage", "1", "proposal")
    cli("deal", "edit", "1", "--lead", upsell["id"])
    result = cli("deal", "add", "1", "--lead", other["id"], code=1)
    assert f"lead {other['id']} does not belong to client 1" in result.stderr
    assert f"edit {other['id']} --client 1" in result.stderr
    bodies = [a["body"] for a in cli.json("show", ada["id"])["activities"] if a["kind"] == "deal"]
    assert bodies == [
        "deal 1 added: value 900, stage qualification (10%)",
        "deal 1: stage qualification (10%) → proposal (40%)",
        f"deal 1: lead {ada['id']} → {upsell['id']}",
    ]
    moved = [a for a in cli.json("show", upsell["id"])["activities"] if a["kind"] == "deal"]
    assert len(moved) == 1 and moved[0]["body"] == bodies[-1]
    assert cli.json("deal", "edit", "1", "--lead", "")["lead_id"] is None


def test_deal_list_filters_and_shapes(cli, add_lead, acme):
    ada = add_lead("Ada Lovelace", deal_value="5000")
    cli("convert", ada["id"])  # client 2, deal 1: not staged yet ("open")
    cli("deal", "add", "1", "--value", "20000")  # deal 2
    cli("deal", "add", "1", "--value", "3000", "--stage", "won")  # deal 3
    every = cli.json("deal", "list")
    assert [d["id"] for d in every] == [1, 2, 3]
    assert all(list(d) == DEAL_KEYS for d in every)
    assert every[0]["stage"] == "open" and every[0]["probability"] is None
    assert [d["id"] for d in cli.json("deal", "list", "--client", "1")] == [2, 3]
    assert [d["id"] for d in cli.json("deal", "list", "--stage", "Won")] == [3]
    assert [d["id"] for d in cli.json("deal", "list", "--stage", "open")] == [1]
    result = cli("deal", "list", "--stage", "signed", code=1)
    assert f"expected one of {STAGES}, open" in result.stderr
    lines = cli("deal", "list").stdout.splitlines()
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if "│" in line]
    assert cells == [
        ["1", "2 Ada Lovelace", str(ada["id"]), "5,000", "", "open", "10%", "500"],
        ["2", "1 Acme", "", "20,000", "", "qualification", "10%", "2,000"],
        ["3", "1 Acme", "", "3,000", "", "won", "100%", "0"],
    ]
    # one shape: the deal objects of `deal list` are those of export and client show
    exported = cli.json("export", "--format", "json")
    assert exported[0]["deals"] == [every[0]]
    assert cli.json("client", "show", "1")["deals"] == every[1:]


def test_no_deals_yet(cli):
    assert cli.json("deal", "list") == []
    result = cli("deal", "list")
    assert result.stdout == "" and "no deals" in result.stderr


def test_client_show_totals_weigh_open_deals(cli, acme):
    cli("deal", "add", "1", "--value", "10000", "--stage", "proposal")  # 4,000
    cli("deal", "add", "1", "--value", "2000", "--probability", "25")  # 500
    cli("deal", "add", "1", "--value", "7000", "--stage", "won")  # closed
    cli("deal", "add", "1", "--value", "1000", "--stage", "lost")  # closed
    cli("deal", "add", "1", "--stage", "negotiation")  # no value
    totals = cli.json("client", "show", "1")["totals"]
    assert totals == {"leads": 0, "deals": 5, "value": 20000.0, "weighted_value": 4500.0}
    table = cli("client", "show", "1").stdout
    assert "0 lead(s), 5 deal(s), value 20,000, weighted open value 4,500" in table


# --- the deal_stages setting --------------------------------------------------------------


def test_deal_stages_are_a_setting(cli, acme):
    assert cli("config", "get", "deal_stages").stdout == (
        "qualification:10, proposal:40, negotiation:70, won:100, lost:0\n"
    )
    result = cli("config", "set", "deal_stages", "Lead: 5, Demo=30%, Contract:80, Signed:100")
    assert result.stderr == "deal_stages = Lead:5, Demo:30, Contract:80, Signed:100\n"
    deal = cli.json("deal", "add", "1", "--value", "100")
    assert (deal["stage"], deal["probability"]) == ("Lead", 5)
    assert cli.json("deal", "stage", "1", "demo")["probability"] == 30
    assert cli.json("deal", "stage", "1", "signed")["probability"] == 100
    assert (
        "expected one of Lead, Demo, Contract, Signed"
        in cli("deal", "stage", "1", "proposal", code=1).stderr
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "qualification",
        "a:10,A:20",
        "a:10,b:101",
        "a:10,b:-1",
        "a:10,b:x",
        "won:100,lost:0",  # the first stage must be open
        "a:0,b:50",
        "a:10,:20",
        "a:10,b:nan",
        "a:10,\x1b[2J:20",
    ],
)
def test_deal_stages_are_validated_when_set(cli, value):
    result = cli("config", "set", "deal_stages", value, code=1)
    assert result.stderr.startswith("error: invalid deal_stages")
    assert "qualification:10, proposal:40, negotiation:70, won:100, lost:0" in result.stderr
    assert "probabilities 0-100" in result.stderr
    assert cli("config", "get", "deal_stages").stdout.startswith("qualification:10,")


def test_stage_pairs_and_the_move_rule():
    stages = clients.Stages(settings.stage_pairs("a:10, b = 40 %,Won:100,lost:0"))
    assert stages.names == ["a", "b", "Won", "lost"]
    assert stages.closed == ["Won", "lost"]
    assert stages.default("open") == 10 and stages.is_open("open")
    assert stages.check(" WON ") == "Won"
    with pytest.raises(InvalidInput, match="expected one of a, b, Won, lost$"):
        stages.check("open")
    assert stages.check("open", unstaged=True) == "open"
    deal = Deal(client_id=1, stage="open", probability=None, value=200.0, created_at=None)
    assert stages.probability(deal) == 10 and stages.weighted(deal) == 20.0
    stages.move(deal, "b")
    assert deal.probability == 40
    deal.probability = 60  # an own estimate: kept by open stages, not by closed ones
    stages.move(deal, "a")
    assert deal.probability == 60 and stages.weighted(deal) == 120.0
    stages.move(deal, "lost")
    assert deal.probability == 0 and stages.weighted(deal) == 0.0
    with pytest.raises(InvalidInput):
        settings.stage_pairs("a:10,a:20")


# --- report summary -----------------------------------------------------------------------


def test_summary_counts_the_weighted_open_pipeline(cli, add_lead, acme):
    ada = add_lead("Ada Lovelace", deal_value="5000")
    cli("convert", ada["id"])  # open, not staged: 10 % → 500
    cli("deal", "add", "1", "--value", "10000", "--stage", "proposal")  # 4,000
    cli("deal", "add", "1", "--value", "2000", "--probability", "25")  # 500
    cli("deal", "add", "1", "--value", "7000", "--stage", "won")  # closed: 0
    cli("deal", "add", "1", "--value", "1000", "--stage", "lost", "--probability", "50")  # 0
    row = cli.json("report", "summary")["rows"][0]
    assert row["pipeline_value"] == 5000.0
    assert (row["won"], row["won_value"]) == (1, 5000.0)  # kept: leads converted, their deals
    headers = [h.strip() for h in cli("report", "summary").stdout.splitlines()[2].split("┃")]
    assert "Pipeline value" in headers
    csv_text = cli("report", "summary", "--csv").stdout
    assert csv_text.splitlines()[0].endswith(",pipeline_value")
    assert csv_text.splitlines()[1].endswith(",5000.0")


def test_summary_pipeline_counts_deals_of_the_period(cli, add_lead, acme):
    add_lead("Ada Lovelace")
    cli("deal", "add", "1", "--value", "1000", "--stage", "proposal")
    later = cli.json("report", "summary", "--since", "2026-11-24")["rows"]
    assert later == []  # no lead in that period: an empty report, as before
    before = cli.json("report", "summary", "--until", "2026-11-22")["rows"]
    assert before == []
    assert (
        cli.json("report", "summary", "--since", "2026-11-23")["rows"][0]["pipeline_value"] == 400.0
    )


# --- permissions --------------------------------------------------------------------------


@pytest.fixture
def shared(cli):
    """Client 1 with rita's lead and rob's lead under it (deal 1 on rita's, deal 2 on
    rob's, deal 3 with no lead); client 2 from a pool lead; client 3 added by hand."""
    team(cli)
    ritas = lead(cli, "Rita Client", "--company", "Sharedco", "--assign", "rita")
    robs = lead(cli, "Rob Client", "--company", "Sharedco", "--assign", "rob")
    pool = lead(cli, "Pool Client", "--company", "Poolco")
    cli("--as", "ann", "convert", ritas, "--deal-value", "100")
    cli("--as", "ann", "convert", robs, "--deal-value", "200")
    cli("--as", "ann", "convert", pool, "--deal-value", "400")  # client 2, deal 3
    cli("--as", "ann", "deal", "add", "1", "--value", "1000")  # deal 4, no lead
    cli("--as", "ann", "client", "add", "Handmade")  # client 3
    return {"ritas": ritas, "robs": robs, "pool": pool}


def test_a_rep_changes_a_client_one_of_whose_leads_is_theirs(cli, shared):
    assert cli.json("--as", "rita", "client", "edit", "1", "--phone", "+14155550100")["id"] == 1
    deal = cli.json("--as", "rita", "deal", "add", "1", "--value", "50", "--lead", shared["ritas"])
    assert deal["lead_id"] == shared["ritas"]
    assert cli.json("--as", "rita", "deal", "stage", "4", "proposal")["stage"] == "proposal"
    # any rep works an unowned (pool) lead, so its client too
    assert cli.json("--as", "rob", "deal", "stage", "3", "won")["stage"] == "won"
    assert (
        cli.json("--as", "rob", "client", "edit", "2", "--name", "Pool Ltd")["name"] == "Pool Ltd"
    )


def test_a_rep_may_not_change_what_is_not_theirs(cli, shared):
    result = cli("--as", "rita", "deal", "stage", "2", "won", code=4)  # rob's lead's deal
    assert "may not see lead" in result.stderr
    result = cli("--as", "rita", "deal", "add", "1", "--lead", shared["robs"], code=4)
    assert "may not see lead" in result.stderr
    result = cli("--as", "rita", "client", "edit", "3", "--name", "Mine", code=4)
    assert "none of its leads is theirs to work" in result.stderr
    result = cli("--as", "rita", "deal", "add", "3", code=4)
    assert "may not add a deal to client 3" in result.stderr
    result = cli("--as", "rita", "client", "add", "Own Client", code=4)
    assert (
        "may not add a client by hand" in result.stderr and "managers and admins" in result.stderr
    )
    for verb in (["deal", "stage", "1", "won"], ["client", "edit", "1", "--name", "X"]):
        assert "viewers change nothing" in cli("--as", "vic", *verb, code=4).stderr
    assert cli.json("--as", "ann", "deal", "list", "--stage", "won") == []


def test_managers_and_admins_change_every_client_and_deal(cli, shared):
    assert cli.json("--as", "meg", "client", "add", "By Meg")["id"] == 4
    assert cli.json("--as", "meg", "deal", "add", "3", "--value", "10")["client_id"] == 3
    assert cli.json("--as", "ann", "deal", "stage", "2", "negotiation")["probability"] == 70
    assert cli.json("--as", "meg", "client", "edit", "3", "--company", "Hand")["company"] == "Hand"


def test_a_reps_deal_list_and_pipeline_cover_their_leads(cli, shared):
    rita = [d["id"] for d in cli.json("--as", "rita", "deal", "list")]
    assert rita == [1, 3, 4]  # her lead's, the pool lead's, and client 1's own
    assert [d["id"] for d in cli.json("--as", "rob", "deal", "list", "--client", "1")] == [2, 4]
    assert [d["id"] for d in cli.json("--as", "vic", "deal", "list")] == [1, 2, 3, 4]
    assert [d["id"] for d in cli.json("--as", "rita", "client", "show", "1")["deals"]] == [1, 4]
    lines = cli("--as", "rita", "client", "list").stdout.splitlines()
    row = next(line for line in lines if "Rita Client" in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]][-3:] == ["1", "2", "1,100"]
    everyone = cli.json("--as", "ann", "report", "summary")["rows"][0]["pipeline_value"]
    assert everyone == (100 + 200 + 400 + 1000) * 0.1
    mine = cli.json("--as", "rita", "report", "summary")["rows"][0]["pipeline_value"]
    assert mine == pytest.approx((100 + 400 + 1000) * 0.1)
    assert "your leads" in cli("--as", "rita", "report", "summary").stdout


def test_solo_mode_changes_everything(cli, acme):
    cli("deal", "add", "1")
    cli("deal", "stage", "1", "won")
    cli("client", "edit", "1", "--name", "Acme Solo")
    assert cli.json("client", "show", "1")["name"] == "Acme Solo"


def test_convert_takes_a_listed_stage_with_its_probability(cli, add_lead):
    ada, grace, alan = add_lead("Ada Lovelace"), add_lead("Grace Hopper"), add_lead("Alan Turing")
    staged = cli.json("convert", ada["id"], "--stage", "Negotiation")["deal"]
    assert (staged["stage"], staged["probability"]) == ("negotiation", 70)
    unstaged = cli.json("convert", grace["id"], "--stage", "open")["deal"]
    assert (unstaged["stage"], unstaged["probability"]) == ("open", None)  # as without --stage
    result = cli("convert", alan["id"], "--stage", "signed", code=1)
    assert result.stderr == f"error: invalid stage 'signed': expected one of {STAGES}, open\n"
    assert cli.json("show", alan["id"])["status"] == "new"
