"""MemoryStore passes the conformance suite, and keeps its own promises."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Priority, StatusCategory, Ticket
from helpdesk_core.storage import MemoryStore, Store, TicketQuery
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
        assert store.requester_ticket_ids(requester, limit=limit) == expected


def _looked_at(monkeypatch: pytest.MonkeyPatch) -> list[Ticket]:
    """The tickets queries look at from now on (every ``TicketQuery.matches`` call)."""
    looked_at: list[Ticket] = []
    matches = TicketQuery.matches

    def counting(self: TicketQuery, ticket: Ticket) -> bool:
        looked_at.append(ticket)
        return matches(self, ticket)

    monkeypatch.setattr(TicketQuery, "matches", counting)
    return looked_at


_TEAMS = ("desk", "net", None)


def _step(
    store: MemoryStore,
    roll_back: bool,
    action: str,
    ticket_id: str,
    at: datetime,
    *,
    team: str | None = None,
    queued_at: datetime | None = None,
    priority: Priority | None = None,
) -> None:
    """One step of the queue properties on ``ticket_id`` (open, queue, assign, unassign,
    route, priority, close or purge; what does not apply to the ticket is skipped), in a
    unit of work rolled back when ``roll_back`` says so."""
    from helpdesk_core.model import Assigned, PriorityChanged, TicketRouted
    from helpdesk_core.model.events import Changes
    from helpdesk_core.testing.conformance import AGENT, change, moved, queued

    def act() -> None:
        exists = store.get_many([ticket_id])
        if action == "open" and not exists:
            open_ticket(store, ticket_id, at=at)
            return
        if not exists or not exists[0].is_active:
            return
        ticket = exists[0]
        if action in ("assign", "unassign"):
            who = "a-1" if action == "assign" else None
            change(store, ticket, Assigned(ticket_id=ticket_id, at=at, by=AGENT, assignee=who))
        elif action == "queue" and queued_at is not None:
            change(store, ticket, queued(ticket_id, at=queued_at))
        elif action == "route" and team is not None:
            routed = TicketRouted(ticket_id=ticket_id, at=at, by=AGENT, changes=Changes(team=team))
            change(store, ticket, routed)
        elif action == "priority" and priority is not None and priority is not ticket.priority:
            changed = PriorityChanged(
                ticket_id=ticket_id, at=at, by=AGENT, priority=priority, previous=ticket.priority
            )
            change(store, ticket, changed)
        elif action == "close":
            change(store, ticket, moved(ticket_id, "closed", StatusCategory.CLOSED, at=at))
        elif action == "purge":
            store.purge(ticket_id, expected_version=ticket.version)

    _run(store, act, roll_back=roll_back)


def _run(store: MemoryStore, act: Callable[[], None], *, roll_back: bool) -> None:
    """``act()``, in a unit of work that is rolled back when ``roll_back`` says so."""
    if roll_back:
        with pytest.raises(KeyError), store.unit_of_work():
            act()
            raise KeyError("undo")
    else:
        act()


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["open", "assign", "unassign", "route", "close", "purge"]),
            st.integers(0, 5),
            st.sampled_from(_TEAMS),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_queue_queries_match_a_full_scan(steps: list[tuple[str, int, str | None, bool]]) -> None:
    """Queries for a team's unassigned active tickets read a per-team index: it agrees with
    filtering every ticket, through assignments, routing, closing, purges and rollbacks."""
    from helpdesk_core.storage import TicketQuery

    store = MemoryStore()
    for n, (action, which, team, roll_back) in enumerate(steps):
        _step(store, roll_back, action, f"T-{which}", T0 + n * MINUTE, team=team)
        everything = store.query(TicketQuery(limit=1000)).items
        for teams in (("desk",), ("net",), ("desk", "net")):
            expected = sorted(
                t.id for t in everything if t.team in teams and t.assignee is None and t.is_active
            )
            query = TicketQuery(team=teams, unassigned=True, active_only=True, limit=1000)
            assert sorted(t.id for t in store.query(query).items) == expected


def test_a_requester_whose_tickets_were_all_purged_can_open_again() -> None:
    store = MemoryStore()
    open_ticket(store, "T-1", requester="r-1")
    store.purge("T-1", expected_version=1)
    open_ticket(store, "T-2", requester="r-1")
    assert store.requester_ticket_ids("r-1") == ["T-2"]
    assert [t.id for t in store.requester_history("r-1")] == ["T-2"]


def test_next_pages_of_unchanged_data_are_cut_from_the_kept_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore()
    for i in range(7):
        open_ticket(store, f"T-{i}", at=T0 + (i % 3) * MINUTE)
    sorts: list[TicketQuery] = []
    ordered = TicketQuery.ordered

    def counting(self: TicketQuery, tickets: Iterable[Ticket]) -> list[Ticket]:
        sorts.append(self)
        return ordered(self, tickets)

    monkeypatch.setattr(TicketQuery, "ordered", counting)
    query = TicketQuery(order_by="-created_at", limit=3)
    first = store.query(query)
    second = store.query(attrs.evolve(query, offset=3))
    assert len(sorts) == 1  # the second page came from the first's matches
    assert first.next_offset == 3
    assert second.next_offset == 6
    # another query, or a write, and the matches are worked out again
    store.query(attrs.evolve(query, order_by="created_at", offset=3))
    assert len(sorts) == 2
    open_ticket(store, "T-9", at=T0 - MINUTE)
    last = store.query(attrs.evolve(query, offset=6))
    assert len(sorts) == 3
    assert [t.id for t in last.items] == ["T-6", "T-9"]
    assert last.total == 8


@settings(max_examples=100, deadline=None)
@given(
    tickets=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(list(Priority))), min_size=1, max_size=12
    ),
    order_by=st.sampled_from(["created_at", "-created_at", "priority", "number", "-queued_at"]),
    limit=st.integers(1, 4),
)
def test_a_walk_by_after_gives_the_matches_of_a_walk_by_offset(
    tickets: list[tuple[int, Priority]], order_by: str, limit: int
) -> None:
    """Pages asked for by after, cut from the kept matches by bisection, give every match
    once, in the order a walk by offset does (ties, equal instants, NULL queue times)."""
    store = MemoryStore()
    for n, (minutes, priority) in enumerate(tickets):
        open_ticket(store, f"T-{n % 5}-{n}", at=T0 + minutes * MINUTE, priority=priority)
    query = TicketQuery(order_by=order_by, limit=limit)

    def walk(by_after: bool) -> list[str]:
        seen: list[str] = []
        page = store.query(query)
        while True:
            seen.extend(t.id for t in page.items)
            if page.next_offset is None and page.next_after is None:
                return seen
            step = {"after": page.next_after} if by_after else {"offset": page.next_offset}
            page = store.query(attrs.evolve(query, **step))

    by_after = walk(by_after=True)
    assert by_after == walk(by_after=False)
    assert len(set(by_after)) == len(by_after) == len(tickets)


def test_pages_asked_for_by_after_are_cut_from_the_kept_matches_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A walk by ``after`` sorted every match again for each page (a walk through 50,000
    tickets a thousand at a time took 9 s, where one by offset took 0.1 s); on unchanged
    data it now goes on from the first page's matches, as a walk by offset does."""
    store = MemoryStore()
    for i in range(7):
        open_ticket(store, f"T-{i}", at=T0 + (i % 3) * MINUTE)
    sorts: list[TicketQuery] = []
    ordered = TicketQuery.ordered

    def counting(self: TicketQuery, tickets: Iterable[Ticket]) -> list[Ticket]:
        sorts.append(self)
        return ordered(self, tickets)

    monkeypatch.setattr(TicketQuery, "ordered", counting)
    query = TicketQuery(order_by="-created_at", limit=3)
    first = store.query(query)
    second = store.query(attrs.evolve(query, after=first.next_after))
    assert len(sorts) == 1
    assert [t.id for t in (*first.items, *second.items)] == [
        "T-2", "T-5", "T-1", "T-4", "T-0", "T-3"
    ]  # fmt: skip
    assert (second.total, second.next_after is not None) == (7, True)
    open_ticket(store, "T-9", at=T0 - MINUTE)  # a write: the matches are worked out again
    last = store.query(attrs.evolve(query, after=second.next_after))
    assert len(sorts) == 2
    assert ([t.id for t in last.items], last.total, last.next_after) == (["T-6", "T-9"], 8, None)


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["open", "import", "append", "purge"]),
            st.integers(0, 5),
            st.integers(1, 4),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_number_queries_match_a_full_scan(steps: list[tuple[str, int, int, bool]]) -> None:
    """Queries by number read an index of numbers: it agrees with filtering every ticket,
    through imports (refused when they bring a number taken already), appends that bring
    one, purges and rollbacks."""
    from helpdesk_core.model import replay
    from helpdesk_core.testing.conformance import opened

    store = MemoryStore()
    for n, (action, which, number, roll_back) in enumerate(steps):
        ticket_id = f"T-{which}-{n}" if action in ("import", "append") else f"T-{which}"
        exists = store.get_many([ticket_id])

        def act() -> None:
            if action == "open" and not exists:
                open_ticket(store, ticket_id, at=T0 + n * MINUTE)
            elif action == "import" and not exists:
                event = opened(ticket_id, number, at=T0 + n * MINUTE)
                if store.query(TicketQuery(number=number)).total:
                    with pytest.raises(ValidationError):
                        store.import_tickets([([event], replay([event]))])
                else:
                    store.import_tickets([([event], replay([event]))])
            elif action == "append" and not exists:
                event = opened(ticket_id, number, at=T0 + n * MINUTE)
                snapshot = replay([event])
                store.append(ticket_id, expected_version=0, events=[event], snapshot=snapshot)
            elif action == "purge" and exists:
                store.purge(ticket_id, expected_version=exists[0].version)

        _run(store, act, roll_back=roll_back)
        everything = store.query(TicketQuery(limit=1000)).items
        for numbers in ((1,), (2,), (3, 1), (4, 9)):
            expected = sorted(t.id for t in everything if t.number in numbers)
            query = TicketQuery(number=numbers, limit=1000)
            assert sorted(t.id for t in store.query(query).items) == expected


