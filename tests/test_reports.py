"""Reports, checked against figures computed by hand from a small history built at
known times (``LEADCTL_NOW`` moves between steps).

The history (all 2026, UTC; the report runs at the fixture's NOW, 11-23 09:00):

| id | lead    | source   | owner | created     | then                                         |
|----|---------|----------|-------|-------------|----------------------------------------------|
| 1  | Ada     | Website  | alice | 11-02 09:00 | call 11-02 15:00 (alice), contacted 11-03    |
|    |         |          |       |             | 09:00, qualified 11-05 09:00, converted      |
|    |         |          |       |             | 11-09 09:00 (deal 5,000)                     |
| 2  | Edsger  | Referral | —     | 11-02 09:00 | meeting 11-12 09:00 (tester); still new      |
| 3  | Grace   | Website  | bob   | 11-02 12:00 | call 11-03 00:00 (bob), contacted 11-04      |
|    |         |          |       |             | 21:00, lost 11-06 09:00                      |
| 4  | Alan    | Referral | alice | 11-10 09:00 | email 11-11 09:00 (alice), converted from    |
|    |         |          |       |             | new 11-14 09:00 (deal 3,000)                 |
| 5  | Barbara | LinkedIn | bob   | 11-16 09:00 | contacted 11-16 15:00, nurture 11-18 09:00   |
| 6  | Donald  | —        | —     | 11-20 09:00 | qualified (skipping contacted) 11-21 09:00,  |
|    |         |          |       |             | next call 12-01                              |

All times are whole multiples of three hours, so every duration is exact in
binary and the rounded medians below are exactly what a person computes.
"""

from __future__ import annotations

import csv
import io

import pytest

REPORTS = ["funnel", "sources", "reps", "aging", "trend", "summary"]


@pytest.fixture
def history(cli, add_lead, monkeypatch, sql):
    def at(when: str) -> None:
        monkeypatch.setenv("LEADCTL_NOW", f"2026-{when}:00Z")

    at("11-02T09:00")
    add_lead("Ada Lovelace", "--assign", "alice", source="Website", deal_value="5000")
    add_lead("Edsger Dijkstra", source="Referral")
    at("11-02T12:00")
    add_lead("Grace Hopper", "--assign", "bob", source="Website")
    at("11-02T15:00")
    cli("--as", "alice", "log", "1", "--type", "call")
    at("11-03T00:00")
    cli("--as", "bob", "log", "3", "--type", "call")
    at("11-03T09:00")
    cli("status", "1", "contacted")
    at("11-04T21:00")
    cli("status", "3", "contacted")
    at("11-05T09:00")
    cli("status", "1", "qualified")
    at("11-06T09:00")
    cli("status", "3", "lost", "--reason", "No budget")
    at("11-09T09:00")
    cli("convert", "1")
    at("11-10T09:00")
    add_lead("Alan Turing", "--assign", "alice", source="Referral")
    at("11-11T09:00")
    cli("--as", "alice", "log", "4", "--type", "email")
    at("11-12T09:00")
    cli("log", "2", "--type", "meeting")
    at("11-14T09:00")
    cli("convert", "4", "--deal-value", "3000")
    at("11-16T09:00")
    add_lead("Barbara Liskov", "--assign", "bob", source="LinkedIn")
    at("11-16T15:00")
    cli("status", "5", "contacted")
    at("11-18T09:00")
    cli("status", "5", "nurture")
    at("11-20T09:00")
    add_lead("Donald Knuth")
    at("11-21T09:00")
    cli("status", "6", "qualified")
    cli("schedule", "6", "2026-12-01T09:00")
    at("11-23T09:00")
    # band is the scorer's business; pin two hot leads so the summary has one to count
    sql("UPDATE lead SET band = 'hot' WHERE id IN (2, 6)")
    return cli


def rows(cli, name: str, *options: str) -> list[dict]:
    document = cli.json("report", name, *options)
    assert document["report"] == name
    return document["rows"]


def test_funnel(history):
    assert rows(history, "funnel") == [
        {"status": "new", "leads": 6, "of_previous": None, "median_days": 0.0},
        {"status": "contacted", "leads": 5, "of_previous": 0.8333, "median_days": 1.0},
        {"status": "qualified", "leads": 3, "of_previous": 0.6, "median_days": 3.0},
        {"status": "converted", "leads": 2, "of_previous": 0.6667, "median_days": 5.5},
    ]


