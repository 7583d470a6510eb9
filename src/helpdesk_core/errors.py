"""The error hierarchy of helpdesk_core.

Every error the library raises on purpose is a :class:`HelpdeskError`. Subclasses mix in the
builtin exception a caller would naturally catch (``ValueError`` for bad input,
``LookupError`` for missing things, ``PermissionError`` for refusals), and carry the ids they
concern as attributes, so a frontend can render a precise message without parsing text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "AccessDenied",
    "ConfigError",
    "ConflictError",
    "HelpdeskError",
    "InvalidTransition",
    "NotFound",
    "SchemaVersionError",
    "StorageError",
    "StoreClosedError",
    "TickError",
    "ValidationError",
]


class HelpdeskError(Exception):
    """Root of every error raised by helpdesk_core."""


class ValidationError(HelpdeskError, ValueError):
    """Input that does not satisfy the rules of the domain.

    ``field`` names the offending field or path (``"tickets[3].subject"``) when known.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class ConfigError(ValidationError):
    """A configuration (calendar, lifecycle, policy, rule, desk document) is invalid.

    ``path`` is where in the configuration the bad part is, e.g. ``agents[2].calendar``.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message, field=path)


class InvalidTransition(HelpdeskError):
    """A lifecycle transition was refused.

    Carries the ticket, its current status, the transition asked for and, when a guard
    refused it, the guard's name.
    """

    def __init__(
        self,
        message: str,
        *,
        ticket_id: str | None = None,
        status: str | None = None,
        transition: str | None = None,
        guard: str | None = None,
    ) -> None:
        self.ticket_id = ticket_id
        self.status = status
        self.transition = transition
        self.guard = guard
        super().__init__(message)


class NotFound(HelpdeskError, LookupError):
    """Something looked up by id does not exist (``kind`` says what: ticket, agent ...)."""

    def __init__(self, kind: str, id: object, message: str | None = None) -> None:
        self.kind = kind
        self.id = id
        super().__init__(message or f"{kind} {id!r} not found")


class ConflictError(HelpdeskError):
    """An optimistic-concurrency clash: the ticket (or, as ``kind`` says, another versioned
    record such as a knowledge-base article) changed since it was read, or a record meant
    to be new (``expected`` 0) exists already."""

    def __init__(
        self,
        ticket_id: str,
        *,
        expected: int,
        actual: int,
        kind: str = "ticket",
        message: str | None = None,
    ) -> None:
        self.ticket_id = ticket_id
        self.expected = expected
        self.actual = actual
        self.kind = kind
        super().__init__(
            message
            or f"{kind} {ticket_id!r} changed concurrently: expected version {expected}, "
            f"found version {actual}"
        )


class AccessDenied(HelpdeskError, PermissionError):
    """The acting identity may not do this to this ticket."""

    def __init__(
        self,
        message: str,
        *,
        identity: str | None = None,
        ticket_id: str | None = None,
        action: str | None = None,
    ) -> None:
        self.identity = identity
        self.ticket_id = ticket_id
        self.action = action
        super().__init__(message)


class StorageError(HelpdeskError):
    """The store failed (driver error, corrupt data, unreachable database ...)."""


class StoreClosedError(StorageError):
    """The store was closed, or its database cannot be reached."""


class SchemaVersionError(StorageError):
    """The database's schema version is not one this version of the library can use."""

    def __init__(self, message: str, *, found: int | None = None, supported: int | None = None):
        self.found = found
        self.supported = supported
        super().__init__(message)


class TickError(HelpdeskError):
    """A tick could not bring some tickets up to date, and did everything else: one
    ticket that fails (a snapshot that cannot be read, a rule that refuses it) does not
    hold up the SLA events of all the others. ``failures`` maps each such ticket id to
    the error it raised (the first of them is also the ``__cause__``); ``recorded`` holds
    the events the tick recorded (already saved and published)."""

    def __init__(self, failures: Mapping[str, Exception], recorded: Sequence[object]) -> None:
        self.failures = dict(failures)
        self.recorded = list(recorded)
        first, error = next(iter(self.failures.items()))
        more = f" (and {len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        super().__init__(
            f"tick could not bring ticket {first!r} up to date: "
            f"{type(error).__name__}: {error}{more}"
        )
