"""Issue 12, "Reading what is in the file": encodings, blank markers and HTML
entities, placeholder dates, other CRMs' vocabularies (new sources), converted
rows with their clients, Mailchimp times and `Contact` names."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from leadctl import clock
from leadctl.errors import InvalidInput
from leadctl.importing.decoding import detect_encoding, display_name
from leadctl.importing.rows import BLANK_CELLS, unescape_entities
from leadctl.importing.vocabulary import DateReader, word_key


def write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def leads(cli: Any) -> dict[str, dict[str, Any]]:
    return {lead["name"]: lead for lead in cli.json("list", "--all", "--limit", "0")}


# --- encodings ------------------------------------------------------------------

LATIN = (
    "name,email,company\nJean Lefèvre,jean@example.fr,Café 5 €\n"
    "María Cedeño,maria@example.es,Años\n"
)
CYRILLIC = "name,email\nИван Петров,ivan@example.ru\nОльга Смирнова,olga@example.ru\n"


def test_excel_windows_1252_is_not_read_as_1250(cli, tmp_path):
    path = write(tmp_path, LATIN, encoding="cp1252")
    result = cli("import", str(path))
    summary = [line for line in result.stderr.splitlines() if line.startswith("imported")]
    assert summary == [
        "imported 2, merged 0, skipped 0, rejected 0, 0 warnings (of 2 rows); read as windows-1252"
    ]
    found = leads(cli)
    assert set(found) == {"Jean Lefèvre", "María Cedeño"}
    assert found["Jean Lefèvre"]["company"] == "Café 5 €"


def test_import_json_names_the_encoding(cli, tmp_path):
    assert cli.json("import", str(write(tmp_path, LATIN, encoding="cp1252")))["encoding"] == (
        "windows-1252"
    )
    other = write(tmp_path, LATIN.replace("jean@", "j2@").replace("maria@", "m2@"), "u.csv")
    result = cli("import", str(other), "--json")
    assert '"encoding": "utf-8"' in result.stdout
    assert "read as" not in result.stderr  # UTF-8 goes without saying


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r"])
def test_cyrillic_code_pages_still_work(cli, tmp_path, encoding):
    summary = cli.json("import", str(write(tmp_path, CYRILLIC, encoding=encoding)))
    assert summary["encoding"] == display_name(encoding)
    assert set(leads(cli)) == {"Иван Петров", "Ольга Смирнова"}


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Lefèvre", "cp1252"),
        ("Cedeño Núñez", "cp1252"),
        ("Müller Straße", "cp1252"),
        ("Ångström Øre", "cp1252"),
        ("Иван Петров", "cp1251"),
    ],
)
def test_detection_by_script(text, encoding):
    data = f"name,email\n{text},x@example.com\n".encode(encoding)
    assert detect_encoding(data, "x") == encoding


def test_forced_encoding_rejects_rows_it_cannot_decode(cli, tmp_path):
    data = b"name,email\nAda,ada@example.com\n" + b"Bad \x81\x8d,bad@example.com\n"
    path = tmp_path / "in.csv"
    path.write_bytes(data + b"Bob,bob@example.com\n")
    result = cli("import", str(path), "--encoding", "cp1252", "--json", code=1)
    assert '"rejected": 1' in result.stdout
    rejects = (tmp_path / "in.rejects.csv").read_text(encoding="utf-8-sig")
    assert "windows-1252" in rejects and "0x81" in rejects
    assert "\ufffd" not in rejects
    names = set(leads(cli))
    assert names == {"Ada", "Bob"}
    assert not any("\ufffd" in name for name in names)


def test_forced_utf8_rejects_a_latin_byte_instead_of_guessing(cli, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"name,email\nAda,ada@example.com\nLef\xe8vre,l@example.com\n")
    result = cli("import", str(path), "--encoding", "utf-8", code=1)
    assert "rejected 1" in result.stderr
    assert set(leads(cli)) == {"Ada"}


def test_wrong_forced_utf32_is_a_clear_error_not_empty(cli, tmp_path):
    path = write(tmp_path, "name,email\nAda,ada@example.com\n")
    result = cli("import", str(path), "--encoding", "utf-32", code=1)
    assert "empty" not in result.stderr
    assert "cannot be read as utf-32" in result.stderr
    assert "Traceback" not in result.stderr


# --- blank markers and entities ---------------------------------------------------


def test_blank_markers_read_as_empty(cli, tmp_path):
    rows = [
        "Ada,ada@example.com,-,n/a,none",
        "Bob,bob@example.com,—,N/A,NULL",
        "Cy,cy@example.com,#N/A,(blank),nil",
        "Di,di@example.com,--,None,?",
        "Ed,ed@example.com,Acme,Null,Web",
    ]
    path = write(tmp_path, "name,email,company,industry,source\n" + "\n".join(rows) + "\n")
    summary = cli.json("import", str(path))
    assert (summary["imported"], summary["warnings"], summary["new_sources"]) == (5, 0, [])
    for lead in cli.json("list", "--all", "--limit", "0"):
        assert lead["industry"] is None
        assert lead["fields"] == {}
    found = leads(cli)
    assert [found[n]["company"] for n in ("Ada", "Bob", "Cy", "Di")] == [None] * 4
    assert (found["Ed"]["company"], found["Ed"]["source"]) == ("Acme", "Website")


def test_a_blank_marker_name_is_no_name(cli, tmp_path):
    path = write(tmp_path, "name,email\nN/A,x@example.com\nAda,ada@example.com\n")
    summary = cli.json("import", str(path), code=1)
    assert (summary["imported"], summary["rejected"]) == (1, 1)


def test_html_entities_are_unescaped(cli, tmp_path):
    path = write(
        tmp_path,
        "name,email,company,notes\n"
        "O&#39;Brien,ob@example.com,Smith &amp; Sons,&lt;b&gt;VIP&lt;/b&gt;\n"
        "Ann,ann@example.com,Q&A Ltd,see https://x.example/?a=1&copy=2\n",
    )
    cli("import", str(path))
    found = leads(cli)
    assert found["O'Brien"]["company"] == "Smith & Sons"
    assert found["Ann"]["company"] == "Q&A Ltd"
    shown = cli.json("show", str(found["O'Brien"]["id"]))
    assert [a["body"] for a in shown["activities"] if a["kind"] == "note"] == ["<b>VIP</b>"]
    shown = cli.json("show", str(found["Ann"]["id"]))
    notes = [a["body"] for a in shown["activities"] if a["kind"] == "note"]
    assert notes == ["see https://x.example/?a=1&copy=2"]  # not an entity: left alone


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("a&;#x0129AZampltgquo <>'\"é")), max_size=30))
def test_unescape_is_idempotent_on_text_without_entities(text):
    once = unescape_entities(text)
    if "&" not in text:
        assert once == text
    if ";" not in text:
        assert once == text  # only complete entities are read
    assert len(once) <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_escaped_text_unescapes_back(text):
    import html

    assert unescape_entities(html.escape(text, quote=True)) == text


def test_blank_markers_are_case_variants():
    for word in ("n/a", "N/A", "none", "None", "NONE", "null", "NULL", "#N/A", "(blank)", "-"):
        assert word in BLANK_CELLS
    for word in ("0", "no", "NA", "Nancy", "", "a-b"):
        assert word not in BLANK_CELLS


# --- dates ----------------------------------------------------------------------


SENTINELS = ["0001-01-01", "0001-01-01T00:00:00", "1900-01-01", "1899-12-30", "1899-12-31"]


def test_placeholder_dates_are_blank_with_a_warning(cli, tmp_path, monkeypatch):
    rows = [f"L{i},l{i}@example.com,{value}" for i, value in enumerate(SENTINELS)]
    rows += ["Late,late@example.com,2300-05-01", "Ok,ok@example.com,2025-03-04 10:00:00"]
    path = write(tmp_path, "name,email,created date\n" + "\n".join(rows) + "\n")
    summary = cli.json("import", str(path))
    assert (summary["imported"], summary["warnings"]) == (7, 6)
    found = leads(cli)
    for i, value in enumerate(SENTINELS):
        lead = found[f"L{i}"]
        assert lead["created_at"].startswith("2026-11-23")  # import time, not year 1
        assert lead["fields"] == {"created_at_raw": value}
    assert found["Ok"]["created_at"] == "2025-03-04T10:00:00Z"
    # reports and a round trip still work
    trend = cli.json("report", "trend", "--by", "month")
    assert sum(row["leads"] for row in trend["rows"]) == 7
    exported = tmp_path / "out.csv"
    cli("export", "-o", str(exported))
    monkeypatch.setenv("LEADCTL_DB", str(tmp_path / "second.db"))
    assert cli.json("import", str(exported))["warnings"] == 0
    with sqlite3.connect(tmp_path / "second.db") as conn:
        assert conn.execute("SELECT count(*) FROM lead").fetchone()[0] == 7


@pytest.mark.parametrize("value", ["1900-01-01", "0001-01-01", "1899-12-30", "2201-01-01"])
def test_placeholder_dates_are_invalid_input_in_add_and_edit(cli, value):
    result = cli("add", "Ada", "--email", "ada@example.com", "--timeline", value, code=1)
    assert "invalid timeline" in result.stderr
    lead = cli.json("add", "Bob", "--email", "bob@example.com")
    cli("edit", str(lead["id"]), "--timeline", value, code=1)
    cli("schedule", str(lead["id"]), value, code=1)


def test_report_bounds_may_start_in_1900(cli):
    cli("report", "trend", "--since", "1900-01-01")


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_date_reader_takes_only_real_dates(day):
    reader = DateReader()
    real = (
        clock.EARLIEST_YEAR <= day.year <= clock.LATEST_YEAR and day not in clock.PLACEHOLDER_DAYS
    )
    for text in (day.isoformat(), f"{day.isoformat()}T00:00:00"):
        if real:
            assert reader(text).date() == day
        else:
            with pytest.raises(clock.NoDate):
                reader(text)
    if real:
        assert clock.parse_date(day.isoformat()) == day
    else:
        with pytest.raises(InvalidInput):
            clock.parse_date(day.isoformat())


def test_a_column_mixing_date_formats_reads_each_by_its_shape():
    """ISO and US 12-hour dates in one column (a real export's two sources): each
    value read right whatever came before, and a day-first column stays day-first
    for its shape even after an ISO value came between."""
    reader = DateReader()
    assert reader("01/02/2024 09:30 PM") == datetime(2024, 1, 2, 21, 30, tzinfo=UTC)
    assert reader("2024-03-04 05:06:07") == datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert reader("01/02/2024 09:30 AM") == datetime(2024, 1, 2, 9, 30, tzinfo=UTC)
    day_first = DateReader()
    assert day_first("13/02/2024").date() == date(2024, 2, 13)
    assert day_first("2024-01-01").date() == date(2024, 1, 1)
    assert day_first("05/06/2024").date() == date(2024, 6, 5)
    for text in ("n/a", "sometime in May", "-"):
        with pytest.raises(ValueError):
            reader(text)


# --- vocabularies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Contacting", "contacted"),
        ("Processing", "contacted"),
        ("Contactado", "contacted"),
        ("Kontaktiert", "contacted"),
        ("contacté", "contacted"),
        ("Contattato", "contacted"),
        ("В работе", "contacted"),
        ("Nuevo", "new"),
        ("Qualifié", "qualified"),
        ("Qualifiziert", "qualified"),
        ("Perdido", "lost"),
        ("Verloren", "lost"),
        ("Descalificado", "unqualified"),
    ],
)
def test_status_words(cli, tmp_path, word, status):
    path = write(tmp_path, f"name,email,status\nAda,ada@example.com,{word}\n")
    assert cli.json("import", str(path))["warnings"] == 0
    assert cli.json("list", "--all", "--limit", "0")[0]["status"] == status


@pytest.mark.parametrize(
    ("word", "source"),
    [
        ("Redes", "Social Media"),
        ("Redes sociales", "Social Media"),
        ("REDES SOCIALES", "Social Media"),
        ("Recomendación", "Referral"),
        ("recomendacion", "Referral"),
        ("Empfehlung", "Referral"),
        ("Gestión directa", "Event"),
        ("Salon", "Event"),
        ("Salão", "Event"),
        ("Messe", "Event"),
        ("Publicidad", "Advertisement"),
        ("Сайт", "Website"),
        ("Sitio web", "Website"),
    ],
)
def test_source_words(cli, tmp_path, word, source):
    path = write(tmp_path, f"name,email,source\nAda,ada@example.com,{word}\n")
    summary = cli.json("import", str(path))
    assert (summary["warnings"], summary["new_sources"]) == (0, [])
    assert cli.json("list", "--all", "--limit", "0")[0]["source"] == source


def test_an_unknown_source_becomes_a_new_source(cli, tmp_path):
    path = write(
        tmp_path,
        "name,email,source\nAda,ada@example.com,Radio Nacional\n"
        "Bob,bob@example.com,radio  nacional\nCy,cy@example.com,Podcast\n",
    )
    dry = cli("import", str(path), "--dry-run", "--json")
    assert (
        '"Radio Nacional"' in dry.stdout
        and "; would add 2 new sources: Radio Nacional, Podcast" in dry.stderr
    )
    assert "Radio Nacional" not in [s["name"] for s in cli.json("sources")]
    summary = cli.json("import", str(path))
    assert (summary["warnings"], summary["new_sources"]) == (0, ["Radio Nacional", "Podcast"])
    names = [s["name"] for s in cli.json("sources")]
    assert names[-2:] == ["Radio Nacional", "Podcast"]
    found = leads(cli)
    assert found["Bob"]["source"] == "Radio Nacional"
    rows = {row["source"]: row["leads"] for row in cli.json("report", "sources")["rows"]}
    assert (rows["Radio Nacional"], rows["Podcast"]) == (2, 1)
    again = cli.json("import", str(path))  # the list has them now
    assert again["new_sources"] == []


def test_a_sentence_is_not_a_source(cli, tmp_path):
    long = "We met him at the bar after the conference and he seemed keen on it all"
    path = write(tmp_path, f"name,email,source\nAda,ada@example.com,{long}\n")
    summary = cli.json("import", str(path))
    assert (summary["warnings"], summary["new_sources"]) == (1, [])
    assert cli.json("list")[0]["fields"] == {"source_raw": long}


def test_atomic_rollback_adds_no_source(cli, tmp_path):
    path = write(tmp_path, "name,email,source\nAda,ada@example.com,Podcast\n,nobody@example.com,\n")
    summary = cli.json("import", str(path), "--atomic", code=1)
    assert summary["new_sources"] == []
    assert "Podcast" not in [s["name"] for s in cli.json("sources")]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_word_key_ignores_case_and_accents(text):
    import unicodedata

    key = word_key(text)
    assert key == word_key(text.upper()) or not text.isascii()
    assert key == word_key(unicodedata.normalize("NFD", text))
    assert not any(unicodedata.combining(ch) for ch in key)


# --- converted rows ---------------------------------------------------------------

SALESFORCE = (
    '"Id","FirstName","LastName","Company","Email","Status","IsConverted","ConvertedDate",'
    '"CreatedDate"\n'
    '"00Q1","Grace","Hopper","Navy Labs","grace@navy.example","Closed - Converted","1",'
    '"2023-01-05 00:00:00","2022-12-21 14:27:52"\n'
    '"00Q2","Alan","Turing","Bletchley","alan@b.example","Working - Contacted","0",'
    '"2023-01-05 00:00:00","2022-12-21 14:27:52"\n'
    '"00Q3","Ada","Lovelace","Navy Labs","ada@navy.example","Working - Contacted","1","",'
    '"2022-12-22 10:00:00"\n'
)


def test_salesforce_converted_rows_have_clients(cli, tmp_path):
    cli("import", str(write(tmp_path, SALESFORCE)))
    found = leads(cli)
    grace, alan, ada = found["Grace Hopper"], found["Alan Turing"], found["Ada Lovelace"]
    assert (grace["status"], grace["converted_at"]) == ("converted", "2023-01-05T00:00:00Z")
    assert grace["client_id"] is not None
    assert (ada["status"], ada["client_id"]) == ("converted", grace["client_id"])  # same company
    assert ada["converted_at"] == "2022-12-22T10:00:00Z"  # no date given: its creation
    assert (alan["status"], alan["converted_at"], alan["client_id"]) == ("contacted", None, None)
    assert alan["fields"]["converted_at_raw"] == "2023-01-05 00:00:00"
    client = cli.json("client", "show", str(grace["client_id"]))
    assert client["company"] == "Navy Labs"
    assert {lead["name"] for lead in client["leads"]} == {"Grace Hopper", "Ada Lovelace"}
    result = cli("convert", str(grace["id"]), code=3)
    assert "client None" not in result.stderr and f"client {grace['client_id']}" in result.stderr
    shown = cli.json("show", str(ada["id"]))
    assert [a["kind"] for a in shown["activities"]] == ["created", "convert"]
    # the result is stable: importing again changes nothing
    assert cli.json("import", str(write(tmp_path, SALESFORCE)))["imported"] == 0
    assert len(cli.json("client", "list")) == 1


def test_converted_joins_an_existing_client(cli, tmp_path):
    lead = cli.json("add", "Kim", "--email", "kim@kcorp.example", "--company", "KCorp")
    converted = cli.json("convert", str(lead["id"]), "--no-deal")
    path = write(
        tmp_path,
        "Record ID,First Name,Last Name,Email,Lead Status,Lifecycle Stage,Company Name\n"
        "1,Lou,Ng,lou@kcorp.example,Open,Customer,KCorp Inc.\n"
        "2,Max,Po,max@m.example,Open,Lead,MCorp\n",
    )
    cli("import", str(path))
    found = leads(cli)
    assert (found["Lou Ng"]["status"], found["Lou Ng"]["client_id"]) == (
        "converted",
        converted["client"]["id"],
    )
    assert (found["Max Po"]["status"], found["Max Po"]["client_id"]) == ("new", None)


def test_a_won_stage_converts_with_a_client(cli, tmp_path):
    path = write(
        tmp_path,
        "Contact Name,Email,Stage,Company Name\nZoe,zoe@z.example,Won,\nYan,yan@y.example,New,Y\n",
    )
    cli("import", str(path))
    found = leads(cli)
    zoe = found["Zoe"]
    assert zoe["status"] == "converted" and zoe["client_id"] is not None
    assert cli.json("client", "show", str(zoe["client_id"]))["name"] == "Zoe"
    assert found["Yan"]["client_id"] is None


def test_no_lead_is_converted_without_a_client(cli, tmp_path):
    path = write(
        tmp_path,
        "name,email,status,converted date\nA,a@x.example,Closed - Converted,\n"
        "B,b@x.example,,2024-01-01\nC,c@x.example,Lost,2024-01-01\n",
    )
    cli("import", str(path))
    for lead in cli.json("list", "--all", "--limit", "0"):
        converted = lead["status"] == "converted"
        assert converted == (lead["client_id"] is not None)
        assert converted == (lead["converted_at"] is not None)
    assert leads(cli)["C"]["fields"]["converted_at_raw"] == "2024-01-01"


def test_dry_run_makes_no_client(cli, tmp_path):
    summary = cli.json("import", str(write(tmp_path, SALESFORCE)), "--dry-run")
    assert summary["imported"] == 3
    assert cli.json("client", "list") == []


# --- Mailchimp and Contact headers -----------------------------------------------


def test_mailchimp_times_are_creation(cli, tmp_path):
    path = write(
        tmp_path,
        '"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME\n'
        'ann@example.com,Ann,Lee,2,"2016-04-18 13:51:14",1.2.3.4,"2016-04-19 08:00:00"\n'
        'bo@example.com,Bo,Kim,2,,1.2.3.4,"2016-05-01 08:00:00"\n',
    )
    cli("import", str(path))
    found = leads(cli)
    assert found["Ann Lee"]["created_at"] == "2016-04-18T13:51:14Z"
    assert found["Ann Lee"]["fields"]["CONFIRM_TIME"] == "2016-04-19 08:00:00"
    assert found["Bo Kim"]["created_at"] == "2016-05-01T08:00:00Z"


@pytest.mark.parametrize("header", ["Contact", "Kontakt", "Contacto"])
def test_contact_header_holding_a_name_is_the_name(cli, tmp_path, header):
    path = write(
        tmp_path,
        f"{header},Email,Company\nJörg Weber,jw@example.de,Weber GmbH\n"
        "info@acme.example,info@acme.example,Acme\n",
    )
    summary = cli.json("import", str(path), code=1)
    assert (summary["imported"], summary["rejected"]) == (1, 1)  # an address is no name
    assert set(leads(cli)) == {"Jörg Weber"}


def test_contact_with_first_and_last_name_falls_back(cli, tmp_path):
    path = write(
        tmp_path,
        "Contact,First Name,Last Name,Email\n+34 600 000 000,Ana,Gil,ana@example.es\n",
    )
    cli("import", str(path))
    lead = cli.json("list")[0]
    assert lead["name"] == "Ana Gil"
    assert lead["fields"]["Contact"] == "+34 600 000 000"


def test_display_name():
    assert display_name("utf-8-sig") == "utf-8"
    assert display_name("cp1252") == "windows-1252"
    assert display_name("utf_16_le") == "utf-16-le"


latin_words = st.lists(
    st.tuples(
        st.text(st.sampled_from("abcdeilmnorstuvBCDLMS"), min_size=1, max_size=6),
        st.sampled_from(list("éèêëàáâäçñóòôöúùüíìïÉÑÖÜßåøæÅØ")),
        st.text(st.sampled_from("abcdeilmnorstuv"), max_size=5),
    ).map("".join),
    min_size=1,
    max_size=6,
)
cyrillic_words = st.lists(
    st.text(st.sampled_from("абвгдеёжзийклмнопрстуфхцчшщыьэюя"), min_size=2, max_size=9).flatmap(
        lambda word: st.sampled_from([word, word.capitalize(), word.upper()])
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(latin_words)
def test_latin_text_is_windows_1252(words):
    data = ("name,email\n" + " ".join(words) + ",x@example.com\n").encode("cp1252")
    assert detect_encoding(data, "x") == "cp1252"


@settings(max_examples=200, deadline=None)
@given(cyrillic_words)
@example(["АВЁ"])  # C0 C2 A8: C2 A8 alone is UTF-8 (`¨`)
@example(["АГё"])  # C0 C3 B8: C3 B8 alone is UTF-8 (`ø`, a letter)
def test_cyrillic_text_is_windows_1251(words):
    data = ("name,email\n" + " ".join(words) + ",x@example.com\n").encode("cp1251")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        assume(False)  # also valid UTF-8 (`Вё` is C2 B8): read as UTF-8, by design
    assert detect_encoding(data, "x") == "cp1251"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_a_new_source_name_is_tidy(text):
    from leadctl.importing.vocabulary import MAX_SOURCE, new_source_name

    name = new_source_name(text)
    if name is not None:
        assert name == " ".join(name.split()) and 0 < len(name) <= MAX_SOURCE
        assert any(ch.isalpha() for ch in name) and name.isprintable()
        assert new_source_name(name) == name


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_conversion_flag_is_yes_no_or_nothing(text):
    from leadctl.importing.converted import flag

    said = flag(text)
    assert said in (True, False, None)
    assert flag(text.upper()) == said or not text.isascii()


def test_forced_encoding_rejects_json_objects_it_cannot_decode(cli, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"name": "Ada", "email": "ada@example.com"}\n'
        b'{"name": "B\x81d", "email": "bad@example.com"}\n'
    )
    summary = cli.json("import", str(path), "--encoding", "cp1252", code=1)
    assert (summary["imported"], summary["rejected"], summary["encoding"]) == (
        1,
        1,
        "windows-1252",
    )