def test_funnel_for_a_period(history):
    # leads created since Nov 9: Alan, Barbara, Donald
    assert rows(history, "funnel", "--since", "2026-11-09") == [
        {"status": "new", "leads": 3, "of_previous": None, "median_days": 0.0},
        {"status": "contacted", "leads": 3, "of_previous": 1.0, "median_days": 1.0},
        {"status": "qualified", "leads": 2, "of_previous": 0.6667, "median_days": 2.5},
        {"status": "converted", "leads": 1, "of_previous": 0.5, "median_days": 4.0},
    ]
    # as it stood at the end of Nov 5: Ada, Edsger, Grace; Ada qualified that morning
    assert rows(history, "funnel", "--until", "2026-11-05") == [
        {"status": "new", "leads": 3, "of_previous": None, "median_days": 0.0},
        {"status": "contacted", "leads": 2, "of_previous": 0.6667, "median_days": 1.69},
        {"status": "qualified", "leads": 1, "of_previous": 0.5, "median_days": 3.0},
        {"status": "converted", "leads": 0, "of_previous": 0.0, "median_days": None},
    ]


def test_sources(history):
    scores = {lead["id"]: lead["score"] for lead in history.json("list", "--all", "--limit", "0")}
    scores |= {1: history.json("show", "1")["score"], 4: history.json("show", "4")["score"]}

    def avg(*ids: int) -> float:
        return round(sum(scores[i] for i in ids) / len(ids), 1)

    assert rows(history, "sources") == [
        {"source": "Referral", "leads": 2, "contacted": 1, "qualified": 1, "converted": 1,
         "conversion_rate": 0.5, "avg_score": avg(2, 4)},
        {"source": "Website", "leads": 2, "contacted": 2, "qualified": 1, "converted": 1,
         "conversion_rate": 0.5, "avg_score": avg(1, 3)},
        {"source": "LinkedIn", "leads": 1, "contacted": 1, "qualified": 0, "converted": 0,
         "conversion_rate": 0.0, "avg_score": avg(5)},
        {"source": None, "leads": 1, "contacted": 1, "qualified": 1, "converted": 0,
         "conversion_rate": 0.0, "avg_score": avg(6)},
    ]  # fmt: skip


def test_reps(history):
    assert rows(history, "reps") == [
        # Ada answered in 6 h, Alan in 24 h
        {"owner": "alice", "leads": 2, "activities": 2, "median_first_response_hours": 15.0,
         "conversions": 2, "conversion_rate": 1.0},
        # Grace in 12 h, Barbara (moved to contacted) in 6 h
        {"owner": "bob", "leads": 2, "activities": 1, "median_first_response_hours": 9.0,
         "conversions": 0, "conversion_rate": 0.0},
        # logged a meeting, owns nothing
        {"owner": "tester", "leads": 0, "activities": 1, "median_first_response_hours": None,
         "conversions": 0, "conversion_rate": None},
        # Edsger met after 240 h, Donald qualified after 24 h
        {"owner": None, "leads": 2, "activities": 0, "median_first_response_hours": 132.0,
         "conversions": 0, "conversion_rate": 0.0},
    ]  # fmt: skip
    assert rows(history, "reps", "--since", "2026-11-10", "--until", "2026-11-12") == [
        {"owner": "alice", "leads": 1, "activities": 1, "median_first_response_hours": 24.0,
         "conversions": 0, "conversion_rate": 0.0},
        {"owner": "tester", "leads": 0, "activities": 1, "median_first_response_hours": None,
         "conversions": 0, "conversion_rate": None},
    ]  # fmt: skip


