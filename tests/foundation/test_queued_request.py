"""The assignment a queued ticket waits for: recorded on ``QueuedForAssignment``, folded
onto the ticket, cleared by an assignment, and read back from what older versions stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    SYSTEM,
    Actor,
    Assigned,
    QueuedForAssignment,
    Ticket,
    TicketOpened,
    apply_event,
    replay,
)
from helpdesk_core.storage.codecs import decode_event, decode_ticket, encode_event, encode_ticket

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
OPENED = TicketOpened(
    ticket_id="T-1", at=AT, by=Actor.requester("r1"), number=1, requester="r1", subject="VPN"
)


def _queued(**changes: object) -> QueuedForAssignment:
    values: dict[str, object] = {
        "ticket_id": "T-1", "at": AT + timedelta(minutes=1), "by": SYSTEM, "team": "desk",
    }  # fmt: skip
    values.update(changes)
    return QueuedForAssignment(**values)  # type: ignore[arg-type]


def test_the_queue_event_records_the_assignment_asked_for() -> None:
    event = _queued(strategy="skills_based", skills=["vpn", "mac", "vpn"])
    assert event.skills == ("mac", "vpn")
    assert _queued().strategy is None and _queued().skills == ()
    with pytest.raises(ValidationError):
        _queued(skills=["vpn", " "])
    with pytest.raises(ValidationError):
        _queued(strategy="")


def test_a_ticket_waits_for_what_its_queue_event_asked_until_it_is_assigned() -> None:
    queued = replay([OPENED, _queued(strategy="skills_based", skills=["vpn"])])
    assert queued.queued_at == AT + timedelta(minutes=1)
    assert (queued.queued_strategy, queued.queued_skills) == ("skills_based", ("vpn",))
    unassigned = apply_event(
        queued, Assigned(ticket_id="T-1", at=AT + timedelta(minutes=2), by=SYSTEM)
    )
    assert unassigned.queued_skills == ("vpn",)  # nobody was assigned: it still waits
    assigned = apply_event(
        queued,
        Assigned(ticket_id="T-1", at=AT + timedelta(minutes=2), by=SYSTEM, assignee="ann"),
    )
    assert (assigned.queued_at, assigned.queued_strategy, assigned.queued_skills) == (
        None,
        None,
        (),
    )
    requeued = apply_event(assigned, _queued(at=AT + timedelta(minutes=3)))
    assert (requeued.queued_strategy, requeued.queued_skills) == (None, ())


def test_the_ticket_fields_are_checked_when_built() -> None:
    ticket = Ticket(
        id="T-1", number=1, requester="r", subject="s", created_at=AT, updated_at=AT,
        queued_strategy="least_loaded", queued_skills={"vpn", "mac"},
    )  # fmt: skip
    assert ticket.queued_skills == ("mac", "vpn")
    with pytest.raises(ValidationError):
        Ticket(
            id="T-1", number=1, requester="r", subject="s", created_at=AT, updated_at=AT,
            queued_skills=[""],
        )  # fmt: skip


def test_a_snapshot_stored_before_the_queued_request_existed_decodes_without_one() -> None:
    ticket = replay([OPENED, _queued()])
    data = json.loads(encode_ticket(ticket))
    assert data.pop("queued_strategy") is None
    assert data.pop("queued_skills") == []
    assert decode_ticket(json.dumps(data)) == ticket
    waiting = replay([OPENED, _queued(strategy="skills_based", skills=["vpn"])])
    assert decode_ticket(encode_ticket(waiting)) == waiting


def test_a_queue_event_stored_before_the_request_existed_decodes_without_one() -> None:
    data = json.loads(encode_event(_queued(strategy="round_robin", skills=["vpn"])))
    assert data.pop("strategy") == "round_robin" and data.pop("skills") == ["vpn"]
    old = decode_event(json.dumps(data))
    assert old == _queued()
    event = _queued(strategy="round_robin", skills=["vpn"])
    assert decode_event(encode_event(event)) == event
