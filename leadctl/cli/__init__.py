"""The command line: parse, call the core, render. Nothing here opens a
database or imports SQLAlchemy until a command runs."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from leadctl import __version__
from leadctl.cli.state import AppState

if TYPE_CHECKING:  # the Context TyperGroup declares: click's, which typer vendors
    from typer._click import Context as ClickContext

# Each command, in the order --help lists them, and the module of leadctl.cli
# that defines it. A command's module is imported (and its Typer commands are
# built) only when that command runs, so start-up does not grow with the CLI.
COMMANDS = {
    "next": "agenda",
    "add": "leads", "list": "leads", "show": "leads", "edit": "leads", "tag": "tags",
    "status": "pipeline", "note": "pipeline", "log": "pipeline", "schedule": "pipeline",
    "claim": "pool", "release": "pool", "assign": "pool",
    "score": "scoring", "convert": "clients", "client": "clients", "report": "reports",
    "deal": "clients",
    "import": "transfer", "export": "transfer", "dedupe": "dedupe", "merge": "dedupe",
    "user": "users", "statuses": "admin", "sources": "admin", "reasons": "admin",
    "config": "admin", "backup": "admin", "copy": "admin", "undo": "history",
    "events": "events", "sweep": "sweep",
}  # fmt: skip
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
COMPLETION_OPTIONS = ("--install-completion", "--show-completion")


@cache
def _module_commands(module_name: str) -> TyperGroup:
    """The click commands of one CLI module, built on first use."""
    module = import_module(f"leadctl.cli.{module_name}")
    commands = typer.Typer(rich_markup_mode=None, context_settings=CONTEXT_SETTINGS)
    module.register(commands)
    return typer.main.get_group(commands)


class LeadctlGroup(TyperGroup):
    """Loads commands lazily, and maps every core error to its one-line message
    and exit code, in one place."""

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: ClickContext, cmd_name: str) -> Any:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        command = _module_commands(module_name).get_command(ctx, cmd_name)
        if os.environ.get("_LEADCTL_COMPLETE"):  # a tab key: names from the database
            from leadctl.cli import completion

            completion.attach(command, cmd_name)
        return command

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        """Shell completion (``_LEADCTL_COMPLETE=complete_bash`` …): typer's
        completion classes, registered only while completing, so the CLI's
        start-up does not pay for them."""
        if os.environ.get(complete_var or "_LEADCTL_COMPLETE"):
            from typer._completion_classes import completion_init

            completion_init()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        """``--install-completion`` / ``--show-completion`` take an optional
        shell: given no value, they get "" (the shell this runs under).
        A NUL character is refused in any argument: no text column holds one
        on PostgreSQL, so no engine stores one (a program's argv cannot carry
        it; a caller in-process or through a wrapper can)."""
        if any("\x00" in arg for arg in args):
            _fail("an argument contains a NUL character (\\0), which no field can hold", 1)
        for i, arg in enumerate(args):
            if arg in COMPLETION_OPTIONS and (i + 1 == len(args) or args[i + 1].startswith("-")):
                args = [*args[: i + 1], "", *args[i + 1 :]]
                break
            if not arg.startswith("-"):
                break  # a command: its own arguments are its own
        return super().parse_args(ctx, args)

    def invoke(self, ctx: ClickContext) -> Any:
        """Run the command, then deliver the events it made (after its commit,
        whether it succeeded or not: an import may commit batches and fail)."""
        try:
            try:
                outcome = self._invoke_mapped(ctx)
            except KeyboardInterrupt:
                raise
            except BaseException:
                _deliver_events(ctx)
                raise
            _deliver_events(ctx)
            return outcome
        finally:
            if isinstance(ctx.obj, AppState):  # a server's connections end with the command
                ctx.obj.close()

    def _invoke_mapped(self, ctx: ClickContext) -> Any:
        from leadctl.errors import LeadctlError

        try:
            return super().invoke(ctx)
        except LeadctlError as error:
            for detail in getattr(error, "details", ()):  # a bulk refusal: each lead, then why
                _say_error(detail)
            _fail(str(error), error.exit_code)
        except OverflowError:
            _fail(OUT_OF_RANGE, 1)
        except OSError as error:
            if error.errno == 32:  # broken pipe: `leadctl list | head`
                import os
                import sys

                # nothing more can reach the reader; keep the exit-time flush quiet
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(0) from None
            _fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "), 1)
        except Exception as error:
            if type(error).__module__.startswith("sqlalchemy"):
                if "out of range" in str(getattr(error, "orig", "")):  # PostgreSQL's words
                    _fail(OUT_OF_RANGE, 1)
                from leadctl.storage import default_target, shown, translate_errors

                target = (ctx.obj.db_target if ctx.obj else None) or default_target()
                try:
                    with translate_errors(shown(target)):
                        raise error
                except LeadctlError as mapped:
                    _fail(str(mapped), mapped.exit_code)
            raise


def _deliver_events(ctx: ClickContext) -> None:
    """The one place events reach ``hook_command``: after the command, when
    it opened the database (and made events there: ``leadctl.events``)."""
    if isinstance(ctx.obj, AppState) and ctx.obj.opened is not None:
        from leadctl.cli.events import deliver_after

        deliver_after(ctx.obj)


def _say_error(text: str) -> None:
    from leadctl.cli.render import error

    error(text)


OUT_OF_RANGE = "a number is out of range: ids, counts and amounts must fit in 64 bits"


def _fail(text: str, code: int) -> None:
    from leadctl.cli.render import error

    error(text)
    raise typer.Exit(code)


app = typer.Typer(
    cls=LeadctlGroup,
    name="leadctl",
    help="Track leads from first contact to won client, in your terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings=CONTEXT_SETTINGS,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"leadctl {__version__}")
        raise typer.Exit()


def _install_completion(ctx: typer.Context, value: str | None) -> None:
    if value is not None and not ctx.resilient_parsing:
        from leadctl.cli import completion

        _handled(completion.install, value)


def _show_completion(ctx: typer.Context, value: str | None) -> None:
    if value is not None and not ctx.resilient_parsing:
        from leadctl.cli import completion

        _handled(completion.show, value)


def _handled(action: Any, value: str) -> None:
    """Run an eager option's action, its errors mapped as a command's are."""
    from leadctl.errors import LeadctlError

    try:
        action(value)
    except LeadctlError as error:
        _fail(str(error), error.exit_code)
    raise typer.Exit()


def _complete_user(ctx: typer.Context, incomplete: str) -> list[str]:
    from leadctl.cli import completion

    return completion.users(ctx, incomplete)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLite file or postgresql:// URL (env LEADCTL_DB; default: user data dir).",
            show_default=False,
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Act as this user (env LEADCTL_USER; default: OS login).",
            autocompletion=_complete_user,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    install_completion: Annotated[
        str | None,
        typer.Option(
            "--install-completion",
            metavar="[SHELL]",
            callback=_install_completion,
            expose_value=False,
            is_eager=True,
            help="Install shell completion: bash, zsh or fish (default: your shell).",
        ),
    ] = None,
    show_completion: Annotated[
        str | None,
        typer.Option(
            "--show-completion",
            metavar="[SHELL]",
            callback=_show_completion,
            expose_value=False,
            is_eager=True,
            help="Print the completion script for bash, zsh or fish (default: your shell).",
        ),
    ] = None,
) -> None:
    ctx.obj = AppState(db_target=db, as_user=as_user)


def main() -> None:
    app()
