"""An erasure next to another worker opening a ticket for the person being erased.

The erasure reads the person's tickets inside its unit of work, then anonymises them and
deletes the record. A ticket opened for the person by another thread or process, once
the erasure has read, must not commit before the erasure does (the erasure would miss
it, and report the person erased while a ticket of theirs was left as it was): it waits
until the erasure has committed and then comes after it, refused (the person is gone)
or written as a new ticket, which the next erasure of the person finds. Each test runs
two handles on one database: the same ``MemoryStore`` for threads, two ``SqliteStore``
objects on one file, two ``PostgresStore`` connections to one schema (as two processes
would)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from desk_stores import DSN, STORE_PAIRS, HookedStore, store_pair
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, SequentialIds
from helpdesk_core.errors import NotFound
from helpdesk_core.model import Requester, Ticket
from helpdesk_core.storage import Store, TicketQuery

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
ADA = Requester(id="ada", name="Ada Lovelace", email="ada@example.org")
#: How long a test lets the other thread run when only its end shows that no lock holds
#: it up (the memory and SQLite stores: a PostgreSQL session says when it waits).
UNBLOCKED = 0.5
#: How long a thread may take at most (a test failing on a deadlock, not hanging).
JOIN = 60.0


@pytest.fixture(params=STORE_PAIRS)
def handles(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two handles on one database: the erasing desk's and the opening desk's."""
    yield from store_pair(request, tmp_path)


def _config() -> DeskConfig:
    return DeskConfig.from_dict(
        {
            "tiers": [{"id": "L1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [
                {"id": "alice", "teams": ["desk"]},
                {"id": "root", "role": "admin"},
            ],
            "assignment": {"auto_assign": False},
        }
    )


def _waits_for_a_lock(store: Store) -> bool:
    """Whether the PostgreSQL session of ``store`` waits for a lock another holds."""
    import psycopg

    backend = store._conn.info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (backend,)
        ).fetchone()
    return row is not None and row[0] == "Lock"


def _held_up(thread: threading.Thread, store: Store) -> bool:
    """Whether ``thread``, working on ``store``, is held up (rather than done): its
    PostgreSQL session waits for a lock, or (other stores) it is still running after
    :data:`UNBLOCKED` seconds."""
    postgres = type(store).__name__ == "PostgresStore"
    start = time.monotonic()
    while thread.is_alive():
        waited = time.monotonic() - start
        if _waits_for_a_lock(store) if postgres else waited >= UNBLOCKED:
            return True
        assert waited < JOIN, "the other thread neither ended nor waited for a lock"
        thread.join(0.01)
    return False


@pytest.mark.parametrize("by_value", [False, True], ids=["requester-id", "requester-value"])
def test_a_ticket_opened_for_the_person_during_an_erasure_waits_for_it(
    handles: tuple[Store, Store], by_value: bool
) -> None:
    # The erasure has read the person's tickets when another worker opens one more for
    # them (naming the person by id, or by value: that worker saves the record with the
    # ticket). That ticket must not commit before the erasure: it waits, then is refused
    # or written after the erasure, and erasing the person again erases it.
    first, second = handles
    erasing = HookedStore(first)
    clock = ManualClock(T0)
    desk = Helpdesk(_config(), erasing, clock, ids=SequentialIds())  # type: ignore[arg-type]
    desk.upsert_requester(ADA)
    old = desk.open(requester="ada", subject="Laptop will not boot")
    other = Helpdesk(_config(), second, clock, ids=SequentialIds(prefixes={"ticket": "X"}))
    outcome: list[Ticket | NotFound] = []
    failed: list[BaseException] = []

    def open_for_ada() -> None:
        try:
            outcome.append(other.open(requester=ADA if by_value else "ada", subject="Printer"))
        except NotFound as refused:  # the person was gone when the open went on
            outcome.append(refused)
        except BaseException as exc:  # a deadlock, say: reported below
            failed.append(exc)

    opening = threading.Thread(target=open_for_ada, daemon=True)
    held_up: list[bool] = []

    def meanwhile() -> None:
        opening.start()
        held_up.append(_held_up(opening, second))

    erasing.hook("query", lambda query: query.requester == ("ada",), meanwhile)
    erased = desk.erase_requester("ada", by="root")
    opening.join(JOIN)
    assert not opening.is_alive()
    assert failed == []

    assert [e.ticket_id for e in erased] == [old.id]
    assert desk.get(old.id).anonymised
    assert held_up == [True], (
        "a ticket for the person committed after the erasure read the person's tickets "
        "and before it committed: the erasure missed it"
    )
    [result] = outcome
    if isinstance(result, NotFound):  # refused after the erasure: nothing was written
        assert desk.requester_history("ada") == []
        return
    # written after the erasure, as if the person had come back: erasing them again
    # finds it
    assert desk.requester_history("ada") == [desk.get(result.id)]
    again = desk.erase_requester("ada", by="root")
    assert [e.ticket_id for e in again] == [result.id]
    assert desk.requester_history("ada") == []
    assert desk.get(result.id).anonymised
    assert first.query(TicketQuery(requester="ada")).items == ()
