"""Issue 16, team mode on a server: who acts when each person has their own
server login (item 8), ``backup`` on PostgreSQL through pg_dump (item 7b), and
a server that refuses or drops the connection mid-command (item 9)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from leadctl.storage import shown
from tests import engines
from tests.conftest import POSTGRES, leadctl_bin, run_leadctl

server_only = pytest.mark.skipif(not POSTGRES, reason="server logins exist on PostgreSQL only")


def schema_of(url: str) -> str:
    """The schema a test's URL names (``options=-csearch_path=NAME``)."""
    options = parse_qs(urlsplit(url).query)["options"][0]
    return options.removeprefix("-csearch_path=")


def with_login(url: str, user: str, password: str) -> str:
    """The same database and schema, logging in as another role."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest.rpartition('@')[2]}"


@pytest.fixture
def login(db_target: str, sql: Callable[..., list]) -> Iterator[Callable[..., str]]:
    """``login(prefix)``: a new server login role (a unique name starting with
    ``prefix``) with the rights a rep's login needs on the test's schema;
    returns its name. The roles are dropped at the end of the test."""
    made: list[str] = []
    schema = schema_of(db_target)

    def make(prefix: str, *, grant: str = "tables") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        sql(f"CREATE ROLE {name} LOGIN PASSWORD 'pw-{name}'")
        made.append(name)
        if grant in ("schema", "tables"):
            sql(f"GRANT USAGE ON SCHEMA {schema} TO {name}")
        if grant == "tables":
            sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}")
            sql(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {name}")
        return name

    yield make
    for name in made:
        sql(f"DROP OWNED BY {name}")
        sql(f"DROP ROLE {name}")


def url_of(db_target: str, name: str) -> str:
    return with_login(db_target, name, f"pw-{name}")


@pytest.fixture
def team(cli, monkeypatch):
    """An admin ``boss`` and a rep ``ann`` added through the shared login; no
    LEADCTL_USER (each test says who it asks to be)."""
    cli("--as", "boss", "user", "add", "boss", "--role", "admin")
    cli("--as", "boss", "user", "add", "ann", "--role", "rep")
    monkeypatch.delenv("LEADCTL_USER")
    return cli


def actors(cli, db: str, lead_id: int) -> list[str]:
    shown = cli.json("--db", db, "--as", "boss", "show", str(lead_id))
    return [activity["actor"] for activity in shown["activities"]]


@server_only
def test_a_reps_own_login_is_the_actor(team, db_target, login, tmp_path):
    rep = login("rep")
    team("--as", "boss", "user", "add", rep, "--role", "rep")
    mine = url_of(db_target, rep)
    lead = team.json("--db", mine, "add", "Ada Lovelace", "--email", "ada@example.com")
    team("--db", mine, "--as", rep, "note", str(lead["id"]), "called")  # its own name: fine
    assert actors(team, db_target, lead["id"]) == [rep, rep]
    assert team.json("--db", mine, "claim", str(lead["id"]))["claimed_by"] == rep
    source = tmp_path / "mine.csv"
    source.write_text("Name,Email\nGrace Hopper,grace@example.com\n", encoding="utf-8")
    assert team.json("--db", mine, "import", str(source))["imported"] == 1
    assert actors(team, db_target, 2) == [rep]


@server_only
@pytest.mark.parametrize("how", ["--as", "LEADCTL_USER"])
def test_a_reps_login_cannot_act_as_someone_else(team, db_target, login, monkeypatch, how):
    rep = login("rep")
    team("--as", "boss", "user", "add", rep, "--role", "rep")
    lead = team.json("--as", "boss", "add", "Ada Lovelace", "--email", "ada@example.com")
    mine = url_of(db_target, rep)
    if how == "--as":
        result = team("--db", mine, "--as", "boss", "note", str(lead["id"]), "x", code=4)
    else:
        monkeypatch.setenv("LEADCTL_USER", "ann")
        result = team("--db", mine, "note", str(lead["id"]), "x", code=4)
    other = "boss" if how == "--as" else "ann"
    assert result.stderr == (
        f"error: you log in to the server as {rep!r}, leadctl user {rep!r} (rep): "
        f"only an admin's login may act as {other!r}\n"
    )
    assert actors(team, db_target, lead["id"]) == ["boss"]  # nothing written


@server_only
def test_an_admins_login_may_act_as_another_user(team, db_target, login):
    chief = login("chief")
    team("--as", "boss", "user", "add", chief, "--role", "admin")
    theirs = url_of(db_target, chief)
    lead = team.json("--db", theirs, "--as", "ann", "add", "Ada Lovelace", "--email", "a@b.org")
    team("--db", theirs, "note", str(lead["id"]), "checked")  # no --as: the login's user
    assert actors(team, db_target, lead["id"]) == ["ann", chief]


@server_only
def test_a_shared_login_that_is_no_user_keeps_as(team, db_target, login):
    shared = login("sales")  # the whole team logs in as this; it is not a leadctl user
    mine = url_of(db_target, shared)
    lead = team.json("--db", mine, "--as", "ann", "add", "Ada Lovelace", "--email", "a@b.org")
    team("--db", mine, "--as", "boss", "note", str(lead["id"]), "x")
    assert actors(team, db_target, lead["id"]) == ["ann", "boss"]
    # and acting as someone who is no user is refused as before (users exist)
    assert "not a leadctl user" in team("--db", mine, "--as", shared, "list", code=4).stderr


@server_only
@pytest.mark.parametrize(("grant", "code", "said"), [
    ("schema", 4, "refuses this login: permission denied for table"),
    ("none", 5, "has no schema this login may create leadctl's tables in"),
])  # fmt: skip
def test_a_login_without_rights_is_one_line(team, db_target, login, grant, code, said):
    bare = login("bare", grant=grant)
    result = team("--db", url_of(db_target, bare), "--as", "ann", "list", code=code)
    assert result.stderr.startswith(f"error: database {with_login(db_target, bare, '***')} ")
    assert said in result.stderr and result.stderr.count("\n") == 1
    assert f"pw-{bare}" not in result.stderr


# -- backup on PostgreSQL: pg_dump ------------------------------------------------

FAKE_PG_DUMP = """#!{python}
import json, os, sys
from pathlib import Path
seen = {{"argv": sys.argv, "env": {{k: v for k, v in os.environ.items() if k.startswith("PG")}}}}
Path(os.environ["FAKE_LOG"]).write_text(json.dumps(seen))
for arg in sys.argv:
    if arg.startswith("--file="):
        Path(arg.removeprefix("--file=")).write_bytes(b"PGDMP half")