def test_aging(history):
    # stuck: longer in the status than its rot time (new 2 days, contacted 7,
    # qualified 14, nurture 30)
    assert rows(history, "aging") == [
        {"status": "new", "leads": 1, "median_days": 21.0, "max_days": 21.0,
         "rots_after_days": 2.0, "stuck": 1},
        {"status": "contacted", "leads": 0, "median_days": None, "max_days": None,
         "rots_after_days": 7.0, "stuck": 0},
        {"status": "qualified", "leads": 1, "median_days": 2.0, "max_days": 2.0,
         "rots_after_days": 14.0, "stuck": 0},
        {"status": "nurture", "leads": 1, "median_days": 5.0, "max_days": 5.0,
         "rots_after_days": 30.0, "stuck": 0},
    ]  # fmt: skip
    # each status's own time
    history("statuses", "set", "new", "--rots-after", "30d")
    history("statuses", "set", "qualified", "--rots-after", "1d")
    found = rows(history, "aging")
    assert [(r["status"], r["rots_after_days"], r["stuck"]) for r in found] == [
        ("new", 30.0, 0), ("contacted", 7.0, 0), ("qualified", 1.0, 1), ("nurture", 30.0, 0),
    ]  # fmt: skip
    history("statuses", "set", "qualified", "--rots-after", "off")  # no rot time: never stuck
    assert rows(history, "aging")[2]["rots_after_days"] is None
    assert rows(history, "aging")[2]["stuck"] == 0
    assert "stuck_days" in history("config", "get", "stuck_days", code=1).stderr


def test_aging_as_of_a_past_moment(history):
    # at Nov 5 09:00 Ada had been contacted 2 days (her qualification is that very
    # moment, so not yet), Grace 0.5 days; Edsger new for 3 days
    assert rows(history, "aging", "--until", "2026-11-05T09:00") == [
        {"status": "new", "leads": 1, "median_days": 3.0, "max_days": 3.0,
         "rots_after_days": 2.0, "stuck": 1},
        {"status": "contacted", "leads": 2, "median_days": 1.25, "max_days": 2.0,
         "rots_after_days": 7.0, "stuck": 0},
        {"status": "qualified", "leads": 0, "median_days": None, "max_days": None,
         "rots_after_days": 14.0, "stuck": 0},
        {"status": "nurture", "leads": 0, "median_days": None, "max_days": None,
         "rots_after_days": 30.0, "stuck": 0},
    ]  # fmt: skip


def test_aging_now_agrees_with_the_history(history):
    assert rows(history, "aging", "--until", "2026-11-23T09:00") == rows(history, "aging")


def test_trend(history):
    assert rows(history, "trend") == [
        {"period": "2026-W45", "leads": 3},
        {"period": "2026-W46", "leads": 1},
        {"period": "2026-W47", "leads": 2},
    ]
    assert rows(history, "trend", "--by", "month") == [{"period": "2026-11", "leads": 6}]
    assert rows(history, "trend", "--per-source") == [
        {"period": "2026-W45", "source": "Referral", "leads": 1},
        {"period": "2026-W45", "source": "Website", "leads": 2},
        {"period": "2026-W46", "source": "Referral", "leads": 1},
        {"period": "2026-W47", "source": "LinkedIn", "leads": 1},
        {"period": "2026-W47", "source": None, "leads": 1},
    ]


def test_trend_shows_empty_periods(cli, add_lead, monkeypatch):
    monkeypatch.setenv("LEADCTL_NOW", "2026-10-30T09:00:00Z")
    add_lead("Ada Lovelace")
    monkeypatch.setenv("LEADCTL_NOW", "2027-01-04T09:00:00Z")
    add_lead("Grace Hopper")
    assert rows(cli, "trend", "--by", "month") == [
        {"period": "2026-10", "leads": 1},
        {"period": "2026-11", "leads": 0},
        {"period": "2026-12", "leads": 0},
        {"period": "2027-01", "leads": 1},
    ]
    weeks = rows(cli, "trend")
    assert (weeks[0], weeks[-1], len(weeks)) == (
        {"period": "2026-W44", "leads": 1},
        {"period": "2027-W01", "leads": 1},
        11,  # 2026 has an ISO week 53
    )
    assert weeks[-2] == {"period": "2026-W53", "leads": 0}


def test_summary(history):
    assert rows(history, "summary") == [
        {"leads": 6, "open": 3, "won": 2, "won_value": 8000.0, "median_days_to_qualified": 3.0,
         "hot_without_next_call": 1, "pipeline_value": 800.0},
    ]  # fmt: skip
    assert rows(history, "summary", "--until", "2026-11-05T09:00") == [
        {"leads": 3, "open": 3, "won": 0, "won_value": 0.0, "median_days_to_qualified": None,
         "hot_without_next_call": 1, "pipeline_value": 0.0},
    ]  # fmt: skip


