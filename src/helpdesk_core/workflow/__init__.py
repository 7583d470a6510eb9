"""Workflow: lifecycles (statuses, transitions, guards, automatic moves), support tiers,
functional and hierarchical escalation, and escalation policies. Pure functions of
(state, command, now) that return the new ticket and the events that made it."""

from helpdesk_core.workflow._calendar import WorkCalendar, add_business_days
from helpdesk_core.workflow._lifecycles import Lifecycles, lifecycle_for
from helpdesk_core.workflow.escalation import (
    ESCALATION_ACTOR,
    Action,
    Contacts,
    DueTrigger,
    EscalateTier,
    EscalationPolicy,
    Notify,
    RaiseLevel,
    SetPriority,
    Trigger,
    TriggerKind,
    due_escalations,
    fire,
    next_escalation_at,
    run_escalations,
)
from helpdesk_core.workflow.guards import (
    BUILTIN_GUARDS,
    Guard,
    GuardContext,
    guard_names,
    lookup_guard,
    register_guard,
)
from helpdesk_core.workflow.lifecycle import ANY, AUTOMATIC_TRIGGERS, Lifecycle, Status, Transition
from helpdesk_core.workflow.tiers import (
    TierLadder,
    de_escalate,
    escalate,
    level_contact,
    raise_level,
)
from helpdesk_core.workflow.transitions import (
    LIFECYCLE_ACTOR,
    apply_automatic,
    apply_transition,
    auto_close,
    auto_close_due,
)

__all__ = [
    "ANY",
    "AUTOMATIC_TRIGGERS",
    "BUILTIN_GUARDS",
    "ESCALATION_ACTOR",
    "LIFECYCLE_ACTOR",
    "Action",
    "Contacts",
    "DueTrigger",
    "EscalateTier",
    "EscalationPolicy",
    "Guard",
    "GuardContext",
    "Lifecycle",
    "Lifecycles",
    "Notify",
    "RaiseLevel",
    "SetPriority",
    "Status",
    "TierLadder",
    "Transition",
    "Trigger",
    "TriggerKind",
    "WorkCalendar",
    "add_business_days",
    "apply_automatic",
    "apply_transition",
    "auto_close",
    "auto_close_due",
    "de_escalate",
    "due_escalations",
    "escalate",
    "fire",
    "guard_names",
    "level_contact",
    "lifecycle_for",
    "lookup_guard",
    "next_escalation_at",
    "raise_level",
    "register_guard",
    "run_escalations",
]
