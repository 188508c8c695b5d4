"""`client list` and `client show`: clients with their contacts (leads), deals and totals."""

from __future__ import annotations

from tests.conftest import NOW


def _two_clients(cli, add_lead):
    ada = add_lead("Ada Lovelace", company="Analytical Engines", deal_value="5000")
    charles = add_lead("Charles Babbage", company="Analytical Engines Ltd")
    grace = add_lead("Grace Hopper", company="Navy", phone="+14155550100")
    cli("convert", ada["id"])
    cli("convert", charles["id"], "--deal-value", "2500.50", "--probability", "40")
    cli("convert", grace["id"], "--no-deal")
    return ada, charles, grace


def test_client_list_json_is_an_array_of_client_objects(cli, add_lead):
    _two_clients(cli, add_lead)
    assert cli.json("client", "list") == [
        {
            "id": 1,
            "name": "Ada Lovelace",
            "company": "Analytical Engines",
            "email": "ada.lovelace@example.com",
            "phone": None,
            "created_at": NOW,
        },
        {
            "id": 2,
            "name": "Grace Hopper",
            "company": "Navy",
            "email": None,
            "phone": "+14155550100",
            "created_at": NOW,
        },
    ]


def test_client_list_table_shows_totals(cli, add_lead):
    _two_clients(cli, add_lead)
    lines = cli("client", "list").stdout.splitlines()
    ada = next(line for line in lines if "Ada Lovelace" in line)
    cells = [cell.strip() for cell in ada.split("│")[1:-1]]
    assert cells[-3:] == ["2", "2", "7,500.50"]
    grace = next(line for line in lines if "Grace Hopper" in line)
    assert [cell.strip() for cell in grace.split("│")[1:-1]][-3:] == ["1", "0", "0"]


def test_client_show_has_contacts_deals_and_totals(cli, add_lead):
    ada, charles, _ = _two_clients(cli, add_lead)
    shown = cli.json("client", "show", "1")
    assert list(shown) == [
        "id",
        "name",
        "company",
        "email",
        "phone",
        "created_at",
        "leads",
        "deals",
        "totals",
    ]
    assert [lead["id"] for lead in shown["leads"]] == [ada["id"], charles["id"]]
    assert all(lead["status"] == "converted" and lead["client_id"] == 1 for lead in shown["leads"])
    assert [(d["lead_id"], d["value"], d["probability"]) for d in shown["deals"]] == [
        (ada["id"], 5000.0, None),
        (charles["id"], 2500.5, 40),
    ]
    # weighted: Ada's deal is not staged yet (the first stage's 10 %), Charles's at 40 %
    assert shown["totals"] == {
        "leads": 2,
        "deals": 2,
        "value": 7500.5,
        "weighted_value": 5000 * 0.1 + 2500.5 * 0.4,
    }
    table = cli("client", "show", "1").stdout
    assert "Contacts" in table and "Deals" in table
    assert "2 lead(s), 2 deal(s), value 7,500.50" in table
    assert "Charles Babbage" in table and "40%" in table


def test_no_clients_yet(cli):
    assert cli.json("client", "list") == []
    result = cli("client", "list")
    assert result.stdout == "" and "no clients yet" in result.stderr


def test_unknown_client_is_not_found(cli):
    result = cli("client", "show", "3", code=1)
    assert result.stderr == "error: no client with id 3\n"
