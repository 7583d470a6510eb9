"""Enumerations of the domain: priorities, impact, urgency, channels, status categories,
SLA metrics and link kinds. All are string enums, so they serialize as their value."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from helpdesk_core.errors import ValidationError

__all__ = [
    "ActorKind",
    "Channel",
    "ClockState",
    "Impact",
    "LinkKind",
    "Metric",
    "Priority",
    "StatusCategory",
    "Urgency",
]


class _ParseMixin(StrEnum):
    @classmethod
    def parse(cls, value: Any, *, field: str | None = None) -> Self:
        """Accept a member, its value or its name (any case); else raise ValidationError."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_").replace(" ", "_")
            for member in cls:
                if key in (member.value, member.name.lower()):
                    return member
            alias = cls._aliases().get(key)
            if alias is not None:
                return cls(alias)
        choices = ", ".join(m.value for m in cls)
        raise ValidationError(
            f"{value!r} is not a valid {cls.__name__} (choose from {choices})",
            field=field or cls.__name__.lower(),
        )

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {}


class Priority(_ParseMixin):
    """Ticket priority, most urgent first. ``rank`` is 0 for CRITICAL ... 3 for LOW;
    ``P1`` ... ``P4`` parse too."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most urgent priority, 3 for the least."""
        return _PRIORITY_RANK[self]

    @property
    def label(self) -> str:
        """``P1`` ... ``P4``."""
        return f"P{self.rank + 1}"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"p1": "critical", "p2": "high", "p3": "medium", "p4": "low"}


_PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class Impact(_ParseMixin):
    """How much of the business an issue affects (ITIL)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Urgency(_ParseMixin):
    """How soon the business needs the issue resolved (ITIL)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Channel(_ParseMixin):
    """Where a ticket came in."""

    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    WEB = "web"
    SELF_SERVICE = "self_service"
    WALK_IN = "walk_in"
    API = "api"


class StatusCategory(_ParseMixin):
    """The category every lifecycle status belongs to; SLA pauses and reports use it."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """True for categories in which work on the ticket is still due."""
        return self is not _SOLVED and self is not _CLOSED


# Read on hot paths: a module constant is cheaper than a member looked up on its class.
_SOLVED = StatusCategory.SOLVED
_CLOSED = StatusCategory.CLOSED


class Metric(_ParseMixin):
    """SLA metrics."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"
    PERIODIC_UPDATE = "periodic_update"


class ClockState(_ParseMixin):
    """State of one SLA clock."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class LinkKind(_ParseMixin):
    """How one ticket relates to another."""

    DUPLICATE_OF = "duplicate_of"
    CAUSED_BY = "caused_by"
    FOLLOW_UP_OF = "follow_up_of"


class ActorKind(_ParseMixin):
    """Who caused an event."""

    AGENT = "agent"
    REQUESTER = "requester"
    SYSTEM = "system"


def to_priority(value: Any) -> Priority:
    """Parse a priority (member, value, name, or P1-P4)."""
    if value.__class__ is Priority:  # a member already: the usual case, one test
        return value
    return Priority.parse(value, field="priority")


def to_optional_priority(value: Any) -> Priority | None:
    """None or a priority."""
    if value.__class__ is Priority:  # a member already: the usual case, one test
        return value
    return None if value is None else Priority.parse(value, field="priority")


def to_impact(value: Any) -> Impact:
    """Parse an impact."""
    if value.__class__ is Impact:  # a member already: the usual case, one test
        return value
    return Impact.parse(value, field="impact")


def to_optional_impact(value: Any) -> Impact | None:
    """None or an impact."""
    if value.__class__ is Impact:  # a member already: the usual case, one test
        return value
    return None if value is None else Impact.parse(value, field="impact")


def to_urgency(value: Any) -> Urgency:
    """Parse an urgency."""
    if value.__class__ is Urgency:  # a member already: the usual case, one test
        return value
    return Urgency.parse(value, field="urgency")


def to_optional_urgency(value: Any) -> Urgency | None:
    """None or an urgency."""
    if value.__class__ is Urgency:  # a member already: the usual case, one test
        return value
    return None if value is None else Urgency.parse(value, field="urgency")


def to_channel(value: Any) -> Channel:
    """Parse a channel."""
    if value.__class__ is Channel:  # a member already: the usual case, one test
        return value
    return Channel.parse(value, field="channel")


def to_optional_channel(value: Any) -> Channel | None:
    """None or a channel."""
    if value.__class__ is Channel:  # a member already: the usual case, one test
        return value
    return None if value is None else Channel.parse(value, field="channel")


def to_status_category(value: Any) -> StatusCategory:
    """Parse a status category."""
    if value.__class__ is StatusCategory:  # a member already: the usual case, one test
        return value
    return StatusCategory.parse(value, field="category")


def to_ticket_status_category(value: Any) -> StatusCategory:
    """Parse the status category of a ticket (an error names ``status_category``)."""
    if value.__class__ is StatusCategory:  # a member already: the usual case, one test
        return value
    return StatusCategory.parse(value, field="status_category")


def to_metric(value: Any) -> Metric:
    """Parse an SLA metric."""
    if value.__class__ is Metric:  # a member already: the usual case, one test
        return value
    return Metric.parse(value, field="metric")


def to_clock_state(value: Any) -> ClockState:
    """Parse an SLA clock state."""
    if value.__class__ is ClockState:  # a member already: the usual case, one test
        return value
    return ClockState.parse(value, field="state")


def to_link_kind(value: Any) -> LinkKind:
    """Parse a link kind."""
    if value.__class__ is LinkKind:  # a member already: the usual case, one test
        return value
    return LinkKind.parse(value, field="kind")


def to_actor_kind(value: Any) -> ActorKind:
    """Parse an actor kind."""
    if value.__class__ is ActorKind:  # a member already: the usual case, one test
        return value
    return ActorKind.parse(value, field="kind")
