"""helpdesk_core: a helpdesk domain library.

Tickets, support tiers, lifecycles and escalation, SLA clocks on business-hours
calendars, routing and assignment, pluggable storage, and a discrete-event simulator that
runs the same domain code in simulated time. The names below are the public API; modules
whose names start with an underscore are private.
"""

from typing import TYPE_CHECKING, Any

from helpdesk_core.clock import Clock, ManualClock, SystemClock
from helpdesk_core.config import AssignmentSettings, DeskConfig, DeskSettings, TicketType
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
    TickError,
    ValidationError,
)
from helpdesk_core.ids import IdFactory, SequentialIds, UuidIds
from helpdesk_core.intake import Category, Question
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
from helpdesk_core.routing import AssignSpec, Condition, F, Rule, RuleSet
from helpdesk_core.service import Helpdesk
from helpdesk_core.sla import BusinessCalendar, SlaPolicy, SlaView
from helpdesk_core.storage import (
    MemoryStore,
    Page,
    SqliteStore,
    Store,
    TicketQuery,
    TicketScope,
)
from helpdesk_core.workflow import EscalationPolicy, Lifecycle, TierLadder

if TYPE_CHECKING:
    from helpdesk_core.storage.postgres import PostgresStore

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "Actor",
    "Agent",
    "AssignSpec",
    "AssignmentSettings",
    "BusinessCalendar",
    "Category",
    "Channel",
    "Clock",
    "ClockState",
    "Condition",
    "ConfigError",
    "ConflictError",
    "DeskConfig",
    "DeskSettings",
    "EscalationPolicy",
    "Event",
    "F",
    "Helpdesk",
    "HelpdeskError",
    "IdFactory",
    "Impact",
    "InvalidTransition",
    "Lifecycle",
    "LinkKind",
    "ManualClock",
    "MemoryStore",
    "Metric",
    "NotFound",
    "Page",
    "PostgresStore",
    "Priority",
    "PriorityMatrix",
    "Question",
    "Requester",
    "Rule",
    "RuleSet",
    "SchemaVersionError",
    "SequentialIds",
    "SlaPolicy",
    "SlaView",
    "SqliteStore",
    "StatusCategory",
    "StorageError",
    "Store",
    "StoreClosedError",
    "SystemClock",
    "Team",
    "TickError",
    "Ticket",
    "TicketQuery",
    "TicketScope",
    "TicketType",
    "Tier",
    "TierLadder",
    "Urgency",
    "UuidIds",
    "ValidationError",
    "__version__",
    "priority_for",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        from helpdesk_core.storage.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
