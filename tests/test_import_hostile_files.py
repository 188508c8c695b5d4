"""Issue 12: hostile files end quickly with a clear message (a workbook that
declares a huge sheet, an unclosed quote), and Ctrl-C during an import."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import leadctl_bin, run_leadctl


@pytest.mark.sqlite_only
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


# -- Ctrl-C ---------------------------------------------------------------------


def _sql(db: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=60) as conn:
        return conn.execute(query).fetchall()


def _leads(db: Path) -> int:
    try:
        return _sql(db, "SELECT count(*) FROM lead")[0][0]
    except sqlite3.OperationalError:  # schema not there yet
        return 0


@pytest.mark.sqlite_only
@pytest.mark.slow
def test_ctrl_c_during_a_bulk_import_exits_130_at_once_and_leaves_a_whole_database(
    tmp_path, db_path
):
    from benchmarks.make_csv import write

    source = tmp_path / "big.csv"
    write(source, 60_000)  # over 2 MiB into an empty database: a bulk load, forked reader
    process = subprocess.Popen(
        [leadctl_bin(), "--db", str(db_path), "import", str(source)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        # as a terminal's job gets it: a test run started in the background (`&`)
        # ignores SIGINT, and a child inherits that (Python then leaves it ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while _leads(db_path) < 1000 and time.monotonic() < deadline:
        assert process.poll() is None, "the import finished before it could be interrupted"
        time.sleep(0.01)
    assert _sql(db_path, "SELECT value FROM leadctl_meta WHERE key = 'indexes_deferred'")
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
    _, stderr = process.communicate(timeout=60)
    took = time.monotonic() - started
    assert process.returncode == 130, stderr
    assert took < 1.0, f"took {took:.2f}s to stop"
    said = re.fullmatch(
        r"error: interrupted: ([\d,]+) rows stored \(imported ([\d,]+), merged ([\d,]+)\) "
        r"of [\d,]+ read; run the same import again to store the rest\n",
        stderr,
    )
    assert said, stderr
    imported = int(said[2].replace(",", ""))
    assert int(said[1].replace(",", "")) == imported + int(said[3].replace(",", ""))
    assert _leads(db_path) == imported  # the batches committed, none half

    # the next command finds the load finished (or finishes it): indexes and scores
    assert run_leadctl("--db", str(db_path), "list", "--limit", "1").returncode == 0
    assert not _sql(db_path, "SELECT value FROM leadctl_meta WHERE key = 'indexes_deferred'")
    reference = tmp_path / "reference.db"
    small = tmp_path / "one.csv"
    small.write_text("Name,Email\nAnn,ann@example.org\n", encoding="utf-8")
    assert run_leadctl("--db", str(reference), "import", str(small)).returncode == 0
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"
    assert _sql(db_path, indexes) == _sql(reference, indexes)
    assert _sql(db_path, "PRAGMA integrity_check") == [("ok",)]
    scored = "SELECT id, score, band FROM lead ORDER BY id"
    before = _sql(db_path, scored)
    assert run_leadctl("--db", str(db_path), "score").returncode == 0
    assert _sql(db_path, scored) == before  # every lead was already scored


def test_ctrl_c_between_a_batch_commit_and_its_count_waits_for_the_count():
    """The window the interrupted-import message depends on: a SIGINT landing
    after a commit but before it is counted is raised once counted, not lost."""
    from leadctl.importing.runner import _CommitGuard

    # as a terminal's job has it, even when the test run was started with `&`
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _commit_guard_holds(_CommitGuard)
    finally:
        signal.signal(signal.SIGINT, previous)


def _commit_guard_holds(_CommitGuard):
    counted = []
    with pytest.raises(KeyboardInterrupt), _CommitGuard() as guard:
        guard.hold()
        os.kill(os.getpid(), signal.SIGINT)
        counted.append("batch")  # reached: the signal waited
        guard.release()
        counted.append("after")  # not reached: raised on release
    assert counted == ["batch"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt), _CommitGuard():
        os.kill(os.getpid(), signal.SIGINT)  # not held: at once
        time.sleep(1)
        counted.append("not reached")
    assert counted == ["batch"]
