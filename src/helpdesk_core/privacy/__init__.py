"""Privacy and hardening: who may see and do what (:mod:`.access`), how long personal data
is kept (:mod:`.retention`) and what a purge leaves on the tickets linked to the purged
one (:mod:`.purge`), and the input limits that protect a desk (:mod:`.limits`)."""

from helpdesk_core.privacy.access import (
    ACTIONS,
    ADMIN_ACTIONS,
    REQUESTER_ACTIONS,
    AccessPolicy,
    Decision,
    Role,
    visible_events,
)
from helpdesk_core.privacy.limits import Limits
from helpdesk_core.privacy.purge import (
    RETENTION_ACTOR,
    LinkedTicketPurged,
    links_to,
    unlink_purged,
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
    "ADMIN_ACTIONS",
    "ANONYMOUS_REQUESTER",
    "REQUESTER_ACTIONS",
    "RETENTION_ACTOR",
    "AccessPolicy",
    "AnonymisationPlan",
    "Decision",
    "Limits",
    "LinkedTicketPurged",
    "PrivacySettings",
    "RetentionPolicy",
    "Role",
    "anonymise_event",
    "due_for_retention",
    "links_to",
    "plan_anonymisation",
    "unlink_purged",
    "visible_events",
]
