"""Ticket numbers are 64-bit: once a store handed out the last one (an import may bring a
legacy ticket numbered near it), allocating another is a StorageError in every store,
never a number handed out twice nor one no ticket can carry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desk_stores import STORES, drop
from helpdesk_core.errors import StorageError
from helpdesk_core.model import replay
from helpdesk_core.storage import Store
from helpdesk_core.testing.conformance import opened

LAST = 2**63 - 1


@pytest.mark.parametrize("make_store", STORES)
def test_allocating_past_the_last_number_is_refused_every_time(
    make_store: Callable[[Path], Store], tmp_path: Path
) -> None:
    store = make_store(tmp_path)
    try:
        legacy = opened("L-1", LAST - 1)
        store.import_tickets([([legacy], replay([legacy]))])  # type: ignore[attr-defined]
        assert store.allocate_number() == LAST
        for _ in range(2):
            with pytest.raises(StorageError, match="ticket numbers are used up"):
                store.allocate_number()
        opening = opened("T-1", LAST)
        store.append("T-1", expected_version=0, events=[opening], snapshot=replay([opening]))
        assert store.load("T-1").number == LAST
    finally:
        drop(store)


@pytest.mark.parametrize("make_store", STORES)
def test_an_import_after_the_last_number_was_handed_out_keeps_its_numbers(
    make_store: Callable[[Path], Store], tmp_path: Path
) -> None:
    store = make_store(tmp_path)
    try:
        legacy = opened("L-1", LAST)
        store.import_tickets([([legacy], replay([legacy]))])  # type: ignore[attr-defined]
        later = opened("L-2", 42)
        assert store.import_tickets([([later], replay([later]))]) == 1  # type: ignore[attr-defined]
        assert store.load("L-2").number == 42
        with pytest.raises(StorageError, match="ticket numbers are used up"):
            store.allocate_number()
    finally:
        drop(store)
