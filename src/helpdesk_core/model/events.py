"""Domain events: the facts a ticket's history is made of.

Every change to a ticket is one event with a past-tense name, stamped with the ticket id,
the instant it happened (``at``) and who caused it (``by``). Replaying a ticket's events
rebuilds its snapshot (:func:`helpdesk_core.model.replay.replay`). Events are immutable
values; storage serializes them by class name (see :data:`EVENT_TYPES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from attrs import field, frozen

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import _validate as v
from helpdesk_core.model.enums import (
    Channel,
    Impact,
    LinkKind,
    Metric,
    Priority,
    StatusCategory,
    Urgency,
    to_channel,
    to_impact,
    to_link_kind,
    to_optional_channel,
    to_optional_impact,
    to_optional_priority,
    to_optional_urgency,
    to_priority,
    to_status_category,
    to_ticket_status_category,
    to_urgency,
)
from helpdesk_core.model.people import Actor
from helpdesk_core.model.ticket import SlaClock, check_optional_subject, check_subject

__all__ = [
    "CANCELLED",
    "EVENT_TYPES",
    "NO_TARGET",
    "SLA_EVENT_TYPES",
    "Assigned",
    "Changes",
    "CommentAdded",
    "CsatRequested",
    "DeEscalated",
    "Escalated",
    "EscalationNotified",
    "EscalationTriggered",
    "Event",
    "LevelRaised",
    "Linked",
    "OwnerChanged",
    "PriorityChanged",
    "QueuedForAssignment",
    "Rated",
    "SlaBreached",
    "SlaClockPaused",
    "SlaClockResumed",
    "SlaClockStarted",
    "SlaClockStopped",
    "SlaTargetChanged",
    "SlaWarning",
    "StatusChanged",
    "TicketAnonymised",
    "TicketOpened",
    "TicketRouted",
    "TicketUpdated",
]


def _actor(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Actor):
        raise ValidationError(
            f"every event names who caused it: expected an Actor, got {type(value).__name__}",
            field="by",
        )


@frozen(kw_only=True)
class Event:
    """Base of all domain events."""

    ticket_id: str = field(validator=v.identifier)
    at: datetime = field(converter=v.to_utc, validator=v.aware)
    by: Actor = field(validator=_actor)

    #: Name used in storage and reports (the class name).
    event_type: ClassVar[str] = "Event"
    #: True for events that stay on the agent side: requesters never see them
    #: (:func:`helpdesk_core.privacy.visible_events` leaves them out).
    agents_only: ClassVar[bool] = False
    #: The field holding the id of another ticket the event names (a link's target),
    #: or None: a view leaves the event out for a reader who may not view that ticket
    #: (see :func:`helpdesk_core.privacy.visible_events`).
    names_ticket: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.event_type = cls.__name__


def _to_missing_fields(value: Any) -> tuple[str, ...]:
    return v.to_str_tuple(value, field="missing_fields")


def _to_history(value: Any) -> tuple[str, ...]:
    return v.to_str_tuple(value, field="history")


@frozen(kw_only=True)
class TicketOpened(Event):
    """A ticket was opened. Carries everything an auto-acknowledgement needs: the human
    number, the first-response deadline (if an SLA applies), the questions still to be
    answered (``missing_fields``) and the requester's earlier tickets (``history``)."""

    number: int = field(validator=v.non_negative_int)
    requester: str = field(validator=v.identifier)
    subject: str = field(validator=check_subject)
    description: str = field(default="", validator=v.text)
    channel: Channel = field(default=Channel.WEB, converter=to_channel)
    category: str | None = field(default=None, validator=v.optional_text)
    type: str = field(default="incident", validator=v.identifier)
    impact: Impact = field(default=Impact.MEDIUM, converter=to_impact)
    urgency: Urgency = field(default=Urgency.MEDIUM, converter=to_urgency)
    priority: Priority = field(default=Priority.MEDIUM, converter=to_priority)
    priority_explicit: bool = field(default=False, validator=v.boolean)
    tags: tuple[str, ...] = field(default=(), converter=v.to_tag_tuple, validator=v.tag_tuple)
    fields: Mapping[str, v.FieldValue] = field(
        factory=dict, converter=v.to_field_dict, validator=v.field_dict, hash=False
    )
    asset: str | None = field(default=None, validator=v.optional_text)
    organization: str | None = field(default=None, validator=v.optional_text)
    lifecycle: str = field(default="default", validator=v.identifier)
    status: str = field(default="new", validator=v.identifier)
    status_category: StatusCategory = field(
        default=StatusCategory.NEW, converter=to_ticket_status_category
    )
    first_response_due: datetime | None = field(
        default=None, converter=v.to_optional_utc, validator=v.optional_aware
    )
    missing_fields: tuple[str, ...] = field(
        default=(), converter=_to_missing_fields, validator=v.text_tuple
    )
    history: tuple[str, ...] = field(default=(), converter=_to_history, validator=v.text_tuple)


