"""The README, docs/ and --help keep up with the commands (as sqlite-utils' test_docs),
and every console example in them runs and prints what the page shows (as typer's
docs_src tests).

A ```` ```console ```` block is a session: each ``$ `` line is a command (a line ending
in ``\\`` goes on), the lines under it are what it prints, stdout and stderr as a
terminal shows them; a line ``…`` stands for any number of lines, and ``…`` within a
line for any text (a figure that varies, such as a file size). Each page runs on a
fresh database (``leads.db``) in a scratch folder holding copies of ``examples/`` and
``tests/fixtures/``, with the clock at 2026-11-23 09:00 UTC, ``LEADCTL_USER=sam``,
no colour and 120 columns. ``NAME=value leadctl …`` sets a variable for one command,
a pipe or a command other than leadctl runs in ``sh``. HTML comments before a block
steer it: ``<!-- example: skip -->`` (not run), ``<!-- example: fresh -->`` (a new
empty database), ``<!-- example: env NAME=value … -->`` (for the rest of the page).

After a change in what leadctl prints, refresh the pages and read the diff:
``.venv/bin/python -m tests.test_docs --update [README.md docs/….md]``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from leadctl.cli import app

ROOT = Path(__file__).resolve().parent.parent
README_PATH = ROOT / "README.md"
README = README_PATH.read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README_PATH, *DOCS]
README_MAX_BYTES = 12 * 1024
# docs/, with examples
GUIDES = ["leads.md", "pool.md", "scoring.md", "clients.md", "reports.md", "import.md"]


def _commands(group: Any = None, prefix: str = "") -> list[str]:
    """Every command and sub-command, as click sees them (loaded lazily)."""
    group = group or typer.main.get_command(app)
    ctx = typer.Context(group)
    names = []
    for name in group.list_commands(ctx):
        names.append(prefix + name)
        command = group.get_command(ctx, name)
        if hasattr(command, "list_commands"):
            names += _commands(command, f"{prefix}{name} ")
    return names


COMMANDS = _commands()


def _documents(command: str, text: str) -> bool:
    return bool(re.search(rf"leadctl (\[?-[^\n]*)?{re.escape(command)}\b", text)) or (
        f"`{command}" in text
    )


def test_the_command_set_is_complete():
    expected = {"add", "list", "show", "edit", "status", "note", "log", "schedule", "statuses",
                "sources", "config", "backup"}  # fmt: skip
    assert expected <= {name.split()[0] for name in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli, command):
    result = cli(*command.split(), "--help")
    assert "Usage:" in result.stdout
    assert len(result.stdout.strip().splitlines()) > 3


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme_or_docs(command):
    pages = [README, *(page.read_text() for page in DOCS)]
    assert any(_documents(command, text) for text in pages), (
        f"`leadctl {command}` is documented neither in README.md nor in docs/"
    )


@pytest.mark.parametrize("command", [c for c in COMMANDS if " " not in c])
def test_the_readme_names_every_top_level_command(command):
    assert _documents(command, README), f"`leadctl {command}` is missing from README.md"


def test_readme_first_screen_has_the_two_setup_commands():
    first_screen = "\n".join(README.splitlines()[:25])
    commands = re.findall(r"^python3 -m venv .*$", first_screen, re.MULTILINE)
    assert len(commands) == 2
    assert "examples/demo.sh" in commands[0]
    assert commands[1].endswith(".venv/bin/pytest") and "'.[test]'" in commands[1]


def test_the_readme_stays_short():
    size = len(README.encode())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail into docs/"


def test_the_readme_is_honest_about_acting_users():
    """--as and LEADCTL_USER choose a user; they prove nothing (issue 11)."""
    text = " ".join(README.split())
    assert "not authentication" in text
    assert "0600" in text


def test_the_docs_folder_has_its_pages():
    assert {*GUIDES, "architecture.md"} <= {page.name for page in DOCS}


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """The ids GitHub gives a page's headings."""
    headings = re.findall(
        r"^#+ (.+)$", re.sub(r"```.*?```", "", page.read_text(), flags=re.S), re.M
    )
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # a URL
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists() or (anchor and path.suffix == ".md" and anchor not in _anchors(path)):
            broken.append(target)
    assert not broken, f"{page.name} links to missing files or headings: {broken}"


