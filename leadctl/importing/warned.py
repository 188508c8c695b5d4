"""What an import says about the values it did not take as they stood: the
summary's warnings grouped by kind (count and first lines), every warning for
``--json``, and the warnings file (``FILE.warnings.csv``: ``line lead_id
field value warning``) a person can work through to fix them.

:meth:`WarningsLog.add` records one warning (counted, grouped, a line of the
file); :meth:`WarningsLog.write` adds a line to the file only, for what else a
person should review there (merges).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from leadctl.importing.rows import Parsed
from leadctl.storage.files import PrivateFile, check_target, first_line

WARNINGS_COLUMNS = ["line", "lead_id", "field", "value", "warning"]
FIRST_LINES = 3  # line numbers shown per kind in the summary


@dataclass
class WarningKind:
    """Warnings of one kind: how many, and the first few lines they are on."""

    text: str
    count: int = 0
    lines: list[int] = field(default_factory=list)


@lru_cache(maxsize=1024)
def kind_of(field_name: str, message: str) -> str:
    """``phone does not parse for region US`` from its message (``; kept as …``
    dropped), prefixed with the field when the message does not name it."""
    text = message.split("; kept as ", 1)[0].strip()
    name = field_name.replace("_", " ")
    lowered = text.lower()
    if field_name and field_name.lower() not in lowered and name.lower() not in lowered:
        text = f"{field_name}: {text}"
    return text


def warnings_path(rejects: Path) -> Path:
    """``x.warnings.csv`` beside ``x.rejects.csv`` (``NAME.warnings.csv`` beside
    any other rejects file name)."""
    name = rejects.name
    if name.lower().endswith(".rejects.csv"):
        base = name[: -len(".rejects.csv")]
    else:
        base = name.removesuffix(rejects.suffix) if rejects.suffix else name
    path = rejects.with_name(base + ".warnings.csv")
    return path if path != rejects else rejects.with_name(name + ".warnings.csv")


def is_warnings_file(path: Path) -> bool:
    return next(csv.reader([first_line(path)]), []) == WARNINGS_COLUMNS


class WarningsLog:
    """Counts warnings by kind, keeps every one when asked (``--json``) and
    writes them to the warnings file (opened at the first, like the rejects
    file; written under a temporary name, in place once the import ends)."""

    def __init__(self, path: Path | None, *, keep_details: bool) -> None:
        self.path = path
        self.kinds: dict[str, WarningKind] = {}
        self.details: list[dict[str, Any]] | None = [] if keep_details else None
        self._file: PrivateFile | None = None
        self._handle: TextIO | None = None
        self._writer: Any = None

    def check(self) -> None:
        """Before anything is stored: the file may be (re)written."""
        if self.path is not None:
            check_target(
                self.path,
                what="the warnings file",
                replace=is_warnings_file,
                refusal=f"{self.path} exists and is not a leadctl warnings file; "
                "move it or give another --rejects FILE (the warnings file goes beside it)",
            )

    def rows(self, placed: list[tuple[Parsed, int | None]]) -> None:
        """The warnings of rows just stored, each with the lead it became or
        merged into (None: no lead, or a dry run's new lead)."""
        for row, lead_id in placed:
            for warning in row.warnings:
                self.add(row.line, lead_id, warning.field, warning.value, warning.message)

    def add(self, line: int, lead_id: int | None, field_name: str, value: str, text: str) -> None:
        """One line of the warnings file (the hook for anything else to review)."""
        key = kind_of(field_name, text)
        kind = self.kinds.get(key)
        if kind is None:
            kind = self.kinds[key] = WarningKind(key)
        kind.count += 1
        if len(kind.lines) < FIRST_LINES:
            kind.lines.append(line)
        if self.details is not None:
            detail = {"line": line, "field": field_name, "value": value, "message": text}
            self.details.append(detail)
        self.write(line, lead_id, field_name, value, text)

    def write(self, line: int, lead_id: int | None, field_name: str, value: str, text: str) -> None:
        """A line of the warnings file only, not counted as a warning: the hook
        for what else a person should review there (a merge: ``(line, lead_id,
        "", "", "merged into lead N: same email")``)."""
        if self.path is None:
            return
        if self._writer is None:
            self._file = PrivateFile(self.path, what="the warnings file")
            self._handle = self._file.open_csv()
            self._writer = csv.writer(self._handle)
            self._writer.writerow(WARNINGS_COLUMNS)
        self._writer.writerow([line, "" if lead_id is None else lead_id, field_name, value, text])

    @property
    def written(self) -> bool:
        return self._writer is not None

    def grouped(self) -> list[WarningKind]:
        """Kinds, most frequent first."""
        return sorted(self.kinds.values(), key=lambda kind: (-kind.count, kind.text))

    def close(self, *, forget_leads: bool = False) -> None:
        """Put the file in place; ``forget_leads`` blanks the lead ids (an
        ``--atomic`` import that stored nothing)."""
        if self._file is None or self._handle is None:
            return
        file, self._file = self._file, None
        try:
            self._handle.close()
            if forget_leads:
                _blank_leads(file.temporary)
        except OSError as error:
            file.discard()
            raise file.failure(error) from None
        file.commit()

    def discard(self) -> None:
        if self._file is not None and self._handle is not None:
            self._handle.close()
            self._file.discard()
            self._file = None


def _blank_leads(path: Path) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows[0])
        for row in rows[1:]:
            writer.writerow([row[0], "", *row[2:]])
