"""Rows out of a source: CSV/TSV (delimiter and header row sniffed), .xlsx
(openpyxl, read-only streaming) and JSON/JSONL (as `leadctl export` writes).

Each reader yields ``(line, cells)`` one row at a time; ``line`` is where the
row starts in the file (the row number of a sheet), for the rejects file.
Preamble lines above the header (LinkedIn's notes, Excel's ``sep=;``), blank
rows and report footers (Salesforce's "Grand Totals") are skipped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from typing import Any

from leadctl.errors import InvalidInput
from leadctl.importing.decoding import MARK_ERRORS, SAMPLE_BYTES, Source, undecodable

DELIMITERS = [",", ";", "\t", "|"]
HEADER_SEARCH_ROWS = 40
FIELD_LIMIT = 16 << 20  # the csv module's own cap, far above rows.MAX_CELL
_FOOTER = re.compile(r"(grand totals?\b|total\b|confidential information|copyright \(c\))", re.I)
_JSON_CHUNK = 1 << 16
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how a sheet stores control characters


@dataclass
class Broken:
    """A row the reader could not split into cells (bad quoting, bad JSON)."""

    reason: str
    notice: bool = False  # about the file, not one row: said in the summary too


Record = tuple[int, "list[str] | Broken"]


@dataclass
class Table:
    header: list[str]  # may grow while JSON objects bring new keys
    records: Iterator[Record]
    kind: str  # csv, xlsx or json
    delimiter: str = ","
    preamble: int = 0  # rows skipped above the header

    @property
    def decimal_comma(self) -> bool:
        """A ``;``-separated file comes from a locale that writes ``2,5`` for 2.5."""
        return self.delimiter == ";"


def open_table(
    source: Source, *, delimiter: str | None = None, known: Callable[[str], bool]
) -> Table:
    """The header and a row iterator of a source; ``known`` tells a header cell."""
    if source.kind == "xlsx":
        return _xlsx_table(source, known)
    sample = _sample_text(source)
    if delimiter is None and sample.lstrip("\ufeff \t\r\n")[:1] in ("[", "{"):
        return _json_table(source)
    return _csv_table(source, sample, delimiter, known)


def parse_delimiter(text: str) -> str:
    """``--delimiter``: one character, or ``tab``/``\\t``."""
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(text.lower(), text)
    if len(value) != 1 or value in '"\r\n':
        raise InvalidInput(f"invalid --delimiter {text!r}: expected one character, e.g. ; or tab")
    return value


def _text_stream(source: Source) -> io.TextIOWrapper:
    return io.TextIOWrapper(
        source.binary(), encoding=source.encoding, errors=source.errors, newline=""
    )


def _sample_text(source: Source) -> str:
    text = source.head.decode(source.encoding or "utf-8", errors="ignore").lstrip("\ufeff")
    if len(source.head) >= SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # no half line at the end of the sample
    return text


def _csv_table(
    source: Source, sample: str, forced: str | None, known: Callable[[str], bool]
) -> Table:
    skip = 0
    first = sample.splitlines()[0].strip().strip('"') if sample.strip() else ""
    if first.lower().startswith("sep=") and len(first) == 5:  # Excel's delimiter hint
        forced, skip = forced or first[4], 1
        sample = sample.split("\n", 1)[1] if "\n" in sample else ""
    delimiter, header_at = _sniff(sample, forced, known)
    csv.field_size_limit(FIELD_LIMIT)
    stream = _text_stream(source)
    ended: list[bool] = []
    reader = csv.reader(_watched(stream, ended), delimiter=delimiter)
    header: list[str] = []
    for _ in range(skip + header_at + 1):
        header = next(reader, [])
    header = [h.lstrip("\ufeff") for h in header]
    checked = source.encoding if source.errors == MARK_ERRORS else None
    records = _csv_records(reader, stream, ended, checked)
    return Table(header, records, "csv", delimiter, skip + header_at)


def _watched(stream: io.TextIOWrapper, ended: list[bool]) -> Iterator[str]:
    """The stream's lines; ``ended`` set once the csv reader asked past the last.

    The reader asks past the last line only from inside a quoted cell: a quote
    that is never closed (Python's reader then returns the rest of the file as
    one cell, in silence)."""
    yield from stream
    ended.append(True)


def _sniff(sample: str, forced: str | None, known: Callable[[str], bool]) -> tuple[str, int]:
    """The delimiter and the header row: the row with the most known header
    cells; with none known, the delimiter splitting the first row the most."""
    best: tuple[int, int, int] | None = None  # (score, -row, -candidate)
    widest: tuple[int, int] = (0, 0)
    candidates = [forced] if forced else DELIMITERS
    for number, delimiter in enumerate(candidates):
        rows = _first_rows(sample, delimiter)
        for index, row in enumerate(rows):
            score = sum(1 for cell in row if cell.strip() and known(cell))
            if score and (best is None or (score, -index, -number) > best):
                best = (score, -index, -number)
        first = next((r for r in rows if any(c.strip() for c in r)), [])
        if len(first) > widest[0]:
            widest = (len(first), number)
    if best is not None:
        return candidates[-best[2]], -best[1]
    delimiter = candidates[widest[1]]
    rows = _first_rows(sample, delimiter)
    header_at = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), 0)
    return delimiter, header_at


def _first_rows(sample: str, delimiter: str) -> list[list[str]]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        rows.extend(islice(reader, HEADER_SEARCH_ROWS))
    except csv.Error:
        pass
    return rows


def _csv_records(
    reader: Any, stream: io.TextIOWrapper, ended: list[bool], checked: str | None = None
) -> Iterator[Record]:
    """The rows; with ``checked`` (the encoding), a row holding bytes that
    encoding could not decode is a broken row (rejected with the reason)."""
    line = reader.line_num
    try:
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                line = reader.line_num
                text = f"cannot split the row: {error}"
                if "field limit" in str(error):
                    text += f" (a quote opened on line {start} or after may never be closed)"
                yield start, Broken(text, notice=True)
                continue
            line = reader.line_num
            if ended and cells:
                yield start, Broken(_unclosed(cells[-1], line), notice=True)
                return
            if checked is not None and (why := undecodable("".join(cells), checked)):
                yield start, Broken(why)
            elif not _skipped(cells):
                yield start, cells
    finally:
        stream.close()


def _unclosed(cell: str, last_line: int) -> str:
    """The reason for a row whose last cell ran, from an opening quote, to the
    end of the file: the line the quote opens on."""
    breaks = len(_LINE_BREAK.findall(cell)) - (1 if cell.endswith(("\n", "\r")) else 0)
    opened = last_line - breaks
    where = f"lines {opened}-{last_line} were" if last_line > opened else f"line {opened} was"
    return f"a quote opened on line {opened} is never closed ({where} read as one cell)"


def _skipped(cells: list[str]) -> bool:
    """Blank rows and report footers carry no lead (stops at the second filled cell)."""
    only = None
    for cell in cells:
        if cell and not cell.isspace():
            if only is not None:
                return False
            only = cell
    return only is None or _FOOTER.match(only.strip()) is not None


def _xlsx_table(source: Source, known: Callable[[str], bool]) -> Table:
    from openpyxl import load_workbook

    if source.path is None:  # cannot be: stdin's workbook is spooled to a file first
        raise InvalidInput(f"{source.name} is not a readable .xlsx workbook: no file")
    try:
        book = load_workbook(source.path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(f"{source.name} is not a readable .xlsx workbook: {error}") from None
    sheet = book.active or book.worksheets[0]
    numbered = _sheet_rows(sheet)
    first = list(islice(numbered, HEADER_SEARCH_ROWS))
    head = [[_cell_text(v) for v in row] for _, row in first]
    scores = [sum(1 for c in row if c.strip() and known(c)) for row in head]
    header_at = max(range(len(head)), key=lambda i: (scores[i], -i)) if head else 0
    if head and scores[header_at] == 0:
        header_at = next((i for i, r in enumerate(head) if any(c.strip() for c in r)), 0)
    if not any(any(c.strip() for c in row) for row in head):
        book.close()
        raise InvalidInput(f"{source.name} is empty: its first sheet has no rows")
    header = head[header_at] if head else []
    while header and not header[-1].strip():
        header.pop()

    def records() -> Iterator[Record]:
        try:
            for (number, _), cells in zip(
                first[header_at + 1 :], head[header_at + 1 :], strict=True
            ):
                if not _skipped(cells):
                    yield number, cells
            for number, row in numbered:
                cells = [_cell_text(v) for v in row]
                if not _skipped(cells):
                    yield number, cells
        finally:
            book.close()

    return Table(header, records(), "xlsx", preamble=header_at)


def _sheet_rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    """The rows a sheet holds, numbered as in the sheet, each as wide as its
    last cell: in time proportional to the cells there, whatever size the sheet
    declares (openpyxl's ``iter_rows`` pads every row to the declared width and
    yields every missing row up to the declared height: one cell at
    ``XFD1048576`` made that a billion values)."""
    try:
        from openpyxl.worksheet._reader import WorkSheetParser

        book = sheet.parent
        source = sheet._get_source()
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
    except (ImportError, AttributeError, TypeError):  # another openpyxl: no padding at least
        sheet.reset_dimensions()
        yield from enumerate((list(row) for row in sheet.iter_rows(values_only=True)), start=1)
        return
    with source:
        for number, cells in parser.parse():
            width = max((cell["column"] for cell in cells), default=0)
            values: list[Any] = [None] * width
            for cell in cells:
                values[cell["column"] - 1] = cell["value"]
            yield number, values


def _cell_text(value: Any) -> str:
    """A sheet value as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return (
            _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value) if "_x" in value else value
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _json_table(source: Source) -> Table:
    stream = _text_stream(source)
    objects = _json_objects(stream)
    first = next(objects, None)
    if first is None:
        stream.close()
        raise InvalidInput(f"{source.name} holds no JSON objects: nothing to import")
    header: list[str] = list(first[1]) if isinstance(first[1], dict) else []
    checked = source.encoding if source.errors == MARK_ERRORS else None

    def records() -> Iterator[Record]:
        try:
            for line, value in _chain(first, objects):
                if isinstance(value, Broken):
                    yield line, value
                elif not isinstance(value, dict):
                    yield line, Broken("not a JSON object")
                else:
                    header.extend(k for k in value if k not in header)
                    cells = [_json_text(value.get(k)) for k in header]
                    why = checked and undecodable("".join([*header, *cells]), checked)
                    yield line, Broken(why) if why else cells
        finally:
            stream.close()

    return Table(header, records(), "json")


