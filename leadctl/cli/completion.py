"""Shell completion: ``--install-completion`` / ``--show-completion`` (typer's
scripts for bash, zsh and fish), and which parameters complete from the
database (:data:`FROM_DATABASE`, one table for every command, attached as the
lazily loaded commands are built, only while completing)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from leadctl.errors import InvalidInput, invalid_choice

PROG = "leadctl"
COMPLETE_VAR = "_LEADCTL_COMPLETE"
SHELLS = ["bash", "zsh", "fish"]
# The file each shell reads at start-up that loads the installed script
RC_FILES = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "fish": "~/.config/fish/completions"}

# (command, parameter): the names it completes (``leadctl.completion.KINDS``,
# or ``owner``: me, unassigned and the users). "*" is any command; a parameter
# is an option's long name or an argument's metavar.
FROM_DATABASE = {
    ("*", "--status"): "status",
    ("*", "--source"): "source",
    ("*", "--owner"): "owner",
    ("*", "--to"): "user",
    ("*", "--assign"): "user",
    ("status", "ID... [STATUS"): "status",  # its metavar "ID... [STATUS]", as _key reads it
    ("status", "--reason"): "lost_reason",
    ("user remove", "NAME"): "user",
    ("user role", "NAME"): "user",
    ("statuses rename", "OLD"): "status",
    ("statuses remove", "NAME"): "status",
    ("statuses role", "NAME"): "status",
    ("sources rename", "OLD"): "source",
    ("sources remove", "NAME"): "source",
    ("reasons rename", "OLD"): "lost_reason",
    ("reasons remove", "NAME"): "lost_reason",
}


def completing() -> bool:
    return bool(os.environ.get(COMPLETE_VAR))


def shell_named(value: str) -> str:
    """The shell given (bash, zsh or fish), or the one this runs under."""
    if value:
        folded = value.strip().lower()
        if folded not in SHELLS:
            raise invalid_choice("shell", value, SHELLS)
        return folded
    try:
        import shellingham  # type: ignore[import-untyped]

        detected: str = shellingham.detect_shell()[0]
    except Exception:  # shellingham: ShellDetectionFailure, or a platform it cannot read
        detected = Path(os.environ.get("SHELL", "")).name
    if detected not in SHELLS:
        raise InvalidInput(
            "cannot tell which shell this is; name it: --install-completion bash|zsh|fish"
        )
    return detected


def show(value: str) -> None:
    """Print the completion script of a shell."""
    from typer._completion_shared import get_completion_script

    script = get_completion_script(
        prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell_named(value)
    )
    typer.echo(script)


def install(value: str) -> None:
    """Install the completion script where the shell loads it (never asks)."""
    from typer._completion_shared import install as install_script

    from leadctl.cli import render

    shell = shell_named(value)
    _, path = install_script(shell=shell, prog_name=PROG, complete_var=COMPLETE_VAR)
    loaded = "" if shell == "fish" else f", loaded from {RC_FILES[shell]}"
    render.message(f"{shell} completion installed in {path}{loaded}; open a new shell to use it")


def attach(command: Any, path: str) -> None:
    """Give the parameters of :data:`FROM_DATABASE` their completion, in the
    command ``path`` and its sub-commands (click's ``shell_complete`` hook)."""
    for param in command.params:
        key = _key(param)
        kind = FROM_DATABASE.get((path, key)) or FROM_DATABASE.get(("*", key))
        if kind is not None:
            param._custom_shell_complete = _completer(kind)
    for name, sub in getattr(command, "commands", {}).items():
        attach(sub, f"{path} {name}")


def _key(param: Any) -> str:
    long = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    if param.param_type_name == "option":
        return long[0] if long else ""
    return str(param.metavar or param.name or "").upper().strip("[].")


def _completer(kind: str) -> Any:
    def complete(ctx: Any, param: Any, incomplete: str) -> list[str]:
        return values(ctx, kind, incomplete)

    return complete


def users(ctx: Any, incomplete: str) -> list[str]:
    return values(ctx, "user", incomplete)


def values(ctx: Any, kind: str, incomplete: str) -> list[str]:
    """The names to offer; spaces escaped for bash, which inserts them as they are."""
    from leadctl import completion

    target = ctx.find_root().params.get("db")
    if kind == "owner":
        found = [w for w in ("me", "unassigned") if w.startswith(incomplete.lower())]
        found += completion.names(target, "user", incomplete)
    else:
        found = completion.names(target, kind, incomplete)
    if os.environ.get(COMPLETE_VAR) == "complete_bash":
        found = [name.replace(" ", "\\ ") for name in found]
    return found
