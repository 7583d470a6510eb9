"""The in-memory store: the default store, and the reference the other stores are tested
against.

Everything lives in Python structures guarded by one re-entrant lock, so a store can be
shared by threads. Snapshots and events are kept as the frozen model objects themselves
(never copied: they are immutable). :meth:`MemoryStore.unit_of_work` holds the lock for its
whole block and records an undo journal, so an exception puts every structure back as it
was. Indexes kept up to date on each append: tickets per requester, the set of active
tickets, the queues (active unassigned tickets by team, and those of them waiting for an
assignment), agent loads, the tickets linking to each ticket, and a heap of wake-up
instants.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from operator import attrgetter
from typing import Any, Self, TypeVar

import attrs

from helpdesk_core.errors import ConflictError, NotFound, StoreClosedError, ValidationError
from helpdesk_core.knowledge.articles import Article, ArticleQuery, rank_articles
from helpdesk_core.model._validate import check_unicode
from helpdesk_core.model.enums import Priority
from helpdesk_core.model.events import Event
from helpdesk_core.model.people import Requester
from helpdesk_core.model.ticket import Link, Ticket
from helpdesk_core.storage._articles import word_counts
from helpdesk_core.storage.base import (
    LAST_NUMBER,
    ImportItem,
    OutboxItem,
    Page,
    TicketQuery,
    TicketScope,
    check_after,
    check_anonymise,
    check_append,
    check_article,
    check_claim,
    check_cursor,
    check_cursor_values,
    check_error_note,
    check_import,
    check_instant,
    check_key,
    check_keys,
    check_lease,
    check_limit,
    check_name,
    check_purge,
    check_reschedule,
    first_with_email,
    item_id,
    lease_end,
    numbers_used_up,
    parse_item_id,
    release_targets,
    taken_number,
)
from helpdesk_core.storage.codecs import decode_document, encode_document

__all__ = ["MemoryStore"]

_MISSING: Any = object()
_BY_ID = attrgetter("id")


class _Descending:
    """An id that sorts descending among ids."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


_BY_UPDATED = attrgetter("updated_at")
_CHUNK = 500
_V = TypeVar("_V")

# An outbox delivery: (state, lease_until, attempts, last_error); state is
# "leased", "pending" or "acked".
_Delivery = tuple[str, datetime | None, int, str | None]


class _Consumer:
    __slots__ = ("deliveries", "hwm")

    def __init__(self) -> None:
        self.hwm = 0  # every position <= hwm is acked
        self.deliveries: dict[int, _Delivery] = {}


