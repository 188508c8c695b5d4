"""Opening the database for a command: ``storage`` opens (creating or
upgrading the schema), and what storage only reports is done here, a layer
above it: a bulk import killed with its indexes down is finished (which scores
its leads) once its process is gone."""

from __future__ import annotations

from leadctl import storage
from leadctl.storage import Database

__all__ = ["Database", "open_database"]


def open_database(target: str | None = None) -> Database:
    """Open the database at a path or URL (default: ``storage.default_target``)
    and finish a bulk load its killed import left half done."""
    database = storage.open_database(target)
    if database.pending_bulk_load is not None:
        from leadctl.importing.bulk import finish_if_abandoned

        finish_if_abandoned(database, database.pending_bulk_load)
    return database
