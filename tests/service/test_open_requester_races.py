"""A desk opening a ticket for a requester given by value while another desk (a thread
or process on the same store) changes that requester's record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from desk_stores import STORE_PAIRS, HookedStore, store_pair
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, Requester
from helpdesk_core.storage import Store

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(params=STORE_PAIRS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    yield from store_pair(request, tmp_path)


def test_an_opening_does_not_undo_a_change_to_its_requester_made_meanwhile(
    stores: tuple[Store, Store],
) -> None:
    """A opens a ticket for Ada given by value, as stored (as the email channel does with
    the record it found by address); after A checked the record, B marks her a VIP.
    Before, A saved its copy with the ticket and B's change was lost; now a requester
    stored already is not saved again."""
    first, second = stores
    hooked = HookedStore(first)
    a = Helpdesk(DeskConfig(), hooked, ManualClock(T0))  # type: ignore[arg-type]
    b = Helpdesk(DeskConfig(), second, ManualClock(T0))
    ada = b.upsert_requester(Requester(id="ada", email="ada@example.com"))
    vip = Requester(id="ada", email="ada@example.com", vip=True)
    hooked.hook("get_requester", lambda *_: True, lambda: b.upsert_requester(vip))
    a.open(requester=ada, subject="Printer")
    assert second.get_requester("ada") == vip
    new = Requester(id="eve", email="eve@example.com")  # a new requester is still saved
    a.open(requester=new, subject="VPN")
    assert second.get_requester("eve") == new
