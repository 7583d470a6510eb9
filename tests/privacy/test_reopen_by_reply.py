"""A reopen set off by a requester's reply is the requester's reopen: a lifecycle whose
``reopen`` fires on ``requester_public_reply`` reopens a solved ticket only for a requester
the access policy lets reopen. The reply itself is recorded either way, as in the default
lifecycle (where a reply never reopens) and as when a guard refuses the automatic move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.errors import AccessDenied
from helpdesk_core.model import CommentAdded, StatusChanged
from helpdesk_core.privacy import REQUESTER_ACTIONS
from helpdesk_core.workflow import Lifecycle

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday


def _reopen_on_reply() -> dict[str, Any]:
    """The default lifecycle, with ``reopen`` applied by the requester's public reply."""
    doc = Lifecycle.default().to_dict()
    doc.pop("name")
    for transition in doc["transitions"]:
        if transition["name"] == "reopen":
            transition["automatic"] = "requester_public_reply"
    return doc


def _desk(requester_actions: frozenset[str] | tuple[str, ...]) -> tuple[Helpdesk, ManualClock]:
    config = DeskConfig.from_dict(
        {
            "agents": [{"id": "alice", "teams": ["service-desk"]}],
            "lifecycles": {"reopening": _reopen_on_reply()},
            "ticket_types": {"incident": {"lifecycle": "reopening"}},
            "privacy": {"requester_actions": sorted(requester_actions)},
        }
    )
    clock = ManualClock(T0)
    desk = Helpdesk(config, MemoryStore(), clock)
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    return desk, clock


def _solved(desk: Helpdesk, clock: ManualClock) -> str:
    ticket = desk.open(requester="ada", subject="VPN drops")
    desk.reply(ticket.id, author="alice", body="Restart the client")
    desk.solve(ticket.id, by="alice", resolution="Client restarted")
    clock.advance(timedelta(hours=1))
    return ticket.id


def test_a_reply_reopens_for_a_requester_who_may_reopen() -> None:
    desk, clock = _desk(REQUESTER_ACTIONS)
    ticket_id = _solved(desk, clock)
    reopened = desk.reply(ticket_id, author="ada", body="It drops again")
    assert (reopened.status, reopened.reopen_count) == ("open", 1)
    moved = desk.history(ticket_id)[-1]
    assert isinstance(moved, StatusChanged) and moved.automatic
    assert moved.transition == "reopen"


def test_a_reply_does_not_reopen_for_a_requester_who_may_not() -> None:
    desk, clock = _desk(("view", "reply", "rate"))
    ticket_id = _solved(desk, clock)
    before = desk.get(ticket_id)
    with pytest.raises(AccessDenied) as refused:
        desk.reopen(ticket_id, by="ada", reason="It drops again")
    assert refused.value.action == "reopen"

    replied = desk.reply(ticket_id, author="ada", body="It drops again")
    assert (replied.status, replied.reopen_count) == ("solved", 0)
    assert replied.solved_at == before.solved_at  # the same solve: window and auto-close
    added = desk.history(ticket_id)[before.version :]
    assert [type(e) for e in added] == [CommentAdded]
    assert added[0].body == "It drops again" and added[0].public
    # The ticket still closes at its time.
    clock.advance(timedelta(days=10))
    desk.tick()
    assert desk.get(ticket_id).status == "closed"


@settings(max_examples=30, deadline=None)
@given(
    actions=st.frozensets(st.sampled_from(sorted(REQUESTER_ACTIONS - {"reply"}))),
    waiting=st.booleans(),
)
def test_a_requesters_reply_moves_the_ticket_only_as_far_as_they_may(
    actions: frozenset[str], waiting: bool
) -> None:
    """Whatever the policy: the reply is recorded; a pending ticket resumes (the
    lifecycle's own move, no reopen); a solved one reopens exactly when the requester
    may reopen."""
    desk, clock = _desk(actions | {"reply"})
    if waiting:
        ticket = desk.open(requester="ada", subject="VPN drops")
        desk.reply(ticket.id, author="alice", body="Which client version?")
        desk.transition(ticket.id, "pend", by="alice")
        ticket_id = ticket.id
    else:
        ticket_id = _solved(desk, clock)
    before = desk.get(ticket_id)
    desk.reply(ticket_id, author="ada", body="Version 5")
    after = desk.get(ticket_id)
    added = desk.history(ticket_id)[before.version :]
    assert [e.body for e in added if isinstance(e, CommentAdded)] == ["Version 5"]
    if waiting:
        assert after.status == "open" and after.reopen_count == 0
    elif "reopen" in actions:
        assert after.status == "open" and after.reopen_count == 1
    else:
        assert after.status == "solved" and after.reopen_count == 0
