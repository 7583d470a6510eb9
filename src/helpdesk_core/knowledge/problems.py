"""Problem management: known-error records on problem tickets, and what solving a problem
does to the incidents it caused (pure).

A problem ticket (type ``problem`` by default) carries one :class:`~helpdesk_core.model.
KnownError` record: the symptom users see, a workaround, the root cause and a status
(``investigating`` → ``known_error`` → ``resolved``; reopening the problem brings back
the status its solve resolved). It is made by a
:class:`KnownErrorRecorded` event and changed by :class:`KnownErrorUpdated` events; both are
folded into ``Ticket.known_error``. Incidents name their problem with a ``caused_by`` link.
When the problem is solved, each active incident linked to it records a
:class:`LinkedProblemSolved` event saying whether it was solved with the problem or only
notified (and why it could not be solved).

The functions here decide; :class:`~helpdesk_core.Helpdesk` loads, saves and publishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar, Final

from attrs import field, frozen

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import InvalidTransition, ValidationError
from helpdesk_core.model import (
    Actor,
    Event,
    KnownError,
    KnownErrorStatus,
    LinkKind,
    StatusCategory,
    Ticket,
    register_event_type,
    register_fold,
)
from helpdesk_core.model import _validate as v
from helpdesk_core.model.known_error import to_known_error_status
from helpdesk_core.workflow import Lifecycle, shortcut_move
from helpdesk_core.workflow.lifecycle import Transition

__all__ = [
    "KNOWLEDGE_ACTOR",
    "MAX_KNOWN_ERROR_TEXT",
    "OUTCOMES",
    "KnownErrorEntry",
    "KnownErrorRecorded",
    "KnownErrorUpdated",
    "LinkedProblemSolved",
    "caused_by",
    "known_error_entries",
    "record_known_error",
    "reopen_known_error",
    "resolve_known_error",
    "solving_transition",
    "update_known_error",
]

#: Who the events of problem → incident propagation are recorded as.
KNOWLEDGE_ACTOR: Final = Actor.system("knowledge")
#: Longest symptom, workaround or root cause accepted, in characters.
MAX_KNOWN_ERROR_TEXT: Final = 100_000
#: What happened to an incident when its problem was solved.
OUTCOMES: Final = ("solved", "notified")
#: Fields of the known-error events that people type (rewritten when a ticket is
#: anonymised, like comment bodies).
_FREE_TEXT: Final = ("symptom", "workaround", "root_cause")


def _to_optional_status(value: Any) -> KnownErrorStatus | None:
    return None if value is None else to_known_error_status(value)


# ---------------------------------------------------------------------------- events


@frozen(kw_only=True)
class KnownErrorRecorded(Event):
    """A problem ticket got its known-error record."""

    #: Fields holding text people typed (anonymised with the ticket).
    free_text: ClassVar[tuple[str, ...]] = _FREE_TEXT
    #: The known error stays with the agents.
    agents_only: ClassVar[bool] = True

    status: KnownErrorStatus = field(converter=to_known_error_status)
    symptom: str = field(validator=v.text)
    workaround: str = field(default="", validator=v.text)
    root_cause: str = field(default="", validator=v.text)


@frozen(kw_only=True)
class KnownErrorUpdated(Event):
    """The known-error record of a problem ticket changed; None means unchanged."""

    #: Fields holding text people typed (anonymised with the ticket).
    free_text: ClassVar[tuple[str, ...]] = _FREE_TEXT
    #: The known error stays with the agents.
    agents_only: ClassVar[bool] = True

    status: KnownErrorStatus | None = field(default=None, converter=_to_optional_status)
    symptom: str | None = field(default=None, validator=v.optional_text)
    workaround: str | None = field(default=None, validator=v.optional_text)
    root_cause: str | None = field(default=None, validator=v.optional_text)


def _outcome(instance: Any, attribute: Any, value: Any) -> None:
    if value not in OUTCOMES:
        raise ValidationError(
            f"outcome is one of {', '.join(OUTCOMES)}, got {value!r}", field="outcome"
        )


@frozen(kw_only=True)
class LinkedProblemSolved(Event):
    """The problem this ticket is linked to (``caused_by``) was solved. ``outcome`` is
    ``solved`` when the ticket was solved with it (its own ``StatusChanged`` follows) or
    ``notified`` when it was only told; ``reason`` says why it could not be solved."""

    names_ticket: ClassVar[str | None] = "problem"

    problem: str = field(validator=v.identifier)
    outcome: str = field(validator=_outcome)
    reason: str = field(default="", validator=v.text)


for _event_type in (KnownErrorRecorded, KnownErrorUpdated, LinkedProblemSolved):
    register_event_type(_event_type)


# ---------------------------------------------------------------------------- folds


@register_fold(KnownErrorRecorded)
def _recorded(ticket: Ticket, event: KnownErrorRecorded) -> dict[str, Any]:
    return {
        "known_error": KnownError(
            status=event.status,
            symptom=event.symptom,
            workaround=event.workaround,
            root_cause=event.root_cause,
            recorded_at=event.at,
            updated_at=event.at,
        )
    }


@register_fold(KnownErrorUpdated)
def _updated(ticket: Ticket, event: KnownErrorUpdated) -> dict[str, Any]:
    old = ticket.known_error
    status = _pick(event.status, old.status if old else KnownErrorStatus.INVESTIGATING)
    return {
        "known_error": KnownError(
            status=status,
            symptom=_pick(event.symptom, old.symptom if old else ""),
            workaround=_pick(event.workaround, old.workaround if old else ""),
            root_cause=_pick(event.root_cause, old.root_cause if old else ""),
            recorded_at=old.recorded_at if old else event.at,
            updated_at=event.at,
            resolved_from=_resolved_from(ticket, old, status),
        )
    }


def _resolved_from(
    ticket: Ticket, old: KnownError | None, status: KnownErrorStatus
) -> KnownErrorStatus | None:
    """What the record's ``resolved_from`` becomes at an update to ``status``: kept while
    the status stays; the live status it left when the problem's solve resolves it (the
    solve's move into the solved category is folded first); None otherwise."""
    if old is None or status.is_active:
        return None
    if status is old.status:
        return old.resolved_from
    if ticket.status_category is StatusCategory.SOLVED:
        return old.status
    return None