def test_the_readme_links_the_guides_and_the_architecture():
    for name in [*GUIDES, "architecture.md"]:
        assert f"](docs/{name})" in README, f"README.md does not link docs/{name}"


def test_every_docs_page_is_linked_from_the_readme_or_another_page():
    links = {
        (page.parent / target.split("#", 1)[0]).resolve()
        for page in PAGES
        for target in LINK.findall(page.read_text())
    }
    orphans = [page.name for page in DOCS if page.resolve() not in links]
    assert not orphans, f"no page links to docs/{orphans}"


# ---- console examples --------------------------------------------------------------

EXAMPLE_ENV = {
    "LEADCTL_NOW": "2026-11-23T09:00:00Z",
    "LEADCTL_USER": "sam",
    "NO_COLOR": "1",
    "COLUMNS": "120",
    "TZ": "UTC",
}
EXAMPLE_UNSET = ("LEADCTL_REGION", "LEADCTL_BUSY_TIMEOUT")
FENCE = re.compile(r"^(?P<indent> *)```console\s*$")
DIRECTIVE = re.compile(r"^\s*<!-- example: (?P<what>.*?) -->\s*$")
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
ANY_LINES = "…"


@dataclass
class Step:
    line: int  # of the command in the page, from 1
    command: str
    expected: list[str]
    first: int  # index in the page of the first expected line
    indent: str


@dataclass
class Block:
    line: int
    steps: list[Step]
    skip: bool = False
    fresh: bool = False
    env: dict[str, str] = field(default_factory=dict)


def console_blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    blocks: list[Block] = []
    env: dict[str, str] = {}
    skip = fresh = False
    index = 0
    while index < len(lines):
        directive = DIRECTIVE.match(lines[index])
        fence = FENCE.match(lines[index])
        index += 1
        if directive:
            what, *words = directive["what"].split()
            if what == "skip":
                skip = True
            elif what == "fresh":
                fresh = True
            elif what == "env":
                env.update(word.split("=", 1) for word in words)  # type: ignore[misc]
            else:
                raise ValueError(f"{page.name}:{index}: unknown directive {what!r}")
        if not fence:
            continue
        start, indent = index, fence["indent"]
        while not lines[index].strip().startswith("```"):
            index += 1
        body = [text.removeprefix(indent) for text in lines[start:index]]
        blocks.append(Block(start, _steps(page, body, start, indent), skip, fresh, dict(env)))
        skip = fresh = False
    return blocks


def _steps(page: Path, body: list[str], start: int, indent: str) -> list[Step]:
    steps: list[Step] = []
    at = 0
    while at < len(body):
        if not body[at].startswith("$ "):
            raise ValueError(f"{page.name}:{start + at + 1}: output before any `$ ` command")
        line, command = start + at + 1, body[at][2:]
        at += 1
        while command.endswith("\\"):
            command = command[:-1].rstrip() + " " + body[at].strip()
            at += 1
        first = at
        while at < len(body) and not body[at].startswith("$ "):
            at += 1
        steps.append(Step(line, command, body[first:at], start + first, indent))
    return steps


@contextmanager
def _example_world(workdir: Path) -> Iterator[None]:
    """The page's environment and working folder, put back afterwards."""
    saved, cwd = dict(os.environ), os.getcwd()
    for folder in ("examples", "tests/fixtures"):
        shutil.copytree(ROOT / folder, workdir / folder, dirs_exist_ok=True)
    os.environ.update(EXAMPLE_ENV)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    for name in EXAMPLE_UNSET:
        os.environ.pop(name, None)
    time.tzset()
    os.chdir(workdir)
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)
        time.tzset()


def run_examples(page: Path, workdir: Path) -> Iterator[tuple[Step, str]]:
    """Each command of the page's console blocks, with what it printed."""
    databases = 0
    with _example_world(workdir):
        for block in console_blocks(page):
            if block.skip:
                continue
            if block.fresh or not databases:
                databases += 1
                os.environ["LEADCTL_DB"] = "leads.db" if databases == 1 else f"leads-{databases}.db"
            os.environ.update(block.env)
            for step in block.steps:
                yield step, run_command(step.command)


