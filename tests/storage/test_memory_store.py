"""MemoryStore passes the conformance suite, and keeps its own promises."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core.storage import MemoryStore, Store
from helpdesk_core.testing import StoreConformance
from helpdesk_core.testing.conformance import MINUTE, T0, open_ticket


class TestMemoryStore(StoreConformance):
    def make_store(self) -> Store:
        return MemoryStore()


def test_unit_of_work_blocks_other_threads_until_it_ends() -> None:
    store = MemoryStore()
    inside = threading.Event()
    release = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        inside.wait()
        seen.append(len(store.get_many(["T-1", "T-2"])))

    thread = threading.Thread(target=reader)
    thread.start()
    with store.unit_of_work():
        open_ticket(store, "T-1")
        inside.set()
        release.wait(0.2)
        open_ticket(store, "T-2")
    thread.join()
    assert seen == [2]


def test_numbers_are_not_reused_after_a_rollback() -> None:
    store = MemoryStore()
    try:
        with store.unit_of_work():
            first = store.allocate_number()
            raise KeyError("boom")
    except KeyError:
        pass
    assert store.allocate_number() == first + 1


def test_snapshots_are_shared_not_copied() -> None:
    store = MemoryStore()
    ticket = open_ticket(store, "T-1", wake_at=T0)
    assert store.load("T-1") is ticket
    assert repr(store) == "MemoryStore(1 tickets)"


def test_public_names_are_exported() -> None:
    import helpdesk_core.storage as storage
    import helpdesk_core.testing as testing

    for module in (storage, testing):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
    assert sorted(storage.__all__) == storage.__all__
    with pytest.raises(AttributeError):
        _ = storage.NoSuchStore  # type: ignore[attr-defined]


@settings(max_examples=200, deadline=None)
@given(
    tickets=st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["r-1", "r-2"]), st.booleans()),
        min_size=1,
        max_size=25,
    ),
    limit=st.integers(1, 8),
)
def test_requester_history_matches_a_full_sort(
    tickets: list[tuple[int, str, bool]], limit: int
) -> None:
    """Tickets arrive in any created_at order, some in a unit of work that rolls back;
    the history is always the newest ``limit`` (ties by id) of what was kept."""
    store = MemoryStore()
    kept: list[tuple[str, str, datetime]] = []
    for i, (minutes, requester, roll_back) in enumerate(tickets):
        ticket_id = f"T-{(i * 7) % 31:02d}-{i}"
        at = T0 + minutes * MINUTE
        if roll_back:
            with pytest.raises(KeyError), store.unit_of_work():
                open_ticket(store, ticket_id, requester=requester, at=at)
                raise KeyError("undo")
        else:
            open_ticket(store, ticket_id, requester=requester, at=at)
            kept.append((ticket_id, requester, at))
    for requester in ("r-1", "r-2"):
        mine = [(t, at) for t, r, at in kept if r == requester]
        mine.sort(key=lambda item: item[0])
        mine.sort(key=lambda item: item[1], reverse=True)
        expected = [t for t, _ in mine[:limit]]
        assert [t.id for t in store.requester_history(requester, limit=limit)] == expected