class MemoryStore:
    """A thread-safe store in process memory (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._journal: list[Callable[[], None]] | None = None
        self._number = 0
        self._tickets: dict[str, Ticket] = {}
        self._positions: dict[str, array[int]] = {}
        self._log: list[Event | None] = []  # None: a purged event's position
        self._log_versions: array[int] = array("q")
        self._active: dict[str, None] = {}
        # Active tickets without an assignee, by team (None: no team): the queues.
        self._queues: dict[str | None, dict[str, None]] = {}
        # Those of them waiting for an assignment (``queued_at`` set), per team, as
        # (queued_at, id) in that order: a queue drain's window is the first few of them.
        self._waiting_order: dict[str | None, list[tuple[datetime, str]]] = {}
        self._by_requester: dict[str, list[str]] = {}
        # The ticket with each number; the rare further tickets of a number already
        # taken (an append given one; an import refuses it) in ``_more_numbers``.
        self._numbers: dict[int, str] = {}
        self._more_numbers: dict[int, dict[str, None]] = {}
        # The tickets holding a link to each ticket id (other id -> ids, in link order).
        self._linked: dict[str, dict[str, None]] = {}
        self._loads: dict[str, dict[Priority, int]] = {}
        self._wake: dict[str, datetime] = {}
        self._wake_heap: list[tuple[datetime, str]] = []
        self._leases: dict[str, tuple[str, datetime]] = {}
        self._requesters: dict[str, Requester] = {}
        self._emails: dict[str, set[str]] = {}
        self._cursors: dict[str, int] = {}
        self._config: str | None = None
        self._consumers: dict[str, _Consumer] = {}
        self._articles: dict[str, tuple[Article, Counter[str]]] = {}
        # Every write of a ticket bumps the revision. The matches of the last query that
        # had more than one page, in order, stay kept while the revision holds, so that
        # reading its next pages costs a slice, not a filter and sort of every ticket.
        self._revision = 0
        self._scan: tuple[int, tuple[Any, ...], list[Ticket]] | None = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._tickets)} tickets"
        return f"MemoryStore({state})"

    # ------------------------------------------------------------------ journal

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed")

    def _undo(self, fn: Callable[[], None]) -> None:
        if self._journal is not None:
            self._journal.append(fn)

    def _set(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        if self._journal is not None:
            old = mapping.get(key, _MISSING)
            self._journal.append(lambda: _restore(mapping, key, old))
        mapping[key] = value

    def _del(self, mapping: dict[Any, Any], key: Any) -> None:
        if key not in mapping:
            return
        if self._journal is not None:
            old = mapping[key]
            self._journal.append(lambda: _restore(mapping, key, old))
        del mapping[key]

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Hold the store for the block; on an exception undo every change made in it.
        Nested blocks join the outer one (an exception caught inside the outer block
        undoes only the inner block)."""
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
                while len(journal) > mark:
                    journal.pop()()
                self._changed()
                raise
            finally:
                if outer:
                    self._journal = None

    def _changed(self) -> None:
        """A ticket was written, removed or restored: kept query matches are stale."""
        self._revision += 1
        self._scan = None

    def _lookup(self, table: Mapping[str, _V], key: str, kind: str) -> _V:
        """``table[key]`` read under the lock; NotFound(kind, key) when missing. (A table
        that ``close`` replaced is never read: the store is closed by then.)"""
        with self._lock:
            self._check_open()
            found = table.get(key)
        if found is None:
            raise NotFound(kind, key)
        return found

    # ------------------------------------------------------------------ tickets

    def allocate_number(self) -> int:
        """The next ticket number (never handed out twice, even after a rollback)."""
        with self._lock:
            self._check_open()
            if self._number >= LAST_NUMBER:
                raise numbers_used_up()
            self._number += 1
            return self._number

    def load(self, ticket_id: str) -> Ticket:
        """The ticket's latest snapshot."""
        check_key(ticket_id, "ticket_id")
        return self._lookup(self._tickets, ticket_id, "ticket")

    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """The tickets with these ids, in order; unknown ids skipped."""
        ticket_ids = check_keys(ticket_ids, "ticket_ids")
        with self._lock:
            self._check_open()
            found = (self._tickets.get(i) for i in ticket_ids)
            return [t for t in found if t is not None]

    def events(self, ticket_id: str, *, after_version: int = 0) -> list[Event]:
        """The ticket's events after ``after_version``."""
        check_key(ticket_id, "ticket_id")
        check_after(after_version, "after_version")
        with self._lock:
            self._check_open()
            positions = self._positions.get(ticket_id)
            if positions is None:
                return []
            log = self._log
            return [e for e in (log[p - 1] for p in positions[after_version:]) if e is not None]

    def append(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Append events and replace the snapshot if the version still matches."""
        check_append(ticket_id, expected_version, events, snapshot, wake_at)
        with self._lock:
            self._check_open()
            current = self._tickets.get(ticket_id)
            actual = 0 if current is None else current.version
            if actual != expected_version:
                raise ConflictError(ticket_id, expected=expected_version, actual=actual)
            self._write(current, events, snapshot, wake_at)

    def anonymise(
        self,
        ticket_id: str,
        *,
        expected_version: int,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None = None,
    ) -> None:
        """Replace the ticket's history in place (see :meth:`Store.anonymise`)."""
        check_anonymise(ticket_id, expected_version, events, snapshot)
        with self.unit_of_work():
            current = self._stored(ticket_id, expected_version)
            positions = self._positions[ticket_id]
            for version, position in enumerate(positions, start=1):
                old = self._log[position - 1]
                self._log[position - 1] = events[version - 1]
                self._undo(partial(self._log.__setitem__, position - 1, old))
                for state in self._consumers.values():
                    found = state.deliveries.get(position)
                    if found is not None and found[3] is not None:
                        self._set(state.deliveries, position, (*found[:3], None))
            self._write(current, events[expected_version:], snapshot, wake_at)

    def purge(self, ticket_id: str, *, expected_version: int) -> None:
        """Remove the ticket for good (see :meth:`Store.purge`): its events leave the log
        (their positions stay taken, so nothing is renumbered) and every index."""
        check_purge(ticket_id, expected_version)
        with self.unit_of_work():
            current = self._stored(ticket_id, expected_version)
            for position in self._positions[ticket_id]:
                old = self._log[position - 1]
                self._log[position - 1] = None
                self._undo(partial(self._log.__setitem__, position - 1, old))
                for state in self._consumers.values():
                    self._del(state.deliveries, position)
            self._del(self._positions, ticket_id)
            self._del(self._tickets, ticket_id)
            self._changed()
            self._list_remove(self._by_requester, current.requester, ticket_id)
            self._number_remove(current)
            self._relink(ticket_id, current.links, ())
            self._del(self._active, ticket_id)
            self._queue_move(current, None)
            load = _load_key(current)
            if load is not None:
                self._count(load, -1)
            self._set_wake(ticket_id, None)
            self._del(self._leases, ticket_id)

    def _stored(self, ticket_id: str, expected_version: int) -> Ticket:
        """Inside a unit of work, before a ticket is rewritten or removed in place: the
        stored ticket, which must exist (NotFound) at ``expected_version``
        (ConflictError)."""
        current = self._tickets.get(ticket_id)
        if current is None:
            raise NotFound("ticket", ticket_id)
        if current.version != expected_version:
            raise ConflictError(ticket_id, expected=expected_version, actual=current.version)
        return current

    def import_tickets(self, items: Iterable[ImportItem]) -> int:
        """Add many new tickets at once (all or none); each item is ``(events, snapshot)``
        or ``(events, snapshot, wake_at)``. Returns how many were added. Later
        :meth:`allocate_number` calls give numbers above every imported ticket's. A
        ticket carrying the number of a stored ticket or of another imported one is refused
        (ValidationError on ``number``)."""
        if isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise ValidationError(
                f"items is a list of (events, snapshot), got {type(items).__name__}",
                field="items",
            )
        batch = [check_import(item) for item in items]
        with self.unit_of_work():
            for events, snapshot, wake_at in batch:
                current = self._tickets.get(snapshot.id)
                if current is not None:
                    raise ConflictError(snapshot.id, expected=0, actual=current.version)
                holder = self._numbers.get(snapshot.number)
                if holder is not None:
                    raise taken_number(snapshot.id, snapshot.number, holder)
                self._write(None, events, snapshot, wake_at)
            # allocate_number must not hand out the number of a ticket imported here.
            self._number = max([self._number, *(snapshot.number for _, snapshot, _ in batch)])
        return len(batch)

    def _write(
        self,
        current: Ticket | None,
        events: Sequence[Event],
        snapshot: Ticket,
        wake_at: datetime | None,
    ) -> None:
        ticket_id = snapshot.id
        positions = self._positions.get(ticket_id)
        if positions is None:
            positions = array("q")
            self._set(self._positions, ticket_id, positions)
        start, had = len(self._log), len(positions)
        version = snapshot.version - len(events)
        for offset, event in enumerate(events, start=1):
            self._log.append(event)
            self._log_versions.append(version + offset)
            positions.append(start + offset)
        self._undo(lambda: _truncate(self, positions, start, had))
        self._set(self._tickets, ticket_id, snapshot)
        self._changed()
        self._index(current, snapshot)
        self._set_wake(ticket_id, wake_at)
        self._del(self._leases, ticket_id)

    def _index(self, old: Ticket | None, new: Ticket) -> None:
        if old is None or old.number != new.number:
            if old is not None:
                self._number_remove(old)
            self._number_add(new)
        if old is None or old.requester != new.requester:
            if old is not None:
                self._list_remove(self._by_requester, old.requester, old.id)
            self._history_add(new)
        if old is None:
            if new.links:
                self._relink(new.id, (), new.links)
        elif old.links != new.links:
            self._relink(new.id, old.links, new.links)
        if new.is_active:
            if new.id not in self._active:
                self._set(self._active, new.id, None)
        else:
            self._del(self._active, new.id)
        self._queue_move(old, new)
        before = _load_key(old)
        after = _load_key(new)
        if before != after:
            if before is not None:
                self._count(before, -1)
            if after is not None:
                self._count(after, +1)

    def _number_add(self, ticket: Ticket) -> None:
        if ticket.number not in self._numbers:
            self._set(self._numbers, ticket.number, ticket.id)
            return
        more = self._more_numbers.get(ticket.number)
        if more is None:
            more = {}
            self._set(self._more_numbers, ticket.number, more)
        self._set(more, ticket.id, None)

    def _number_remove(self, ticket: Ticket) -> None:
        number = ticket.number
        more = self._more_numbers.get(number)
        if self._numbers.get(number) == ticket.id:
            if more:  # another ticket of the number takes the first place
                first = next(iter(more))
                self._del(more, first)
                self._set(self._numbers, number, first)
            else:
                self._del(self._numbers, number)
        elif more is not None:
            self._del(more, ticket.id)
        if more is not None and not more:
            self._del(self._more_numbers, number)

    def _with_numbers(self, numbers: Iterable[int]) -> list[str]:
        """The ids of the tickets with these numbers."""
        ids: list[str] = []
        for number in dict.fromkeys(numbers):
            first = self._numbers.get(number)
            if first is not None:
                ids.append(first)
                ids.extend(self._more_numbers.get(number, ()))
        return ids

    def _relink(self, ticket_id: str, before: Iterable[Link], after: Iterable[Link]) -> None:
        """Keep the links index: the ticket no longer links to the others of ``before``
        that ``after`` lacks, and links to those of ``after`` that ``before`` lacked."""
        old = {link.other for link in before}
        new = {link.other for link in after}
        for other in old - new:
            linkers = self._linked[other]
            self._del(linkers, ticket_id)
            if not linkers:
                self._del(self._linked, other)
        for other in sorted(new - old):
            found = self._linked.get(other)
            if found is None:
                found = {}
                self._set(self._linked, other, found)
            self._set(found, ticket_id, None)

    def _queue_move(self, old: Ticket | None, new: Ticket | None) -> None:
        """Keep the queues indexes: ``old`` leaves its team's queue (and the tickets of it
        waiting for an assignment), ``new`` joins its own."""
        self._move(self._queues, _queue_key(old), _queue_key(new), old, new)
        before = _waiting_entry(old)
        after = _waiting_entry(new)
        if before != after:
            if before is not None:
                self._order_remove(*before)
            if after is not None:
                self._order_add(*after)

    def _order_add(self, team: str | None, entry: tuple[datetime, str]) -> None:
        items = self._waiting_order.get(team)
        if items is None:
            items = []
            self._set(self._waiting_order, team, items)
        where = bisect.bisect_left(items, entry)
        items.insert(where, entry)
        self._undo(partial(_pop_at, items, where))

    def _order_remove(self, team: str | None, entry: tuple[datetime, str]) -> None:
        items = self._waiting_order[team]
        where = bisect.bisect_left(items, entry)
        del items[where]
        self._undo(partial(items.insert, where, entry))

    def _waiting_page(self, query: TicketQuery) -> Page[Ticket] | None:
        """The page of a query for the tickets of teams' queues waiting for an assignment,
        longest-waiting first (what a queue drain asks for), read from the front of
        those queues kept in that order: None for any other query."""
        if (
            query.team is None
            or not query.queued
            or not query.unassigned
            or not query.active_only
            or query.order_by != "queued_at"
            or query.after is not None
        ):
            return None
        if _drain_values(query) != _DRAIN_VALUES:  # no other filter
            return None
        queues = [self._waiting_order.get(team, []) for team in dict.fromkeys(query.team)]
        if not any(queues):  # nothing waits (a drain after every solve mostly finds that)
            return _NO_TICKETS
        entries = heapq.merge(*queues) if len(queues) > 1 else iter(queues[0])
        tickets = self._tickets
        wanted = query.offset + query.limit
        if query.priority is None:
            total = sum(len(queue) for queue in queues)
            found = [tickets[i] for _, i in itertools.islice(entries, wanted)]
        else:
            priorities = frozenset(query.priority)
            total = 0
            found = []
            for _, i in entries:
                ticket = tickets[i]
                if ticket.priority in priorities:
                    total += 1
                    if len(found) < wanted:
                        found.append(ticket)
        return query.offset_page(tuple(found[query.offset : wanted]), total)

    def _move(
        self,
        index: dict[str | None, dict[str, None]],
        before: Any,
        after: Any,
        old: Ticket | None,
        new: Ticket | None,
    ) -> None:
        """``old`` leaves the ids of ``index`` under ``before``, ``new`` joins those under
        ``after`` (_NOT_QUEUED: under none); nothing changes when the two keys are equal."""
        if before == after:
            return
        if before is not _NOT_QUEUED and old is not None:
            self._del(index[before], old.id)
        if after is not _NOT_QUEUED and new is not None:
            queue = index.get(after)
            if queue is None:
                queue = {}
                self._set(index, after, queue)
            self._set(queue, new.id, None)

    def _history_add(self, ticket: Ticket) -> None:
        """Add ``ticket`` to its requester's ids, kept in the reverse of history order
        (created_at ascending, ties by id descending) so that history reads only the last
        few (tickets mostly arrive in that order, so the insert is an append)."""
        items = self._by_requester.get(ticket.requester)
        if items is None:
            self._set(self._by_requester, ticket.requester, [ticket.id])
            return
        tickets = self._tickets
        last = tickets[items[-1]] if items else None  # empty once all were purged
        if last is None or (
            last.created_at < ticket.created_at
            or (last.created_at == ticket.created_at and ticket.id < last.id)
        ):
            items.append(ticket.id)
            self._undo(lambda: _drop_last(items))
            return
        where = bisect.bisect_right(
            items,
            (ticket.created_at, _Descending(ticket.id)),
            key=lambda i: (tickets[i].created_at, _Descending(i)),
        )
        items.insert(where, ticket.id)
        self._undo(lambda: items.remove(ticket.id))

    def _list_remove(self, index: dict[str, list[str]], key: str, value: str) -> None:
        """Take ``value`` out of ``key``'s list, and the key out of ``index`` once its
        list is empty (a requester's id, say, is not kept after their last ticket went)."""
        items = index.get(key, [])
        if value in items:
            where = items.index(value)
            items.pop(where)
            self._undo(lambda: items.insert(where, value))
            if not items:
                self._del(index, key)

    def _count(self, key: tuple[str, Priority], delta: int) -> None:
        assignee, priority = key
        per = self._loads.get(assignee)
        if per is None:
            per = {}
            self._set(self._loads, assignee, per)
        value = per.get(priority, 0) + delta
        if value:
            self._set(per, priority, value)
        else:
            self._del(per, priority)
            if not per:
                self._del(self._loads, assignee)

    def _set_wake(self, ticket_id: str, wake_at: datetime | None) -> None:
        old = self._wake.get(ticket_id)
        if wake_at is None:
            self._wake.pop(ticket_id, None)
        else:
            self._wake[ticket_id] = wake_at
            heapq.heappush(self._wake_heap, (wake_at, ticket_id))
        self._undo(lambda: self._set_wake_raw(ticket_id, old))
        if len(self._wake_heap) > 2 * len(self._wake) + 1024:
            self._wake_heap = [(when, tid) for tid, when in self._wake.items()]
            heapq.heapify(self._wake_heap)

    def _set_wake_raw(self, ticket_id: str, when: datetime | None) -> None:
        if when is None:
            self._wake.pop(ticket_id, None)
        else:
            self._wake[ticket_id] = when
            heapq.heappush(self._wake_heap, (when, ticket_id))

    def query(self, query: TicketQuery) -> Page[Ticket]:
        """One page of the tickets matching ``query``."""
        if not isinstance(query, TicketQuery):
            raise ValidationError("expected a TicketQuery", field="query")
        with self._lock:
            self._check_open()
            revision = self._revision
            waiting = self._waiting_page(query)
            if waiting is not None:
                return waiting
            kept = self._scan
            if (
                (query.offset or query.after is not None)
                and kept is not None
                and kept[0] == revision
                and kept[1] == query.matches_key
            ):
                return query.cut(kept[2])
            active = query.active_only or (
                query.status_category is not None
                and all(c.is_active for c in query.status_category)
            )
            if query.number is not None:
                ids: Iterable[str] = self._with_numbers(query.number)
            elif query.links_to is not None:
                linked = self._linked
                ids = dict.fromkeys(
                    i for other in dict.fromkeys(query.links_to) for i in linked.get(other, ())
                )
            elif query.requester is not None:
                ids = [
                    i for r in dict.fromkeys(query.requester) for i in self._by_requester.get(r, ())
                ]
            elif (scope := query.scope) is not None and _requester_only(scope):
                # A requester's own view: their tickets are all the scope can match.
                ids = self._by_requester.get(scope.requester or "", ())
            elif active and query.unassigned and query.team is not None:
                teams = dict.fromkeys(query.team)
                if query.queued:
                    ids = [i for t in teams for _, i in self._waiting_order.get(t, ())]
                else:
                    ids = [i for t in teams for i in self._queues.get(t, ())]
            elif active:
                ids = self._active
            else:
                ids = self._tickets
            tickets = [self._tickets[i] for i in ids]
        found = query.ordered(tickets)
        page = query.cut(found)
        if page.next_offset is not None or page.next_after is not None:
            with self._lock:
                if self._revision == revision:
                    self._scan = (revision, query.matches_key, found)
        return page

    def requester_history(self, requester_id: str, *, limit: int = 50) -> list[Ticket]:
        """The requester's tickets, newest first."""
        check_key(requester_id, "requester_id")
        check_limit(limit)
        with self._lock:
            self._check_open()
            tickets = self._tickets
            return [tickets[i] for i in self._newest(requester_id, limit)]

    def requester_ticket_ids(self, requester_id: str, *, limit: int = 50) -> list[str]:
        """The ids of the requester's tickets, newest first."""
        check_key(requester_id, "requester_id")
        check_limit(limit)
        with self._lock:
            self._check_open()
            return self._newest(requester_id, limit)

    def _newest(self, requester_id: str, limit: int) -> list[str]:
        # A requester's ids are kept in the reverse of history order (see _history_add):
        # the newest ``limit`` are the last ``limit``, reversed.
        tail = self._by_requester.get(requester_id, [])[-limit:]
        tail.reverse()
        return tail

    def reschedule(
        self, ticket_id: str, *, expected_version: int, wake_at: datetime | None
    ) -> bool:
        """Set the ticket's wake-up if it is still at ``expected_version``."""
        check_reschedule(ticket_id, expected_version, wake_at)
        with self.unit_of_work():
            current = self._tickets.get(ticket_id)
            if current is None:
                raise NotFound("ticket", ticket_id)
            if current.version != expected_version:
                return False
            self._set_wake(ticket_id, wake_at)
            return True

    def due(self, now: datetime, *, limit: int = 100) -> list[str]:
        """Ids of tickets to wake by ``now``, earliest first."""
        check_instant(now)
        check_limit(limit)
        with self._lock:
            self._check_open()
            return self._scan_due(now, limit, lambda _: True)

    def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[str]:
        """Lease due tickets nobody else holds to ``worker``."""
        check_instant(now)
        check_name(worker, "worker")
        check_limit(limit)
        check_lease(lease)
        with self._lock:
            self._check_open()

            def free(ticket_id: str) -> bool:
                held = self._leases.get(ticket_id)
                return held is None or held[1] <= now

            ids = self._scan_due(now, limit, free)
            until = lease_end(now, lease)
            for ticket_id in ids:
                self._set(self._leases, ticket_id, (worker, until))
            return ids

    def _scan_due(self, now: datetime, limit: int, keep: Callable[[str], bool]) -> list[str]:
        heap = self._wake_heap
        taken: list[tuple[datetime, str]] = []
        found: list[str] = []
        seen: set[str] = set()
        while heap and heap[0][0] <= now and len(found) < limit:
            entry = heapq.heappop(heap)
            when, ticket_id = entry
            if ticket_id in seen or self._wake.get(ticket_id) != when:
                continue  # an outdated entry
            seen.add(ticket_id)
            taken.append(entry)
            if keep(ticket_id):
                found.append(ticket_id)
        for entry in taken:
            heapq.heappush(heap, entry)
        return found

    def event_stream(
        self, *, after: int = 0, limit: int | None = None
    ) -> Iterator[tuple[int, Event]]:
        """(position, event) in global order after ``after``, read in chunks."""
        check_after(after, "after")
        if limit is not None:
            check_limit(limit)
        self._check_open()
        return self._stream(after, limit)

    def _stream(self, after: int, limit: int | None) -> Iterator[tuple[int, Event]]:
        position = after
        remaining = limit
        while remaining is None or remaining > 0:
            size = _CHUNK if remaining is None else min(_CHUNK, remaining)
            with self._lock:
                self._check_open()
                end = min(len(self._log), position + size)
                log = self._log
                chunk = [(p + 1, e) for p in range(position, end) if (e := log[p]) is not None]
            if end <= position:
                return
            yield from chunk
            position = end
            if remaining is not None:
                remaining -= len(chunk)

    # ------------------------------------------------------------------ people

    def save_requester(self, requester: Requester) -> None:
        """Insert or replace a requester."""
        if not isinstance(requester, Requester):
            raise ValidationError("expected a Requester", field="requester")
        with self._lock:
            self._check_open()
            old = self._requesters.get(requester.id)
            if old is not None and old.email is not None:
                key = old.email.casefold()
                ids = set(self._emails.get(key, ()))
                ids.discard(old.id)
                if ids:
                    self._set(self._emails, key, ids)
                else:
                    self._del(self._emails, key)
            if requester.email is not None:
                key = requester.email.casefold()
                self._set(self._emails, key, {*self._emails.get(key, ()), requester.id})
            self._set(self._requesters, requester.id, requester)

    def get_requester(self, requester_id: str) -> Requester:
        """The requester, or NotFound."""
        check_key(requester_id, "requester_id")
        return self._lookup(self._requesters, requester_id, "requester")

    def find_requester(self, *, email: str) -> Requester | None:
        """The requester with this email (compared in lower case), smallest id first."""
        if not isinstance(email, str):
            raise ValidationError("expected an email address", field="email")
        check_unicode(email, "email")
        with self._lock:
            self._check_open()
            ids = self._emails.get(email.casefold(), ())
            return first_with_email((self._requesters[i] for i in sorted(ids)), email)

    def delete_requester(self, requester_id: str) -> None:
        """Remove the requester and its email index entry (unknown ids are ignored)."""
        check_key(requester_id, "requester_id")
        with self.unit_of_work():
            old = self._requesters.get(requester_id)
            if old is None:
                return
            if old.email is not None:
                key = old.email.casefold()
                ids = set(self._emails.get(key, ()))
                ids.discard(old.id)
                if ids:
                    self._set(self._emails, key, ids)
                else:
                    self._del(self._emails, key)
            self._del(self._requesters, requester_id)

    def lock_requester(self, requester_id: str) -> None:
        """Hold back the tickets of ``requester_id`` written elsewhere until the unit of
        work ends (see :class:`~helpdesk_core.storage.RequesterLock`): nothing to do, a
        unit of work holds the whole store from its start."""
        check_key(requester_id, "requester_id")
        with self._lock:
            self._check_open()

    # ------------------------------------------------------------------ routing state

    def get_cursor(self, key: str) -> int:
        """A persistent counter; 0 when unset."""
        check_name(key, "key")
        with self._lock:
            self._check_open()
            return self._cursors.get(key, 0)

    def set_cursor(self, key: str, value: int) -> None:
        """Set a persistent counter."""
        check_name(key, "key")
        check_cursor(value)
        with self._lock:
            self._check_open()
            self._set(self._cursors, key, value)

    def claim_cursor(self, key: str, value: int) -> bool:
        """Set the cursor to ``value`` if it is unset (0); say whether this call set it
        (a unit of work holds the store, so a claim in another thread waits for it)."""
        check_name(key, "key")
        check_claim(value)
        with self._lock:
            self._check_open()
            if self._cursors.get(key, 0):
                return False
            self._set(self._cursors, key, value)
            return True

    def delete_cursors(self, prefix: str, *, values: Iterable[int]) -> int:
        """Delete the cursors whose key starts with ``prefix`` and whose value is one of
        ``values``; return how many."""
        check_name(prefix, "prefix")
        wanted = check_cursor_values(values)
        with self._lock:
            self._check_open()
            gone = [
                key
                for key, value in self._cursors.items()
                if value in wanted and key.startswith(prefix)
            ]
            for key in gone:
                self._del(self._cursors, key)
            return len(gone)

    def agent_loads(self) -> dict[str, dict[Priority, int]]:
        """Active tickets per assignee per priority."""
        with self._lock:
            self._check_open()
            return {agent: dict(per) for agent, per in self._loads.items()}

    # ------------------------------------------------------------------ configuration

    def load_config_document(self) -> dict[str, Any] | None:
        """A fresh copy of the saved configuration document, or None."""
        with self._lock:
            self._check_open()
            text = self._config
        return None if text is None else decode_document(text)

    def save_config_document(self, document: Mapping[str, Any]) -> None:
        """Replace the configuration document (kept as JSON, like the SQL stores)."""
        text = encode_document(document)
        with self._lock:
            self._check_open()
            old = self._config
            self._config = text
            self._undo(lambda: setattr(self, "_config", old))

    # ------------------------------------------------------------------ outbox

    def claim_outbox(
        self,
        consumer: str,
        *,
        now: datetime,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=60),
    ) -> list[OutboxItem]:
        """Lease the consumer's oldest undelivered items."""
        check_name(consumer, "consumer")
        check_instant(now)
        check_limit(limit)
        check_lease(lease)
        with self._lock:
            self._check_open()
            state = self._consumer(consumer)
            until = lease_end(now, lease)
            items: list[OutboxItem] = []
            position = state.hwm + 1
            while position <= len(self._log) and len(items) < limit:
                found = state.deliveries.get(position)
                event = self._log[position - 1]
                if event is not None and (
                    found is None
                    or found[0] == "pending"
                    or (found[0] == "leased" and found[1] is not None and found[1] <= now)
                ):
                    attempts = 0 if found is None else found[2] + (found[0] == "leased")
                    error = None if found is None else found[3]
                    self._set(state.deliveries, position, ("leased", until, attempts, error))
                    version = self._log_versions[position - 1]
                    items.append(
                        OutboxItem(
                            id=item_id(event.ticket_id, version),
                            position=position,
                            event=event,
                            attempts=attempts,
                        )
                    )
                position += 1
            return items

    def ack_outbox(self, consumer: str, ids: Sequence[str]) -> None:
        """Mark items delivered; the consumer never gets them again."""
        check_name(consumer, "consumer")
        ids = check_keys(ids, "ids")
        with self._lock:
            self._check_open()
            positions = self._item_positions(ids)
            state = self._consumer(consumer)
            for position in positions:
                if position > state.hwm:
                    self._set(state.deliveries, position, ("acked", None, 0, None))
            hwm = state.hwm
            while True:
                found = state.deliveries.get(hwm + 1)
                purged = hwm < len(self._log) and self._log[hwm] is None
                if not purged and (found is None or found[0] != "acked"):
                    break
                hwm += 1
                self._del(state.deliveries, hwm)
            if hwm != state.hwm:
                old = state.hwm
                state.hwm = hwm
                self._undo(lambda: setattr(state, "hwm", old))

    def release_outbox(
        self, consumer: str, ids: Sequence[str | OutboxItem], *, error: str | None = None
    ) -> None:
        """Give leased items back: pending again, attempts + 1 (an OutboxItem only while
        its claim's lease holds it)."""
        check_name(consumer, "consumer")
        targets = release_targets(ids)
        check_error_note(error)
        with self._lock:
            self._check_open()
            positions = self._item_positions([item for item, _ in targets])
            state = self._consumer(consumer)
            for position, (_, attempts) in zip(positions, targets, strict=True):
                found = state.deliveries.get(position)
                if (
                    position > state.hwm
                    and found is not None
                    and found[0] == "leased"
                    and (attempts is None or found[2] == attempts)
                ):
                    self._set(state.deliveries, position, ("pending", None, found[2] + 1, error))

    def _consumer(self, name: str) -> _Consumer:
        state = self._consumers.get(name)
        if state is None:
            state = _Consumer()
            self._set(self._consumers, name, state)
        return state

    def _item_positions(self, ids: Sequence[str]) -> list[int]:
        if isinstance(ids, str):
            raise ValidationError("ids is a list of outbox item ids", field="ids")
        out = []
        for value, (ticket_id, version) in zip(ids, [parse_item_id(value) for value in ids]):
            positions = self._positions.get(ticket_id)
            if positions is None or not 1 <= version <= len(positions):
                raise NotFound("outbox item", value)
            out.append(positions[version - 1])
        return out

    # ------------------------------------------------------------------ articles

    def save_article(self, article: Article, *, expected_version: int) -> None:
        """Insert or replace an article if its stored version is ``expected_version``."""
        check_article(article, expected_version)
        with self._lock:
            self._check_open()
            found = self._articles.get(article.id)
            actual = 0 if found is None else found[0].version
            if actual != expected_version:
                raise ConflictError(
                    article.id, expected=expected_version, actual=actual, kind="article"
                )
            self._set(self._articles, article.id, (article, word_counts(article)))

    def get_article(self, article_id: str) -> Article:
        """The article, or NotFound."""
        check_key(article_id, "article_id")
        return self._lookup(self._articles, article_id, "article")[0]

    def list_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the matching articles, most recently updated first."""
        found = self._matching_articles(query)
        found.sort(key=_BY_ID)
        found.sort(key=_BY_UPDATED, reverse=True)
        return _article_page(query, found)

    def search_articles(self, query: ArticleQuery) -> Page[Article]:
        """One page of the matching articles, best Okapi BM25 score first."""
        if not isinstance(query, ArticleQuery) or query.text is None:
            raise ValidationError("search_articles needs a query with text", field="query")
        found = {a.id: a for a in self._matching_articles(query)}
        with self._lock:
            corpus = {key: counts for key, (_, counts) in self._articles.items()}
        order = rank_articles(query.words, corpus, found)
        return _article_page(query, [found[i] for i in order])

    def _matching_articles(self, query: ArticleQuery) -> list[Article]:
        if not isinstance(query, ArticleQuery):
            raise ValidationError("expected an ArticleQuery", field="query")
        with self._lock:
            self._check_open()
            items = list(self._articles.values())
        return [article for article, counts in items if query.matches(article, counts)]

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        """The store itself: ``with`` closes it at the end of the block."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop everything; later calls raise StoreClosedError."""
        with self._lock:
            self._closed = True
            self._scan = None
            self._tickets = {}
            self._positions = {}
            self._log = []
            self._log_versions = array("q")
            self._active = {}
            self._queues = {}
            self._waiting_order = {}
            self._by_requester = {}
            self._numbers = {}
            self._more_numbers = {}
            self._linked = {}
            self._loads = {}
            self._wake = {}
            self._wake_heap = []
            self._leases = {}
            self._requesters = {}
            self._emails = {}
            self._cursors = {}
            self._config = None
            self._consumers = {}
            self._articles = {}


