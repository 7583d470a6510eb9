"""What a report remembers of one ticket, and how each event changes it (private).

A :class:`TicketState` is a handful of fields, not the ticket's events: the dimensions
volumes are counted by (their latest values), the milestones the times are measured to,
and the outcome of each SLA clock cycle. The fold mirrors
:func:`helpdesk_core.model.apply_event` for the fields it keeps: ``solved_at`` is the latest
move into solved (a move between solved statuses is none) and is cleared by a reopen,
``first_contact`` comes from the solve and is cleared by a reopen, the first public agent
reply is the first response. An anonymised ticket (its
requester is ``ANONYMOUS_REQUESTER``, or a ``TicketAnonymised`` was read) belongs to no
requester: its ``requester`` is None.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Assigned,
    CommentAdded,
    DeEscalated,
    Escalated,
    Event,
    PriorityChanged,
    QueuedForAssignment,
    Rated,
    SlaBreached,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaTargetChanged,
    SlaWarning,
    StatusCategory,
    StatusChanged,
    TicketAnonymised,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
)
from helpdesk_core.model.events import CANCELLED, NO_TARGET
from helpdesk_core.model.people import ANONYMOUS_REQUESTER

__all__ = [
    "BREACHED",
    "HANDLERS",
    "MET",
    "RUNNING",
    "WITHDRAWN",
    "TicketState",
    "handler_for",
]

#: Outcomes of a clock cycle. ``WITHDRAWN``: stopped because no target applies any more,
#: without a breach; like ``RUNNING``, it is not counted.
RUNNING, MET, BREACHED, WITHDRAWN = 0, 1, 2, 3

_SOLVED = StatusCategory.SOLVED
_CLOSED = StatusCategory.CLOSED

#: A metric's current cycle: ``(cycle, policy, outcome, team, tier)``.
_Cycle = tuple[int, str, int, "str | None", "str | None"]
#: A settled cycle that ended: ``(metric, policy, outcome, team, tier)``.
_Settled = tuple[str, str, int, "str | None", "str | None"]


class TicketState:
    """The few facts a report keeps per ticket (mutable, private to the accumulator).
    ``zone`` is the report's time zone, which places the opening in a week and an hour.

    ``sla`` maps a metric name to ``(cycle, policy, outcome, team, tier)`` of its current
    cycle; ``sla_done`` lists ``(metric, policy, outcome, team, tier)`` of settled cycles
    (met or breached) that ended before a new one began. ``team`` and ``tier`` are where
    the ticket was when the cycle's outcome was recorded (the breach, or the stop that met
    the target). ``business`` caches the business durations last
    computed: ``(calendar, first_response_at, solved_at, first_response_us, resolution_us)``.
    """

    __slots__ = (
        "asset",
        "assignee",
        "assignees",
        "business",
        "calendar",
        "category",
        "channel",
        "escalated",
        "escalated_from",
        "ever_solved",
        "first_contact",
        "first_response_at",
        "hour_of_week",
        "opened_at",
        "priority",
        "rating",
        "reopens",
        "requester",
        "sla",
        "sla_done",
        "solved_at",
        "solved_tier",
        "solver",
        "status",
        "status_category",
        "team",
        "tier",
        "tiers",
        "type",
        "week",
    )

    def __init__(self, event: TicketOpened, zone: tzinfo) -> None:
        self.opened_at: datetime = event.at
        try:
            local = event.at.astimezone(zone)
        except OverflowError:  # 9999-12-31 late in UTC, say, and the year 10000 at +14:00
            raise ValidationError(
                f"ticket {event.ticket_id!r} was opened at {event.at.isoformat()}, which has "
                f"no date in the report's time zone {zone}: report in another zone, or leave "
                "the ticket out with since or until",
                field="timezone",
            ) from None
        weekday = local.weekday()
        #: Hour of the week it was opened, Monday 00:00 = 0, in the report's zone.
        self.hour_of_week = weekday * 24 + local.hour
        #: Monday of the week it was opened, in the report's zone.
        self.week: date = local.date() - timedelta(days=weekday)
        #: None for an anonymised ticket: it belongs to no requester.
        self.requester: str | None = (
            None if event.requester == ANONYMOUS_REQUESTER else event.requester
        )
        self.channel: str = event.channel.value
        self.priority: str = event.priority.value
        self.category: str | None = event.category
        self.type: str = event.type
        self.asset: str | None = event.asset
        self.team: str | None = None
        self.tier: str | None = None
        self.tiers: tuple[str, ...] = ()
        #: Whether an ``Escalated`` event moved it, whatever tier it left.
        self.escalated = False
        #: The tiers it was escalated out of (a move out of no tier names none).
        self.escalated_from: tuple[str, ...] = ()
        self.status: str = event.status
        self.status_category: StatusCategory = event.status_category
        self.first_response_at: datetime | None = None
        self.solved_at: datetime | None = None
        self.ever_solved = False
        self.first_contact = False
        self.reopens = 0
        self.assignee: str | None = None
        self.assignees: tuple[str, ...] = ()
        self.solver: str | None = None
        self.solved_tier: str | None = None
        self.rating: int | None = None
        self.calendar: str | None = None
        self.sla: dict[str, _Cycle] | None = None
        self.sla_done: list[_Settled] | None = None
        self.business: tuple[Any, ...] | None = None

    def copy(self) -> TicketState:
        """An independent copy (the tuples and the SLA containers are not shared)."""
        other = TicketState.__new__(TicketState)
        for name in TicketState.__slots__:
            setattr(other, name, getattr(self, name))
        if self.sla is not None:
            other.sla = dict(self.sla)
        if self.sla_done is not None:
            other.sla_done = list(self.sla_done)
        return other

    def visit_tier(self, tier: str) -> None:
        """Remember that the ticket was in ``tier``."""
        if tier not in self.tiers:
            self.tiers = (*self.tiers, tier)

    def assign(self, agent: str | None) -> None:
        """The ticket's assignee is now ``agent``."""
        self.assignee = agent
        if agent is not None and agent not in self.assignees:
            self.assignees = (*self.assignees, agent)


