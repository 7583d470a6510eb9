"""A tier that asks the requester moves the ticket into the lifecycle's waiting status,
whatever the lifecycle calls it (see docs/simulation.md)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core import ConfigError
from helpdesk_core.model import StatusCategory, StatusChanged
from helpdesk_core.simulation import Scenario, simulate
from helpdesk_core.simulation._asking import asking_move
from helpdesk_core.workflow import ANY, Lifecycle, Status, Transition

WAITING = "waiting_on_customer"


def _renamed(plain: dict[str, Any], name: str = "renamed") -> dict[str, Any]:
    """The default lifecycle with its status ``pending`` called ``waiting_on_customer``
    and its move there ``ask_customer``: nothing is named ``pending`` any more."""

    def status(s: str) -> str:
        return WAITING if s == "pending" else s

    doc = copy.deepcopy(plain)
    doc["name"] = name
    for entry in doc["statuses"]:
        entry["name"] = status(entry["name"])
    for t in doc["transitions"]:
        t["to"] = status(t["to"])
        if isinstance(t["from"], list):
            t["from"] = [status(s) for s in t["from"]]
        if t["name"] == "pend":
            t["name"] = "ask_customer"
    return doc


def _scenario_doc(lifecycle: dict[str, Any], *, pending: float = 0.5) -> dict[str, Any]:
    """One tier of three agents on a 24/7 desk, whose incidents follow ``lifecycle``."""
    return {
        "desk": {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "tiers": [{"id": "L1", "teams": ["q"]}],
            "teams": [{"id": "q"}],
            "agents": [
                {"id": f"a{i}", "tier": "L1", "teams": ["q"], "capacity": 1} for i in range(3)
            ],
            "assignment": {"strategy": "least_loaded", "queue_order": "oldest"},
            "lifecycles": {lifecycle["name"]: lifecycle},
            "ticket_types": {"incident": {"lifecycle": lifecycle["name"]}},
        },
        "simulation": {"start": "2026-01-05T00:00:00+00:00", "days": 3, "warmup_days": 0},
        "arrivals": {"rate_per_hour": 2.0},
        "tiers": {"L1": {"work": "30m", "solve": 1.0, "pending": pending}},
        "requesters": {"count": 20, "reply": "2h"},
    }


def _moves(result: Any) -> list[StatusChanged]:
    return [e for e in result.events if isinstance(e, StatusChanged)]


def test_a_renamed_waiting_status_is_entered_when_a_tier_asks_and_left_on_the_reply() -> None:
    """The lifecycle has no status or move called ``pending``, but a status of category
    pending that the requester's reply leaves by itself: asked tickets go there by the
    move that leads there and come back to work when the requester answers."""
    doc = _scenario_doc(_renamed(Lifecycle.default().to_dict()))
    result = simulate(Scenario.from_dict(doc), seed=3)
    moves = _moves(result)
    asked = [m for m in moves if m.to_status == WAITING]
    assert asked, "no ticket was asked"
    assert {(m.transition, m.from_status, m.category) for m in asked} == {
        ("ask_customer", "open", StatusCategory.PENDING)
    }
    back = {m.ticket_id for m in moves if m.from_status == WAITING and m.automatic}
    assert back and back <= {m.ticket_id for m in asked}
    solved = {m.ticket_id for m in moves if m.category is StatusCategory.SOLVED}
    # nearly every asked ticket was answered and solved within the three days
    assert len(back & solved) >= 0.8 * len(asked)
    assert not any(m.to_status == "pending" for m in moves)


def test_the_default_lifecycle_still_asks_by_its_pending_move() -> None:
    doc = _scenario_doc({**Lifecycle.default().to_dict(), "name": "plain"})
    moves = _moves(simulate(Scenario.from_dict(doc), seed=3))
    asked = {(m.transition, m.to_status) for m in moves if m.category is StatusCategory.PENDING}
    assert asked == {("pend", "pending")}


def test_a_move_called_pending_is_taken_before_other_waiting_statuses() -> None:
    """A lifecycle with the status ``pending`` and another waiting status the reply leaves
    too: the simulation asks by ``pending``, as it always did, and is not refused."""
    plain = Lifecycle.default().to_dict()
    lifecycle = copy.deepcopy(plain)
    lifecycle["name"] = "two_waits"
    lifecycle["statuses"].append({"name": "with_vendor", "category": "pending"})
    lifecycle["transitions"] += [
        {"name": "to_vendor", "from": ["open"], "to": "with_vendor"},
        {
            "name": "vendor_back",
            "from": ["with_vendor"],
            "to": "open",
            "automatic": "requester_public_reply",
        },
    ]
    for t in lifecycle["transitions"]:
        if t["name"] == "solve":
            t["from"].append("with_vendor")
    moves = _moves(simulate(Scenario.from_dict(_scenario_doc(lifecycle)), seed=3))
    waits = {m.to_status for m in moves if m.category is StatusCategory.PENDING}
    assert waits == {"pending"}


def _two_ways(name: str = "two_ways") -> dict[str, Any]:
    """The renamed lifecycle with a second waiting status, ``waiting_on_vendor``, that the
    requester's reply leaves too: from ``open`` two moves ask and neither is ``pending``."""
    lifecycle = _renamed(Lifecycle.default().to_dict(), name)
    lifecycle["statuses"].append({"name": "waiting_on_vendor", "category": "pending"})
    lifecycle["transitions"] += [
        {"name": "ask_vendor", "from": ["open"], "to": "waiting_on_vendor"},
        {
            "name": "vendor_back",
            "from": ["waiting_on_vendor"],
            "to": "open",
            "automatic": "requester_public_reply",
        },
    ]
    for t in lifecycle["transitions"]:
        if t["name"] == "solve":
            t["from"].append("waiting_on_vendor")
    return lifecycle


