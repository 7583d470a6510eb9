"""helpdesk_core: a helpdesk domain library.

Tickets, support tiers, lifecycles and escalation, SLA clocks on business-hours
calendars, routing and assignment, pluggable storage, and a discrete-event simulator that
runs the same domain code in simulated time. The names below are the public API; modules
whose names start with an underscore are private.
"""

from helpdesk_core.clock import Clock, ManualClock, SystemClock
from helpdesk_core.errors import (
    AccessDenied,
    ConfigError,
    ConflictError,
    HelpdeskError,
    InvalidTransition,
    NotFound,
    SchemaVersionError,
    StorageError,
    StoreClosedError,
    ValidationError,
)
from helpdesk_core.ids import IdFactory, SequentialIds, UuidIds
from helpdesk_core.model import (
    Actor,
    Agent,
    Channel,
    ClockState,
    Event,
    Impact,
    LinkKind,
    Metric,
    Priority,
    PriorityMatrix,
    Requester,
    StatusCategory,
    Team,
    Ticket,
    Tier,
    Urgency,
    priority_for,
)

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "Actor",
    "Agent",
    "Channel",
    "Clock",
    "ClockState",
    "ConfigError",
    "ConflictError",
    "Event",
    "HelpdeskError",
    "IdFactory",
    "Impact",
    "InvalidTransition",
    "LinkKind",
    "ManualClock",
    "Metric",
    "NotFound",
    "Priority",
    "PriorityMatrix",
    "Requester",
    "SchemaVersionError",
    "SequentialIds",
    "StatusCategory",
    "StorageError",
    "StoreClosedError",
    "SystemClock",
    "Team",
    "Ticket",
    "Tier",
    "Urgency",
    "UuidIds",
    "ValidationError",
    "__version__",
    "priority_for",
]
