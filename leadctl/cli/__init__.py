"""The command line: parse, call the core, render. Nothing here opens a
database or imports SQLAlchemy until a command runs."""

from __future__ import annotations

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
    "add": "leads", "list": "leads", "show": "leads", "edit": "leads",
    "status": "pipeline", "note": "pipeline", "log": "pipeline", "schedule": "pipeline",
    "claim": "pool", "release": "pool", "assign": "pool",
    "score": "scoring", "convert": "clients", "client": "clients", "report": "reports",
    "import": "transfer", "export": "transfer", "dedupe": "dedupe", "merge": "dedupe",
    "user": "users", "statuses": "admin", "sources": "admin", "reasons": "admin",
    "config": "admin", "backup": "admin",
}  # fmt: skip
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


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
        return _module_commands(module_name).get_command(ctx, cmd_name)

    def invoke(self, ctx: ClickContext) -> Any:
        from leadctl.errors import LeadctlError

        try:
            return super().invoke(ctx)
        except LeadctlError as error:
            _fail(str(error), error.exit_code)
        except OverflowError:
            _fail("a number is out of range: ids, counts and amounts must fit in 64 bits", 1)
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
                from leadctl.storage import translate_errors

                try:
                    with translate_errors(ctx.obj.db_target if ctx.obj else "?"):
                        raise error
                except LeadctlError as mapped:
                    _fail(str(mapped), mapped.exit_code)
            raise


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
        typer.Option("--as", help="Act as this user (env LEADCTL_USER; default: OS login)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    ctx.obj = AppState(db_target=db, as_user=as_user)


def main() -> None:
    app()
