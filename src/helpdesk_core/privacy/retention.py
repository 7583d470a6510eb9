"""Retention policies and anonymisation planning (pure).

A :class:`RetentionPolicy` says how long a closed ticket keeps its personal data, for
which ticket types and teams, and what happens then: ``anonymise`` (requester identity,
free text and custom fields marked ``personal`` replaced by markers), ``delete`` (every
free text and every custom field removed; only the ticket's skeleton stays: ids, number,
timestamps, status, priority, team, SLA clocks, so reports and event positions stay
consistent) or ``purge`` (the ticket is removed from the store altogether: snapshot,
events, outbox items, search entries; see :meth:`~helpdesk_core.storage.Store.purge`;
the links other tickets hold to it are dropped, see :mod:`~helpdesk_core.privacy.purge`).
Policies are ordered; the first that matches a ticket applies.

:func:`plan_anonymisation` rewrites a ticket's whole history (every event, not only the
snapshot) and appends a :class:`~helpdesk_core.model.TicketAnonymised` event; a store's
``anonymise`` method then replaces the stored history in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import attrs
from attrs import evolve, field, frozen

from helpdesk_core._time import ensure_aware, to_timedelta
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import (
    ANONYMISED,
    Actor,
    ActorKind,
    Assigned,
    Changes,
    CommentAdded,
    Event,
    Rated,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketAnonymised,
    TicketOpened,
    TicketRouted,
    TicketUpdated,
    replay,
)
from helpdesk_core.model._validate import field_names
from helpdesk_core.privacy.access import ANONYMOUS_REQUESTER, AccessPolicy

__all__ = [
    "ANONYMOUS_REQUESTER",
    "AnonymisationPlan",
    "PrivacySettings",
    "RetentionPolicy",
    "anonymise_event",
    "due_for_retention",
    "plan_anonymisation",
]


Mode = Literal["anonymise", "delete"]
_MODES = ("anonymise", "delete")
#: What a retention policy does to a ticket that falls due.
Action = Literal["anonymise", "delete", "purge"]
_ACTIONS = (*_MODES, "purge")


def _names(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    if isinstance(items, bytes | Mapping) or not isinstance(items, Iterable):
        raise ConfigError("expected a non-empty list of names", path="privacy.retention")
    items = tuple(items)
    if not items or not all(isinstance(i, str) and i for i in items):
        raise ConfigError("expected a non-empty list of names", path="privacy.retention")
    return frozenset(items)


def _after(value: Any) -> timedelta:
    try:
        after = to_timedelta(value, field="after")
    except ValidationError as exc:
        raise ConfigError(exc.message, path="privacy.retention.after") from exc
    return after


@frozen(kw_only=True)
class RetentionPolicy:
    """Anonymise, delete the content of, or purge tickets closed for ``after`` (a
    duration: ``"365d"``, seconds, a timedelta). ``ticket_types`` / ``teams`` limit the
    policy (None: any)."""

    name: str = field()
    after: timedelta = field(converter=_after)
    action: Action = field(default="anonymise")
    ticket_types: frozenset[str] | None = field(default=None, converter=_names)
    teams: frozenset[str] | None = field(default=None, converter=_names)

    @name.validator
    def _check_name(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError("a retention policy needs a name", path="privacy.retention.name")

    @action.validator
    def _check_action(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or value not in _ACTIONS:
            raise ConfigError(
                f"action is 'anonymise', 'delete' or 'purge', got {value!r}",
                path=f"privacy.retention.{self.name}.action",
            )

    @after.validator
    def _check_after(self, attribute: Any, value: timedelta) -> None:
        if value < timedelta(0):
            raise ConfigError("after must not be negative", path=f"privacy.retention.{self.name}")

    def matches(self, ticket: Ticket) -> bool:
        """True when the policy covers this ticket (type and team)."""
        if not isinstance(ticket, Ticket):
            raise ValidationError(
                f"expected a Ticket, got {type(ticket).__name__}", field="ticket"
            )
        if self.ticket_types is not None and ticket.type not in self.ticket_types:
            return False
        return self.teams is None or ticket.team in self.teams

    def due_at(self, ticket: Ticket) -> datetime | None:
        """When the ticket's data falls due (None: not closed, not covered, or not before
        the end of the calendar)."""
        if not self.matches(ticket):
            return None
        if ticket.status_category is not StatusCategory.CLOSED or ticket.closed_at is None:
            return None
        try:
            return ticket.closed_at + self.after
        except OverflowError:  # due after year 9999: never, as far as a desk can tell
            return None

    @classmethod
    def from_dict(
        cls, doc: Mapping[str, Any], *, path: str = "privacy.retention"
    ) -> RetentionPolicy:
        """Build from ``{"name", "after", "action", "ticket_types", "teams"}``."""
        if not isinstance(doc, Mapping):
            raise ConfigError("a retention policy is a mapping", path=path)
        unknown = sorted(map(str, set(doc) - {"name", "after", "action", "ticket_types", "teams"}))
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(unknown)}", path=path)
        if "name" not in doc or "after" not in doc:
            raise ConfigError("a retention policy needs a name and after", path=path)
        try:
            return cls(**doc)
        except ConfigError as exc:
            # The policy's own checks name its key last (``...after``): keep that key.
            leaf = (exc.path or "").rsplit(".", 1)[-1]
            known = {"name", "after", "action", "ticket_types", "teams"}
            where = f"{path}.{leaf}" if leaf in known else path
            raise ConfigError(exc.message, path=where) from exc
        except (TypeError, ValidationError) as exc:
            raise ConfigError(str(exc), path=path) from exc

    def to_dict(self) -> dict[str, Any]:
        """The policy as a plain document."""
        doc: dict[str, Any] = {
            "name": self.name,
            "after": _seconds(self.after),
            "action": self.action,
        }
        if self.ticket_types is not None:
            doc["ticket_types"] = sorted(self.ticket_types)
        if self.teams is not None:
            doc["teams"] = sorted(self.teams)
        return doc


def _check_every(value: Any) -> timedelta:
    try:
        return to_timedelta(value, field="check_every")
    except ValidationError as exc:
        raise ConfigError(exc.message, path="privacy.check_every") from exc


def _policies(value: Any) -> tuple[RetentionPolicy, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ConfigError("retention is a list of policies", path="privacy.retention")
    out = tuple(value)
    for i, item in enumerate(out):
        if not isinstance(item, RetentionPolicy):
            raise ConfigError("expected a RetentionPolicy", path=f"privacy.retention[{i}]")
    seen: set[str] = set()
    for i, policy in enumerate(out):
        if policy.name in seen:
            raise ConfigError(
                f"duplicate retention policy {policy.name!r}", path=f"privacy.retention[{i}].name"
            )
        seen.add(policy.name)
    for i, policy in enumerate(out):
        cover = next((p for p in out[:i] if _covers(p, policy)), None)
        if cover is not None:
            raise ConfigError(
                f"retention policy {policy.name!r} never applies: {cover.name!r} before it "
                "covers every ticket it covers, and the first policy that covers a ticket "
                "(by ticket type and team) is the one that applies to it; put the narrower "
                "policy first, or drop one",
                path=f"privacy.retention[{i}]",
            )
    return out


def _covers(earlier: RetentionPolicy, later: RetentionPolicy) -> bool:
    """Whether every ticket ``later`` covers is covered by ``earlier`` (so ``later``,
    coming after it, never applies)."""

    def within(outer: frozenset[str] | None, inner: frozenset[str] | None) -> bool:
        return outer is None or (inner is not None and inner <= outer)

    return within(earlier.ticket_types, later.ticket_types) and within(
        earlier.teams, later.teams
    )


@frozen(kw_only=True)
class PrivacySettings:
    """The ``privacy`` section of a desk: the access policy and the retention policies.
    ``check_every`` is how often :meth:`Helpdesk.tick` looks for tickets due (default
    one hour of the ``now`` it is given)."""

    access: AccessPolicy = field(factory=AccessPolicy)

    @access.validator
    def _check_access(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, AccessPolicy):
            raise ConfigError(
                f"expected an AccessPolicy, got {type(value).__name__}", path="privacy"
            )

    retention: tuple[RetentionPolicy, ...] = field(default=(), converter=_policies)
    check_every: timedelta = field(default=timedelta(hours=1), converter=_check_every)

    def policy_for(self, ticket: Ticket) -> RetentionPolicy | None:
        """The first retention policy covering ``ticket``."""
        return next((p for p in self.retention if p.matches(ticket)), None)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, path: str = "privacy") -> PrivacySettings:
        """Build from ``{"roles", "requester_actions", "requesters_see_organization",
        "retention": [...], "check_every"}``."""
        if not isinstance(doc, Mapping):
            raise ConfigError("the privacy section is a mapping", path=path)
        access_keys = {"roles", "requester_actions", "requesters_see_organization"}
        unknown = sorted(map(str, set(doc) - access_keys - {"retention", "check_every"}))
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(unknown)}", path=path)
        access = AccessPolicy(**{k: doc[k] for k in access_keys if k in doc})
        raw = doc.get("retention", ())
        if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
            raise ConfigError("retention is a list of policies", path=f"{path}.retention")
        policies = [
            RetentionPolicy.from_dict(item, path=f"{path}.retention[{i}]")
            for i, item in enumerate(raw)
        ]
        kwargs: dict[str, Any] = {"access": access, "retention": policies}
        if "check_every" in doc:
            kwargs["check_every"] = doc["check_every"]
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The section as a plain document (round-trips through :meth:`from_dict`)."""
        doc = self.access.to_dict()
        if self.retention:
            doc["retention"] = [p.to_dict() for p in self.retention]
        if self.check_every != timedelta(hours=1):
            doc["check_every"] = _seconds(self.check_every)
        return doc