@register_fold(LinkedProblemSolved)
def _linked_problem_solved(ticket: Ticket, event: LinkedProblemSolved) -> dict[str, Any]:
    return {}


def _pick(new: Any, old: Any) -> Any:
    return old if new is None else new


# ---------------------------------------------------------------------------- decisions


def _text(value: Any, name: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"expected text, got {type(value).__name__}", field=name)
    if required and not value.strip():
        raise ValidationError("must not be empty", field=name)
    if len(value) > MAX_KNOWN_ERROR_TEXT:
        raise ValidationError(
            f"{len(value)} characters long; at most {MAX_KNOWN_ERROR_TEXT}", field=name
        )
    return value


def _check_documented(status: KnownErrorStatus, workaround: str, root_cause: str) -> None:
    if status is KnownErrorStatus.KNOWN_ERROR and not (workaround.strip() or root_cause.strip()):
        raise ValidationError(
            "a known error documents its root cause or a workaround: give one of them",
            field="status",
        )


def _check_ticket(ticket: object, name: str = "ticket") -> Ticket:
    return v.require(ticket, Ticket, "a Ticket", field=name)


def _check_tickets(tickets: object) -> list[Ticket]:
    """``tickets`` as a list, each checked (an iterator is read once)."""
    items = v.as_tuple(tickets, field="tickets", what="a list of tickets")
    return [_check_ticket(t, f"tickets[{i}]") for i, t in enumerate(items)]


def _check_stamp(by: object, now: object) -> datetime:
    """Who decides and when, checked before anything is decided (also when nothing is)."""
    v.require(by, Actor, "an Actor", field="by")
    return ensure_aware(now, field="now")


def _check_problem(ticket: Ticket, problem_type: str) -> None:
    _check_ticket(ticket)
    if not isinstance(problem_type, str) or not problem_type:
        raise ValidationError(f"expected a ticket type, got {problem_type!r}", field="problem_type")
    if ticket.type != problem_type:
        raise ValidationError(
            f"ticket {ticket.id} is of type {ticket.type!r}: known errors are recorded on "
            f"{problem_type!r} tickets",
            field="ticket_id",
        )


