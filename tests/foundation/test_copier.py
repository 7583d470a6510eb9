"""The generated copiers give what attrs.evolve gives, through the twin class or not."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given

from helpdesk_core.model import SlaClock, Ticket
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
