"""Anonymised tickets in reports: they count in the volumes but belong to no requester."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore
from helpdesk_core.model import Actor, Event, Requester, TicketAnonymised, TicketOpened
from helpdesk_core.model.people import ANONYMOUS_REQUESTER
from helpdesk_core.privacy import anonymise_event
from helpdesk_core.reporting import Report, build_report

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _desk(store: MemoryStore, clock: ManualClock) -> Helpdesk:
    config = DeskConfig.from_dict(
        {
            "agents": [{"id": "alice", "teams": ["service-desk"]}, {"id": "root", "role": "admin"}],
            "privacy": {"retention": [{"name": "closed-90-days", "after": "90d"}]},
        }
    )
    return Helpdesk(config, store, clock)


def _closed_ticket(desk: Helpdesk, requester: str) -> str:
    ticket = desk.open(requester=requester, subject="Laptop will not boot", category="hardware")
    desk.solve(ticket.id, by="alice", resolution="New disk", first_contact=True)
    desk.close(ticket.id, by="alice")
    return ticket.id


def opened(tid: str, requester: str, category: str | None = "hardware") -> TicketOpened:
    return TicketOpened(
        ticket_id=tid,
        at=T0 + timedelta(hours=int(tid[1:])),
        by=Actor.requester(requester),
        number=int(tid[1:]),
        requester=requester,
        subject="Laptop will not boot",
        category=category,
    )


def test_anonymised_tickets_of_several_requesters_are_no_repeat_requester() -> None:
    clock = ManualClock(T0)
    store = MemoryStore()
    desk = _desk(store, clock)
    for person in ("ada", "bea", "cy"):
        desk.upsert_requester(Requester(id=person, name=person.title()))
        _closed_ticket(desk, person)
    clock.advance(timedelta(days=91))
    assert len(desk.tick()) == 3

    result = build_report(store.event_stream())
    assert result.tickets == 3
    assert result.volume.by_category.as_dict() == {"hardware": 3}
    assert len(result.repeat_requesters) == 0
    assert result.volume.by_requester.as_dict() == {None: 3}  # nobody's
    assert result.first_contact_resolution.count == 3


def test_an_anonymised_opening_counts_in_the_volumes_under_no_requester() -> None:
    events: list[Event] = [
        *(opened(f"T{n}", ANONYMOUS_REQUESTER) for n in range(1, 5)),
        *(opened(f"T{n}", "ada") for n in range(5, 8)),
        opened("T8", "bob"),
    ]
    result = build_report(events)
    assert result.tickets == result.volume.total == 8
    assert result.volume.by_requester.as_dict() == {None: 4, "ada": 3, "bob": 1}
    assert result.volume.by_requester.total == 8
    assert [(r.requester, r.category, r.tickets) for r in result.repeat_requesters] == [
        ("ada", "hardware", 3)
    ]
    assert result.volume.by_category.as_dict() == {"hardware": 8}
    report = Report()
    report.extend(events)
    assert report.result() == result


def test_a_live_report_forgets_the_requester_of_an_erased_persons_tickets() -> None:
    clock = ManualClock(T0)
    store = MemoryStore()
    desk = _desk(store, clock)
    live = Report()
    desk.subscribe(live.add)
    for person in ("ada", "bob"):
        desk.upsert_requester(Requester(id=person, name=person.title()))
    for _ in range(3):
        _closed_ticket(desk, "ada")
        clock.advance(timedelta(hours=1))
    still_open = desk.open(requester="ada", subject="Dock flickers", category="hardware")
    _closed_ticket(desk, "bob")
    before = live.result()
    assert [(r.requester, r.tickets) for r in before.repeat_requesters] == [("ada", 4)]

    desk.erase_requester("ada", by="root")
    desk.reply(still_open.id, author="alice", body="A new dock is on its way")
    after = live.result()
    assert after.volume.by_requester.as_dict() == {None: 4, "bob": 1}
    assert len(after.repeat_requesters) == 0
    assert after == build_report(store.event_stream())


def test_a_live_report_equals_one_read_after_retention_rewrote_the_history() -> None:
    clock = ManualClock(T0)
    store = MemoryStore()
    desk = _desk(store, clock)
    live = Report()
    desk.subscribe(live.add)
    for person in ("ada", "bea", "cy"):
        desk.upsert_requester(Requester(id=person, name=person.title()))
        _closed_ticket(desk, person)
    _closed_ticket(desk, "ada")
    clock.advance(timedelta(days=91))
    assert len(desk.tick()) == 4

    result = live.result()
    assert result.volume.by_requester.as_dict() == {None: 4}
    assert result == build_report(store.event_stream())


def test_an_anonymisation_after_as_of_still_takes_the_ticket_from_its_requester() -> None:
    events: list[Event] = [opened(f"T{n}", "ada") for n in range(1, 4)]
    later = T0 + timedelta(days=100)
    retention = Actor.system("retention")
    markers = [
        TicketAnonymised(ticket_id=e.ticket_id, at=later, by=retention, reason="erasure")
        for e in events
    ]
    rewritten = [anonymise_event(e, personal_fields=frozenset(), mode="anonymise") for e in events]
    as_of = T0 + timedelta(days=1)
    live = build_report([*events, *markers], as_of=as_of)
    assert live.volume.by_requester.as_dict() == {None: 3}
    assert len(live.repeat_requesters) == 0
    assert live.ignored_events == 3
    assert live == build_report([*rewritten, *markers], as_of=as_of)
