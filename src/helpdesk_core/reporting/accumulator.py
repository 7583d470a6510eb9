"""The streaming report: feed it events, ask it for figures, feed it more.

:class:`Report` reads domain events in global order (many tickets interleaved), plain or as
the ``(position, event)`` pairs of ``store.event_stream()``. It keeps a few fields per
ticket opened in ``[since, until)``, never the events, so it can follow a store for ever:
``report.extend(store.event_stream(after=report.position))`` brings it up to date, and the
figures equal those of a report fed the whole history at once. Pairs at or below
``report.position`` were read already and are skipped, so a batch read again changes
nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Event, TicketAnonymised, TicketOpened
from helpdesk_core.model._validate import refuse_unknown
from helpdesk_core.reporting._settings import (
    DEFAULT_AGE_BUCKETS,
    Calendar,
    Settings,
    make_settings,
)
from helpdesk_core.reporting._state import HANDLERS, TicketState, handler_for
from helpdesk_core.reporting.kpis import compute
from helpdesk_core.reporting.records import ReportResult

__all__ = ["Report", "build_report"]

EventItem = Event | tuple[int, Event]


class Report:
    """A streaming accumulator of helpdesk KPIs over the tickets opened in
    ``[since, until)`` (either bound may be None).

    ``calendar`` (a ``BusinessCalendar``, or the name of one in ``calendars``) measures
    business time; without it each ticket's business time is measured on the calendar its
    SLA clocks name, when ``calendars`` has it. ``timezone`` (default: the calendar's, else
    UTC) places tickets in hours of the week and in weeks. ``as_of`` fixes the instant the
    backlog is taken at; events after it are ignored (but a ``TicketAnonymised`` after it
    still takes the ticket from its requester: it rewrote the whole history). Without it
    the backlog is taken at the latest event read. ``age_buckets`` are the backlog age
    boundaries; ``top_assets`` how many assets to list; ``repeat_threshold`` how many
    tickets of one category make a requester a training candidate.
    """

    __slots__ = ("_events", "_ignored", "_latest", "_position", "_settings", "_tickets")

    def __init__(
        self,
        *,
        calendar: Calendar | str | None = None,
        calendars: Mapping[str, Calendar] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        as_of: datetime | None = None,
        timezone: str | ZoneInfo | None = None,
        age_buckets: Sequence[timedelta | str | float] = DEFAULT_AGE_BUCKETS,
        top_assets: int = 10,
        repeat_threshold: int = 3,
    ) -> None:
        self._settings: Settings = make_settings(
            calendar=calendar,
            calendars=calendars,
            since=since,
            until=until,
            as_of=as_of,
            timezone=timezone,
            age_buckets=age_buckets,
            top_assets=top_assets,
            repeat_threshold=repeat_threshold,
        )
        self._tickets: dict[str, TicketState] = {}
        self._events = 0
        self._ignored = 0
        self._latest: datetime | None = None
        #: The highest stream position read; -1 before any pair.
        self._position = -1

    @property
    def position(self) -> int:
        """The highest stream position read, 0 until a ``(position, event)`` pair is read:
        pass it as ``after`` to ``store.event_stream`` to read on (``after=0`` reads a
        store's stream from its start)."""
        return max(self._position, 0)

    @property
    def tickets(self) -> int:
        """How many tickets the report follows."""
        return len(self._tickets)

    @property
    def events(self) -> int:
        """How many events were read."""
        return self._events

    def add(self, item: EventItem) -> None:
        """Read one event, or one ``(position, event)`` pair."""
        self.extend((item,))

    def extend(self, items: Iterable[EventItem]) -> None:
        """Read events (or ``(position, event)`` pairs) in order; streamed, not stored.

        A pair at or below :attr:`position` was read already and is skipped: reading a
        batch again (a retry after a failure part-way through) changes nothing. Plain
        events carry no position and are always read."""
        if isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise ValidationError(
                f"expected events (an iterable), got {type(items).__name__}", field="events"
            )
        tickets = self._tickets
        handlers = HANDLERS
        as_of = self._settings.as_of
        latest = self._latest
        high = self._position
        read = ignored = 0
        try:
            for item in items:
                if type(item) is tuple:
                    position, event = _pair(item)
                    if position <= high:
                        continue  # read already
                else:
                    position = -1
                    event = item  # type: ignore[assignment]
                    if not isinstance(event, Event):
                        raise ValidationError(
                            "expected a domain event or a (position, event) pair, got "
                            f"{type(item).__name__}",
                            field="event",
                        )
                at = event.at
                if as_of is not None and at > as_of:
                    ignored += 1
                    if isinstance(event, TicketAnonymised):
                        # It rewrote the whole history: the ticket is nobody's at as_of too.
                        state = tickets.get(event.ticket_id)
                        if state is not None:
                            handlers[TicketAnonymised](state, event)
                else:
                    kind = type(event)
                    if kind is TicketOpened or (
                        kind not in handlers and isinstance(event, TicketOpened)
                    ):  # a subclass opens the ticket too, as in the model's fold
                        if not self._open(event):  # type: ignore[arg-type]
                            ignored += 1
                    else:
                        state = tickets.get(event.ticket_id)
                        if state is None:
                            ignored += 1
                        else:
                            handler = handlers.get(kind)
                            if handler is None:
                                handler = handler_for(kind)
                            handler(state, event)
                    if latest is None or at > latest:
                        latest = at
                # Only an event taken in counts and moves the position: one refused above
                # (a ticket opened twice) is refused again when the batch is read again.
                read += 1
                if position > high:
                    high = position
        finally:
            self._events += read
            self._ignored += ignored
            self._latest = latest
            self._position = high

    def _open(self, event: TicketOpened) -> bool:
        settings = self._settings
        at = event.at
        if settings.since is not None and at < settings.since:
            return False
        if settings.until is not None and at >= settings.until:
            return False
        if event.ticket_id in self._tickets:
            raise ValidationError(
                f"ticket {event.ticket_id!r} was opened twice in the stream", field="event"
            )
        self._tickets[event.ticket_id] = TicketState(event, settings.zone)
        return True

    def merge(self, other: Report) -> None:
        """Add the tickets of ``other``, a report with the same settings over other tickets
        (e.g. another shard of the same stream). The merged report's ``position`` is the
        higher of the two. Merging a report into itself is refused."""
        if not isinstance(other, Report):
            raise ValidationError(
                f"can only merge a Report, got {type(other).__name__}", field="other"
            )
        if other is self:
            raise ValidationError(
                "a report cannot be merged into itself (its events would count twice)",
                field="other",
            )
        if other._settings != self._settings:
            raise ValidationError("reports with different settings cannot be merged", field="other")
        shared = self._tickets.keys() & other._tickets.keys()
        if shared:
            raise ValidationError(
                f"both reports follow ticket {min(shared)!r}: merge reports of distinct tickets",
                field="other",
            )
        for ticket_id, state in other._tickets.items():
            self._tickets[ticket_id] = state.copy()
        self._events += other._events
        self._ignored += other._ignored
        if other._latest is not None and (self._latest is None or other._latest > self._latest):
            self._latest = other._latest
        if other._position > self._position:
            self._position = other._position

    def result(self) -> ReportResult:
        """The figures for every event read so far."""
        return compute(
            self._settings,
            self._tickets.values(),
            events=self._events,
            ignored=self._ignored,
            latest=self._latest,
        )

    def __repr__(self) -> str:
        return f"<Report tickets={len(self._tickets)} events={self._events}>"


def _pair(item: tuple[Any, ...]) -> tuple[int, Event]:
    """The position and the event of a ``(position, event)`` pair, checked."""
    if len(item) != 2 or not isinstance(item[1], Event):
        raise ValidationError(
            "expected a (position, event) pair from store.event_stream()", field="event"
        )
    position = item[0]
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise ValidationError(
            f"a stream position is a whole number >= 0, got {position!r}", field="position"
        )
    return position, item[1]


def build_report(events: Iterable[EventItem], **settings: Any) -> ReportResult:
    """One-shot: ``Report(**settings)`` fed ``events``, then its result."""
    refuse_unknown(settings, _SETTINGS, what="unknown report setting(s)")
    report = Report(**settings)
    report.extend(events)
    return report.result()


#: The keyword arguments of :class:`Report` (and so of :func:`build_report`).
_SETTINGS = tuple(inspect.signature(Report.__init__).parameters)[1:]
