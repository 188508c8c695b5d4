"""Opening an import source and deciding what it is: text (and in which
encoding), an .xlsx workbook, or something to refuse before anything is stored.

The source is read once, as a stream, so stdin works like a file: the first
64 KiB are kept to sniff, then replayed in front of the rest.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from leadctl.errors import InvalidInput

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

SAMPLE_BYTES = 64 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (or other OLE) file; save it as .xlsx or CSV"),
)
_LATIN_FAMILY = {
    "latin_1", "iso8859_1", "iso8859_15", "ascii", "cp1252", "cp1250", "iso8859_2", "mac_roman",
    "mac_latin2", "cp850", "cp437", "cp852", "iso8859_16", "iso8859_3", "iso8859_4",
    "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "cp1254", "cp1257",
}  # fmt: skip
# Text whose words are high bytes: the detector chooses among these Windows code
# pages (left free it takes Russian for Mac Cyrillic); a Greek, Hebrew or Arabic
# choice is taken, Cyrillic is decided by :func:`_cyrillic`.
_NON_LATIN = ["cp1251", "koi8_r", "cp1253", "cp1255", "cp1256"]
_OTHER_SCRIPTS = {"cp1253", "cp1255", "cp1256"}
_DETECTOR_FROM = 200  # letters: a shorter non-Latin text is taken as Cyrillic
_WORD = re.compile(rb"[A-Za-z\x80-\xff]+")
_HIGH_LETTER = re.compile(rb"[\xc0-\xff]")
_ASCII_LETTER = re.compile(rb"[A-Za-z]")
_CONTROL = set(range(0, 9)) | {11, 12} | set(range(14, 32))


class _Input(io.RawIOBase):
    """A raw stream that replays ``head`` before the rest and counts bytes read."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(target), len(self._head))
            target[:count] = self._head[:count]
            self._head = self._head[count:]
        else:
            data = self._rest.read(len(target))
            count = len(data)
            target[:count] = data
        self.consumed += count
        return count

    def close(self) -> None:
        if self._rest is not sys.stdin.buffer:
            self._rest.close()
        super().close()


@dataclass
class Source:
    """An opened import source: its name for messages and what it holds."""

    name: str
    path: Path | None
    kind: str  # "text" or "xlsx"
    head: bytes
    encoding: str | None
    size: int | None
    raw: _Input = field(repr=False)
    spooled: Path | None = None  # a temporary copy of stdin, removed on close
    forced: bool = False  # the encoding was given (--encoding), not detected

    @property
    def errors(self) -> str:
        """How bytes the encoding cannot decode are read: in a detected UTF-8 file
        as Windows-1252 (files pasted together); otherwise marked, so that their
        rows are rejected (:func:`undecodable`), never replaced in silence."""
        if not self.forced and self.encoding in ("utf-8", "utf-8-sig"):
            return "leadctl-cp1252"
        return MARK_ERRORS

    def binary(self) -> BinaryIO:
        return io.BufferedReader(self.raw, buffer_size=SAMPLE_BYTES)

    def position(self) -> int:
        """Bytes read so far, for the progress bar."""
        return self.raw.consumed

    def close(self) -> None:
        self.raw.close()
        if self.spooled is not None:
            self.spooled.unlink(missing_ok=True)


def open_source(
    location: str, *, encoding: str | None = None, stdin: BinaryIO | None = None
) -> Source:
    """Open a path or ``-``; refuse a missing, empty, binary or undecodable one (exit 1)."""
    if location == "-":
        stream = stdin or sys.stdin.buffer
        name, path, size = "stdin", None, None
    else:
        path = Path(location).expanduser()
        name = str(path)
        if not path.exists():
            raise InvalidInput(f"no such file: {name}")
        if path.is_dir():
            raise InvalidInput(f"{name} is a folder; give a CSV, JSON or .xlsx file")
        try:
            stream = path.open("rb", buffering=0)
        except OSError as error:
            raise InvalidInput(f"cannot read {name}: {error.strerror}") from None
        size = os.fstat(stream.fileno()).st_size
    try:
        return _sniff(name, path, stream, size, encoding)
    except BaseException:
        if stream is not sys.stdin.buffer and stream is not stdin:
            stream.close()  # a refused file is not left open
        raise