@frozen(kw_only=True)
class Changes:
    """Field changes made by routing or by an agent's edit; None means unchanged.
    ``tags`` is the complete new tag set; ``fields`` are merged into the custom fields."""

    team: str | None = field(default=None, validator=v.optional_identifier)
    tier: str | None = field(default=None, validator=v.optional_identifier)
    priority: Priority | None = field(default=None, converter=to_optional_priority)
    impact: Impact | None = field(default=None, converter=to_optional_impact)
    urgency: Urgency | None = field(default=None, converter=to_optional_urgency)
    type: str | None = field(default=None, validator=v.optional_identifier)
    category: str | None = field(default=None, validator=v.optional_text)
    subject: str | None = field(default=None, validator=check_optional_subject)
    asset: str | None = field(default=None, validator=v.optional_text)
    tags: tuple[str, ...] | None = field(
        default=None, converter=v.to_optional_tag_tuple, validator=v.optional_tag_tuple
    )
    fields: Mapping[str, v.FieldValue] | None = field(
        default=None,
        converter=v.to_optional_field_dict,
        validator=v.optional_field_dict,
        hash=False,
    )
    sla_policy: str | None = field(default=None, validator=v.optional_identifier)

    @property
    def is_empty(self) -> bool:
        """True when nothing changes."""
        return all(getattr(self, name) is None for name in _CHANGE_FIELDS)

    def as_dict(self) -> dict[str, Any]:
        """The changed fields only."""
        return {
            name: getattr(self, name) for name in _CHANGE_FIELDS if getattr(self, name) is not None
        }


_CHANGE_FIELDS = (
    "team",
    "tier",
    "priority",
    "impact",
    "urgency",
    "type",
    "category",
    "subject",
    "asset",
    "tags",
    "fields",
    "sla_policy",
)


def _changes(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Changes):
        raise ValidationError(f"expected Changes, got {type(value).__name__}", field="changes")


def _to_rules(value: Any) -> tuple[str, ...]:
    return v.to_str_tuple(value, field="rules")


@frozen(kw_only=True)
class TicketRouted(Event):
    """Routing rules changed the ticket; ``rules`` names the rules that matched, in order."""

    changes: Changes = field(validator=_changes)
    rules: tuple[str, ...] = field(default=(), converter=_to_rules, validator=v.text_tuple)


@frozen(kw_only=True)
class TicketUpdated(Event):
    """An agent edited the ticket's fields. A priority among the changes is explicit,
    unless the impact or the urgency changes with it: then it is the one they derive."""

    changes: Changes = field(validator=_changes)
    reason: str | None = field(default=None, validator=v.optional_text)


@frozen(kw_only=True)
class CommentAdded(Event):
    """A reply (``public=True``, seen by the requester) or an internal note was added.
    The author is ``by``."""

    comment_id: str = field(validator=v.identifier)
    body: str = field(validator=v.text)
    public: bool = field(default=True, validator=v.boolean)
    channel: Channel | None = field(default=None, converter=to_optional_channel)


@frozen(kw_only=True)
class StatusChanged(Event):
    """A lifecycle transition moved the ticket from one status to another."""

    transition: str = field(validator=v.identifier)
    from_status: str = field(validator=v.identifier)
    to_status: str = field(validator=v.identifier)
    category: StatusCategory = field(converter=to_status_category)
    reason: str | None = field(default=None, validator=v.optional_text)
    resolution: str | None = field(default=None, validator=v.optional_text)
    first_contact: bool = field(default=False, validator=v.boolean)
    automatic: bool = field(default=False, validator=v.boolean)