def _changed(state: TicketState, event: TicketRouted | TicketUpdated) -> None:
    changes = event.changes
    if changes.category is not None:
        state.category = changes.category
    if changes.type is not None:
        state.type = changes.type
    if changes.team is not None:
        state.team = changes.team
    if changes.asset is not None:
        state.asset = changes.asset
    if changes.tier is not None:
        state.tier = changes.tier
        state.visit_tier(changes.tier)
    if changes.priority is not None:
        state.priority = changes.priority.value


def _comment(state: TicketState, event: CommentAdded) -> None:
    if event.public and state.first_response_at is None and event.by.is_agent:
        state.first_response_at = event.at


def _status(state: TicketState, event: StatusChanged) -> None:
    was_done = not state.status_category.is_active
    was_solved = state.status_category is _SOLVED
    category = event.category
    state.status = event.to_status
    state.status_category = category
    if category is _SOLVED and was_solved:
        # From one solved status to another: the same solve.
        if event.first_contact:
            state.first_contact = True
    elif category is _SOLVED:
        state.solved_at = event.at
        state.ever_solved = True
        state.first_contact = event.first_contact
        by = event.by
        state.solver = state.assignee or (by.id if by.is_agent else None)
        state.solved_tier = state.tier
        if state.tier is not None:  # a ticket without a tier is in no tier's row
            state.visit_tier(state.tier)
    elif category is _CLOSED:
        pass
    elif was_done:
        state.reopens += 1
        state.solved_at = None
        state.first_contact = False
        state.solver = None
        state.solved_tier = None


def _assigned(state: TicketState, event: Assigned) -> None:
    state.assign(event.assignee)


def _queued(state: TicketState, event: QueuedForAssignment) -> None:
    state.assignee = None