def _table(text: str) -> tuple[list[str], list[list[str]]]:
    lines = text.splitlines()
    header = next(line for line in lines if "┃" in line)
    headers = [cell.strip() for cell in header.split("┃")[1:-1]]
    body = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]
    return headers, body


def _shown(value: object, key: str) -> str:
    """How the table shows a JSON value (rates as percentages)."""
    if value is None:
        return {"source": "(no source)", "owner": "(unassigned)"}.get(key, "—")
    if isinstance(value, float):
        if key.endswith("rate") or key == "of_previous":
            return f"{value * 100:.1f}%"
        if key.endswith("_value"):  # money: won_value, pipeline_value
            return f"{value:,.0f}"
        return str(value)  # days, hours, scores: the JSON value
    return f"{value:,}" if isinstance(value, int) else str(value)


@pytest.mark.parametrize(
    "args",
    [
        ["funnel"],
        ["sources"],
        ["reps"],
        ["aging"],
        ["trend"],
        ["trend", "--per-source"],
        ["summary"],
        ["funnel", "--until", "2026-11-05"],
        ["aging", "--until", "2026-11-05T09:00"],
    ],
)
def test_csv_and_json_agree_with_the_table(history, args):
    document = history.json("report", *args)
    found = list(csv.DictReader(io.StringIO(history("report", *args, "--csv").stdout)))
    assert [list(row) for row in found] == [list(row) for row in document["rows"]]
    assert found == [
        {k: "" if v is None else str(v) for k, v in row.items()} for row in document["rows"]
    ]
    headers, body = _table(history("report", *args).stdout)
    keys = [h.lower().replace(" ", "_") for h in headers if h]
    assert keys == list(document["rows"][0])
    assert len(body) == len(document["rows"])
    for row, cells in zip(document["rows"], body, strict=True):
        numbers = [cell for header, cell in zip(headers, cells, strict=True) if header]
        assert numbers == [_shown(value, key) for key, value in row.items()]


def test_bar_charts_scale_to_the_largest_row(history):
    _, body = _table(history("report", "funnel").stdout)
    bars = [cells[2] for cells in body]
    assert bars[0] == "█" * 20  # 6 leads, the largest: the full 20 cells
    assert bars[1] == "█" * 16 + "▋"  # 5 of 6: 16⅔ cells, to the nearest eighth
    assert bars[2] == "█" * 10  # 3 of 6
    assert bars[3] == "█" * 6 + "▋"  # 2 of 6


def test_a_narrow_terminal_drops_the_bars_not_the_figures(history, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    table = history("report", "sources").stdout
    _, body = _table(table)
    assert "█" not in table and len(body[0]) == 7


@pytest.mark.parametrize("name", REPORTS)
def test_empty_database_gives_empty_reports(cli, name):
    assert cli.json("report", name) == {"report": name, "rows": []}
    assert cli("report", name, "--csv").stdout.count("\n") == 1  # the header alone
    table = cli("report", name)
    assert table.stdout == "" and "no leads" in table.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forecast"], "invalid report 'forecast': expected one of funnel, sources"),
        (["funnel", "--by", "month"], "invalid --by 'month': expected one of status, stage"),
        (["sources", "--by", "stage"], "--by is an option of `report trend` (week, month) and"),
        (["funnel", "--per-source"], "--per-source is an option of `report trend` only"),
        (["trend", "--by", "year"], "invalid --by 'year': expected one of week, month"),
        (["funnel", "--since", "last tuesday"], "invalid --since 'last tuesday'"),
        (["funnel", "--since", "2026-11-10", "--until", "2026-11-01"], "is not before"),
        (["funnel", "--json", "--csv"], "choose one"),
    ],
)
def test_bad_options_are_invalid_input(cli, args, message):
    result = cli("report", *args, code=1)
    assert result.stderr.startswith("error: ") and message in result.stderr


def test_relative_since(history):
    # -14d from Nov 23 is Nov 9: the same cohort as --since 2026-11-09
    assert rows(history, "funnel", "--since", "-14d") == rows(
        history, "funnel", "--since", "2026-11-09"
    )
