"""Shell completion through the real mechanism (the environment variables the
installed scripts set, as click reads them): commands and options of the lazily
loaded commands, names from the database, and installing the scripts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import run_leadctl

FIXTURES = Path(__file__).parent / "fixtures" / "schema"
STATUSES = ["new", "contacted", "qualified", "converted", "nurture", "unqualified", "lost"]


def complete(cli, line: str, *, code: int = 0) -> list[str]:
    """What bash completion offers for ``line`` (the word being completed is its last)."""
    words = line.split(" ")
    env = {
        "_LEADCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    result = cli.runner.invoke(_app(), [], env=env)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line]


def _app():
    from leadctl.cli import app

    return app


def test_command_names_complete_including_lazily_loaded_ones(cli):
    assert complete(cli, "leadctl st") == ["status", "statuses"]
    assert complete(cli, "leadctl un") == ["undo"]
    assert complete(cli, "leadctl user r") == ["remove", "role"]


def test_options_of_a_lazily_loaded_command_complete(cli):
    assert complete(cli, "leadctl list --so") == ["--source", "--sort"]
    assert complete(cli, "leadctl undo --") == ["--json", "--help"]
    assert "--install-completion" in complete(cli, "leadctl --")


def test_statuses_come_from_the_database(cli):
    cli("list")  # creates the database
    assert complete(cli, "leadctl status 1 ") == STATUSES
    cli("statuses", "add", "demo_booked", "--position", "3")
    assert complete(cli, "leadctl status 1 ") == [*STATUSES[:2], "demo_booked", *STATUSES[2:]]
    assert complete(cli, "leadctl list --status n") == ["new", "nurture"]
    assert complete(cli, "leadctl statuses rename Q") == ["qualified"]


def test_sources_complete_escaped_for_bash(cli):
    cli("sources", "add", "Partner Portal")
    assert complete(cli, "leadctl list --source Soc") == ["Social\\ Media"]
    assert complete(cli, "leadctl add Bob --source Pa") == ["Partner\\ Portal"]
    assert complete(cli, "leadctl export --source web") == ["Website"]


def test_lost_reasons_complete_for_status_only(cli):
    cli("list")
    assert complete(cli, "leadctl status 1 lost --reason No") == [
        "Not\\ interested",
        "Not\\ a\\ fit",
        "No\\ budget",
    ]
    assert complete(cli, "leadctl score 1 --adjust 5 --reason No") == []


def test_user_names_complete(cli):
    cli("user", "add", "sam", "--role", "admin")
    cli("--as", "sam", "user", "add", "priya", "--role", "rep")
    assert complete(cli, "leadctl --as ") == ["priya", "sam"]
    assert complete(cli, "leadctl assign 1 --to p") == ["priya"]
    assert complete(cli, "leadctl list --owner ") == ["me", "unassigned", "priya", "sam"]
    assert complete(cli, "leadctl user role s") == ["sam"]


def test_the_db_on_the_command_line_is_the_one_read(cli, second_db):
    other = second_db
    cli("--db", other, "sources", "add", "Podcast")
    assert complete(cli, "leadctl list --source Pod") == []
    assert complete(cli, f"leadctl --db {other} list --source Pod") == ["Podcast"]


def test_a_missing_database_completes_nothing_and_is_not_created(cli, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "leads.db"
    monkeypatch.setenv("LEADCTL_DB", str(missing))
    assert complete(cli, "leadctl status 1 ") == []
    assert complete(cli, "leadctl --as ") == []
    assert not missing.parent.exists()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "content",
    [b"not a database at all\n" * 50, b"SQLite format 3\x00" + b"\xff" * 2000, b""],
    ids=["text", "damaged", "empty"],
)
def test_a_broken_database_completes_nothing_and_stays_as_it_was(cli, db_path, content):
    db_path.write_bytes(content)
    assert complete(cli, "leadctl list --status ") == []
    assert complete(cli, "leadctl --as ") == []
    assert db_path.read_bytes() == content


@pytest.mark.sqlite_only
def test_an_older_database_is_not_upgraded_by_a_tab(cli, db_path):
    shutil.copyfile(FIXTURES / "v3.db", db_path)
    before = db_path.read_bytes()
    assert complete(cli, "leadctl status 1 ") == []
    assert db_path.read_bytes() == before


def test_zsh_and_fish_get_the_names_too(cli):
    cli("list")
    env = {"_LEADCTL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "leadctl list --source Soc"}
    result = cli.runner.invoke(_app(), [], env=env)
    assert result.exit_code == 0 and '"Social Media"' in result.stdout
    env = {
        "_LEADCTL_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": "leadctl status 1 con",
    }
    result = cli.runner.invoke(_app(), [], env=env)
    assert result.exit_code == 0
    assert result.stdout.split() == ["contacted", "converted"]


def test_the_installed_command_completes_without_touching_the_heavy_modules(cli, tmp_path):
    """A tab runs the real script: one small query, no scoring, import or
    migration code loaded (`python -X importtime` lists every module)."""
    cli("list")
    env = {
        "_LEADCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "leadctl status 1 q",
        "COMP_CWORD": "3",
        "PYTHONPROFILEIMPORTTIME": "1",
    }
    result = run_leadctl(env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "qualified\n"
    for heavy in ("leadctl.scoring", "leadctl.importing", "leadctl.storage.migrations", "rich"):
        assert f" {heavy}\n" not in result.stderr, heavy


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("shell", "needle"),
    [
        ("bash", "_LEADCTL_COMPLETE=complete_bash"),
        ("zsh", "_LEADCTL_COMPLETE=complete_zsh"),
        ("fish", "_LEADCTL_COMPLETE=complete_fish"),
    ],
)
def test_show_completion_prints_the_script(cli, db_path, shell, needle):
    result = cli("--show-completion", shell)
    assert needle in result.stdout and "leadctl" in result.stdout
    assert not db_path.exists()


@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
def test_an_unknown_shell_is_invalid_input(cli, option):
    result = cli(option, "tcsh", code=1)
    assert result.stderr == "error: invalid shell 'tcsh': expected one of bash, zsh, fish\n"


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("shell", "script", "rc", "line"),
    [
        ("bash", ".bash_completions/leadctl.sh", ".bashrc", "source '{home}/.bash_completions/"),
        ("zsh", ".zfunc/_leadctl", ".zshrc", "fpath+=~/.zfunc"),
        ("fish", ".config/fish/completions/leadctl.fish", None, None),
    ],
)
def test_install_completion_writes_the_shells_files_without_asking(
    cli, db_path, tmp_path, monkeypatch, shell, script, rc, line
):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for _ in range(2):  # twice: the start-up file still loads it once
        result = cli("--install-completion", shell, input="")
    assert result.stdout == ""
    assert result.stderr.startswith(f"{shell} completion installed in {home / script}")
    assert f"_LEADCTL_COMPLETE=complete_{shell}" in (home / script).read_text()
    written = {p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()}
    assert written == {script, *([rc] if rc else [])}
    if rc:
        text = (home / rc).read_text()
        assert text.count(line.format(home=home)) == 1
    assert not db_path.exists()


@pytest.mark.sqlite_only
def test_help_lists_completion_and_opens_no_database(cli, db_path):
    result = cli("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout
    assert not db_path.exists()


def test_completing_leaves_a_database_unchanged(cli, sql):
    cli("list")
    [before] = sql("SELECT count(*) FROM command_log")
    complete(cli, "leadctl --as ")
    complete(cli, "leadctl status 1 ")
    assert sql("SELECT count(*) FROM command_log") == [before]
