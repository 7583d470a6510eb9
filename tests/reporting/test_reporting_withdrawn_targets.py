"""SLA compliance leaves out clocks stopped because their target was withdrawn.

A clock that stops because no target applies any more (the priority or the policy changed
to one without a target for its metric) neither met nor breached anything: compliance does
not count it while it stays stopped that way. A breach recorded before the withdrawal
stays a breach; a clock that carries on when a target applies again counts by its final
outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, SequentialIds
from helpdesk_core.model import Actor, ClockState, Requester
from helpdesk_core.reporting import ReportResult, build_report
from helpdesk_core.storage import MemoryStore

T0 = datetime(2026, 3, 30, 9, tzinfo=UTC)
H = timedelta(hours=1)
AGENT = Actor.agent("alice")

CONFIG: dict[str, Any] = {
    "desk": {"name": "Test desk", "timezone": "UTC"},
    "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
    "tiers": [{"id": "L1", "teams": ["desk"]}],
    "teams": [{"id": "desk", "calendar": "always"}],
    "agents": [{"id": "alice", "tier": "L1", "teams": ["desk"], "calendar": "always"}],
    "sla_policies": [
        {
            "name": "standard",
            "calendar": "always",
            "targets": {"high": {"first_response": "2h", "resolution": "8h"}},
        }
    ],
}


def make_desk(document: dict[str, Any] = CONFIG) -> tuple[Helpdesk, ManualClock, MemoryStore]:
    store = MemoryStore()
    clock = ManualClock(T0)
    desk = Helpdesk(
        config=DeskConfig.from_dict(document), store=store, clock=clock, ids=SequentialIds()
    )
    desk.upsert_requester(Requester(id="ada", name="Ada"))
    return desk, clock, store


def report(store: MemoryStore) -> ReportResult:
    return build_report(store.event_stream())


def by_metric(result: ReportResult) -> dict[str, tuple[int, int]]:
    return {row.metric: (row.met, row.breached) for row in result.sla.by_metric}


def test_a_withdrawn_first_response_target_is_not_counted_as_met() -> None:
    desk, clock, store = make_desk()
    ticket = desk.open(requester="ada", subject="VPN down", priority="high")
    assert ticket.sla["first_response"].state is ClockState.RUNNING
    clock.advance(H)
    desk.set_priority(ticket.id, "low", by=AGENT, reason="not urgent after all")

    stopped = desk.get(ticket.id).sla["first_response"]
    # The clock stops where it is; it reads met, as any stopped clock without a breach.
    assert stopped.stopped_at == T0 + H and stopped.breached_at is None
    assert stopped.state is ClockState.MET

    result = report(store)
    assert by_metric(result) == {}
    assert (result.sla.overall.met, result.sla.overall.breached) == (0, 0)

    # Answering and solving the ticket later does not bring the withdrawn clocks back.
    clock.advance(H)
    desk.reply(ticket.id, author=AGENT, body="Looking")
    desk.solve(ticket.id, by=AGENT, resolution="Fixed")
    assert by_metric(report(store)) == {}


def test_a_breach_before_the_withdrawal_stays_breached() -> None:
    desk, clock, store = make_desk()
    ticket = desk.open(requester="ada", subject="VPN down", priority="high")
    clock.advance(3 * H)  # the 2 h first-response target passes
    desk.set_priority(ticket.id, "low", by=AGENT)

    stopped = desk.get(ticket.id).sla["first_response"]
    assert stopped.state is ClockState.BREACHED
    assert by_metric(report(store)) == {"first_response": (0, 1)}


def test_a_breach_stays_breached_when_the_target_is_relaxed_after_it() -> None:
    desk, clock, store = make_desk_with_low_target()
    ticket = desk.open(requester="ada", subject="VPN down", priority="high")
    clock.advance(3 * H)
    desk.tick()  # the 2 h first-response target passed: the breach is recorded
    desk.set_priority(ticket.id, "low", by=AGENT)  # 8 h: the deadline is ahead again
    relaxed = desk.get(ticket.id).sla["first_response"]
    assert relaxed.state is ClockState.RUNNING and relaxed.breached_at is None

    clock.advance(H)
    desk.reply(ticket.id, author=AGENT, body="On it")  # within the relaxed target
    assert desk.get(ticket.id).sla["first_response"].state is ClockState.MET
    # The breach recorded in this cycle is what the report reads.
    assert by_metric(report(store))["first_response"] == (0, 1)


def test_a_breach_stays_breached_when_the_target_is_relaxed_then_withdrawn() -> None:
    desk, clock, store = make_desk_with_low_target()
    ticket = desk.open(requester="ada", subject="VPN down", priority="high")
    clock.advance(3 * H)
    desk.tick()
    desk.set_priority(ticket.id, "low", by=AGENT)
    desk.set_priority(ticket.id, "medium", by=AGENT)  # no target at all
    assert desk.get(ticket.id).sla["first_response"].stopped_at is not None
    assert by_metric(report(store)) == {"first_response": (0, 1)}


def make_desk_with_low_target() -> tuple[Helpdesk, ManualClock, MemoryStore]:
    """The test desk, where low priority has a looser first-response target (8 h)."""
    document = {
        **CONFIG,
        "sla_policies": [
            {
                "name": "standard",
                "calendar": "always",
                "targets": {
                    "high": {"first_response": "2h", "resolution": "8h"},
                    "low": {"first_response": "8h"},
                },
            }
        ],
    }
    return make_desk(document)


def test_a_clock_that_carries_on_counts_by_its_final_outcome() -> None:
    desk, clock, store = make_desk()
    ticket = desk.open(requester="ada", subject="VPN down", priority="high")
    clock.advance(H / 2)
    desk.set_priority(ticket.id, "low", by=AGENT)
    clock.advance(H)
    desk.set_priority(ticket.id, "high", by=AGENT)
    assert desk.get(ticket.id).sla["first_response"].state is ClockState.RUNNING
    assert by_metric(report(store)) == {}  # running again: not settled

    clock.advance(H / 2)
    desk.reply(ticket.id, author=AGENT, body="On it")
    desk.solve(ticket.id, by=AGENT, resolution="Fixed")
    assert by_metric(report(store)) == {"first_response": (1, 0), "resolution": (1, 0)}


def test_a_clock_that_carries_on_and_breaches_counts_as_breached() -> None:
    desk, clock, store = make_desk()
    ticket = desk.open(requester="ada", subject="VPN down", priority="high")
    clock.advance(H)
    desk.set_priority(ticket.id, "low", by=AGENT)
    clock.advance(5 * H)  # stopped: the withdrawn target does not accrue
    desk.set_priority(ticket.id, "high", by=AGENT)
    clock.advance(2 * H)  # 1 h used before, 2 h now: the 2 h target passed
    desk.reply(ticket.id, author=AGENT, body="Sorry")
    assert desk.get(ticket.id).sla["first_response"].state is ClockState.BREACHED
    assert by_metric(report(store))["first_response"] == (0, 1)


def test_solved_clocks_still_count_as_met() -> None:
    desk, clock, store = make_desk()
    ticket = desk.open(requester="ada", subject="VPN down", priority="high")
    clock.advance(H)
    desk.reply(ticket.id, author=AGENT, body="Fixed?")
    desk.solve(ticket.id, by=AGENT, resolution="Fixed")
    assert by_metric(report(store)) == {"first_response": (1, 0), "resolution": (1, 0)}