def _requester_only(scope: TicketScope) -> bool:
    """Whether ``scope`` can match only tickets of its requester (a requester's view with
    no organization)."""
    return (
        scope.requester is not None
        and scope.organization is None
        and scope.agent is None
        and not scope.teams
        and not scope.unrouted
    )


def _article_page(query: ArticleQuery, found: list[Article]) -> Page[Article]:
    items = tuple(found[query.offset : query.offset + query.limit])
    end = query.offset + len(items)
    return Page(items=items, total=len(found), next_offset=end if end < len(found) else None)


def _restore(mapping: dict[Any, Any], key: Any, old: Any) -> None:
    if old is _MISSING:
        mapping.pop(key, None)
    else:
        mapping[key] = old


def _truncate(store: MemoryStore, positions: array[int], start: int, had: int) -> None:
    del store._log[start:]
    del store._log_versions[start:]
    del positions[had:]


#: The fields of a queue drain's query left at their defaults (it filters by team and
#: priority only, besides waiting unassigned and active, in ``queued_at`` order).
_DRAIN_DEFAULTS = tuple(
    (a.name, a.default)
    for a in attrs.fields(TicketQuery)
    if a.name
    not in (
        "team", "priority", "unassigned", "active_only", "queued", "order_by", "limit",
        "offset", "after",
    )
)
# The fields of _DRAIN_DEFAULTS read in one call, and the values they must have.
_drain_values = attrgetter(*(name for name, _ in _DRAIN_DEFAULTS))
_DRAIN_VALUES = tuple(default for _, default in _DRAIN_DEFAULTS)
_NO_TICKETS: Page[Ticket] = Page(items=(), total=0)