def test_several_waiting_moves_none_called_pending_are_refused_naming_them() -> None:
    doc = _scenario_doc(_two_ways())
    with pytest.raises(ConfigError) as refused:
        Scenario.from_dict(doc)
    assert refused.value.path == "desk.lifecycles.two_ways.transitions"
    message = str(refused.value)
    assert "'ask_customer'" in message and "'ask_vendor'" in message
    assert "'open'" in message and "'pending'" in message
    doc["tiers"]["L1"]["pending"] = 0  # nobody is asked: nothing to choose
    Scenario.from_dict(doc)


def test_a_waiting_status_the_reply_does_not_leave_is_refused_as_waiting_for_ever() -> None:
    """A status of category pending that no requester reply leaves would keep the asked
    tickets for ever: refused before the run, naming it."""
    lifecycle = _renamed(Lifecycle.default().to_dict(), "deaf")
    for t in lifecycle["transitions"]:
        if t["name"] == "resume":
            t.pop("automatic", None)
    with pytest.raises(ConfigError, match="wait for ever") as refused:
        Scenario.from_dict(_scenario_doc(lifecycle))
    assert refused.value.path == "desk.lifecycles.deaf.transitions"
    assert repr(WAITING) in str(refused.value)


# -- property: renaming a lifecycle's moves and statuses renames the move that asks -------


@given(st.data())
def test_renaming_moves_and_statuses_renames_the_move_that_asks(data: st.DataObject) -> None:
    base = Lifecycle.default()
    words = st.lists(
        st.text(alphabet="abcdefghij", min_size=1, max_size=6),
        min_size=len(base.transitions) + len(base.statuses),
        max_size=len(base.transitions) + len(base.statuses),
        unique=True,
    )
    drawn = iter(data.draw(words))
    moves = {name: f"m_{next(drawn)}" for name in sorted({t.name for t in base.transitions})}
    statuses = {name: f"s_{next(drawn)}" for name in base.status_names}
    lifecycle = Lifecycle(
        name="renamed",
        statuses=[Status(name=statuses[s.name], category=s.category) for s in base.statuses],
        initial=statuses[base.initial],
        transitions=[
            Transition(
                name=moves[t.name],
                from_=ANY if t.from_any else tuple(statuses[s] for s in t.from_),
                to=statuses[t.to],
                guards=t.guards,
                automatic=t.automatic,
            )
            for t in base.transitions
        ],
    )
    for status in base.status_names:
        if not base.category(status).is_active:
            continue
        asks = base.find(status, asking_move(base, status))
        expected = "pending" if asks is None else moves[asks.name]
        assert asking_move(lifecycle, statuses[status]) == expected, status
        if asks is not None:
            assert lifecycle.category(lifecycle.find(statuses[status], expected).to) is (
                StatusCategory.PENDING
            )
