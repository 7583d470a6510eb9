"""A queued ticket waits for the assignment asked for it: a routing rule's strategy,
skills and team hold for every later attempt (tick, an agent freeing up, escalation)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrs import evolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk_stores import StoreFactory
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
from helpdesk_core.model import Assigned, Event, QueuedForAssignment, Ticket

T0 = datetime(2026, 5, 4, 10, tzinfo=UTC)
R = Requester(id="r")
VPN_RULE = {
    "name": "vpn",
    "when": {"field": "subject", "op": "contains", "value": "vpn"},
    "actions": {"assign": {"strategy": "skills_based", "skills": ["vpn"]}},
}


def _desk(doc: dict[str, Any], store: Any = None) -> Helpdesk:
    config = DeskConfig.from_dict(doc)
    return Helpdesk(config, store if store is not None else MemoryStore(), ManualClock(T0))


def _set_away(desk: Helpdesk, agent_id: str, away: bool) -> None:
    agents = tuple(evolve(a, away=away) if a.id == agent_id else a for a in desk.config.agents)
    desk.reconfigure(desk.config.replace(agents=agents))


def _one_agent(**assignment: Any) -> dict[str, Any]:
    """A desk of one agent with the VPN skill who takes one ticket at a time."""
    return {
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"], "skills": ["vpn"], "capacity": 1}],
        "routing": [VPN_RULE],
        "assignment": assignment,
    }  # fmt: skip


def _busy_behind_a_backlog(desk: Helpdesk) -> tuple[Ticket, Ticket]:
    """Ann takes a VPN ticket; then more printer tickets than a drain's window arrive,
    a second apart. Returns the VPN ticket and the last printer ticket."""
    from helpdesk_core.service import desk as desk_module

    first = desk.open(requester=R, subject="vpn one")
    assert first.assignee == "ann"
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    for n in range(desk_module._QUEUE_WINDOW + 1):
        clock.advance("1s")
        backlog = desk.open(requester=R, subject=f"printer {n}")
    return first, backlog


def _skills_desk(**assignment: Any) -> Helpdesk:
    return _desk({
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [
            {"id": "ann", "teams": ["desk"], "skills": ["vpn"], "away": True},
            {"id": "bob", "teams": ["desk"]},
        ],
        "routing": [VPN_RULE],
        "assignment": assignment,
    })  # fmt: skip


def test_a_queued_ticket_keeps_the_skills_its_rule_asked_for() -> None:
    desk = _skills_desk()
    seen: list[Event] = []
    desk.subscribe(seen.append)
    ticket = desk.open(requester=R, subject="vpn down")
    assert ticket.assignee is None
    desk.tick()
    assert desk.get(ticket.id).assignee is None  # bob has no vpn skill
    assert (ticket.queued_strategy, ticket.queued_skills) == ("skills_based", ("vpn",))
    queued = [e for e in seen if isinstance(e, QueuedForAssignment)]
    assert [(e.strategy, e.skills) for e in queued] == [("skills_based", ("vpn",))]
    _set_away(desk, "ann", False)
    desk.tick()
    assigned = desk.get(ticket.id)
    assert assigned.assignee == "ann"
    assert (assigned.queued_at, assigned.queued_strategy, assigned.queued_skills) == (
        None,
        None,
        (),
    )
    last = [e for e in seen if isinstance(e, Assigned)][-1]
    assert last.strategy == "skills_based"


def test_a_ticket_the_desk_queued_itself_waits_for_the_desks_assignment() -> None:
    desk = _desk({
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"], "away": True}],
    })  # fmt: skip
    ticket = desk.open(requester=R, subject="printer")
    assert ticket.queued_at is not None
    assert (ticket.queued_strategy, ticket.queued_skills) == (None, ())
    _set_away(desk, "ann", False)
    desk.tick()
    assert desk.get(ticket.id).assignee == "ann"


def test_a_rule_that_assigns_in_a_team_puts_the_ticket_in_that_teams_queue(
    make_store: StoreFactory,
) -> None:
    doc = {
        "tiers": [{"id": "L1", "teams": ["desk", "net"]}],
        "teams": [{"id": "desk"}, {"id": "net"}],
        "agents": [
            {"id": "dan", "teams": ["desk"]},
            {"id": "nia", "teams": ["net"], "capacity": 1},
        ],
        "routing": [{
            "name": "router",
            "when": {"field": "subject", "op": "contains", "value": "router"},
            "actions": {"assign": {"strategy": "least_loaded", "team": "net"}},
        }],
    }  # fmt: skip
    desk = _desk(doc, make_store())
    first = desk.open(requester=R, subject="router one")
    second = desk.open(requester=R, subject="router two")
    assert (first.team, first.assignee) == ("net", "nia")
    assert (second.team, second.assignee) == ("net", None)
    assert second.queued_strategy == "least_loaded"
    desk.tick()
    assert desk.get(second.id).assignee is None  # dan is not in net
    desk.solve(first.id, by="nia", resolution="rebooted", first_contact=True)
    assert desk.get(second.id).assignee == "nia"
    plain = desk.open(requester=R, subject="printer")
    assert (plain.team, plain.assignee) == ("desk", "dan")


def test_a_rules_assign_team_wins_over_its_team() -> None:
    desk = _desk({
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["net"]}],
        "teams": [{"id": "desk"}, {"id": "net"}],
        "agents": [{"id": "dan", "teams": ["desk"]}, {"id": "nia", "teams": ["net"]}],
        "routing": [{"name": "r", "when": {"always": True},
                     "actions": {"team": "desk", "assign": {"team": "net"}}}],
    })  # fmt: skip
    ticket = desk.open(requester=R, subject="x")
    # In the team and the tier that works it, as a rule setting team net would have put it.
    assert (ticket.team, ticket.tier, ticket.assignee) == ("net", "L2", "nia")


def test_with_auto_assign_off_a_rules_queued_ticket_is_assigned_when_an_agent_frees_up() -> None:
    desk = _skills_desk(auto_assign=False)
    asked = desk.open(requester=R, subject="vpn down")
    unasked = desk.open(requester=R, subject="printer")
    assert asked.queued_at is not None and asked.assignee is None
    assert unasked.queued_at is None and unasked.assignee is None
    desk.tick()
    assert desk.get(asked.id).assignee is None
    _set_away(desk, "ann", False)
    desk.tick()
    assert desk.get(asked.id).assignee == "ann"
    assert desk.get(unasked.id).assignee is None  # nobody asked: it waits for a person


def test_with_auto_assign_off_a_solve_offers_the_rules_queued_ticket() -> None:
    desk = _desk(_one_agent(auto_assign=False))
    first = desk.open(requester=R, subject="vpn one")
    second = desk.open(requester=R, subject="vpn two")
    assert (first.assignee, second.assignee) == ("ann", None)
    desk.solve(first.id, by="ann", resolution="ok", first_contact=True)
    assert desk.get(second.id).assignee == "ann"


def test_with_auto_assign_off_and_no_rule_asking_the_desk_reads_no_queues() -> None:
    desk = _desk({
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"], "away": True}],
        "assignment": {"auto_assign": False},
    })  # fmt: skip
    ticket = desk.open(requester=R, subject="printer")
    assert desk.auto_assign(ticket.id).queued_strategy == "least_loaded"  # the desk's
    _set_away(desk, "ann", False)
    reads: list[object] = []
    query = desk.store.query
    desk.store.query = lambda q: reads.append(q) or query(q)  # type: ignore[method-assign]
    desk.tick()
    assert reads == []  # a tick scans no backlog of tickets waiting for a person
    assert desk.get(ticket.id).assignee is None
    assert desk.auto_assign(ticket.id).assignee == "ann"  # the next call assigns it


def test_with_auto_assign_off_and_no_rule_asking_no_shift_start_is_a_wakeup() -> None:
    """A tick there offers no queue (see above): a shift start is no work for it, and a
    scheduler sleeping until ``next_wakeup`` is not woken for it, nor the queues read."""
    desk = _desk({
        "calendars": {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}},
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"], "calendar": "office"}],
        "assignment": {"auto_assign": False},
    })  # fmt: skip
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance("10h")  # Monday 20:00: ann is off shift
    ticket = desk.auto_assign(desk.open(requester=R, subject="printer").id)
    assert ticket.queued_at is not None and ticket.assignee is None
    reads: list[object] = []
    query = desk.store.query
    desk.store.query = lambda q: reads.append(q) or query(q)  # type: ignore[method-assign]
    assert desk.next_wakeup() is None
    assert reads == []
    clock.advance("13h")  # Tuesday 09:00, ann's shift starts: the tick assigns nothing
    assert desk.tick() == [] and desk.get(ticket.id).assignee is None


def test_a_strategy_given_to_auto_assign_keeps_the_skills_the_ticket_waits_for() -> None:
    desk = _skills_desk()
    ticket = desk.open(requester=R, subject="vpn down")
    again = desk.auto_assign(ticket.id, strategy="least_loaded")
    assert again.assignee is None  # bob is free, but has no vpn skill
    assert (again.queued_strategy, again.queued_skills) == ("skills_based", ("vpn",))


def test_an_escalated_queued_ticket_keeps_its_skills_in_the_new_tier() -> None:
    desk = _desk({
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["net"]}],
        "teams": [{"id": "desk"}, {"id": "net"}],
        "agents": [
            {"id": "ann", "teams": ["desk"], "tier": "L1"},
            {"id": "bob", "teams": ["net"], "tier": "L2"},
            {"id": "cy", "teams": ["net"], "tier": "L2", "skills": ["vpn"]},
        ],
        "routing": [VPN_RULE],
    })  # fmt: skip
    ticket = desk.open(requester=R, subject="vpn down")
    assert (ticket.tier, ticket.assignee) == ("L1", None)  # ann has no vpn skill
    moved = desk.escalate(ticket.id, by="ann", reason="needs network")
    assert (moved.team, moved.assignee) == ("net", "cy")  # not bob, the least loaded too


# ---------------------------------------------------------------------------- property

SKILLS = ("sql", "vpn")
RULES = [
    VPN_RULE,
    {
        "name": "sql",
        "when": {"field": "subject", "op": "contains", "value": "sql"},
        "actions": {"assign": {"strategy": "least_loaded", "skills": ["sql"]}},
    },
]
NEEDS = {"vpn": {"vpn"}, "sql": {"sql"}, "plain": set()}

agents_st = st.lists(
    st.fixed_dictionaries({
        "skills": st.sets(st.sampled_from(SKILLS)),
        "capacity": st.integers(1, 2),
        "away": st.booleans(),
    }),
    min_size=1,
    max_size=4,
)  # fmt: skip
steps_st = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.sampled_from(sorted(NEEDS))),
        st.tuples(st.just("tick"), st.just("")),
        st.tuples(st.just("toggle"), st.integers(0, 3)),
        st.tuples(st.just("solve"), st.integers(0, 20)),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=agents_st, steps=steps_st, auto_assign=st.booleans())
def test_an_assigned_ticket_has_every_skill_its_rule_asked_for(
    agents: list[dict[str, Any]], steps: list[tuple[str, Any]], auto_assign: bool
) -> None:
    doc = {
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "agents": [{"id": f"a{i}", "teams": ["desk"], **a} for i, a in enumerate(agents)],
        "routing": RULES,
        "assignment": {"auto_assign": auto_assign},
    }
    desk = _desk(doc)
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    seen: list[Event] = []
    desk.subscribe(seen.append)
    needs: dict[str, set[str]] = {}
    opened: list[str] = []
    for action, arg in steps:
        clock.advance(minutes=1)
        if action == "open":
            ticket = desk.open(requester=R, subject=f"{arg} trouble")
            needs[ticket.id] = NEEDS[arg]
            opened.append(ticket.id)
        elif action == "tick":
            desk.tick()
        elif action == "toggle" and arg < len(agents):
            agent = desk.config.agent(f"a{arg}")
            _set_away(desk, agent.id, not agent.away)
        elif action == "solve" and opened:
            ticket = desk.get(opened[arg % len(opened)])
            if ticket.assignee is not None and ticket.is_active:
                desk.solve(ticket.id, by=ticket.assignee, resolution="ok", first_contact=True)
    for event in seen:
        if isinstance(event, Assigned) and event.assignee is not None:
            skills = desk.config.agent(event.assignee).skills
            assert needs[event.ticket_id] <= skills, (event.ticket_id, event.explanation)
    for ticket_id in opened:
        ticket = desk.get(ticket_id)
        waiting = ticket.queued_at is not None and ticket.assignee is None
        # A rule's request is remembered exactly while the ticket waits under it.
        if waiting and needs[ticket_id]:
            assert set(ticket.queued_skills) == needs[ticket_id]
        if ticket.assignee is not None:
            assert ticket.queued_strategy is None and ticket.queued_skills == ()


def test_a_long_queue_of_routine_tickets_never_hides_a_critical_one() -> None:
    """With ``most_urgent`` order, an agent who frees up takes the critical ticket even
    when more routine tickets wait than a drain reads in one go."""
    from helpdesk_core.service import desk as desk_module

    desk = _desk({
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"], "capacity": 1}],
        "assignment": {"queue_order": "most_urgent"},
    })  # fmt: skip
    first = desk.open(requester=R, subject="first", priority="low")
    assert first.assignee == "ann"
    window = desk_module._QUEUE_WINDOW
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    for n in range(window + 1):
        clock.advance("1s")
        desk.open(requester=R, subject=f"routine {n}", priority="low")
    clock.advance("1s")
    urgent = desk.open(requester=R, subject="everything is down", priority="critical")
    high = desk.open(requester=R, subject="mail is slow", priority="high")
    assert urgent.queued_at is not None and urgent.assignee is None
    desk.solve(first.id, by="ann", resolution="ok", first_contact=True)
    assert desk.get(urgent.id).assignee == "ann"
    desk.solve(urgent.id, by="ann", resolution="ok", first_contact=True)
    assert desk.get(high.id).assignee == "ann"


def test_with_auto_assign_off_a_backlog_picked_by_hand_never_hides_a_rules_queued_ticket() -> (
    None
):
    """With ``auto_assign`` off, unassigned tickets wait for a person to pick them. More of
    them than a drain reads in one go, all older, neither hide a ticket a routing rule
    asked to assign from an agent who frees up nor are read by the drain."""
    desk = _desk(_one_agent(auto_assign=False))
    first, backlog = _busy_behind_a_backlog(desk)
    assert (backlog.queued_at, backlog.assignee) == (None, None)  # waits for a person
    desk.clock.advance("1s")  # type: ignore[attr-defined]
    asked = desk.open(requester=R, subject="vpn two")
    assert asked.queued_at is not None and asked.assignee is None  # ann is busy
    read: list[int] = []
    query = desk.store.query

    def counted(q: Any) -> Any:
        page = query(q)
        if q.unassigned:  # a drain's read of the queue
            read.append(len(page.items))
        return page

    desk.store.query = counted  # type: ignore[method-assign]
    desk.solve(first.id, by="ann", resolution="ok", first_contact=True)
    assert desk.get(asked.id).assignee == "ann"
    assert sum(read) == 1  # the drain read the one waiting ticket, not the backlog


def test_tickets_queued_before_auto_assign_was_turned_off_never_hide_a_rules_one() -> None:
    """Tickets the desk queued for itself while ``auto_assign`` was on wait, once it is
    off, to be picked by hand. More of them than a drain's window, all older, do not
    hide a ticket a rule asked to assign from an agent who frees up."""
    desk = _desk(_one_agent(auto_assign=True))
    first, backlog = _busy_behind_a_backlog(desk)
    assert backlog.queued_at is not None and backlog.queued_strategy is None
    desk.reconfigure(DeskConfig.from_dict(_one_agent(auto_assign=False)))
    desk.clock.advance("1s")  # type: ignore[attr-defined]
    asked = desk.open(requester=R, subject="vpn two")
    assert asked.queued_at is not None and asked.queued_strategy is not None
    desk.solve(first.id, by="ann", resolution="ok", first_contact=True)
    assert desk.get(asked.id).assignee == "ann"
    assert desk.get(backlog.id).assignee is None  # still left to a person


def _escalation_desk(store: Any, **assignment: Any) -> Helpdesk:
    """Leo works the first tier (front) and has room for every ticket; ann works the
    second (back) and takes one ticket at a time."""
    return _desk({
        "tiers": [{"id": "L1", "teams": ["front"]}, {"id": "L2", "teams": ["back"]}],
        "teams": [{"id": "front"}, {"id": "back"}],
        "agents": [
            {"id": "leo", "teams": ["front"], "capacity": 100},
            {"id": "ann", "teams": ["back"], "capacity": 1},
        ],
        "assignment": assignment,
    }, store)  # fmt: skip


def _escalated(desk: Helpdesk, ticket: Ticket) -> Ticket:
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance("1m")
    return desk.escalate(ticket.id, by="leo", reason="needs the back office")


def test_a_drain_offers_the_tickets_that_waited_longest_though_older_ones_queued_later(
    make_store: StoreFactory, monkeypatch: Any
) -> None:
    """A drain reads the tickets that have waited longest in the queue, not the oldest
    by creation: more tickets than its window, opened long ago and escalated into the
    team lately, never hide one that has waited there since before them."""
    from helpdesk_core.service import desk as desk_module

    monkeypatch.setattr(desk_module, "_QUEUE_WINDOW", 3)
    desk = _escalation_desk(make_store())
    busy = _escalated(desk, desk.open(requester=R, subject="busy"))
    assert busy.assignee == "ann"
    old = [desk.open(requester=R, subject=f"old {n}") for n in range(4)]
    assert {t.assignee for t in old} == {"leo"}
    desk.clock.advance("1h")  # type: ignore[attr-defined]
    waiting = _escalated(desk, desk.open(requester=R, subject="waiting"))
    assert (waiting.team, waiting.assignee) == ("back", None)
    assert waiting.queued_at is not None
    later = [_escalated(desk, t) for t in old]  # opened before, queued after it
    assert all(t.queued_at is not None and waiting.queued_at < t.queued_at for t in later)
    assert all(t.created_at < waiting.created_at for t in later)
    desk.solve(busy.id, by="ann", resolution="ok", first_contact=True)
    assert desk.get(waiting.id).assignee == "ann"
    for previous, ticket in zip([waiting, *later[:-1]], later, strict=True):
        # then the others, in the order they were queued
        desk.solve(previous.id, by="ann", resolution="ok", first_contact=True)
        assert desk.get(ticket.id).assignee == "ann"


def test_most_urgent_drains_each_priority_by_how_long_its_tickets_waited(
    make_store: StoreFactory, monkeypatch: Any
) -> None:
    """With ``most_urgent`` order and a queue longer than a drain's window, each
    priority's window holds its tickets that have waited longest: a critical ticket queued
    last goes first, then the high one that waited longest, though more high tickets than
    the window were opened before it and queued after it."""
    from helpdesk_core.service import desk as desk_module

    monkeypatch.setattr(desk_module, "_QUEUE_WINDOW", 3)
    desk = _escalation_desk(make_store(), queue_order="most_urgent")
    busy = _escalated(desk, desk.open(requester=R, subject="busy"))
    assert busy.assignee == "ann"
    old = [desk.open(requester=R, subject=f"old {n}", priority="high") for n in range(4)]
    urgent = desk.open(requester=R, subject="down", priority="critical")
    desk.clock.advance("1h")  # type: ignore[attr-defined]
    waiting = _escalated(desk, desk.open(requester=R, subject="waiting", priority="high"))
    assert (waiting.team, waiting.assignee) == ("back", None)
    later = [_escalated(desk, t) for t in old]
    urgent = _escalated(desk, urgent)
    assert urgent.queued_at is not None and waiting.queued_at is not None
    assert waiting.queued_at < urgent.queued_at and urgent.created_at < waiting.created_at
    desk.solve(busy.id, by="ann", resolution="ok", first_contact=True)
    assert desk.get(urgent.id).assignee == "ann"
    desk.solve(urgent.id, by="ann", resolution="ok", first_contact=True)
    assert desk.get(waiting.id).assignee == "ann"
    assert all(desk.get(t.id).assignee is None for t in later)


def _shift_desk(store: Any, *, away: bool) -> Helpdesk:
    """Ann works 09:00-17:00 UTC; at T0 (Monday 10:00) she is on shift, unless away."""
    return _desk({
        "calendars": {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}},
        "tiers": [{"id": "L1", "teams": ["desk"]}], "teams": [{"id": "desk"}],
        "agents": [{"id": "ann", "teams": ["desk"], "calendar": "office", "away": away}],
        "assignment": {"auto_assign": True},
    }, store)  # fmt: skip


def test_an_agent_back_during_their_shift_makes_a_tick_due_now(
    make_store: StoreFactory,
) -> None:
    """Ann comes back (reconfigure) during her shift with a ticket waiting in her queue:
    a tick now assigns it, so ``next_wakeup`` is now, not her next shift start (a
    scheduler sleeping until then leaves the ticket waiting all day). Once a tick has
    offered the queues, the desk does not ask for another at once."""
    desk = _shift_desk(make_store(), away=True)
    ticket = desk.open(requester=R, subject="printer")
    assert ticket.queued_at is not None and ticket.assignee is None
    assert desk.tick() == []
    assert desk.next_wakeup() is None  # nobody could take it
    _set_away(desk, "ann", False)
    assert desk.next_wakeup() == T0
    assert [type(e) for e in desk.tick()] == [Assigned]
    assert desk.get(ticket.id).assignee == "ann"
    assert desk.next_wakeup() is None


def test_a_desk_started_during_a_shift_ticks_at_once_for_the_queue(
    make_store: StoreFactory,
) -> None:
    """A worker process starts at 10:00, after ann's shift began with a ticket waiting
    for her (she was away when it came, and is back in the configuration the worker
    starts with): its first ``next_wakeup`` is now. A queued ticket nobody free can take
    asks for one tick, not one after another."""
    store = make_store()
    ticket = _shift_desk(store, away=True).open(requester=R, subject="printer")
    worker = _shift_desk(store, away=False)
    assert worker.next_wakeup() == T0
    worker.tick()
    assert worker.get(ticket.id).assignee == "ann"
    full = _skills_desk()
    full.open(requester=R, subject="vpn down")  # needs ann's skill; ann is away
    assert full.next_wakeup() == T0
    assert full.tick() == []
    assert full.next_wakeup() is None