def test_a_query_by_number_reads_only_the_tickets_of_that_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What an inbound mail's ``[#n]`` asks for: the tickets looked at do not grow with
    the store."""
    store = MemoryStore()
    for i in range(500):
        open_ticket(store, f"T-{i}")
    looked_at = _looked_at(monkeypatch)
    page = store.query(TicketQuery(number=250, limit=1))
    assert [t.id for t in page.items] == ["T-249"]
    assert len(looked_at) == 1


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["open", "queue", "assign", "route", "priority", "close", "purge"]),
            st.integers(0, 6),
            st.sampled_from(("desk", "net")),
            st.integers(-3, 3),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    ),
    offset=st.integers(0, 3),
    limit=st.integers(1, 4),
)
def test_waiting_queue_pages_match_a_full_scan(
    steps: list[tuple[str, int, str, int, bool]], offset: int, limit: int
) -> None:
    """The tickets waiting for an assignment are kept per team in ``queued_at`` order; a
    drain's query reads them from there, and gets the page (items, total, next offset and
    token) a filter and sort of every ticket gives: through tickets queued out of time
    order and at the same instant, assignments, moves between teams, priorities, closes,
    purges and rollbacks."""
    from helpdesk_core.model import (
        Priority,
    )

    store = MemoryStore()
    priorities = list(Priority)
    for n, (action, which, team, shift, roll_back) in enumerate(steps):
        _step(
            store, roll_back, action, f"T-{which}", T0 + n * MINUTE, team=team,
            queued_at=T0 + shift * MINUTE, priority=priorities[which % len(priorities)],
        )
        everything = store.query(TicketQuery(limit=1000)).items
        for teams in (("desk",), ("net",), ("net", "desk")):
            for wanted in (None, (Priority.MEDIUM,), (Priority.HIGH, Priority.LOW)):
                query = TicketQuery(
                    team=teams, unassigned=True, active_only=True, queued=True,
                    priority=wanted, order_by="queued_at", offset=offset, limit=limit,
                )
                assert store.query(query) == query.page(everything)


def test_a_queue_drain_reads_the_front_of_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window a drain asks for (the longest-waiting few) is read without looking at
    the rest of the queue: the tickets looked at do not grow with the queue."""
    from helpdesk_core.model import TicketRouted
    from helpdesk_core.model.events import Changes
    from helpdesk_core.testing.conformance import AGENT, change, queued

    store = MemoryStore()
    for i in range(300):
        ticket = open_ticket(store, f"T-{i:03d}", at=T0)
        routed = TicketRouted(ticket_id=ticket.id, at=T0, by=AGENT, changes=Changes(team="desk"))
        change(store, ticket, routed, queued(ticket.id, at=T0 + (300 - i) * MINUTE))
    looked_at = _looked_at(monkeypatch)
    query = TicketQuery(
        team="desk", unassigned=True, active_only=True, queued=True, order_by="queued_at",
        limit=5,
    )
    page = store.query(query)
    assert [t.id for t in page.items] == ["T-299", "T-298", "T-297", "T-296", "T-295"]
    assert page.total == 300
    assert page.next_offset == 5
    assert looked_at == []


@settings(max_examples=40, deadline=None)
@given(
    requesters=st.lists(st.sampled_from(["r-1", "r-2", "r-3"]), min_size=1, max_size=12),
    who=st.sampled_from(["r-1", "r-2", "r-9"]),
    order_by=st.sampled_from(["number", "-number", "created_at", "priority"]),
    active_only=st.booleans(),
    organization=st.none() | st.just("Acme"),
)
def test_a_requesters_own_scope_finds_what_a_full_scan_finds(
    requesters: list[str], who: str, order_by: str, active_only: bool, organization: str | None
) -> None:
    """A scope of a requester alone is read from the requester's tickets; it finds what
    the scope's reference semantics find among all tickets."""
    from helpdesk_core.storage import TicketScope

    store = MemoryStore()
    every = [
        open_ticket(store, f"T-{n}", requester=r, organization="Acme" if n % 2 else None)
        for n, r in enumerate(requesters)
    ]
    scope = TicketScope(requester=who, organization=organization)
    query = TicketQuery(scope=scope, order_by=order_by, active_only=active_only, limit=5)
    expected = query.ordered(every)
    page = store.query(query)
    assert page.total == len(expected)
    assert [t.id for t in page.items] == [t.id for t in expected[:5]]
