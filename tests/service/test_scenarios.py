"""Stories of a Berlin desk, with exact deadlines and event instants, on every store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from service_fixtures import DESK, berlin, make_desk

from helpdesk_core import ClockState, DeskConfig, Requester
from helpdesk_core.clock import ManualClock
from helpdesk_core.model import (
    Assigned,
    Escalated,
    EscalationTriggered,
    Event,
    SlaBreached,
    SlaWarning,
    TicketOpened,
)
from helpdesk_core.storage import Store

ADA = Requester(id="ada", name="Ada Lovelace", email="ada@example.com")


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_printer_ticket_answered_in_time(make_store: Callable[[], Store]) -> None:
    desk = make_desk(make_store(), berlin(2026, 3, 2, 10, 0))  # Monday 10:00
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    ticket = desk.open(requester=ADA, subject="Printer on floor 2 jams", category="hardware")
    opened = desk.history(ticket.id)[0]
    assert isinstance(opened, TicketOpened)
    assert opened.number == ticket.number == 1
    assert opened.first_response_due == berlin(2026, 3, 2, 14, 0)  # medium: 4 business hours
    assert ticket.assignee == "alice" and ticket.owner == "alice" and ticket.tier == "L1"
    assert ticket.sla["resolution"].deadline == berlin(2026, 3, 5, 10, 0)  # 24 business hours

    clock.set(berlin(2026, 3, 2, 11, 30))
    desk.reply(ticket.id, author="alice", body="Could you send the printer's asset tag?")
    clock.set(berlin(2026, 3, 2, 12, 0))
    ticket = desk.solve(ticket.id, by="alice", resolution="Cleared the paper path")
    assert ticket.status == "solved"
    views = desk.sla(ticket.id)
    assert views["first_response"].state is ClockState.MET
    assert views["first_response"].used == timedelta(hours=1, minutes=30)
    assert views["resolution"].state is ClockState.MET
    assert not any(isinstance(e, SlaWarning | SlaBreached) for e in desk.history(ticket.id))


def test_vpn_ticket_escalated_paused_reprioritised_reopened(
    make_store: Callable[[], Store],
) -> None:
    desk = make_desk(make_store(), berlin(2026, 4, 1, 10, 0))  # Wednesday before Easter
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    ticket = desk.open(requester=ADA, subject="vpn drops every 5 minutes")
    assert ticket.tags == ("vpn",)
    assert ticket.sla["first_response"].deadline == berlin(2026, 4, 1, 14, 0)
    # 24 business hours: Wed 7h, Thu 8h, Good Friday and Easter Monday closed, Tue 8h, Wed 1h.
    assert ticket.sla["resolution"].deadline == berlin(2026, 4, 8, 10, 0)

    # Nobody looks at it; at 75 % of the first-response target the policy escalates.
    clock.set(berlin(2026, 4, 1, 13, 30))
    events = desk.tick()
    assert kinds(events)[:4] == ["SlaWarning", "EscalationTriggered", "Escalated", "Assigned"]
    for event in events[:4]:
        assert event.at == berlin(2026, 4, 1, 13, 0)
    escalated = next(e for e in events if isinstance(e, Escalated))
    assert (escalated.from_tier, escalated.to_tier) == ("L1", "L2")
    ticket = desk.get(ticket.id)
    assert (ticket.tier, ticket.team) == ("L2", "network")
    assert (ticket.assignee, ticket.owner) == ("bob", "alice")
    assert desk.tick() == []  # idempotent

    clock.set(berlin(2026, 4, 1, 13, 40))
    desk.reply(ticket.id, author="bob", body="Which VPN client do you use?")
    ticket = desk.transition(ticket.id, "pending", by="bob", reason="waiting for details")
    assert ticket.sla["first_response"].state is ClockState.MET
    resolution = ticket.sla["resolution"]
    assert resolution.state is ClockState.PAUSED and resolution.deadline is None
    assert resolution.used == timedelta(hours=3, minutes=40)

    # The requester answers after the Easter weekend (Friday and Monday are holidays).
    clock.set(berlin(2026, 4, 7, 10, 0))
    ticket = desk.reply(ticket.id, author="ada", body="AnyConnect 5.1")
    assert ticket.status == "open"
    # 20h20m left: Tue 10-17 (7h), Wed 8h, Thu 09:00 + 5h20m.
    assert ticket.sla["resolution"].deadline == berlin(2026, 4, 9, 14, 20)

    clock.set(berlin(2026, 4, 7, 11, 0))
    ticket = desk.set_priority(ticket.id, "high", by="bob", reason="whole team affected")
    # High: 16h from the original start, keeping the 4h40m used and the pause taken.
    assert ticket.sla["resolution"].target == timedelta(hours=16)
    assert ticket.sla["resolution"].deadline == berlin(2026, 4, 8, 14, 20)

    clock.set(berlin(2026, 4, 7, 15, 0))
    desk.reply(ticket.id, author="bob", body="New profile pushed")
    ticket = desk.solve(ticket.id, by="bob", resolution="Pushed a new VPN profile")
    assert ticket.sla["resolution"].state is ClockState.MET
    assert ticket.sla["resolution"].used == timedelta(hours=8, minutes=40)

    clock.set(berlin(2026, 4, 8, 10, 0))
    ticket = desk.reopen(ticket.id, by="ada", reason="it drops again")
    assert ticket.status == "open" and ticket.reopen_count == 1
    # The resolution clock continues: 7h20m left from Wed 10:00 → Thu 09:20.
    assert ticket.sla["resolution"].deadline == berlin(2026, 4, 9, 9, 20)

    clock.set(berlin(2026, 4, 8, 16, 0))
    desk.reply(ticket.id, author="bob", body="MTU lowered")
    ticket = desk.solve(ticket.id, by="bob", resolution="Lowered the MTU")
    ticket = desk.rate(ticket.id, score=4, comment="Took a while", by="ada")
    assert ticket.satisfaction is not None and ticket.satisfaction.score == 4
    assert ticket.owner == "alice"
    history = desk.history(ticket.id)
    assert sum(isinstance(e, SlaBreached) for e in history) == 0
    assert sum(isinstance(e, EscalationTriggered) for e in history) == 1


def test_p1_breached_overnight_stamped_at_the_deadline(make_store: Callable[[], Store]) -> None:
    desk = make_desk(make_store(), berlin(2026, 4, 10, 22, 0))  # Friday 22:00
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    ticket = desk.open(requester=ADA, subject="Payroll system down", impact="high", urgency="high")
    assert ticket.priority.value == "critical"
    assert ticket.assignee is None and ticket.queued_at == berlin(2026, 4, 10, 22, 0)
    assert ticket.sla["first_response"].deadline == berlin(2026, 4, 10, 22, 30)
    assert ticket.sla["resolution"].deadline == berlin(2026, 4, 11, 2, 0)

    clock.set(berlin(2026, 4, 11, 9, 0))  # nobody ticked overnight
    events = desk.tick()
    breaches = [e for e in events if isinstance(e, SlaBreached)]
    assert [(e.clock.metric.value, e.at) for e in breaches] == [
        ("first_response", berlin(2026, 4, 10, 22, 30)),
        ("resolution", berlin(2026, 4, 11, 2, 0)),
    ]
    warnings = [e for e in events if isinstance(e, SlaWarning)]
    assert [e.at for e in warnings] == [
        berlin(2026, 4, 10, 22, 22, 30),
        berlin(2026, 4, 11, 1, 0),
    ]
    # Still nobody on shift at the weekend: the ticket waits in the queue.
    assert desk.get(ticket.id).assignee is None
    assert desk.next_wakeup() == berlin(2026, 4, 13, 9, 0)

    clock.set(berlin(2026, 4, 13, 9, 0))
    events = desk.tick()
    assigned = [e for e in events if isinstance(e, Assigned)]
    assert [(e.assignee, e.at) for e in assigned] == [("alice", berlin(2026, 4, 13, 9, 0))]


def test_tick_frequency_does_not_change_outcomes(make_store: Callable[[], Store]) -> None:
    # Without automatic assignment (which happens when a tick finds someone on shift),
    # everything tick records is stamped with the instant it became due.
    config = DeskConfig.from_dict({**DESK, "assignment": {"auto_assign": False}})
    start = berlin(2026, 4, 10, 22, 0)
    often = make_desk(make_store(), start, config)
    rarely = make_desk(make_store(), start, config)
    for desk in (often, rarely):
        desk.open(requester=ADA, subject="Payroll down", impact="high", urgency="high")
        desk.open(requester=ADA, subject="vpn slow", impact="low", urgency="low")
    assert isinstance(often.clock, ManualClock) and isinstance(rarely.clock, ManualClock)
    end = berlin(2026, 4, 14, 12, 0)
    t = start
    while t < end:
        t += timedelta(minutes=7)
        often.clock.set(min(t, end))
        often.tick()
    rarely.clock.set(end)
    rarely.tick()
    for ticket_id in ("T-000001", "T-000002"):
        a = [(type(e).__name__, e.at) for e in often.history(ticket_id)]
        b = [(type(e).__name__, e.at) for e in rarely.history(ticket_id)]
        assert a == b
        assert often.get(ticket_id) == rarely.get(ticket_id)
