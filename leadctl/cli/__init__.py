"""The command line: parse, call the core, render. Nothing here opens a
database or imports SQLAlchemy until a command runs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from leadctl import __version__
from leadctl.cli import (
    admin,
    clients,
    dedupe,
    leads,
    pipeline,
    pool,
    reports,
    scoring,
    transfer,
    users,
)
from leadctl.cli.state import AppState


class LeadctlGroup(TyperGroup):
    """Maps every core error to its one-line message and exit code, in one place."""

    def invoke(self, ctx: typer.Context) -> Any:
        from leadctl.errors import LeadctlError

        try:
            return super().invoke(ctx)
        except LeadctlError as error:
            _record_denial(ctx, error)
            _fail(str(error), error.exit_code)
        except OSError as error:
            if error.errno == 32:  # broken pipe: `leadctl list | head`
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


def _record_denial(ctx: typer.Context, error: Exception) -> None:
    """A refusal about leads goes in their timelines, in its own transaction."""
    from leadctl.errors import LeadctlError, PermissionDenied

    opened = getattr(ctx.obj, "_database", None)
    if not isinstance(error, PermissionDenied) or opened is None:
        return
    from leadctl.users import record_denial

    try:
        record_denial(opened, error, ctx.obj.actor)
    except LeadctlError:
        pass  # the refusal itself is what the user must see


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
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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
            help="SQLite file or postgresql:// URL [env: LEADCTL_DB; default: user data dir].",
            show_default=False,
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Act as this user [env: LEADCTL_USER; default: OS login]."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    ctx.obj = AppState(db_target=db, as_user=as_user)


for module in (leads, pipeline, admin, pool, users, scoring, clients, reports, transfer, dedupe):
    module.register(app)


def main() -> None:
    app()
