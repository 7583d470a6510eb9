"""The storage conformance suite fails stores that break their contract: a suite that
passes a broken store protects nobody."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, settings
from suite_support import suite_failure

from helpdesk_core.errors import ConflictError, HelpdeskError
from helpdesk_core.model import Event, Ticket
from helpdesk_core.storage import MemoryStore, Store, TicketQuery
from helpdesk_core.testing import StoreConformance
from helpdesk_core.testing.conformance import make_differential_machine


def _suite_fails(make_store: Callable[[], Store], test: str) -> None:
    """Run the suite's ``test`` on stores ``make_store`` makes: it must fail."""
    suite_failure(make_store, test)


class _Lossy(MemoryStore):
    """Keeps only the first two events of every append."""

    def append(self, ticket_id: str, *, events: Any, **kwargs: Any) -> Any:
        return super().append(ticket_id, events=list(events)[:2], **kwargs)


class _LossySuite(StoreConformance):
    def make_store(self) -> Store:
        return _Lossy()


def test_the_suite_fails_a_store_that_drops_events() -> None:
    suite = _LossySuite()
    suite.setup_method()
    try:
        with pytest.raises((AssertionError, HelpdeskError)):  # the test must not pass
            suite.test_many_events_appended_at_once_are_all_kept()
    finally:
        suite.teardown_method()


def _machine_fails(store: type[MemoryStore]) -> None:
    """The differential machine, run on ``store`` for up to 200 examples, must fail (no
    shrinking: finding a failure is the point). The examples are drawn the same way each
    run (``derandomize``): a store bug the machine finds only by luck would make this
    test pass or fail by chance."""
    machine = make_differential_machine(store)
    machine.TestCase.settings = settings(
        max_examples=200,
        stateful_step_count=50,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate,),
        report_multiple_bugs=False,
        derandomize=True,
        database=None,
    )
    with pytest.raises(AssertionError):
        machine.TestCase().runTest()


def test_the_differential_machine_fails_a_store_that_drops_events() -> None:
    machine = make_differential_machine(_Lossy)
    machine.TestCase.settings = settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],  # failing is the point; shrinking it would take ~20 s
    )
    with pytest.raises(AssertionError) as info:
        machine.TestCase().runTest()
    if "disagrees" in str(info.value):  # a comparison of one call's results says which is which
        assert "reference:" in str(info.value) and "store under test:" in str(info.value)


def _ignoring(**unfiltered: Any) -> type[MemoryStore]:
    """A store that ignores a ``TicketQuery`` filter (one written before the filter
    existed): ``unfiltered`` sets it back to its match-everything value."""

    class Ignoring(MemoryStore):
        def query(self, query: TicketQuery) -> Any:
            return super().query(attrs.evolve(query, **unfiltered))

    return Ignoring


_FILTER_TESTS = [
    ({"links_to": None}, "test_links_to_keeps_tickets_linking_to_any_of_the_ids"),
    ({"queued": False}, "test_queued_keeps_tickets_waiting_for_an_assignment"),
    ({"type": None}, "test_type_keeps_tickets_of_any_of_the_types"),
]


@pytest.mark.parametrize(("unfiltered", "test"), _FILTER_TESTS)
def test_the_suite_fails_a_store_that_ignores_a_filter(
    unfiltered: dict[str, Any], test: str
) -> None:
    _suite_fails(_ignoring(**unfiltered), test)


@pytest.mark.parametrize("unfiltered", [{"queued": False}, {"type": None}])
def test_the_differential_machine_fails_a_store_that_ignores_a_filter(
    unfiltered: dict[str, Any],
) -> None:
    _machine_fails(_ignoring(**unfiltered))


class _ReleaseUncounted(MemoryStore):
    """Gives leased items back without counting the attempt. (It reaches into the
    MemoryStore's deliveries: ``(state, lease end, attempts, error)`` by position.)"""

    def release_outbox(self, consumer: str, ids: Any, *, error: str | None = None) -> None:
        deliveries = self._consumer(consumer).deliveries
        leased = {p: d[2] for p, d in deliveries.items() if d[0] == "leased"}
        super().release_outbox(consumer, ids, error=error)
        for position, attempts in leased.items():
            state, until, _, note = deliveries[position]
            if state == "pending":
                deliveries[position] = (state, until, attempts, note)