def _chain(first: tuple[int, Any], rest: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    yield first
    yield from rest


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _json_objects(stream: io.TextIOBase) -> Iterator[tuple[int, Any]]:
    """Top-level values of a JSON array or of JSON lines, one at a time, with
    the line each starts on; memory holds one value, not the file."""
    decoder = json.JSONDecoder()
    buffer, pos, line, eof = "", 0, 1, False
    in_array: bool | None = None
    want = _JSON_CHUNK
    while True:
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n,\ufeff":
                line += buffer[pos] == "\n"
                pos += 1
            if pos < len(buffer) or eof:
                break
            chunk = stream.read(_JSON_CHUNK)
            eof = not chunk
            buffer, pos = buffer[pos:] + chunk, 0
        if pos >= len(buffer):
            return
        if in_array is None:
            in_array = buffer[pos] == "["
            pos += in_array
            continue
        if in_array and buffer[pos] == "]":
            pos += 1
            continue
        try:
            value, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as error:
            if not eof:
                chunk = stream.read(want)
                want *= 2
                eof = not chunk
                buffer, pos = buffer[pos:] + chunk, 0
                continue
            yield line, Broken(f"not valid JSON: {error.msg}")
            return
        want = _JSON_CHUNK
        yield line, value
        line += buffer.count("\n", pos, end)
        pos = end
        if pos > _JSON_CHUNK:
            buffer, pos = buffer[pos:], 0