def run_command(command: str) -> str:
    """One `$` line: leadctl in this process, anything else (or a pipe's tail) in sh."""
    code = re.split(r"\s+#\s", command, maxsplit=1)[0]
    head, _, tail = code.partition(" | ")
    words = shlex.split(head)
    overrides = {}
    while words and ASSIGNMENT.match(words[0]):
        name, value = words.pop(0).split("=", 1)
        overrides[name] = value
    if not words or words[0] != "leadctl":
        return _shell(command)
    result = _Terminal().invoke(app, words[1:], env=overrides)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"`{command}` raised {result.exception!r}") from result.exception
    if not tail:
        return result.output
    piped = subprocess.run(
        ["sh", "-c", tail], input=result.stdout, capture_output=True, text=True, timeout=60
    )
    return result.stderr + piped.stdout + piped.stderr


class _Terminal(CliRunner):
    """Writes reach the output in the order they are made, as on a terminal (the
    runner's streams are buffered, which puts a message after a table printed later)."""

    @contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().isolation(*args, **kwargs) as streams:
            for stream in (sys.stdout, sys.stderr):
                stream.reconfigure(write_through=True)  # type: ignore[union-attr]
            yield streams


def _shell(command: str) -> str:
    done = subprocess.run(
        ["sh", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return done.stdout


def _lines(text: list[str] | str) -> list[str]:
    lines = [line.rstrip() for line in (text.splitlines() if isinstance(text, str) else text)]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def fits(expected: list[str], actual: str) -> bool:
    return _fits(_lines(expected), _lines(actual))


def _fits(expected: list[str], actual: list[str]) -> bool:
    if ANY_LINES not in expected:
        return len(expected) == len(actual) and all(map(_line_fits, expected, actual))
    cut = expected.index(ANY_LINES)
    head, rest = expected[:cut], expected[cut + 1 :]
    if not _fits(head, actual[:cut]):
        return False
    return any(_fits(rest, actual[at:]) for at in range(cut, len(actual) + 1))


def _line_fits(expected: str, actual: str) -> bool:
    """Equal, or equal but where the expected line has `…` (any text there)."""
    if expected == actual or ANY_LINES not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split(ANY_LINES))
    return re.fullmatch(pattern, actual) is not None


def _report(page: Path, step: Step, actual: str) -> str:
    return (
        f"{page.name}:{step.line}: $ {step.command}\n--- the page shows\n"
        + "\n".join(_lines(step.expected))
        + "\n--- leadctl printed\n"
        + "\n".join(_lines(actual))
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_console_examples_print_what_the_page_shows(page, tmp_path):
    failures = [
        _report(page, step, actual)
        for step, actual in run_examples(page, tmp_path)
        if not fits(step.expected, actual)
    ]
    assert not failures, "\n\n".join(failures)


def test_the_example_runner_catches_a_wrong_output(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```console\n$ leadctl add 'Ada Lovelace' --email ada@example.com\nadded lead 2: Ada\n"
        "$ leadctl list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'\n"
        "1\n```\n"
    )
    results = [fits(step.expected, actual) for step, actual in run_examples(page, tmp_path)]
    assert results == [False, True]
    assert fits(["a", ANY_LINES, "d"], "a\nb\nc\nd\n") and not fits(["a", ANY_LINES], "b\n")
    assert fits(["copied (… bytes)"], "copied (1,024 bytes)") and not fits(["a (…)"], "b (1)")


@pytest.mark.parametrize("name", ["README.md", *GUIDES])
def test_the_guides_show_real_sessions(name):
    page = README_PATH if name == "README.md" else ROOT / "docs" / name
    assert sum(len(block.steps) for block in console_blocks(page)) >= 5


def update(pages: list[Path]) -> None:
    """Write what leadctl prints now under each command (lines with `…` kept when
    they still fit)."""
    for page in pages:
        lines = page.read_text().splitlines()
        edits = []
        with tempfile.TemporaryDirectory() as scratch:
            for step, actual in run_examples(page, Path(scratch)):
                if not fits(step.expected, actual):
                    edits.append((step, [step.indent + t if t else t for t in _lines(actual)]))
        for step, new in reversed(edits):
            lines[step.first : step.first + len(step.expected)] = new
        if edits:
            page.write_text("\n".join(lines) + "\n")
        print(f"{page.relative_to(ROOT)}: {len(edits)} example(s) updated")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] != ["--update"]:
        sys.exit("usage: python -m tests.test_docs --update [PAGE…]")
    update([Path(a).resolve() for a in arguments[1:]] or PAGES)
