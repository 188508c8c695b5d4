"""Reading and parsing in a second process while this one stores: both cores.

SQLite takes one writer, and a lead table with many indexes makes storing as
costly as parsing; so on Linux a forked child reads and parses rows and sends
parsed batches through a pipe, while the parent dedupes and writes. The pipe's
small buffer is the backpressure: a batch or two in flight, memory flat.
Elsewhere, and for small inputs, the same generator runs in this process.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from leadctl.errors import LeadctlError
from leadctl.importing.rows import Parsed

PARALLEL_FROM_BYTES = 2 << 20  # smaller files are done before a second process pays off
_LENGTH = struct.Struct("<Q")
PIPE_BYTES = 4 << 20  # about four batches of parsed rows


@dataclass
class Chunk:
    """A batch of parsed rows, the rows rejected since the last one, and counters."""

    rows: list[Parsed] = field(default_factory=list)
    rejects: list[tuple[int, list[str] | None, str]] = field(default_factory=list)
    read: int = 0  # rows read so far
    warnings: int = 0  # in this chunk's rows
    position: int = 0  # bytes read so far
    header: list[str] | None = None  # the header the rejects belong to
    notices: list[str] = field(default_factory=list)  # about the file: said in the summary


def should_fork(size: int | None, wanted: bool | None) -> bool:
    if wanted is not None:
        return wanted and hasattr(os, "fork") and sys.platform.startswith("linux")
    return sys.platform.startswith("linux") and (size is None or size >= PARALLEL_FROM_BYTES)


def in_child(produce: Callable[[], Iterator[Chunk]]) -> Iterator[Chunk]:
    """Run ``produce`` in a forked process and yield what it sends.

    A plain ``os.fork`` and pipe rather than multiprocessing, whose children
    close stdin, and ``import -`` reads stdin in the child.
    """
    read_end, write_end = os.pipe()
    _widen(write_end)
    pid = os.fork()
    if pid == 0:  # the reader process
        # Ctrl-C reaches the whole process group: the parent decides, and ends this one
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.close(read_end)
        _child(produce, os.fdopen(write_end, "wb"))
    os.close(write_end)
    receiver = os.fdopen(read_end, "rb")
    finished = False
    try:
        while True:
            kind, payload = _receive(receiver)
            if kind == "chunk":
                yield _unpack(payload)
            elif kind == "error":
                raise payload
            else:
                finished = True
                return
    finally:
        receiver.close()
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


def _widen(descriptor: int) -> None:
    """Let the reader run a few batches ahead (Linux pipes hold 64 KiB by default)."""
    try:
        import fcntl

        with open("/proc/sys/fs/pipe-max-size") as limit:
            size = min(PIPE_BYTES, int(limit.read()))
        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, size)
    except (OSError, ValueError, AttributeError, ImportError):
        pass  # a narrow pipe only means less overlap


def _send(sender: BinaryIO, message: tuple[str, object]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sender.write(_LENGTH.pack(len(data)))
    sender.write(data)
    sender.flush()


def _receive(receiver: BinaryIO) -> tuple[str, Any]:
    head = receiver.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise LeadctlError("the import's reader process stopped unexpectedly")
    (size,) = _LENGTH.unpack(head)
    return pickle.loads(receiver.read(size))


def _pack(chunk: Chunk) -> tuple:
    """Plain tuples pickle several times faster than dataclass instances."""
    rows = [
        (r.line, r.values, r.notes, r.warnings, r.lead_id, r.cells, r.history) for r in chunk.rows
    ]
    return (
        rows,
        chunk.rejects,
        chunk.read,
        chunk.warnings,
        chunk.position,
        chunk.header,
        chunk.notices,
    )


def _unpack(packed: tuple) -> Chunk:
    rows, rejects, read, warnings, position, header, notices = packed
    rows = [Parsed(*row) for row in rows]
    return Chunk(rows, rejects, read, warnings, position, header, notices)


def _child(produce: Callable[[], Iterator[Chunk]], sender: BinaryIO) -> None:
    try:
        for chunk in produce():
            _send(sender, ("chunk", _pack(chunk)))
        _send(sender, ("done", None))
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the parent is gone or stopping
    except BaseException as error:  # noqa: BLE001 - handed to the parent to raise
        try:
            _send(sender, ("error", error))
        except Exception:  # noqa: BLE001 - unpicklable: say what it was
            with contextlib.suppress(Exception):
                _send(sender, ("error", LeadctlError(f"import failed: {error!r}")))
    finally:
        os._exit(0)  # no atexit handlers, no flushing the parent's buffered output
