"""Issue 12: warnings a person can read (grouped summary, --json details, the
warnings file) and the files leadctl writes (rejects, warnings, exports,
backups): mode 0600, never through a link, never over someone else's file."""

from __future__ import annotations

import csv
import json
import os
import resource
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import leadctl_bin, run_leadctl

WARNED = (
    "Name,Email,Phone,Priority\n"
    "Ann,ann@example.org,12,high\n"  # line 2: phone
    "Bob,bob@example.org,+1 415 555 0100,superhigh\n"  # line 3: priority
    "Cid,not-an-email,+1 415 555 0101,\n"  # line 4: email
    "Dan,dan@example.org,999,zz\n"  # line 5: phone and priority
    "Eve,,,\n"  # line 6: rejected
    "Fay,fay@example.org,77,\n"  # line 7: phone
    "Gus,gus@example.org,88,\n"  # line 8: phone
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_summary_groups_warnings_by_kind_with_first_lines(cli, tmp_path):
    source = write(tmp_path / "in.csv", WARNED)
    result = cli("import", source, code=1)
    first, *kinds = result.stderr.splitlines()
    assert "7 warnings" in first
    assert first.endswith(f"; warnings are in {tmp_path / 'in.warnings.csv'}")
    assert kinds == [
        "  4 phone does not parse for region US (lines 2, 5, 7, …)",
        "  2 not a priority (lines 3, 5)",
        "  1 not a valid email (line 4)",
    ]


def test_json_lists_every_warning_and_the_file(cli, tmp_path):
    source = write(tmp_path / "in.csv", WARNED)
    summary = cli.json("import", source, code=1)
    assert summary["warnings"] == 7 == len(summary["warning_details"])
    assert summary["warnings_file"] == str(tmp_path / "in.warnings.csv")
    assert summary["warning_details"][:2] == [
        {
            "line": 2,
            "field": "phone",
            "value": "12",
            "message": "phone does not parse for region US; kept as phone_raw",
        },
        {
            "line": 3,
            "field": "priority",
            "value": "superhigh",
            "message": "not a priority; kept as priority_raw",
        },
    ]
    assert [d["line"] for d in summary["warning_details"]] == [2, 3, 4, 5, 5, 7, 8]


def test_warnings_file_names_the_lead_each_row_became_or_merged_into(cli, tmp_path):
    source = write(tmp_path / "in.csv", WARNED)
    cli("import", source, code=1)
    ids = {lead["name"]: lead["id"] for lead in cli.json("list", "--limit", "0")}
    rows = read_csv(tmp_path / "in.warnings.csv")
    assert rows[0] == ["line", "lead_id", "field", "value", "warning"]
    assert rows[1:4] == [
        [
            "2",
            str(ids["Ann"]),
            "phone",
            "12",
            "phone does not parse for region US; kept as phone_raw",
        ],
        ["3", str(ids["Bob"]), "priority", "superhigh", "not a priority; kept as priority_raw"],
        ["4", str(ids["Cid"]), "email", "not-an-email", "not a valid email; kept as email_raw"],
    ]
    assert len(rows) == 1 + 7
    assert mode(tmp_path / "in.warnings.csv") == 0o600
    assert mode(tmp_path / "in.rejects.csv") == 0o600

    # a second file whose rows merge into the stored leads: their ids
    again = write(tmp_path / "again.csv", "Name,Email,Priority\nAnn,ann@example.org,whenever\n")
    cli("import", again)
    assert read_csv(tmp_path / "again.warnings.csv")[1][:3] == ["2", str(ids["Ann"]), "priority"]


def test_a_clean_import_writes_no_warnings_file(cli, tmp_path):
    source = write(tmp_path / "ok.csv", "Name,Email\nAnn,ann@example.org\n")
    summary = cli.json("import", source)
    assert summary["warnings_file"] is None and summary["warning_details"] == []
    assert not (tmp_path / "ok.warnings.csv").exists()


def test_a_dry_run_writes_warnings_only_beside_a_named_rejects_file(cli, tmp_path):
    cli("add", "Ann", "--email", "ann@example.org")
    source = write(tmp_path / "in.csv", WARNED)
    summary = cli.json("import", source, "--dry-run", code=1)
    assert summary["warnings_file"] is None and len(summary["warning_details"]) == 7
    assert not (tmp_path / "in.warnings.csv").exists()
    named = tmp_path / "check.rejects.csv"
    summary = cli.json("import", source, "--dry-run", "--rejects", named, code=1)
    assert summary["warnings_file"] == str(tmp_path / "check.warnings.csv")
    rows = read_csv(tmp_path / "check.warnings.csv")
    # a row that would merge names the stored lead; one that would be new, none
    assert rows[1][:2] == ["2", "1"] and rows[2][:2] == ["3", ""]


def test_an_atomic_import_that_stored_nothing_names_no_leads(cli, tmp_path):
    source = write(tmp_path / "in.csv", WARNED)
    cli("import", source, "--atomic", code=1)
    rows = read_csv(tmp_path / "in.warnings.csv")
    assert len(rows) == 8 and {row[1] for row in rows[1:]} == {""}


# -- the files it writes ------------------------------------------------------


def test_rejects_and_warnings_files_are_never_written_through_a_link(cli, tmp_path):
    source = write(tmp_path / "in.csv", WARNED)
    victim = write(tmp_path / "victim.txt", "precious\n")
    for name in ("in.rejects.csv", "in.warnings.csv"):
        link = tmp_path / name
        link.symlink_to(victim)
        result = cli("import", source, code=1)
        assert "symbolic link" in result.stderr and name in result.stderr
        assert victim.read_text() == "precious\n" and link.is_symlink()
        link.unlink()
    assert cli.json("list", "--limit", "0") == []  # refused before anything was stored


def test_someone_elses_file_is_not_overwritten_but_our_own_is(cli, tmp_path):
    source = write(tmp_path / "in.csv", WARNED)
    theirs = write(tmp_path / "in.rejects.csv", "my,own,notes\n1,2,3\n")
    result = cli("import", source, code=3)
    assert "in.rejects.csv exists and is not a rejects file of" in result.stderr
    assert theirs.read_text() == "my,own,notes\n1,2,3\n"
    theirs.unlink()
    cli("import", source, code=1)
    first = (tmp_path / "in.rejects.csv").read_bytes()
    cli("import", source, code=1)  # a rerun replaces its own files
    assert (tmp_path / "in.rejects.csv").read_bytes() == first
    write(tmp_path / "in.warnings.csv", "line,notes\n")
    assert "not a leadctl warnings file" in cli("import", source, code=3).stderr


def test_inputs_with_the_same_stem_keep_their_own_rejects(cli, tmp_path):
    write(tmp_path / "x.csv", "Name,Email\nAnn,ann@example.org\nNo Contact,\n")
    lines = ['{"name": "Bob", "email": "bob@example.org"}', '{"name": "", "email": "x@y.org"}']
    write(tmp_path / "x.json", "\n".join(lines) + "\n")
    assert cli.json("import", tmp_path / "x.csv", code=1)["rejects_file"] == str(
        tmp_path / "x.rejects.csv"
    )
    assert cli.json("import", tmp_path / "x.json", code=1)["rejects_file"] == str(
        tmp_path / "x.json.rejects.csv"
    )
    assert read_csv(tmp_path / "x.rejects.csv")[1][0] == "No Contact"
    assert read_csv(tmp_path / "x.json.rejects.csv")[1][1] == "x@y.org"


def test_export_refuses_an_existing_file_without_force(cli, add_lead, tmp_path):
    add_lead()
    out = write(tmp_path / "out.csv", "keep me\n")
    result = cli("export", "-o", out, code=3)
    assert "out.csv exists; use --force" in result.stderr
    assert out.read_text() == "keep me\n"
    cli("export", "-o", out, "--force")
    assert out.read_text(encoding="utf-8").startswith("id,name,")
    assert mode(out) == 0o600
    fresh = tmp_path / "fresh.jsonl"
    cli("export", "-o", fresh)
    assert mode(fresh) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_refuses_a_fifo_a_directory_a_device_and_a_link(cli, add_lead, tmp_path):
    add_lead()
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    target = write(tmp_path / "target.csv", "x\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    for path, said in [
        (fifo, "not a regular file"),
        (tmp_path, "is a directory"),
        (Path("/dev/null"), "not a regular file"),
        (link, "symbolic link"),
    ]:
        result = cli("export", "-o", path, "--force", code=1)
        assert said in result.stderr and str(path) in result.stderr
    assert target.read_text() == "x\n"


def _limited(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@pytest.mark.sqlite_only
@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_export_on_a_full_disk_is_exit_1_naming_the_file(cli, tmp_path, db_path, suffix):
    rows = "".join(f"Person {i},p{i}@example.org,{'x' * 200}\n" for i in range(600))
    cli("import", write(tmp_path / "many.csv", "Name,Email,Notes\n" + rows))
    out = tmp_path / f"out.{suffix}"
    result = subprocess.run(
        [leadctl_bin(), "--db", str(db_path), "export", "-o", str(out)],
        preexec_fn=lambda: _limited(64 * 1024),  # noqa: PLW0108 - a file size limit: "disk full"
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"error: cannot write the export file {out}: File too large")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".out.{suffix}")] == []


