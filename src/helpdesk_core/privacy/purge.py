"""What a purge leaves on the tickets that link to the purged one (pure).

A purged ticket is gone from the store, but other tickets may still link to it
(``caused_by``, ``duplicate_of``, ``follow_up_of``). The retention pass that purges it
records a :class:`LinkedTicketPurged` event on each of them, in the same unit of work; its
fold drops their links to the purged ticket, so no link leads to a ticket that is not
there. The event keeps the purged ticket's id (an id, not personal data) so the history
says which link went and why.

The functions here decide; :class:`~helpdesk_core.Helpdesk` finds the tickets, saves and
publishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar, Final

from attrs import field, frozen

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Actor, Event, Ticket, register_event_type, register_fold
from helpdesk_core.model import _validate as v

__all__ = ["RETENTION_ACTOR", "LinkedTicketPurged", "links_to", "unlink_purged"]

#: Who retention records its events as.
RETENTION_ACTOR: Final = Actor.system("retention")


@register_event_type
@frozen(kw_only=True)
class LinkedTicketPurged(Event):
    """The ticket ``other``, which this ticket linked to, was purged: the links to it are
    dropped."""

    names_ticket: ClassVar[str | None] = "other"

    other: str = field(validator=v.identifier)


@register_fold(LinkedTicketPurged)
def _linked_ticket_purged(ticket: Ticket, event: LinkedTicketPurged) -> dict[str, Any]:
    # The event carries nothing personal: an anonymised ticket stays anonymised.
    return {
        "links": tuple(link for link in ticket.links if link.other != event.other),
        "anonymised": ticket.anonymised,
    }


def _ids(value: Any, name: str) -> frozenset[str]:
    """A collection of ticket ids (one id alone is refused: it would be read as its
    characters)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(f"{name} is a list of ticket ids", field=name)
    ids = frozenset(value)
    if not all(isinstance(i, str) and i for i in ids):
        raise ValidationError(f"{name} holds ticket ids (non-empty text)", field=name)
    return ids


def links_to(tickets: Iterable[Ticket], purged: Iterable[str]) -> dict[str, list[str]]:
    """For each of the ``purged`` ids that any of ``tickets`` links to: the ids of those
    tickets, in the order given."""
    targets = _ids(purged, "purged")
    if not isinstance(tickets, Iterable):
        raise ValidationError("tickets is a list of tickets", field="tickets")
    found: dict[str, list[str]] = {}
    for ticket in tickets:
        if not isinstance(ticket, Ticket):
            raise ValidationError(
                f"expected a Ticket, got {type(ticket).__name__}", field="tickets"
            )
        for other in dict.fromkeys(link.other for link in ticket.links):
            if other in targets:
                found.setdefault(other, []).append(ticket.id)
    return found


def unlink_purged(
    ticket: Ticket, purged: Iterable[str], *, now: datetime, by: Actor = RETENTION_ACTOR
) -> list[LinkedTicketPurged]:
    """The events that drop ``ticket``'s links to the ``purged`` tickets: one for each
    purged ticket it links to, in the order of its links ([] when it links to none)."""
    v.require(ticket, Ticket, "a Ticket", field="ticket")
    targets = _ids(purged, "purged")
    now = ensure_aware(now, field="now")
    v.require(by, Actor, "an Actor", field="by")
    others = dict.fromkeys(link.other for link in ticket.links if link.other in targets)
    return [LinkedTicketPurged(ticket_id=ticket.id, at=now, by=by, other=other) for other in others]