def _pop_at(items: list[Any], where: int) -> None:
    del items[where]


def _drop_last(items: list[str]) -> None:
    items.pop()


_NOT_QUEUED: Any = object()


def _queue_key(ticket: Ticket | None) -> Any:
    """The team whose queue holds ``ticket`` (None: no team), or _NOT_QUEUED."""
    if ticket is None or ticket.assignee is not None or not ticket.is_active:
        return _NOT_QUEUED
    return ticket.team


def _waiting_key(ticket: Ticket | None) -> Any:
    """The team whose queue holds ``ticket`` waiting for an assignment (``queued_at``
    set), or _NOT_QUEUED."""
    if ticket is None or ticket.queued_at is None:
        return _NOT_QUEUED
    return _queue_key(ticket)


def _waiting_entry(ticket: Ticket | None) -> tuple[str | None, tuple[datetime, str]] | None:
    """Where ``ticket`` is kept among the tickets waiting for an assignment, in
    ``queued_at`` order: its team and its (queued_at, id) entry (None: it does not wait)."""
    team = _waiting_key(ticket)
    if team is _NOT_QUEUED or ticket is None or ticket.queued_at is None:
        return None
    return team, (ticket.queued_at, ticket.id)


def _load_key(ticket: Ticket | None) -> tuple[str, Priority] | None:
    if ticket is None or ticket.assignee is None or not ticket.is_active:
        return None
    return ticket.assignee, ticket.priority