def record_known_error(
    ticket: Ticket,
    *,
    symptom: str,
    workaround: str = "",
    root_cause: str = "",
    status: KnownErrorStatus | str = KnownErrorStatus.INVESTIGATING,
    by: Actor,
    now: datetime,
    problem_type: str = "problem",
) -> KnownErrorRecorded:
    """The event that gives the problem ticket its known-error record. The ticket must be
    of ``problem_type`` and have no record yet; the symptom is required; the status
    ``known_error`` needs a workaround or a root cause."""
    _check_problem(ticket, problem_type)
    now = _check_stamp(by, now)
    if ticket.known_error is not None:
        raise ValidationError(
            f"ticket {ticket.id} has a known-error record already: update it instead",
            field="ticket_id",
        )
    parsed = to_known_error_status(status)
    _check_settled(ticket, parsed)
    symptom = _text(symptom, "symptom", required=True)
    workaround = _text(workaround, "workaround")
    root_cause = _text(root_cause, "root_cause")
    _check_documented(parsed, workaround, root_cause)
    return KnownErrorRecorded(
        ticket_id=ticket.id,
        at=now,
        by=by,
        status=parsed,
        symptom=symptom,
        workaround=workaround,
        root_cause=root_cause,
    )


def update_known_error(
    ticket: Ticket,
    *,
    by: Actor,
    now: datetime,
    symptom: str | None = None,
    workaround: str | None = None,
    root_cause: str | None = None,
    status: KnownErrorStatus | str | None = None,
) -> KnownErrorUpdated | None:
    """The event that changes the ticket's known-error record (only the fields that
    differ), or None when nothing changes. The record must exist."""
    old = _check_ticket(ticket).known_error
    now = _check_stamp(by, now)
    if old is None:
        raise ValidationError(
            f"ticket {ticket.id} has no known-error record: record one first",
            field="ticket_id",
        )
    parsed = None if status is None else to_known_error_status(status)
    texts: dict[str, str | None] = {
        "symptom": None if symptom is None else _text(symptom, "symptom", required=True),
        "workaround": None if workaround is None else _text(workaround, "workaround"),
        "root_cause": None if root_cause is None else _text(root_cause, "root_cause"),
    }
    changes = {
        name: value
        for name, value in texts.items()
        if value is not None and value != getattr(old, name)
    }
    changed_status = parsed if parsed is not None and parsed is not old.status else None
    final_status = changed_status or old.status
    if changed_status is not None:
        _check_settled(ticket, final_status)
    _check_documented(
        final_status,
        _pick(texts["workaround"], old.workaround),
        _pick(texts["root_cause"], old.root_cause),
    )
    if not changes and changed_status is None:
        return None
    return KnownErrorUpdated(
        ticket_id=ticket.id,
        at=now,
        by=by,
        status=changed_status,
        symptom=changes.get("symptom"),
        workaround=changes.get("workaround"),
        root_cause=changes.get("root_cause"),
    )


def _check_settled(ticket: Ticket, status: KnownErrorStatus) -> None:
    """A solved or closed problem's known error is resolved: nothing would ever resolve an
    active one (solving the problem does that)."""
    if status.is_active and not ticket.is_active:
        raise ValidationError(
            f"problem ticket {ticket.id} is {ticket.status}: its known error can only be "
            f"{KnownErrorStatus.RESOLVED.value} (reopen the problem to work on it again)",
            field="status",
        )


def resolve_known_error(ticket: Ticket, *, by: Actor, now: datetime) -> KnownErrorUpdated | None:
    """When a problem ticket is solved its active known error is resolved with it: the
    event that records it, or None (no record, or resolved already)."""
    record = _check_ticket(ticket).known_error
    now = _check_stamp(by, now)
    if record is None or not record.is_active:
        return None
    return KnownErrorUpdated(ticket_id=ticket.id, at=now, by=by, status=KnownErrorStatus.RESOLVED)


