"""``claim --next`` on PostgreSQL waits for no other writer (issue 16, speed).

Its candidates are locked with ``FOR UPDATE SKIP LOCKED`` and each is taken by
a conditional UPDATE, so two claims never take one lead whatever runs beside
them; the writer lock (which serialises writers that read, decide, then
write) would only queue it behind an import's batch or another claim. Other
writers still take that lock: ``claim ID`` waits for it (then exit 5).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from leadctl.storage import WRITER_LOCK
from tests.conftest import POSTGRES
from tests.engines import engine_for

pytestmark = pytest.mark.skipif(not POSTGRES, reason="the writer lock is PostgreSQL's")


def test_claim_next_does_not_wait_for_the_writer_lock(
    cli: Any, add_lead: Any, db_target: str, sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = add_lead("Ada Lovelace")["id"], add_lead("Grace Hopper")["id"]
    monkeypatch.setenv("LEADCTL_BUSY_TIMEOUT", "1")
    engine = engine_for(db_target)
    try:
        with engine.begin() as writer:  # another writer (an import's batch) holds the lock
            writer.execute(select(func.pg_advisory_xact_lock(WRITER_LOCK)))
            taken = cli.json("claim", "--next")["id"]
            refused = cli("claim", str(second if taken == first else first), code=5)
    finally:
        engine.dispose()
    assert "busy" in refused.stderr
    assert sql("SELECT id, claimed_by FROM lead WHERE claimed_by IS NOT NULL") == [
        (taken, "tester")
    ]
