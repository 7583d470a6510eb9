"""MemoryStore passes the conformance suite, and keeps its own promises."""

from __future__ import annotations

import threading

import pytest

from helpdesk_core.storage import MemoryStore, Store
from helpdesk_core.testing import StoreConformance
from helpdesk_core.testing.conformance import T0, open_ticket


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
