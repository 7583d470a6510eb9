"""Every model value round-trips through the one converter, including through JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core.codec import (
    event_from_dict,
    event_to_dict,
    structure,
    ticket_from_dict,
    ticket_to_dict,
    unstructure,
)
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Agent, Requester, Team, Tier
from helpdesk_core.testing.strategies import (
    agents,
    opened_events,
    requesters,
    teams,
    tickets,
    tiers,
)


def _json(value: object) -> object:
    return json.loads(json.dumps(value))


@given(tickets())
def test_tickets_round_trip(ticket) -> None:  # type: ignore[no-untyped-def]
    assert ticket_from_dict(_json(ticket_to_dict(ticket))) == ticket  # type: ignore[arg-type]


@given(opened_events())
def test_events_round_trip(event) -> None:  # type: ignore[no-untyped-def]
    data = _json(event_to_dict(event))
    assert data["event"] == "TicketOpened"  # type: ignore[index]
    assert event_from_dict(data) == event  # type: ignore[arg-type]


@given(st.one_of(requesters(), agents(), teams(), tiers()))
def test_people_round_trip(value) -> None:  # type: ignore[no-untyped-def]
    assert structure(_json(unstructure(value)), type(value)) == value


def test_structure_errors_name_the_path() -> None:
    with pytest.raises(ValidationError) as info:
        structure({"id": "a1", "capacity": -3}, Agent, path="agents[2]")
    assert "agents[2]" in str(info.value) and "capacity" in str(info.value)
    with pytest.raises(ValidationError, match="unknown key"):
        structure({"id": "t", "colour": "red"}, Team)
    with pytest.raises(ValidationError, match="email"):
        structure({"id": "r1", "email": "nope"}, Requester)
    with pytest.raises(ValidationError, match="id"):
        structure({"name": "L1"}, Tier)


def test_naive_datetimes_refused_by_the_codec() -> None:
    data = {
        "event": "Rated",
        "ticket_id": "T-1",
        "at": "2026-01-01T10:00:00",
        "by": {"kind": "requester", "id": "r1"},
        "score": 4,
    }
    with pytest.raises(ValidationError, match="naive"):
        event_from_dict(data)
    data["at"] = datetime(2026, 1, 1, 10, tzinfo=UTC).isoformat()
    assert event_from_dict(data).at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    with pytest.raises(ValidationError, match="unknown event type"):
        event_from_dict({**data, "event": "Exploded"})


@pytest.mark.parametrize("kind", ["TicketRouted", "TicketUpdated"])
def test_changes_with_custom_fields_round_trip(kind: str) -> None:
    from helpdesk_core.model import Actor
    from helpdesk_core.model.events import EVENT_TYPES, Changes
    from helpdesk_core.storage.codecs import decode_event, encode_event

    fields = {"text": "é", "count": 10**30, "ratio": 0.5, "whole": 1.0, "flag": True, "none": None}
    event = EVENT_TYPES[kind](
        ticket_id="T-1",
        at=datetime(2026, 1, 1, 10, tzinfo=UTC),
        by=Actor.agent("a1"),
        changes=Changes(team="l1", fields=fields),
    )
    back = event_from_dict(_json(event_to_dict(event)))  # type: ignore[arg-type]
    assert back == event
    assert [type(x) for x in back.changes.fields.values()] == [type(x) for x in fields.values()]  # type: ignore[attr-defined, union-attr]
    # a stored row the fast path does not read (written without a key) takes the
    # validating path, which reads the fields too
    data = event_to_dict(event)
    del data["changes"]["sla_policy"]
    assert decode_event(json.dumps(data)) == event
    assert decode_event(encode_event(event)) == event
    with pytest.raises(ValidationError, match=r"changes\.fields"):
        event_from_dict({**event_to_dict(event), "changes": {"fields": {"x": [1]}}})


def test_a_short_span_in_tier_inactive_is_named_by_its_index() -> None:
    data = ticket_to_dict(ticket_from_dict(_BASE_TICKET))
    data["tier_inactive"] = [["2026-01-01T00:00:00+00:00"]]
    with pytest.raises(ValidationError) as info:
        ticket_from_dict(data)
    assert info.value.field == "$.tier_inactive[0]"
    assert "built-in" not in str(info.value)


_BASE_TICKET = {
    "id": "T-1",
    "number": 1,
    "requester": "r1",
    "subject": "s",
    "created_at": "2026-01-01T00:00:00+00:00",
    "updated_at": "2026-01-01T00:00:00+00:00",
}


@pytest.mark.parametrize(
    ("kind", "key"),
    [("TicketOpened", "history"), ("TicketOpened", "missing_fields"), ("TicketRouted", "rules")],
)
def test_a_lone_surrogate_in_a_list_of_text_is_refused(kind: str, key: str) -> None:
    data = {
        "event": kind,
        "ticket_id": "T-1",
        "at": "2026-01-01T10:00:00+00:00",
        "by": {"kind": "requester", "id": "r1"},
        **({"number": 1, "requester": "r1", "subject": "s"} if kind == "TicketOpened" else {}),
        **({"changes": {}} if kind == "TicketRouted" else {}),
        key: ["fine", "half \ud83d"],
    }
    with pytest.raises(ValidationError, match="surrogate") as info:
        event_from_dict(data)
    assert info.value.field == f"$.{key}"
    with pytest.raises(ValidationError, match="surrogate"):
        ticket_from_dict({**_BASE_TICKET, "fired_triggers": ["half \ud83d"]})
    assert event_from_dict({**data, key: ["é", "💥"]}) is not None


@pytest.mark.parametrize("at", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_an_instant_outside_the_utc_range_is_refused_naming_the_field(at: str) -> None:
    from datetime import timezone

    from helpdesk_core.model import Actor
    from helpdesk_core.model.events import Rated

    data = {
        "event": "Rated",
        "ticket_id": "T-1",
        "at": at,
        "by": {"kind": "requester", "id": "r1"},
        "score": 4,
    }
    with pytest.raises(ValidationError, match="out of range") as info:
        event_from_dict(data)
    assert info.value.field == "$.at"
    with pytest.raises(ValidationError, match="out of range"):
        Rated(ticket_id="T-1", at=datetime.fromisoformat(at), by=Actor.requester("r1"), score=4)
    # the earliest and latest instants there are in UTC are kept, in any zone
    edge = datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert event_from_dict({**data, "at": edge.isoformat()}).at == edge


@pytest.mark.parametrize(
    ("clock", "path"),
    [
        (5, "$.sla.first_response"),
        ({}, "$.sla.first_response.metric"),
        ({"metric": "first_response"}, "$.sla.first_response.policy"),
    ],
)
def test_a_bad_sla_clock_is_named_by_its_key(clock: object, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        ticket_from_dict({**_BASE_TICKET, "sla": {"first_response": clock}})
    assert info.value.field == path


def test_the_event_base_class_cannot_be_registered_as_an_event_type() -> None:
    # Its hooks would shadow the tagged decoding of every event.
    from helpdesk_core.model.events import EVENT_TYPES, Event, register_event_type

    try:
        with pytest.raises(ValidationError, match="base class") as info:
            register_event_type(Event)
        assert info.value.field == "cls"
        assert "Event" not in EVENT_TYPES
    finally:
        EVENT_TYPES.pop("Event", None)