def due_for_retention(
    tickets: Iterable[Ticket], settings: PrivacySettings, *, now: datetime
) -> list[tuple[Ticket, RetentionPolicy]]:
    """The tickets whose retention period ended by ``now``, each with the policy that
    applies (a ticket anonymised already is due again only for a ``purge`` policy)."""
    now = ensure_aware(now, field="now")
    if not isinstance(settings, PrivacySettings):
        raise ValidationError(
            f"expected PrivacySettings, got {type(settings).__name__}", field="settings"
        )
    if not isinstance(tickets, Iterable):
        raise ValidationError("tickets is a list of tickets", field="tickets")
    out: list[tuple[Ticket, RetentionPolicy]] = []
    for ticket in tickets:
        if not isinstance(ticket, Ticket):
            raise ValidationError(
                f"expected a Ticket, got {type(ticket).__name__}", field="tickets"
            )
        policy = settings.policy_for(ticket)
        if policy is None or (ticket.anonymised and not _left_to_do(policy, ticket)):
            continue
        due = policy.due_at(ticket)
        if due is not None and due <= now:
            out.append((ticket, policy))
    return out


def _seconds(value: timedelta) -> int | float:
    """A duration in seconds for a document: whole when it is, exact when it is not."""
    return value.total_seconds() if value.microseconds else int(value.total_seconds())


