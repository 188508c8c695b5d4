"""What every command shares: global options, the lazily opened database,
and the option types spelled once for all commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlmodel import Session

    from leadctl.storage import Database

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
IdArg = Annotated[int, typer.Argument(help="Lead id.", show_default=False)]

# The lead filters of `list` and `export`, spelled once.
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        metavar="<str>",
        help="Only this status, or the group open or closed; repeatable.",
    ),
]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Only this source.")]
OwnerOpt = Annotated[str | None, typer.Option("--owner", help="me, unassigned or a user name.")]
BandOpt = Annotated[str | None, typer.Option("--band", help="cold, warm or hot.")]
StageOpt = Annotated[str | None, typer.Option("--stage", help="Lifecycle stage: lead, mql or sql.")]
RottingOpt = Annotated[
    bool, typer.Option("--rotting", help="Only leads untouched past their status's rots-after.")
]
TagOpt = Annotated[str | None, typer.Option("--tag", help="Only leads with this tag.")]
DueOpt = Annotated[str | None, typer.Option("--due", help="today, overdue or week.")]
SearchOpt = Annotated[
    str | None, typer.Option("--search", help="Text in name, email, phone, company.")
]


@dataclass
class AppState:
    db_target: str | None = None
    as_user: str | None = None
    _database: Database | None = field(default=None, repr=False)
    _actor: str | None = field(default=None, repr=False)

    @property
    def database(self) -> Database:
        """Opened on first use only, so --help and usage errors never touch a file."""
        if self._database is None:
            from leadctl.database import open_database

            self._database = open_database(self.db_target)
        return self._database

    def close(self) -> None:
        """Close a server database's pooled connections at the end of the
        command. A SQLite file is left to the process's end: closing its last
        connection would checkpoint the write-ahead log into the file, a write
        that a reading command (or a dry run) must not make."""
        if self._database is not None and not self._database.is_sqlite:
            self._database.close()
            self._database = None

    @property
    def opened(self) -> Database | None:
        """The database if a command opened it (None: it never touched one)."""
        return self._database

    @property
    def actor(self) -> str:
        """The acting user's name (``users.acting_name``: on a server whose
        login is a leadctl user, that user), resolved once per command."""
        if self._actor is None:
            from leadctl.storage import default_target, is_url
            from leadctl.users import acting_name

            target = self.db_target or default_target()
            server = is_url(target) and not target.startswith("sqlite:")
            self._actor = acting_name(self.as_user, self.database if server else None)
        return self._actor

    @contextmanager
    def session(self, *, immediate: bool = True, serialize: bool = True) -> Iterator[Session]:
        """A transaction for one command, on behalf of the acting user
        (``users.acting``: once users exist the actor must be one, exit 4; a
        refusal about leads is recorded in their timelines). Writers take
        SQLite's write lock at BEGIN (immediate) so concurrent writers queue on
        the busy timeout rather than fail on a stale snapshot; read-only
        commands pass immediate=False (``serialize``: see ``Database.session``)."""
        from leadctl import aging
        from leadctl.users import acting

        with acting(self.database, self.actor, immediate=immediate, serialize=serialize) as session:
            aging.load(session)  # lead objects shown after it say whether they are rotting
            yield session


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj
