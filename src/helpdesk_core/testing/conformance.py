"""The storage conformance suite: what every :class:`~helpdesk_core.storage.Store` must do.

:class:`StoreConformance` is a plain pytest-style test class. Subclass it in a module whose
class name starts with ``Test`` and say how to make a store::

    from helpdesk_core.testing import StoreConformance

    class TestMyStore(StoreConformance):
        def make_store(self):
            return MyStore(...)

Optional hooks: ``teardown_store(store)`` (default: ``store.close()``) and
``open_peer(store)``, a second handle on the same data for the concurrency tests (default:
the same object, shared by threads).

:func:`make_differential_machine` builds a Hypothesis state machine that drives a store
and a :class:`~helpdesk_core.storage.MemoryStore` side by side with random operations and
checks that they agree.
"""

from __future__ import annotations

import base64
import itertools
import json
import linecache
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from helpdesk_core.errors import (
    ConflictError,
    NotFound,
    StoreClosedError,
    ValidationError,
)
from helpdesk_core.knowledge import Article, ArticleQuery, ArticleStatus, search_words
from helpdesk_core.model import (
    Actor,
    Assigned,
    Changes,
    ClockState,
    CommentAdded,
    Event,
    Linked,
    LinkKind,
    Metric,
    OwnerChanged,
    Priority,
    QueuedForAssignment,
    Requester,
    SlaClock,
    SlaClockStarted,
    SlaClockStopped,
    SlaWarning,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketAnonymised,
    TicketOpened,
    TicketRouted,
    apply_event,
    replay,
)
from helpdesk_core.privacy.purge import LinkedTicketPurged
from helpdesk_core.storage import (
    CursorClaims,
    CursorDeletion,
    MemoryStore,
    OutboxItem,
    Page,
    RequesterLock,
    SolvedTicketSearch,
    Store,
    TicketQuery,
    TicketScope,
)
from helpdesk_core.storage.base import ORDERINGS

__all__ = ["StoreConformance", "make_differential_machine"]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
_ONE_US = timedelta(microseconds=1)
_NEW_YORK = ZoneInfo("America/New_York")
_TOKYO = ZoneInfo("Asia/Tokyo")
AGENT = Actor.agent("a-1")
NASTY = "quote ' double \" back \\ NUL \x00 percent % under _ ; DROP TABLE tickets; -- \ue000 é Σ"


# ---------------------------------------------------------------------------- builders


def opened(ticket_id: str, number: int, *, at: datetime = T0, **fields: Any) -> TicketOpened:
    """A TicketOpened with sensible defaults (requester ``r-1``)."""
    fields.setdefault("requester", "r-1")
    fields.setdefault("subject", f"Ticket {ticket_id}")
    return TicketOpened(
        ticket_id=ticket_id, at=at, by=Actor.requester(fields["requester"]), number=number, **fields
    )


def commented(ticket_id: str, body: str, *, at: datetime, public: bool = True) -> CommentAdded:
    """An agent's reply."""
    return CommentAdded(
        ticket_id=ticket_id,
        at=at,
        by=AGENT,
        comment_id=f"c-{at.timestamp():.0f}",
        body=body,
        public=public,
    )


def moved(ticket_id: str, to: str, category: StatusCategory, *, at: datetime) -> StatusChanged:
    """A status change (any transition name; the store does not check lifecycles)."""
    return StatusChanged(
        ticket_id=ticket_id,
        at=at,
        by=AGENT,
        transition=f"to_{to}",
        from_status="new",
        to_status=to,
        category=category,
        resolution="done" if to == "solved" else None,
    )


def sla_clock(deadline: datetime, *, at: datetime, stopped: bool = False) -> SlaClock:
    """A resolution clock running to ``deadline`` (or stopped)."""
    return SlaClock(
        metric=Metric.RESOLUTION,
        policy="std",
        calendar="always",
        target=deadline - at,
        state=ClockState.MET if stopped else ClockState.RUNNING,
        started_at=at,
        used=timedelta(0),
        as_of=at,
        deadline=deadline,
        stopped_at=at if stopped else None,
    )


def open_ticket(
    store: Store, ticket_id: str, *, wake_at: datetime | None = None, **fields: Any
) -> Ticket:
    """Open a ticket in ``store`` with a fresh number; return its snapshot."""
    event = opened(ticket_id, store.allocate_number(), **fields)
    snapshot = replay([event])
    store.append(ticket_id, expected_version=0, events=[event], snapshot=snapshot, wake_at=wake_at)
    return snapshot


def linked(ticket_id: str, other: str, kind: str = "caused_by", *, at: datetime = T0) -> Linked:
    """A link from ``ticket_id`` to the ticket ``other``."""
    return Linked(ticket_id=ticket_id, at=at, by=AGENT, kind=LinkKind(kind), other=other)


def queued(
    ticket_id: str, *, at: datetime = T0, strategy: str | None = None
) -> QueuedForAssignment:
    """The ticket waits in its team's queue for an assignment (``strategy``: one asked
    for it, None: the desk's)."""
    return QueuedForAssignment(
        ticket_id=ticket_id, at=at, by=Actor.system("assignment"), strategy=strategy
    )


def change(store: Store, ticket: Ticket, *events: Event, wake_at: datetime | None = None) -> Ticket:
    """Append ``events`` to ``ticket`` (version-checked); return the new snapshot."""
    snapshot = ticket
    for event in events:
        snapshot = apply_event(snapshot, event)
    store.append(
        ticket.id,
        expected_version=ticket.version,
        events=events,
        snapshot=snapshot,
        wake_at=wake_at,
    )
    return snapshot


@contextmanager
def raises(kind: type[BaseException], match: str | None = None) -> Iterator[list[BaseException]]:
    """Like ``pytest.raises`` (so the suite needs only Hypothesis): yields a list that
    holds the exception afterwards."""
    caught: list[BaseException] = []
    try:
        yield caught
    except kind as exc:
        if match is not None and not re.search(match, str(exc)):
            raise AssertionError(f"{exc!r} does not match {match!r}{_block()}") from exc
        caught.append(exc)
    else:
        raise AssertionError(f"{kind.__name__} not raised{_block()}")


def _block() -> str:
    """Where the ``with raises(...)`` that failed stands, and the call in its block, as
    ": in test_x, self.store.ack_outbox(...)" (empty when the source cannot be read): a
    failure names the store call without the suite's source open."""
    # this function, raises(), contextlib's __exit__, then the test that used it
    frame = sys._getframe(3)
    code = frame.f_code
    lines = [linecache.getline(code.co_filename, frame.f_lineno + n).strip() for n in (0, 1)]
    if not lines[0].startswith("with raises("):
        return f": in {code.co_name}" if code.co_name.startswith("test_") else ""
    call = lines[1] or lines[0]
    return f": in {code.co_name}, {call}"


def _retention_erasure(ticket_id: str) -> TicketAnonymised:
    """The event a retention policy's anonymisation records."""
    return TicketAnonymised(ticket_id=ticket_id, at=T0 + MINUTE, by=AGENT, reason="retention")


def _ids(tickets: Sequence[Ticket]) -> list[str]:
    return [t.id for t in tickets]


def _typed(values: Mapping[str, Any]) -> dict[str, tuple[type, Any]]:
    """Custom fields (or requester attributes) with the type of each value: ``==`` takes
    ``True`` for ``1`` and ``1`` for ``1.0``, and the desk's conditions tell ``True``
    from ``1``."""
    return {name: (type(value), value) for name, value in values.items()}


#: Cursor values at the ends of the 64-bit range and past a double's exact integers.
_WIDE_CURSORS = (2**63 - 1, -(2**63), 2**53 + 1, -(2**31) - 1, 2**31)

#: Rounds of each race: a store that checks and then writes in two steps loses one.
_RACE_ROUNDS = 8
#: Rounds of a race whose second thread starts a little later each round.
_SWEEP = 24
#: Appends of each writer while others read.
_APPENDS = 15


@contextmanager
def _switching_often() -> Iterator[None]:
    """Let Python threads take turns every microsecond in the block, not every 5 ms."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


_LOCKS = (type(threading.Lock()), type(threading.RLock()))


def _pause(seconds: float) -> None:
    """Let the other threads of a concurrency test run for a moment."""
    time.sleep(seconds)  # noqa: TID251 - threads of a test take turns, not domain time


def _turn_takers(
    stores: Sequence[object], *, lines: bool
) -> tuple[Callable[[Any, str, Any], None], Callable[[Any, str, Any], Any] | None]:
    """A profile function (and, with ``lines``, a trace function) that lets the other
    threads take a turn each time the code of the stores' classes releases a lock (and
    at each of its lines). Python switches threads every few milliseconds only: a store
    written in Python that checks under a lock and writes under it again, or reads a
    counter and writes it back in two lines, would be caught between the two once in
    thousands of runs; this way it is in a few rounds. Code in C, the database
    driver's included, runs as it would."""
    modules = {cls.__module__ for store in stores for cls in type(store).__mro__}
    modules.discard("builtins")

    def after_unlocking(frame: Any, event: str, arg: Any) -> None:
        if (
            event == "c_return"
            and isinstance(getattr(arg, "__self__", None), _LOCKS)
            and frame.f_globals.get("__name__") in modules
        ):
            _pause(0.00002)

    def each_line(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            _pause(0)
        return each_line

    def trace(frame: Any, event: str, arg: Any) -> Any:
        return each_line if frame.f_globals.get("__name__") in modules else None

    return after_unlocking, (trace if lines else None)


def _together(
    work: Callable[[int, threading.Barrier], None],
    count: int,
    stores: Sequence[object],
    *,
    lines: bool = False,
) -> None:
    """Run ``work(index, barrier)`` in ``count`` threads at once (each waits at the
    barrier where the race starts), threads taking turns often inside the code of
    ``stores`` (see :func:`_turn_takers`), and raise the first error one of them met."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    profile, trace = _turn_takers(stores, lines=lines)

    def run(index: int) -> None:
        sys.setprofile(profile)
        if trace is not None:
            sys.settrace(trace)
        try:
            work(index, barrier)
        except BaseException as exc:  # reported below
            errors.append(exc)
            barrier.abort()  # the others stop waiting for this one
        finally:
            sys.setprofile(None)
            if trace is not None:
                sys.settrace(None)

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(count)]
    with _switching_often():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting"
    first = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)] or errors
    if first:
        raise first[0]


class _Planned(Exception):
    """The failure a test raises on purpose inside a unit of work."""


def _deliver(store: Store, delivered: list[str], errors: list[BaseException]) -> None:
    """A "mail" worker: claim and ack until nothing is left (thread body)."""
    try:
        while batch := store.claim_outbox("mail", now=T0, limit=3):
            delivered.extend(i.id for i in batch)
            store.ack_outbox("mail", [i.id for i in batch])
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)


def _scrubbed(events: Sequence[Event]) -> list[Event]:
    """A history with its personal text replaced (what an anonymisation writes)."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, TicketOpened):
            event = attrs.evolve(
                event,
                subject="[anonymised]",
                description="[anonymised]",
                requester="anon",
                by=Actor.requester("anon"),
            )
        elif isinstance(event, CommentAdded):
            event = attrs.evolve(event, body="[anonymised]")
        out.append(event)
    return out


# ---------------------------------------------------------------------------- the suite


class StoreConformance:
    """Tests every Store must pass; subclass with ``make_store``."""

    store: Store
    #: Threads used by the concurrency tests.
    workers: ClassVar[int] = 4

    # -- hooks ------------------------------------------------------------------------

    def make_store(self) -> Store:
        """A new, empty store."""
        raise NotImplementedError("subclasses say how to make a store")

    def teardown_store(self, store: Store) -> None:
        """Dispose of a store made by :meth:`make_store`."""
        store.close()

    def open_peer(self, store: Store) -> Store:
        """Another handle on the same data (default: the same object)."""
        return store

    def setup_method(self, method: Any = None) -> None:
        self._peers: list[Store] = []
        vars(self).pop("store", None)  # the store of a test before, torn down
        store = self.make_store()
        if store is None:  # a forgotten return: every test would fail on None
            raise ValidationError(
                "make_store returned None: return the new store the suite tests",
                field="make_store",
            )
        self.store = store

    def teardown_method(self, method: Any = None) -> None:
        store = vars(self).get("store")
        if store is None:  # make_store failed: nothing to tear down
            return
        for peer in self._peers:
            if peer is not store:
                peer.close()
        self.teardown_store(store)

    def _rewrite(self, ticket: Ticket, *more: Event) -> None:
        """Rewrite the ticket's stored history in place (as anonymising does) with
        ``more`` events after it."""
        history = [*self.store.events(ticket.id), *more]
        self.store.anonymise(
            ticket.id,
            expected_version=ticket.version,
            events=history,
            snapshot=replay(history),
        )

    def _peer(self) -> Store:
        peer = self.open_peer(self.store)
        self._peers.append(peer)
        return peer

    # -- tickets and events -----------------------------------------------------------

    def test_new_ticket_round_trips(self) -> None:
        ticket = open_ticket(
            self.store,
            "T-1",
            description="Paper jam",
            tags=("printer", "vip"),
            fields={"floor": 3, "ratio": 0.5, "ok": True, "note": None},
            category="Hardware",
        )
        assert ticket.version == 1, (
            "a ticket opened with append(expected_version=0, one TicketOpened) must be at version "
            f"1, got {ticket.version}"
        )
        assert self.store.load("T-1") == ticket, (
            "load('T-1') after opening it must return the snapshot given to append()"
        )
        for found in (
            self.store.load("T-1"),
            *self.store.get_many(["T-1"]),
            *self.store.query(TicketQuery()).items,
            *self.store.events("T-1"),
        ):
            assert isinstance(found, Ticket | TicketOpened), (
                f"load/get_many/query/events returned {type(found).__name__}, expected a Ticket or "
                "a TicketOpened"
            )
            assert _typed(found.fields) == _typed(ticket.fields), "a value changed its type"
        assert self.store.events("T-1") == [
            opened(
                "T-1",
                ticket.number,
                description="Paper jam",
                tags=("printer", "vip"),
                fields={"floor": 3, "ratio": 0.5, "ok": True, "note": None},
                category="Hardware",
            )
        ], "events('T-1') must return the one TicketOpened given to append(), equal field for field"

    def test_appended_events_come_back_in_order(self) -> None:
        ticket = open_ticket(self.store, "T-1")
        reply = commented("T-1", "On it", at=T0 + MINUTE)
        solved = moved("T-1", "solved", StatusCategory.SOLVED, at=T0 + 2 * MINUTE)
        latest = change(self.store, ticket, reply, solved)
        assert latest.version == 3, (
            f"three events appended one after the other must make version 3, got {latest.version}"
        )
        assert latest.status == "solved", (
            f"the snapshot after StatusChanged to 'solved' has status {latest.status!r}"
        )
        assert self.store.load("T-1") == latest, (
            "load('T-1') after two appends must return the snapshot given to the last append()"
        )
        events = self.store.events("T-1")
        assert events[1:] == [reply, solved], (
            "events('T-1') must return the appended events in the order they were appended, after "
            "the TicketOpened"
        )
        assert self.store.events("T-1", after_version=1) == [reply, solved], (
            "events('T-1', after_version=1) must return the events of versions 2 and 3, in order"
        )
        assert self.store.events("T-1", after_version=3) == [], (
            "events('T-1', after_version=3) at the latest version must return []"
        )
        assert replay(events) == latest, (
            "replaying events('T-1') must give the snapshot stored by the last append()"
        )

    def test_many_events_appended_at_once_are_all_kept(self) -> None:
        ticket = open_ticket(self.store, "T-1")
        events: list[Event] = [
            commented("T-1", f"note {i}", at=T0 + (i + 1) * MINUTE) for i in range(6)
        ]
        latest = change(self.store, ticket, *events)
        assert latest.version == 7, (
            f"an append of 6 events to version 1 must make version 7, got {latest.version}"
        )
        assert self.store.events("T-1")[1:] == events, (
            "events('T-1') must return all 6 events of one append() after the TicketOpened, in "
            "order"
        )
        assert self.store.events("T-1", after_version=4) == events[3:], (
            "events('T-1', after_version=4) must return the events of versions 5 to 7"
        )
        assert [e for _, e in self.store.event_stream()][1:] == events, (
            "event_stream() must hold all 6 events of one append() after the TicketOpened, in order"
        )
        assert replay(self.store.events("T-1")) == self.store.load("T-1") == latest, (
            "replay(events('T-1')), load('T-1') and the snapshot appended must be equal"
        )

    def test_missing_things_are_not_found(self) -> None:
        with raises(NotFound) as caught:
            self.store.load("T-404")
        error = caught[0]
        assert isinstance(error, NotFound)
        assert error.kind == "ticket", (
            f"load('T-404') raised NotFound with kind={error.kind!r}, expected kind='ticket'"
        )
        assert error.id == "T-404", (
            f"load('T-404') raised NotFound with id={error.id!r}, expected id='T-404'"
        )
        assert self.store.events("T-404") == [], (
            "events('T-404') of a ticket that does not exist must return [], not raise"
        )
        with raises(NotFound, match="requester"):
            self.store.get_requester("r-404")

    def test_get_many_keeps_order_and_skips_unknown(self) -> None:
        for ticket_id in ("T-1", "T-2", "T-3"):
            open_ticket(self.store, ticket_id)
        found = self.store.get_many(["T-3", "T-404", "T-1", "T-2"])
        assert _ids(found) == ["T-3", "T-1", "T-2"], (
            "get_many(['T-3', 'T-404', 'T-1', 'T-2']) must return the tickets found in the order "
            f"asked, skipping T-404: expected ['T-3', 'T-1', 'T-2'], got {_ids(found)}"
        )
        assert self.store.get_many([]) == [], "get_many([]) must return []"

    def test_ids_and_keys_compare_exactly(self) -> None:
        # Ids and keys are looked up as stored, case included: a key column under a
        # case-insensitive collation (MySQL's default, SQL Server's) finds one record for
        # another, or refuses a new one as a duplicate of one that differs in case.
        lower = open_ticket(self.store, "T-a", requester="ada", subject="lower")
        upper = open_ticket(self.store, "T-A", requester="Ada", subject="upper")
        assert [self.store.load(t).subject for t in ("T-a", "T-A")] == ["lower", "upper"], (
            "T-a and T-A are two tickets"
        )
        upper = change(self.store, upper, commented("T-A", "x", at=T0 + MINUTE))
        assert self.store.load("T-a") == lower, "a write to T-A changed T-a"
        for missing in ("t-a", "t-A"):
            with raises(NotFound):
                self.store.load(missing)
            assert self.store.events(missing) == [], f"events({missing!r}) found a ticket"
        assert _ids(self.store.get_many(["t-a", "T-A", "T-a", "t-A"])) == ["T-A", "T-a"], (
            "get_many(['t-a', 'T-A', 'T-a', 't-A']) must find only T-A and T-a (ids compare "
            "exactly, case included)"
        )
        assert [len(self.store.events(t)) for t in ("T-a", "T-A")] == [1, 2], (
            "events('T-a') and events('T-A') must have 1 and 2 events: an append to T-A must not "
            "reach T-a"
        )
        assert self.store.requester_ticket_ids("ada") == ["T-a"], (
            "requester_ticket_ids('ada') must be ['T-a']: requester ids compare exactly, case "
            "included"
        )
        assert _ids(self.store.requester_history("Ada")) == ["T-A"], (
            "requester_history('Ada') must hold T-A only: requester ids compare exactly, case "
            "included"
        )
        assert self.store.query(TicketQuery(requester="ADA")).total == 0, (
            "query(TicketQuery(requester='ADA')) must match nothing: requester ids compare exactly"
        )
        with raises(NotFound):
            self.store.ack_outbox("mail", ["t-a:1"])
        self.store.save_requester(Requester(id="Ada", name="Upper"))
        self.store.save_requester(Requester(id="ada", name="Lower"))
        assert self.store.get_requester("Ada").name == "Upper", (
            "get_requester('Ada') must return the record saved as 'Ada' (name 'Upper'), not the "
            "one saved as 'ada'"
        )
        assert self.store.get_requester("ada").name == "Lower", (
            "get_requester('ada') must return the record saved as 'ada' (name 'Lower'), not the "
            "one saved as 'Ada'"
        )
        with raises(NotFound):
            self.store.get_requester("ADA")
        self.store.delete_requester("ADA")
        assert self.store.get_requester("Ada").name == "Upper", (
            "delete_requester('ADA') must not delete the requester 'Ada': ids compare exactly"
        )
        self.store.set_cursor("rr:Desk", 5)
        self.store.set_cursor("rr:desk", 7)
        assert [self.store.get_cursor(k) for k in ("rr:Desk", "rr:desk", "RR:DESK")] == [5, 7, 0], (
            "get_cursor of 'rr:Desk', 'rr:desk', 'RR:DESK' after set_cursor('rr:Desk', 5) and "
            "set_cursor('rr:desk', 7) must be 5, 7, 0: cursor keys compare exactly"
        )
        if isinstance(self.store, CursorClaims):
            assert self.store.claim_cursor("seen:M1", 1), (
                "claim_cursor('seen:M1', 1) of an unset cursor must return True"
            )
            assert self.store.claim_cursor("seen:m1", 2), "a claim lost to another key's"
            assert (self.store.get_cursor("seen:M1"), self.store.get_cursor("seen:m1")) == (1, 2), (
                "get_cursor('seen:M1'), get_cursor('seen:m1') after claiming them with 1 and 2 "
                "must be (1, 2): cursor keys compare exactly"
            )
        self.store.save_article(self._article("KB-a", title="Lower"), expected_version=0)
        self.store.save_article(self._article("KB-A", title="Upper"), expected_version=0)
        assert self.store.get_article("KB-a").title == "Lower", (
            "get_article('KB-a') must return the article saved as 'KB-a' (title 'Lower'): article "
            "ids compare exactly"
        )
        assert self.store.get_article("KB-A").title == "Upper", (
            "get_article('KB-A') must return the article saved as 'KB-A' (title 'Upper'): article "
            "ids compare exactly"
        )
        with raises(NotFound):
            self.store.get_article("kb-a")

    def test_numbers_are_unique_and_increasing(self) -> None:
        numbers = [self.store.allocate_number() for _ in range(20)]
        assert numbers == sorted(numbers), (
            f"allocate_number() called 20 times must hand out increasing numbers, got {numbers}"
        )
        assert len(set(numbers)) == 20, (
            f"allocate_number() called 20 times must hand out 20 different numbers, got {numbers}"
        )
        assert numbers[0] >= 1, f"allocate_number() must start at 1 or above, got {numbers[0]}"

    def test_numbers_allocated_at_once_are_all_different(self) -> None:
        peers = [self._peer() for _ in range(self.workers)]
        got: list[list[int]] = [[] for _ in peers]

        def work(index: int, barrier: threading.Barrier) -> None:
            barrier.wait()
            for _ in range(25):
                got[index].append(peers[index].allocate_number())

        _together(work, len(peers), peers, lines=True)
        numbers = [number for mine in got for number in mine]
        assert len(set(numbers)) == len(numbers), "a number was handed out twice"
        for mine in got:
            assert mine == sorted(mine), (
                "allocate_number() on one handle must hand out increasing numbers while others "
                f"allocate too, got {mine}"
            )

    def test_stale_write_conflicts_and_changes_nothing(self) -> None:
        ticket = open_ticket(self.store, "T-1")
        first = change(self.store, ticket, commented("T-1", "one", at=T0 + MINUTE))
        late = commented("T-1", "two", at=T0 + 2 * MINUTE)
        with raises(ConflictError) as caught:
            self.store.append(
                "T-1", expected_version=1, events=[late], snapshot=apply_event(ticket, late)
            )
        error = caught[0]
        assert isinstance(error, ConflictError)
        assert (error.ticket_id, error.expected, error.actual) == ("T-1", 1, 2), (
            "append('T-1', expected_version=1) at version 2 must raise "
            "ConflictError(ticket_id='T-1', expected=1, actual=2), got "
            f"ticket_id={error.ticket_id!r}, expected={error.expected!r}, actual={error.actual!r}"
        )
        assert self.store.load("T-1") == first, (
            "load('T-1') after a refused stale append() must return the snapshot before it"
        )
        assert len(self.store.events("T-1")) == 2, (
            "events('T-1') after a refused stale append() must still hold 2 events"
        )
        assert len(list(self.store.event_stream())) == 2, (
            "event_stream() after a refused stale append() must still hold 2 events"
        )
        assert [i.id for i in self.store.claim_outbox("mail", now=T0)] == ["T-1:1", "T-1:2"], (
            "claim_outbox('mail') after a refused stale append() must hand out the items of "
            "versions 1 and 2 only"
        )

    def test_concurrent_appends_at_one_version_have_one_winner(self) -> None:
        # Every handle loads the ticket at version 1 and appends one event (every other
        # round two): the version check and the write of every event and the snapshot
        # are one step, so exactly one append gets through.
        peers = [self._peer() for _ in range(self.workers)]
        winners: dict[str, Ticket] = {}
        for round_ in range(_RACE_ROUNDS):
            ticket_id = f"T-{round_}"
            open_ticket(self.store, ticket_id)
            won: list[Ticket] = []
            refused: list[ConflictError] = []
            size = 1 + round_ % 2

            def work(
                index: int,
                barrier: threading.Barrier,
                ticket_id: str = ticket_id,
                won: list[Ticket] = won,
                refused: list[ConflictError] = refused,
                size: int = size,
            ) -> None:
                store = peers[index]
                base = store.load(ticket_id)
                replies = [
                    commented(
                        ticket_id,
                        f"worker {index}, part {part}",
                        at=T0 + (index + 1) * MINUTE + part * timedelta(seconds=1),
                    )
                    for part in range(size)
                ]
                snapshot = base
                for reply in replies:
                    snapshot = apply_event(snapshot, reply)
                barrier.wait()
                try:
                    store.append(
                        ticket_id,
                        expected_version=base.version,
                        events=replies,
                        snapshot=snapshot,
                    )
                except ConflictError as error:
                    refused.append(error)
                else:
                    won.append(snapshot)

            _together(work, len(peers), peers, lines=True)
            assert len(won) == 1, f"{len(won)} appends at version 1 of {ticket_id} got through"
            refusals = [(e.expected, e.actual) for e in refused]
            assert refusals == [(1, 1 + size)] * (len(peers) - 1), (
                f"of {len(peers)} concurrent append()s at version 1 of {ticket_id}, the losers "
                f"must raise ConflictError(expected=1, actual={1 + size}), got (expected, actual) "
                f"= {[(e.expected, e.actual) for e in refused]}"
            )
            winners[ticket_id] = won[0]
        reader = self._peer()  # a handle that has read nothing yet
        for ticket_id, winner in winners.items():
            history = reader.events(ticket_id)
            assert len(history) == winner.version, (
                f"events({ticket_id!r}) on another handle after the race must hold "
                f"{winner.version} events (the winner's), got {len(history)}: {history!r}"
            )
            assert replay(history) == reader.load(ticket_id) == winner, (
                f"replay(events({ticket_id!r})), load({ticket_id!r}) on another handle and the "
                "winner's snapshot must be equal"
            )
        streamed = sorted(e.ticket_id for _, e in reader.event_stream())
        assert streamed == sorted(t for t, w in winners.items() for _ in range(w.version)), (
            "event_stream() after the races must hold the events of the winning appends only, one "
            "per version"
        )
        expected = sorted(
            f"{ticket_id}:{v}" for ticket_id, w in winners.items() for v in range(1, w.version + 1)
        )
        items = reader.claim_outbox("audit", now=T0, limit=100)
        assert sorted(i.id for i in items) == expected, (
            "claim_outbox('audit') after the races must hand out one item per version of each "
            "ticket, the winners' only"
        )

    def test_readers_racing_appends_miss_no_event(self) -> None:
        # Writers append while a reader follows the event stream and a consumer claims
        # and acks the outbox: positions become visible in order, so neither passes over
        # a position that shows up later.
        writers = [self._peer() for _ in range(max(self.workers - 2, 1))]
        reader, consumer = self._peer(), self._peer()
        finished = threading.Event()
        left = [len(writers)]
        guard = threading.Lock()
        followed: list[int] = []
        acked: list[str] = []

        def write(index: int) -> None:
            try:
                ticket = open_ticket(writers[index], f"T-{index}")
                for n in range(_APPENDS):
                    reply = commented(ticket.id, f"n{n}", at=T0 + (n + 1) * MINUTE)
                    ticket = change(writers[index], ticket, reply)
                    _pause(0.0005)  # the readers catch up now and then
            finally:
                with guard:
                    left[0] -= 1
                    if not left[0]:
                        finished.set()

        def follow() -> None:
            last = 0
            while True:
                done = finished.is_set()  # then one more read sees every write
                seen = len(followed)
                for position, _ in reader.event_stream(after=last):
                    followed.append(position)
                    last = position
                if done:
                    return
                if len(followed) == seen:
                    _pause(0.002)  # nothing new: let the writers write

        def consume() -> None:
            while True:
                done = finished.is_set()
                batch = consumer.claim_outbox("mail", now=T0, limit=5)
                consumer.ack_outbox("mail", [i.id for i in batch])
                acked.extend(i.id for i in batch)
                if done and not batch:
                    return
                if not batch:
                    _pause(0.002)

        def work(index: int, barrier: threading.Barrier) -> None:
            barrier.wait()
            if index < len(writers):
                write(index)
            elif index == len(writers):
                follow()
            else:
                consume()

        _together(work, len(writers) + 2, [*writers, reader, consumer])
        stream = list(self._peer().event_stream())
        assert len(stream) == (_APPENDS + 1) * len(writers), (
            f"event_stream() after {len(writers)} writers appended {_APPENDS + 1} events each must "
            f"hold {(_APPENDS + 1) * len(writers)} events, got {len(stream)}"
        )
        assert followed == [p for p, _ in stream], "the stream passed over a position"
        ids = sorted(f"T-{i}:{v}" for i in range(len(writers)) for v in range(1, _APPENDS + 2))
        assert sorted(acked) == ids, "the outbox passed over an item"

    def test_an_ack_racing_an_append_passes_over_nothing(self) -> None:
        # A consumer claims everything and acks it while another handle appends; round
        # by round the append starts a little later, so that its commit falls in every
        # part of the claim and the ack once. An ack moves the consumer past what it
        # acked, never past the event appended meanwhile.
        writer, consumer = self._peer(), self._peer()
        ticket = open_ticket(writer, "T-1")
        took: list[float] = []

        def measure(index: int, barrier: threading.Barrier) -> None:
            for _ in range(2):  # the second time, as it will be in the race
                started = time.perf_counter()
                batch = consumer.claim_outbox("mail", now=T0, limit=100)
                consumer.ack_outbox("mail", [i.id for i in batch])
                took.append(time.perf_counter() - started)

        _together(measure, 1, [writer, consumer])
        seen = ["T-1:1"]
        for round_ in range(_SWEEP):
            reply = commented("T-1", f"n{round_}", at=T0 + (round_ + 1) * MINUTE)
            latest: list[Ticket] = []

            def work(
                index: int,
                barrier: threading.Barrier,
                reply: Event = reply,
                latest: list[Ticket] = latest,
                ticket: Ticket = ticket,
                delay: float = 1.5 * took[-1] * round_ / _SWEEP,
            ) -> None:
                barrier.wait()
                if index == 0:
                    batch = consumer.claim_outbox("mail", now=T0, limit=100)
                    consumer.ack_outbox("mail", [i.id for i in batch])
                    seen.extend(i.id for i in batch)
                else:
                    _pause(delay)
                    latest.append(change(writer, ticket, reply))

            _together(work, 2, [writer, consumer])
            ticket = latest[0]
        seen.extend(i.id for i in consumer.claim_outbox("mail", now=T0, limit=100))
        assert sorted(seen) == sorted(f"T-1:{v}" for v in range(1, _SWEEP + 2)), (
            "claim_outbox('mail') and ack_outbox('mail') racing appends passed over or repeated an "
            "item: every version of T-1 must be claimed once"
        )

    def test_creating_an_existing_ticket_conflicts(self) -> None:
        open_ticket(self.store, "T-1")
        event = opened("T-1", 99, subject="Again")
        with raises(ConflictError) as caught:
            self.store.append("T-1", expected_version=0, events=[event], snapshot=replay([event]))
        assert isinstance(caught[0], ConflictError)
        assert caught[0].actual == 1, (
            "append('T-1', expected_version=0) of an existing ticket must raise ConflictError with "
            f"actual=1, got actual={caught[0].actual!r}"
        )
        assert self.store.load("T-1").subject == "Ticket T-1", (
            "load('T-1') after a refused second TicketOpened must still return the first ticket "
            "(subject 'Ticket T-1')"
        )

    def test_writing_to_a_missing_ticket_conflicts(self) -> None:
        ticket = replay([opened("T-9", 9)])
        reply = commented("T-9", "x", at=T0 + MINUTE)
        with raises(ConflictError) as caught:
            self.store.append(
                "T-9", expected_version=1, events=[reply], snapshot=apply_event(ticket, reply)
            )
        assert isinstance(caught[0], ConflictError)
        assert caught[0].actual == 0, (
            "append('T-9', expected_version=1) of a missing ticket must raise ConflictError with "
            f"actual=0, got actual={caught[0].actual!r}"
        )
        with raises(NotFound):
            self.store.load("T-9")

    def test_invalid_appends_are_refused_and_leave_nothing(self) -> None:
        event = opened("T-1", 1)
        good = replay([event])
        later = apply_event(good, commented("T-1", "x", at=T0 + MINUTE))
        bad_calls: list[tuple[str, dict[str, Any]]] = [
            ("snapshot.version", {"events": [event], "snapshot": later}),
            ("events", {"events": [], "snapshot": good}),
            ("events[0]", {"events": [commented("T-1", "x", at=T0)], "snapshot": good}),
            ("ticket_id", {"events": [opened("T-2", 2)], "snapshot": good}),
            ("wake_at", {"events": [event], "snapshot": good, "wake_at": datetime(2026, 1, 1)}),  # noqa: DTZ001
            ("snapshot", {"events": [event], "snapshot": {"id": "T-1"}}),
        ]
        for field, kwargs in bad_calls:
            with raises(ValidationError) as caught:
                self.store.append("T-1", expected_version=0, **kwargs)
            assert isinstance(caught[0], ValidationError)
            assert field in (caught[0].field or ""), (
                f"append('T-1', expected_version=0, ...) with a bad {field} must raise "
                f"ValidationError naming field {field!r}, got field={caught[0].field!r}: "
                f"{caught[0]}"
            )
        with raises(ValidationError):
            self.store.append("T-1", expected_version=-1, events=[event], snapshot=good)
        with raises(NotFound):
            self.store.load("T-1")
        assert list(self.store.event_stream()) == [], (
            "event_stream() after refused append()s must be empty"
        )
        assert self.store.claim_outbox("mail", now=T0) == [], (
            "claim_outbox('mail') after refused append()s must hand out nothing"
        )

    def test_strange_text_round_trips_byte_for_byte(self) -> None:
        body = ("0123456789abcdef" * 65536)[:1_000_000] + NASTY
        ticket = open_ticket(
            self.store,
            "T-1",
            subject=NASTY,
            description=NASTY * 3,
            category=NASTY,
            asset=NASTY,
            tags=(NASTY, "plain"),
            fields={"x": NASTY},
        )
        latest = change(self.store, ticket, commented("T-1", body, at=T0 + MINUTE))
        loaded = self.store.load("T-1")
        assert loaded == latest, (
            "load('T-1') of a ticket with NUL bytes, quotes, SQL and non-ASCII text must return "
            "the snapshot appended, byte for byte"
        )
        assert loaded.subject == NASTY, (
            f"load('T-1').subject must come back byte for byte: expected {NASTY!r}, got "
            f"{loaded.subject!r}"
        )
        assert self.store.events("T-1")[1] == commented("T-1", body, at=T0 + MINUTE), (
            "events('T-1')[1], a comment of a million characters and strange text, must come back "
            "as appended"
        )
        comment = self.store.events("T-1")[1]
        assert isinstance(comment, CommentAdded), (
            f"events('T-1')[1] must come back as a CommentAdded, got {type(comment).__name__}"
        )
        assert comment.body == body, (
            "events('T-1')[1].body, a million characters and strange text, must come back byte for "
            "byte"
        )
        requester = Requester(
            id="r-1", name=NASTY, email="Bob@Example.org", attributes={"note": NASTY}
        )
        self.store.save_requester(requester)
        assert self.store.get_requester("r-1") == requester, (
            "get_requester('r-1') of a requester with strange text must return it as saved"
        )
        self.store.save_config_document({"name": NASTY, "list": [NASTY, 1, None]})
        assert self.store.load_config_document() == {"name": NASTY, "list": [NASTY, 1, None]}, (
            "load_config_document() of a document with strange text must return it as saved"
        )
        for query in (
            TicketQuery(category=NASTY),
            TicketQuery(asset=NASTY),
            TicketQuery(tag=NASTY),
            TicketQuery(text="nul \x00 percent % under _"),
            TicketQuery(text="\ue000 É"),
        ):
            assert _ids(self.store.query(query).items) == ["T-1"], (
                f"query({query!r}) must find T-1, whose fields hold NUL bytes, quotes, % and _ and "
                "non-ASCII text: these match literally"
            )
        for query in (
            TicketQuery(category=NASTY[:-1]),
            TicketQuery(tag="%"),
            TicketQuery(text="0\x00"),
            TicketQuery(text="%%"),
            TicketQuery(text="nul _ "),
        ):
            assert self.store.query(query).total == 0, (
                f"query({query!r}) must match nothing: %, _ and NUL are literal characters, not "
                "patterns"
            )

    def test_instants_keep_their_microseconds(self) -> None:
        # A desk's clock reads to the microsecond: a store that keeps milliseconds (a BSON
        # date, DATETIME(3)) or seconds breaks replay(history) == load(), and wakes early.
        at = T0 + timedelta(seconds=1, microseconds=234_567)
        ticket = open_ticket(self.store, "T-1", at=at)
        reply = commented("T-1", "On it", at=at + _ONE_US)
        started = SlaClockStarted(
            ticket_id="T-1",
            at=at + 2 * _ONE_US,
            by=AGENT,
            clock=sla_clock(at + HOUR + 3 * _ONE_US, at=at + 2 * _ONE_US),
        )
        wake_at = at + 999 * _ONE_US
        latest = change(self.store, ticket, reply, started, wake_at=wake_at)
        history = [opened("T-1", ticket.number, at=at), reply, started]
        assert self.store.events("T-1") == history, (
            "events('T-1') must give back each event's instant to the microsecond (T0 + "
            "1.234567 s, then 1 and 2 microseconds later), not rounded to the millisecond"
        )
        assert [e for _, e in self.store.event_stream()] == history, (
            "event_stream() must give back each event's instant to the microsecond, not "
            "rounded to the millisecond"
        )
        assert self.store.load("T-1") == latest, (
            "load('T-1') must give back the snapshot's instants (created_at, updated_at, its "
            "SLA clock's deadline) to the microsecond, not rounded to the millisecond"
        )
        assert list(self.store.query(TicketQuery()).items) == [latest], (
            "query(TicketQuery()) must give back the snapshot's instants to the microsecond"
        )
        assert self.store.due(wake_at - _ONE_US) == [], (
            "due(T0 + 1.235565 s) must list no ticket: T-1 wakes at T0 + 1.235566 s, compared "
            "to the microsecond"
        )
        assert self.store.due(wake_at) == ["T-1"], (
            "due(T0 + 1.235566 s) must list T-1, which wakes then"
        )
        article = self._article("KB-1", created_at=at, updated_at=at + _ONE_US)
        self.store.save_article(article, expected_version=0)
        assert self.store.get_article("KB-1") == article, (
            "get_article('KB-1') must give back created_at and updated_at to the microsecond"
        )

    def test_sla_clocks_keep_the_thresholds_they_warned_of(self) -> None:
        # A clock's next warning is the first threshold above the highest it warned of:
        # a store that drops that value (a column per clock field, written before it
        # existed) has the clock warn of a threshold again after a reconfiguration.
        ticket = open_ticket(self.store, "T-1")
        running = sla_clock(T0 + 10 * HOUR, at=T0)
        warned = attrs.evolve(
            running,
            warn_at=T0 + 9 * HOUR,
            warnings_sent=2,
            warned_threshold=0.75,
            warned_at=T0 + 7.5 * HOUR,
        )
        started = SlaClockStarted(ticket_id="T-1", at=T0, by=AGENT, clock=running)
        warning = SlaWarning(
            ticket_id="T-1", at=T0 + 7.5 * HOUR, by=AGENT, clock=warned, threshold=0.75
        )
        latest = change(self.store, ticket, started, warning)
        assert self.store.load("T-1").sla["resolution"] == latest.sla["resolution"] == warned, (
            "load('T-1') must give back the SLA clock as stored, its warned_threshold 0.75 and "
            "warnings_sent 2 included"
        )
        assert self.store.events("T-1")[-1] == warning, (
            "events('T-1') must give back the SlaWarning's clock as stored, its "
            "warned_threshold 0.75 included"
        )

    def test_text_search_is_a_case_insensitive_substring(self) -> None:
        open_ticket(self.store, "T-1", subject="Printer jammed", description="Floor 3\nRoom A")
        open_ticket(self.store, "T-2", subject="VPN down", description="STRASSE ΣΊΣΥΦΟΣ 0")
        open_ticket(self.store, "T-3", subject="x", description="a\x00b and \ue000 1")
        cases = {
            "printer": ["T-1"],
            "JAM": ["T-1"],
            "3\nroom": ["T-1"],
            "straße": ["T-2"],
            "σίσυφος": ["T-2"],
            "vpn down": ["T-2"],
            "n": ["T-1", "T-2", "T-3"],
            "0": ["T-2"],
            "\x00b": ["T-3"],
            "0b": [],
            "\ue000 1": ["T-3"],
            "1": ["T-3"],
            "missing": [],
        }
        for text, expected in cases.items():
            page = self.store.query(TicketQuery(text=text))
            assert _ids(page.items) == expected, (
                f"query(TicketQuery(text={text!r})) must match a case-folded substring of subject "
                f"and description: expected {expected}, got {_ids(page.items)}"
            )

    def test_text_search_keeps_subject_and_description_apart(self) -> None:
        # The searched text is the subject, a newline and the description (search_text):
        # a query never matches across the two as if they were one word or one line.
        open_ticket(self.store, "T-1", subject="Printer jam", description="floor 3")
        open_ticket(self.store, "T-2", subject="Printer", description="jam floor 3")
        cases = {
            "jamfloor": [],
            "jam floor": ["T-2"],
            "jam\nfloor": ["T-1"],
            "printerjam": [],
            "printer\njam": ["T-2"],
            "jam": ["T-1", "T-2"],
        }
        for text, expected in cases.items():
            assert _ids(self.store.query(TicketQuery(text=text)).items) == expected, (
                f"query(TicketQuery(text={text!r})) must search the subject and the description as "
                f"two lines: expected {expected}"
            )

    def test_bulk_import_when_the_store_offers_it(self) -> None:
        importer = getattr(self.store, "import_tickets", None)
        if importer is None:
            return  # optional: only the stores of this library promise import_tickets
        assert importer([]) == 0, "import_tickets([]) must import nothing and return 0"
        assert importer(iter(())) == 0, (
            "import_tickets() of an empty iterator must import nothing and return 0"
        )
        first = opened("T-1", 1, tags=("vip",))
        reply = commented("T-1", "hi", at=T0 + MINUTE)
        second = opened("T-2", 2, category="Hardware")
        link = linked("T-2", "T-1", "duplicate_of")
        one = apply_event(replay([first]), reply)
        two = replay([second, link])
        # A wake-up written in another zone is the same instant: T0.
        imported = importer([([first, reply], one), ([second, link], two, T0.astimezone(_TOKYO))])
        assert imported == 2, (
            "import_tickets() of two tickets must return 2"
        )
        assert self.store.get_many(["T-1", "T-2"]) == [one, two], (
            "get_many(['T-1', 'T-2']) after import_tickets() must return the snapshots imported"
        )
        assert self.store.events("T-1") == [first, reply], (
            "events('T-1') after import_tickets() must return the events imported"
        )
        assert self.store.due(T0) == ["T-2"], (
            "due(T0) after import_tickets() with T-2's wake-up at T0 (given in Tokyo time) must "
            "list T-2"
        )
        assert _ids(self.store.query(TicketQuery(tag="vip")).items) == ["T-1"], (
            "query(TicketQuery(tag='vip')) after import_tickets() must find T-1"
        )
        assert _ids(self.store.query(TicketQuery(links_to="T-1")).items) == ["T-2"], (
            "query(TicketQuery(links_to='T-1')) after import_tickets() must find T-2"
        )
        assert [i.id for i in self.store.claim_outbox("mail", now=T0)] == [
            "T-1:1",
            "T-1:2",
            "T-2:1",
            "T-2:2",
        ], "claim_outbox('mail') after import_tickets() must hand out one item per imported event"
        third = opened("T-3", 3)
        with raises(ConflictError):
            importer([([third], replay([third])), ([second, link], two)])
        with raises(ConflictError):
            importer([([third], replay([third])), ([third], replay([third]))])
        with raises(ValidationError):
            importer([([reply], one)])
        assert self.store.get_many(["T-3"]) == [], (
            "get_many(['T-3']) after a refused import_tickets() must return []: an import is all "
            "or nothing"
        )
        assert len(list(self.store.event_stream())) == 4, (
            "event_stream() after refused import_tickets() must still hold the 4 events imported "
            "before"
        )

    def test_numbers_allocated_after_a_bulk_import_are_new(self) -> None:
        """Imported tickets keep the numbers they had (a legacy system's); a ticket opened
        afterwards must not get one of them, or mail about it would reach the wrong one."""
        importer = getattr(self.store, "import_tickets", None)
        if importer is None:
            return  # optional: only the stores of this library promise import_tickets
        before = self.store.allocate_number()
        legacy = [opened(f"L-{n}", before + n) for n in (1, 1000, 7)]
        assert importer(([event], replay([event])) for event in legacy) == 3, (
            "import_tickets() of three tickets must return 3"
        )
        fresh = self.store.allocate_number()
        assert fresh > before + 1000, (
            f"allocate_number() after importing number {before + 1000} must hand out a greater "
            f"number, got {fresh}"
        )
        assert _ids(self.store.query(TicketQuery(number=fresh)).items) == [], (
            f"query(TicketQuery(number={fresh})) must find nothing: allocate_number() handed out "
            "the number of an imported ticket"
        )
        smaller = opened("L-small", before + 2)
        assert importer([([smaller], replay([smaller]))]) == 1, (
            "import_tickets() of one ticket must return 1"
        )
        assert self.store.allocate_number() > fresh, (  # never goes back
            f"allocate_number() after importing a smaller number must not go back below {fresh}"
        )
        # A number finds one ticket (a mail's [#n], a retried request), never two.
        taken = opened("L-taken", before + 7)
        with raises(ValidationError):
            importer([([taken], replay([taken]))])
        twins = [opened(f"L-twin-{n}", before + 3) for n in (1, 2)]
        with raises(ValidationError):
            importer([([twin], replay([twin])) for twin in twins])
        assert self.store.get_many(["L-taken", "L-twin-1", "L-twin-2"]) == [], (
            "import_tickets() of a ticket carrying the number of a stored ticket, or of "
            "two tickets carrying one number, must be refused (ValidationError) and import "
            "nothing"
        )

    # -- queries ------------------------------------------------------------------------

    def _populate(self) -> dict[str, Ticket]:
        s = self.store
        out: dict[str, Ticket] = {}
        a = open_ticket(
            s,
            "T-a",
            requester="r-1",
            category="Hardware",
            asset="PC-1",
            tags=("printer", "vip"),
            priority=Priority.HIGH,
            description="toner low",
        )
        out["T-a"] = change(
            s,
            a,
            TicketRouted(
                ticket_id="T-a", at=T0 + MINUTE, by=AGENT, changes=Changes(team="desk", tier="L1")
            ),
            Assigned(ticket_id="T-a", at=T0 + MINUTE, by=AGENT, assignee="a-1"),
            moved("T-a", "open", StatusCategory.OPEN, at=T0 + MINUTE),
            SlaClockStarted(
                ticket_id="T-a",
                at=T0 + MINUTE,
                by=AGENT,
                clock=sla_clock(T0 + timedelta(hours=2), at=T0 + MINUTE),
            ),
            wake_at=T0 + timedelta(hours=1),
        )
        b = open_ticket(
            s,
            "T-b",
            requester="r-2",
            organization="Acme",
            category="Software",
            tags=("vpn",),
            priority=Priority.LOW,
            at=T0 + MINUTE,
            subject="VPN drops",
        )
        out["T-b"] = b
        c = open_ticket(
            s,
            "T-c",
            requester="r-1",
            organization="Acme",
            priority=Priority.CRITICAL,
            at=T0 + 2 * MINUTE,
            subject="Server down",
        )
        out["T-c"] = change(
            s,
            c,
            TicketRouted(
                ticket_id="T-c",
                at=T0 + 3 * MINUTE,
                by=AGENT,
                changes=Changes(team="ops", tier="L2"),
            ),
            Assigned(ticket_id="T-c", at=T0 + 3 * MINUTE, by=AGENT, assignee="a-2"),
            SlaClockStarted(
                ticket_id="T-c",
                at=T0 + 3 * MINUTE,
                by=AGENT,
                clock=sla_clock(T0 + timedelta(minutes=30), at=T0 + 3 * MINUTE),
            ),
            SlaClockStopped(
                ticket_id="T-c",
                at=T0 + 4 * MINUTE,
                by=AGENT,
                clock=sla_clock(T0 + timedelta(minutes=30), at=T0 + 3 * MINUTE, stopped=True),
            ),
            moved("T-c", "solved", StatusCategory.SOLVED, at=T0 + 4 * MINUTE),
        )
        d = open_ticket(
            s,
            "T-d",
            requester="r-3",
            organization="Globex",
            at=T0 + 2 * MINUTE,
            subject="Badge",
            description="Straße",
        )
        out["T-d"] = change(
            s,
            d,
            OwnerChanged(ticket_id="T-d", at=T0 + 5 * MINUTE, by=AGENT, owner="a-1"),
            moved("T-d", "waiting", StatusCategory.PENDING, at=T0 + 5 * MINUTE),
            SlaClockStarted(
                ticket_id="T-d",
                at=T0 + 5 * MINUTE,
                by=AGENT,
                clock=sla_clock(T0 + timedelta(hours=3), at=T0 + 5 * MINUTE),
            ),
        )
        e = open_ticket(
            s,
            "T-e",
            requester="r-2",
            asset="PC-2",
            tags=("printer",),
            at=T0 + 3 * MINUTE,
            priority=Priority.HIGH,
            subject="Printer again",
        )
        out["T-e"] = change(
            s,
            e,
            Assigned(ticket_id="T-e", at=T0 + 6 * MINUTE, by=AGENT, assignee="a-1"),
            moved("T-e", "closed", StatusCategory.CLOSED, at=T0 + 6 * MINUTE),
        )
        return out

    def test_an_anonymised_ticket_belongs_to_no_organization(self) -> None:
        # As retention leaves a ticket: its requester is "anonymised", its organization
        # is still in the snapshot, but it is nobody's (``ticket_organization``).
        open_ticket(self.store, "T-1", requester="anonymised", organization="Acme")
        open_ticket(self.store, "T-2", requester="r-2", organization="Acme")
        for query in (
            TicketQuery(organization="Acme"),
            TicketQuery(scope=TicketScope(organization="Acme")),
            TicketQuery(scope=TicketScope(requester="r-9", organization="Acme")),
        ):
            assert _ids(self.store.query(query).items) == ["T-2"], (
                f"query({query!r}) must find T-2 only: an anonymised ticket belongs to no "
                "organization"
            )

    def test_each_filter_selects_the_right_tickets(self) -> None:
        tickets = self._populate()
        cases: list[tuple[TicketQuery, list[str]]] = [
            (TicketQuery(), ["T-a", "T-b", "T-c", "T-d", "T-e"]),
            (TicketQuery(status="open"), ["T-a"]),
            (TicketQuery(status=("new", "waiting")), ["T-b", "T-d"]),
            (TicketQuery(status_category="solved"), ["T-c"]),
            (TicketQuery(status_category=("pending", "closed")), ["T-d", "T-e"]),
            (TicketQuery(category="Hardware"), ["T-a"]),
            (TicketQuery(category=("Hardware", "Software")), ["T-a", "T-b"]),
            (TicketQuery(team="desk"), ["T-a"]),
            (TicketQuery(tier="L2"), ["T-c"]),
            (TicketQuery(assignee="a-1"), ["T-a", "T-e"]),
            (TicketQuery(owner="a-1"), ["T-a", "T-d", "T-e"]),
            (TicketQuery(requester="r-2"), ["T-b", "T-e"]),
            (TicketQuery(organization="Acme"), ["T-b", "T-c"]),
            (TicketQuery(organization=("Globex", "Acme")), ["T-b", "T-c", "T-d"]),
            (TicketQuery(organization="acme"), []),
            (TicketQuery(asset="PC-2"), ["T-e"]),
            (TicketQuery(tag="printer"), ["T-a", "T-e"]),
            (TicketQuery(tag=("vpn", "vip")), ["T-a", "T-b"]),
            (TicketQuery(priority="high"), ["T-a", "T-e"]),
            (TicketQuery(priority=("critical", "low")), ["T-b", "T-c"]),
            (TicketQuery(unassigned=True), ["T-b", "T-d"]),
            (TicketQuery(sla_deadline_before=T0 + timedelta(hours=2, seconds=1)), ["T-a"]),
            (TicketQuery(sla_deadline_before=T0 + timedelta(hours=2)), []),
            (TicketQuery(sla_deadline_before=T0 + timedelta(days=1)), ["T-a", "T-d"]),
            (TicketQuery(updated_since=T0 + 5 * MINUTE), ["T-d", "T-e"]),
            # Instants compare as instants, whatever their zone.
            (TicketQuery(updated_since=(T0 + 5 * MINUTE).astimezone(_NEW_YORK)), ["T-d", "T-e"]),
            (
                TicketQuery(
                    sla_deadline_before=(T0 + timedelta(hours=2, seconds=1)).astimezone(_TOKYO)
                ),
                ["T-a"],
            ),
            (TicketQuery(text="PRINTER"), ["T-e"]),
            (TicketQuery(text="toner"), ["T-a"]),
            (TicketQuery(active_only=True), ["T-a", "T-b", "T-d"]),
            (TicketQuery(active_only=True, tag="printer"), ["T-a"]),
            (TicketQuery(team="desk", unassigned=True, active_only=True), []),
            (TicketQuery(requester=("r-1", "r-3"), priority="medium"), ["T-d"]),
            (TicketQuery(number=tickets["T-c"].number), ["T-c"]),
            (TicketQuery(number=(tickets["T-e"].number, tickets["T-a"].number)), ["T-a", "T-e"]),
            (TicketQuery(number=10_000), []),
            # Closed tickets by when they closed (what a retention pass reads).
            (TicketQuery(closed_before=T0 + 6 * MINUTE + timedelta(microseconds=1)), ["T-e"]),
            (TicketQuery(closed_before=T0 + 6 * MINUTE), []),
            (TicketQuery(closed_before=(T0 + 7 * MINUTE).astimezone(_TOKYO)), ["T-e"]),
            (TicketQuery(anonymised=False), ["T-a", "T-b", "T-c", "T-d", "T-e"]),
            (TicketQuery(anonymised=True), []),
            # A scope's conditions are alternatives; the other filters still all apply.
            (TicketQuery(scope=TicketScope(teams=("desk", "ops"))), ["T-a", "T-c"]),
            (TicketQuery(scope=TicketScope(unrouted=True)), ["T-b", "T-d", "T-e"]),
            (TicketQuery(scope=TicketScope(agent="a-1")), ["T-a", "T-d", "T-e"]),
            (
                TicketQuery(scope=TicketScope(teams=("ops",), agent="a-1")),
                ["T-a", "T-c", "T-d", "T-e"],
            ),
            (
                TicketQuery(scope=TicketScope(teams=("ops",), agent="a-1"), tag="printer"),
                ["T-a", "T-e"],
            ),
            # A requester's view: their own tickets and their organization's.
            (TicketQuery(scope=TicketScope(requester="r-1")), ["T-a", "T-c"]),
            (
                TicketQuery(scope=TicketScope(requester="r-3", organization="Acme")),
                ["T-b", "T-c", "T-d"],
            ),
            (
                TicketQuery(
                    scope=TicketScope(requester="r-2", organization="Globex"),
                    status=("new", "waiting"),
                ),
                ["T-b", "T-d"],
            ),
            (TicketQuery(scope=TicketScope(organization="Initech")), []),
            (TicketQuery(scope=TicketScope(teams=("nowhere",), agent="a-9")), []),
            (TicketQuery(scope=TicketScope()), []),
        ]
        for query, expected in cases:
            page = self.store.query(query)
            assert _ids(page.items) == expected, (
                f"query({query!r}) must find {expected}, got {_ids(page.items)}"
            )
            assert page.total == len(expected), (
                f"query({query!r}).total must count the {len(expected)} matches, got {page.total}"
            )
            assert page.next_offset is None, (
                f"query({query!r}) of every match on one page must have next_offset None, got "
                f"{page.next_offset}"
            )
            assert list(page.items) == [tickets[i] for i in expected], (
                f"query({query!r}) must return the stored snapshots of {expected}, equal field for "
                "field"
            )
            reference = [t.id for t in query.page(list(tickets.values())).items]
            assert reference == expected, (
                "the reference semantics, TicketQuery.page(), disagree with the suite for "
                f"{query!r}: {reference} (a bug of the suite)"
            )

    def test_text_filters_compare_exactly_and_lists_match_any_value(self) -> None:
        # Text compares as stored: no case folding, no trailing blanks dropped (as a
        # case-insensitive or padding SQL collation would); a list matches any value.
        tickets = self._populate()
        cases: list[tuple[TicketQuery, list[str]]] = [
            (TicketQuery(category="hardware"), []),
            (TicketQuery(category="HARDWARE"), []),
            (TicketQuery(category="Hardware "), []),
            (TicketQuery(category=" Hardware"), []),
            (TicketQuery(tag="VPN"), []),
            (TicketQuery(tag="vpn "), []),
            (TicketQuery(tag=("Printer", "VIP")), []),
            (TicketQuery(asset="pc-1"), []),
            (TicketQuery(asset="PC-1 "), []),
            (TicketQuery(team="Desk"), []),
            (TicketQuery(tier="l1"), []),
            (TicketQuery(assignee="A-1"), []),
            (TicketQuery(owner="a-1 "), []),
            (TicketQuery(requester="R-1"), []),
            (TicketQuery(status="Open"), []),
            (TicketQuery(organization="Acme "), []),
            (TicketQuery(scope=TicketScope(organization="ACME")), []),
            (TicketQuery(team=("desk", "ops")), ["T-a", "T-c"]),
            (TicketQuery(team=("desk", "nowhere")), ["T-a"]),
            (TicketQuery(team=("nowhere", "ops")), ["T-c"]),
            (TicketQuery(tier=("L1", "L2")), ["T-a", "T-c"]),
            (TicketQuery(tier=("L9", "L2")), ["T-c"]),
            (TicketQuery(assignee=("a-1", "a-2")), ["T-a", "T-c", "T-e"]),
            (TicketQuery(assignee=("a-9", "a-2")), ["T-c"]),
            (TicketQuery(owner=("a-2", "a-1")), ["T-a", "T-c", "T-d", "T-e"]),
            (TicketQuery(owner=("a-9", "a-2")), ["T-c"]),
            (TicketQuery(asset=("PC-1", "PC-2")), ["T-a", "T-e"]),
            (TicketQuery(asset=("PC-9", "PC-2")), ["T-e"]),
            (TicketQuery(category=("Software", "Hardware")), ["T-a", "T-b"]),
            (TicketQuery(tag=("nothing", "vpn")), ["T-b"]),
        ]
        for query, expected in cases:
            assert _ids(self.store.query(query).items) == expected, (
                f"query({query!r}) must find {expected}: text filters compare exactly (no case "
                "folding, no trimmed blanks) and a list matches any of its values"
            )
            assert self.store.query(query).total == len(expected), (
                f"query({query!r}).total must be {len(expected)}"
            )
            reference = [t.id for t in query.page(list(tickets.values())).items]
            assert reference == expected, (
                "the reference semantics, TicketQuery.page(), disagree with the suite for "
                f"{query!r}: {reference} (a bug of the suite)"
            )

    def test_closed_before_reads_when_a_closed_ticket_closed(self) -> None:
        # A closed ticket keeps the instant it closed while later events (a rating, a
        # note) move its updated_at; a reopened ticket is not closed, whenever it closed.
        closing = T0 + 2 * MINUTE
        tickets: list[Ticket] = []
        noted = open_ticket(self.store, "T-noted")
        noted_events: list[Event] = [
            moved("T-noted", "closed", StatusCategory.CLOSED, at=closing),
            commented("T-noted", "after the close", at=T0 + 30 * MINUTE, public=False),
        ]
        tickets.append(change(self.store, noted, *noted_events))
        reopened = open_ticket(self.store, "T-reopened")
        reopened_events: list[Event] = [
            moved("T-reopened", "closed", StatusCategory.CLOSED, at=closing),
            moved("T-reopened", "open", StatusCategory.OPEN, at=T0 + 4 * MINUTE),
        ]
        tickets.append(change(self.store, reopened, *reopened_events))
        again = open_ticket(self.store, "T-again")  # closed, reopened, closed again
        for event in (
            moved("T-again", "closed", StatusCategory.CLOSED, at=closing),
            moved("T-again", "open", StatusCategory.OPEN, at=T0 + 4 * MINUTE),
            moved("T-again", "closed", StatusCategory.CLOSED, at=T0 + 6 * MINUTE),
        ):
            again = change(self.store, again, event)
        tickets.append(again)
        solved = open_ticket(self.store, "T-solved")
        solved_at = moved("T-solved", "solved", StatusCategory.SOLVED, at=T0)
        tickets.append(change(self.store, solved, solved_at))
        cases = {
            closing: [],
            closing + _ONE_US: ["T-noted"],
            T0 + 6 * MINUTE: ["T-noted"],
            T0 + 6 * MINUTE + _ONE_US: ["T-again", "T-noted"],
            T0 + timedelta(days=1): ["T-again", "T-noted"],
        }
        for before, expected in cases.items():
            query = TicketQuery(closed_before=before, order_by="-number")
            assert sorted(_ids(self.store.query(query).items)) == expected, (
                f"query(TicketQuery(closed_before={before})) must find {expected}: tickets closed "
                "before it and still closed, by the instant they closed (not updated_at)"
            )
            assert sorted(_ids(query.page(tickets).items)) == expected, (
                "the reference semantics, TicketQuery.page(), disagree with the suite for "
                f"closed_before={before} (a bug of the suite)"
            )

    def test_anonymised_means_nothing_was_recorded_since(self) -> None:
        # ``anonymised=True`` keeps tickets whose latest snapshot says so: an event after
        # the anonymisation may carry personal data again, and clears it.
        ticket, events = self._secret_ticket()
        erased = TicketAnonymised(ticket_id="T-1", at=T0 + 2 * MINUTE, by=AGENT, reason="test")
        history = [*self._scrubbed(events), erased]
        anonymised = replay(history)
        self.store.anonymise(
            "T-1", expected_version=ticket.version, events=history, snapshot=anonymised
        )
        by_event = open_ticket(self.store, "T-2", requester="r-2")
        by_event = change(
            self.store,
            by_event,
            TicketAnonymised(ticket_id="T-2", at=T0 + MINUTE, by=AGENT, reason="retention"),
        )
        assert by_event.anonymised, (
            "a TicketAnonymised appended to T-2 must make its snapshot anonymised"
        )
        assert _ids(self.store.query(TicketQuery(anonymised=True)).items) == ["T-1", "T-2"], (
            "query(TicketQuery(anonymised=True)) must find T-1 (anonymise()) and T-2 (a "
            "TicketAnonymised appended)"
        )
        assert self.store.query(TicketQuery(anonymised=False)).total == 0, (
            "query(TicketQuery(anonymised=False)) must find nothing while both tickets are "
            "anonymised"
        )
        later = change(
            self.store, anonymised, commented("T-1", "Call me on 555", at=T0 + 3 * MINUTE)
        )
        assert not later.anonymised, (
            "a comment appended after the anonymisation must clear the snapshot's anonymised flag"
        )
        assert self.store.load("T-1") == later, (
            "load('T-1') after a comment appended to the anonymised ticket must return the "
            "snapshot appended"
        )
        assert _ids(self.store.query(TicketQuery(anonymised=True)).items) == ["T-2"], (
            "query(TicketQuery(anonymised=True)) after a comment on anonymised T-1 must find T-2 "
            "only"
        )
        assert _ids(self.store.query(TicketQuery(anonymised=False)).items) == ["T-1"], (
            "query(TicketQuery(anonymised=False)) after a comment on anonymised T-1 must find T-1"
        )
        change(self.store, by_event, moved("T-2", "closed", StatusCategory.CLOSED, at=T0 + HOUR))
        assert self.store.query(TicketQuery(anonymised=True)).total == 0, (
            "query(TicketQuery(anonymised=True)) must find nothing once both tickets had an event "
            "after their anonymisation"
        )
        assert _ids(self.store.query(TicketQuery(anonymised=False)).items) == ["T-1", "T-2"], (
            "query(TicketQuery(anonymised=False)) must find T-1 and T-2 once both had an event "
            "after their anonymisation"
        )

    def _linking(self) -> dict[str, Ticket]:
        """P-1, P-2, P-3 link to nothing; T-4 links to P-1 (``caused_by``) and to P-2
        (``duplicate_of``), T-5 to P-2 twice (two kinds), T-6 to P-9 (no such ticket),
        T-7 to nothing."""
        out = {tid: open_ticket(self.store, tid) for tid in ("P-1", "P-2", "P-3")}
        out["T-4"] = change(
            self.store,
            open_ticket(self.store, "T-4"),
            linked("T-4", "P-1"),
            linked("T-4", "P-2", "duplicate_of"),
        )
        out["T-5"] = change(
            self.store,
            open_ticket(self.store, "T-5"),
            linked("T-5", "P-2", "follow_up_of"),
            linked("T-5", "P-2"),
        )
        out["T-6"] = change(self.store, open_ticket(self.store, "T-6"), linked("T-6", "P-9"))
        out["T-7"] = open_ticket(self.store, "T-7")
        return out

    def _linking_to(self, *ids: str, **filters: Any) -> list[str]:
        page = self.store.query(TicketQuery(links_to=ids, order_by="number", **filters))
        assert page.total == len(page.items), (
            f"query(TicketQuery(links_to={ids!r}, ...)) returned {len(page.items)} tickets on a "
            f"page of every match but total={page.total}"
        )
        return _ids(page.items)

    def test_links_to_keeps_tickets_linking_to_any_of_the_ids(self) -> None:
        tickets = self._linking()
        assert self._linking_to("P-1") == ["T-4"], (
            "query(TicketQuery(links_to=('P-1',), order_by='number')) must return ['T-4'] (T-4 "
            "links to P-1)"
        )
        assert self._linking_to("P-2") == ["T-4", "T-5"], (  # T-5 once, for both its links
            "query(TicketQuery(links_to=('P-2',), order_by='number')) must return ['T-4', 'T-5'] "
            "(T-5 links to P-2 twice and must come once)"
        )
        assert self._linking_to("P-1", "P-2") == ["T-4", "T-5"], (  # T-4 once, for either
            "query(TicketQuery(links_to=('P-1', 'P-2'), order_by='number')) must return ['T-4', "
            "'T-5'] (a ticket linking to both comes once)"
        )
        assert self._linking_to("P-2", "P-1", "P-2") == ["T-4", "T-5"], (
            "query(TicketQuery(links_to=('P-2', 'P-1', 'P-2'), order_by='number')) must return "
            "['T-4', 'T-5'] (repeated ids match once)"
        )
        assert self._linking_to("P-9") == ["T-6"], (  # a link to a ticket that is not stored
            "query(TicketQuery(links_to=('P-9',), order_by='number')) must return ['T-6'] (a link "
            "to a ticket that is not stored still counts)"
        )
        assert self._linking_to("P-3") == [], (
            "query(TicketQuery(links_to=('P-3',), order_by='number')) must return [] (nothing "
            "links to P-3)"
        )
        assert self._linking_to("T-4") == [], (  # links go one way
            "query(TicketQuery(links_to=('T-4',), order_by='number')) must return [] (links go one "
            "way: T-4 links to others, nothing links to T-4)"
        )
        assert self._linking_to("p-1") == [], (  # ids compare exactly
            "query(TicketQuery(links_to=('p-1',), order_by='number')) must return [] (ids compare "
            "exactly, case included)"
        )
        assert self.store.query(TicketQuery(links_to="P-1")) == self.store.query(
            TicketQuery(links_to=("P-1",))
        ), (
            "query(TicketQuery(links_to='P-1')) and query(TicketQuery(links_to=('P-1',))) must "
            "return the same page"
        )
        # with other filters, orders and pages
        change(
            self.store, tickets["T-5"], moved("T-5", "closed", StatusCategory.CLOSED, at=T0)
        )
        assert self._linking_to("P-1", "P-2", active_only=True) == ["T-4"], (
            "query(TicketQuery(links_to=('P-1', 'P-2'), active_only=True, order_by='number')) must "
            "return ['T-4'] (T-5 was closed)"
        )
        assert self._linking_to("P-2", status_category="closed") == ["T-5"], (
            "query(TicketQuery(links_to=('P-2',), status_category='closed', order_by='number')) "
            "must return ['T-5'] (T-5 was closed)"
        )
        backwards = TicketQuery(links_to=("P-2", "P-9"), order_by="-number", limit=2)
        first = self.store.query(backwards)
        assert (_ids(first.items), first.total, first.next_offset) == (["T-6", "T-5"], 3, 2), (
            "query(TicketQuery(links_to=('P-2', 'P-9'), order_by='-number', limit=2)) must return "
            "(ids, total, next_offset) = (['T-6', 'T-5'], 3, 2)"
        )
        rest = self.store.query(attrs.evolve(backwards, offset=2))
        assert (_ids(rest.items), rest.total, rest.next_offset) == (["T-4"], 3, None), (
            "query(TicketQuery(links_to=('P-2', 'P-9'), order_by='-number', limit=2, offset=2)) "
            "must return (ids, total, next_offset) = (['T-4'], 3, None)"
        )
        for bad in ((), "P-\x00", ("P-1", 7)):
            with raises(ValidationError):
                TicketQuery(links_to=bad)

    def test_links_to_follows_links_added_dropped_and_purged(self) -> None:
        tickets = self._linking()
        # the purge of P-1 drops the links to it (what a retention pass records)
        t4 = change(
            self.store,
            tickets["T-4"],
            LinkedTicketPurged(ticket_id="T-4", at=T0 + MINUTE, by=AGENT, other="P-1"),
        )
        assert t4.linked(LinkKind.DUPLICATE_OF) == ("P-2",), (
            "a LinkedTicketPurged(other='P-1') must leave T-4 linked to P-2 only"
        )
        assert self._linking_to("P-1") == [], (
            "query(TicketQuery(links_to=('P-1',), order_by='number')) must return [] (T-4's link "
            "to P-1 was dropped by a LinkedTicketPurged)"
        )
        assert self._linking_to("P-2") == ["T-4", "T-5"], (
            "query(TicketQuery(links_to=('P-2',), order_by='number')) must return ['T-4', 'T-5'] "
            "(T-4's link to P-1 was dropped, its link to P-2 kept)"
        )
        # a new link, and one to a ticket linked already in another way
        change(self.store, tickets["T-7"], linked("T-7", "P-1", at=T0 + MINUTE))
        t4 = change(self.store, t4, linked("T-4", "P-2", "follow_up_of", at=T0 + MINUTE))
        assert self._linking_to("P-1") == ["T-7"], (
            "query(TicketQuery(links_to=('P-1',), order_by='number')) must return ['T-7'] (T-7 was "
            "linked to P-1)"
        )
        assert self._linking_to("P-2") == ["T-4", "T-5"], (
            "query(TicketQuery(links_to=('P-2',), order_by='number')) must return ['T-4', 'T-5'] "
            "(T-4 gained a second link to P-2, of another kind: it comes once)"
        )
        # a purged ticket links to nothing; the ones it linked to are left alone
        self.store.purge("T-5", expected_version=tickets["T-5"].version)
        assert self._linking_to("P-2") == ["T-4"], (
            "query(TicketQuery(links_to=('P-2',), order_by='number')) must return ['T-4'] (T-5 was "
            "purged)"
        )
        assert self._linking_to("P-1", "P-2", "P-9") == ["T-4", "T-6", "T-7"], (
            "query(TicketQuery(links_to=('P-1', 'P-2', 'P-9'), order_by='number')) must return "
            "['T-4', 'T-6', 'T-7'] (T-5 was purged)"
        )
        # an id freed by a purge starts with no links
        open_ticket(self.store, "T-5")
        assert self._linking_to("P-2") == ["T-4"], (
            "query(TicketQuery(links_to=('P-2',), order_by='number')) must return ['T-4'] (T-5 was "
            "purged, then a new T-5 opened without links)"
        )

    def test_links_to_follows_a_rewritten_history(self) -> None:
        tickets = self._linking()
        # anonymised as retention does it: the links stay
        self._rewrite(tickets["T-4"], _retention_erasure("T-4"))
        assert self._linking_to("P-1", "P-2") == ["T-4", "T-5"], (
            "query(TicketQuery(links_to=('P-1', 'P-2'), order_by='number')) must return ['T-4', "
            "'T-5'] (T-4 was anonymised as retention does: its links stay)"
        )
        # a history rewritten without its links drops them, and one with a new link
        # adds it
        first = self.store.events("T-5")[0]
        history = [first, commented("T-5", "no link", at=T0), linked("T-5", "P-3", at=T0)]
        rewritten = replay(history)
        self.store.anonymise(
            "T-5", expected_version=tickets["T-5"].version, events=history, snapshot=rewritten
        )
        assert self.store.load("T-5") == rewritten, (
            "load('T-5') after anonymise() with a rewritten history must return the snapshot given"
        )
        assert self._linking_to("P-2") == ["T-4"], (
            "query(TicketQuery(links_to=('P-2',), order_by='number')) must return ['T-4'] (T-5's "
            "history was rewritten without its links to P-2)"
        )
        assert self._linking_to("P-3") == ["T-5"], (
            "query(TicketQuery(links_to=('P-3',), order_by='number')) must return ['T-5'] (T-5's "
            "history was rewritten with a link to P-3)"
        )

    def test_links_to_in_a_failed_unit_of_work_is_undone(self) -> None:
        tickets = self._linking()
        before = {ids: self._linking_to(*ids) for ids in (("P-1",), ("P-2",), ("P-1", "P-9"))}
        with raises(ValidationError), self.store.unit_of_work():
            change(
                self.store,
                tickets["T-4"],
                LinkedTicketPurged(ticket_id="T-4", at=T0 + MINUTE, by=AGENT, other="P-1"),
            )
            change(self.store, tickets["T-7"], linked("T-7", "P-1", at=T0 + MINUTE))
            self.store.purge("T-6", expected_version=tickets["T-6"].version)
            self.store.purge("T-5", expected_version=tickets["T-5"].version)
            new = open_ticket(self.store, "T-8")
            change(self.store, new, linked("T-8", "P-9"))
            assert self._linking_to("P-1") == ["T-7"], (
                "query(TicketQuery(links_to=('P-1',), order_by='number')) must return ['T-7'] "
                "(inside the unit of work, before it fails)"
            )
            raise ValidationError("planned failure")
        assert {ids: self._linking_to(*ids) for ids in before} == before, (
            "query(TicketQuery(links_to=...)) after a unit of work that failed must find what it "
            "found before it"
        )
        assert self.store.get_many(list(tickets)) == list(tickets.values()), (
            "get_many() after a unit of work that failed must return the tickets as they were "
            "before it"
        )

    def _queueing(self) -> dict[str, Ticket]:
        """Q-1 (team desk) waits in the queue for the desk's assignment, Q-2 (desk) for a
        rule's; Q-3 (desk) waited and was assigned; Q-4 (desk) never waited; Q-5 (team
        ops) waits; Q-6 (no team) waits."""
        s = self.store
        out = {tid: self._in_team(tid, "desk") for tid in ("Q-1", "Q-2", "Q-3", "Q-4")}
        out["Q-5"] = self._in_team("Q-5", "ops")
        out["Q-6"] = open_ticket(s, "Q-6")
        at = T0 + MINUTE
        out["Q-1"] = change(s, out["Q-1"], queued("Q-1", at=at))
        out["Q-2"] = change(s, out["Q-2"], queued("Q-2", at=at, strategy="skills_based"))
        out["Q-3"] = change(
            s,
            out["Q-3"],
            queued("Q-3", at=at),
            Assigned(ticket_id="Q-3", at=at, by=AGENT, assignee="a-1"),
        )
        out["Q-5"] = change(s, out["Q-5"], queued("Q-5", at=at))
        out["Q-6"] = change(s, out["Q-6"], queued("Q-6", at=at))
        return out

    def _in_team(self, ticket_id: str, team: str) -> Ticket:
        """A new ticket routed to ``team``."""
        to_team = TicketRouted(ticket_id=ticket_id, at=T0, by=AGENT, changes=Changes(team=team))
        return change(self.store, open_ticket(self.store, ticket_id), to_team)

    def _waiting(self, **filters: Any) -> list[str]:
        page = self.store.query(TicketQuery(queued=True, order_by="number", **filters))
        assert page.total == len(page.items), (
            f"query(TicketQuery(queued=True, ...)) returned {len(page.items)} tickets on a page of "
            f"every match but total={page.total}"
        )
        return _ids(page.items)

    def _drained(self, team: str) -> list[str]:
        """What a queue drain reads of ``team``: its active unassigned waiting tickets."""
        return self._waiting(team=team, unassigned=True, active_only=True)

    def test_queued_keeps_tickets_waiting_for_an_assignment(self) -> None:
        tickets = self._queueing()
        assert self._waiting() == ["Q-1", "Q-2", "Q-5", "Q-6"], (
            "query(TicketQuery(queued=True, order_by='number')) must return ['Q-1', 'Q-2', 'Q-5', "
            "'Q-6'] (tickets queued and not assigned since)"
        )
        assert self._drained("desk") == ["Q-1", "Q-2"], (
            "query(TicketQuery(queued=True, team='desk', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-1', 'Q-2'] (a queue drain of team desk)"
        )
        assert self._drained("ops") == ["Q-5"], (
            "query(TicketQuery(queued=True, team='ops', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-5'] (a queue drain of team ops)"
        )
        assert self._waiting(team="desk", unassigned=True) == ["Q-1", "Q-2"], (
            "query(TicketQuery(queued=True, team='desk', unassigned=True, order_by='number')) must "
            "return ['Q-1', 'Q-2']"
        )
        everything = self.store.query(TicketQuery(order_by="number"))
        assert _ids(everything.items) == ["Q-1", "Q-2", "Q-3", "Q-4", "Q-5", "Q-6"], (
            "query(TicketQuery(order_by='number')) must find all six tickets Q-1 to Q-6"
        )
        assert self.store.query(TicketQuery(queued=False, order_by="number")) == everything, (
            "query(TicketQuery(queued=False)) must match every ticket, like no queued filter at all"
        )
        # queued again: still waiting, since the first time
        q1 = change(self.store, tickets["Q-1"], queued("Q-1", at=T0 + 2 * MINUTE))
        assert q1.queued_at == T0 + MINUTE, (
            "a second QueuedForAssignment must keep queued_at of the first, T0 + 1 minute, got "
            f"{q1.queued_at}"
        )
        assert self._drained("desk") == ["Q-1", "Q-2"], (
            "query(TicketQuery(queued=True, team='desk', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-1', 'Q-2'] (Q-1 was queued a second time)"
        )
        # routed to another team: it waits in that team's queue
        to_ops = TicketRouted(
            ticket_id="Q-2", at=T0 + 2 * MINUTE, by=AGENT, changes=Changes(team="ops")
        )
        q2 = change(self.store, tickets["Q-2"], to_ops)
        assert (self._drained("desk"), self._drained("ops")) == (["Q-1"], ["Q-2", "Q-5"]), (
            "query(TicketQuery(queued=True, team=..., unassigned=True, active_only=True)) after "
            "Q-2 was routed from desk to ops must find (desk, ops) = (['Q-1'], ['Q-2', 'Q-5'])"
        )
        # assigned: it no longer waits; unassigned again, it waits only when queued again
        q2 = change(
            self.store, q2, Assigned(ticket_id="Q-2", at=T0 + 3 * MINUTE, by=AGENT, assignee="a-2")
        )
        assert self._waiting() == ["Q-1", "Q-5", "Q-6"], (
            "query(TicketQuery(queued=True, order_by='number')) must return ['Q-1', 'Q-5', 'Q-6'] "
            "(Q-2 was assigned)"
        )
        q2 = change(
            self.store,
            q2,
            Assigned(ticket_id="Q-2", at=T0 + 4 * MINUTE, by=AGENT, assignee=None, previous="a-2"),
        )
        assert q2.queued_at is None, (
            "unassigning Q-2 must leave its queued_at None (it waits again only when queued "
            f"again), got {q2.queued_at}"
        )
        assert self._drained("ops") == ["Q-5"], (
            "query(TicketQuery(queued=True, team='ops', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-5'] (Q-2 was unassigned but not queued again)"
        )
        q2 = change(self.store, q2, queued("Q-2", at=T0 + 5 * MINUTE))
        assert self._drained("ops") == ["Q-2", "Q-5"], (
            "query(TicketQuery(queued=True, team='ops', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-2', 'Q-5'] (Q-2 was queued again)"
        )
        # closed while waiting: it keeps queued_at, but leaves the drain's queue; reopened,
        # it is back
        q5 = change(
            self.store,
            tickets["Q-5"],
            moved("Q-5", "closed", StatusCategory.CLOSED, at=T0 + 2 * MINUTE),
        )
        assert q5.queued_at is not None, "a closed ticket must keep its queued_at"
        assert self._drained("ops") == ["Q-2"], (
            "query(TicketQuery(queued=True, team='ops', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-2'] (Q-5 was closed while waiting)"
        )
        assert self._waiting(status_category="closed") == ["Q-5"], (
            "query(TicketQuery(queued=True, status_category='closed', order_by='number')) must "
            "return ['Q-5'] (Q-5 was closed while waiting and keeps queued_at)"
        )
        change(self.store, q5, moved("Q-5", "open", StatusCategory.OPEN, at=T0 + 3 * MINUTE))
        assert self._drained("ops") == ["Q-2", "Q-5"], (
            "query(TicketQuery(queued=True, team='ops', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-2', 'Q-5'] (Q-5 was reopened)"
        )
        # other orders and pages
        oldest = TicketQuery(queued=True, order_by="-number", limit=2)
        first = self.store.query(oldest)
        assert (_ids(first.items), first.total, first.next_offset) == (["Q-6", "Q-5"], 4, 2), (
            "query(TicketQuery(queued=True, order_by='-number', limit=2)) must return (ids, total, "
            "next_offset) = (['Q-6', 'Q-5'], 4, 2)"
        )
        rest = self.store.query(attrs.evolve(oldest, offset=2))
        assert (_ids(rest.items), rest.total, rest.next_offset) == (["Q-2", "Q-1"], 4, None), (
            "query(TicketQuery(queued=True, order_by='-number', limit=2, offset=2)) must return "
            "(ids, total, next_offset) = (['Q-2', 'Q-1'], 4, None)"
        )
        # a ticket imported while it waits
        importer = getattr(self.store, "import_tickets", None)
        if importer is not None:
            history = [
                opened("Q-7", 70),
                TicketRouted(ticket_id="Q-7", at=T0, by=AGENT, changes=Changes(team="desk")),
                queued("Q-7", at=T0 + MINUTE),
            ]
            assert importer([(history, replay(history))]) == 1, (
                "import_tickets() of one ticket must return 1"
            )
            assert self._drained("desk") == ["Q-1", "Q-7"], (
                "query(TicketQuery(queued=True, team='desk', unassigned=True, active_only=True)) "
                "(a queue drain) must return ['Q-1', 'Q-7'] (Q-7 was imported waiting)"
            )
        for bad in (None, 1, "yes"):
            with raises(ValidationError, match="true or false"):
                TicketQuery(queued=bad)  # type: ignore[arg-type]

    def test_queued_follows_a_rewritten_history_and_a_purge(self) -> None:
        tickets = self._queueing()
        # anonymised as retention does it: the ticket still waits
        self._rewrite(tickets["Q-1"], _retention_erasure("Q-1"))
        assert self._drained("desk") == ["Q-1", "Q-2"], (
            "query(TicketQuery(queued=True, team='desk', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-1', 'Q-2'] (Q-1 was anonymised as retention does: it "
            "still waits)"
        )
        # a history rewritten without its queueing no longer waits, one with it does
        opening = self.store.events("Q-2")[:2]  # opened and routed to desk
        history = [*opening, commented("Q-2", "not queued", at=T0 + MINUTE)]
        self.store.anonymise(
            "Q-2", expected_version=tickets["Q-2"].version, events=history, snapshot=replay(history)
        )
        self._rewrite(tickets["Q-4"], queued("Q-4", at=T0 + MINUTE))
        assert self._drained("desk") == ["Q-1", "Q-4"], (
            "query(TicketQuery(queued=True, team='desk', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-1', 'Q-4'] (Q-2's history was rewritten without its "
            "queueing, Q-4's with one)"
        )
        # a purged ticket waits nowhere; an id freed by a purge starts without waiting
        self.store.purge("Q-1", expected_version=self.store.load("Q-1").version)
        assert self._waiting() == ["Q-4", "Q-5", "Q-6"], (
            "query(TicketQuery(queued=True, order_by='number')) must return ['Q-4', 'Q-5', 'Q-6'] "
            "(Q-1 was purged)"
        )
        self._in_team("Q-1", "desk")
        assert self._drained("desk") == ["Q-4"], (
            "query(TicketQuery(queued=True, team='desk', unassigned=True, active_only=True)) (a "
            "queue drain) must return ['Q-4'] (Q-1 was purged, then a new Q-1 routed to desk, not "
            "queued)"
        )

    def _waited(self) -> dict[str, Ticket]:
        """Tickets opened in an order other than the one they were queued in: W-1 (team
        desk) opened first and queued last; W-2, W-3 (desk); W-5 (desk) queued at W-3's
        instant; W-6 (team ops); W-7 (desk) closed while it waits (it keeps queued_at);
        W-8 (desk) queued, then assigned (no longer waiting); N-1, N-2 (desk) never
        queued."""
        s = self.store
        plan = {  # created, queued (minutes after T0)
            "W-1": (0, 30),
            "W-2": (10, 11),
            "W-3": (20, 21),
            "W-5": (5, 21),
            "W-6": (1, 15),
            "W-7": (2, 12),
            "W-8": (3, 4),
            "N-1": (2, None),
            "N-2": (3, None),
        }
        out: dict[str, Ticket] = {}
        for tid, (created, waits) in plan.items():
            at = T0 + created * MINUTE
            routed = Changes(team="ops" if tid == "W-6" else "desk")
            ticket = change(
                s,
                open_ticket(s, tid, at=at),
                TicketRouted(ticket_id=tid, at=at, by=AGENT, changes=routed),
            )
            if waits is not None:
                ticket = change(s, ticket, queued(tid, at=T0 + waits * MINUTE))
            out[tid] = ticket
        at = T0 + HOUR
        out["W-7"] = change(s, out["W-7"], moved("W-7", "closed", StatusCategory.CLOSED, at=at))
        out["W-8"] = change(
            s, out["W-8"], Assigned(ticket_id="W-8", at=at, by=AGENT, assignee="a-1")
        )
        return out

    def test_queued_at_orders_by_how_long_tickets_waited(self) -> None:
        # queued_at: the longest-waiting first; -queued_at: the latest queued first; in
        # both, tickets with no queued_at after the others, and ties by id. Read whole
        # and page by page (pages that end on a tie, on the last ticket with queued_at
        # and among those without one), as the reference semantics order them.
        tickets = self._waited()
        drain = TicketQuery(team="desk", unassigned=True, active_only=True, queued=True)
        cases = [
            (TicketQuery(), "queued_at",
             ["W-2", "W-7", "W-6", "W-3", "W-5", "W-1", "N-1", "N-2", "W-8"]),
            (TicketQuery(), "-queued_at",
             ["W-1", "W-3", "W-5", "W-6", "W-7", "W-2", "N-1", "N-2", "W-8"]),
            (TicketQuery(queued=True), "queued_at", ["W-2", "W-7", "W-6", "W-3", "W-5", "W-1"]),
            (TicketQuery(queued=True), "-queued_at", ["W-1", "W-3", "W-5", "W-6", "W-7", "W-2"]),
            (drain, "queued_at", ["W-2", "W-3", "W-5", "W-1"]),
            (drain, "-queued_at", ["W-1", "W-3", "W-5", "W-2"]),
            (drain, "created_at", ["W-1", "W-5", "W-2", "W-3"]),
            (TicketQuery(team="desk", active_only=True), "queued_at",
             ["W-2", "W-3", "W-5", "W-1", "N-1", "N-2", "W-8"]),
        ]  # fmt: skip
        for base, order, expected in cases:
            query = attrs.evolve(base, order_by=order)
            page = self.store.query(query)
            assert (_ids(page.items), page.total) == (expected, len(expected)), (
                f"query({query!r}) must return (ids, total) = ({expected}, {len(expected)}): the "
                "longest-waiting first, tickets without queued_at last, ties by id"
            )
            assert page == query.page(list(tickets.values())), (
                f"query({query!r}) must return the page of the reference semantics, "
                "TicketQuery.page()"
            )
            for limit in (1, 2, 3):
                seen: list[str] = []
                offset: int | None = 0
                while offset is not None:
                    asked = attrs.evolve(query, limit=limit, offset=offset)
                    page = self.store.query(asked)
                    assert page == asked.page(list(tickets.values())), (
                        f"query({asked!r}) must return the page of the reference semantics, "
                        "TicketQuery.page()"
                    )
                    seen.extend(_ids(page.items))
                    offset = page.next_offset
                assert seen == expected, (
                    f"query({query!r}) read in pages of {limit} must give {expected}, got {seen}"
                )

    def test_queued_at_order_follows_the_queue_as_it_changes(self) -> None:
        # A drain's order, read again after each change: a ticket queued anew joins the
        # end, one assigned leaves, one unassigned and queued again takes its new place
        # at the end; between the pages of one read, as between reads.
        tickets = self._waited()
        drain = TicketQuery(
            team="desk", unassigned=True, active_only=True, queued=True, order_by="queued_at"
        )

        def waiting(limit: int = 50) -> list[str]:
            seen: list[str] = []
            offset: int | None = 0
            while offset is not None:
                page = self.store.query(attrs.evolve(drain, limit=limit, offset=offset))
                seen.extend(_ids(page.items))
                # Each page moves on (a store that ignores the offset fails here, not loops).
                assert page.next_offset is None or page.next_offset == offset + limit, (
                    f"the page at offset {offset} gives next_offset {page.next_offset}"
                )
                offset = page.next_offset
            return seen

        assert waiting() == waiting(1) == ["W-2", "W-3", "W-5", "W-1"], (
            "a queue drain, query(TicketQuery(team='desk', unassigned=True, active_only=True, "
            "queued=True, order_by='queued_at')), whole and in pages of 1, must return the "
            "longest-waiting first"
        )
        at = T0 + 2 * HOUR
        n1 = change(self.store, tickets["N-1"], queued("N-1", at=at))
        assert waiting() == waiting(2) == ["W-2", "W-3", "W-5", "W-1", "N-1"], (
            "a queue drain after N-1 was queued must return it last, whole and in pages of 2"
        )
        w2 = change(
            self.store, tickets["W-2"], Assigned(ticket_id="W-2", at=at, by=AGENT, assignee="a-2")
        )
        assert waiting() == waiting(3) == ["W-3", "W-5", "W-1", "N-1"], (
            "a queue drain after W-2 was assigned must no longer return it, whole and in pages of 3"
        )
        unassigned = Assigned(
            ticket_id="W-2", at=at + MINUTE, by=AGENT, assignee=None, previous="a-2"
        )
        change(self.store, w2, unassigned, queued("W-2", at=at + MINUTE))
        assert waiting() == waiting(1) == ["W-3", "W-5", "W-1", "N-1", "W-2"], (
            "a queue drain after W-2 was unassigned and queued again must return it last, whole "
            "and in pages of 1"
        )
        first = self.store.query(attrs.evolve(drain, limit=2))
        assert _ids(first.items) == ["W-3", "W-5"], (
            "the first page (limit=2) of a queue drain must be ['W-3', 'W-5'], got "
            f"{_ids(first.items)}"
        )
        change(self.store, n1, Assigned(ticket_id="N-1", at=at, by=AGENT, assignee="a-1"))
        rest = self.store.query(attrs.evolve(drain, limit=2, offset=2))
        assert (_ids(rest.items), rest.total, rest.next_offset) == (["W-1", "W-2"], 4, None), (
            "the second page (limit=2, offset=2) of a queue drain, read after N-1 was assigned, "
            "must return (ids, total, next_offset) = (['W-1', 'W-2'], 4, None)"
        )

    def test_queued_in_a_failed_unit_of_work_is_undone(self) -> None:
        tickets = self._queueing()
        before = {team: self._drained(team) for team in ("desk", "ops")}
        with raises(ValidationError), self.store.unit_of_work():
            change(
                self.store,
                tickets["Q-1"],
                Assigned(ticket_id="Q-1", at=T0 + MINUTE, by=AGENT, assignee="a-1"),
            )
            change(self.store, tickets["Q-4"], queued("Q-4", at=T0 + MINUTE))
            change(
                self.store,
                tickets["Q-5"],
                moved("Q-5", "closed", StatusCategory.CLOSED, at=T0 + MINUTE),
            )
            self.store.purge("Q-2", expected_version=tickets["Q-2"].version)
            new = self._in_team("Q-8", "ops")
            change(self.store, new, queued("Q-8", at=T0 + MINUTE))
            assert self._drained("desk") == ["Q-4"], (
                "query(TicketQuery(queued=True, team='desk', unassigned=True, active_only=True)) "
                "(a queue drain) must return ['Q-4'] (inside the unit of work, before it fails)"
            )
            assert self._drained("ops") == ["Q-8"], (
                "query(TicketQuery(queued=True, team='ops', unassigned=True, active_only=True)) (a "
                "queue drain) must return ['Q-8'] (inside the unit of work, before it fails)"
            )
            raise ValidationError("planned failure")
        assert {team: self._drained(team) for team in before} == before, (
            "a queue drain after a unit of work that failed must find what it found before it"
        )
        assert self.store.get_many(list(tickets)) == list(tickets.values()), (
            "get_many() after a unit of work that failed must return the tickets as they were "
            "before it"
        )

    def _typed(self) -> dict[str, Ticket]:
        """Y-1 an incident (the default type), Y-2 a problem, Y-3 an access request in
        team desk, Y-4 a problem closed at T0 + 1 minute, Y-5 an access request closed at
        T0 + 1 minute, Y-6 an incident closed and anonymised."""
        s = self.store
        out = {
            "Y-1": open_ticket(s, "Y-1"),
            "Y-2": open_ticket(s, "Y-2", type="problem"),
            "Y-3": change(
                s,
                open_ticket(s, "Y-3", type="access_request"),
                TicketRouted(ticket_id="Y-3", at=T0, by=AGENT, changes=Changes(team="desk")),
            ),
        }
        closing = T0 + MINUTE
        for tid, kind in (("Y-4", "problem"), ("Y-5", "access_request"), ("Y-6", "incident")):
            ticket = open_ticket(s, tid, type=kind)
            out[tid] = change(s, ticket, moved(tid, "closed", StatusCategory.CLOSED, at=closing))
        out["Y-6"] = change(s, out["Y-6"], _retention_erasure("Y-6"))
        return out

    def _of_type(self, *types: str, **filters: Any) -> list[str]:
        page = self.store.query(TicketQuery(type=types, order_by="number", **filters))
        assert page.total == len(page.items), (
            f"query(TicketQuery(type={types!r}, ...)) returned {len(page.items)} tickets on a page "
            f"of every match but total={page.total}"
        )
        return _ids(page.items)

    def test_type_keeps_tickets_of_any_of_the_types(self) -> None:
        tickets = self._typed()
        assert self._of_type("incident") == ["Y-1", "Y-6"], (
            "query(TicketQuery(type=('incident',), order_by='number')) must return ['Y-1', 'Y-6'] "
            "(Y-1 is an incident by default)"
        )
        assert self._of_type("problem") == ["Y-2", "Y-4"], (
            "query(TicketQuery(type=('problem',), order_by='number')) must return ['Y-2', 'Y-4']"
        )
        assert self._of_type("access_request", "problem") == ["Y-2", "Y-3", "Y-4", "Y-5"], (
            "query(TicketQuery(type=('access_request', 'problem'), order_by='number')) must return "
            "['Y-2', 'Y-3', 'Y-4', 'Y-5']"
        )
        assert self._of_type("problem", "problem", "x") == ["Y-2", "Y-4"], (
            "query(TicketQuery(type=('problem', 'problem', 'x'), order_by='number')) must return "
            "['Y-2', 'Y-4']"
        )
        assert self._of_type("change") == [], (
            "query(TicketQuery(type=('change',), order_by='number')) must return []"
        )
        assert self._of_type("Problem") == [], (  # types are ids: compared exactly
            "query(TicketQuery(type=('Problem',), order_by='number')) must return [] (types "
            "compare exactly)"
        )
        everything = self.store.query(TicketQuery(order_by="number"))
        assert len(everything.items) == 6, (
            "query(TicketQuery(order_by='number')) must find all six tickets Y-1 to Y-6"
        )
        assert self.store.query(TicketQuery(type=None, order_by="number")) == everything, (
            "query(TicketQuery(type=None)) must match every ticket, like no type filter at all"
        )
        # with other filters: the known-error view's read and retention scans
        assert self._of_type("problem", active_only=True) == ["Y-2"], (
            "query(TicketQuery(type=('problem',), active_only=True, order_by='number')) must "
            "return ['Y-2'] (Y-4 is closed)"
        )
        after = T0 + 2 * MINUTE
        assert self._of_type("access_request", closed_before=after) == ["Y-5"], (
            "query(TicketQuery(type=('access_request',), closed_before=after, order_by='number')) "
            "must return ['Y-5']"
        )
        assert self._of_type("access_request", closed_before=T0 + MINUTE) == [], (
            "query(TicketQuery(type=('access_request',), closed_before=T0 + MINUTE, "
            "order_by='number')) must return [] (Y-5 closed at T0 + 1 minute, not before it)"
        )
        assert self._of_type("incident", "problem", closed_before=after) == ["Y-4", "Y-6"], (
            "query(TicketQuery(type=('incident', 'problem'), closed_before=after, "
            "order_by='number')) must return ['Y-4', 'Y-6']"
        )
        unanonymised = self._of_type("incident", "problem", closed_before=after, anonymised=False)
        assert unanonymised == ["Y-4"], (
            "query(TicketQuery(type=('incident', 'problem'), closed_before=T0 + 2 minutes, "
            "anonymised=False)) must find ['Y-4']"
        )
        assert self._of_type("access_request", team="desk") == ["Y-3"], (
            "query(TicketQuery(type=('access_request',), team='desk', order_by='number')) must "
            "return ['Y-3']"
        )
        assert self._of_type("access_request", status_category="closed") == ["Y-5"], (
            "query(TicketQuery(type=('access_request',), status_category='closed', "
            "order_by='number')) must return ['Y-5']"
        )
        # changed by routing or an edit: the query follows the ticket's type now
        retyped = TicketRouted(
            ticket_id="Y-1", at=T0 + MINUTE, by=AGENT, changes=Changes(type="problem")
        )
        y1 = change(self.store, tickets["Y-1"], retyped)
        assert y1.type == "problem", (
            "a TicketRouted with changes type='problem' must make Y-1 a problem"
        )
        assert self._of_type("incident") == ["Y-6"], (
            "query(TicketQuery(type=('incident',), order_by='number')) must return ['Y-6'] (Y-1 "
            "was retyped to problem)"
        )
        assert self._of_type("problem", active_only=True) == ["Y-1", "Y-2"], (
            "query(TicketQuery(type=('problem',), active_only=True, order_by='number')) must "
            "return ['Y-1', 'Y-2'] (Y-1 was retyped to problem)"
        )
        # closed, it is among the retention scans of its type; reopened, no longer
        y2 = change(
            self.store, tickets["Y-2"], moved("Y-2", "closed", StatusCategory.CLOSED, at=T0)
        )
        assert self._of_type("problem", closed_before=after) == ["Y-2", "Y-4"], (
            "query(TicketQuery(type=('problem',), closed_before=after, order_by='number')) must "
            "return ['Y-2', 'Y-4'] (Y-2 was closed at T0)"
        )
        change(self.store, y2, moved("Y-2", "open", StatusCategory.OPEN, at=T0 + MINUTE))
        assert self._of_type("problem", closed_before=after) == ["Y-4"], (
            "query(TicketQuery(type=('problem',), closed_before=after, order_by='number')) must "
            "return ['Y-4'] (Y-2 was reopened)"
        )
        # other orders and pages
        newest = TicketQuery(type=("problem", "access_request"), order_by="-number", limit=2)
        first = self.store.query(newest)
        assert (_ids(first.items), first.total, first.next_offset) == (["Y-5", "Y-4"], 5, 2), (
            "query(TicketQuery(type=('problem', 'access_request'), order_by='-number', limit=2)) "
            "must return (ids, total, next_offset) = (['Y-5', 'Y-4'], 5, 2)"
        )
        rest = self.store.query(attrs.evolve(newest, offset=4))
        assert (_ids(rest.items), rest.total, rest.next_offset) == (["Y-1"], 5, None), (
            "query(TicketQuery(type=('problem', 'access_request'), order_by='-number', limit=2, "
            "offset=4)) must return (ids, total, next_offset) = (['Y-1'], 5, None)"
        )
        # a ticket imported with its type
        importer = getattr(self.store, "import_tickets", None)
        if importer is not None:
            history = [opened("Y-7", 70, type="access_request")]
            assert importer([(history, replay(history))]) == 1, (
                "import_tickets() of one ticket must return 1"
            )
            assert self._of_type("access_request") == ["Y-3", "Y-5", "Y-7"], (
                "query(TicketQuery(type=('access_request',), order_by='number')) must return "
                "['Y-3', 'Y-5', 'Y-7'] (Y-7 was imported with its type)"
            )
        for bad, message in (
            ((), "empty list"),
            (("problem", 1), "text"),
            ("a\x00b", "NUL"),
            (1, "text"),
        ):
            with raises(ValidationError, match=message) as caught:
                TicketQuery(type=bad)
            [error] = caught
            assert isinstance(error, ValidationError), (
                f"TicketQuery(type={bad!r}) must raise ValidationError, got {error!r}"
            )
            assert error.field == "type", (
                f"TicketQuery(type={bad!r}) must raise ValidationError naming field 'type', got "
                f"field={error.field!r}"
            )

    def test_type_follows_a_rewritten_history_and_a_purge(self) -> None:
        tickets = self._typed()
        # anonymised as retention does it: the type stays
        self._rewrite(tickets["Y-4"], _retention_erasure("Y-4"))
        assert self._of_type("problem") == ["Y-2", "Y-4"], (
            "query(TicketQuery(type=('problem',), order_by='number')) must return ['Y-2', 'Y-4'] "
            "(Y-4 was anonymised as retention does: its type stays)"
        )
        # a history rewritten with a type change follows it
        retyped = TicketRouted(
            ticket_id="Y-2", at=T0 + MINUTE, by=AGENT, changes=Changes(type="incident")
        )
        self._rewrite(tickets["Y-2"], retyped)
        assert self._of_type("problem") == ["Y-4"], (
            "query(TicketQuery(type=('problem',), order_by='number')) must return ['Y-4'] (Y-2's "
            "history was rewritten with a change of type to incident)"
        )
        assert self._of_type("incident") == ["Y-1", "Y-2", "Y-6"], (
            "query(TicketQuery(type=('incident',), order_by='number')) must return ['Y-1', 'Y-2', "
            "'Y-6'] (Y-2's history was rewritten with a change of type to incident)"
        )
        # a purged ticket is of no type; an id freed by a purge takes its new one
        self.store.purge("Y-5", expected_version=tickets["Y-5"].version)
        assert self._of_type("access_request") == ["Y-3"], (
            "query(TicketQuery(type=('access_request',), order_by='number')) must return ['Y-3'] "
            "(Y-5 was purged)"
        )
        open_ticket(self.store, "Y-5", type="change")
        assert self._of_type("access_request") == ["Y-3"], (
            "query(TicketQuery(type=('access_request',), order_by='number')) must return ['Y-3'] "
            "(Y-5 was purged, then a new Y-5 opened as a change)"
        )
        assert self._of_type("change") == ["Y-5"], (
            "query(TicketQuery(type=('change',), order_by='number')) must return ['Y-5'] (a new "
            "Y-5 opened as a change after the purge)"
        )

    def test_type_in_a_failed_unit_of_work_is_undone(self) -> None:
        tickets = self._typed()
        queries = (("problem",), ("incident",), ("access_request", "change"))
        before = {types: self._of_type(*types) for types in queries}
        with raises(ValidationError), self.store.unit_of_work():
            retyped = TicketRouted(
                ticket_id="Y-1", at=T0 + MINUTE, by=AGENT, changes=Changes(type="problem")
            )
            change(self.store, tickets["Y-1"], retyped)
            self.store.purge("Y-2", expected_version=tickets["Y-2"].version)
            open_ticket(self.store, "Y-8", type="change")
            assert self._of_type("problem") == ["Y-1", "Y-4"], (
                "query(TicketQuery(type=('problem',), order_by='number')) must return ['Y-1', "
                "'Y-4'] (inside the unit of work, before it fails)"
            )
            assert self._of_type("access_request", "change") == ["Y-3", "Y-5", "Y-8"], (
                "query(TicketQuery(type=('access_request', 'change'), order_by='number')) must "
                "return ['Y-3', 'Y-5', 'Y-8'] (inside the unit of work, before it fails)"
            )
            raise ValidationError("planned failure")
        assert {types: self._of_type(*types) for types in queries} == before, (
            "query(TicketQuery(type=...)) after a unit of work that failed must find what it found "
            "before it"
        )
        assert self.store.get_many(list(tickets)) == list(tickets.values()), (
            "get_many() after a unit of work that failed must return the tickets as they were "
            "before it"
        )

    def test_orderings_break_ties_by_id(self) -> None:
        self._populate()
        expected = {
            "created_at": ["T-a", "T-b", "T-c", "T-d", "T-e"],
            "-created_at": ["T-e", "T-c", "T-d", "T-b", "T-a"],
            "updated_at": ["T-a", "T-b", "T-c", "T-d", "T-e"],
            "-updated_at": ["T-e", "T-d", "T-c", "T-a", "T-b"],
            "priority": ["T-c", "T-a", "T-e", "T-d", "T-b"],
            "number": ["T-a", "T-b", "T-c", "T-d", "T-e"],
            "-number": ["T-e", "T-d", "T-c", "T-b", "T-a"],
        }
        for order, ids in expected.items():
            assert _ids(self.store.query(TicketQuery(order_by=order)).items) == ids, (
                f"query(TicketQuery(order_by={order!r})) must return {ids} (ties broken by id), "
                f"got {_ids(self.store.query(TicketQuery(order_by=order)).items)}"
            )

    def test_pages_cover_every_match_once(self) -> None:
        for i in range(23):
            open_ticket(self.store, f"T-{i:02d}", at=T0 + (i // 4) * MINUTE)
        seen: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = self.store.query(TicketQuery(order_by="-created_at", limit=5, offset=offset))
            assert page.total == 23, (
                f"query(TicketQuery(order_by='-created_at', limit=5, offset={offset})).total must "
                f"count all 23 matches, got {page.total}"
            )
            seen.extend(_ids(page.items))
            # Each page moves on (a store that ignores the offset fails here, not loops).
            assert page.next_offset is None or page.next_offset == offset + 5, (
                f"the page at offset {offset} gives next_offset {page.next_offset}"
            )
            assert len(seen) <= 23, "the pages give more tickets than match"
            offset = page.next_offset
        assert len(seen) == 23, (
            f"query() pages of 5 at offsets 0, 5, ... must give 23 tickets in all, got {len(seen)}"
        )
        assert len(set(seen)) == 23, (
            f"query() pages of 5 at offsets 0, 5, ... gave a ticket twice: {seen}"
        )
        whole = _ids(self.store.query(TicketQuery(order_by="-created_at", limit=100)).items)
        assert seen == whole, (
            "query() pages of 5, put together, must give what one page of 100 gives, in its order"
        )
        beyond = self.store.query(TicketQuery(limit=5, offset=40))
        assert beyond.items == (), (
            "query(TicketQuery(limit=5, offset=40)) past the last of 23 matches must return no "
            f"tickets, got {_ids(beyond.items)}"
        )
        assert beyond.total == 23, (
            "query(TicketQuery(limit=5, offset=40)).total must still count the 23 matches, got "
            f"{beyond.total}"
        )
        assert beyond.next_offset is None, (
            "query(TicketQuery(limit=5, offset=40)) past the last match must have next_offset "
            f"None, got {beyond.next_offset}"
        )
        with raises(ValidationError, match="limit"):
            TicketQuery(limit=0)
        with raises(ValidationError, match="order_by"):
            TicketQuery(order_by="colour")

    def test_next_pages_see_changes_made_between_pages(self) -> None:
        # Ties on every ordering (four creation instants, two priorities); each round
        # reads the pages one after another, changing the desk between some of them
        # (through this handle and through another on the same data), and every page is
        # the one the reference semantics give for the data as it is.
        for i in range(12):
            open_ticket(
                self.store,
                f"T-{i:02d}",
                at=T0 + (i % 4) * MINUTE,
                priority=Priority.HIGH if i % 3 else Priority.LOW,
            )
        steps = itertools.count()
        peer = self._peer()

        def now() -> list[Ticket]:
            return list(self.store.get_many([f"T-{i:02d}" for i in range(200)]))

        def disturb(step: int) -> None:
            tickets = {t.id: t for t in now()}
            writer = peer if step % 8 < 4 else self.store
            if step % 4 == 0:  # a new ticket, sorting first by creation
                open_ticket(writer, f"T-{12 + step // 4:02d}", at=T0 - MINUTE)
            elif step % 4 == 1:  # a change that moves a ticket in the updated orders
                first = tickets["T-00"]
                change(writer, first, commented(first.id, "more", at=T0 + step * HOUR))
            elif step % 4 == 2:  # a unit of work that fails changes nothing
                with raises(ValueError), self.store.unit_of_work():
                    open_ticket(self.store, "X-99", at=T0 - HOUR)
                    raise ValueError("planned")
            else:  # a ticket leaves the active ones
                active = [t for t in tickets.values() if t.is_active]
                if active:
                    ticket = min(active, key=lambda t: t.id)
                    closing = moved(ticket.id, "closed", StatusCategory.CLOSED, at=T0 + HOUR)
                    change(writer, ticket, closing)

        # Pages asked for by offset, and by the token of where the page before ended.
        for order in sorted(ORDERINGS):
            for active_only in (False, True):
                for changing in (False, True):
                    for by_token in (False, True):
                        query = TicketQuery(order_by=order, active_only=active_only, limit=3)
                        asked: TicketQuery | None = query
                        while asked is not None:
                            page = self.store.query(asked)
                            assert page == asked.page(now()), (
                                f"query({asked!r}) must return the page the reference semantics, "
                                "TicketQuery.page(), give for the data as it is "
                                f"now{' (the data changed between pages)' if changing else ''}"
                            )
                            follow_on: dict[str, Any] = (
                                {"after": page.next_after} if by_token
                                else {"offset": page.next_offset}
                            )
                            asked = (
                                None if None in follow_on.values()
                                else attrs.evolve(query, **follow_on)
                            )
                            if changing:
                                disturb(next(steps))

    def test_after_pages_skip_and_repeat_nothing_while_tickets_arrive(self) -> None:
        # Newest first, with a ticket arriving before each page: every page asked for by
        # the token of where the last one ended goes on from there (an offset would have
        # moved by one ticket a page, showing a ticket again each time).
        for i in range(10):
            open_ticket(self.store, f"T-{i:02d}", at=T0 + i * MINUTE)
        query = TicketQuery(order_by="-created_at", limit=3)
        page = self.store.query(query)
        first_token = page.next_after
        seen = _ids(page.items)
        for n in itertools.count():
            if page.next_after is None:
                break
            open_ticket(self.store, f"N-{n}", at=T0 + HOUR + n * MINUTE)
            page = self.store.query(attrs.evolve(query, after=page.next_after))
            assert page.next_offset is None, "a page asked for by after has no next_offset"
            assert page.total == 11 + n, "total counts every match, not those after the token"
            seen.extend(_ids(page.items))
            assert n < 10, "the pages never end"
        assert seen == [f"T-{i:02d}" for i in reversed(range(10))], (
            "query() pages of 3 newest first, each asked for by the next_after of the one before "
            f"while tickets arrived, must give T-09 to T-00 once each, got {seen}"
        )
        # The token still says where to go on from once its ticket is gone.
        gone = self.store.load("T-07")
        self.store.purge("T-07", expected_version=gone.version)
        assert first_token is not None, (
            "query(TicketQuery(order_by='-created_at', limit=3)) of 10 tickets must give a "
            "next_after token"
        )
        page = self.store.query(attrs.evolve(query, after=first_token))
        assert _ids(page.items) == ["T-06", "T-05", "T-04"], (
            "query(...) with the after token of the first page must go on after T-07, purged "
            f"since: expected ['T-06', 'T-05', 'T-04'], got {_ids(page.items)}"
        )
        with raises(ValidationError, match="offset"):
            attrs.evolve(query, after=first_token, offset=3)
        with raises(ValidationError, match="ordered by '-created_at'"):
            TicketQuery(order_by="number", after=first_token)

        def forged(*parts: object) -> str:
            raw = json.dumps(list(parts)).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        for bad in (
            "",
            "not a token",
            7,
            "A" * 3000,
            forged(2, "number", 1, "T-01"),
            forged(1, "colour", 1, "T-01"),
            forged(1, "number", True, "T-01"),
            forged(1, "number", None, "T-01"),
            forged(1, "number", 2**63, "T-01"),
            forged(1, "number", 1, ""),
            forged(1, "number", 1),
        ):
            with raises(ValidationError, match="after"):
                TicketQuery(order_by="number", after=bad)  # type: ignore[arg-type]

    def test_after_pages_count_what_changed_between_them(self) -> None:
        # A store may take the total of a page asked for by after from the page before,
        # while nothing changed: a ticket opened or purged between the pages, by this
        # handle or another, is counted, and so is one opened inside a unit of work, and
        # one that is undone again when the unit of work fails.
        peer = self._peer()
        for i in range(12):
            open_ticket(self.store, f"T-{i:02d}", at=T0 + i * MINUTE, tags=("vpn",))
        query = TicketQuery(tag="vpn", order_by="number", limit=2)
        pages = [self.store.query(query)]

        def next_page() -> None:
            token = pages[-1].next_after
            assert token is not None, (
                "query(TicketQuery(tag='vpn', order_by='number', limit=2)) pages must give a "
                "next_after token while tickets remain"
            )
            pages.append(self.store.query(attrs.evolve(query, after=token)))

        next_page()  # nothing changed
        open_ticket(peer, "P-1", at=T0 + HOUR, tags=("vpn",))
        next_page()
        open_ticket(self.store, "S-1", at=T0 + HOUR, tags=("vpn",))
        next_page()
        with raises(ValueError), self.store.unit_of_work():
            open_ticket(self.store, "U-1", at=T0 + HOUR, tags=("vpn",))
            next_page()
            raise ValueError("planned")
        next_page()
        gone = peer.load("T-11")
        peer.purge("T-11", expected_version=gone.version)
        next_page()
        totals = [page.total for page in pages]
        assert totals == [12, 12, 13, 14, 15, 14, 13], (
            "query(TicketQuery(tag='vpn', order_by='number', limit=2)) pages asked for by "
            "next_after must count every match as it is when each is read: with nothing "
            "changed, then after another handle opened P-1, this one opened S-1, inside a unit "
            "of work that opened U-1 and failed, after it, and after another handle purged "
            f"T-11, expected totals [12, 12, 13, 14, 15, 14, 13], got {totals}"
        )
        seen = [ticket.id for page in pages for ticket in page.items]
        assert seen == [f"T-{i:02d}" for i in range(12)] + ["P-1", "S-1"], (
            "those pages must show each ticket that matched once, in number order, got "
            f"{seen}"
        )

    def test_a_page_read_in_a_unit_of_work_that_failed_is_not_followed_on(self) -> None:
        for i in range(7):
            open_ticket(self.store, f"T-{i}", at=T0 + i * MINUTE)
        query = TicketQuery(order_by="created_at", limit=3)
        with raises(ValueError), self.store.unit_of_work():
            open_ticket(self.store, "T-x", at=T0 - MINUTE)
            inside = self.store.query(query)
            assert (_ids(inside.items), inside.next_offset) == (["T-x", "T-0", "T-1"], 3), (
                "query(TicketQuery(order_by='created_at', limit=3)) inside a unit of work that "
                "opened T-x must see it: expected (['T-x', 'T-0', 'T-1'], next_offset 3)"
            )
            raise ValueError("planned")
        rest = self.store.query(attrs.evolve(query, offset=3))
        assert (_ids(rest.items), rest.total, rest.next_offset) == (["T-3", "T-4", "T-5"], 7, 6), (
            "query(..., offset=3) after the unit of work failed must return the page of the data "
            "as committed: expected (['T-3', 'T-4', 'T-5'], total 7, next_offset 6)"
        )

    def test_requester_history_is_newest_first(self) -> None:
        for i in range(5):
            open_ticket(self.store, f"T-{i}", requester="r-1", at=T0 + (i % 3) * MINUTE)
        open_ticket(self.store, "T-x", requester="r-2")
        history = self.store.requester_history("r-1")
        assert _ids(history) == ["T-2", "T-1", "T-4", "T-0", "T-3"], (
            "requester_history('r-1') must list the requester's tickets newest first, ties by id: "
            f"expected ['T-2', 'T-1', 'T-4', 'T-0', 'T-3'], got {_ids(history)}"
        )
        assert _ids(self.store.requester_history("r-1", limit=2)) == ["T-2", "T-1"], (
            "requester_history('r-1', limit=2) must return the 2 newest: expected ['T-2', 'T-1']"
        )
        assert self.store.requester_history("r-404") == [], (
            "requester_history('r-404') of an unknown requester must return []"
        )
        for limit in (1, 2, 5, 50):
            expected = _ids(self.store.requester_history("r-1", limit=limit))
            assert self.store.requester_ticket_ids("r-1", limit=limit) == expected, (
                f"requester_ticket_ids('r-1', limit={limit}) must give the ids of "
                f"requester_history('r-1', limit={limit}) in its order: expected {expected}"
            )
        assert self.store.requester_ticket_ids("r-404") == [], (
            "requester_ticket_ids('r-404') of an unknown requester must return []"
        )
        with raises(ValidationError):
            self.store.requester_ticket_ids("r-1", limit=0)

    # -- due tickets ------------------------------------------------------------------

    def test_due_lists_earliest_first(self) -> None:
        t1 = open_ticket(self.store, "T-1", wake_at=T0 + 5 * MINUTE)
        open_ticket(self.store, "T-2", wake_at=T0 + MINUTE)
        open_ticket(self.store, "T-3", wake_at=T0 + 5 * MINUTE)
        open_ticket(self.store, "T-4", wake_at=T0 + timedelta(hours=1))
        open_ticket(self.store, "T-5")
        # A wake time in another zone is the same instant: 2 minutes after T0.
        open_ticket(self.store, "T-6", wake_at=(T0 + 2 * MINUTE).astimezone(_NEW_YORK))
        assert self.store.due(T0) == [], (
            "due(T0) must list no ticket: every wake-up is later (T-6's, given in New York time, "
            "is T0 + 2 minutes as an instant, not as wall-clock time)"
        )
        assert self.store.due(T0 + MINUTE - _ONE_US) == [], (  # to the microsecond
            "due(T0 + 1 minute - 1 microsecond) must list no ticket: the earliest wake-up is T0 + "
            "1 minute (compared to the microsecond)"
        )
        assert self.store.due(T0 + 5 * MINUTE - _ONE_US) == ["T-2", "T-6"], (
            "due(T0 + 5 minutes - 1 microsecond) must list T-2 (T0 + 1 minute) and T-6 (T0 + 2 "
            "minutes, given in New York time), earliest first"
        )
        assert self.store.due((T0 + 5 * MINUTE).astimezone(_TOKYO)) == [
            "T-2",
            "T-6",
            "T-1",
            "T-3",
        ], (
            "due(T0 + 5 minutes, given in Tokyo time) must list T-2, T-6, T-1, T-3: earliest "
            "first, ties by id, instants compared whatever their zone"
        )
        assert self.store.due(T0 + 5 * MINUTE, limit=2) == ["T-2", "T-6"], (
            "due(T0 + 5 minutes, limit=2) must list the 2 earliest, T-2 and T-6"
        )
        change(self.store, t1, commented("T-1", "x", at=T0 + MINUTE), wake_at=None)
        assert self.store.due(T0 + timedelta(days=1)) == ["T-2", "T-6", "T-3", "T-4"], (
            "due(T0 + 1 day) after an append to T-1 with wake_at=None must no longer list T-1: "
            "expected ['T-2', 'T-6', 'T-3', 'T-4']"
        )
        with raises(ValidationError):
            self.store.due(datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose

    def test_reschedule_sets_the_wake_up_of_the_version_it_names(self) -> None:
        t1 = open_ticket(self.store, "T-1", wake_at=T0 + 5 * MINUTE)
        open_ticket(self.store, "T-2")
        assert self.store.reschedule("T-2", expected_version=1, wake_at=T0 + MINUTE) is True, (
            "reschedule('T-2', expected_version=1, wake_at=T0 + 1 minute) of T-2 at version 1 must "
            "return True"
        )
        assert self.store.reschedule("T-1", expected_version=1, wake_at=None) is True, (
            "reschedule('T-1', expected_version=1, wake_at=None) of T-1 at version 1 must return "
            "True"
        )
        assert self.store.due(T0 + timedelta(days=1)) == ["T-2"], (
            "due(T0 + 1 day) after reschedule() set T-2's wake-up and cleared T-1's must list T-2 "
            "only"
        )
        assert self.store.load("T-1") == t1, (  # no event, no new version
            "load('T-1') after reschedule() must return the same snapshot: a reschedule records no "
            "event and makes no new version"
        )
        assert self.store.events("T-1") == [self.store.events("T-1")[0]], (
            "events('T-1') after reschedule() must hold the TicketOpened only: a reschedule "
            "records no event"
        )
        # An append after a reschedule sets the wake-up it is given, even the one the
        # ticket had before (a store must not skip it as unchanged).
        t1 = change(self.store, t1, commented("T-1", "x", at=T0), wake_at=T0 + 5 * MINUTE)
        assert self.store.due(T0 + 5 * MINUTE) == ["T-2", "T-1"], (
            "due(T0 + 5 minutes) after an append to T-1 with wake_at=T0 + 5 minutes (its wake-up "
            "before reschedule() cleared it) must list T-2 and T-1: an append sets the wake_at it "
            "is given"
        )
        # A version that moved on is left alone: whoever moved it set its wake-up.
        assert self.store.reschedule("T-1", expected_version=1, wake_at=T0) is False, (
            "reschedule('T-1', expected_version=1, wake_at=T0) of T-1, now at version 2, must "
            "return False and change nothing: the version it names moved on"
        )
        assert self.store.due(T0 + 5 * MINUTE - _ONE_US) == ["T-2"], (
            "due(T0 + 5 minutes - 1 microsecond) after a refused reschedule('T-1', "
            "expected_version=1, wake_at=T0) must list T-2 only: T-1 keeps its wake-up at T0 + 5 "
            "minutes"
        )
        with raises(NotFound):
            self.store.reschedule("T-404", expected_version=1, wake_at=None)
        with raises(ValidationError):
            self.store.reschedule("T-1", expected_version=0, wake_at=None)
        with raises(ValidationError):
            self.store.reschedule("T-1", expected_version=2, wake_at=datetime(2026, 1, 1))  # noqa: DTZ001
        # Inside a unit of work that fails, it is undone with the rest.
        with raises(RuntimeError), self.store.unit_of_work():
            self.store.reschedule("T-1", expected_version=t1.version, wake_at=None)
            raise RuntimeError("rolled back")
        assert self.store.due(T0 + 5 * MINUTE) == ["T-2", "T-1"], (
            "due(T0 + 5 minutes) after a reschedule() in a unit of work that failed must list T-2 "
            "and T-1: the reschedule is undone"
        )

    def test_claimed_tickets_are_leased(self) -> None:
        tickets = {i: open_ticket(self.store, f"T-{i}", wake_at=T0 + i * MINUTE) for i in range(4)}
        # Instants in other zones, as a desk's clock tells them: the same instants.
        now = (T0 + 10 * MINUTE).astimezone(_TOKYO)
        lease = timedelta(minutes=5)
        first = self.store.claim_due(now, worker="w1", limit=2, lease=lease)
        assert first == ["T-0", "T-1"], (
            "claim_due(T0 + 10 minutes, worker='w1', limit=2) must claim the 2 earliest due "
            f"tickets, T-0 and T-1, got {first}"
        )
        assert self.store.claim_due(now, worker="w2", lease=lease) == ["T-2", "T-3"], (
            "claim_due(T0 + 10 minutes, worker='w2') must claim only the due tickets w1 does not "
            "hold, T-2 and T-3"
        )
        assert self.store.claim_due(now, worker="w3", lease=lease) == [], (
            "claim_due(T0 + 10 minutes, worker='w3') while w1 and w2 hold every due ticket must "
            "claim nothing"
        )
        # A worker's own live leases are skipped too: run again early, it takes nothing.
        assert self.store.claim_due(now, worker="w1", lease=lease) == [], (
            "claim_due gave a worker the tickets it holds already"
        )
        assert self.store.due(now) == ["T-0", "T-1", "T-2", "T-3"], (
            "due(T0 + 10 minutes) must list claimed tickets too: a lease hides them from claim_due "
            "only"
        )
        change(
            self.store, tickets[1], commented("T-1", "x", at=T0 + MINUTE), wake_at=T0 + 2 * MINUTE
        )
        assert self.store.claim_due(now, worker="w3", lease=lease) == ["T-1"], (
            "claim_due(T0 + 10 minutes, worker='w3') after an append to T-1 must claim T-1: an "
            "append ends the ticket's lease"
        )
        # The leases hold until now + lease, not a moment less.
        assert self.store.claim_due(now + lease - _ONE_US, worker="w5", lease=lease) == [], (
            "claim_due(now + lease - 1 microsecond, worker='w5') must claim nothing: the leases "
            "hold until now + lease"
        )
        later = (now + lease).astimezone(_NEW_YORK)
        assert self.store.claim_due(later, worker="w4", lease=lease) == [
            "T-0",
            "T-1",
            "T-2",
            "T-3",
        ], (
            "claim_due(now + lease, given in New York time, worker='w4') must claim every due "
            "ticket: the leases ran out"
        )
        with raises(ValidationError, match="lease"):
            self.store.claim_due(now, worker="w", lease=timedelta(0))

    def test_claims_by_concurrent_workers_never_overlap(self) -> None:
        for i in range(40):
            open_ticket(self.store, f"T-{i:02d}", wake_at=T0 + (i % 7) * MINUTE)
        got: dict[str, list[str]] = {}
        errors: list[BaseException] = []

        def work(name: str, store: Store) -> None:
            try:
                mine = got.setdefault(name, [])
                for _ in range(41):  # a store that re-offers claimed tickets fails, not hangs
                    batch = store.claim_due(T0 + timedelta(hours=1), worker=name, limit=3)
                    if not batch:
                        break
                    mine.extend(batch)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(f"w{i}", self._peer())) for i in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, f"claim_due() in {self.workers} threads raised: {errors!r}"
        claimed = [ticket_id for batch in got.values() for ticket_id in batch]
        assert sorted(claimed) == [f"T-{i:02d}" for i in range(40)], (
            f"claim_due() by {self.workers} concurrent workers must claim each of the 40 due "
            f"tickets exactly once, got {sorted(claimed)}"
        )

    # -- event stream -----------------------------------------------------------------

    def test_event_stream_is_global_order(self) -> None:
        t1 = open_ticket(self.store, "T-1")
        t2 = open_ticket(self.store, "T-2")
        change(self.store, t1, commented("T-1", "a", at=T0 + MINUTE))
        change(
            self.store,
            t2,
            commented("T-2", "b", at=T0 + MINUTE),
            commented("T-2", "c", at=T0 + 2 * MINUTE),
        )
        stream = self.store.event_stream()
        assert isinstance(stream, Iterator), (
            f"event_stream() must return an iterator, got {type(stream).__name__}"
        )
        items = list(stream)
        positions = [p for p, _ in items]
        assert positions == sorted(positions), (
            f"event_stream() must give increasing positions, got {positions}"
        )
        assert len(set(positions)) == 5, (
            f"event_stream() must give 5 different positions for 5 events, got {positions}"
        )
        assert [(e.ticket_id, type(e).__name__) for _, e in items] == [
            ("T-1", "TicketOpened"),
            ("T-2", "TicketOpened"),
            ("T-1", "CommentAdded"),
            ("T-2", "CommentAdded"),
            ("T-2", "CommentAdded"),
        ], "event_stream() must give the events in the order they were appended, across tickets"
        after = list(self.store.event_stream(after=positions[1]))
        assert after == items[2:], (
            f"event_stream(after={positions[1]}) must give the events after the second position"
        )
        assert list(self.store.event_stream(after=positions[0], limit=2)) == items[1:3], (
            f"event_stream(after={positions[0]}, limit=2) must give the 2 events after the first "
            "position"
        )
        assert list(self.store.event_stream(after=positions[-1])) == [], (
            f"event_stream(after={positions[-1]}) from the last position must give nothing"
        )

    def test_event_stream_reads_in_chunks(self) -> None:
        for i in range(1200):
            event = opened(f"T-{i:04d}", i + 1)
            self.store.append(
                event.ticket_id, expected_version=0, events=[event], snapshot=replay([event])
            )
        count = 0
        last = 0
        for position, streamed in self.store.event_stream():
            assert position > last, (
                f"event_stream() gave position {position} after {last}: positions must increase"
            )
            assert streamed.ticket_id == f"T-{count:04d}", (
                f"event_stream() must give the 1200 events in the order appended: event {count} is "
                f"of {streamed.ticket_id}, expected T-{count:04d}"
            )
            last = position
            count += 1
        assert count == 1200, (
            f"event_stream() of 1200 events (read in chunks) must give all of them, got {count}"
        )
        assert len(list(self.store.event_stream(limit=700))) == 700, (
            "event_stream(limit=700) must give 700 events"
        )

    def test_event_stream_limit_counts_events_not_purged_positions(self) -> None:
        # A reader pages the stream (``limit``, then ``after`` the last position read) and
        # takes a short page for its end. Positions a purge left empty must not count
        # against the limit: a reader behind a purged ticket would stop there for good.
        first = open_ticket(self.store, "T-1")
        gone = open_ticket(self.store, "T-2")
        for minute in (1, 2, 3):
            gone = change(self.store, gone, commented("T-2", f"c{minute}", at=T0 + minute * MINUTE))
        change(self.store, first, commented("T-1", "x", at=T0 + 5 * MINUTE))
        open_ticket(self.store, "T-3")
        self.store.purge("T-2", expected_version=gone.version)
        stream = list(self.store.event_stream())
        assert [e.ticket_id for _, e in stream] == ["T-1", "T-1", "T-3"], (
            "event_stream() after T-2 was purged must give the events of T-1, T-1 and T-3 only"
        )
        for after in (0, stream[0][0]):
            rest = [item for item in stream if item[0] > after]
            for limit in (1, 2, 3):
                page = list(self.store.event_stream(after=after, limit=limit))
                assert page == rest[:limit], (
                    f"event_stream(after={after}, limit={limit}) gave "
                    f"{[p for p, _ in page]}, not {[p for p, _ in rest[:limit]]}"
                )

    # -- people, cursors, loads, configuration ----------------------------------------

    def test_requesters(self) -> None:
        alice = Requester(
            id="r-1",
            name="Alice",
            email="Alice@Example.ORG",
            vip=True,
            attributes={"admin": True, "seats": 1, "share": 0.5, "plan": "gold", "note": None},
        )
        self.store.save_requester(alice)
        self.store.save_requester(Requester(id="r-2", name="Bob"))
        assert self.store.get_requester("r-1") == alice, (
            "get_requester('r-1') must return the requester saved, equal field for field"
        )
        found = self.store.find_requester(email="alice@example.org")
        for requester in (self.store.get_requester("r-1"), found):
            assert requester is not None, (
                "find_requester(email='alice@example.org') must find r-1, saved with "
                "'Alice@Example.ORG'"
            )
            assert _typed(requester.attributes) == _typed(alice.attributes), (
                "an attribute changed its type"
            )
        assert self.store.find_requester(email="alice@example.org") == alice, (
            "find_requester(email='alice@example.org') must find r-1, saved with email "
            "'Alice@Example.ORG': emails compare in lower case"
        )
        assert self.store.find_requester(email="ALICE@EXAMPLE.ORG") == alice, (
            "find_requester(email='ALICE@EXAMPLE.ORG') must find r-1, saved with email "
            "'Alice@Example.ORG': emails compare in lower case"
        )
        assert self.store.find_requester(email="nobody@example.org") is None, (
            "find_requester(email='nobody@example.org') must return None"
        )
        moved_alice = Requester(id="r-1", name="Alice", email="alice@new.example")
        self.store.save_requester(moved_alice)
        assert self.store.find_requester(email="alice@example.org") is None, (
            "find_requester(email='alice@example.org') after r-1 was saved with a new email must "
            "return None"
        )
        assert self.store.find_requester(email="ALICE@new.example") == moved_alice, (
            "find_requester(email='ALICE@new.example') must find r-1 by its new email"
        )
        self.store.save_requester(Requester(id="r-0", name="Twin", email="alice@new.example"))
        found = self.store.find_requester(email="alice@new.example")
        assert found is not None, (
            "find_requester(email='alice@new.example') must find one of r-0 and r-1, which share it"
        )
        assert found.id == "r-0", (
            "find_requester(email='alice@new.example') shared by r-0 and r-1 must return the "
            f"smallest id, r-0, got {found.id!r}"
        )

    def test_an_address_is_never_matched_to_another_mailbox(self) -> None:
        # Letters compare in lower case; a case fold would also make "ß" and "ss" alike,
        # and send one person's mail to another.
        sabine = Requester(id="r-1", name="Sabine", email="strasse@example.de")
        jorg = Requester(id="r-0", name="J\u00f6rg", email="STRA\u00dfE@example.de")
        self.store.save_requester(sabine)
        assert self.store.find_requester(email="stra\u00dfe@example.de") is None, (
            "find_requester(email='straße@example.de') must not find the requester of "
            "'strasse@example.de': emails compare in lower case, not case-folded"
        )
        assert self.store.find_requester(email="Strasse@Example.DE") == sabine, (
            "find_requester(email='Strasse@Example.DE') must find the requester of "
            "'strasse@example.de'"
        )
        self.store.save_requester(jorg)  # a smaller id, and the same case fold as sabine's
        assert self.store.find_requester(email="strasse@example.de") == sabine, (
            "find_requester(email='strasse@example.de') must find r-1 (strasse@), not r-0 "
            "(STRAßE@), whose case fold is the same"
        )
        assert self.store.find_requester(email="stra\u00dfe@example.de") == jorg, (
            "find_requester(email='straße@example.de') must find r-0, saved with "
            "'STRAßE@example.de'"
        )
        assert self.store.find_requester(email="STRA\u1e9eE@EXAMPLE.DE") == jorg, (
            "find_requester(email='STRAẞE@EXAMPLE.DE') must find r-0, saved with "
            "'STRAßE@example.de' (the same in lower case)"
        )

    def test_cursors(self) -> None:
        assert self.store.get_cursor("rr:desk") == 0, (
            "get_cursor('rr:desk') of a cursor never set must return 0"
        )
        self.store.set_cursor("rr:desk", 5)
        self.store.set_cursor("rr:ops", -2)
        self.store.set_cursor("rr:desk", 6)
        assert (self.store.get_cursor("rr:desk"), self.store.get_cursor("rr:ops")) == (6, -2), (
            "get_cursor('rr:desk'), get_cursor('rr:ops') after set_cursor('rr:desk', 6) and "
            "set_cursor('rr:ops', -2) must be (6, -2)"
        )
        with raises(ValidationError):
            self.store.set_cursor("rr:desk", True)
        # A cursor is any 64-bit whole number, kept exactly (not in 32 bits, not as a
        # floating-point number, which rounds whole numbers past 2**53).
        for value in _WIDE_CURSORS:
            self.store.set_cursor("rr:wide", value)
            got = self.store.get_cursor("rr:wide")
            assert got == value, f"set_cursor({value}) reads back as {got!r}"

    def test_cursor_claims_when_the_store_offers_them(self) -> None:
        store = self.store
        if not isinstance(store, CursorClaims):
            return  # optional: the email channel falls back to a read and a write
        assert store.claim_cursor("seen:m1", -1), (
            "claim_cursor('seen:m1', -1) of an unset cursor must return True"
        )
        assert not store.claim_cursor("seen:m1", 7), (  # held
            "claim_cursor('seen:m1', 7) of a cursor held at -1 must return False"
        )
        assert store.get_cursor("seen:m1") == -1, (
            "get_cursor('seen:m1') after a claim with -1 and a refused one with 7 must be -1"
        )
        store.set_cursor("seen:m1", 0)  # released: 0 reads as unset
        assert store.claim_cursor("seen:m1", 7), (
            "claim_cursor('seen:m1', 7) after set_cursor('seen:m1', 0) must return True: 0 reads "
            "as unset"
        )
        assert store.get_cursor("seen:m1") == 7, (
            "get_cursor('seen:m1') after claim_cursor('seen:m1', 7) must be 7"
        )
        with raises(RuntimeError), store.unit_of_work():
            assert store.claim_cursor("seen:m2", 3), (
                "claim_cursor('seen:m2', 3) of an unset cursor inside a unit of work must return "
                "True"
            )
            raise RuntimeError("rolled back")
        assert store.get_cursor("seen:m2") == 0, (
            "get_cursor('seen:m2') after a claim in a unit of work that failed must be 0: the "
            "claim is undone"
        )
        assert store.claim_cursor("seen:m2", 4), (
            "claim_cursor('seen:m2', 4) after a claim that was undone must return True"
        )
        for number, value in enumerate(_WIDE_CURSORS):
            assert store.claim_cursor(f"seen:w{number}", value), (
                f"claim_cursor('seen:w{number}', {value}) of an unset cursor must return True"
            )
            got = store.get_cursor(f"seen:w{number}")
            assert got == value, f"claim_cursor({value}) reads back as {got!r}"
        for bad in (0, True, 2**63, "1"):
            with raises(ValidationError):
                store.claim_cursor("seen:m3", bad)
        with raises(ValidationError):
            store.claim_cursor("", 1)
        assert store.get_cursor("seen:m3") == 0, (
            "get_cursor('seen:m3') after claim_cursor() refused bad values must be 0"
        )

    def test_cursor_deletion_when_the_store_offers_it(self) -> None:
        store = self.store
        if not isinstance(store, CursorDeletion):
            return  # optional: records of received messages then outlive their tickets
        for key, value in (
            ("email-seen:a", 1),
            ("email-seen:b", 2),
            ("email-seen:c", 3),
            ("email-seen:d", 1),
            ("email-seenx", 1),  # another prefix that merely starts alike
            ("rr:desk", 1),
            ("email-seen%_", 1),  # LIKE wildcards in a key match nothing but themselves
        ):
            store.set_cursor(key, value)
        with raises(RuntimeError), store.unit_of_work():
            assert store.delete_cursors("email-seen:", values=[1, 2]) == 3, (
                "delete_cursors('email-seen:', values=[1, 2]) must delete the 3 cursors of that "
                "prefix whose value is 1 or 2"
            )
            raise RuntimeError("rolled back")
        assert store.get_cursor("email-seen:a") == 1, (
            "get_cursor('email-seen:a') after delete_cursors() in a unit of work that failed must "
            "be 1: the deletion is undone"
        )
        assert store.delete_cursors("email-seen:", values=iter([1, 3, 99])) == 3, (
            "delete_cursors('email-seen:', values=iter([1, 3, 99])) must delete the 3 cursors of "
            "that prefix whose value is 1 or 3"
        )
        remaining = {
            key: store.get_cursor(key)
            for key in ("email-seen:a", "email-seen:b", "email-seen:c", "email-seen:d",
                        "email-seenx", "rr:desk", "email-seen%_")
        }
        assert remaining == {
            "email-seen:a": 0, "email-seen:b": 2, "email-seen:c": 0, "email-seen:d": 0,
            "email-seenx": 1, "rr:desk": 1, "email-seen%_": 1,
        }, "delete_cursors deleted other cursors than those of the prefix and values"
        assert store.delete_cursors("email-seen:", values=[]) == 0, (
            "delete_cursors('email-seen:', values=[]) must delete nothing and return 0"
        )
        assert store.delete_cursors("email-seen%", values=[1]) == 1, (
            "delete_cursors('email-seen%', values=[1]) must delete only the key 'email-seen%_': % "
            "is no wildcard"
        )
        assert store.get_cursor("email-seenx") == 1, (
            "get_cursor('email-seenx') after delete_cursors('email-seen%', values=[1]) must be 1: "
            "% and _ are no wildcards"
        )
        for bad in ("", 7, None, "x\x00"):
            with raises(ValidationError):
                store.delete_cursors(bad, values=[1])
        for values in ("12", 3, [1.5], [True], [2**63], None):
            with raises(ValidationError):
                store.delete_cursors("rr:", values=values)
        assert store.get_cursor("rr:desk") == 1, (
            "get_cursor('rr:desk') after delete_cursors() refused bad arguments must be 1"
        )

    def test_concurrent_cursor_claims_have_one_winner(self) -> None:
        if not isinstance(self.store, CursorClaims):
            return
        won: list[tuple[str, int]] = []
        errors: list[BaseException] = []

        def work(worker: int, store: Store) -> None:
            try:
                assert isinstance(store, CursorClaims), (
                    "open_peer() of a store with CursorClaims gave a handle without claim_cursor"
                )
                for i in range(20):
                    with store.unit_of_work():
                        if store.claim_cursor(f"seen:{i}", -1):
                            won.append((f"seen:{i}", worker))
                            store.set_cursor(f"seen:{i}", worker + 1)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(w, self._peer())) for w in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, f"claim_cursor() in {self.workers} threads raised: {errors!r}"
        assert sorted(key for key, _ in won) == sorted(f"seen:{i}" for i in range(20)), (
            f"claim_cursor() of 20 keys by {self.workers} concurrent workers must give each key "
            f"exactly one winner, got {sorted(key for key, _ in won)}"
        )
        for key, worker in won:
            assert self.store.get_cursor(key) == worker + 1, (
                f"get_cursor({key!r}) must hold the value its one winner, worker {worker}, set: "
                f"{worker + 1}"
            )

    def test_agent_loads_count_active_tickets(self) -> None:
        self._populate()
        assert self.store.agent_loads() == {"a-1": {Priority.HIGH: 1}}, (
            "agent_loads() must count each agent's active tickets by priority: expected a-1 with "
            f"one high (T-a), got {self.store.agent_loads()}"
        )
        f = open_ticket(self.store, "T-f", priority=Priority.LOW)
        f = change(self.store, f, Assigned(ticket_id="T-f", at=T0, by=AGENT, assignee="a-2"))
        g = open_ticket(self.store, "T-g", priority=Priority.LOW)
        change(self.store, g, Assigned(ticket_id="T-g", at=T0, by=AGENT, assignee="a-2"))
        assert self.store.agent_loads() == {"a-1": {Priority.HIGH: 1}, "a-2": {Priority.LOW: 2}}, (
            "agent_loads() after T-f and T-g (low) were assigned to a-2 must count them"
        )
        change(self.store, f, moved("T-f", "solved", StatusCategory.SOLVED, at=T0 + MINUTE))
        assert self.store.agent_loads() == {"a-1": {Priority.HIGH: 1}, "a-2": {Priority.LOW: 1}}, (
            "agent_loads() after T-f was solved must count only a-2's active ticket T-g"
        )

    def test_config_document(self) -> None:
        assert self.store.load_config_document() is None, (
            "load_config_document() of a new store must return None"
        )
        document = {"teams": [{"id": "desk"}], "version": 2, "nested": {"a": [1, 2.5, None]}}
        self.store.save_config_document(document)
        loaded = self.store.load_config_document()
        assert loaded == document, (
            f"load_config_document() must return the document saved, got {loaded!r}"
        )
        assert loaded is not None, "load_config_document() after a save must not return None"
        loaded["teams"].append("mutated")
        assert self.store.load_config_document() == document, (
            "load_config_document() must return a fresh copy: a change to the dict it returned "
            "before reached the store"
        )
        self.store.save_config_document({"replaced": True})
        assert self.store.load_config_document() == {"replaced": True}, (
            "load_config_document() after a second save must return the new document"
        )
        for bad in ({"x": object()}, {"x": float("nan")}, ["not", "a", "mapping"]):
            with raises(ValidationError):
                self.store.save_config_document(bad)  # type: ignore[arg-type]
        assert self.store.load_config_document() == {"replaced": True}, (
            "load_config_document() after refused saves must return the document saved before them"
        )

    def test_config_document_keys_are_text_at_any_depth(self) -> None:
        # JSON turns a key 1 into "1": a document saved with one would load back with
        # other keys than it was saved with, so every store refuses it.
        self.store.save_config_document({"kept": {"a": [1]}})
        for bad in (
            {1: "a"},
            {"teams": [{"id": "desk", 2: "x"}]},
            {"a": {"b": {None: 1}}},
            {"a": [[{True: 1}]]},
            {"a": {1.5: "x"}},
        ):
            try:
                self.store.save_config_document(bad)  # type: ignore[arg-type]
            except ValidationError:
                continue
            raise AssertionError(
                f"save_config_document({bad!r}) must raise ValidationError: a key that is not "
                "text would load back as text"
            )
        stored = self.store.load_config_document()
        assert stored == {"kept": {"a": [1]}}, (
            "load_config_document() after refused saves of documents with keys that are "
            f"not text: expected the document saved before, {{'kept': {{'a': [1]}}}}, "
            f"got {stored!r}"
        )

    # -- outbox -----------------------------------------------------------------------

    def _outbox_events(self) -> list[str]:
        t1 = open_ticket(self.store, "T-1")
        t2 = open_ticket(self.store, "T-2")
        change(self.store, t1, commented("T-1", "a", at=T0 + MINUTE))
        change(self.store, t2, commented("T-2", "b", at=T0 + MINUTE))
        return ["T-1:1", "T-2:1", "T-1:2", "T-2:2"]

    def test_outbox_delivers_every_event_once_acked(self) -> None:
        ids = self._outbox_events()
        hooked = self.store.claim_outbox("hook", now=T0, limit=10)
        items = self.store.claim_outbox("mail", now=T0, limit=3)
        assert [i.id for i in items] == ids[:3], (
            "claim_outbox('mail', limit=3) must hand out the 3 oldest events in stream order, as "
            f"'<ticket id>:<version>': expected {ids[:3]}, got {[i.id for i in items]}"
        )
        assert all(i.attempts == 0 for i in items), (
            "claim_outbox('mail') of items never claimed must give attempts=0, got "
            f"{[i.attempts for i in items]}"
        )
        assert [i.position for i in items] == sorted(i.position for i in items), (
            "claim_outbox('mail') must hand out items in position order, got positions "
            f"{[i.position for i in items]}"
        )
        assert items[2].event == commented("T-1", "a", at=T0 + MINUTE), (
            "claim_outbox('mail') item T-1:2 must carry the comment appended to T-1, got "
            f"{items[2].event!r}"
        )
        assert [i.id for i in self.store.claim_outbox("mail", now=T0)] == ids[3:], (
            f"claim_outbox('mail') must hand out the item not claimed yet, {ids[3:]}, and skip the "
            "3 leased"
        )
        assert self.store.claim_outbox("mail", now=T0) == [], (
            "claim_outbox('mail') while every item is leased must hand out nothing"
        )
        self.store.ack_outbox("mail", ids)
        self.store.ack_outbox("mail", ids[:1])  # acking twice is harmless
        assert self.store.claim_outbox("mail", now=T0 + timedelta(days=1)) == [], (
            "claim_outbox('mail') a day later after ack_outbox('mail', every id) must hand out "
            "nothing: acked items never come back"
        )
        other = self.store.claim_outbox("audit", now=T0, limit=10)
        assert [i.id for i in other] == ids, (
            "claim_outbox('audit') must hand out every item to a new consumer, whatever 'mail' "
            f"acked: expected {ids}"
        )
        # An ack is the acking consumer's alone: what another one claimed before it comes
        # back to that one once its lease ran out.
        assert [i.id for i in hooked] == ids, (
            f"claim_outbox('hook') must have handed out every item: expected {ids}"
        )
        again = self.store.claim_outbox("hook", now=T0 + timedelta(days=1), limit=10)
        assert [(i.id, i.attempts) for i in again] == [(i, 1) for i in ids], (
            "claim_outbox('hook') a day later must hand out every item again with attempts=1: "
            "'mail' acked them, not 'hook', whose lease ran out"
        )
        t3 = open_ticket(self.store, "T-3")
        assert [i.id for i in self.store.claim_outbox("mail", now=T0)] == ["T-3:1"], (
            "claim_outbox('mail') after T-3 was opened must hand out its item T-3:1 only"
        )
        assert t3.version == 1, "a ticket opened with one event must be at version 1"
        # Every event of one append reaches a consumer that is already there.
        self.store.ack_outbox("mail", ["T-3:1"])
        change(
            self.store,
            t3,
            commented("T-3", "c", at=T0 + MINUTE),
            commented("T-3", "d", at=T0 + 2 * MINUTE),
            commented("T-3", "e", at=T0 + 3 * MINUTE),
        )
        assert [i.id for i in self.store.claim_outbox("mail", now=T0)] == [
            "T-3:2",
            "T-3:3",
            "T-3:4",
        ], (
            "claim_outbox('mail') after one append of 3 events to T-3 must hand out an item for "
            "each of them"
        )

    def test_outbox_release_and_lease_expiry(self) -> None:
        ids = self._outbox_events()
        lease = timedelta(seconds=30)
        self.store.claim_outbox("mail", now=T0, lease=lease)
        self.store.release_outbox("mail", ids[1:2], error="SMTP 451")
        again = self.store.claim_outbox("mail", now=T0, lease=lease)
        assert [(i.id, i.attempts) for i in again] == [("T-2:1", 1)], (
            "claim_outbox('mail') after release_outbox('mail', ['T-2:1']) must hand out T-2:1 "
            "again with attempts=1"
        )
        self.store.ack_outbox("mail", ids[2:3])
        # Instants in other zones, as a desk's clock tells them: the same instants.
        held = (T0 + lease - timedelta(seconds=1)).astimezone(_TOKYO)
        ran_out = (T0 + lease).astimezone(_NEW_YORK)
        assert self.store.claim_outbox("mail", now=held) == [], (
            "claim_outbox('mail') 1 second before the leases run out must hand out nothing"
        )
        expired = self.store.claim_outbox("mail", now=ran_out, lease=lease)
        assert [(i.id, i.attempts) for i in expired] == [
            ("T-1:1", 1),
            ("T-2:1", 2),
            ("T-2:2", 1),
        ], (
            "claim_outbox('mail') when the leases ran out must hand out the items not acked, each "
            "with one more attempt"
        )
        self.store.release_outbox("mail", ["T-1:1"])
        self.store.release_outbox("mail", ["T-1:1"])  # no longer leased: no change
        self.store.ack_outbox("mail", ["T-2:1", "T-2:2"])
        final = self.store.claim_outbox("mail", now=T0 + lease)
        assert [(i.id, i.attempts) for i in final] == [("T-1:1", 2)], (
            "claim_outbox('mail') after a release of T-1:1 and a second release of it (no longer "
            "leased) must hand it out with attempts=2, not 3"
        )
        self.store.ack_outbox("mail", ["T-1:1"])
        assert self.store.claim_outbox("mail", now=T0 + timedelta(days=9)) == [], (
            "claim_outbox('mail') after every item was acked must hand out nothing"
        )

    def test_a_lease_that_ran_out_cannot_give_back_the_next_claim(self) -> None:
        self._outbox_events()
        lease = timedelta(seconds=60)
        stalled = self.store.claim_outbox("mail", now=T0, limit=1, lease=lease)
        taken = self.store.claim_outbox("mail", now=T0 + lease, limit=1, lease=lease)
        assert [i.id for i in stalled] == [i.id for i in taken] == ["T-1:1"], (
            "claim_outbox('mail', limit=1) at T0 and again when the lease ran out must both hand "
            "out T-1:1"
        )
        # The stalled worker gives its item back: the lease is another's now, and holds.
        self.store.release_outbox("mail", stalled, error="SMTP timeout")
        later = T0 + lease + timedelta(seconds=1)
        assert "T-1:1" not in [i.id for i in self.store.claim_outbox("mail", now=later)], (
            "claim_outbox('mail') after release_outbox() of the OutboxItem of a lease that ran out "
            "must not hand out T-1:1: the second claim's lease holds it"
        )
        # The worker that holds the lease gives it back; so would anyone by the bare id.
        self.store.release_outbox("mail", taken, error="SMTP 451")
        again = self.store.claim_outbox("mail", now=later, limit=1)
        assert [(i.id, i.attempts) for i in again] == [("T-1:1", 2)], (
            "claim_outbox('mail') after the holder of the lease released T-1:1 must hand it out "
            "with attempts=2"
        )
        self.store.release_outbox("mail", ["T-1:1"])
        assert [i.id for i in self.store.claim_outbox("mail", now=later, limit=1)] == ["T-1:1"], (
            "claim_outbox('mail') after release_outbox('mail', ['T-1:1']) by id must hand out T-1:1"
        )
        with raises(ValidationError):
            self.store.release_outbox("mail", "T-1:1")

    def test_outbox_refuses_unknown_items(self) -> None:
        self._outbox_events()
        with raises(NotFound):
            self.store.ack_outbox("mail", ["T-1:1", "T-404:1"])
        with raises(NotFound):
            self.store.release_outbox("mail", ["T-1:9"])
        with raises(ValidationError):
            self.store.ack_outbox("mail", ["no-version"])
        # every id is checked before any is looked up: a malformed one wins over a missing
        with raises(ValidationError):
            self.store.release_outbox("mail", ["T-404:1", "no-version"])
        assert len(self.store.claim_outbox("mail", now=T0)) == 4, (
            "claim_outbox('mail') after refused ack_outbox() and release_outbox() calls must hand "
            "out all 4 items"
        )

    def test_concurrent_outbox_claims_never_share_an_item(self) -> None:
        peers = [self._peer() for _ in range(self.workers)]
        for round_ in range(3):  # races are probabilistic: several rounds catch more
            expected = []
            for i in range(30):
                open_ticket(self.store, f"T-{round_}-{i:02d}")
                expected.append(f"T-{round_}-{i:02d}:1")
            got: dict[str, list[str]] = {}
            errors: list[BaseException] = []

            threads = [
                threading.Thread(target=_deliver, args=(peer, got.setdefault(f"w{i}", []), errors))
                for i, peer in enumerate(peers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not errors, (
                f"claim_outbox() and ack_outbox() in {self.workers} threads raised: {errors!r}"
            )
            delivered = [item for batch in got.values() for item in batch]
            assert sorted(delivered) == expected, (
                f"claim_outbox('mail') by {self.workers} concurrent workers (round {round_}) must "
                f"hand out each of the 30 new items exactly once, got {sorted(delivered)}"
            )
        assert self.store.claim_outbox("mail", now=T0 + timedelta(days=1)) == [], (
            "claim_outbox('mail') after the workers acked everything must hand out nothing"
        )

    # -- transactions and lifecycle ---------------------------------------------------

    def test_unit_of_work_commits_together(self) -> None:
        with self.store.unit_of_work():
            ticket = open_ticket(self.store, "T-1")
            change(self.store, ticket, commented("T-1", "x", at=T0 + MINUTE))
            self.store.set_cursor("rr", 3)
            with self.store.unit_of_work():
                self.store.save_requester(Requester(id="r-1"))
        assert self.store.load("T-1").version == 2, (
            "load('T-1') after a unit of work that opened it and appended to it must be at version "
            "2"
        )
        assert self.store.get_cursor("rr") == 3, (
            "get_cursor('rr') after a unit of work that set it to 3 must be 3"
        )
        assert self.store.get_requester("r-1") == Requester(id="r-1"), (
            "get_requester('r-1') after a nested unit of work that saved it must return it"
        )

    def test_unit_of_work_rolls_everything_back(self) -> None:
        kept = open_ticket(self.store, "T-0", wake_at=T0)
        self.store.set_cursor("rr", 1)
        self.store.claim_outbox("mail", now=T0)
        with raises(RuntimeError), self.store.unit_of_work():
            ticket = open_ticket(self.store, "T-1", wake_at=T0)
            change(self.store, kept, commented("T-0", "x", at=T0 + MINUTE), wake_at=None)
            self.store.set_cursor("rr", 2)
            self.store.save_requester(Requester(id="r-1", email="a@b.c"))
            self.store.save_config_document({"a": 1})
            self.store.ack_outbox("mail", ["T-0:1"])
            self.store.claim_due(T0, worker="w")
            assert self.store.load("T-1") == ticket, (
                "load('T-1') inside the unit of work that opened it must return it"
            )
            raise RuntimeError("boom")
        with raises(NotFound):
            self.store.load("T-1")
        assert self.store.load("T-0") == kept, (
            "load('T-0') after a unit of work that appended to it failed must return it as before"
        )
        assert self.store.events("T-0") == [opened("T-0", kept.number)], (
            "events('T-0') after a unit of work that appended to it failed must hold the "
            "TicketOpened only"
        )
        assert self.store.get_cursor("rr") == 1, (
            "get_cursor('rr') after a unit of work that set it to 2 failed must be 1, as before"
        )
        assert self.store.find_requester(email="a@b.c") is None, (
            "find_requester(email='a@b.c') after a unit of work that saved the requester failed "
            "must return None"
        )
        assert self.store.load_config_document() is None, (
            "load_config_document() after a unit of work that saved one failed must return None"
        )
        assert self.store.due(T0) == ["T-0"], (
            "due(T0) after a unit of work that opened T-1 (due at T0) and cleared T-0's wake-up "
            "failed must list T-0 only"
        )
        assert self.store.claim_due(T0, worker="w") == ["T-0"], (
            "claim_due(T0, worker='w') after a unit of work that claimed T-0 failed must claim "
            "T-0: the claim is undone"
        )
        assert [e.ticket_id for _, e in self.store.event_stream()] == ["T-0"], (
            "event_stream() after a unit of work that appended events failed must give T-0's "
            "TicketOpened only"
        )
        assert [i.id for i in self.store.claim_outbox("mail", now=T0 + timedelta(hours=1))] == [
            "T-0:1"
        ], (
            "claim_outbox('mail') after a unit of work that acked T-0:1 failed must hand it out "
            "again: the ack is undone"
        )

    def test_unit_of_work_rolls_back_on_an_interrupt(self) -> None:
        # KeyboardInterrupt and SystemExit are no Exception: a block they end is undone
        # all the same, and the store goes on working.
        kept = open_ticket(self.store, "T-0")
        for number, interrupt in enumerate((KeyboardInterrupt, SystemExit), start=1):
            with raises(interrupt), self.store.unit_of_work():
                open_ticket(self.store, f"T-{number}")
                change(self.store, kept, commented("T-0", "x", at=T0 + MINUTE))
                self.store.set_cursor("rr", number)
                raise interrupt()
            assert self.store.get_many([f"T-{number}"]) == [], (
                f"get_many(['T-{number}']) after a unit of work that opened it was ended by "
                f"{interrupt.__name__} must return []"
            )
            assert self.store.load("T-0") == kept, (
                "load('T-0') after a unit of work that appended to it was ended by "
                f"{interrupt.__name__} must return it as before"
            )
            assert self.store.get_cursor("rr") == 0, (
                "get_cursor('rr') after a unit of work that set it was ended by "
                f"{interrupt.__name__} must be 0"
            )
            assert [e.ticket_id for _, e in self.store.event_stream()] == ["T-0"], (
                f"event_stream() after a unit of work ended by {interrupt.__name__} must give "
                "T-0's TicketOpened only"
            )
        with self.store.unit_of_work():
            self.store.set_cursor("outer", 1)
            with raises(KeyboardInterrupt), self.store.unit_of_work():
                self.store.set_cursor("inner", 1)
                raise KeyboardInterrupt
        assert (self.store.get_cursor("outer"), self.store.get_cursor("inner")) == (1, 0), (
            "get_cursor('outer'), get_cursor('inner') after a nested unit of work that set 'inner' "
            "was ended by KeyboardInterrupt must be (1, 0): only the inner unit is undone"
        )
        latest = change(self.store, kept, commented("T-0", "y", at=T0 + MINUTE))
        assert self.store.load("T-0") == latest, (
            "load('T-0') after an append following the interrupted units of work must return the "
            "snapshot appended: the store goes on working"
        )

    def test_a_claim_waits_for_the_unit_of_work_that_claimed_the_key(self) -> None:
        # Thread A claims a key inside a unit of work and keeps it open; thread B claims
        # the same key meanwhile. B must not see A's claim before A ends (B would lose to
        # a claim that is then undone), nor ignore it (both would win): B waits, and wins
        # only if A's block was undone.
        if not isinstance(self.store, CursorClaims):
            return
        holder, other = self._peer(), self._peer()
        assert isinstance(holder, CursorClaims), (
            "open_peer() of a store with CursorClaims gave a handle without claim_cursor"
        )
        assert isinstance(other, CursorClaims), (
            "open_peer() of a store with CursorClaims gave a handle without claim_cursor"
        )
        for keep in (False, True):
            key = f"seen:{keep}"
            claimed, asking = threading.Event(), threading.Event()
            won: list[bool] = []

            def work(
                index: int,
                barrier: threading.Barrier,
                key: str = key,
                keep: bool = keep,
                claimed: threading.Event = claimed,
                asking: threading.Event = asking,
                won: list[bool] = won,
            ) -> None:
                barrier.wait()
                if index == 0:
                    try:
                        with holder.unit_of_work():
                            assert holder.claim_cursor(key, 1), (
                                f"claim_cursor({key!r}, 1) of an unset cursor inside a unit of "
                                "work must return True"
                            )
                            claimed.set()
                            asking.wait(5)
                            _pause(0.05)  # the other thread is in its claim by now
                            if not keep:
                                raise _Planned("rolled back")
                    except _Planned:
                        pass
                else:
                    claimed.wait(5)
                    asking.set()
                    won.append(other.claim_cursor(key, 2))

            _together(work, 2, [holder, other])
            assert won == [not keep], (
                f"claim_cursor({key!r}, 2) while another handle's unfinished unit of work held the "
                f"key: the claim won {won}, expected {[not keep]}, as the holder's unit of work "
                f"was then {'kept' if keep else 'undone'}"
            )
            assert self.store.get_cursor(key) == (1 if keep else 2), (
                f"get_cursor({key!r}) after the race must be {1 if keep else 2}: the holder's "
                "value if its unit of work was kept, else the other claim's"
            )

    def test_a_requester_lock_holds_back_tickets_given_to_the_requester(self) -> None:
        # Thread A locks requester "ada" inside a unit of work and reads their tickets (as
        # an erasure does); thread B, on another handle, then opens a ticket for ada and
        # moves bob's ticket to her. Neither may commit before A's block ends: A would
        # act on a list of ada's tickets that misses them. B waits, then both land.
        if not isinstance(self.store, RequesterLock):
            return
        open_ticket(self.store, "T-0", requester="ada")
        bobs = open_ticket(self.store, "T-1", requester="bob")
        holder, other = self._peer(), self._peer()
        assert isinstance(holder, RequesterLock), (
            "open_peer() of a store with RequesterLock gave a handle without lock_requester"
        )
        locked, writing = threading.Event(), threading.Event()
        seen: dict[str, list[str]] = {}
        ada = TicketQuery(requester="ada")

        def work(index: int, barrier: threading.Barrier) -> None:
            barrier.wait()
            if index == 0:
                with holder.unit_of_work():
                    holder.lock_requester("ada")
                    seen["read first"] = _ids(holder.query(ada).items)
                    locked.set()
                    writing.wait(5)
                    _pause(0.2)  # the other thread has written by now, or waits
                    seen["read last"] = _ids(holder.query(ada).items)
            else:
                locked.wait(5)
                writing.set()
                with other.unit_of_work():
                    open_ticket(other, "T-2", requester="ada")
                    note = commented("T-1", "hers now", at=T0 + MINUTE)
                    other.append(
                        "T-1",
                        expected_version=bobs.version,
                        events=[note],
                        snapshot=attrs.evolve(apply_event(bobs, note), requester="ada"),
                    )

        _together(work, 2, [holder, other])
        assert seen == {"read first": ["T-0"], "read last": ["T-0"]}, (
            "a ticket given to a locked requester was written before the lock's block ended"
        )
        assert sorted(_ids(self.store.query(ada).items)) == ["T-0", "T-1", "T-2"], (
            "query(TicketQuery(requester='ada')) after both units of work ended must find T-0, T-1 "
            "and T-2"
        )
        # Outside a unit of work the lock holds nothing.
        holder.lock_requester("ada")
        open_ticket(other, "T-3", requester="ada")
        assert sorted(_ids(holder.query(ada).items)) == ["T-0", "T-1", "T-2", "T-3"], (
            "query(TicketQuery(requester='ada')) after lock_requester('ada') outside a unit of "
            "work must find T-3, opened by another handle: the lock holds nothing outside a unit "
            "of work"
        )

    def test_other_handles_see_nothing_of_an_unfinished_unit_of_work(self) -> None:
        # Thread A writes inside a unit of work on one handle and keeps it open; thread B
        # reads meanwhile on another. B may wait for A's block or read what was there
        # before it, never what A wrote: A's block is then undone, and an outbox consumer
        # that saw its events would send mail about a ticket that never was.
        kept = open_ticket(self.store, "T-0")
        self.store.set_cursor("rr", 1)
        writer, reader = self._peer(), self._peer()
        written, looked = threading.Event(), threading.Event()
        seen: dict[str, Any] = {}

        def work(index: int, barrier: threading.Barrier) -> None:
            barrier.wait()
            if index == 0:
                try:
                    with writer.unit_of_work():
                        open_ticket(writer, "T-1")
                        change(writer, kept, commented("T-0", "x", at=T0 + MINUTE))
                        writer.set_cursor("rr", 2)
                        written.set()
                        looked.wait(0.5)  # the reader has read, or waits for the block
                        raise _Planned("rolled back")
                except _Planned:
                    pass
            else:
                written.wait(5)
                seen["new ticket"] = _ids(reader.get_many(["T-1"]))
                seen["changed ticket"] = reader.load("T-0").version
                seen["cursor"] = reader.get_cursor("rr")
                seen["event stream"] = [e.ticket_id for _, e in reader.event_stream()]
                seen["tickets"] = _ids(reader.query(TicketQuery()).items)
                seen["outbox"] = [i.id for i in reader.claim_outbox("mail", now=T0)]
                looked.set()

        _together(work, 2, [writer, reader])
        before = {
            "new ticket": [],
            "changed ticket": kept.version,
            "cursor": 1,
            "event stream": ["T-0"],
            "tickets": ["T-0"],
            "outbox": ["T-0:1"],
        }
        differ = {k: v for k, v in seen.items() if v != before[k]}
        assert not differ, f"another handle saw a unit of work before it ended: {differ}"
        assert self.store.load("T-0") == kept, (
            "load('T-0') after another handle's unit of work that changed it was undone must "
            "return it as before"
        )
        assert self.store.get_many(["T-1"]) == [], (
            "get_many(['T-1']) after another handle's unit of work that opened it was undone must "
            "return []"
        )

    def test_failure_inside_a_nested_unit_rolls_back_only_that_unit(self) -> None:
        with self.store.unit_of_work():
            open_ticket(self.store, "T-1")
            with raises(ConflictError), self.store.unit_of_work():
                open_ticket(self.store, "T-2")
                open_ticket(self.store, "T-1")
            self.store.set_cursor("rr", 7)
        assert _ids(self.store.get_many(["T-1", "T-2"])) == ["T-1"], (
            "get_many(['T-1', 'T-2']) after a nested unit of work that opened T-2 failed inside an "
            "outer one that opened T-1 must return T-1 only"
        )
        assert self.store.get_cursor("rr") == 7, (
            "get_cursor('rr') set in the outer unit of work after a nested one failed must be 7"
        )

    def test_closed_store_refuses_every_call(self) -> None:
        # Every method of the Store protocol (the article methods in the next test), and
        # the optional ones the store offers, with arguments that would work on an open
        # store: nothing answers from what a closed store still holds in memory.
        ticket = open_ticket(self.store, "T-1", requester="r-1", wake_at=T0)
        self.store.save_requester(Requester(id="r-1", email="a@b.c"))
        self.store.set_cursor("k", 1)
        self.store.claim_outbox("mail", now=T0)
        history: list[Event] = [
            *self.store.events("T-1"),
            TicketAnonymised(ticket_id="T-1", at=T0 + MINUTE, by=AGENT, reason="test"),
        ]
        store = self.store
        store.close()
        store.close()
        calls: dict[str, Callable[[], Any]] = {
            "allocate_number": store.allocate_number,
            "load": lambda: store.load("T-1"),
            "get_many": lambda: store.get_many(["T-1"]),
            "events": lambda: store.events("T-1"),
            "append": lambda: change(store, ticket, commented("T-1", "x", at=T0)),
            "anonymise": lambda: store.anonymise(
                "T-1", expected_version=1, events=history, snapshot=replay(history)
            ),
            "purge": lambda: store.purge("T-1", expected_version=1),
            "query": lambda: store.query(TicketQuery()),
            "requester_history": lambda: store.requester_history("r-1"),
            "requester_ticket_ids": lambda: store.requester_ticket_ids("r-1"),
            "due": lambda: store.due(T0),
            "reschedule": lambda: store.reschedule("T-1", expected_version=1, wake_at=None),
            "claim_due": lambda: store.claim_due(T0, worker="w"),
            "event_stream": lambda: list(store.event_stream()),
            "save_requester": lambda: store.save_requester(Requester(id="r-2")),
            "get_requester": lambda: store.get_requester("r-1"),
            "find_requester": lambda: store.find_requester(email="a@b.c"),
            "delete_requester": lambda: store.delete_requester("r-1"),
            "get_cursor": lambda: store.get_cursor("k"),
            "set_cursor": lambda: store.set_cursor("k", 2),
            "agent_loads": store.agent_loads,
            "load_config_document": store.load_config_document,
            "save_config_document": lambda: store.save_config_document({}),
            "claim_outbox": lambda: store.claim_outbox("mail", now=T0 + HOUR),
            "ack_outbox": lambda: store.ack_outbox("mail", ["T-1:1"]),
            "release_outbox": lambda: store.release_outbox("mail", ["T-1:1"]),
            "unit_of_work": lambda: store.unit_of_work().__enter__(),
        }
        if isinstance(store, CursorClaims):
            calls["claim_cursor"] = lambda: store.claim_cursor("k2", 1)
        if isinstance(store, CursorDeletion):
            calls["delete_cursors"] = lambda: store.delete_cursors("k", values=[1])
        if isinstance(store, RequesterLock):
            calls["lock_requester"] = lambda: store.lock_requester("r-1")
        if isinstance(store, SolvedTicketSearch):
            calls["search_solved"] = lambda: store.search_solved(["ticket"])
        importer = getattr(store, "import_tickets", None)
        if importer is not None:
            second = opened("T-2", 2)
            calls["import_tickets"] = lambda: importer([([second], replay([second]))])
        wrong: dict[str, str] = {}
        for name, call in calls.items():
            try:
                call()
            except StoreClosedError:
                continue
            except Exception as exc:
                wrong[name] = repr(exc)
            else:
                wrong[name] = "answered"
        assert not wrong, f"a closed store did not raise StoreClosedError: {wrong}"

    def test_store_satisfies_the_protocol(self) -> None:
        assert isinstance(self.store, Store), (
            f"the store is no Store: type {type(self.store).__name__} lacks a method of the Store "
            "protocol"
        )

    # -- knowledge-base articles -----------------------------------------------------

    @staticmethod
    def _article(article_id: str, **fields: Any) -> Article:
        fields.setdefault("title", f"Article {article_id}")
        fields.setdefault("author", "a-1")
        fields.setdefault("created_at", T0)
        fields.setdefault("updated_at", T0)
        return Article(id=article_id, **fields)

    def test_articles_round_trip_with_version_checks(self) -> None:
        first = self._article(
            "KB-1",
            title="Reset the VPN client",
            body=f"Open the client.\n{NASTY}",
            tags=("vpn", "é Σ"),
            category="network \x00",
            problems=("P-2", "P-1"),
        )
        self.store.save_article(first, expected_version=0)
        assert self.store.get_article("KB-1") == first, (
            "get_article('KB-1') must return the article saved, byte for byte"
        )
        with raises(ConflictError) as caught:
            self.store.save_article(first, expected_version=0)
        clash = caught[0]
        assert isinstance(clash, ConflictError)
        assert (clash.kind, clash.expected, clash.actual) == ("article", 0, 1), (
            "save_article(KB-1, expected_version=0) of an existing article must raise "
            f"ConflictError(kind='article', expected=0, actual=1), got kind={clash.kind!r}, "
            f"expected={clash.expected!r}, actual={clash.actual!r}"
        )
        second = attrs.evolve(first, body="Reinstall it.", version=2, updated_at=T0 + MINUTE)
        self.store.save_article(second, expected_version=1)
        assert self.store.get_article("KB-1") == second, (
            "get_article('KB-1') after save_article(expected_version=1) of version 2 must return "
            "version 2"
        )
        with raises(ConflictError):
            self.store.save_article(attrs.evolve(second, body="stale"), expected_version=1)
        with raises(ConflictError):
            self.store.save_article(self._article("KB-2", version=3), expected_version=2)
        with raises(ValidationError):
            self.store.save_article(attrs.evolve(second, version=7), expected_version=2)
        with raises(ValidationError):
            self.store.save_article("KB-1", expected_version=0)  # type: ignore[arg-type]
        with raises(NotFound):
            self.store.get_article("KB-2")
        assert self.store.get_article("KB-1") == second, (
            "get_article('KB-1') after refused save_article() calls must return version 2, "
            "unchanged"
        )

    def _library(self) -> dict[str, Article]:
        specs: list[dict[str, Any]] = [
            {
                "id": "KB-a",
                "title": "VPN timeout at home",
                "body": "The VPN client times out: update it. VPN, VPN, VPN.",
                "tags": ("vpn",),
                "category": "network",
                "problems": ("P-1",),
            },
            {
                "id": "KB-b",
                "title": "Printer jams",
                "body": "Clear tray 2, then run a test page.",
                "tags": ("printer",),
                "category": "hardware",
                "author": "a-2",
            },
            {
                "id": "KB-c",
                "title": "Straße names in addresses",
                "body": "Umlauts and ß in the ADDRESS book sync.",
                "category": "network",
                "problems": ("P-1", "P-2"),
            },
            {
                "id": "KB-d",
                "title": "Old VPN gateway",
                "body": "Use vpn1 for a timeout.",
                "status": ArticleStatus.RETIRED,
                "tags": ("vpn", "legacy"),
            },
            {
                "id": "KB-e",
                "title": "Wi-Fi on floor 3",
                "body": "The access point restarts at night; a long note "
                + "about radio channels " * 40
                + "and one vpn mention.",
                "category": "network",
            },
        ]
        out: dict[str, Article] = {}
        for minutes, spec in enumerate(specs):
            article = self._article(spec.pop("id"), updated_at=T0 + minutes * MINUTE, **spec)
            self.store.save_article(article, expected_version=0)
            out[article.id] = article
        return out

    def test_article_filters_order_and_pages(self) -> None:
        self._library()

        def listed(**fields: Any) -> list[str]:
            return [a.id for a in self.store.list_articles(ArticleQuery(**fields)).items]

        assert listed() == ["KB-e", "KB-c", "KB-b", "KB-a"], (  # newest first, published only
            "list_articles(ArticleQuery()) must return ['KB-e', 'KB-c', 'KB-b', 'KB-a'] (newest "
            "first, published only)"
        )
        assert listed(status=None) == ["KB-e", "KB-d", "KB-c", "KB-b", "KB-a"], (
            "list_articles(ArticleQuery(status=None)) must return ['KB-e', 'KB-d', 'KB-c', 'KB-b', "
            "'KB-a'] (every status)"
        )
        assert listed(status="retired") == ["KB-d"], (
            "list_articles(ArticleQuery(status='retired')) must return ['KB-d']"
        )
        assert listed(category="network") == ["KB-e", "KB-c", "KB-a"], (
            "list_articles(ArticleQuery(category='network')) must return ['KB-e', 'KB-c', 'KB-a']"
        )
        assert listed(category=("hardware", "none")) == ["KB-b"], (
            "list_articles(ArticleQuery(category=('hardware', 'none'))) must return ['KB-b']"
        )
        assert listed(tag=("legacy", "printer"), status=None) == ["KB-d", "KB-b"], (
            "list_articles(ArticleQuery(tag=('legacy', 'printer'), status=None)) must return "
            "['KB-d', 'KB-b']"
        )
        assert listed(problem="P-1") == ["KB-c", "KB-a"], (
            "list_articles(ArticleQuery(problem='P-1')) must return ['KB-c', 'KB-a']"
        )
        assert listed(problem=("P-2",)) == ["KB-c"], (
            "list_articles(ArticleQuery(problem=('P-2',))) must return ['KB-c']"
        )
        assert listed(author="a-2") == ["KB-b"], (
            "list_articles(ArticleQuery(author='a-2')) must return ['KB-b']"
        )
        assert listed(text="vpn timeout") == ["KB-a"], (
            "list_articles(ArticleQuery(text='vpn timeout')) must return ['KB-a'] (every word must "
            "match)"
        )
        assert listed(text="vpn timeout", status=None) == ["KB-d", "KB-a"], (
            "list_articles(ArticleQuery(text='vpn timeout', status=None)) must return ['KB-d', "
            "'KB-a']"
        )
        assert listed(text="vpn timeout", match="any") == ["KB-e", "KB-a"], (
            "list_articles(ArticleQuery(text='vpn timeout', match='any')) must return ['KB-e', "
            "'KB-a'] (any word may match)"
        )
        seen: list[str] = []
        query: ArticleQuery | None = ArticleQuery(status=None, limit=2)
        while query is not None:
            page = self.store.list_articles(query)
            assert page.total == 5, (
                f"list_articles(ArticleQuery(status=None, limit=2, offset={query.offset})).total "
                f"must count the 5 articles, got {page.total}"
            )
            seen.extend(a.id for a in page.items)
            # Each page moves on (a store that ignores the offset fails here, not loops).
            assert page.next_offset is None or page.next_offset == query.offset + 2, (
                f"the page at offset {query.offset} gives next_offset {page.next_offset}"
            )
            offset = page.next_offset
            query = None if offset is None else attrs.evolve(query, offset=offset)
        assert seen == ["KB-e", "KB-d", "KB-c", "KB-b", "KB-a"], (
            f"list_articles() pages of 2 must give all 5 articles once, newest first, got {seen}"
        )
        past = self.store.list_articles(ArticleQuery(limit=2, offset=10))
        assert (past.items, past.total, past.next_offset) == ((), 4, None), (
            "list_articles(ArticleQuery(limit=2, offset=10)) past the last article must return (no "
            "items, total 4, next_offset None)"
        )
        # Ties on updated_at go by id, ascending.
        for article_id in ("KB-z", "KB-y"):
            tied = self._article(article_id, updated_at=T0 + 10 * MINUTE, category="tied")
            self.store.save_article(tied, expected_version=0)
        assert listed(category="tied") == ["KB-y", "KB-z"], (
            "list_articles(ArticleQuery(category='tied')) must return ['KB-y', 'KB-z'] (ties on "
            "updated_at go by id)"
        )
        assert listed()[:3] == ["KB-y", "KB-z", "KB-e"], (
            "list_articles() must list KB-y and KB-z (updated last, at the same instant, ties by "
            "id) first, then KB-e"
        )

    def test_article_tags_match_exactly_whatever_they_hold(self) -> None:
        # A tag is matched whole, NUL, quotes, commas and brackets included (SQLite's
        # JSON functions end a string at NUL: "ab" must not find "ab\x00cd").
        tags = {
            "KB-1": ("ab\x00cd",),
            "KB-2": ("ab",),
            "KB-3": ('x","ab', "\x00"),
            "KB-4": ("[ab]", "\\"),
            "KB-5": (),
        }
        for article_id, carried in tags.items():
            self.store.save_article(self._article(article_id, tags=carried), expected_version=0)

        def tagged(*wanted: str) -> list[str]:
            page = self.store.list_articles(ArticleQuery(tag=wanted))
            return sorted(a.id for a in page.items)

        assert tagged("ab\x00cd") == ["KB-1"], (
            "list_articles(ArticleQuery(tag=('ab\\x00cd',))) must return ['KB-1'] (tags match "
            "whole, NUL included)"
        )
        assert tagged("ab") == ["KB-2"], (
            "list_articles(ArticleQuery(tag=('ab',))) must return ['KB-2'] ('ab' is not "
            "'ab\\x00cd')"
        )
        assert tagged("ab\x00") == [], (
            "list_articles(ArticleQuery(tag=('ab\\x00',))) must return [] (a tag matches whole, "
            "not its beginning)"
        )
        assert tagged("\x00") == ["KB-3"], (
            "list_articles(ArticleQuery(tag=('\\x00',))) must return ['KB-3']"
        )
        assert tagged('x","ab') == ["KB-3"], (
            "list_articles(ArticleQuery(tag=('x\",\"ab',))) must return ['KB-3'] (quotes and "
            "commas are part of the tag)"
        )
        assert tagged("x") == [], "list_articles(ArticleQuery(tag=('x',))) must return []"
        assert tagged("[ab]", "ab\x00cd") == ["KB-1", "KB-4"], (
            "list_articles(ArticleQuery(tag=('[ab]', 'ab\\x00cd'))) must return ['KB-1', 'KB-4'] "
            "(brackets are part of the tag)"
        )
        assert tagged("\\") == ["KB-4"], (
            "list_articles(ArticleQuery(tag=('\\\\',))) must return ['KB-4'] (a backslash is a tag "
            "like any other)"
        )
        found = self.store.search_articles(ArticleQuery(text="article", tag="ab"))
        assert [a.id for a in found.items] == ["KB-2"], (
            "search_articles(ArticleQuery(text='article', tag='ab')) must find KB-2 only: tags "
            "match whole"
        )

    def test_article_tags_with_commas_at_their_ends_match_whole(self) -> None:
        # Tags ending and beginning with "," side by side hold the JSON text of a tag ","
        # across their boundary: '["!,",",b"]'. A store matching JSON text must not
        # find "," (nor ",b" in "!,b") there.
        tags = {
            "KB-1": ("!,", ",b"),
            "KB-2": (",",),
            "KB-3": ("!,", ",", ",b"),
            "KB-4": (",,", ",,,"),
            "KB-5": ('"', ",", '","'),
        }
        for article_id, carried in tags.items():
            self.store.save_article(self._article(article_id, tags=carried), expected_version=0)

        def tagged(*wanted: str) -> list[str]:
            page = self.store.list_articles(ArticleQuery(tag=wanted))
            return sorted(a.id for a in page.items)

        assert tagged(",") == ["KB-2", "KB-3", "KB-5"], (
            "list_articles(ArticleQuery(tag=(',',))) must return ['KB-2', 'KB-3', 'KB-5'] (KB-1 "
            "is tagged '!,' and ',b', not ',')"
        )
        assert tagged(",b") == ["KB-1", "KB-3"], (
            "list_articles(ArticleQuery(tag=(',b',))) must return ['KB-1', 'KB-3']"
        )
        assert tagged("!,") == ["KB-1", "KB-3"], (
            "list_articles(ArticleQuery(tag=('!,',))) must return ['KB-1', 'KB-3']"
        )
        assert tagged(",,") == ["KB-4"], (
            "list_articles(ArticleQuery(tag=(',,',))) must return ['KB-4'] (',,,' is another tag)"
        )
        assert tagged('","', "!") == ["KB-5"], (
            "list_articles(ArticleQuery(tag=('\",\"', '!'))) must return ['KB-5']"
        )
        assert tagged("!,b", '"', ",,,,") == ["KB-5"], (
            "list_articles(ArticleQuery(tag=('!,b', '\"', ',,,,'))) must return ['KB-5']"
        )
        found = self.store.search_articles(ArticleQuery(text="article", tag=","))
        assert sorted(a.id for a in found.items) == ["KB-2", "KB-3", "KB-5"], (
            "search_articles(ArticleQuery(text='article', tag=',')) must find KB-2, KB-3 and KB-5 "
            "only: tags match whole"
        )

    def test_article_search_matches_whole_words(self) -> None:
        library = self._library()

        def found(text: str, **fields: Any) -> list[str]:
            page = self.store.search_articles(ArticleQuery(text=text, **fields))
            return [a.id for a in page.items]

        assert found("vpn") == ["KB-a", "KB-e"], (  # KB-a says "vpn" five times, KB-e once
            "search_articles(ArticleQuery(text='vpn')) must return ['KB-a', 'KB-e'] (KB-a says vpn "
            "five times, KB-e once)"
        )
        assert set(found("VPN TIMEOUT")) == {"KB-a"}, (
            "search_articles(ArticleQuery(text='VPN TIMEOUT')) must find KB-a, the one published "
            "article with both words, in any case"
        )
        assert set(found("vpn timeout", match="any")) == {"KB-a", "KB-e"}, (
            "search_articles(ArticleQuery(text='vpn timeout', match='any')) must find KB-a and "
            "KB-e, the published articles with either word"
        )
        assert set(found("vpn timeout", status=None)) == {"KB-a", "KB-d"}, (
            "search_articles(ArticleQuery(text='vpn timeout', status=None)) must find KB-a and "
            "KB-d (retired), the articles with both words"
        )
        assert found("STRASSE") == ["KB-c"], (  # case-folded: Straße
            "search_articles(ArticleQuery(text='STRASSE')) must return ['KB-c'] (words are "
            "case-folded: Straße)"
        )
        assert found("address") == ["KB-c"], (
            "search_articles(ArticleQuery(text='address')) must return ['KB-c']"
        )
        assert found("print") == [], (  # words, not substrings: "printer" and "print" differ
            "search_articles(ArticleQuery(text='print')) must return [] (words, not substrings)"
        )
        assert found("printer") == ["KB-b"], (
            "search_articles(ArticleQuery(text='printer')) must return ['KB-b']"
        )
        assert found("the and of") == [], (  # stopwords only: nothing to search for
            "search_articles(ArticleQuery(text='the and of')) must return [] (stopwords only: "
            "nothing to search for)"
        )
        assert found("vpn", category="hardware") == [], (
            "search_articles(ArticleQuery(text='vpn', category='hardware')) must return []"
        )
        assert found("vpn", tag="vpn", problem="P-1") == ["KB-a"], (
            "search_articles(ArticleQuery(text='vpn', tag='vpn', problem='P-1')) must return "
            "['KB-a']"
        )
        assert found("vpn1") == [], (  # retired
            "search_articles(ArticleQuery(text='vpn1')) must return [] (KB-d is retired)"
        )
        assert found("vpn1", status=None) == ["KB-d"], (
            "search_articles(ArticleQuery(text='vpn1', status=None)) must return ['KB-d']"
        )
        assert self.store.get_article("KB-a") == library["KB-a"], (
            "get_article('KB-a') after searches must return the article saved"
        )
        page = self.store.search_articles(ArticleQuery(text="network vpn", match="any", limit=1))
        assert page.total == 2, (
            "search_articles(ArticleQuery(text='network vpn', match='any', limit=1)).total must "
            f"count 2 matches, got {page.total}"
        )
        assert page.next_offset == 1, (
            "search_articles(ArticleQuery(text='network vpn', match='any', limit=1)) must give "
            f"next_offset 1, got {page.next_offset}"
        )
        with raises(ValidationError):
            self.store.search_articles(ArticleQuery(category="network"))
        updated = attrs.evolve(
            library["KB-b"], title="Toner", body="Toner only.", tags=("toner",), version=2
        )
        self.store.save_article(updated, expected_version=1)
        assert found("printer") == [], (
            "search_articles(ArticleQuery(text='printer')) must return [] (KB-b no longer says "
            "printer)"
        )
        assert found("toner") == ["KB-b"], (
            "search_articles(ArticleQuery(text='toner')) must return ['KB-b'] (KB-b was updated to "
            "say toner)"
        )

    def test_article_words_keep_their_marks_and_match_across_normal_forms(self) -> None:
        # A Devanagari word (vowel signs and virama are combining marks) is one word; a
        # word written decomposed (NFD, as some mail clients send it) is the same word as
        # one written composed (NFC), either way round.
        specs = {
            "KB-hi": ("नमस्ते प्रिंटर", "लैपटॉप वीपीएन"),
            "KB-nfd": ("Cafe\u0301 menu", "Cre\u0300me bru\u0302le\u0301e"),
            "KB-nfc": ("Résumé upload", "Zürich office"),
        }
        for minutes, (article_id, (title, body)) in enumerate(specs.items()):
            at = T0 + minutes * MINUTE
            article = self._article(article_id, title=title, body=body, updated_at=at)
            self.store.save_article(article, expected_version=0)

        def found(text: str) -> list[str]:
            return [a.id for a in self.store.search_articles(ArticleQuery(text=text)).items]

        assert found("नमस्ते") == ["KB-hi"], (
            "search_articles(ArticleQuery(text='नमस्ते')) must return ['KB-hi'] (a Devanagari word "
            "is one word)"
        )
        assert found("लैपटॉप प्रिंटर") == ["KB-hi"], (
            "search_articles(ArticleQuery(text='लैपटॉप प्रिंटर')) must return ['KB-hi']"
        )
        assert found("नमस") == [], (  # a fragment is not a word
            "search_articles(ArticleQuery(text='नमस')) must return [] (a fragment is not a word)"
        )
        assert found("café") == ["KB-nfd"], (
            "search_articles(ArticleQuery(text='café')) must return ['KB-nfd'] (the word written "
            "decomposed (NFD) in KB-nfd)"
        )
        assert found("CAFE\u0301 crème brûlée") == ["KB-nfd"], (
            "search_articles(ArticleQuery(text='CAFE\\u0301 crème brûlée')) must return ['KB-nfd']"
        )
        assert found("cafe") == [], (
            "search_articles(ArticleQuery(text='cafe')) must return [] (marks are kept: cafe is "
            "not café)"
        )
        assert found("Re\u0301sume\u0301") == ["KB-nfc"], (
            "search_articles(ArticleQuery(text='Re\\u0301sume\\u0301')) must return ['KB-nfc'] "
            "(the word written composed (NFC) in KB-nfc)"
        )
        assert found("zu\u0308rich") == ["KB-nfc"], (
            "search_articles(ArticleQuery(text='zu\\u0308rich')) must return ['KB-nfc'] (the word "
            "written composed (NFC) in KB-nfc)"
        )
        listed = self.store.list_articles(ArticleQuery(text="café résumé", match="any"))
        assert [a.id for a in listed.items] == ["KB-nfc", "KB-nfd"], (
            "list_articles(ArticleQuery(text='café résumé', match='any')) must find the articles "
            "of both words, whatever their normal form: expected ['KB-nfc', 'KB-nfd']"
        )

    def test_a_rare_shared_word_outranks_a_common_one(self) -> None:
        for n in range(12):
            self.store.save_article(
                self._article(f"KB-{n:02d}", body="Reset your password in the portal."),
                expected_version=0,
            )
        self.store.save_article(
            self._article("KB-krb", body="Kerberos tickets expire; renew them with kinit."),
            expected_version=0,
        )
        page = self.store.search_articles(
            ArticleQuery(text="kerberos password", match="any", limit=3)
        )
        assert page.total == 13, (
            "search_articles(ArticleQuery(text='kerberos password', match='any', limit=3)).total "
            f"must count 13 matches, got {page.total}"
        )
        assert page.items[0].id == "KB-krb", (
            "search_articles(ArticleQuery(text='kerberos password', match='any')) must rank "
            "KB-krb, the one article with the rare word 'kerberos', first, got "
            f"{page.items[0].id!r}"
        )

    def test_articles_in_a_failed_unit_of_work_are_undone(self) -> None:
        with raises(ValidationError), self.store.unit_of_work():
            self.store.save_article(self._article("KB-1", body="zorblax"), expected_version=0)
            raise ValidationError("planned failure")
        with raises(NotFound):
            self.store.get_article("KB-1")
        assert self.store.search_articles(ArticleQuery(text="zorblax")).total == 0, (
            "search_articles(ArticleQuery(text='zorblax')) after the unit of work that saved the "
            "article failed must find nothing: the search index is undone too"
        )

    def test_closed_store_refuses_article_calls(self) -> None:
        self.store.save_article(self._article("KB-1"), expected_version=0)
        self.store.close()
        calls: list[Callable[[], Any]] = [
            lambda: self.store.save_article(self._article("KB-2"), expected_version=0),
            lambda: self.store.get_article("KB-1"),
            lambda: self.store.list_articles(ArticleQuery()),
            lambda: self.store.search_articles(ArticleQuery(text="article")),
        ]
        for call in calls:
            with raises(StoreClosedError):
                call()

    def test_solved_ticket_search_when_the_store_offers_it(self) -> None:
        store = self.store
        if not isinstance(store, SolvedTicketSearch):
            return  # optional: stores without a word index of their own
        later = T0 + MINUTE
        specs = {
            "T-1": ("VPN drops", "timeout at home", StatusCategory.SOLVED),
            "T-2": ("VPN down", "timeout", StatusCategory.OPEN),
            "T-3": ("Printer jam", "tray 2", StatusCategory.SOLVED),
            "T-4": ("VPN VPN timeout", "vpn timeout vpn", StatusCategory.CLOSED),
        }
        tickets: dict[str, Ticket] = {}
        for ticket_id, (subject, description, category) in specs.items():
            ticket = open_ticket(store, ticket_id, subject=subject, description=description)
            status = category.value if category is not StatusCategory.OPEN else "open"
            tickets[ticket_id] = change(store, ticket, moved(ticket_id, status, category, at=later))
        assert _ids(store.search_solved(["vpn", "timeout"])) == ["T-4", "T-1"], (
            "search_solved(['vpn', 'timeout']) must find the solved or closed tickets with the "
            "words, best match first: expected ['T-4', 'T-1'] (T-2 is open)"
        )
        assert _ids(store.search_solved(["vpn"], limit=1)) == ["T-4"], (
            "search_solved(['vpn'], limit=1) must return the best match only, T-4"
        )
        # Words are the library's words (search_words): a host name's parts are found.
        host = open_ticket(store, "T-5", subject="vpn2.example.org unreachable")
        change(store, host, moved("T-5", "solved", StatusCategory.SOLVED, at=later))
        assert _ids(store.search_solved(["example"])) == ["T-5"], (
            "search_solved(['example']) must find T-5, whose subject holds vpn2.example.org: words "
            "are those of search_words()"
        )
        assert _ids(store.search_solved(["vpn2", "org"])) == ["T-5"], (
            "search_solved(['vpn2', 'org']) must find T-5, whose subject holds vpn2.example.org"
        )
        # Case-insensitively, as the index splits text; a word too long for any index
        # finds nothing and fails nothing.
        assert _ids(store.search_solved(["TRAY"])) == ["T-3"], (
            "search_solved(['TRAY']) must find T-3 ('tray 2'): words compare case-insensitively"
        )
        assert _ids(store.search_solved(["x" * 3000, "Tray"])) == ["T-3"], (
            "search_solved([a word of 3000 letters, 'Tray']) must find T-3 and not fail"
        )
        assert store.search_solved(["x" * 3000]) == [], (
            "search_solved([a word of 3000 letters]) must find nothing and not fail"
        )
        assert _ids(store.search_solved(["tray"])) == ["T-3"], (
            "search_solved(['tray']) must find T-3"
        )
        assert store.search_solved(["nothing"]) == [], (
            "search_solved(['nothing']) must find nothing"
        )
        assert store.search_solved([]) == [], "search_solved([]) must return []"
        reopened = moved("T-4", "open", StatusCategory.OPEN, at=later + MINUTE)
        change(store, tickets["T-4"], reopened)
        assert _ids(store.search_solved(["vpn", "timeout"])) == ["T-1"], (
            "search_solved(['vpn', 'timeout']) after T-4 was reopened must find T-1 only"
        )
        with raises(ValidationError):
            store.search_solved("vpn")  # a text, not a list of words
        with raises(ValidationError):
            store.search_solved(["vpn"], limit=0)
        with raises(ValidationError):
            store.search_solved(["vpn\ud800"])  # a lone surrogate is no text

    def test_solved_ticket_search_keeps_marks_and_matches_across_normal_forms(self) -> None:
        store = self.store
        if not isinstance(store, SolvedTicketSearch):
            return
        later = T0 + MINUTE
        specs = {
            "T-hi": ("नमस्ते, मेरा लैपटॉप", "वीपीएन से कनेक्ट नहीं हो रहा"),
            "T-nfd": ("Cafe\u0301 printer", "Zu\u0308rich office"),
            "T-nfc": ("Résumé upload", "crème brûlée"),
        }
        for ticket_id, (subject, description) in specs.items():
            ticket = open_ticket(store, ticket_id, subject=subject, description=description)
            change(store, ticket, moved(ticket_id, "solved", StatusCategory.SOLVED, at=later))
        assert _ids(store.search_solved(["नमस्ते"])) == ["T-hi"], (
            "search_solved(['नमस्ते']) must find T-hi: a Devanagari word with its vowel signs and "
            "virama is one word"
        )
        assert _ids(store.search_solved(["लैपटॉप"])) == ["T-hi"], (
            "search_solved(['लैपटॉप']) must find T-hi"
        )
        assert store.search_solved(["नमस"]) == [], (  # a fragment is not a word
            "search_solved(['नमस']) must find nothing: a fragment is not a word"
        )
        assert _ids(store.search_solved(["café"])) == ["T-nfd"], (
            "search_solved(['café']) (composed) must find T-nfd, which writes it decomposed"
        )
        assert _ids(store.search_solved(["zürich"])) == ["T-nfd"], (
            "search_solved(['zürich']) (composed) must find T-nfd, which writes it decomposed"
        )
        assert _ids(store.search_solved(["CAFE\u0301"])) == ["T-nfd"], (
            "search_solved(['CAFE\\u0301']) (decomposed, upper case) must find T-nfd"
        )
        assert store.search_solved(["cafe"]) == [], (
            "search_solved(['cafe']) must find nothing: marks are kept, cafe is not café"
        )
        assert _ids(store.search_solved(["re\u0301sume\u0301"])) == ["T-nfc"], (
            "search_solved(['re\\u0301sume\\u0301']) (decomposed) must find T-nfc, which writes it "
            "composed"
        )
        assert _ids(store.search_solved(["cre\u0300me"])) == ["T-nfc"], (
            "search_solved(['cre\\u0300me']) (decomposed) must find T-nfc, which writes it composed"
        )

    def test_solved_ticket_search_weighs_rare_words_over_common_ones(self) -> None:
        store = self.store
        if not isinstance(store, SolvedTicketSearch):
            return
        later = T0 + MINUTE
        greeting = "Dear support team hope you are well writing about an issue since morning"
        for n in range(30):
            ticket = open_ticket(
                store, f"T-{n:02d}", subject=f"Issue {n}", description=f"{greeting} toner {n}"
            )
            change(store, ticket, moved(ticket.id, "solved", StatusCategory.SOLVED, at=later))
        planted = open_ticket(store, "T-krb", subject="Kerberos renewal fails")
        change(store, planted, moved("T-krb", "solved", StatusCategory.SOLVED, at=later))
        words = [*search_words(greeting), "kerberos", "renewal", "fails"]
        assert _ids(store.search_solved(words, limit=5))[0] == "T-krb", (
            "search_solved(common words of 30 tickets + ['kerberos', 'renewal', 'fails'], limit=5) "
            "must rank T-krb, the one ticket with the rare words, first"
        )

    def test_solved_ticket_search_follows_new_rows_and_changed_text(self) -> None:
        store = self.store
        if not isinstance(store, SolvedTicketSearch):
            return
        later = T0 + MINUTE

        def written(ticket_id: str, subject: str, category: StatusCategory | None) -> Any:
            events: list[Event] = [opened(ticket_id, store.allocate_number(), subject=subject)]
            if category is not None:
                events.append(moved(ticket_id, category.value, category, at=later))
            return events, replay(events)

        # written already solved by one append; imported closed, or open
        events, solved = written("T-1", "Outlook crashes", StatusCategory.SOLVED)
        store.append("T-1", expected_version=0, events=events, snapshot=solved)
        more = [
            written("T-2", "Outlook slow", StatusCategory.CLOSED),
            written("T-3", "Outlook missing", None),
        ]
        importer = getattr(store, "import_tickets", None)  # not every store offers it
        if importer is not None:
            importer(more)
        else:
            for events, snapshot in more:
                store.append(snapshot.id, expected_version=0, events=events, snapshot=snapshot)
        assert _ids(store.search_solved(["outlook"])) == ["T-1", "T-2"], (
            "search_solved(['outlook']) must find T-1 (solved by one append) and T-2 (written "
            "closed), not T-3 (open)"
        )
        # an update that leaves the text alone keeps the entry; a new subject replaces it
        solved = change(store, solved, commented("T-1", "kept", at=later + MINUTE))
        assert _ids(store.search_solved(["crashes"])) == ["T-1"], (
            "search_solved(['crashes']) after a comment on T-1 must still find it"
        )
        renamed = TicketRouted(
            ticket_id="T-1",
            at=later + 2 * MINUTE,
            by=AGENT,
            changes=Changes(subject="Kerberos renewal"),
        )
        change(store, solved, renamed)
        assert _ids(store.search_solved(["kerberos"])) == ["T-1"], (
            "search_solved(['kerberos']) after T-1's subject changed to 'Kerberos renewal' must "
            "find it"
        )
        assert store.search_solved(["crashes"]) == [], (
            "search_solved(['crashes']) after T-1's subject changed to 'Kerberos renewal' must "
            "find nothing: the old words are gone"
        )
        assert _ids(store.search_solved(["outlook"])) == ["T-2"], (
            "search_solved(['outlook']) after T-1's subject changed must find T-2 only"
        )

    # -- privacy ----------------------------------------------------------------------

    def _secret_ticket(self) -> tuple[Ticket, list[Event]]:
        ticket = open_ticket(
            self.store,
            "T-1",
            subject="Zorblax leak",
            description="call Quentin Zorblax",
            requester="r-zorblax",
        )
        ticket = change(self.store, ticket, commented("T-1", "Zorblax says hi", at=T0 + MINUTE))
        return ticket, self.store.events("T-1")

    @staticmethod
    def _scrubbed(events: Sequence[Event]) -> list[Event]:
        return _scrubbed(events)

    def test_anonymise_rewrites_history_snapshot_search_and_outbox(self) -> None:
        ticket, events = self._secret_ticket()
        self.store.claim_outbox("mail", now=T0, limit=1)
        positions = [p for p, _ in self.store.event_stream()]
        extra = TicketAnonymised(ticket_id="T-1", at=T0 + 2 * MINUTE, by=AGENT, reason="test")
        history = [*self._scrubbed(events), extra]
        snapshot = replay(history)
        assert snapshot.anonymised, (
            "the replayed anonymised history must give an anonymised snapshot"
        )
        assert self.store.query(TicketQuery(anonymised=True)).total == 0, (
            "query(TicketQuery(anonymised=True)) before anonymise() must find nothing"
        )
        self.store.anonymise(
            "T-1", expected_version=ticket.version, events=history, snapshot=snapshot
        )
        assert _ids(self.store.query(TicketQuery(anonymised=True)).items) == ["T-1"], (
            "query(TicketQuery(anonymised=True)) after anonymise('T-1') must find T-1"
        )
        assert self.store.query(TicketQuery(anonymised=False)).total == 0, (
            "query(TicketQuery(anonymised=False)) after anonymise('T-1') must find nothing"
        )
        assert self.store.events("T-1") == history, (
            "events('T-1') after anonymise() must return the history given, in place of the old one"
        )
        assert self.store.load("T-1") == snapshot, (
            "load('T-1') after anonymise() must return the snapshot given"
        )
        assert [p for p, _ in self.store.event_stream()][: len(positions)] == positions, (
            "event_stream() after anonymise() must keep the positions the events had: the history "
            f"is rewritten in place, got {[p for p, _ in self.store.event_stream()]}, expected to "
            f"start with {positions}"
        )
        assert "zorblax" not in repr(self.store.events("T-1")).casefold(), (
            "events('T-1') after anonymise() still hold the removed text 'Zorblax'"
        )
        assert self.store.query(TicketQuery(text="zorblax")).total == 0, (
            "query(TicketQuery(text='zorblax')) after anonymise() must find nothing: the search "
            "text is rewritten too"
        )
        assert self.store.query(TicketQuery(text="anonymised")).total == 1, (
            "query(TicketQuery(text='anonymised')) after anonymise() must find T-1 by its new text"
        )
        assert self.store.requester_history("r-zorblax") == [], (
            "requester_history('r-zorblax') after anonymise() gave the ticket to 'anon' must "
            "return []"
        )
        assert self.store.requester_ticket_ids("r-zorblax") == [], (
            "requester_ticket_ids('r-zorblax') after anonymise() gave the ticket to 'anon' must "
            "return []"
        )
        assert _ids(self.store.requester_history("anon")) == ["T-1"], (
            "requester_history('anon') after anonymise() must return T-1"
        )
        assert self.store.requester_ticket_ids("anon") == ["T-1"], (
            "requester_ticket_ids('anon') after anonymise() must return ['T-1']"
        )
        delivered = self.store.claim_outbox("mail", now=T0 + timedelta(hours=1), limit=10)
        assert [i.event for i in delivered] == history, (
            "claim_outbox('mail') after anonymise() must hand out the rewritten events, not the "
            "old ones"
        )
        assert self.store.claim_outbox("hook", now=T0)[0].event == history[0], (
            "claim_outbox('hook') after anonymise() must hand out the rewritten TicketOpened"
        )

    def test_anonymise_sets_the_wake_up_it_is_given(self) -> None:
        # An erasure rewrites open tickets too, with the instant their SLA clocks next
        # need a tick: a store that drops it (or keeps the old one) leaves the ticket
        # without its warnings, breaches, escalations and auto-close.
        ticket, events = self._secret_ticket()  # no wake-up
        open_ticket(self.store, "T-2", wake_at=T0 + 2 * MINUTE)
        history = self._scrubbed(events)

        def rewrite(wake_at: datetime | None) -> None:
            self.store.anonymise(
                "T-1",
                expected_version=ticket.version,
                events=history,
                snapshot=replay(history),
                wake_at=wake_at,
            )

        rewrite((T0 + MINUTE).astimezone(_TOKYO))
        assert self.store.due(T0 + 5 * MINUTE) == ["T-1", "T-2"], (
            "anonymise did not set the wake-up it was given"
        )
        rewrite(T0 + 3 * MINUTE)
        assert self.store.due(T0 + 2 * MINUTE) == ["T-2"], (
            "anonymise left the wake-up the ticket had before"
        )
        assert self.store.due(T0 + 3 * MINUTE) == ["T-2", "T-1"], (
            "due(T0 + 3 minutes) after anonymise(wake_at=T0 + 3 minutes) must list T-2 (T0 + 2 "
            "minutes), then T-1"
        )
        rewrite(None)
        assert self.store.due(T0 + timedelta(days=1)) == ["T-2"], (
            "anonymise with no wake-up left the one the ticket had before"
        )

    def test_anonymise_checks_the_version_and_changes_nothing_on_refusal(self) -> None:
        ticket, events = self._secret_ticket()
        history = self._scrubbed(events)
        snapshot = replay(history)
        with raises(ConflictError):
            self.store.anonymise(
                "T-1", expected_version=ticket.version - 1, events=history, snapshot=snapshot
            )
        with raises(NotFound):
            self.store.anonymise(
                "T-9",
                expected_version=ticket.version,
                events=[attrs.evolve(e, ticket_id="T-9") for e in history],
                snapshot=attrs.evolve(snapshot, id="T-9"),
            )
        with raises(ValidationError):
            self.store.anonymise(
                "T-1",
                expected_version=ticket.version,
                events=history[:1],
                snapshot=replay(history[:1]),
            )
        assert self.store.events("T-1") == events, (
            "events('T-1') after refused anonymise() calls must return the history as it was"
        )
        assert self.store.load("T-1") == ticket, (
            "load('T-1') after refused anonymise() calls must return the snapshot as it was"
        )

    def test_anonymise_inside_a_failed_unit_of_work_is_undone(self) -> None:
        ticket, events = self._secret_ticket()
        history = self._scrubbed(events)
        with raises(ValidationError), self.store.unit_of_work():
            self.store.anonymise(
                "T-1", expected_version=ticket.version, events=history, snapshot=replay(history)
            )
            raise ValidationError("planned failure")
        assert self.store.events("T-1") == events, (
            "events('T-1') after anonymise() in a unit of work that failed must return the history "
            "as it was"
        )
        assert self.store.load("T-1") == ticket, (
            "load('T-1') after anonymise() in a unit of work that failed must return the snapshot "
            "as it was"
        )

    def _purge_setup(self) -> tuple[Ticket, Ticket, list[tuple[int, Event]]]:
        """T-2 (kept), then T-1 (to purge) holding the last positions, with an assignee,
        a wake-up, a lease, a claimed outbox item and a delivery error that name it."""
        kept = open_ticket(self.store, "T-2", subject="Printer jam", wake_at=T0 + MINUTE)
        secret, _ = self._secret_ticket()
        secret = change(
            self.store,
            secret,
            Assigned(ticket_id="T-1", at=T0 + 2 * MINUTE, by=AGENT, assignee="a-1"),
            wake_at=T0,
        )
        claimed = self.store.claim_outbox("mail", now=T0, limit=10)
        leak = next(i.id for i in claimed if i.id.startswith("T-1:"))
        self.store.release_outbox("mail", [leak], error="bounce for Quentin Zorblax")
        self.store.claim_due(T0 + MINUTE, worker="w")
        return kept, secret, list(self.store.event_stream())

    def test_purge_removes_every_trace_of_the_ticket(self) -> None:
        kept, secret, stream = self._purge_setup()
        self.store.purge("T-1", expected_version=secret.version)
        with raises(NotFound):
            self.store.load("T-1")
        assert self.store.events("T-1") == [], "events('T-1') after purge('T-1') must return []"
        assert _ids(self.store.get_many(["T-1", "T-2"])) == ["T-2"], (
            "get_many(['T-1', 'T-2']) after purge('T-1') must return T-2 only"
        )
        assert self.store.query(TicketQuery(text="zorblax")).total == 0, (
            "query(TicketQuery(text='zorblax')) after purge('T-1') must find nothing"
        )
        assert _ids(self.store.query(TicketQuery()).items) == ["T-2"], (
            "query(TicketQuery()) after purge('T-1') must find T-2 only"
        )
        assert self.store.requester_history("r-zorblax") == [], (
            "requester_history('r-zorblax') after purge('T-1') must return []"
        )
        assert self.store.requester_ticket_ids("r-zorblax") == [], (
            "requester_ticket_ids('r-zorblax') after purge('T-1') must return []"
        )
        assert self.store.agent_loads() == {}, (
            "agent_loads() after purge('T-1'), the one assigned ticket, must return no load"
        )
        assert self.store.due(T0 + timedelta(hours=1)) == ["T-2"], (
            "due(T0 + 1 hour) after purge('T-1') must list T-2 only: the purged ticket's wake-up "
            "is gone"
        )
        assert self.store.claim_due(T0 + timedelta(hours=1), worker="w2") == ["T-2"], (
            "claim_due(T0 + 1 hour, worker='w2') after purge('T-1') must claim T-2 only"
        )
        # The other ticket's events keep their positions; nothing else is left.
        left = [(p, e) for p, e in stream if e.ticket_id == "T-2"]
        assert list(self.store.event_stream()) == left, (
            "event_stream() after purge('T-1') must give T-2's events only, at their old positions"
        )
        for consumer in ("mail", "hook"):
            items = self.store.claim_outbox(consumer, now=T0 + timedelta(hours=1), limit=10)
            assert [i.id for i in items] == ["T-2:1"], (
                f"claim_outbox({consumer!r}) after purge('T-1') must hand out T-2:1 only, got "
                f"{[i.id for i in items]}"
            )
            assert "zorblax" not in repr(items).casefold(), (
                f"claim_outbox({consumer!r}) after purge('T-1') still hands out text of the purged "
                "ticket (a delivery error?)"
            )
        with raises(NotFound):
            self.store.ack_outbox("mail", ["T-1:1"])
        # Numbers and positions are never handed out again.
        assert self.store.allocate_number() > max(kept.number, secret.number), (
            "allocate_number() after purge('T-1') must hand out a number above those ever handed "
            f"out, {max(kept.number, secret.number)}"
        )
        open_ticket(self.store, "T-3")
        new_position = [p for p, e in self.store.event_stream() if e.ticket_id == "T-3"]
        assert new_position[0] > max(p for p, _ in stream), (
            "event_stream() position of a ticket opened after purge('T-1') must be above every "
            "position before it: positions are never reused"
        )
        # Acking what is left moves past the purged positions.
        self.store.ack_outbox("mail", ["T-2:1"])
        assert [i.id for i in self.store.claim_outbox("mail", now=T0 + timedelta(hours=2))] == [
            "T-3:1"
        ], (
            "claim_outbox('mail') after T-2:1 was acked must hand out T-3:1: an ack moves past the "
            "purged positions"
        )
        self.store.ack_outbox("mail", ["T-3:1"])
        assert self.store.claim_outbox("mail", now=T0 + timedelta(hours=3)) == [], (
            "claim_outbox('mail') after everything was acked must hand out nothing"
        )
        # The id is free again, as for a ticket that never existed.
        open_ticket(self.store, "T-1")
        assert self.store.events("T-1") == [opened("T-1", self.store.load("T-1").number)], (
            "events('T-1') of a ticket opened with the id of a purged one must hold its "
            "TicketOpened only"
        )

    def test_purge_checks_the_version_and_changes_nothing_on_refusal(self) -> None:
        ticket, events = self._secret_ticket()
        with raises(ConflictError):
            self.store.purge("T-1", expected_version=ticket.version + 1)
        with raises(NotFound):
            self.store.purge("T-9", expected_version=1)
        for bad in ({"expected_version": 0}, {"expected_version": True}):
            with raises(ValidationError):
                self.store.purge("T-1", **bad)
        with raises(ValidationError):
            self.store.purge("", expected_version=1)
        assert self.store.load("T-1") == ticket, (
            "load('T-1') after refused purge() calls must return the snapshot as it was"
        )
        assert self.store.events("T-1") == events, (
            "events('T-1') after refused purge() calls must return the history as it was"
        )

    def test_purge_inside_a_failed_unit_of_work_is_undone(self) -> None:
        ticket, events = self._secret_ticket()
        with raises(ValidationError), self.store.unit_of_work():
            self.store.purge("T-1", expected_version=ticket.version)
            raise ValidationError("planned failure")
        assert self.store.load("T-1") == ticket, (
            "load('T-1') after purge() in a unit of work that failed must return the snapshot as "
            "it was"
        )
        assert self.store.events("T-1") == events, (
            "events('T-1') after purge() in a unit of work that failed must return the history as "
            "it was"
        )
        assert [e for _, e in self.store.event_stream()] == events, (
            "event_stream() after purge() in a unit of work that failed must give the ticket's "
            "events again"
        )
        assert [i.event for i in self.store.claim_outbox("mail", now=T0)] == events, (
            "claim_outbox('mail') after purge() in a unit of work that failed must hand out the "
            "ticket's events again"
        )

    def test_delete_requester(self) -> None:
        self.store.save_requester(Requester(id="r-1", name="Ada", email="Ada@Example.org"))
        self.store.save_requester(Requester(id="r-2", name="Bob", email="ada@example.org"))
        self.store.delete_requester("r-1")
        self.store.delete_requester("r-unknown")
        with raises(NotFound):
            self.store.get_requester("r-1")
        found = self.store.find_requester(email="ADA@example.org")
        assert found is not None, (
            "find_requester(email='ADA@example.org') after delete_requester('r-1') must find r-2, "
            "who has the same email in lower case"
        )
        assert found.id == "r-2", (
            "find_requester(email='ADA@example.org') after delete_requester('r-1') must find r-2, "
            f"got {found.id!r}"
        )
        self.store.delete_requester("r-2")
        assert self.store.find_requester(email="ada@example.org") is None, (
            "find_requester(email='ada@example.org') after both requesters were deleted must "
            "return None"
        )


# ---------------------------------------------------------------------------- differential

_IDS = [f"T-{i}" for i in range(6)]
_TEXT = st.text(alphabet="aAbß0\x00 '%_\\\ue000Σς", max_size=6)
_NAMES = st.sampled_from(["a-1", "a-2", "a-3"])
# Instants on a minute grid, some written in other zones (the same instants: a store
# compares instants, never wall-clock text).
_INSTANTS = st.builds(
    lambda m, zone: (T0 + m * MINUTE).astimezone(zone),
    st.integers(min_value=0, max_value=40),
    st.sampled_from([UTC, UTC, _NEW_YORK, _TOKYO]),
)
_OPTIONAL_INSTANTS = st.none() | _INSTANTS
# When a consumer claims outbox items: one of those instants, or one past every lease
# taken at them (at most nine minutes), when every item not acked is due again.
_CLAIM_INSTANTS = _INSTANTS | st.integers(min_value=50, max_value=60).map(
    lambda m: T0 + m * MINUTE
)


# Values that differ in case or by a trailing blank only: a store must tell them apart.
_CATEGORIES = st.sampled_from(["a", "A", "a ", "ß", "ss"])
_ASSETS = st.sampled_from(["PC-1", "pc-1", "PC-1 "])
_TAGS = st.sampled_from(["a", "A", "vpn", "VPN"])
_TYPES = st.sampled_from(["incident", "problem", "access_request"])
# The type a TicketRouted gives a ticket, by the agent drawn for the change (None: it
# keeps its type).
_RETYPES = {"a-1": None, "a-2": "problem", "a-3": "incident"}
# Where TicketRouted sends a ticket, by the agent drawn for the change.
_ROUTES = {"a-1": ("desk", "L1"), "a-2": ("ops", "L2"), "a-3": ("ops", "L1")}
# What a change links a ticket to (or drops its links to), by the agent drawn for it: two
# kinds of link to T-0, one to T-5.
_LINKS = {
    "a-1": ("T-0", "caused_by"),
    "a-2": ("T-5", "duplicate_of"),
    "a-3": ("T-0", "follow_up_of"),
}


def _some(values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, ...]]:
    """Two or three different values (a filter that matches any of them)."""
    return st.lists(values, min_size=2, max_size=3, unique=True).map(tuple)


_NUMBERS = st.integers(min_value=1, max_value=8)

_FILTERS: dict[str, st.SearchStrategy[Any]] = {
    "number": _NUMBERS | st.lists(_NUMBERS, min_size=2, max_size=3, unique=True).map(tuple),
    "status": st.sampled_from(["new", "open", "solved", "closed", ("new", "pending")]),
    "status_category": st.sampled_from(["new", "solved", "closed", ("open", "new")]),
    "category": _CATEGORIES | _TEXT | _some(_CATEGORIES),
    "team": st.sampled_from(["desk", "ops", "Ops"]) | _some(st.sampled_from(["desk", "ops", "x"])),
    "tier": st.sampled_from(["L1", "L2", "l1"]) | _some(st.sampled_from(["L1", "L2", "L3"])),
    "assignee": _NAMES | _some(_NAMES),
    "owner": _NAMES | _some(_NAMES),
    "asset": _ASSETS | _some(_ASSETS),
    "requester": st.sampled_from(["r-1", "r-2", ("r-1", "r-2")]),
    "tag": _TEXT | st.tuples(_TEXT, st.just("x")),
    "priority": st.sampled_from([*Priority, (Priority.LOW, Priority.CRITICAL)]),
    "unassigned": st.just(True),
    "sla_deadline_before": _INSTANTS,
    "updated_since": _INSTANTS,
    "text": st.sampled_from(["a", "b", "ab", "ß", "ss", "0", "\x00", "%", "_", "'", "\u03c3"])
    | _TEXT,
    "active_only": st.just(True),
    "closed_before": _INSTANTS,
    "anonymised": st.booleans(),
    "scope": st.builds(
        TicketScope,
        teams=st.sampled_from([(), ("desk",), ("ops", "desk")]),
        unrouted=st.booleans(),
        agent=st.none() | _NAMES,
        requester=st.none() | st.sampled_from(["r-1", "r-2"]),
        organization=st.none() | st.sampled_from(["Acme", "acme", "Globex"]),
    ),
    "organization": st.sampled_from(["Acme", "Globex", ("Acme", "Globex")]),
    "links_to": st.sampled_from(["T-0", "T-5", ("T-5", "T-0"), ("T-1", "T-5"), "T-x"]),
    "queued": st.booleans(),
    "type": _TYPES | st.just("Problem") | _some(_TYPES),
}


def _probe(fields: dict[str, Any]) -> TicketQuery:
    """A query of up to 100 tickets in number order, unless ``fields`` say otherwise."""
    return TicketQuery(**{"limit": 100, "order_by": "number", **fields})


# Queries the machine also asks after every step, a few at a time in turn, so that every
# run compares each filter on the states it reaches: instants a ticket closed or not,
# anonymised or not, values in another case or with a trailing blank, lists of values,
# the queued_at orders.
_PROBES: tuple[TicketQuery, ...] = tuple(
    _probe(fields)
    for fields in (
        {"closed_before": T0 + 10 * MINUTE},
        {"anonymised": True},
        {"category": "a"},
        {"team": ("x", "ops")},
        {"team": ("desk", "x")},
        {"closed_before": (T0 + 40 * MINUTE).astimezone(_TOKYO)},
        {"anonymised": False},
        {"category": ("A", "ß")},
        {"tier": ("L2", "L1")},
        {"closed_before": T0 + 2 * HOUR},
        {"category": "a "},
        {"assignee": ("a-3", "a-2")},
        {"owner": ("a-2", "a-1")},
        {"status_category": "closed"},
        {"asset": "PC-1"},
        {"asset": ("pc-1", "PC-1 ")},
        {"tag": ("A", "x")},
        {"tag": "VPN"},
        {"tag": "vpn "},
        {"text": "sa"},
        {"text": "s a"},
        {"text": "s\na"},
        {"team": "Ops"},
        {"tier": "l1"},
        {"tag": "a"},
        {"closed_before": T0 + 25 * MINUTE, "anonymised": True},
        {"assignee": ("a-1", "a-3"), "active_only": True},
        {"links_to": "T-0"},
        {"links_to": ("T-5", "T-0"), "active_only": True},
        {"queued": True},
        # a queue drain's query, which MemoryStore answers from its index of waiting tickets
        {"team": "ops", "unassigned": True, "active_only": True, "queued": True},
        {"team": ("desk", "ops"), "unassigned": True, "status_category": "new", "queued": True},
        # ... in a drain's order: the longest-waiting first (and ties by id)
        {
            "team": "ops",
            "unassigned": True,
            "active_only": True,
            "queued": True,
            "order_by": "queued_at",
        },
        # every ticket by queued_at, either way: those without one last
        {"order_by": "queued_at"},
        {"order_by": "-queued_at", "active_only": True},
        {"type": "problem"},
        # the known-error view's read, and a retention scan of a policy limited to types
        {"type": "problem", "active_only": True},
        {"type": ("access_request", "incident"), "closed_before": T0 + HOUR},
        {"number": 2},
        {"number": (4, 1, 3)},
        {"organization": "Acme"},
        {"organization": ("Globex", "acme")},
        {"unassigned": True},
        {"unassigned": True, "active_only": True},
        {"updated_since": T0 + 20 * MINUTE},
        {"updated_since": (T0 + 45 * MINUTE).astimezone(_NEW_YORK)},
    )
)
_PROBES_PER_STEP = 3


@st.composite
def _queries(draw: st.DrawFn) -> TicketQuery:
    names = draw(st.lists(st.sampled_from(sorted(_FILTERS)), max_size=3, unique=True))
    if "unassigned" in names and "assignee" in names:
        names.remove("assignee")
    fields = {name: draw(_FILTERS[name]) for name in names}
    if draw(st.integers(min_value=0, max_value=3), label="drain") == 0:
        # a queue drain's filters (with any drawn besides): its query, paged in any order
        fields.pop("assignee", None)
        fields.update(unassigned=True, active_only=True, queued=True)
        fields.setdefault("team", draw(st.sampled_from(["desk", "ops"])))
    return TicketQuery(
        **fields,
        order_by=draw(st.sampled_from(sorted(ORDERINGS))),
        limit=draw(st.integers(min_value=1, max_value=4)),
        offset=draw(st.integers(min_value=0, max_value=3)),
    )


# The kinds of event :func:`_event_for` makes. A change appends events of consecutive
# kinds, so a ticket is closed and reopened, closed again, or noted on after its close.
_KINDS = (
    "comment",
    "assign",
    "solve",
    "close",
    "reopen",
    "close",
    "route",
    "queue",
    "sla",
    "anonymise",
    "link",
    "unlink",
)


def _event_for(ticket: Ticket, kind: int, value: str, who: str, at: datetime) -> Event:
    tid = ticket.id
    name = _KINDS[kind % len(_KINDS)]
    if name == "comment":
        return commented(tid, value, at=at)
    if name == "assign":
        return Assigned(ticket_id=tid, at=at, by=AGENT, assignee=who)
    if name == "solve":
        return moved(tid, "solved", StatusCategory.SOLVED, at=at)
    if name == "close":  # later events leave the instant it closed as it was
        return moved(tid, "closed", StatusCategory.CLOSED, at=at)
    if name == "reopen":
        return moved(tid, "open", StatusCategory.OPEN, at=at)
    if name == "route":
        team, tier = _ROUTES[who]
        return TicketRouted(
            ticket_id=tid,
            at=at,
            by=AGENT,
            changes=Changes(
                team=team,
                tier=tier,
                type=_RETYPES[who],
                category=value,
                tags=(value.strip() or "t", "x"),
                priority=Priority.CRITICAL,
            ),
        )
    if name == "queue":  # nobody was free: it waits (an Assigned takes it out)
        return queued(tid, at=at, strategy=None if who == "a-1" else "least_loaded")
    if name == "sla":
        return SlaClockStarted(
            ticket_id=tid, at=at, by=AGENT, clock=sla_clock(at + 30 * MINUTE, at=at)
        )
    if name == "link":
        other, link_kind = _LINKS[who]
        return linked(tid, other, link_kind, at=at)
    if name == "unlink":  # as when the ticket linked to was purged
        return LinkedTicketPurged(ticket_id=tid, at=at, by=AGENT, other=_LINKS[who][0])
    # anonymised by an event: any later event clears the flag again
    return TicketAnonymised(ticket_id=tid, at=at, by=AGENT, reason=value)


_OUTCOME = st.sampled_from(["ack", "release", "keep"])


def _outcomes(n: int) -> st.SearchStrategy[list[str]]:
    """What a consumer does with the ``n`` items it claimed: all of them acked (in one
    call), all given back, all kept, or each its own way."""
    return _OUTCOME.map(lambda outcome: [outcome] * n) | st.lists(
        _OUTCOME, min_size=n, max_size=n
    )


_OUTCOMES = {n: _outcomes(n) for n in range(4)}  # a claim's largest limit is 3


def _load(store: Store, *, ticket_id: str) -> Ticket:
    return store.load(ticket_id)


def _events(store: Store, *, ticket_id: str, after: int) -> list[Event]:
    return store.events(ticket_id, after_version=after)


def _difference(ref: Any, sut: Any) -> str:
    """Where ``ref`` (the reference's answer) and ``sut`` (the store's) part: for pages the
    ids, totals and next offsets, for lists the lengths and the first item that differs,
    then the first items that differ in full."""
    if isinstance(ref, Page) and isinstance(sut, Page):
        lines = []
        for name, a, b in (
            ("ids", [_describe(t) for t in ref.items], [_describe(t) for t in sut.items]),
            ("total", ref.total, sut.total),
            ("next_offset", ref.next_offset, sut.next_offset),
        ):
            if a != b:
                lines.append(f"  {name}:\n    reference:        {a!r}\n    store under test: {b!r}")
        if lines:
            return "\n".join(lines)
        return _difference(list(ref.items), list(sut.items))
    if isinstance(ref, list | tuple) and isinstance(sut, list | tuple):
        for index, (a, b) in enumerate(zip(ref, sut)):
            if a != b:
                return (
                    f"  lengths: reference {len(ref)}, store under test {len(sut)}; "
                    f"first difference at index {index}:\n"
                    f"    reference:        {a!r}\n    store under test: {b!r}"
                )
        longer, extra = ("reference", ref) if len(ref) > len(sut) else ("store under test", sut)
        shorter = min(len(ref), len(sut))
        return (
            f"  lengths: reference {len(ref)}, store under test {len(sut)}; the {longer} "
            f"goes on with: {list(extra[shorter : shorter + 3])!r}"
        )
    return f"  reference:        {ref!r}\n  store under test: {sut!r}"


def _names(events: Sequence[Event]) -> str:
    """``[TicketOpened, Assigned]``: the kinds of ``events``, in order."""
    return f"[{', '.join(type(e).__name__ for e in events)}]"


def _describe(value: Any) -> Any:
    """A ticket by its id (a page's items compared by what they are)."""
    return value.id if isinstance(value, Ticket) else value


def _agree(what: object, ref: Any, sut: Any) -> None:
    """Fail, saying where and how, unless the store answers ``what`` (a call, or the query
    asked) as the reference did."""
    assert ref == sut, (
        f"the store disagrees with the reference MemoryStore on {what}\n{_difference(ref, sut)}"
    )


def make_differential_machine(
    make_store: Callable[[], Store],
    *,
    teardown: Callable[[Store], None] | None = None,
) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine that runs random operations (opening and changing
    tickets of several types with stale versions among them: replies, assignments,
    routing (which may change the type), waiting in a queue, SLA clocks, solving, closing,
    reopening, links added and dropped, anonymising by an event or by rewriting the
    history;
    queries, due claims, outbox claims in rounds (some items acked, some given back as ids
    or as the items claimed, the rest kept leased, then a claim again within the lease or
    past it), cursors, units of work that fail) against ``make_store()`` and a
    :class:`~helpdesk_core.storage.MemoryStore`, and fails when they disagree. After every
    step it also compares a few queries from a fixed set (closing instants, the anonymised
    flag, text that differs in case or by a trailing blank, lists of values, numbers,
    organizations, unassigned tickets, ``updated_since``), taking them in turn, and reads
    the event stream in two parts (``limit``, then ``after``), split at each event in turn.
    A failure names the call or query and shows the reference's answer and the store's.

    Run it with ``TestX = make_differential_machine(factory).TestCase``."""
    if not callable(make_store):
        raise ValidationError(
            "make_store must be a callable that makes a new store (such as the store's "
            f"class), got {type(make_store).__name__}",
            field="make_store",
        )
    if teardown is not None and not callable(teardown):
        raise ValidationError(
            f"teardown must be None or a callable taking the store, got "
            f"{type(teardown).__name__}",
            field="teardown",
        )

    class StoreAgreement(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ref: Store = MemoryStore()
            self.sut: Store = make_store()
            self.number = 0
            self.last_numbers: dict[int, int] = {0: 0, 1: 0}
            # What each consumer claimed: the reference's item and the store's, in pairs.
            self.claimed: dict[str, list[tuple[OutboxItem, OutboxItem]]] = {}
            self.probes = 0
            self.paging: TicketQuery | None = None
            self.paging_after: TicketQuery | None = None

        def teardown(self) -> None:
            self.ref.close()
            (teardown or (lambda store: store.close()))(self.sut)

        def both(self, what: str, fn: Callable[[Store], Any]) -> Any:
            """``fn`` on both stores (``what`` names the call): the same answer, or the
            same refusal."""
            results = []
            for store in (self.ref, self.sut):
                try:
                    results.append(("ok", fn(store)))
                except (ConflictError, NotFound, ValidationError) as exc:
                    detail = (type(exc).__name__, getattr(exc, "actual", None))
                    results.append(("error", detail))
            if results[0][0] == results[1][0] == "ok":
                _agree(what, results[0][1], results[1][1])
            assert results[0] == results[1], (
                f"the store disagrees with the reference MemoryStore on {what}\n"
                f"  reference:        {results[0]!r}\n  store under test: {results[1]!r}"
            )
            return results[0][1]

        @initialize(first_probe=st.integers(0, len(_PROBES) - 1))
        def start(self, first_probe: int) -> None:
            _agree("a new store's event stream", [], list(self.sut.event_stream()))
            self.probes = first_probe

        @rule(
            ticket_id=st.sampled_from(_IDS),
            # "anonymised": an anonymised ticket belongs to no organization.
            requester=st.sampled_from(["r-1", "r-2", "anonymised"]),
            subject=_TEXT,
            description=_TEXT | st.sampled_from(["a b", "ab"]),
            category=st.none() | _CATEGORIES | _TEXT,
            asset=st.none() | _ASSETS,
            organization=st.none() | st.sampled_from(["Acme", "acme", "Globex"]),
            tags=st.lists(_TAGS | _TEXT.filter(lambda t: t == t.strip() and t), max_size=2),
            priority=st.sampled_from(list(Priority)),
            type=_TYPES,
            at=_INSTANTS,
            wake_at=_OPTIONAL_INSTANTS,
            # assigned in the same append, as a desk that assigns on opening does
            assignee=st.none() | _NAMES,
        )
        def open(
            self,
            ticket_id: str,
            requester: str,
            subject: str,
            description: str,
            category: str | None,
            asset: str | None,
            organization: str | None,
            tags: list[str],
            priority: Priority,
            type: str,
            at: datetime,
            wake_at: datetime | None,
            assignee: str | None,
        ) -> None:
            self.number += 1
            event = opened(
                ticket_id,
                self.number,
                at=at,
                requester=requester,
                subject=subject + "s",
                description=description,
                category=category,
                asset=asset,
                organization=organization,
                tags=tags,
                priority=priority,
                type=type,
            )
            events: list[Event] = [event]
            if assignee is not None:
                events.append(Assigned(ticket_id=ticket_id, at=at, by=AGENT, assignee=assignee))
            snapshot = replay(events)
            self.both(
                f"append({ticket_id!r}, expected_version=0, events={_names(events)})",
                lambda s: s.append(
                    ticket_id,
                    expected_version=0,
                    events=events,
                    snapshot=snapshot,
                    wake_at=wake_at,
                )
            )

        @precondition(lambda self: bool(self.ref.get_many(_IDS)))
        @rule(
            data=st.data(),
            kind=st.integers(min_value=0, max_value=len(_KINDS) - 1),
            value=_TEXT,
            who=_NAMES,
            stale=st.sampled_from([0, 0, 0, 1, 2]),
            step=st.integers(min_value=0, max_value=30),
            wake_at=_OPTIONAL_INSTANTS,
        )
        def change(
            self,
            data: st.DataObject,
            kind: int,
            value: str,
            who: str,
            stale: int,
            step: int,
            wake_at: datetime | None,
        ) -> None:
            ticket_id = data.draw(st.sampled_from(_ids(self.ref.get_many(_IDS))))
            history = self.ref.events(ticket_id)
            version = max(1, len(history) - stale)
            base = replay(history[:version])
            snapshot = base
            events: list[Event] = []
            for extra in range(data.draw(st.integers(min_value=1, max_value=4), label="count")):
                at = snapshot.updated_at + (step + extra) * MINUTE
                event = _event_for(snapshot, kind + extra, value, who, at)
                events.append(event)
                snapshot = apply_event(snapshot, event)
            self.both(
                f"append({ticket_id!r}, expected_version={version}, events={_names(events)})",
                lambda s: s.append(
                    ticket_id,
                    expected_version=version,
                    events=events,
                    snapshot=snapshot,
                    wake_at=wake_at,
                )
            )

        @precondition(lambda self: bool(self.ref.get_many(_IDS)))
        @rule(
            data=st.data(),
            stale=st.sampled_from([0, 0, 0, 1]),
            step=st.integers(0, 30),
            unlink=st.booleans(),
            dequeue=st.booleans(),
            wake_at=_OPTIONAL_INSTANTS,
        )
        def anonymise(
            self,
            data: st.DataObject,
            stale: int,
            step: int,
            unlink: bool,
            dequeue: bool,
            wake_at: datetime | None,
        ) -> None:
            ticket_id = data.draw(st.sampled_from(_ids(self.ref.get_many(_IDS))))
            history = self.ref.events(ticket_id)
            at = replay(history).updated_at + step * MINUTE
            erased = TicketAnonymised(ticket_id=ticket_id, at=at, by=AGENT, reason="retention")
            events = [*_scrubbed(history), erased]
            if unlink:  # a rewritten history may drop links too
                events = [
                    commented(ticket_id, "unlinked", at=e.at) if isinstance(e, Linked) else e
                    for e in events
                ]
            if dequeue:  # or the ticket's waits in a queue
                events = [
                    commented(ticket_id, "dequeued", at=e.at)
                    if isinstance(e, QueuedForAssignment)
                    else e
                    for e in events
                ]
            snapshot = replay(events)
            version = max(1, len(history) - stale)
            self.both(
                f"anonymise({ticket_id!r}, expected_version={version}, "
                f"events={_names(events)})",
                lambda s: s.anonymise(
                    ticket_id,
                    expected_version=version,
                    events=events,
                    snapshot=snapshot,
                    wake_at=wake_at,
                )
            )

        @rule(query=_queries())
        def query(self, query: TicketQuery) -> None:
            self.both(f"query({query!r})", lambda s: s.query(query))

        @rule(query=_queries())
        def page_on(self, query: TicketQuery) -> None:
            """The page after the one this rule read last (``query`` once that one ran
            out), with whatever other rules changed in between: a store that serves a
            next page from where the last one ended must notice every change."""
            if self.paging is not None:
                query = self.paging
            page = self._page(query)
            self.paging = (
                None if page.next_offset is None else attrs.evolve(query, offset=page.next_offset)
            )

        @rule(query=_queries())
        def page_after(self, query: TicketQuery) -> None:
            """As ``page_on``, the next page asked for by the token of where the last one
            ended (``after``), with whatever other rules changed in between."""
            if self.paging_after is not None:
                query = self.paging_after
            elif query.offset:
                query = attrs.evolve(query, offset=0)
            page = self._page(query)
            self.paging_after = (
                None if page.next_after is None else attrs.evolve(query, after=page.next_after)
            )

        def _page(self, query: TicketQuery) -> Page[Ticket]:
            """The page of ``query`` both stores give, checked against the reference
            semantics of the tickets as they are."""
            page: Page[Ticket] = self.both(f"query({query!r})", lambda s: s.query(query))
            expected = query.page(self.ref.get_many(_IDS))
            if page != expected:
                _agree(f"{query!r}, paged by TicketQuery.page", expected, page)
            return page

        @rule(ids=st.lists(st.sampled_from([*_IDS, "T-x"]), max_size=4), after=st.integers(0, 3))
        def read(self, ids: list[str], after: int) -> None:
            self.both(f"get_many({ids!r})", lambda s: s.get_many(ids))
            for ticket_id in ids:
                self.both(f"load({ticket_id!r})", partial(_load, ticket_id=ticket_id))
                self.both(
                    f"events({ticket_id!r}, after_version={after})",
                    partial(_events, ticket_id=ticket_id, after=after),
                )
            self.both(
                "requester_history('r-1', limit=3)",
                lambda s: s.requester_history("r-1", limit=3),
            )
            self.both(
                "requester_ticket_ids('r-1', limit=3)",
                lambda s: s.requester_ticket_ids("r-1", limit=3),
            )

        @rule(now=_INSTANTS, limit=st.integers(1, 4))
        def due(self, now: datetime, limit: int) -> None:
            self.both(f"due({now.isoformat()}, limit={limit})", lambda s: s.due(now, limit=limit))

        @rule(now=_INSTANTS, worker=_NAMES, limit=st.integers(1, 3), minutes=st.integers(1, 9))
        def claim_due(self, now: datetime, worker: str, limit: int, minutes: int) -> None:
            self.both(
                f"claim_due({now.isoformat()}, worker={worker!r}, limit={limit}, "
                f"lease={minutes} minutes)",
                lambda s: s.claim_due(
                    now, worker=worker, limit=limit, lease=timedelta(minutes=minutes)
                ),
            )

        def claim_items(
            self, consumer: str, now: datetime, limit: int, minutes: int
        ) -> list[tuple[OutboxItem, OutboxItem]]:
            """Claim on both stores; the items claimed, the reference's and the store's in
            pairs (also noted in :attr:`claimed`)."""
            got: dict[int, list[OutboxItem]] = {}

            def claim(store: Store) -> list[tuple[str, int, Event]]:
                items = store.claim_outbox(
                    consumer, now=now, limit=limit, lease=timedelta(minutes=minutes)
                )
                got[id(store)] = items
                return [(i.id, i.attempts, i.event) for i in items]

            self.both(
                f"claim_outbox({consumer!r}, now={now.isoformat()}, limit={limit}, "
                f"lease={minutes} minutes), as (id, attempts, event)",
                claim,
            )
            if id(self.ref) not in got or id(self.sut) not in got:
                return []
            pairs = list(zip(got[id(self.ref)], got[id(self.sut)], strict=True))
            self.claimed.setdefault(consumer, []).extend(pairs)
            return pairs

        def settle_items(
            self,
            consumer: str,
            pairs: Sequence[tuple[OutboxItem, OutboxItem]],
            *,
            ack: bool,
            as_items: bool = False,
            error: str | None = None,
        ) -> None:
            """Ack or give back items on both stores, each store its own; given back as
            ids or (``as_items``) as the items its claim returned."""
            if not pairs:
                return

            def items(store: Store) -> list[OutboxItem]:
                return [pair[0 if store is self.ref else 1] for pair in pairs]

            ids = [pair[0].id for pair in pairs]
            if ack:
                self.both(
                    f"ack_outbox({consumer!r}, {ids!r})",
                    lambda s: s.ack_outbox(consumer, [i.id for i in items(s)]),
                )
            elif as_items:
                self.both(
                    f"release_outbox({consumer!r}, the items claimed as {ids!r}, "
                    f"error={error!r})",
                    lambda s: s.release_outbox(consumer, items(s), error=error),
                )
            else:
                self.both(
                    f"release_outbox({consumer!r}, {ids!r}, error={error!r})",
                    lambda s: s.release_outbox(consumer, [i.id for i in items(s)], error=error),
                )

        @rule(
            data=st.data(),
            consumer=st.sampled_from(["mail", "hook"]),
            now=_CLAIM_INSTANTS,
            limit=st.integers(1, 3),
            minutes=st.integers(1, 9),
            as_items=st.booleans(),
            error=st.none() | _TEXT,
            # minutes later; 10: past the longest lease
            again=st.just(10) | st.integers(0, 9),
        )
        def claim_outbox(
            self,
            data: st.DataObject,
            consumer: str,
            now: datetime,
            limit: int,
            minutes: int,
            as_items: bool,
            error: str | None,
            again: int,
        ) -> None:
            """A consumer's round: it claims items, acks some of them and gives some back
            at once (the rest stay leased until it settles them later, or its lease runs
            out), and claims again ``again`` minutes later: an item it acked must not
            come back, one still leased to it not before the lease runs out, one given
            back or whose lease ran out only with one attempt more."""
            pairs = self.claim_items(consumer, now, limit, minutes)
            outcomes = data.draw(_OUTCOMES[len(pairs)], label="outcomes")
            for outcome, ack in (("ack", True), ("release", False)):
                chosen = [p for p, o in zip(pairs, outcomes, strict=True) if o == outcome]
                self.settle_items(consumer, chosen, ack=ack, as_items=as_items, error=error)
            self.claim_items(consumer, now + again * MINUTE, limit, minutes)

        @precondition(lambda self: any(self.claimed.values()))
        @rule(
            data=st.data(),
            ack=st.booleans(),
            as_items=st.booleans(),
            error=st.none() | _TEXT,
        )
        def settle(self, data: st.DataObject, ack: bool, as_items: bool, error: str | None) -> None:
            """Ack or give back some of the items a consumer claimed earlier: its latest
            claims (which may still be leased to it) more often than older ones (acked,
            given back, claimed again since, or leased to it again)."""
            consumer = data.draw(st.sampled_from(sorted(c for c, i in self.claimed.items() if i)))
            claimed = self.claimed[consumer]
            recent = st.integers(max(0, len(claimed) - 3), len(claimed) - 1)
            picks = data.draw(
                st.lists(recent | st.integers(0, len(claimed) - 1), min_size=1, max_size=3)
            )
            self.settle_items(
                consumer, [claimed[i] for i in picks], ack=ack, as_items=as_items, error=error
            )

        @rule(
            key=st.sampled_from(["k1", "k2"]),
            value=st.integers(-5, 5),
            fail=st.booleans(),
            ticket_id=st.sampled_from(_IDS),
            at=_INSTANTS,
        )
        def unit_of_work(
            self, key: str, value: int, fail: bool, ticket_id: str, at: datetime
        ) -> None:
            self.number += 1
            event = opened(ticket_id, self.number, at=at)
            snapshot = replay([event])

            def work(store: Store) -> None:
                with store.unit_of_work():
                    store.set_cursor(key, value)
                    store.save_config_document({"value": value})
                    store.append(ticket_id, expected_version=0, events=[event], snapshot=snapshot)
                    if fail:
                        raise ValidationError("planned failure")

            failing = " that fails" if fail else ""
            self.both(
                f"a unit of work{failing}: set_cursor({key!r}, {value}), "
                f"save_config_document({{'value': {value}}}), append({ticket_id!r}, "
                f"expected_version=0, events=[TicketOpened])",
                work,
            )
            self.both(
                f"(get_cursor({key!r}), load_config_document()) after a unit of work{failing}",
                lambda s: (s.get_cursor(key), s.load_config_document()),
            )

        @rule()
        def allocate(self) -> None:
            for index, store in enumerate((self.ref, self.sut)):
                number = store.allocate_number()
                assert number > self.last_numbers[index], (
                    f"allocate_number() of the {('reference', 'store under test')[index]} "
                    f"returned {number} after {self.last_numbers[index]}"
                )
                self.last_numbers[index] = number

        def same_query(self, query: TicketQuery) -> None:
            _agree(query, self.ref.query(query), self.sut.query(query))

        @invariant()
        def agree(self) -> None:
            self.same_query(TicketQuery(limit=100, order_by="number"))
            self.same_query(TicketQuery(links_to=("T-0", "T-5"), limit=100, order_by="number"))
            self.same_query(TicketQuery(queued=True, limit=100, order_by="number"))
            self.same_query(TicketQuery(type="problem", limit=100, order_by="number"))
            for _ in range(_PROBES_PER_STEP):
                probe = _PROBES[self.probes % len(_PROBES)]
                self.probes += 1
                self.same_query(probe)
            # Just at and just after the instant a ticket closed: reopened ones first, then
            # ones changed since, then ones closed twice.
            closed = sorted(
                (t for t in self.ref.get_many(_IDS) if t.closed_at is not None),
                key=lambda t: (
                    t.status_category is StatusCategory.CLOSED,
                    t.updated_at == t.closed_at,
                    t.reopen_count == 0,
                ),
            )
            for instant in [t.closed_at for t in closed[:2] if t.closed_at is not None]:
                for before in (instant, instant + _ONE_US):
                    self.same_query(TicketQuery(closed_before=before, limit=100, order_by="number"))
            _agree("agent_loads()", self.ref.agent_loads(), self.sut.agent_loads())
            # The store's stream read in two parts, split in turn at each of its events:
            # its first ``k`` events (``limit=k``), then the rest (``after`` the position
            # of the k-th: each store's own, positions may differ).
            ref = [e for _, e in self.ref.event_stream()]
            k = self.probes // _PROBES_PER_STEP % (len(ref) + 1)
            head = list(self.sut.event_stream(limit=k)) if k else []
            _agree(f"event_stream(limit={k})", ref[:k], [e for _, e in head])
            after = head[-1][0] if head else 0
            rest = list(self.sut.event_stream(after=after) if k else self.sut.event_stream())
            _agree(f"event_stream(after={after}), {k} events in", ref[k:], [e for _, e in rest])
            positions = [p for p, _ in head + rest]
            assert positions == sorted(set(positions)), (
                f"the positions of the store's event stream do not increase: {positions}"
            )
            for ticket in self.sut.get_many(_IDS):  # every event kept, the snapshot its fold
                history = self.sut.events(ticket.id)
                assert len(history) == ticket.version, (
                    f"the store holds {len(history)} events of {ticket.id}, at version "
                    f"{ticket.version}"
                )
                fold = replay(history)
                assert fold == ticket, (
                    f"the store's snapshot of {ticket.id} is not the fold of its events\n"
                    f"  fold:     {fold!r}\n  snapshot: {ticket!r}"
                )

    return StoreAgreement
