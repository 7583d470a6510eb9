"""A ``request_id`` used again for another request (``open`` with another subject,
description, type, category, priority, channel, tags, custom fields or asset; ``reply``
with another body, visibility or channel) is refused, naming the request id and the field
that differs, and nothing is stored; a retry with the same arguments returns the ticket."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from service_fixtures import BERLIN

from desk_stores import drop
from helpdesk_core import Helpdesk, ManualClock, MemoryStore, Requester, SqliteStore
from helpdesk_core.demo import example_config
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import CommentAdded, Event
from helpdesk_core.service.received import request_key
from helpdesk_core.storage import Store, TicketQuery

START = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
ADA = Requester(id="ada", email="ada@example.com")

#: The arguments of the first ``open`` of the tests, and another value for each.
OPENING: dict[str, Any] = {
    "subject": "VPN down",
    "description": "since this morning",
    "channel": "web",
    "category": "network",
    "type": "incident",
    "impact": "medium",
    "urgency": "medium",
    "priority": None,
    "tags": ("vpn",),
    "fields": {"location": "Berlin"},
    "asset": "LAP-1",
}
OTHER: dict[str, Any] = {
    "subject": "VPN down again",
    "description": "since yesterday",
    "channel": "phone",
    "category": "software",
    "type": "service_request",
    "impact": "high",
    "urgency": "low",
    "priority": "critical",
    "tags": ("vpn", "urgent"),
    "fields": {"location": "Paris"},
    "asset": "LAP-2",
}


def _memory(tmp_path: Path) -> Store:
    return MemoryStore()


def _sqlite(tmp_path: Path) -> Store:
    return SqliteStore(tmp_path / "desk.sqlite")


@pytest.fixture(params=[_memory, _sqlite], ids=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = request.param(tmp_path)
    yield made
    drop(made)


def _desk(store: Store) -> Helpdesk:
    return Helpdesk(example_config(), store, ManualClock(START))


def _recorded(desk: Helpdesk) -> list[Event]:
    return [e for t in desk.store.query(TicketQuery()).items for e in desk.history(t.id)]


def test_a_retry_with_the_same_arguments_returns_the_ticket(store: Store) -> None:
    desk = _desk(store)
    first = desk.open(requester=ADA, request_id="req-1", **OPENING)
    desk.clock.advance(minutes=5)  # type: ignore[attr-defined]
    desk.transition(first.id, "open", by="agent:lena")  # the ticket changed since
    # The values as the desk normalises them are the same request.
    again = desk.open(
        requester="ada",
        request_id="req-1",
        **{**OPENING, "tags": ["vpn", "vpn"], "impact": "Medium", "channel": "WEB"},
    )
    assert again.id == first.id
    assert store.query(TicketQuery()).total == 1


@pytest.mark.parametrize("name", sorted(OTHER))
def test_a_request_id_reused_for_another_opening_is_refused(store: Store, name: str) -> None:
    desk = _desk(store)
    desk.open(requester=ADA, request_id="req-1", **OPENING)
    events = _recorded(desk)
    number = store.allocate_number()
    with pytest.raises(ValidationError) as caught:
        desk.open(requester="ada", request_id="req-1", **{**OPENING, name: OTHER[name]})
    assert caught.value.field == name
    assert "'req-1'" in str(caught.value) and name in str(caught.value)
    assert _recorded(desk) == events
    assert store.allocate_number() == number + 1  # no number was taken either


def test_a_derived_priority_is_not_an_explicit_one(store: Store) -> None:
    desk = _desk(store)
    first = desk.open(requester=ADA, subject="VPN down", request_id="req-1")
    with pytest.raises(ValidationError) as caught:
        desk.open(requester="ada", subject="VPN down", priority=first.priority, request_id="req-1")
    assert caught.value.field == "priority"


def test_a_request_id_reused_for_another_reply_is_refused(store: Store) -> None:
    desk = _desk(store)
    ticket = desk.open(requester=ADA, subject="VPN down")
    desk.reply(ticket.id, author="agent:lena", body="Restart it", request_id="r-1")
    desk.reply(ticket.id, author="agent:lena", body="Anything else?", request_id="r-2")
    events = desk.history(ticket.id)
    for name, change in [
        ("body", {"body": "Anything else?"}),
        ("body", {"body": "Restart it now"}),
        ("public", {"public": False}),
        ("channel", {"channel": "email"}),
    ]:
        args: dict[str, Any] = {"body": "Restart it", "public": True, **change}
        with pytest.raises(ValidationError) as caught:
            desk.reply(ticket.id, author="agent:lena", request_id="r-1", **args)
        assert caught.value.field == name and "'r-1'" in str(caught.value)
        assert desk.history(ticket.id) == events
    again = desk.reply(ticket.id, author="agent:lena", body="Restart it", request_id="r-1")
    assert again.version == len(events)
    assert desk.history(ticket.id) == events


@settings(max_examples=25, deadline=None)
@given(changed=st.one_of(st.none(), st.sampled_from(sorted(OTHER))), sqlite=st.booleans())
def test_an_opening_retried_is_the_same_ticket_or_refused(
    changed: str | None, sqlite: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = _sqlite(Path(folder)) if sqlite else _memory(Path(folder))
        try:
            desk = _desk(store)
            first = desk.open(requester=ADA, request_id="req-1", **OPENING)
            events = _recorded(desk)
            if changed is None:
                again = desk.open(requester="ada", request_id="req-1", **OPENING)
                assert again.id == first.id
            else:
                with pytest.raises(ValidationError) as caught:
                    desk.open(
                        requester="ada", request_id="req-1", **{**OPENING, changed: OTHER[changed]}
                    )
                assert caught.value.field == changed
            assert _recorded(desk) == events
            assert store.query(TicketQuery()).total == 1
        finally:
            drop(store)


@settings(max_examples=25, deadline=None)
@given(
    body=st.sampled_from(["Restart it", "Restart it.", "Reboot"]),
    public=st.booleans(),
    channel=st.sampled_from([None, "email", "chat"]),
)
def test_a_reply_retried_is_the_same_or_refused(
    body: str, public: bool, channel: str | None
) -> None:
    desk = _desk(MemoryStore())
    ticket = desk.open(requester=ADA, subject="VPN down")
    desk.reply(ticket.id, author="agent:lena", body="Restart it", request_id="r-1")
    events = desk.history(ticket.id)
    same = (body, public, channel) == ("Restart it", True, None)
    if same:
        desk.reply(
            ticket.id,
            author="agent:lena",
            body=body,
            public=public,
            channel=channel,
            request_id="r-1",
        )
    else:
        with pytest.raises(ValidationError):
            desk.reply(
                ticket.id,
                author="agent:lena",
                body=body,
                public=public,
                channel=channel,
                request_id="r-1",
            )
    assert desk.history(ticket.id) == events
    assert sum(isinstance(e, CommentAdded) for e in events) == 1


def test_a_reply_recorded_without_its_comment_is_checked_against_the_authors() -> None:
    """A reply request recorded by an earlier version (no record of its comment): a retry
    is one of the author's comments, else refused."""
    desk = _desk(MemoryStore())
    ticket = desk.open(requester=ADA, subject="VPN down")
    desk.reply(ticket.id, author="agent:lena", body="Restart it")
    desk.store.set_cursor(request_key(f"agent:lena\n{ticket.id}", "r-1"), ticket.number)
    events = desk.history(ticket.id)
    desk.reply(ticket.id, author="agent:lena", body="Restart it", request_id="r-1")
    with pytest.raises(ValidationError) as caught:
        desk.reply(ticket.id, author="agent:lena", body="Reboot", request_id="r-1")
    assert caught.value.field == "body"
    assert desk.history(ticket.id) == events
