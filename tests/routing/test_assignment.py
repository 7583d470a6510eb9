"""Assignment strategies, eligibility, explanations, events and queue order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import Agent, Assigned, Priority, QueuedForAssignment, Ticket
from helpdesk_core.routing import (
    DEFAULT_PRIORITY_WEIGHTS,
    AgentLoad,
    AssignSpec,
    agent_loads,
    assign,
    queue_order,
)

NOW = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)


def ticket(**kw: Any) -> Ticket:
    base: dict[str, Any] = {
        "id": "T-1",
        "number": 1,
        "requester": "r1",
        "subject": "VPN down",
        "created_at": NOW,
        "updated_at": NOW,
    }
    base.update(kw)
    return Ticket(**base)


class Hours:
    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end

    def is_open(self, at: datetime) -> bool:
        return self.start <= at.astimezone(UTC).hour < self.end


CALENDARS = {"day": Hours(8, 18), "night": Hours(20, 24)}


def test_round_robin_rotates_and_returns_the_cursor() -> None:
    agents = [Agent(id="a3"), Agent(id="a1"), Agent(id="a2")]
    picks, cursor = [], 0
    for _ in range(6):
        d = assign(ticket(), candidates=agents, spec=AssignSpec(), loads={}, now=NOW,
                   cursor=cursor)
        picks.append(d.agent)
        cursor = d.cursor
    assert picks == ["a1", "a2", "a3", "a1", "a2", "a3"]


def test_round_robin_skips_unavailable_agents_and_keeps_its_place() -> None:
    agents = [Agent(id="a1"), Agent(id="a2", away=True), Agent(id="a3")]
    d = assign(ticket(), candidates=agents, spec=AssignSpec(), loads={}, now=NOW, cursor=1)
    assert d.agent == "a3"
    after = assign(ticket(), candidates=agents, spec=AssignSpec(), loads={}, now=NOW,
                   cursor=d.cursor)
    assert after.agent == "a1"
    assert d.eligible == ("a3", "a1")
    assert d.ineligible == {"a2": "away"}
    assert "round robin" in d.explanation


def test_least_loaded_uses_weighted_load_then_count_then_id() -> None:
    agents = [Agent(id="a1"), Agent(id="a2"), Agent(id="a3"), Agent(id="a4")]
    loads = {
        "a1": AgentLoad(active=1, weighted=4.0),  # one critical ticket
        "a2": AgentLoad(active=3, weighted=3.0),
        "a3": AgentLoad(active=2, weighted=3.0),
        "a4": AgentLoad(active=2, weighted=3.0),
    }
    d = assign(ticket(), candidates=agents, spec=AssignSpec(strategy="least_loaded"),
               loads=loads, now=NOW)
    assert d.eligible == ("a3", "a4", "a2", "a1")
    assert d.agent == "a3"
    assert d.cursor == 0
    assert "least loaded" in d.explanation
    assert "critical 4" in d.explanation


def test_skills_based_prefers_the_lowest_qualifying_tier() -> None:
    agents = [
        Agent(id="l1", tier="L1", skills={"printers"}),
        Agent(id="l2-busy", tier="L2", skills={"vpn", "network"}),
        Agent(id="l2", tier="L2", skills={"vpn", "network", "mac"}),
        Agent(id="l3", tier="L3", skills={"vpn", "network"}),
        Agent(id="x", tier=None, skills={"vpn", "network"}),
    ]
    loads = {"l2-busy": AgentLoad(active=5, weighted=6.0)}
    spec = AssignSpec(strategy="skills_based", skills={"vpn", "network"})
    d = assign(ticket(), candidates=agents, spec=spec, loads=loads, now=NOW,
               tier_order=["L1", "L2", "L3"])
    assert d.eligible == ("l2", "l2-busy", "l3", "x")
    assert d.agent == "l2"
    assert d.ineligible == {"l1": "missing skills network, vpn"}


def test_eligibility_reasons() -> None:
    agents = [
        Agent(id="gone", active=False),
        Agent(id="other", teams=["apps"]),
        Agent(id="away", teams=["net"], away=True),
        Agent(id="night", teams=["net"], calendar="night"),
        Agent(id="full", teams=["net"], capacity=2),
        Agent(id="unskilled", teams=["net"]),
    ]
    loads = {"full": AgentLoad(active=2, weighted=2.0)}
    spec = AssignSpec(strategy="least_loaded", skills={"vpn"}, team="net")
    d = assign(ticket(), candidates=agents, spec=spec, loads=loads, now=NOW,
               calendars=CALENDARS)
    assert d.agent is None
    assert d.eligible == ()
    assert d.ineligible == {
        "gone": "inactive",
        "other": "not in team net",
        "away": "away",
        "night": "off shift",
        "full": "at capacity 2/2",
        "unskilled": "missing skills vpn",
    }
    assert d.explanation.startswith("nobody eligible in team net (")
    assert "off shift: night" in d.explanation
    assert d.explanation.endswith("the ticket waits in the queue")


def test_team_defaults_to_the_tickets_team() -> None:
    agents = [Agent(id="a1", teams=["apps"]), Agent(id="a2", teams=["net"])]
    d = assign(ticket(team="net"), candidates=agents, spec=AssignSpec(), loads={}, now=NOW)
    assert d.agent == "a2"
    assert d.team == "net"
    d = assign(ticket(), candidates=agents, spec=AssignSpec(), loads={}, now=NOW)
    assert d.eligible == ("a1", "a2")


def test_on_shift_by_calendar() -> None:
    agents = [Agent(id="day", calendar="day"), Agent(id="night", calendar="night")]
    at_night = NOW + timedelta(hours=12)
    assert assign(ticket(), candidates=agents, spec=AssignSpec(), loads={}, now=NOW,
                  calendars=CALENDARS).agent == "day"
    assert assign(ticket(), candidates=agents, spec=AssignSpec(), loads={}, now=at_night,
                  calendars=CALENDARS).agent == "night"


def test_unknown_agent_calendar_is_an_error() -> None:
    with pytest.raises(ValidationError, match="calendar 'emea'") as info:
        assign(ticket(), candidates=[Agent(id="a", calendar="emea")], spec=AssignSpec(),
               loads={}, now=NOW, calendars=CALENDARS)
    assert info.value.field == "agents.a.calendar"


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="naive"):
        assign(ticket(), candidates=[], spec=AssignSpec(), loads={}, now=datetime(2024, 1, 1))
    with pytest.raises(ValidationError, match="cursor"):
        assign(ticket(), candidates=[], spec=AssignSpec(), loads={}, now=NOW, cursor=-1)
    with pytest.raises(ValidationError, match="weight of high"):
        assign(ticket(), candidates=[], spec=AssignSpec(), loads={}, now=NOW,
               weights={Priority.HIGH: -1})
    with pytest.raises(ConfigError, match="unknown assignment strategy"):
        AssignSpec(strategy="random")


def test_no_candidates() -> None:
    d = assign(ticket(), candidates=[], spec=AssignSpec(), loads={}, now=NOW)
    assert d.agent is None
    assert "no candidates" in d.explanation


def test_decision_events() -> None:
    t = ticket(team="net", assignee="old")
    d = assign(t, candidates=[Agent(id="a1", teams=["net"])], spec=AssignSpec(), loads={},
               now=NOW)
    event = d.event(t, at=NOW)
    assert isinstance(event, Assigned)
    assert (event.assignee, event.previous, event.strategy) == ("a1", "old", "round_robin")
    assert event.explanation == d.explanation
    d = assign(t, candidates=[Agent(id="a1", teams=["net"], away=True)], spec=AssignSpec(),
               loads={}, now=NOW)
    event = d.event(t, at=NOW)
    assert isinstance(event, QueuedForAssignment)
    assert event.team == "net"
    assert event.reason == d.explanation


def test_decision_event_refuses_what_is_not_a_ticket() -> None:
    d = assign(ticket(), candidates=[Agent(id="a1")], spec=AssignSpec(), loads={}, now=NOW)
    with pytest.raises(ValidationError) as refused:
        d.event(cast(Any, "T-1"), at=NOW)
    assert refused.value.field == "ticket"
    assert "expected a Ticket, got str" in refused.value.message


@pytest.mark.parametrize("weighted", [-1.0, -1, 10**400], ids=["negative", "negative int", "huge"])
def test_agent_load_refuses_a_weight_below_zero_or_beyond_a_float(weighted: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        AgentLoad(active=1, weighted=weighted)
    assert refused.value.field == "weighted"


def test_agent_loads_count_active_tickets_by_priority_weight() -> None:
    tickets = [
        ticket(id="1", assignee="a", priority="critical"),
        ticket(id="2", assignee="a", priority="low"),
        ticket(id="3", assignee="a", priority="high", status_category="solved"),
        ticket(id="4", assignee="b", priority="high"),
        ticket(id="5"),
    ]
    assert agent_loads(tickets) == {
        "a": AgentLoad(active=2, weighted=5.0),
        "b": AgentLoad(active=1, weighted=2.0),
    }
    flat = dict.fromkeys(Priority, 1.0)
    assert agent_loads(tickets, weights=flat)["a"] == AgentLoad(active=2, weighted=2.0)
    assert DEFAULT_PRIORITY_WEIGHTS[Priority.CRITICAL] == 4.0


def test_queue_order() -> None:
    t0 = NOW
    a = ticket(id="a", number=3, priority="low", queued_at=t0)
    b = ticket(id="b", number=2, priority="critical", queued_at=t0 + timedelta(minutes=5))
    c = ticket(id="c", number=1, priority="low", queued_at=t0)
    d = ticket(id="d", number=4, priority="critical", created_at=t0 - timedelta(hours=1),
               updated_at=t0)  # never queued: its creation time counts
    assert [t.id for t in queue_order([a, b, c, d])] == ["d", "c", "a", "b"]
    assert [t.id for t in queue_order([a, b, c, d], order="most_urgent")] == ["d", "b", "c", "a"]
    with pytest.raises(ValidationError, match="unknown queue order"):
        queue_order([a], order="random")  # type: ignore[arg-type]


def test_weights_are_checked_on_every_call_even_after_equal_ones_passed() -> None:
    agents = [Agent(id="a1")]
    spec = AssignSpec(strategy="least_loaded")
    good = {Priority.HIGH: 1, Priority.MEDIUM: 1.0}
    for _ in range(2):  # the second call finds the first one's text
        d = assign(ticket(), candidates=agents, spec=spec, loads={}, now=NOW, weights=good)
        assert "high 1, medium 1" in d.explanation
    # True == 1 and hashes alike, yet a flag is no weight.
    with pytest.raises(ValidationError) as caught:
        assign(ticket(), candidates=agents, spec=spec, loads={}, now=NOW,
               weights={Priority.HIGH: True, Priority.MEDIUM: 1.0})  # type: ignore[dict-item]
    assert caught.value.field == "weights.high"
    with pytest.raises(ValidationError):
        assign(ticket(), candidates=agents, spec=spec, loads={}, now=NOW,
               weights={Priority.HIGH: float("nan")})
    with pytest.raises(ValidationError):
        assign(ticket(), candidates=agents, spec=spec, loads={}, now=NOW,
               weights={Priority.HIGH: [1]})  # type: ignore[dict-item]


def test_round_robin_does_not_serve_the_same_agent_twice_when_an_agent_joins() -> None:
    before = [Agent(id="bob"), Agent(id="cy")]
    first = assign(ticket(), candidates=before, spec=AssignSpec(), loads={}, now=NOW)
    assert first.agent == "bob"
    # ann sorts before bob: the turn still goes on after bob.
    after = [Agent(id="ann"), *before]
    second = assign(ticket(), candidates=after, spec=AssignSpec(), loads={}, now=NOW,
                    cursor=first.cursor)
    assert second.agent == "cy"
    third = assign(ticket(), candidates=after, spec=AssignSpec(), loads={}, now=NOW,
                   cursor=second.cursor)
    assert third.agent == "ann"


def test_round_robin_goes_on_with_the_successor_when_the_last_agent_leaves() -> None:
    agents = [Agent(id=x) for x in ("a", "b", "c", "d")]
    cursor = 0
    for expected in ("a", "b"):
        d = assign(ticket(), candidates=agents, spec=AssignSpec(), loads={}, now=NOW,
                   cursor=cursor)
        assert d.agent == expected
        cursor = d.cursor
    left = [a for a in agents if a.id != "b"]
    d = assign(ticket(), candidates=left, spec=AssignSpec(), loads={}, now=NOW, cursor=cursor)
    assert d.agent == "c"


def test_round_robin_reads_a_bare_position_cursor() -> None:
    agents = [Agent(id="a1"), Agent(id="a2"), Agent(id="a3")]
    d = assign(ticket(), candidates=agents, spec=AssignSpec(), loads={}, now=NOW, cursor=2)
    assert d.agent == "a3"
