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
from helpdesk_core.storage import Store
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
