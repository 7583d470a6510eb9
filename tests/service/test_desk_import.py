"""``desk.import_tickets`` checks the tickets against the desk's configuration before the
store holds any of them: an open or solved ticket on a lifecycle the desk lacks (or in a
status its lifecycle lacks, or in another category) would fail every later tick and
command, so the import is refused, naming the ticket; closed tickets may keep a
lifecycle the desk no longer has, as ``reconfigure`` lets them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk_stores import StoreFactory
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.errors import StorageError, ValidationError
from helpdesk_core.model import Actor, Event, StatusChanged, Ticket, TicketOpened, replay

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONFIG: dict[str, Any] = {"agents": [{"id": "ann", "teams": ["service-desk"]}]}


def _item(
    number: int, *, lifecycle: str = "default", status: str = "open", category: str = "open"
) -> tuple[list[Event], Ticket, datetime]:
    """A legacy ticket: opened, then (for a solved or closed one) moved there."""
    opened = TicketOpened(
        ticket_id=f"L-{number}", at=T0, by=Actor.requester("ada"), number=number,
        requester="ada", subject="VPN drops", lifecycle=lifecycle,
        status="open" if category in ("solved", "closed") else status,
        status_category="open" if category in ("solved", "closed") else category,
    )  # fmt: skip
    events: list[Event] = [opened]
    if category in ("solved", "closed"):
        events.append(
            StatusChanged(
                ticket_id=opened.ticket_id, at=T0, by=Actor.agent("ann"), transition="move",
                from_status="open", to_status=status, category=category, resolution="Fixed",
            )
        )
    return events, replay(events), T0


def _desk(store: Any, **extra: Any) -> tuple[Helpdesk, ManualClock]:
    clock = ManualClock(T0 + timedelta(hours=1))
    return Helpdesk(DeskConfig.from_dict({**CONFIG, **extra}), store, clock), clock


@pytest.mark.parametrize(
    ("ticket", "says"),
    [
        (_item(2, lifecycle="legacy"), "lifecycle 'legacy'"),
        (_item(2, lifecycle="legacy", status="solved", category="solved"), "lifecycle 'legacy'"),
        (_item(2, status="triage"), "status 'triage'"),
        (_item(2, status="pending", category="open"), "category"),
    ],
    ids=["open-legacy", "solved-legacy", "unknown-status", "other-category"],
)
def test_a_ticket_the_desk_cannot_work_is_refused_and_nothing_is_imported(
    make_store: StoreFactory, ticket: Any, says: str
) -> None:
    desk, _ = _desk(make_store())
    with pytest.raises(ValidationError, match=says) as refused:
        desk.import_tickets([_item(1), ticket, _item(3)])
    assert "L-2" in str(refused.value)
    assert desk.store.get_many(["L-1", "L-2", "L-3"]) == []
    assert desk.tick() == []


def test_tickets_the_desk_can_work_are_imported_and_tick(make_store: StoreFactory) -> None:
    desk, clock = _desk(make_store())
    items = [
        _item(1),
        _item(2, status="solved", category="solved"),
        _item(3, lifecycle="legacy", status="done", category="closed"),  # history only
    ]
    assert desk.import_tickets(iter(items)) == 3
    clock.advance(timedelta(days=5))
    desk.tick()
    assert desk.get("L-2").status == "closed"  # auto-closed
    assert desk.get("L-3").status == "done"
    assert desk.open(requester=Requester(id="ada"), subject="New").number == 4


def test_a_custom_lifecycle_s_tickets_import() -> None:
    lifecycle = {
        "initial": "fresh",
        "statuses": [{"name": "fresh", "category": "new"}, {"name": "gone", "category": "closed"}],
        "transitions": [{"name": "drop", "from": "fresh", "to": "gone"}],
    }
    desk, _ = _desk(MemoryStore(), lifecycles={"legacy": lifecycle})
    assert desk.import_tickets([_item(1, lifecycle="legacy", status="fresh", category="new")]) == 1


def test_bad_arguments_and_stores_without_an_import_are_named() -> None:
    desk, _ = _desk(MemoryStore())
    with pytest.raises(ValidationError, match="items"):
        desk.import_tickets("L-1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="snapshot"):
        desk.import_tickets([([], "L-1")])  # type: ignore[list-item]

    class NoImport(MemoryStore):
        import_tickets = None  # type: ignore[assignment]

    bare, _ = _desk(NoImport())
    with pytest.raises(StorageError, match="import_tickets"):
        bare.import_tickets([_item(1)])


@settings(max_examples=30, deadline=None)
@given(
    kinds=st.lists(
        st.sampled_from(["ok", "solved", "closed-legacy", "open-legacy", "bad-status"]),
        min_size=1,
        max_size=6,
    )
)
def test_an_import_is_all_or_nothing(kinds: list[str]) -> None:
    make = {
        "ok": lambda n: _item(n),
        "solved": lambda n: _item(n, status="solved", category="solved"),
        "closed-legacy": lambda n: _item(n, lifecycle="legacy", status="x", category="closed"),
        "open-legacy": lambda n: _item(n, lifecycle="legacy"),
        "bad-status": lambda n: _item(n, status="triage"),
    }
    desk, _ = _desk(MemoryStore())
    ids = [f"L-{n}" for n in range(1, len(kinds) + 1)]
    items = [make[kind](n) for n, kind in enumerate(kinds, start=1)]
    if any(kind in ("open-legacy", "bad-status") for kind in kinds):
        with pytest.raises(ValidationError):
            desk.import_tickets(items)
        assert desk.store.get_many(ids) == []
    else:
        assert desk.import_tickets(items) == len(kinds)
        assert [t.id for t in desk.store.get_many(ids)] == ids
    desk.tick()


def _opened_elsewhere() -> tuple[list[Event], Ticket]:
    """A ticket another desk opened: in its team and tier, assigned, with SLA clocks on
    its office calendar."""
    source = Helpdesk(
        DeskConfig.from_dict({
            "calendars": {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}},
            "tiers": [{"id": "T1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": "ann", "tier": "T1", "teams": ["desk"]}],
            "sla_policies": [{"name": "std", "calendar": "office",
                              "targets": {"medium": {"first_response": "1h"}}}],
        }),
        MemoryStore(),
        ManualClock(T0),
    )  # fmt: skip
    ticket = source.open(requester=Requester(id="ada"), subject="VPN drops")
    return source.store.events(ticket.id), source.store.load(ticket.id)


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        ({}, "items[0].sla", "calendar 'office'"),
        ({"calendars": {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}}},
         "items[0].tier", "tier 'T1'"),
        ({"calendars": {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}},
          "tiers": [{"id": "T1", "teams": ["service-desk"]}]},
         "items[0].team", "team 'desk'"),
        ({"calendars": {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}},
          "tiers": [{"id": "T1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
          "agents": [{"id": "bob", "tier": "T1", "teams": ["desk"]}]},
         "items[0].assignee", "assignee 'ann'"),
    ],
    ids=["calendar", "tier", "team", "assignee"],
)
def test_a_ticket_on_parts_the_desk_lacks_is_refused(
    extra: dict[str, Any], field: str, says: str
) -> None:
    """As reconfigure keeps what open tickets stand on, an import brings none that stand
    on what the desk lacks: every command on such a ticket would fail (a calendar), or it
    would wait where no agent is (a tier, a team, an agent)."""
    events, snapshot = _opened_elsewhere()
    desk = Helpdesk(DeskConfig.from_dict({**CONFIG, **extra}), MemoryStore(), ManualClock(T0))
    with pytest.raises(ValidationError, match=says) as refused:
        desk.import_tickets([(events, snapshot)])
    assert refused.value.field == field
    assert desk.store.get_many([snapshot.id]) == []


def test_a_ticket_on_parts_the_desk_has_is_imported_and_worked() -> None:
    events, snapshot = _opened_elsewhere()
    office = {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}}
    desk = Helpdesk(
        DeskConfig.from_dict({
            "calendars": office,
            "tiers": [{"id": "T1", "teams": ["desk"]}],
            "teams": [{"id": "desk"}],
            "agents": [{"id": "ann", "tier": "T1", "teams": ["desk"]}],
        }),
        MemoryStore(),
        ManualClock(T0 + timedelta(minutes=5)),
    )  # fmt: skip
    assert desk.import_tickets([(events, snapshot)]) == 1
    assert desk.reply(snapshot.id, author="ann", body="Looking").public_replies == 1


def test_a_ticket_carrying_a_number_in_use_is_refused(make_store: StoreFactory) -> None:
    """A retried request finds its ticket by number: a legacy ticket of another
    requester imported with that number would be handed back to the retrier (or make
    the retry a 'different request'). Such an import is refused and stores nothing."""
    desk, _ = _desk(make_store())
    mine = desk.open(requester=Requester(id="bea"), subject="VPN drops", request_id="req-1")
    older = TicketOpened(
        ticket_id="L-old", at=T0 - timedelta(days=900), by=Actor.requester("ada"),
        number=mine.number, requester="ada", subject="VPN drops",
    )  # fmt: skip
    with pytest.raises(ValidationError, match=mine.id) as refused:
        desk.import_tickets([_item(mine.number + 1), ([older], replay([older]))])
    assert refused.value.field == "number" and "L-old" in str(refused.value)
    assert desk.store.get_many(["L-old", f"L-{mine.number + 1}"]) == []
    again = desk.open(requester="bea", subject="VPN drops", request_id="req-1")
    assert (again.id, again.requester) == (mine.id, "bea")


def test_two_items_carrying_one_number_are_named_by_the_second(
    make_store: StoreFactory,
) -> None:
    desk, _ = _desk(make_store())
    first, second = _item(41), _item(41)
    again = attrs.evolve(second[0][0], ticket_id="L-41b")
    with pytest.raises(ValidationError, match="L-41") as refused:
        desk.import_tickets([_item(40), first, ([again], replay([again]))])
    assert refused.value.field == "items[2].number"
    assert desk.store.get_many(["L-40", "L-41", "L-41b"]) == []
