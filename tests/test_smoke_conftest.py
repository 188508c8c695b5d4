def test_add_and_list_roundtrip(cli, add_lead):
    lead = add_lead("Ada Lovelace", company="Analytical Engines")
    assert lead["id"] == 1
    assert [row["name"] for row in cli.json("list")] == ["Ada Lovelace"]
