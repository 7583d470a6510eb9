"""Rebuild a ticket from its events: the fold that defines what each event means.

``apply_event(None, opened)`` makes the ticket; ``apply_event(ticket, event)`` returns the
next snapshot with ``version`` one higher. :func:`replay` folds a whole history. The
service layer uses the same fold after deciding, so snapshot and history never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs
from attrs import evolve

from helpdesk_core.errors import ValidationError
from helpdesk_core.model._copy import copier
from helpdesk_core.model._validate import require
from helpdesk_core.model.enums import StatusCategory
from helpdesk_core.model.events import (
    Assigned,
    CommentAdded,
    CsatRequested,
    DeEscalated,
    Escalated,
    EscalationNotified,
    EscalationTriggered,
    Event,
    LevelRaised,
    Linked,
    OwnerChanged,
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
    StatusChanged,
    TicketAnonymised,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
)
from helpdesk_core.model.ticket import Link, Satisfaction, Ticket

__all__ = [
    "ANONYMISED",
    "apply_event",
    "apply_events",
    "fold_changes",
    "register_fold",
    "replay",
]

#: Marker that replaces personal text when a ticket is anonymised.
ANONYMISED = "[anonymised]"

_Fold = Callable[[Ticket, Any], dict[str, Any]]
# Enum members as module constants: reading one off its class costs a metaclass lookup.
_SOLVED = StatusCategory.SOLVED
_CLOSED = StatusCategory.CLOSED
_FOLDS: dict[type[Event], _Fold] = {}


def register_fold(event_type: type[Event]) -> Callable[[_Fold], _Fold]:
    """Register how an event type changes a ticket: the function returns the changed
    fields (``updated_at`` and ``version`` are handled here)."""

    def decorator(fn: _Fold) -> _Fold:
        _FOLDS[event_type] = fn
        return fn

    return decorator


#: What a new ticket takes from its opening event (the same fields, converted and
#: validated the same way when the event was built).
_FROM_OPENING = (
    "number",
    "requester",
    "subject",
    "description",
    "channel",
    "category",
    "type",
    "impact",
    "urgency",
    "priority",
    "priority_explicit",
    "tags",
    "fields",
    "asset",
    "organization",
    "lifecycle",
    "status",
    "status_category",
)
_BLANK = Ticket(
    id="blank",
    number=0,
    requester="blank",
    subject="blank",
    created_at=datetime(2000, 1, 1, tzinfo=UTC),
    updated_at=datetime(2000, 1, 1, tzinfo=UTC),
)
_NEW_TICKET = copier(
    Ticket,
    (*_FROM_OPENING, "id", "created_at", "updated_at", "awaiting_reply_since", "version"),
)


def _opened(event: TicketOpened) -> Ticket:
    """The ticket an opening event creates: a copy of a blank ticket with the event's
    values, which were checked when the event was built."""
    changes = {name: getattr(event, name) for name in _FROM_OPENING}
    changes["id"] = event.ticket_id
    changes["created_at"] = changes["updated_at"] = changes["awaiting_reply_since"] = event.at
    changes["version"] = 1
    # A ticket brought in from another system may open solved or closed (a desk's own
    # lifecycles start active): it is so since its opening, which its reopen window,
    # auto-close and retention count from.
    new: Ticket = _NEW_TICKET(_BLANK, changes)
    category = event.status_category
    if category is _SOLVED:
        new = _evolve(new, {"solved_at": event.at})
    elif category is _CLOSED:
        new = _evolve(new, {"closed_at": event.at})
    return new


_SLOTS = tuple(a.name for a in attrs.fields(Ticket))
_SLOT_SET = frozenset(_SLOTS)


def _evolve(ticket: Ticket, changes: dict[str, Any]) -> Ticket:
    """Copy ``ticket`` with ``changes`` without re-running validators: every value comes
    from an event, which was validated when it was built, or is derived by the fold."""
    new: Ticket = copier(Ticket, tuple(changes))(ticket, changes)
    return new


def apply_event(ticket: Ticket | None, event: Event) -> Ticket:
    """Return the ticket after ``event``. The first event must be :class:`TicketOpened`."""
    if ticket is not None:
        require(ticket, Ticket, "a Ticket (or None before TicketOpened)", field="ticket")
    if ticket is None:
        if not isinstance(event, TicketOpened):
            raise ValidationError(
                f"a ticket's history starts with TicketOpened, not {type(event).__name__}",
                field="events[0]",
            )
        return _opened(event)
    require(event, Event, "an Event", field="event")
    if isinstance(event, TicketOpened):
        raise ValidationError(f"ticket {ticket.id!r} is already open", field="event")
    if event.ticket_id != ticket.id:
        raise ValidationError(
            f"event for ticket {event.ticket_id!r} applied to ticket {ticket.id!r}",
            field="event.ticket_id",
        )
    return fold_known_event(ticket, event)


def fold_known_event(ticket: Ticket, event: Event) -> Ticket:
    """:func:`apply_event` for an event known to follow ``ticket``: of this ticket, not
    its opening (an SLA event its clocks' engine derived from it, say), so only the
    fold's result is checked."""
    changes = fold_changes(ticket, event)
    changes["updated_at"] = max(event.at, ticket.updated_at)
    changes["version"] = ticket.version + 1
    if not _SLOT_SET.issuperset(changes):
        unknown = changes.keys() - _SLOT_SET
        raise ValidationError(f"fold produced unknown fields {sorted(unknown)}", field="event")
    return _evolve(ticket, changes)


def fold_changes(ticket: Ticket, event: Event) -> dict[str, Any]:
    """The fields ``event`` changes on ``ticket`` (without ``updated_at`` and ``version``),
    as its registered fold computes them. Any event after an anonymisation may carry
    personal data again, so the ticket is no longer ``anonymised`` (retention will see to
    it again)."""
    fold = _FOLDS.get(type(event))
    if fold is None:
        raise ValidationError(f"no fold registered for {type(event).__name__}", field="event")
    changes = fold(ticket, event)
    if ticket.anonymised and "anonymised" not in changes:
        changes["anonymised"] = False
    return changes


def apply_events(ticket: Ticket | None, events: Iterable[Event]) -> Ticket | None:
    """Fold ``events`` onto ``ticket`` (which may be None before ``TicketOpened``)."""
    if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
        raise ValidationError(
            f"events is an iterable of events, got {type(events).__name__}", field="events"
        )
    for event in events:
        ticket = apply_event(ticket, event)
    return ticket


def replay(events: Iterable[Event]) -> Ticket:
    """Rebuild a ticket from its full history."""
    ticket = apply_events(None, events)
    if ticket is None:
        raise ValidationError("cannot replay an empty history", field="events")
    return ticket


def _changes(ticket: Ticket, event: TicketRouted | TicketUpdated) -> dict[str, Any]:
    out = event.changes.as_dict()
    if "fields" in out:
        out["fields"] = {**ticket.fields, **out["fields"]}
    if "tier" in out and out["tier"] != ticket.tier:
        out["tier_since"] = event.at
        out["tier_inactive"] = ()
    return out


@register_fold(TicketRouted)
def _routed(ticket: Ticket, event: TicketRouted) -> dict[str, Any]:
    return _changes(ticket, event)


@register_fold(TicketUpdated)
def _updated(ticket: Ticket, event: TicketUpdated) -> dict[str, Any]:
    out = _changes(ticket, event)
    if "priority" in out and "impact" not in out and "urgency" not in out:
        # a priority that comes with a new impact or urgency is derived from them
        out["priority_explicit"] = True
    return out


@register_fold(CommentAdded)
def _comment(ticket: Ticket, event: CommentAdded) -> dict[str, Any]:
    if not event.public:
        return {}
    if event.by.is_agent:
        return {
            "public_replies": ticket.public_replies + 1,
            "first_response_at": ticket.first_response_at or event.at,
            "last_agent_reply_at": event.at,
            "awaiting_reply_since": None,
        }
    if event.by.is_requester:
        return {"awaiting_reply_since": ticket.awaiting_reply_since or event.at}
    return {}


@register_fold(StatusChanged)
def _status(ticket: Ticket, event: StatusChanged) -> dict[str, Any]:
    category = event.category
    out: dict[str, Any] = {"status": event.to_status, "status_category": category}
    was = ticket.status_category
    if category is _SOLVED:
        if was is _SOLVED:
            # From one solved status to another: still the same solution, solved when
            # it was (a new resolution note, if the move gives one, replaces the old).
            if event.resolution is not None:
                out["resolution"] = event.resolution
            if event.first_contact:
                out["first_contact"] = True
        else:
            out["solved_at"] = event.at
            out["resolution"] = event.resolution
            out["first_contact"] = event.first_contact
    elif category is _CLOSED:
        out["closed_at"] = event.at
        if ticket.solved_at is None and event.resolution is not None:
            out["resolution"] = event.resolution
    elif was is _SOLVED or was is _CLOSED:  # reopened: was done, no longer is
        out["reopen_count"] = ticket.reopen_count + 1
        out["reopened_at"] = event.at
        # Time in tier stands still while the ticket is solved: from the later of the
        # solve and entering the tier, to this reopen.
        since = ticket.tier_since or ticket.created_at
        ended = ticket.solved_at or ticket.closed_at or event.at
        start = max(ended, since)
        if start < event.at:
            out["tier_inactive"] = (*ticket.tier_inactive, (start, event.at))
        out["solved_at"] = None
        out["resolution"] = None
        out["first_contact"] = False
    return out


@register_fold(Assigned)
def _assigned(ticket: Ticket, event: Assigned) -> dict[str, Any]:
    out: dict[str, Any] = {"assignee": event.assignee}
    if event.assignee is not None:
        out["queued_at"] = None
        out["queued_strategy"] = None
        out["queued_skills"] = ()
        if ticket.owner is None or event.take_ownership:
            out["owner"] = event.assignee
    return out


@register_fold(QueuedForAssignment)
def _queued(ticket: Ticket, event: QueuedForAssignment) -> dict[str, Any]:
    return {
        "queued_at": ticket.queued_at or event.at,
        "assignee": None,
        "queued_strategy": event.strategy,
        "queued_skills": event.skills,
    }


@register_fold(OwnerChanged)
def _owner(ticket: Ticket, event: OwnerChanged) -> dict[str, Any]:
    return {"owner": event.owner}


@register_fold(Escalated)
@register_fold(DeEscalated)
def _moved(ticket: Ticket, event: Escalated | DeEscalated) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tier": event.to_tier,
        "assignee": event.assignee,
        "tier_since": event.at,
        "tier_inactive": (),
    }
    if event.team is not None:
        out["team"] = event.team
    return out