class _AckLost(MemoryStore):
    """Records acks for the wrong consumer: the acked items come back once their lease
    runs out."""

    def ack_outbox(self, consumer: str, ids: Any) -> None:
        super().ack_outbox(f"{consumer}-elsewhere", ids)


class _LeaseBlind(MemoryStore):
    """Holds every lease for a microsecond only: items still leased are handed out again."""

    def claim_outbox(self, consumer: str, *, now: Any, limit: int = 100, lease: Any = None) -> Any:
        return super().claim_outbox(
            consumer, now=now, limit=limit, lease=timedelta(microseconds=1)
        )


class _StreamIgnoringAfter(MemoryStore):
    """Streams every event from the first, whatever ``after`` says."""

    def event_stream(self, *, after: int = 0, limit: int | None = None) -> Any:
        return super().event_stream(limit=limit)


class _StreamIgnoringLimit(MemoryStore):
    """Streams every event after ``after``, however many ``limit`` allows."""

    def event_stream(self, *, after: int = 0, limit: int | None = None) -> Any:
        return super().event_stream(after=after)


# As the store tests run the machine (tests/storage: 60 examples of up to 30 steps), with
# a fixed seed; finding a failure is the point, not shrinking it.
_AS_THE_STORE_TESTS_RUN_IT = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
    phases=(Phase.generate,),
    report_multiple_bugs=False,
)


@pytest.mark.parametrize(
    "store",
    [
        _ignoring(number=None),
        _ignoring(organization=None),
        _ignoring(unassigned=False),
        _ignoring(updated_since=None),
        _ReleaseUncounted,
        _AckLost,
        _LeaseBlind,
        _StreamIgnoringAfter,
        _StreamIgnoringLimit,
    ],
    ids=[
        "ignores-number",
        "ignores-organization",
        "ignores-unassigned",
        "ignores-updated_since",
        "release-uncounted",
        "ack-lost",
        "lease-blind",
        "stream-ignores-after",
        "stream-ignores-limit",
    ],
)
def test_the_differential_machine_fails_a_store_and_says_what_differed(
    store: type[MemoryStore],
) -> None:
    machine = make_differential_machine(store)
    # A store that ignores leases or miscounts releases is caught in about nine runs of
    # ten at the store tests' 60 examples; the machine stops at the first difference, so
    # more examples cost nothing here and keep the catch from resting on one seed.
    machine.TestCase.settings = settings(_AS_THE_STORE_TESTS_RUN_IT, max_examples=300)
    with pytest.raises(AssertionError) as info:
        machine.TestCase().runTest()
    message = str(info.value)
    assert "reference" in message and "store under test" in message, message


class _DueSkipsTheFirst(MemoryStore):
    """Leaves the earliest wake-up out of ``due``."""

    def due(self, now: datetime, *, limit: int = 100) -> Any:
        return super().due(now, limit=limit)[1:]


class _HistoryOldestFirst(MemoryStore):
    """Lists a requester's tickets oldest first."""

    def requester_history(self, requester_id: str, *, limit: int = 20, **rest: Any) -> Any:
        return super().requester_history(requester_id, limit=limit, **rest)[::-1]


@pytest.mark.parametrize(
    ("store", "says"),
    [
        (_DueSkipsTheFirst, r"on due\(\S+, limit=\d\)\s+lengths: reference \d, store under test"),
        (
            _HistoryOldestFirst,
            r"on requester_history\('r-1', limit=3\)\s+lengths: reference (\d), store under "
            r"test \1; first difference at index 0",
        ),
        (_LeaseBlind, r"on claim_outbox\('(mail|hook)', now=\S+, limit=\d, lease=\d minutes\)"),
    ],
    ids=["due", "requester_history", "claim_outbox"],
)
def test_the_differential_machine_names_the_call_whose_answers_differ(
    store: type[MemoryStore], says: str
) -> None:
    machine = make_differential_machine(store)
    # A store that ignores leases or miscounts releases is caught in about nine runs of
    # ten at the store tests' 60 examples; the machine stops at the first difference, so
    # more examples cost nothing here and keep the catch from resting on one seed.
    machine.TestCase.settings = settings(_AS_THE_STORE_TESTS_RUN_IT, max_examples=300)
    with pytest.raises(AssertionError) as info:
        machine.TestCase().runTest()
    assert re.search(says, str(info.value)), str(info.value)


