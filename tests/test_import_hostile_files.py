"""Issue 12: hostile files end quickly with a clear message (a workbook that
declares a huge sheet, an unclosed quote), and Ctrl-C during an import."""

from __future__ import annotations

import time

from tests.conftest import run_leadctl


def test_a_workbook_declaring_a_huge_sheet_is_read_by_its_cells(tmp_path, db_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Email"])
    sheet.append(["Ann", "ann@example.org"])
    sheet.append(["Bob", "bob@example.org"])
    sheet["XFD1048576"] = "x"  # declares A1:XFD1048576: 17 billion cells
    path = tmp_path / "huge.xlsx"
    book.save(path)
    started = time.monotonic()
    result = run_leadctl("--db", str(db_path), "import", str(path), "--json")
    assert time.monotonic() - started < 20, "read the declared size, not the cells"
    assert result.returncode == 1, result.stderr  # the lone far cell is a row without a name
    assert '"imported": 2' in result.stdout
    rejects = (tmp_path / "huge.xlsx.rejects.csv").read_text(encoding="utf-8-sig")
    assert rejects.splitlines()[1].startswith(",,1048576,")  # its row number, as in the sheet


def test_a_workbook_with_gaps_keeps_sheet_row_numbers(cli, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["B1"] = "Name", "Email"
    sheet["A2"], sheet["B2"] = "Ann", "ann@example.org"
    sheet["A40"], sheet["B40"] = "No Email", ""
    path = tmp_path / "gaps.xlsx"
    book.save(path)
    summary = cli.json("import", path, code=1)
    assert (summary["imported"], summary["rejected"]) == (1, 1)
    rejects = (tmp_path / "gaps.xlsx.rejects.csv").read_text(encoding="utf-8-sig")
    assert rejects.splitlines()[1].startswith("No Email,,40,")


def test_an_unclosed_quote_names_the_line_it_opens_on(cli, tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text(
        "Name,Email,Notes\n"
        'Ann,ann@example.org,"two\nlines"\n'  # lines 2-3: a quoted newline, closed
        "Bob,bob@example.org,fine\n"  # line 4
        'Cid,cid@example.org,"never closed\n'  # line 5
        "Dan,dan@example.org,lost\n"
        "Eve,eve@example.org,lost\n",
        encoding="utf-8",
    )
    result = cli("import", path, code=1)
    said = "a quote opened on line 5 is never closed (lines 5-7 were read as one cell)"
    assert f"  line 5: {said}" in result.stderr.splitlines()
    assert "imported 2," in result.stderr
    rejects = (tmp_path / "quote.rejects.csv").read_text(encoding="utf-8-sig")
    assert rejects.splitlines()[1] == f",,,5,{said}"


def test_a_quote_opened_inside_a_multiline_row_is_found(cli, tmp_path):
    path = tmp_path / "late.csv"
    path.write_bytes(b'Name,Email,Notes,Extra\r\nAnn,ann@example.org,"a\r\nb",\r\n"x\r\ny\r\n')
    result = cli("import", path, code=1)
    assert "line 4: a quote opened on line 4 is never closed (lines 4-5" in result.stderr


def test_a_closed_last_quote_is_no_notice(cli, tmp_path):
    path = tmp_path / "fine.csv"
    path.write_text('Name,Email,Notes\nAnn,ann@example.org,"x\ny"', encoding="utf-8")
    result = cli("import", path)
    assert "quote" not in result.stderr
