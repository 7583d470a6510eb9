"""A ticket that retention anonymises or purges leaves the requester's later tickets too:
their openings listed it among the requester's earlier tickets (``TicketOpened.history``),
which would tie the anonymised ticket back to the person. On every store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from desk_stores import STORES, StoreFactory, store_factory
from helpdesk_core import DeskConfig, Helpdesk, ManualClock
from helpdesk_core.errors import NotFound
from helpdesk_core.model import Actor, Requester, TicketOpened, replay

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
_ADA = Actor.requester("ada")


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from store_factory(request, tmp_path)


def _opening(desk: Helpdesk, ticket_id: str) -> TicketOpened:
    opened = desk.history(ticket_id)[0]
    assert isinstance(opened, TicketOpened)
    return opened


@pytest.mark.parametrize("action", ["anonymise", "delete", "purge"])
def test_the_requesters_later_tickets_no_longer_list_a_cleared_one(
    make_store: StoreFactory, action: str
) -> None:
    config = DeskConfig.from_dict(
        {
            "agents": [{"id": "alice", "teams": ["service-desk"]}],
            "privacy": {"retention": [{"name": "month", "after": "30d", "action": action}]},
        }
    )
    clock = ManualClock(T0)
    desk = Helpdesk(config, make_store(), clock)
    desk.upsert_requester(Requester(id="ada", name="Ada Lovelace"))
    desk.upsert_requester(Requester(id="bea", name="Bea"))
    kept = desk.open(requester="ada", subject="Still open")
    old = desk.open(requester="ada", subject="Badge does not open the lab")
    desk.solve(old.id, by="alice", resolution="New badge", first_contact=True)
    desk.close(old.id, by="alice")
    later = [desk.open(requester="ada", subject=f"Monitor {n}") for n in range(3)]
    other = desk.open(requester="bea", subject="Printer")
    listed = {t.id: _opening(desk, t.id).history for t in later}
    assert all(old.id in ids and kept.id in ids for ids in listed.values())
    before = {t.id: desk.get(t.id) for t in (*later, kept, other)}

    clock.advance(timedelta(days=31))
    desk.tick()
    if action == "purge":
        with pytest.raises(NotFound):
            desk.get(old.id)
    else:
        assert desk.get(old.id).anonymised

    for ticket in later:
        # The requester's other earlier tickets are listed as before, in the same order.
        assert _opening(desk, ticket.id).history == tuple(
            i for i in listed[ticket.id] if i != old.id
        )
    for ticket_id, ticket in before.items():
        events = desk.history(ticket_id)
        assert desk.get(ticket_id) == ticket == replay(events)  # nothing else changed
    assert _opening(desk, other.id).history == ()
    # No event, stored or in the outbox, names the cleared ticket as the person's.
    for _, event in desk.store.event_stream():
        if isinstance(event, TicketOpened):
            assert old.id not in event.history


@pytest.mark.parametrize("action", ["anonymise", "purge"])
def test_a_ticket_imported_closed_is_cleared_when_its_time_comes(
    make_store: StoreFactory, action: str
) -> None:
    """A ticket brought in closed in its opening (a legacy system's archive) is closed
    since it opened: retention counts from there, as from any closing."""
    config = DeskConfig.from_dict(
        {"privacy": {"retention": [{"name": "year", "after": "365d", "action": action}]}}
    )
    clock = ManualClock(T0)
    desk = Helpdesk(config, make_store(), clock)
    opened = TicketOpened(ticket_id="L-1", at=T0 - timedelta(days=400), by=_ADA, number=1,
                          requester="ada", subject="Badge for Ada Lovelace",
                          status="closed", status_category="closed")
    legacy = replay([opened])
    assert legacy.closed_at == opened.at
    young = attrs.evolve(opened, ticket_id="L-2", number=2, at=T0 - timedelta(days=300))
    assert desk.import_tickets([([opened], legacy), ([young], replay([young]))]) == 2
    desk.tick()
    if action == "purge":
        with pytest.raises(NotFound):
            desk.get("L-1")
    else:
        assert desk.get("L-1").subject != opened.subject
    assert desk.get("L-2").subject == young.subject  # not old enough yet