@frozen(kw_only=True)
class Assigned(Event):
    """The assignee changed (``assignee`` None: unassigned). ``strategy`` names the
    assignment strategy when automatic; ``explanation`` says why this agent."""

    assignee: str | None = field(default=None, validator=v.optional_identifier)
    previous: str | None = field(default=None, validator=v.optional_identifier)
    strategy: str | None = field(default=None, validator=v.optional_text)
    explanation: str | None = field(default=None, validator=v.optional_text)
    take_ownership: bool = field(default=False, validator=v.boolean)


def _to_skills(value: Any) -> tuple[str, ...]:
    return v.to_name_tuple(value, field="skills")


@frozen(kw_only=True)
class QueuedForAssignment(Event):
    """Nobody eligible was available: the ticket waits in its team's queue.

    ``strategy`` and ``skills`` are the assignment asked for the ticket, which every later
    attempt to assign it while it waits follows: a routing rule's ``assign``, or the
    strategy given to ``Helpdesk.auto_assign``. ``strategy`` is None when the ticket waits
    for the desk's own assignment (its settings as they are at each attempt); events
    recorded before these fields existed read so.
    """

    team: str | None = field(default=None, validator=v.optional_identifier)
    reason: str = field(default="", validator=v.text)
    strategy: str | None = field(default=None, validator=v.optional_identifier)
    skills: tuple[str, ...] = field(default=(), converter=_to_skills, validator=v.name_tuple)


@frozen(kw_only=True)
class OwnerChanged(Event):
    """The owner (accountable for the outcome) changed."""

    owner: str | None = field(default=None, validator=v.optional_identifier)
    previous: str | None = field(default=None, validator=v.optional_identifier)


@frozen(kw_only=True)
class Escalated(Event):
    """Functional escalation to a higher tier: team and assignee change, owner stays."""

    from_tier: str | None = field(validator=v.optional_identifier)
    to_tier: str = field(validator=v.identifier)
    team: str | None = field(default=None, validator=v.optional_identifier)
    assignee: str | None = field(default=None, validator=v.optional_identifier)
    reason: str = field(default="", validator=v.text)
    policy: str | None = field(default=None, validator=v.optional_text)


@frozen(kw_only=True)
class DeEscalated(Event):
    """Functional de-escalation back to a lower tier."""

    from_tier: str | None = field(validator=v.optional_identifier)
    to_tier: str = field(validator=v.identifier)
    team: str | None = field(default=None, validator=v.optional_identifier)
    assignee: str | None = field(default=None, validator=v.optional_identifier)
    reason: str = field(default="", validator=v.text)


@frozen(kw_only=True)
class LevelRaised(Event):
    """Hierarchical escalation: the escalation level rose and its contact is notified;
    the ticket does not move."""

    level: int = field(validator=v.non_negative_int)
    contact: str | None = field(default=None, validator=v.optional_identifier)
    reason: str = field(default="", validator=v.text)
    policy: str | None = field(default=None, validator=v.optional_text)


@frozen(kw_only=True)
class EscalationNotified(Event):
    """An escalation policy asked for a notification to ``contact``."""

    contact: str = field(validator=v.identifier)
    reason: str = field(default="", validator=v.text)
    policy: str | None = field(default=None, validator=v.optional_text)


@frozen(kw_only=True)
class EscalationTriggered(Event):
    """An escalation policy's trigger became true; ``key`` identifies the trigger and the
    clock cycle, so it fires once per cycle. ``at`` is the instant the condition became
    true; the actions it caused follow as their own events."""

    policy: str = field(validator=v.text)
    trigger: str = field(validator=v.text)
    key: str = field(validator=v.non_empty_text)


def _to_previous_priority(value: Any) -> Priority:
    if value.__class__ is Priority:  # a member already: the usual case, one test
        return value
    return Priority.parse(value, field="previous")


@frozen(kw_only=True)
class PriorityChanged(Event):
    """The priority changed (explicitly, or by an escalation policy)."""

    priority: Priority = field(converter=to_priority)
    previous: Priority = field(converter=_to_previous_priority)
    reason: str = field(default="", validator=v.text)


@frozen(kw_only=True)
class Linked(Event):
    """The ticket was linked to another ticket."""

    names_ticket: ClassVar[str | None] = "other"

    kind: LinkKind = field(converter=to_link_kind)
    other: str = field(validator=v.identifier)


