"""An imported item whose snapshot is no Ticket is refused with an error naming the
snapshot, in every store, and imports nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desk_stores import STORES, drop
from helpdesk_core.codec import ticket_to_dict
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import replay
from helpdesk_core.storage import Store, TicketQuery
from helpdesk_core.testing.conformance import opened


@pytest.mark.parametrize("make_store", STORES)
@pytest.mark.parametrize("snapshot", [None, "T-1", "as a dict"])
def test_an_imported_snapshot_that_is_no_ticket_is_named(
    make_store: Callable[[Path], Store], tmp_path: Path, snapshot: Any
) -> None:
    event = opened("T-1", 1)
    if snapshot == "as a dict":
        snapshot = ticket_to_dict(replay([event]))
    store = make_store(tmp_path)
    try:
        with pytest.raises(ValidationError, match="Ticket") as info:
            store.import_tickets([([event], snapshot)])  # type: ignore[attr-defined]
        assert info.value.field == "snapshot"
        assert store.get_many(["T-1"]) == []
    finally:
        drop(store)


@pytest.mark.parametrize("make_store", STORES)
def test_an_import_never_gives_two_tickets_one_number(
    make_store: Callable[[Path], Store], tmp_path: Path
) -> None:
    """A ticket's number is how mail ([#n]) and retried requests find it again: an
    imported ticket that carries the number of a stored ticket, or of another ticket of
    the same import, is refused with a ValidationError naming the number, and the import
    stores nothing."""
    store = make_store(tmp_path)
    importer: Any = store.import_tickets  # type: ignore[attr-defined]
    try:
        held = opened("T-1", store.allocate_number())
        store.append("T-1", expected_version=0, events=[held], snapshot=replay([held]))
        clash = opened("L-1", held.number)
        fine = opened("L-2", held.number + 1)
        with pytest.raises(ValidationError, match="T-1") as taken:
            importer([([fine], replay([fine])), ([clash], replay([clash]))])
        assert taken.value.field == "number" and "L-1" in str(taken.value)
        twice = opened("L-3", held.number + 1)
        with pytest.raises(ValidationError, match="L-2") as repeated:
            importer([([fine], replay([fine])), ([twice], replay([twice]))])
        assert repeated.value.field == "number" and "L-3" in str(repeated.value)
        assert store.get_many(["L-1", "L-2", "L-3"]) == []
        assert [t.id for t in store.query(TicketQuery(number=held.number)).items] == ["T-1"]
        assert importer([([fine], replay([fine]))]) == 1
    finally:
        drop(store)
