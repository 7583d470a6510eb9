"""Privacy: who may see and do what (:mod:`.access`), and how long personal data is kept
(:mod:`.retention`)."""

from helpdesk_core.privacy.access import (
    ACTIONS,
    REQUESTER_ACTIONS,
    AccessPolicy,
    Decision,
    Role,
    visible_events,
)
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
    "PrivacySettings",
    "RetentionPolicy",
    "Role",
    "anonymise_event",
    "due_for_retention",
    "plan_anonymisation",
    "visible_events",
]