@pytest.mark.sqlite_only
def test_backup_is_private_and_refuses_a_link(tmp_path, db_path, cli, add_lead):
    add_lead()
    copy = tmp_path / "copy.db"
    assert run_leadctl("--db", str(db_path), "backup", str(copy)).returncode == 0
    assert mode(copy) == 0o600
    victim = write(tmp_path / "victim.db", "precious\n")
    link = tmp_path / "link.db"
    link.symlink_to(victim)
    result = run_leadctl("--db", str(db_path), "backup", str(link), "--force")
    assert result.returncode == 1 and "symbolic link" in result.stderr
    assert victim.read_text() == "precious\n"


def test_json_summary_keys(cli, tmp_path):
    source = write(tmp_path / "ok.csv", "Name,Email\nAnn,ann@example.org\n")
    summary = json.loads(cli("import", source, "--json").stdout)
    assert {"warnings", "warnings_file", "warning_details"} <= set(summary)


def test_the_warnings_file_takes_lines_that_are_not_warnings(tmp_path):
    """The hook for merges: a line of the file, not a warning in the counts."""
    from leadctl.importing.warned import WarningsLog

    log = WarningsLog(tmp_path / "in.warnings.csv", keep_details=True)
    log.add(2, 7, "phone", "12", "phone does not parse for region US; kept as phone_raw")
    log.write(3, 7, "", "", "merged into lead 7: same email")
    log.close()
    assert [(k.text, k.count, k.lines) for k in log.grouped()] == [
        ("phone does not parse for region US", 1, [2])
    ]
    assert log.details is not None and len(log.details) == 1
    assert read_csv(tmp_path / "in.warnings.csv")[2] == [
        "3", "7", "", "", "merged into lead 7: same email"
    ]  # fmt: skip
    assert mode(tmp_path / "in.warnings.csv") == 0o600
