"""Privacy and hardening: who may see and do what (:mod:`.access`), how long personal data
is kept (:mod:`.retention`), and the input limits that protect a desk (:mod:`.limits`)."""

from helpdesk_core.privacy.access import (
    ACTIONS,
    REQUESTER_ACTIONS,
    AccessPolicy,
    Decision,
    Role,
    visible_events,
)
from helpdesk_core.privacy.limits import Limits
from helpdesk_core.privacy.retention import (
    ANONYMOUS_REQUESTER,
    AnonymisationPlan,
    PrivacySettings,
    RetentionPolicy,
    anonymise_event,
    due_for_retention,
    plan_anonymisation,
)

__all__ = [
    "ACTIONS",
    "ANONYMOUS_REQUESTER",
    "REQUESTER_ACTIONS",
    "AccessPolicy",
    "AnonymisationPlan",
    "Decision",
    "Limits",
    "PrivacySettings",
    "RetentionPolicy",
    "Role",
    "anonymise_event",
    "due_for_retention",
    "plan_anonymisation",
    "visible_events",
]