said = os.environ.get("FAKE_SAYS")
if said:
    sys.stderr.write(said)
    sys.exit(1)
"""


def password_of(url: str) -> str:
    password = urlsplit(url).password
    assert password, "the test server's URL carries a password"
    return password


@pytest.fixture
def fake_pg_dump(tmp_path, monkeypatch):
    """A pg_dump first on PATH that records its arguments and environment in
    the file it returns, writes its --file, and fails saying FAKE_SAYS if set."""
    import sys

    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "pg_dump"
    program.write_text(FAKE_PG_DUMP.format(python=sys.executable))
    program.chmod(0o755)
    log = tmp_path / "pg_dump.json"
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    return log


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@server_only
def test_backup_gives_pg_dump_the_password_in_its_environment_only(
    cli, db_target, tmp_path, fake_pg_dump
):
    import json

    cli("add", "Ada Lovelace", "--email", "ada@example.com")
    target = tmp_path / "team.dump"
    assert cli.json("backup", str(target)) == {"backup": str(target), "bytes": 10}
    seen = json.loads(fake_pg_dump.read_text())
    password = password_of(db_target)
    assert not [arg for arg in seen["argv"] if password in arg]
    assert seen["env"]["PGPASSWORD"] == password
    url = seen["argv"][-1]
    assert url == db_target.replace(f":{password}@", "@")  # no -h/-p/-U/-d: the URL
    assert seen["argv"][1:-1] == [
        "--format=custom",
        "--no-password",
        f"--schema={schema_of(db_target)}",  # leadctl's schema only
        seen["argv"][-2],
    ]
    assert seen["argv"][-2].startswith(f"--file={tmp_path}/.team.dump.")  # FILE.part first
    assert target.read_bytes() == b"PGDMP half" and leftovers(tmp_path) == []


@server_only
def test_backup_leaves_a_service_file_and_pgpass_to_pg_dump(
    cli, db_target, tmp_path, fake_pg_dump, monkeypatch
):
    """No password in the URL: pg_dump reads the user's own files, and the
    schema set in the service file (not in the URL) is still the one dumped."""
    import json

    parts = urlsplit(db_target)
    service = tmp_path / "pg_service.conf"
    service.write_text(
        f"[leadctl_team]\nhost={parts.hostname}\nport={parts.port}\n"
        f"dbname={parts.path.lstrip('/')}\nuser={parts.username}\n"
        f"options=-csearch_path={schema_of(db_target)}\n"
    )
    passwords = tmp_path / "pgpass"
    passwords.write_text(f"{parts.hostname}:{parts.port}:*:{parts.username}:{parts.password}\n")
    passwords.chmod(0o600)
    monkeypatch.setenv("PGSERVICEFILE", str(service))
    monkeypatch.setenv("PGPASSFILE", str(passwords))
    url = "postgresql:///?service=leadctl_team"
    cli("--db", url, "add", "Ada Lovelace", "--email", "ada@example.com")
    cli("--db", url, "backup", str(tmp_path / "team.dump"))
    seen = json.loads(fake_pg_dump.read_text())
    assert seen["argv"][-1] == url and "PGPASSWORD" not in seen["env"]
    assert seen["env"]["PGPASSFILE"] == str(passwords)
    assert f"--schema={schema_of(db_target)}" in seen["argv"]


@server_only
@pytest.mark.parametrize(
    ("says", "code", "message"),
    [
        (
            'pg_dump: error: connection to server at "127.0.0.1", port 5 failed: '
            "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
            "connections?\n",
            5,
            "error: database {db} is unavailable: pg_dump error: connection to server at "
            '"127.0.0.1", port 5 failed: Connection refused; nothing was written\n',
        ),
        (
            "pg_dump: error: query failed: ERROR:  permission denied for table lead\n",
            1,
            "error: cannot write backup {file}: pg_dump error: query failed: ERROR:  "
            "permission denied for table lead; nothing was written\n",
        ),
    ],
)
def test_a_failing_pg_dump_is_one_line_and_leaves_no_file(
    cli, db_target, tmp_path, fake_pg_dump, monkeypatch, says, code, message
):
    from leadctl.storage import shown

    cli("list")
    target = tmp_path / "team.dump"
    target.write_bytes(b"yesterday's backup")
    monkeypatch.setenv("FAKE_SAYS", says)
    result = cli("backup", str(target), "--force", code=code)
    assert result.stderr == message.format(db=shown(db_target), file=target)
    assert target.read_bytes() == b"yesterday's backup" and leftovers(tmp_path) == []


@server_only
def test_backup_without_pg_dump_says_how(cli, db_target, tmp_path, monkeypatch):
    from leadctl.storage import backup

    cli("list")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there
    monkeypatch.setattr(backup, "PG_DUMP_FALLBACK", str(tmp_path / "none" / "pg_dump"))
    target = tmp_path / "team.dump"
    result = cli("backup", str(target), code=1)
    without = db_target.replace(f":{password_of(db_target)}@", "@")
    assert result.stderr == (
        "error: backup on PostgreSQL runs pg_dump, which is not installed: install the "
        "PostgreSQL client (postgresql-client), or run: PGPASSWORD=*** pg_dump "
        f"--format=custom --no-password --schema={schema_of(db_target)} --file={target} "
        f"'{without}'\n"
    )
    assert not target.exists() and leftovers(tmp_path) == []


@server_only
def test_a_backup_restores_with_pg_restore_into_a_fresh_database(cli, db_target, tmp_path):
    import subprocess

    from leadctl.storage.backup import find_pg_dump
    from tests import engines

    if find_pg_dump() is None:
        pytest.skip("pg_dump is not installed")
    cli("user", "add", "boss", "--role", "admin")
    for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing"):
        cli("--as", "boss", "add", name, "--email", f"{name.split()[1].lower()}@example.com")
    cli("--as", "boss", "note", "2", "called, wants a demo")
    cli("--as", "boss", "convert", "3", "--deal-value", "5000")
    target = tmp_path / "team.dump"
    said = cli.json("--as", "boss", "backup", str(target))
    assert said == {"backup": str(target), "bytes": target.stat().st_size}
    assert target.stat().st_mode & 0o777 == 0o600 and leftovers(tmp_path) == []
    assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    password = password_of(db_target)
    with engines.run_database(POSTGRES or "") as fresh:
        restore = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={fresh.replace(f':{password}@', '@')}"]
            + [str(target)],
            env={**os.environ, "PGPASSWORD": password},
            capture_output=True,
            text=True,
            check=False,
        )
        assert restore.returncode == 0, restore.stderr
        restored = f"{fresh}?{urlsplit(db_target).query}"  # the same schema, restored
        everything = ("--as", "boss", "export", "--format", "json")
        assert cli.json("--db", restored, *everything) == cli.json(*everything)
        assert (
            cli.json("--db", restored, "--as", "boss", "add", "Ed", "--email", "e@x.org")["id"] == 4
        )  # the sequences came along


# -- a server that refuses, or goes away mid-command: exit 5 ----------------------


@server_only
@pytest.mark.parametrize("cut", ["refused", "password"])
def test_a_server_that_refuses_is_one_line_exit_5(cli, db_target, cut):
    password = password_of(db_target)
    if cut == "refused":  # nothing listens on port 1
        url = re.sub(r"@[^/?]+", "@127.0.0.1:1", db_target, count=1)
        said = 'connection to server at "127.0.0.1", port 1 failed: Connection refused'
    else:
        url = db_target.replace(f":{password}@", ":not-the-password@")
        said = "password authentication failed"
    result = cli("--db", url, "list", code=5)
    assert result.stderr.startswith(f"error: database {shown(url)} is unavailable: ")
    assert said in result.stderr and result.stderr.count("\n") == 1
    assert password not in result.stderr and "not-the-password" not in result.stderr


def count_leads(sql) -> int:
    try:
        return int(sql("SELECT count(*) FROM lead")[0][0])
    except Exception:  # the schema is not made yet
        return 0


@server_only
@pytest.mark.slow
def test_a_connection_cut_mid_import_is_exit_5_with_whole_batches(
    db_target, second_db, tmp_path, sql
):
    from benchmarks.make_csv import write

    source = tmp_path / "big.csv"
    write(source, 8_000)  # batches of 500, 5,000, 2,500
    name = f"leadctl_cut_{uuid.uuid4().hex[:8]}"  # the import's connections, by name
    process = subprocess.Popen(
        [leadctl_bin(), "--db", f"{db_target}&application_name={name}", "import", str(source)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    cut: list[object] = []
    while not cut:  # once a batch is in, end the import's connection inside the next one
        assert process.poll() is None, "the import finished before it could be cut off"
        assert time.monotonic() < deadline
        if count_leads(sql):
            cut = sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND xact_start IS NOT NULL",
                name=name,
            )
        time.sleep(0.01)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 5, stderr
    said = re.fullmatch(
        rf"error: database {re.escape(shown(db_target))}&application_name={name} is "
        # the server's farewell, or the driver's when the cut came between statements
        r"unavailable: (?:terminating connection due to administrator command|the connection "
        r"is lost); ([\d,]+) rows "
        r"stored \(imported ([\d,]+), merged ([\d,]+)\) of [\d,]+ read; run the same import "
        r"again to store the rest\n",
        stderr,
    )
    assert said, stderr
    imported = int(said[2].replace(",", ""))
    assert 0 < imported < 8_000 and count_leads(sql) == imported  # whole batches, none half
    orphans = "SELECT count(*) FROM lead WHERE NOT EXISTS (SELECT 1 FROM activity a "
    orphans += "WHERE a.lead_id = lead.id AND a.kind = 'created')"
    assert sql(orphans) == [(0,)]  # no lead without its history

    # the same import again stores the rest (merging what is there): as one import did
    rerun = run_leadctl("--db", db_target, "import", str(source), "--json")
    reference = run_leadctl("--db", second_db, "import", str(source), "--json")
    assert rerun.returncode == reference.returncode == 1  # the file has rejected rows
    emails = "SELECT email FROM lead ORDER BY email"
    with engines.Sql(second_db) as other:
        assert sql(emails) == other(emails)
    assert json.loads(rerun.stdout)["merged"] >= imported


class PrivateServer:
    """A throwaway PostgreSQL cluster of this test's own (``initdb`` in a
    temporary folder, as the ``postgres`` user when the tests run as root, on
    a free port of 127.0.0.1), which a test may stop; removed afterwards."""

    def __init__(self, bin_dir: str, folder: str, port: int, owner: tuple[int, int] | None):
        self.bin_dir, self.folder, self.port, self.owner = bin_dir, folder, port, owner
        self.url = f"postgresql://leadctl@127.0.0.1:{port}/postgres"

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [os.path.join(self.bin_dir, program), *args]
        if self.owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        options = f"-k {self.folder} -p {self.port} -c listen_addresses=127.0.0.1"
        data, log = f"{self.folder}/data", f"{self.folder}/log"
        started = self.run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")
        assert started.returncode == 0, started.stderr

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", f"{self.folder}/data", "-m", mode, "-w", "stop")


@pytest.fixture
def private_server() -> Iterator[PrivateServer]:
    import glob
    import pwd
    import shutil
    import socket
    import tempfile

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("initdb is not installed")
    owner: tuple[int, int] | None = None
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to postgres
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root with no postgres user to own a cluster")
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        owner = (account.pw_uid, account.pw_gid)
    folder = tempfile.mkdtemp(prefix="leadctl-pg-")
    if owner is not None:
        os.chown(folder, *owner)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = PrivateServer(os.path.dirname(found[-1]), folder, port, owner)
    try:
        made = server.run(
            "initdb", "-D", f"{folder}/data", "-U", "leadctl", "--auth=trust", "--no-sync"
        )
        if made.returncode != 0:
            pytest.skip(f"initdb could not run here: {made.stderr.strip()[-200:]}")
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@server_only
@pytest.mark.slow
def test_a_server_stopped_mid_import_is_exit_5_with_whole_batches(private_server, tmp_path):
    from benchmarks.make_csv import write

    source = tmp_path / "big.csv"
    write(source, 8_000)  # batches of 500, 5,000, 2,500
    url = private_server.url
    process = subprocess.Popen(
        [leadctl_bin(), "--db", url, "import", str(source)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    with engines.Sql(url) as sql:
        while not count_leads(sql):  # once a batch is in, stop the server under the next
            assert process.poll() is None, "the import finished before the server stopped"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    private_server.stop("immediate")  # as a crash or a power cut: no goodbye to clients
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 5, stderr
    said = re.fullmatch(
        rf"error: database {re.escape(url)} is unavailable: .+; ([\d,]+) rows stored "
        r"\(imported ([\d,]+), merged ([\d,]+)\) of [\d,]+ read; run the same import again "
        r"to store the rest\n",
        stderr,
    )
    assert said, stderr
    private_server.start()  # recovery: what was committed is there, nothing else
    imported = int(said[2].replace(",", ""))
    with engines.Sql(url) as sql:
        assert 0 < imported < 8_000 and count_leads(sql) == imported
    rerun = run_leadctl("--db", url, "import", str(source), "--json")
    assert rerun.returncode == 1, rerun.stderr  # the file has rejected rows
    assert json.loads(rerun.stdout)["merged"] >= imported
