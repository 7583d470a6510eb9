"""SLA: business-hours calendars, SLA policies, clocks and their live view.

Calendars turn opening hours, holidays and special days into exact business-time
arithmetic (:class:`BusinessCalendar`). Policies say which targets apply to a ticket
(:class:`SlaPolicy`, :func:`select_policy`). The clock engine is a set of pure functions of
a ticket's events and ``now``: :func:`react` to an event, :func:`due_events` for warnings
and breaches stamped with their exact instants, :func:`next_wakeup` for schedulers, and
:func:`sla_view` / :func:`clock_view` for live figures. :class:`SlaEngine` answers
:func:`react` and :func:`due_events` for one set of policies and calendars, checked once.
"""

from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.clocks import (
    CANCELLED,
    NO_TARGET,
    SLA_ACTOR,
    SlaEngine,
    due_events,
    next_wakeup,
    next_wakeup_many,
    react,
)
from helpdesk_core.sla.policy import (
    DEFAULT_PAUSES,
    DEFAULT_WARNINGS,
    ReopenMode,
    SlaPolicy,
    select_policy,
)
from helpdesk_core.sla.view import SlaView, clock_view, sla_view

__all__ = [
    "CANCELLED",
    "DEFAULT_PAUSES",
    "DEFAULT_WARNINGS",
    "NO_TARGET",
    "SLA_ACTOR",
    "BusinessCalendar",
    "ReopenMode",
    "SlaEngine",
    "SlaPolicy",
    "SlaView",
    "clock_view",
    "due_events",
    "next_wakeup",
    "next_wakeup_many",
    "react",
    "select_policy",
    "sla_view",
]