def _left_to_do(policy: RetentionPolicy, ticket: Ticket) -> bool:
    """Whether ``policy`` still has work on an anonymised ticket: a purge always; a delete
    while text or custom fields are left (an erasure, or an earlier anonymise policy, put
    markers there and kept the fields that are not personal); an anonymise never."""
    if policy.action == "purge":
        return True
    if policy.action == "delete":
        return bool(ticket.fields or ticket.description or ticket.resolution)
    return False


# ---------------------------------------------------------------------------- rewriting


def _actor(actor: Actor) -> Actor:
    if actor.kind is ActorKind.REQUESTER:
        return Actor.requester(ANONYMOUS_REQUESTER)
    return actor


def _text(value: str | None, mode: Mode) -> str | None:
    if not value:
        return value
    return "" if mode == "delete" else ANONYMISED


def _fields(
    fields: Mapping[str, Any] | None, personal: frozenset[str], mode: Mode
) -> dict[str, Any] | None:
    if fields is None:
        return None
    if mode == "delete":
        return {}
    return {k: (ANONYMISED if k in personal and v is not None else v) for k, v in fields.items()}


def _changes(changes: Changes, personal: frozenset[str], mode: Mode) -> Changes:
    subject = ANONYMISED if changes.subject else changes.subject
    fields = _fields(changes.fields, personal, mode)
    if mode == "delete" and changes.fields is not None:
        fields = None
    return evolve(changes, subject=subject, fields=fields)