@frozen(kw_only=True)
class Rated(Event):
    """The requester rated the service (CSAT, 1-5)."""

    score: int = field()
    comment: str = field(default="", validator=v.text)

    @score.validator
    def _check_score(self, attribute: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationError(f"a satisfaction score is 1 to 5, got {value!r}", field="score")


@frozen(kw_only=True)
class CsatRequested(Event):
    """A satisfaction survey was requested from the requester (on solve)."""


def _clock(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, SlaClock):
        raise ValidationError(f"expected an SlaClock, got {type(value).__name__}", field="clock")


def _threshold(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValidationError(
            f"a warning threshold is a fraction of the target (0 to 1), got {value!r}",
            field="threshold",
        )


@frozen(kw_only=True)
class _SlaEvent(Event):
    clock: SlaClock = field(validator=_clock)

    @property
    def metric(self) -> Metric:
        """The metric of the clock."""
        return self.clock.metric


@frozen(kw_only=True)
class SlaClockStarted(_SlaEvent):
    """An SLA clock started (or a new cycle of it)."""


@frozen(kw_only=True)
class SlaClockPaused(_SlaEvent):
    """An SLA clock paused (the ticket entered a pausing status category)."""


@frozen(kw_only=True)
class SlaClockResumed(_SlaEvent):
    """A paused SLA clock resumed with the time already used."""


#: The ``reason`` of an :class:`SlaClockStopped` whose clock stopped because no target
#: applies to its metric any more (the priority or the policy changed, or no policy
#: applies): the clock neither met nor missed a target, and compliance leaves it out.
NO_TARGET = "no_target"

#: The ``reason`` of an :class:`SlaClockStopped` whose clock stopped because its ticket
#: was closed without being solved (cancelled, say, as a duplicate), where its lifecycle
#: has a solved status: the clock neither met nor missed its target, and compliance
#: leaves it out (a breach recorded before still counts).
CANCELLED = "cancelled"


@frozen(kw_only=True)
class SlaClockStopped(_SlaEvent):
    """An SLA clock stopped: met, or breached if it stopped after its deadline.

    ``reason`` is empty when the clock's own event stopped it (a reply, a solve),
    :data:`NO_TARGET` when it stopped because no target applies any more, and
    :data:`CANCELLED` when the ticket was closed without being solved."""

    reason: str = field(default="", validator=v.text)


@frozen(kw_only=True)
class SlaTargetChanged(_SlaEvent):
    """The clock's target changed (priority or policy change), or its policy's calendar
    or warning thresholds did; time used is kept."""

    reason: str = field(default="", validator=v.text)


@frozen(kw_only=True)
class SlaWarning(_SlaEvent):
    """An SLA clock crossed a warning threshold (``threshold`` = fraction of the target),
    stamped with the exact instant it was crossed."""

    threshold: float = field(default=0.75, validator=_threshold)


@frozen(kw_only=True)
class SlaBreached(_SlaEvent):
    """An SLA clock exceeded its target, stamped with the exact instant it did."""


@frozen(kw_only=True)
class TicketAnonymised(Event):
    """Personal data of the ticket was replaced by markers (retention or erasure)."""

    reason: str = field(default="", validator=v.text)


#: The events that carry an SLA clock (a ticket's clock of a metric is the one its latest
#: such event carries).
SLA_EVENT_TYPES = (
    SlaClockStarted,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStopped,
    SlaTargetChanged,
    SlaWarning,
    SlaBreached,
)

#: Every event class by its ``event_type`` name (what storage writes).
EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        TicketOpened,
        TicketRouted,
        TicketUpdated,
        CommentAdded,
        StatusChanged,
        Assigned,
        QueuedForAssignment,
        OwnerChanged,
        Escalated,
        DeEscalated,
        LevelRaised,
        EscalationNotified,
        EscalationTriggered,
        PriorityChanged,
        Linked,
        Rated,
        CsatRequested,
        *SLA_EVENT_TYPES,
        TicketAnonymised,
    )
}


def register_event_type(cls: type[Event]) -> type[Event]:
    """Register an event class defined outside this module (e.g. by a package layered on
    the model) so stores can serialize it. Usable as a class decorator."""
    if not (isinstance(cls, type) and issubclass(cls, Event)):
        raise ValidationError(f"{cls!r} is not an Event class", field="cls")
    if cls is Event:
        raise ValidationError(
            "Event is the base class; register a concrete event type", field="cls"
        )
    existing = EVENT_TYPES.get(cls.__name__)
    if existing is not None and existing is not cls:
        raise ValidationError(f"an event type named {cls.__name__!r} exists already")
    EVENT_TYPES[cls.__name__] = cls
    return cls
