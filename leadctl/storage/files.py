"""Files leadctl writes for a person (exports, rejects and warnings files,
backups): they hold personal data, so each is created mode 0600 under a fresh
temporary name in the destination's folder (``O_EXCL | O_NOFOLLOW``, as
``tempfile.mkstemp`` does) and renamed into place once whole. Nothing is ever
written through a symbolic link, into a FIFO or a device, and an existing
file is replaced only when the caller allows it (``--force``, or a file that
is recognisably one of leadctl's own outputs for the same input).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast

from leadctl.errors import Conflict, InvalidInput

MODE = 0o600


def check_target(
    path: Path,
    *,
    what: str,
    replace: bool | Callable[[Path], bool],
    refusal: str | None = None,
) -> None:
    """Refuse a destination that is a link, a directory, a FIFO or a device
    (exit 1), or an existing file that may not be replaced (exit 3, with
    ``refusal`` as the message, else "use --force")."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise InvalidInput(f"cannot write {what} {path}: {error.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise InvalidInput(
            f"{what} {path} is a symbolic link; leadctl does not write through links"
        )
    if stat.S_ISDIR(info.st_mode):
        raise InvalidInput(f"{what} {path} is a directory; give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"{what} {path} is not a regular file (a FIFO, socket or device)")
    allowed = replace(path) if callable(replace) else replace
    if not allowed:
        raise Conflict(refusal or f"{path} exists; use --force to overwrite it")


class PrivateFile:
    """A file being written under a temporary name beside ``path``; ``commit``
    renames it into place, ``discard`` removes it. Errors name ``path``."""

    def __init__(self, path: Path, *, what: str) -> None:
        self.path = path
        self.what = what
        folder = path.parent if str(path.parent) else Path(".")
        try:
            descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        except OSError as error:
            raise self.failure(error) from None
        self.temporary = Path(name)
        self.descriptor: int | None = descriptor

    def open(self, mode: str = "wb", **options: Any) -> IO[Any]:
        """The temporary file as a Python file object (owns the descriptor)."""
        descriptor, self.descriptor = self.descriptor, None
        if descriptor is None:
            raise ValueError("the file is already open")
        return os.fdopen(descriptor, mode, **options)

    def open_binary(self) -> BinaryIO:
        return cast(BinaryIO, self.open("wb"))

    def open_csv(self) -> TextIO:
        """The temporary file for a CSV a spreadsheet reads (UTF-8 with BOM)."""
        return cast(TextIO, self.open("w", encoding="utf-8-sig", newline=""))

    def failure(self, error: OSError) -> InvalidInput:
        reason = error.strerror or str(error)
        return InvalidInput(f"cannot write {self.what} {self.path}: {reason}")

    def commit(self) -> None:
        try:
            os.replace(self.temporary, self.path)
        except OSError as error:
            self.discard()
            raise self.failure(error) from None

    def discard(self) -> None:
        if self.descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(self.descriptor)
            self.descriptor = None
        self.temporary.unlink(missing_ok=True)


def first_line(path: Path, limit: int = 1 << 20) -> str:
    """The first line of a (regular) file as text, BOM removed; '' if unreadable."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return ""
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.readline(limit)
    return data.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