def reopen_known_error(ticket: Ticket, *, by: Actor, now: datetime) -> KnownErrorUpdated | None:
    """When a problem ticket is reopened the known error its solve resolved is live
    again, in the status it had before (``KnownError.resolved_from``): the event that
    records it, or None (no record, a live one, one resolved otherwise, or a ticket that
    is not active). A record whose root cause and workaround were emptied since comes
    back ``investigating``: ``known_error`` needs one of them."""
    record = _check_ticket(ticket).known_error
    now = _check_stamp(by, now)
    if record is None or record.resolved_from is None or not ticket.is_active:
        return None
    status = record.resolved_from
    if status is KnownErrorStatus.KNOWN_ERROR and not (
        record.workaround.strip() or record.root_cause.strip()
    ):
        status = KnownErrorStatus.INVESTIGATING
    return KnownErrorUpdated(ticket_id=ticket.id, at=now, by=by, status=status)


def solving_transition(lifecycle: Lifecycle, ticket: Ticket) -> Transition:
    """The transition that solves ``ticket`` from its current status, as the desk's
    ``solve`` takes it (:func:`~helpdesk_core.workflow.shortcut_move`): the one named
    ``solve``, else the one move from an active status into a solved one.
    InvalidTransition when it does not lead to a solved status, when there is none, or
    when several moves solve and none is named ``solve`` (guards are not evaluated
    here)."""
    v.require(lifecycle, Lifecycle, "a Lifecycle", field="lifecycle")
    _check_ticket(ticket)
    if ticket.lifecycle == lifecycle.name and lifecycle.has_status(ticket.status):
        step = lifecycle.step(ticket.status, shortcut_move(lifecycle, ticket, "solve"))
        if step is not None and step.category is StatusCategory.SOLVED:
            return step.transition
    raise InvalidTransition(
        f"ticket {ticket.id} in status {ticket.status!r}: no transition leads to a solved status",
        ticket_id=ticket.id,
        status=ticket.status,
        transition="solve",
    )


def caused_by(tickets: Iterable[Ticket], problem_id: str) -> list[Ticket]:
    """The tickets among ``tickets`` linked ``caused_by`` to the problem, by number."""
    if not isinstance(problem_id, str) or not problem_id:
        raise ValidationError(f"expected a problem id, got {problem_id!r}", field="problem_id")
    found = [t for t in _check_tickets(tickets) if problem_id in t.linked(LinkKind.CAUSED_BY)]
    found.sort(key=lambda t: (t.number, t.id))
    return found


# ---------------------------------------------------------------------------- the view


@frozen(kw_only=True)
class KnownErrorEntry:
    """One row of the known-error view: the problem ticket (``problem``, its ``number``
    and ``subject``), its record, and how many active tickets it is known to cause."""

    problem: str
    number: int
    subject: str
    record: KnownError
    incidents: int = 0

    @property
    def status(self) -> KnownErrorStatus:
        """The record's status."""
        return self.record.status

    @property
    def workaround(self) -> str:
        """The documented workaround ("" when none yet)."""
        return self.record.workaround


def known_error_entries(
    tickets: Iterable[Ticket], *, include_resolved: bool = False
) -> list[KnownErrorEntry]:
    """The known errors among ``tickets`` (active ones unless ``include_resolved``), by
    problem number, each with the number of the given tickets that are active and linked
    ``caused_by`` to its problem."""
    items = _check_tickets(tickets)
    if not isinstance(include_resolved, bool):
        raise ValidationError(
            f"include_resolved is true or false, got {include_resolved!r}", field="include_resolved"
        )
    counts: dict[str, int] = {}
    for ticket in items:
        if ticket.is_active:
            for problem in ticket.linked(LinkKind.CAUSED_BY):
                counts[problem] = counts.get(problem, 0) + 1
    entries = [
        KnownErrorEntry(
            problem=t.id,
            number=t.number,
            subject=t.subject,
            record=t.known_error,
            incidents=counts.get(t.id, 0),
        )
        for t in items
        if t.known_error is not None and (include_resolved or t.known_error.is_active)
    ]
    entries.sort(key=lambda e: (e.number, e.problem))
    return entries
