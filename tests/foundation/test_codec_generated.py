"""The generated unstructure functions give exactly what cattrs' own hooks give."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from typing import Any

import attrs
import pytest
from cattrs.gen import make_dict_unstructure_fn
from hypothesis import given

from helpdesk_core._unstructure import make_unstructure_fn
from helpdesk_core.codec import converter, event_to_dict, ticket_to_dict
from helpdesk_core.model import Ticket, apply_event
from helpdesk_core.model.events import EVENT_TYPES
from helpdesk_core.simulation import Scenario, simulate
from helpdesk_core.storage.codecs import dumps, encode_event, encode_tags, encode_ticket
from helpdesk_core.testing.strategies import opened_events, tickets

# cattrs' own generated hooks, built on a copy of the converter so the library's
# registrations (enums as values, datetimes as text, Actor) still apply to nested values.
_reference = converter.copy()
_REF_TICKET = make_dict_unstructure_fn(Ticket, _reference)
_REF_EVENTS = {cls: make_dict_unstructure_fn(cls, _reference) for cls in EVENT_TYPES.values()}


def _ref_event(event: Any) -> dict[str, Any]:
    return {"event": type(event).__name__, **_REF_EVENTS[type(event)](event)}


@pytest.fixture(scope="module")
def simulated() -> tuple[list[Any], list[Ticket]]:
    path = resources.files("helpdesk_core") / "data" / "it_desk_scenario.toml"
    scenario = attrs.evolve(Scenario.from_toml(str(path)), days=3, warmup_days=0)
    result = simulate(scenario, seed=7)
    tickets_by_id: dict[str, Ticket] = {}
    snapshots: list[Ticket] = []
    for event in result.events:
        current = tickets_by_id.get(event.ticket_id)
        if current is None:
            from helpdesk_core.model import replay

            current = replay([event])
        else:
            current = apply_event(current, event)
        tickets_by_id[event.ticket_id] = current
        snapshots.append(current)
    return list(result.events), snapshots


def test_every_simulated_event_and_snapshot_unstructures_as_cattrs_does(simulated) -> None:  # type: ignore[no-untyped-def]
    events, snapshots = simulated
    assert len({type(e) for e in events}) >= 10  # a broad mix of event types
    for event in events:
        assert event_to_dict(event) == _ref_event(event)
    for snapshot in snapshots:
        assert ticket_to_dict(snapshot) == _REF_TICKET(snapshot)


@given(tickets())
def test_generated_tickets_unstructure_as_cattrs_does(ticket) -> None:  # type: ignore[no-untyped-def]
    assert ticket_to_dict(ticket) == _REF_TICKET(ticket)


@given(opened_events())
def test_generated_events_unstructure_as_cattrs_does(event) -> None:  # type: ignore[no-untyped-def]
    assert event_to_dict(event) == _ref_event(event)


def test_unknown_types_fall_back_to_the_converter() -> None:

    @attrs.frozen
    class Odd:
        value: complex
        items: frozenset[str]

    seen: list[Any] = []

    def fallback(value: Any, tp: Any) -> Any:
        seen.append(tp)
        return repr(value)

    fn = make_unstructure_fn(Odd, fallback)
    assert fn(Odd(1j, frozenset({"b"}))) == {"value": "1j", "items": "frozenset({'b'})"}
    assert seen == [complex, frozenset[str]]


@given(tickets())
def test_tickets_with_a_known_error_unstructure_as_cattrs_does(ticket) -> None:  # type: ignore[no-untyped-def]
    from helpdesk_core.model import KnownError

    record = KnownError(
        status="known_error",
        symptom="VPN drops",
        workaround="reconnect",
        recorded_at=ticket.created_at,
        updated_at=ticket.created_at,
    )
    with_record = attrs.evolve(ticket, known_error=record)
    data = ticket_to_dict(with_record)
    assert data == _REF_TICKET(with_record)
    assert data["known_error"]["status"] == "known_error"


def test_the_base_event_class_is_refused_and_leaves_the_codec_intact() -> None:
    from datetime import UTC, datetime

    from helpdesk_core.codec import event_from_dict
    from helpdesk_core.errors import ValidationError
    from helpdesk_core.model import Actor, Event, TicketOpened

    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with pytest.raises(ValidationError, match="base class"):
        event_to_dict(Event(ticket_id="T-1", at=at, by=Actor.system("x")))
    opened = TicketOpened(
        ticket_id="T-1", at=at, by=Actor.requester("r"), number=1, requester="r", subject="s"
    )
    assert event_from_dict(event_to_dict(opened)) == opened


# --- JSON text written straight from the fields ------------------------------------------


def test_every_simulated_event_and_snapshot_encodes_as_its_plain_data_dumped(simulated) -> None:  # type: ignore[no-untyped-def]
    events, snapshots = simulated
    for event in events:
        assert encode_event(event) == dumps(event_to_dict(event))
    for snapshot in snapshots:
        assert encode_ticket(snapshot) == dumps(ticket_to_dict(snapshot))


@given(tickets())
def test_generated_tickets_encode_as_their_plain_data_dumped(ticket) -> None:  # type: ignore[no-untyped-def]
    assert encode_ticket(ticket) == dumps(ticket_to_dict(ticket))


@given(opened_events())
def test_generated_events_encode_as_their_plain_data_dumped(event) -> None:  # type: ignore[no-untyped-def]
    assert encode_event(event) == dumps(event_to_dict(event))


def test_unusual_values_encode_as_the_converter_and_encoder_say() -> None:
    from datetime import timedelta, timezone

    from helpdesk_core.model import Actor, TicketOpened, replay

    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    fields = {"ratio": 0.25, "big": 10**30, "flag": True, "none": None, "text": 'a"\x00é'}
    opened = TicketOpened(
        ticket_id="T-1",
        at=at,
        by=Actor.requester("r"),
        number=1,
        requester="r",
        subject="s",
        fields=fields,
    )
    ticket = replay([opened])
    for value in (opened, ticket):
        text = encode_event(value) if value is opened else encode_ticket(value)  # type: ignore[arg-type]
        plain = event_to_dict(value) if value is opened else ticket_to_dict(value)  # type: ignore[arg-type]
        assert text == dumps(plain)
    # instants are normalised to UTC by the model; the remembered text of a UTC instant is
    # never given for an equal instant in another zone
    from helpdesk_core._unstructure import _instant

    berlin = at.astimezone(timezone(timedelta(hours=1)))
    assert _instant(at) == '"2026-03-02T09:00:00+00:00"'
    assert berlin == at and _instant(berlin) == '"2026-03-02T10:00:00+01:00"'


@given(tickets())
def test_tags_encode_as_dumped(ticket) -> None:  # type: ignore[no-untyped-def]
    assert encode_tags(ticket.tags) == dumps(ticket.tags)
    assert encode_tags(('a"b', "\x00", "é", "💥")) == dumps(['a"b', "\x00", "é", "💥"])
    assert encode_tags(()) == "[]"
    # what is not a tuple of text is the encoder's to judge
    assert encode_tags("ab") == dumps("ab")  # type: ignore[arg-type]
    assert encode_tags(["a", 1]) == dumps(["a", 1])  # type: ignore[arg-type]


def test_generated_json_matches_the_encoder_on_odd_values() -> None:
    from helpdesk_core._unstructure import make_json_fn, make_unstructure_fn

    class Odd(datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            return 'quote"d'

    @attrs.frozen
    class Box:
        at: datetime
        values: Mapping[str, str | int | None]
        flag: bool
        count: int

    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    fallback = converter.unstructure
    to_json = make_json_fn(Box, lambda v, tp: fallback(v, tp), encoder.encode)
    plain = make_unstructure_fn(Box, lambda v, tp: fallback(v, tp))

    class Count(int):
        def __repr__(self) -> str:
            return "Count()"

    odd = Odd(2026, 3, 2, tzinfo=UTC)
    utc = datetime(2026, 3, 2, tzinfo=UTC)
    # after the UTC instant's text is remembered, an equal instant in another zone (and
    # an int subclass in an int field) still gets its own text
    berlin = utc.astimezone(timezone(timedelta(hours=1)))
    for box in (
        Box(at=odd, values={}, flag=True, count=3),
        Box(at=utc, values={"a": None, "b": 2}, flag=False, count=0),
        Box(at=odd, values={"x": "y\x00"}, flag=1, count=True),  # type: ignore[arg-type]
        Box(at=berlin, values={}, flag=False, count=10**30),
        Box(at=utc, values={}, flag=False, count=Count(7)),
    ):
        assert to_json(box) == encoder.encode(plain(box))
    assert '"2026-03-02T01:00:00+01:00"' in to_json(Box(at=berlin, values={}, flag=False, count=0))