def anonymise_event(event: Event, *, personal_fields: frozenset[str], mode: Mode) -> Event:
    """``event`` with personal data replaced (``anonymise``) or removed (``delete``):
    requester identity (also where an assignment's explanation names the requester who
    made it; and the opening's organization and list of the requester's earlier
    tickets), subject, description, comment bodies, resolutions, rating
    comments, reasons typed by people, the fields an event class lists in its ``free_text``
    class attribute (known-error texts), and custom fields marked personal (all custom
    fields when deleting). Timestamps, ids, statuses and SLA clocks are kept."""
    if not isinstance(event, Event):
        raise ValidationError(f"expected an Event, got {type(event).__name__}", field="event")
    if mode not in _MODES:
        raise ValidationError(f"mode is 'anonymise' or 'delete', got {mode!r}", field="mode")
    personal_fields = field_names(personal_fields, field="personal_fields")
    changes: dict[str, Any] = {"by": _actor(event.by)}
    human = event.by.kind is not ActorKind.SYSTEM
    if isinstance(event, TicketOpened):
        changes.update(
            requester=ANONYMOUS_REQUESTER,
            subject=ANONYMISED,
            description=_text(event.description, mode),
            fields=_fields(event.fields, personal_fields, mode),
            # What leads back to the person: their organization, their other tickets.
            organization=None,
            history=(),
        )
    elif isinstance(event, TicketRouted | TicketUpdated):
        changes["changes"] = _changes(event.changes, personal_fields, mode)
    elif isinstance(event, CommentAdded):
        changes["body"] = _text(event.body, mode)
    elif isinstance(event, StatusChanged):
        changes["resolution"] = _text(event.resolution, mode)
    elif isinstance(event, Rated):
        changes["comment"] = _text(event.comment, mode)
    elif isinstance(event, Assigned) and event.explanation and event.by.kind is ActorKind.REQUESTER:
        # A requester's assignment is explained as "assigned by requester:<their id>".
        changes["explanation"] = event.explanation.replace(str(event.by), str(changes["by"]))
    # Event types defined outside the model (e.g. known-error records) name their typed
    # text fields in a ``free_text`` class attribute.
    for name in getattr(type(event), "free_text", ()):
        changes[name] = _text(getattr(event, name), mode)
    names = {a.name for a in attrs.fields(type(event))}
    if human and "reason" in names and getattr(event, "reason", None):
        changes["reason"] = _text(event.reason, mode)  # type: ignore[attr-defined]
    return evolve(event, **changes)


@frozen(kw_only=True)
class AnonymisationPlan:
    """What a store writes to anonymise one ticket: the rewritten history (``events``,
    ending with the :class:`TicketAnonymised` event), the snapshot folded from it, and
    the version the stored ticket must still have (``expected_version``)."""

    ticket_id: str
    expected_version: int
    events: tuple[Event, ...]
    snapshot: Ticket

    @property
    def added(self) -> tuple[Event, ...]:
        """The events appended (the rest rewrite stored ones)."""
        return self.events[self.expected_version :]


def plan_anonymisation(
    events: Sequence[Event],
    *,
    now: datetime,
    by: Actor,
    reason: str,
    personal_fields: Iterable[str] = (),
    mode: Mode = "anonymise",
) -> AnonymisationPlan:
    """Rewrite a ticket's history (see :func:`anonymise_event`) and append a
    :class:`TicketAnonymised` event at ``now`` by ``by``."""
    if isinstance(events, str | bytes) or not isinstance(events, Iterable):
        raise ValidationError(
            f"events is a ticket's history (a list of events), got {type(events).__name__}",
            field="events",
        )
    events = list(events)
    if not events:
        raise ValidationError("a ticket to anonymise has at least one event", field="events")
    for event in events:
        if not isinstance(event, Event):
            raise ValidationError(
                f"expected an Event, got {type(event).__name__}", field="events"
            )
    if len({event.ticket_id for event in events}) != 1:
        raise ValidationError("events hold the history of one ticket", field="events")
    if mode not in _MODES:
        raise ValidationError(f"mode is 'anonymise' or 'delete', got {mode!r}", field="mode")
    personal = field_names(personal_fields, field="personal_fields")
    rewritten = [anonymise_event(e, personal_fields=personal, mode=mode) for e in events]
    marker = TicketAnonymised(ticket_id=events[0].ticket_id, at=now, by=by, reason=reason)
    history = (*rewritten, marker)
    return AnonymisationPlan(
        ticket_id=events[0].ticket_id,
        expected_version=len(events),
        events=history,
        snapshot=replay(history),
    )
