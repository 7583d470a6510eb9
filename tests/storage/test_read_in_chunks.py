"""read_in_chunks: the chunked reader the SQL stores (and adapters) read streams with;
every_match: the walk through every match of a query the desk's passes read with."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core.errors import StorageError
from helpdesk_core.model import Ticket
from helpdesk_core.storage import MemoryStore, Page, TicketQuery
from helpdesk_core.storage.base import every_match, read_in_chunks
from helpdesk_core.testing.conformance import MINUTE, T0, open_ticket


def _rows(
    positions: list[int], *, inclusive: bool = False
) -> Callable[[int, int], list[tuple[int, str]]]:
    def fetch(position: int, size: int) -> list[tuple[int, str]]:
        found = [p for p in positions if p > position or (inclusive and p == position)]
        return [(p, f"row {p}") for p in found[:size]]

    return fetch


@given(
    st.lists(st.integers(1, 10_000), unique=True).map(sorted),
    st.integers(0, 10_000),
    st.none() | st.integers(0, 50),
    st.integers(1, 7),
)
def test_rows_after_a_position_in_order_at_most_limit(
    positions: list[int], after: int, limit: int | None, chunk: int
) -> None:
    got = list(read_in_chunks(_rows(positions), after=after, limit=limit, chunk=chunk))
    expected = [(p, f"row {p}") for p in positions if p > after]
    assert got == (expected if limit is None else expected[:limit])


def test_a_fetch_that_gives_its_own_position_again_is_refused_not_read_for_ever() -> None:
    """A fetch written with >= instead of > would hand back the last row of each chunk
    again; read on, a chunk of one would loop for ever."""
    rows = read_in_chunks(_rows([1, 2, 3], inclusive=True), after=0, limit=None, chunk=1)
    assert next(rows) == (1, "row 1")
    with pytest.raises(StorageError, match=r"after position 1 start at 1"):
        next(rows)


def test_rows_out_of_order_are_refused() -> None:
    def fetch(position: int, size: int) -> list[tuple[int, str]]:
        return [(5, "e"), (3, "c")] if position == 0 else []

    with pytest.raises(StorageError, match="in position order"):
        list(read_in_chunks(fetch, after=0, limit=None))


def test_every_match_reads_each_ticket_once_in_number_order_while_others_stop_matching() -> None:
    store = MemoryStore()
    for n in range(7):
        open_ticket(store, f"T-{n}", at=T0 + (6 - n) * MINUTE, tags=("vpn",))
    seen: list[str] = []
    for ticket in every_match(store, TicketQuery(tag="vpn", order_by="-created_at"), chunk=2):
        seen.append(ticket.id)
        if ticket.id == "T-1":  # one read already stops matching: by offset, T-2 was skipped
            store.purge("T-0", expected_version=1)
    assert seen == [f"T-{n}" for n in range(7)]


class _AfterBlind(MemoryStore):
    """Answers a page asked for by ``after`` with the first page."""

    def query(self, query: TicketQuery) -> Page[Ticket]:
        return super().query(attrs.evolve(query, after=None))


def test_every_match_refuses_a_store_that_ignores_after_instead_of_reading_for_ever() -> None:
    store = _AfterBlind()
    for n in range(3):
        open_ticket(store, f"T-{n}")
    with pytest.raises(StorageError, match=r"after ticket 'T-1' \(number 2\) holds ticket 'T-0'"):
        list(every_match(store, TicketQuery(), chunk=2))