@register_fold(LevelRaised)
def _level(ticket: Ticket, event: LevelRaised) -> dict[str, Any]:
    return {"escalation_level": event.level}


@register_fold(EscalationNotified)
@register_fold(CsatRequested)
def _nothing(ticket: Ticket, event: Event) -> dict[str, Any]:
    return {}


@register_fold(EscalationTriggered)
def _triggered(ticket: Ticket, event: EscalationTriggered) -> dict[str, Any]:
    if event.key in ticket.fired_triggers:
        return {}
    return {"fired_triggers": (*ticket.fired_triggers, event.key)}


@register_fold(PriorityChanged)
def _priority(ticket: Ticket, event: PriorityChanged) -> dict[str, Any]:
    return {"priority": event.priority, "priority_explicit": True}


@register_fold(Linked)
def _linked(ticket: Ticket, event: Linked) -> dict[str, Any]:
    link = Link(kind=event.kind, other=event.other)
    if link in ticket.links:
        return {}
    return {"links": (*ticket.links, link)}


@register_fold(Rated)
def _rated(ticket: Ticket, event: Rated) -> dict[str, Any]:
    return {"satisfaction": Satisfaction(score=event.score, comment=event.comment, at=event.at)}


@register_fold(SlaClockStarted)
@register_fold(SlaClockPaused)
@register_fold(SlaClockResumed)
@register_fold(SlaClockStopped)
@register_fold(SlaTargetChanged)
@register_fold(SlaWarning)
@register_fold(SlaBreached)
def _sla(ticket: Ticket, event: Any) -> dict[str, Any]:
    clocks = dict(ticket.sla)
    clocks[event.clock.metric.value] = event.clock
    return {"sla": clocks}


@register_fold(TicketAnonymised)
def _anonymised(ticket: Ticket, event: TicketAnonymised) -> dict[str, Any]:
    return {
        "subject": ANONYMISED,
        "description": ANONYMISED if ticket.description else "",
        "resolution": ANONYMISED if ticket.resolution else ticket.resolution,
        "anonymised": True,
        "satisfaction": (
            evolve(ticket.satisfaction, comment=ANONYMISED if ticket.satisfaction.comment else "")
            if ticket.satisfaction
            else None
        ),
    }