class _QueuedAtAsCreated(MemoryStore):
    """Answers the ``queued_at`` orders with the ``created_at`` ones (a queue drain's
    order before it had its own)."""

    def query(self, query: TicketQuery) -> Any:
        order = query.order_by.replace("queued_at", "created_at")
        return super().query(attrs.evolve(query, order_by=order))


class _QueuedAtNullsFirst(MemoryStore):
    """Puts the tickets with no ``queued_at`` first in the ``queued_at`` orders (where
    SQLite's ascending order puts NULLs)."""

    def query(self, query: TicketQuery) -> Any:
        if "queued_at" not in query.order_by:
            return super().query(query)
        every = super().query(attrs.evolve(query, limit=1000, offset=0)).items
        return query.cut(sorted(every, key=lambda t: t.queued_at is not None))


@pytest.mark.parametrize("store", [_QueuedAtAsCreated, _QueuedAtNullsFirst])
def test_the_suite_and_the_machine_fail_a_store_that_orders_queued_at_wrong(
    store: type[MemoryStore],
) -> None:
    _suite_fails(store, "test_queued_at_orders_by_how_long_tickets_waited")
    _machine_fails(store)


class _Recording(MemoryStore):
    """A MemoryStore that notes which of its methods are called once it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.called_when_closed: set[str] = set()

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if name.startswith("_") or not callable(value) or not super().__getattribute__("_closed"):
            return value
        called = super().__getattribute__("called_when_closed")

        def record(*args: Any, **kwargs: Any) -> Any:
            called.add(name)
            return value(*args, **kwargs)

        return record


class _RecordingSuite(StoreConformance):
    def make_store(self) -> Store:
        return _Recording()


def test_the_closed_store_tests_call_every_method_of_the_protocols() -> None:
    from helpdesk_core.storage.base import (
        CursorClaims,
        CursorDeletion,
        RequesterLock,
        SolvedTicketSearch,
    )

    called: set[str] = set()
    for name in ("test_closed_store_refuses_every_call", "test_closed_store_refuses_article_calls"):
        suite = _RecordingSuite()
        suite.setup_method()
        try:
            getattr(suite, name)()
        finally:
            assert isinstance(suite.store, _Recording)
            called |= suite.store.called_when_closed
            suite.teardown_method()
    wanted = {
        name
        for protocol in (Store, CursorClaims, CursorDeletion, RequesterLock, SolvedTicketSearch)
        for name in dir(protocol)
        if not name.startswith("_")
    }
    # MemoryStore has no word index of its own: search_solved is checked on the stores
    # that offer it (the same code path, by isinstance).
    wanted -= {"search_solved"}
    wanted |= {"import_tickets"}
    assert wanted <= called, sorted(wanted - called)


class _OffsetBlind(MemoryStore):
    """Reads every page from the first match on: ``offset`` ignored."""

    def query(self, query: TicketQuery) -> Any:
        return super().query(attrs.evolve(query, offset=0))


class _RemembersRequesters(MemoryStore):
    """Its index of each requester's tickets keeps the ids a purge or an anonymisation
    took away from the requester."""

    def __init__(self) -> None:
        super().__init__()
        self._ever: dict[str, list[str]] = {}

    def append(self, ticket_id: str, **kwargs: Any) -> Any:
        result = super().append(ticket_id, **kwargs)
        requester = kwargs["snapshot"].requester
        self._ever.setdefault(requester, [])
        if ticket_id not in self._ever[requester]:
            self._ever[requester].insert(0, ticket_id)
        return result

    def requester_ticket_ids(self, requester_id: str, *, limit: int = 50) -> list[str]:
        current = super().requester_ticket_ids(requester_id, limit=limit)
        stale = [t for t in self._ever.get(requester_id, []) if t not in current]
        return [*current, *stale][:limit]


@pytest.mark.parametrize(
    ("store", "test"),
    [
        (_OffsetBlind, "test_pages_cover_every_match_once"),
        (_RemembersRequesters, "test_purge_removes_every_trace_of_the_ticket"),
        (_RemembersRequesters, "test_anonymise_rewrites_history_snapshot_search_and_outbox"),
    ],
)
def test_the_suite_fails_a_store_that_pages_or_indexes_wrong(
    store: type[MemoryStore], test: str
) -> None:
    _suite_fails(store, test)  # fails (a store ignoring offsets: no endless loop)


class _CursorsAsDoubles(MemoryStore):
    """Keeps cursors as floating-point numbers (a JSON document store's numbers, or a
    REAL column): whole numbers past 2**53 come back rounded."""

    def set_cursor(self, key: str, value: int) -> None:
        super().set_cursor(key, value)
        self._cursors[key] = int(float(value))

    def claim_cursor(self, key: str, value: int) -> bool:
        won = super().claim_cursor(key, value)
        if won:
            self._cursors[key] = int(float(value))
        return won


class _CursorsIn32Bits(MemoryStore):
    """Keeps cursors in a 32-bit column (an ``integer`` where ``bigint`` was needed):
    values past its range are cut to it."""

    def set_cursor(self, key: str, value: int) -> None:
        super().set_cursor(key, max(-(2**31), min(2**31 - 1, value)))

    def claim_cursor(self, key: str, value: int) -> bool:
        return super().claim_cursor(key, max(-(2**31), min(2**31 - 1, value)))


@pytest.mark.parametrize("store", [_CursorsAsDoubles, _CursorsIn32Bits])
@pytest.mark.parametrize(
    "test", ["test_cursors", "test_cursor_claims_when_the_store_offers_them"]
)
def test_the_suite_fails_a_store_that_cuts_cursors_short(
    store: type[MemoryStore], test: str
) -> None:
    _suite_fails(store, test)


class _AfterBlind(MemoryStore):
    """Pages by ``after`` as if it were not there: every page is the first."""

    def query(self, query: TicketQuery) -> Any:
        return super().query(attrs.evolve(query, after=None))


class _AfterByOffset(MemoryStore):
    """Pages by ``after`` by counting: the token's ticket found among today's matches and
    the page cut after it (what an offset does, so a ticket that arrived or left before
    the token's place shifts the page; a token whose ticket is gone starts over)."""

    def query(self, query: TicketQuery) -> Any:
        key = query.after_key
        if key is None:
            return super().query(query)
        every = list(super().query(attrs.evolve(query, after=None, limit=1000)).items)
        ids = [t.id for t in every]
        start = ids.index(key[1]) + 1 if key[1] in ids else 0
        page = attrs.evolve(query, after=None).cut(every[start:])
        return attrs.evolve(page, total=len(every), next_offset=None)


@pytest.mark.parametrize("store", [_AfterBlind, _AfterByOffset])
def test_the_suite_and_the_machine_fail_a_store_that_pages_after_wrong(
    store: type[MemoryStore],
) -> None:
    _suite_fails(store, "test_after_pages_skip_and_repeat_nothing_while_tickets_arrive")
    if store is _AfterBlind:  # (the other differs only once a token's ticket is gone)
        _suite_fails(store, "test_next_pages_see_changes_made_between_pages")
        _machine_fails(store)


class _StreamLimitCountsPositions(MemoryStore):
    """Reads ``limit`` positions of the stream, not ``limit`` events: the positions of a
    purged ticket's events count, so a page behind a purge comes back short (or empty)."""

    def event_stream(self, *, after: int = 0, limit: int | None = None) -> Any:
        stream = super().event_stream(after=after)
        if limit is None:
            return stream
        return iter([(p, e) for p, e in stream if p <= after + limit])


class _UnitsLetOthersIn(MemoryStore):
    """Undoes a failed unit of work, but holds no lock while it runs: other threads read
    its writes before it ends (a database read at READ UNCOMMITTED)."""

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        with self._lock:
            self._check_open()
            outer = self._journal is None
            if outer:
                self._journal = []
            journal = self._journal
            assert journal is not None
            mark = len(journal)
        try:
            yield
        except BaseException:
            with self._lock:
                while len(journal) > mark:
                    journal.pop()()
                self._changed()
            raise
        finally:
            if outer:
                self._journal = None


class _BatchesCheckedApart(MemoryStore):
    """Appends one event in one step, but checks the version of an append of several
    events before it takes the lock to write them: two such appends at one version can
    both get through."""

    def append(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        if len(events) == 1:
            super().append(
                ticket_id,
                expected_version=expected_version,
                events=events,
                snapshot=snapshot,
                wake_at=wake_at,
            )
            return
        current = self._tickets.get(ticket_id)
        actual = 0 if current is None else current.version
        if actual != expected_version:
            raise ConflictError(ticket_id, expected=expected_version, actual=actual)
        with self._lock:
            self._write(self._tickets.get(ticket_id), events, snapshot, wake_at)


@pytest.mark.parametrize(
    ("store", "test"),
    [
        (_StreamLimitCountsPositions, "test_event_stream_limit_counts_events_not_purged_positions"),
        (_UnitsLetOthersIn, "test_other_handles_see_nothing_of_an_unfinished_unit_of_work"),
        (_BatchesCheckedApart, "test_concurrent_appends_at_one_version_have_one_winner"),
    ],
)
def test_the_suite_fails_a_store_that_isolates_or_counts_wrong(
    store: type[MemoryStore], test: str
) -> None:
    _suite_fails(store, test)


def _wall_clock_as_utc(instant: datetime) -> datetime:
    """The instant a store reads back when it keeps the wall-clock text of ``instant``
    without its offset (``2026-03-02 18:00`` of Tokyo read as UTC)."""
    return instant.replace(tzinfo=UTC)


class _ClaimDueWallClock(MemoryStore):
    """Compares ``claim_due``'s ``now`` by its wall-clock time, as if it were UTC (``due``
    gets it right: the two calls are separate queries in most adapters)."""

    def claim_due(self, now: datetime, **kwargs: Any) -> Any:
        return super().claim_due(_wall_clock_as_utc(now), **kwargs)


class _ClaimOutboxWallClock(MemoryStore):
    """Compares ``claim_outbox``'s ``now`` by its wall-clock time, as if it were UTC."""

    def claim_outbox(self, consumer: str, *, now: datetime, **kwargs: Any) -> Any:
        return super().claim_outbox(consumer, now=_wall_clock_as_utc(now), **kwargs)


class _ImportWakeWallClock(MemoryStore):
    """Imports wake-ups by their wall-clock time, as if they were UTC (``append``
    gets them right)."""

    def import_tickets(self, items: Any) -> int:
        return super().import_tickets(
            (*item[:2], _wall_clock_as_utc(item[2])) if len(item) == 3 and item[2] else item
            for item in items
        )


@pytest.mark.parametrize(
    ("store", "test"),
    [
        (_ClaimDueWallClock, "test_claimed_tickets_are_leased"),
        (_ClaimOutboxWallClock, "test_outbox_release_and_lease_expiry"),
        (_ImportWakeWallClock, "test_bulk_import_when_the_store_offers_it"),
    ],
)
def test_the_suite_fails_a_store_that_reads_an_instant_by_its_wall_clock(
    store: type[MemoryStore], test: str
) -> None:
    _suite_fails(store, test)


class _AckForEveryConsumer(MemoryStore):
    """Marks acked items delivered for every consumer that has claimed them (an UPDATE
    of the deliveries by item id that forgot the consumer)."""

    def ack_outbox(self, consumer: str, ids: Any) -> None:
        super().ack_outbox(consumer, ids)
        for other in list(self._consumers):
            if other != consumer:
                super().ack_outbox(other, ids)


def test_the_suite_fails_a_store_whose_ack_reaches_other_consumers() -> None:
    _suite_fails(_AckForEveryConsumer, "test_outbox_delivers_every_event_once_acked")


def _bools_as_numbers(values: Any) -> dict[str, Any]:
    return {k: int(v) if isinstance(v, bool) else v for k, v in values.items()}


class _BoolsAsNumbers(MemoryStore):
    """Keeps custom fields and requester attributes in number columns: ``True`` comes
    back as ``1`` (which Python's ``==`` takes for ``True``; the desk's conditions do
    not)."""

    def append(self, ticket_id: str, *, snapshot: Ticket, **kwargs: Any) -> Any:
        snapshot = attrs.evolve(snapshot, fields=_bools_as_numbers(snapshot.fields))
        return super().append(ticket_id, snapshot=snapshot, **kwargs)

    def save_requester(self, requester: Any) -> None:
        attributes = _bools_as_numbers(requester.attributes)
        super().save_requester(attrs.evolve(requester, attributes=attributes))


@pytest.mark.parametrize("test", ["test_new_ticket_round_trips", "test_requesters"])
def test_the_suite_fails_a_store_that_gives_back_true_as_one(test: str) -> None:
    _suite_fails(_BoolsAsNumbers, test)


class _ArticlesOffsetBlind(MemoryStore):
    """Lists every page of articles from the first: ``offset`` ignored."""

    def list_articles(self, query: Any) -> Any:
        return super().list_articles(attrs.evolve(query, offset=0))


@pytest.mark.parametrize(
    ("store", "test"),
    [
        (_OffsetBlind, "test_queued_at_order_follows_the_queue_as_it_changes"),
        (_ArticlesOffsetBlind, "test_article_filters_order_and_pages"),
    ],
)
def test_the_suite_fails_rather_than_loops_on_a_store_that_ignores_offsets(
    store: type[MemoryStore], test: str
) -> None:
    done = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            _suite_fails(store, test)
        except BaseException as error:  # reported below
            failed.append(error)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(timeout=20), f"{test} pages on for ever"
    assert not failed, failed


def _some_suite_test_fails(make_store: Callable[[], Store], containing: str) -> None:
    """Run every test of the suite whose name holds ``containing`` on stores
    ``make_store`` makes: at least one must fail."""

    class Suite(StoreConformance):
        def make_store(self) -> Store:
            return make_store()

    names = sorted(n for n in dir(Suite) if n.startswith("test_") and containing in n)
    assert names, containing
    failed: list[str] = []
    for name in names:
        suite = Suite()
        suite.setup_method()
        try:
            getattr(suite, name)()
        except AssertionError:
            failed.append(name)
        finally:
            suite.teardown_method()
    assert failed, f"every test of {containing!r} passed a broken store: {names}"


class _AnonymiseDropsWakeUp(MemoryStore):
    """Rewrites a history without the wake-up it is given (a rewrite that deletes the
    ticket's row and inserts it again, forgetting the column): an open ticket whose
    requester is erased never breaches, escalates or closes."""

    def anonymise(self, ticket_id: str, **kwargs: Any) -> None:
        super().anonymise(ticket_id, **{**kwargs, "wake_at": None})


class _AnonymiseKeepsWakeUp(MemoryStore):
    """Rewrites a history and leaves the ticket's wake-up as it was (an UPDATE that
    forgot the column)."""

    def anonymise(self, ticket_id: str, **kwargs: Any) -> None:
        kwargs.pop("wake_at", None)
        with self.unit_of_work():
            kept = self._wake.get(ticket_id)
            super().anonymise(ticket_id, **kwargs, wake_at=kept)


@pytest.mark.parametrize("store", [_AnonymiseDropsWakeUp, _AnonymiseKeepsWakeUp])
def test_the_suite_fails_a_store_whose_anonymise_ignores_the_wake_up(
    store: type[MemoryStore],
) -> None:
    _some_suite_test_fails(store, "anonymise")


def test_the_machine_fails_a_store_whose_anonymise_drops_the_wake_up() -> None:
    _machine_fails(_AnonymiseDropsWakeUp)


class _CaseBlindTicketIds(MemoryStore):
    """Looks a ticket up by its id compared without case, as a key column under a
    case-insensitive collation (MySQL's default, SQL Server's) does."""

    def _same(self, ticket_id: Any) -> Any:
        if isinstance(ticket_id, str):
            for known in list(self._tickets):
                if known.casefold() == ticket_id.casefold():
                    return known
        return ticket_id

    def load(self, ticket_id: str) -> Ticket:
        return super().load(self._same(ticket_id))

    def events(self, ticket_id: str, *, after_version: int = 0) -> list[Event]:
        return super().events(self._same(ticket_id), after_version=after_version)


class _CaseBlindCursorKeys(MemoryStore):
    """Keeps cursors under their keys in lower case (a case-insensitive key column)."""

    def get_cursor(self, key: str) -> int:
        return super().get_cursor(key.lower() if isinstance(key, str) else key)

    def set_cursor(self, key: str, value: int) -> None:
        super().set_cursor(key.lower() if isinstance(key, str) else key, value)

    def claim_cursor(self, key: str, value: int) -> bool:
        return super().claim_cursor(key.lower() if isinstance(key, str) else key, value)


@pytest.mark.parametrize("store", [_CaseBlindTicketIds, _CaseBlindCursorKeys])
def test_the_suite_fails_a_store_that_compares_ids_without_case(
    store: type[MemoryStore],
) -> None:
    _some_suite_test_fails(store, "")


class _OwnJson(MemoryStore):
    """Writes the configuration document with ``json.dumps`` of its own, which turns a key
    ``1`` into ``"1"``."""

    def save_config_document(self, document: Any) -> None:
        import json

        super().save_config_document(json.loads(json.dumps(document)))


def test_the_suite_fails_a_store_that_accepts_keys_that_are_not_text() -> None:
    _suite_fails(_OwnJson, "test_config_document_keys_are_text_at_any_depth")


def _to_the_millisecond(instant: datetime) -> datetime:
    """What a store that keeps instants as milliseconds (a BSON date, a JavaScript
    ``Date``, ``DATETIME(3)``) gives back."""
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


class _EventsToTheMillisecond(MemoryStore):
    """Gives back the instants of events to the millisecond."""

    def events(self, ticket_id: str, *, after_version: int = 0) -> list[Event]:
        found = super().events(ticket_id, after_version=after_version)
        return [attrs.evolve(e, at=_to_the_millisecond(e.at)) for e in found]


class _SnapshotsToTheMillisecond(MemoryStore):
    """Keeps a snapshot's instants to the millisecond."""

    def append(self, ticket_id: str, *, snapshot: Ticket, **kwargs: Any) -> Any:
        snapshot = attrs.evolve(
            snapshot,
            created_at=_to_the_millisecond(snapshot.created_at),
            updated_at=_to_the_millisecond(snapshot.updated_at),
        )
        return super().append(ticket_id, snapshot=snapshot, **kwargs)


class _WakeUpsToTheSecond(MemoryStore):
    """Keeps wake-ups to the second (``DATETIME`` without a fraction)."""

    def append(self, ticket_id: str, *, wake_at: datetime | None = None, **kwargs: Any) -> Any:
        if wake_at is not None:
            wake_at = wake_at.replace(microsecond=0)
        return super().append(ticket_id, wake_at=wake_at, **kwargs)


class _ArticlesToTheMillisecond(MemoryStore):
    """Keeps an article's instants to the millisecond."""

    def save_article(self, article: Any, *, expected_version: int) -> None:
        article = attrs.evolve(
            article,
            created_at=_to_the_millisecond(article.created_at),
            updated_at=_to_the_millisecond(article.updated_at),
        )
        super().save_article(article, expected_version=expected_version)


@pytest.mark.parametrize(
    ("store", "says"),
    [
        (_EventsToTheMillisecond, "events('T-1')"),
        (_SnapshotsToTheMillisecond, "load('T-1')"),
        (_WakeUpsToTheSecond, "due("),
        (_ArticlesToTheMillisecond, "get_article('KB-1')"),
    ],
    ids=["events", "snapshots", "wake-ups", "articles"],
)
def test_the_suite_fails_a_store_that_rounds_instants(store: type[MemoryStore], says: str) -> None:
    # A desk's clock reads to the microsecond: rounded, a replayed history no longer
    # gives the stored ticket, and a wake-up falls due early.
    message = suite_failure(store, "test_instants_keep_their_microseconds")
    assert says in message, message


class _StaleAfterTotal(MemoryStore):
    """Gives every page asked for by ``after`` the total of the first such page."""

    first_total: int | None = None

    def query(self, query: TicketQuery) -> Any:
        page = super().query(query)
        if query.after is None:
            return page
        if self.first_total is None:
            self.first_total = page.total
        return attrs.evolve(page, total=self.first_total)


def test_the_suite_fails_a_store_that_keeps_the_total_of_a_walk_by_after() -> None:
    _suite_fails(_StaleAfterTotal, "test_after_pages_count_what_changed_between_them")
