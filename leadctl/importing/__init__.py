"""Bulk import of the files people really have (SPEC: Import).

The pieces, in the order a row meets them: ``decoding`` (what the file is, in
which encoding), ``reading`` (rows out of CSV, .xlsx or JSON), ``headers``
(which column is which field), ``rows`` (validate one row), ``dedupe`` (its
duplicate, if any), ``writer`` (store a batch, write rejects), ``runner``
(batches and transactions).
"""

from __future__ import annotations

from leadctl.importing.headers import IMPORTABLE, TEMPLATE
from leadctl.importing.runner import ON_DUPLICATE, ImportOptions, ImportSummary, run_import
from leadctl.importing.writer import BatchResult

__all__ = [
    "IMPORTABLE",
    "ON_DUPLICATE",
    "BatchResult",
    "ImportOptions",
    "ImportSummary",
    "run_import",
    "template_csv",
]


def template_csv() -> str:
    """`import --template`: a header-only CSV naming every importable field."""
    return ",".join(TEMPLATE) + "\r\n"
