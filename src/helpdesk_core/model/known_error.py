"""The known-error record a problem ticket carries.

Problem management in ITIL terms: a *problem* is the unknown cause of one or more
incidents; once its root cause or a workaround is documented it becomes a *known error*.
The record lives on the problem ticket's snapshot (``Ticket.known_error``) and changes only
through events (see :mod:`helpdesk_core.knowledge.problems`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import _validate as v
from helpdesk_core.model.enums import _ParseMixin

__all__ = ["KnownError", "KnownErrorStatus", "to_known_error_status"]


class KnownErrorStatus(_ParseMixin):
    """Where the investigation of a problem stands: ``investigating`` (cause unknown),
    ``known_error`` (root cause or workaround documented), ``resolved`` (fixed for good)."""

    INVESTIGATING = "investigating"
    KNOWN_ERROR = "known_error"
    RESOLVED = "resolved"

    @property
    def is_active(self) -> bool:
        """True until the known error is resolved."""
        return self is not KnownErrorStatus.RESOLVED


def to_known_error_status(value: Any) -> KnownErrorStatus:
    """Parse a known-error status (member, value or name)."""
    return KnownErrorStatus.parse(value, field="status")


def _to_resolved_from(value: Any) -> KnownErrorStatus | None:
    return None if value is None else KnownErrorStatus.parse(value, field="resolved_from")


def _resolved_from(instance: KnownError, attribute: Any, value: KnownErrorStatus | None) -> None:
    if value is None:
        return
    if not value.is_active:
        raise ValidationError(
            "resolved_from is the live status a solve resolved: investigating or known_error",
            field="resolved_from",
        )
    if instance.status.is_active:
        raise ValidationError(
            "only a resolved known error has a status it was resolved from",
            field="resolved_from",
        )


@frozen(kw_only=True)
class KnownError:
    """The known-error record of a problem ticket: what users see (``symptom``), how to get
    around it (``workaround``), why it happens (``root_cause``), and ``status``.
    ``recorded_at`` is when the record was made, ``updated_at`` its latest change.
    ``resolved_from`` is the live status the record had when the problem's solve
    resolved it, which a reopen of the problem brings back; None while the record is
    live, and when it was resolved otherwise (by hand, or recorded so)."""

    status: KnownErrorStatus = field(converter=to_known_error_status)
    symptom: str = field(validator=v.text)
    workaround: str = field(default="", validator=v.text)
    root_cause: str = field(default="", validator=v.text)
    recorded_at: datetime = field(converter=v.to_utc, validator=v.aware)
    updated_at: datetime = field(converter=v.to_utc, validator=v.aware)
    resolved_from: KnownErrorStatus | None = field(
        default=None, converter=_to_resolved_from, validator=_resolved_from
    )

    @property
    def is_active(self) -> bool:
        """True until the known error is resolved."""
        return self.status.is_active
