"""``claim --next`` on PostgreSQL waits for no other writer (issue 16, speed).

Its candidates are locked with ``FOR UPDATE SKIP LOCKED`` and each is taken by
a conditional UPDATE, so two claims never take one lead whatever runs beside
them; the writer lock (which serialises writers that read, decide, then
write) would only queue it behind an import's batch or another claim. Other
writers still take that lock: ``claim ID`` waits for it (then exit 5). When
every free lead is row-locked by a writer mid-transaction (a sweep), the
claim waits for it, within the busy timeout, instead of finding none.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text

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


def _hold_every_lead(db_target: str, seconds: float) -> threading.Thread:
    """Another writer (a sweep mid-transaction) row-locks every lead for a while."""
    locked = threading.Event()

    def hold() -> None:
        engine = engine_for(db_target)
        try:
            with engine.begin() as writer:
                writer.execute(text("SELECT id FROM lead FOR UPDATE")).all()
                locked.set()
                time.sleep(seconds)
        finally:
            engine.dispose()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    return holder


def test_claim_next_waits_for_a_writer_holding_the_free_leads(
    cli: Any, add_lead: Any, db_target: str, sql: Any
) -> None:
    lead = add_lead("Ada Lovelace")["id"]
    holder = _hold_every_lead(db_target, 1.0)
    started = time.monotonic()
    assert cli.json("claim", "--next")["id"] == lead  # not "no unclaimed leads left"
    assert time.monotonic() - started > 0.5
    holder.join()
    assert sql("SELECT claimed_by FROM lead") == [("tester",)]


def test_claim_next_waits_no_longer_than_the_busy_timeout(
    cli: Any, add_lead: Any, db_target: str, sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_lead("Ada Lovelace")
    monkeypatch.setenv("LEADCTL_BUSY_TIMEOUT", "1")
    holder = _hold_every_lead(db_target, 3.0)
    refused = cli("claim", "--next", code=5)
    holder.join()
    assert "busy" in refused.stderr
    assert sql("SELECT claimed_by FROM lead") == [(None,)]
