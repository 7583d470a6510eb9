"""The generated copiers give what attrs.evolve gives, through the twin class or not."""

from __future__ import annotations

import weakref
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given

from helpdesk_core.model import (
    Actor,
    Event,
    SlaClock,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketOpened,
)
from helpdesk_core.model._copy import _twin, copier
from helpdesk_core.testing.strategies import tickets


def test_ticket_and_clock_copies_use_a_twin() -> None:
    assert _twin(Ticket) is not None
    assert _twin(SlaClock) is not None


@given(tickets())
def test_ticket_copies_equal_evolve(ticket: Ticket) -> None:
    changes = {"status": "elsewhere", "version": ticket.version + 1}
    copy = copier(Ticket, tuple(changes))(ticket, dict(changes))
    assert type(copy) is Ticket
    assert copy == attrs.evolve(ticket, **changes)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        copy.status = "x"  # type: ignore[misc]


def test_event_copies_use_a_twin_on_the_same_base_and_stay_frozen_events() -> None:
    twin = _twin(TicketOpened)
    assert twin is not None and twin.__bases__ == (Event,)
    opened = TicketOpened(
        ticket_id="T-1",
        at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        by=Actor.requester("r-1"),
        number=1,
        requester="r-1",
        subject="printer",
        tags=("a",),
    )
    changes = {"lifecycle": "other", "status": "fresh", "status_category": StatusCategory.OPEN}
    copy = copier(TicketOpened, tuple(changes))(opened, dict(changes))
    assert type(copy) is TicketOpened
    assert copy == attrs.evolve(opened, **changes)
    assert hash(copy) == hash(attrs.evolve(opened, **changes))
    assert weakref.ref(copy)() is copy
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        copy.status = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del copy.status  # type: ignore[misc]


def test_status_changed_made_without_validators_is_a_frozen_status_changed() -> None:
    from helpdesk_core.workflow._fastpath import make_status_changed

    assert _twin(StatusChanged) is not None
    fields = {
        "ticket_id": "T-1",
        "at": datetime(2026, 3, 2, 9, tzinfo=UTC),
        "by": Actor.agent("a-1"),
        "transition": "solve",
        "from_status": "open",
        "to_status": "solved",
        "category": "solved",
        "resolution": "done",
    }
    made = make_status_changed(**fields)
    assert type(made) is StatusChanged
    assert made == StatusChanged(**fields)  # type: ignore[arg-type]
    assert made.category is StatusCategory.SOLVED and made.automatic is False
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.reason = "x"  # type: ignore[misc]


@attrs.frozen
class _WithWeakref:
    a: int
    b: str = "b"


def test_classes_without_a_twin_are_copied_through_their_slots() -> None:
    assert _twin(_WithWeakref) is None  # a weakref slot rules the twin out
    copy = copier(_WithWeakref, ("a",))(_WithWeakref(1), {"a": 2})
    assert copy == _WithWeakref(2)


def test_unknown_fields_are_refused() -> None:
    from helpdesk_core.errors import ValidationError

    with pytest.raises(ValidationError):
        copier(Ticket, ("no_such_field",))