def _moved(state: TicketState, event: Escalated | DeEscalated) -> None:
    came_from = event.from_tier
    # Every ``Escalated`` is a functional escalation, as the simulation's records count
    # it: one of a ticket without a tier (imported without one; it counts as being in the
    # lowest tier) too. That ticket is in no tier's row, so the move is in none either.
    if isinstance(event, Escalated):
        state.escalated = True
    if came_from is not None:
        state.visit_tier(came_from)
        if isinstance(event, Escalated) and came_from not in state.escalated_from:
            state.escalated_from = (*state.escalated_from, came_from)
    state.visit_tier(event.to_tier)
    state.tier = event.to_tier
    if event.team is not None:
        state.team = event.team
    state.assign(event.assignee)


def _rated(state: TicketState, event: Rated) -> None:
    state.rating = event.score


def _anonymised(state: TicketState, event: TicketAnonymised) -> None:
    # What anonymisation rewrites in the stored history, the state keeps only of the
    # requester (texts and personal custom fields are not kept): the ticket is nobody's,
    # as in a report read from the rewritten history.
    state.requester = None


def _sla(state: TicketState, event: Any) -> None:
    clock = event.clock
    if clock.breached_at is not None:
        outcome = BREACHED
    elif clock.stopped_at is not None:
        outcome = MET
    else:
        outcome = RUNNING
    _outcome(state, clock, outcome)


def _sla_stopped(state: TicketState, event: SlaClockStopped) -> None:
    clock = event.clock
    if clock.breached_at is not None:
        outcome = BREACHED  # breached while its target applied
    elif event.reason == NO_TARGET or event.reason == CANCELLED:
        outcome = WITHDRAWN  # neither met nor missed: its target was withdrawn
    else:
        outcome = MET
    _outcome(state, clock, outcome)


def _outcome(state: TicketState, clock: Any, outcome: int) -> None:
    metric = clock.metric.value
    state.calendar = clock.calendar
    if state.sla is None:
        state.sla = {}
    previous = state.sla.get(metric)
    team, tier = state.team, state.tier
    if previous is not None:
        if previous[0] != clock.cycle:
            if previous[2] in (MET, BREACHED):
                if state.sla_done is None:
                    state.sla_done = []
                state.sla_done.append((metric, *previous[1:]))
        elif previous[2] == BREACHED:
            # A breach recorded in this cycle stays a breach, whatever the clock does next
            # (a relaxed target gives it a deadline ahead again; a withdrawn one stops it).
            return
        elif previous[2] == outcome:
            # The same outcome again (a later event of a stopped clock): it was recorded
            # where the ticket was then.
            team, tier = previous[3], previous[4]
    state.sla[metric] = (clock.cycle, clock.policy, outcome, team, tier)


def _priority(state: TicketState, event: PriorityChanged) -> None:
    state.priority = event.priority.value


_Handler = Callable[[TicketState, Any], None]

#: How each event type changes a ticket's state; types not listed change nothing.
HANDLERS: dict[type[Event], _Handler] = {
    TicketRouted: _changed,
    TicketUpdated: _changed,
    PriorityChanged: _priority,
    CommentAdded: _comment,
    StatusChanged: _status,
    Assigned: _assigned,
    QueuedForAssignment: _queued,
    Escalated: _moved,
    DeEscalated: _moved,
    Rated: _rated,
    TicketAnonymised: _anonymised,
    SlaClockStarted: _sla,
    SlaClockPaused: _sla,
    SlaClockResumed: _sla,
    SlaClockStopped: _sla_stopped,
    SlaTargetChanged: _sla,
    SlaWarning: _sla,
    SlaBreached: _sla,
}


def _ignore(state: TicketState, event: Any) -> None:
    return None


def handler_for(event_type: type[Event]) -> _Handler:
    """The handler of an event type (or of its nearest registered base class)."""
    for base in event_type.__mro__:
        handler = HANDLERS.get(base)
        if handler is not None:
            return handler
    return _ignore