def _sniff(
    name: str, path: Path | None, stream: BinaryIO, size: int | None, encoding: str | None
) -> Source:
    """Read the head of an opened input and decide what it is (or refuse it)."""
    head = _read_head(stream)
    if head.startswith(b"PK\x03\x04"):
        return _workbook(name, path, head, stream, size)
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise InvalidInput(f"{name} is not a text file: it is {what}")
    chosen = _forced(encoding) if encoding else detect_encoding(head, name)
    if encoding:
        _check_forced(head, chosen, name)
    text = head.decode(chosen, errors="ignore")
    if not text.strip().lstrip("\ufeff").strip():
        raise InvalidInput(f"{name} is empty: nothing to import")
    if sum(ord(ch) in _CONTROL for ch in text) > max(16, len(text) // 3):  # NUL-free binary
        raise InvalidInput(f"{name} is not a text file (binary data); give a CSV, JSON or .xlsx")
    return Source(
        name, path, "text", head, chosen, size, _Input(head, stream), forced=bool(encoding)
    )


def _check_forced(head: bytes, encoding: str, name: str) -> None:
    """Refuse a forced encoding that reads the start of the file as mostly
    undecodable bytes: the wrong encoding, not a few bad rows."""
    sample = _whole_utf8(head) if len(head) >= SAMPLE_BYTES else head
    text = sample.decode(encoding, errors=MARK_ERRORS)
    marked = len(_MARKED.findall(text))
    readable = sum(1 for ch in text if not ch.isspace()) - marked
    if marked and readable <= marked:
        shown = display_name(encoding)
        raise InvalidInput(
            f"{name} cannot be read as {shown} (--encoding): most of its bytes are not "
            f"{shown}; leave --encoding out to detect the encoding"
        )


def _read_head(stream: BinaryIO) -> bytes:
    chunks, total = [], 0
    while total < SAMPLE_BYTES:
        chunk = stream.read(SAMPLE_BYTES - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _forced(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise InvalidInput(
            f"unknown encoding {encoding!r}: expected e.g. utf-8, utf-16, cp1252, latin-1"
        ) from None


def detect_encoding(head: bytes, name: str) -> str:
    """BOM, then BOM-less UTF-16 (NUL bytes in every other place), then strict
    UTF-8, then charset-normalizer; Latin guesses read as Windows-1252 (Excel)."""
    if not head:
        raise InvalidInput(f"{name} is empty: nothing to import")
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    nuls = head.count(0)
    if nuls:
        half = max(1, len(head) // 2)
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > half * 0.3 and even < half * 0.02:
            return "utf-16-le"
        if even > half * 0.3 and odd < half * 0.02:
            return "utf-16-be"
        if nuls > max(2, len(head) // 1000):
            raise InvalidInput(f"{name} is not a text file (binary data); give a CSV or .xlsx")
    sample = head if len(head) < SAMPLE_BYTES else _whole_utf8(head)
    decoded = sample.decode("utf-8", errors="replace")
    bad = decoded.count("\ufffd")
    # Mostly UTF-8 (as many accented words as stray bytes: `José`, an accented
    # letter inside a word of ASCII letters): the stray bytes are read as
    # Windows-1252. Fewer, and the valid pairs are chance (Windows-1251 `АВЁ`
    # is C0 C2 A8, and C2 A8 is UTF-8's `¨`).
    if bad == 0 or _latin_words(decoded) >= bad:
        return "utf-8"
    return single_byte(head, name)


_TEXT_WORD = re.compile(r"[^\W\d_]+")
_ASCII_WORD = re.compile(r"[A-Za-z]")


def _latin_words(text: str) -> int:
    """Words holding both an ASCII letter and another letter (``José``)."""
    return sum(
        1 for word in _TEXT_WORD.findall(text) if not word.isascii() and _ASCII_WORD.search(word)
    )


def single_byte(head: bytes, name: str) -> str:
    """The code page of a text that is not UTF-8.

    Statistical detectors guess badly on the short files people import (a
    Windows-1252 ``Lefèvre`` comes out as Windows-1250 ``Lefčvre``), so the
    script is decided first: in a Latin-script text the accented letters sit
    inside words of ASCII letters; in Cyrillic (or Greek, Hebrew, Arabic) whole
    words are high bytes. Latin text is Windows-1252, what Excel writes in
    Western Europe and the Americas, unless it holds a byte Windows-1252 leaves
    undefined (then Windows-1250, Central Europe); Cyrillic is Windows-1251 or
    KOI8-R (:func:`_cyrillic`).
    """
    words = [w for w in _WORD.findall(head) if _HIGH_LETTER.search(w)]
    foreign = sum(1 for w in words if not _ASCII_LETTER.search(w))
    if not words or foreign <= len(words) * 0.5:
        for candidate in ("cp1252", "cp1250"):
            try:
                head.decode(candidate)
            except UnicodeDecodeError:
                continue
            return candidate
    else:
        letters = sum(1 for w in words for b in w if b >= 0xC0)
        if letters >= _DETECTOR_FROM:  # on less, the detector takes Russian for Hebrew
            guess = _detector_guess(head, _NON_LATIN)
            if guess is not None and guess in _OTHER_SCRIPTS:
                return guess
        return _cyrillic(words)
    guess = _detector_guess(head)
    if guess is None:
        raise InvalidInput(
            f"{name} is not a text file (no known encoding fits); if it is text, "
            "name its encoding with --encoding"
        )
    return "cp1252" if guess.replace("-", "_") in _LATIN_FAMILY else guess


def _cyrillic(words: list[bytes]) -> str:
    """Windows-1251 or KOI8-R: Windows-1251 has А-Я at 0xC0-0xDF and а-я at
    0xE0-0xFF, KOI8-R the other way round, so a capital followed by a small
    letter (``Иван``) says which. All-capitals or all-small text says nothing:
    Windows-1251, by far the more common."""
    win = koi8 = 0
    for word in words:
        for first, second in zip(word, word[1:], strict=False):
            if first >= 0xC0 and second >= 0xC0:
                if first < 0xE0 <= second:
                    win += 1
                elif second < 0xE0 <= first:
                    koi8 += 1
    return "koi8_r" if koi8 > win else "cp1251"


def _detector_guess(head: bytes, among: list[str] | None = None) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(head, cp_isolation=among).best()
    return None if best is None else codecs.lookup(best.encoding).name


def display_name(encoding: str | None) -> str:
    """An encoding as people know it: ``utf-8``, ``utf-16``, ``windows-1252``."""
    if encoding is None:
        return "xlsx"
    name = codecs.lookup(encoding).name
    if name == "utf-8-sig":
        return "utf-8"
    if name.startswith("cp125"):
        return "windows-" + name[2:]
    return name.replace("_", "-")


def _whole_utf8(head: bytes) -> bytes:
    """Drop a multi-byte character cut in two by the end of the sample."""
    for back in range(1, 4):
        if len(head) >= back and head[-back] & 0xC0 == 0xC0:
            return head[:-back]
    return head


def _workbook(
    name: str, path: Path | None, head: bytes, stream: BinaryIO, size: int | None
) -> Source:
    """A zip: accept an .xlsx workbook (stdin is spooled to a temporary file)."""
    import tempfile
    import zipfile

    spooled = None
    if path is None:
        spool = tempfile.NamedTemporaryFile(prefix="leadctl-", suffix=".xlsx", delete=False)
        with spool:
            spool.write(head)
            while chunk := stream.read(1 << 20):
                spool.write(chunk)
        path = spooled = Path(spool.name)
    else:
        stream.close()
    try:
        with zipfile.ZipFile(path) as archive:
            is_xlsx = any(n.startswith("xl/") for n in archive.namelist())
    except zipfile.BadZipFile:
        is_xlsx = False
    if not is_xlsx:
        if spooled is not None:
            spooled.unlink(missing_ok=True)
        raise InvalidInput(f"{name} is not a text file: it is a zip archive, not an .xlsx workbook")
    return Source(name, path, "xlsx", head, None, size, _Input(b"", io.BytesIO()), spooled)


def fallback_errors(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 in a UTF-8 file as Windows-1252 (files
    pasted together from two sources), rather than fail half-way through."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


codecs.register_error("leadctl-cp1252", fallback_errors)

MARK_ERRORS = "leadctl-mark"
# Lone surrogates U+DC00..U+DCFF: a decoded text holds them only where bytes
# could not be decoded (no codec produces them from valid input).
_MARKED = re.compile("[\udc00-\udcff]")


def mark_errors(error: UnicodeError) -> tuple[str, int]:
    """Keep each undecodable byte as a mark (``U+DC00`` + byte), as
    ``surrogateescape`` does, but for ASCII bytes too (UTF-16/32 runs)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + b) for b in bad), error.end


codecs.register_error(MARK_ERRORS, mark_errors)


def undecodable(text: str, encoding: str | None) -> str | None:
    """Why a row's text cannot be taken, when it holds undecodable bytes; else None."""
    found = _MARKED.findall(text)
    if not found:
        return None
    shown = " ".join(f"0x{ord(ch) - 0xDC00:02x}" for ch in dict.fromkeys(found[:8]))
    return (
        f"bytes that are not {display_name(encoding)} ({shown}); fix them, or give the "
        "file's encoding with --encoding"
    )
