"""SLA policies chosen by the escalation level or the assignee.

Raising the level or assigning do not start or stop clocks by themselves, but a policy
condition may read the fields they change. When the policy that applies changes, the
clocks are retargeted at that event (not at the next change that happens to concern the
SLA engine), so a breach is stamped at the instant the new target was exceeded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, SequentialIds
from helpdesk_core.model import (
    Actor,
    ClockState,
    Requester,
    SlaBreached,
    SlaClockStarted,
    SlaTargetChanged,
)
from helpdesk_core.sla import select_policy

T0 = datetime(2026, 3, 30, 9, tzinfo=UTC)
H = timedelta(hours=1)
BOB = Actor.agent("bob")


def config(when: dict[str, Any]) -> DeskConfig:
    return DeskConfig.from_dict(
        {
            "calendars": {"always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}},
            "teams": [{"id": "service-desk", "contacts": ["lead"]}],
            "agents": [
                {"id": "bob", "teams": ["service-desk"]},
                {"id": "lead", "teams": ["service-desk"]},
            ],
            "sla_policies": [
                {
                    "name": "special",
                    "calendar": "always",
                    "when": when,
                    "targets": {"medium": {"resolution": "1h"}},
                },
                {
                    "name": "standard",
                    "calendar": "always",
                    "targets": {"medium": {"resolution": "8h"}},
                },
            ],
            "assignment": {"auto_assign": False},
        }
    )


def make_desk(when: dict[str, Any]) -> tuple[Helpdesk, ManualClock]:
    clock = ManualClock(T0)
    desk = Helpdesk(config=config(when), store=MemoryStore(), clock=clock, ids=SequentialIds())
    return desk, clock


def sla_history(desk: Helpdesk, ticket_id: str) -> list[tuple[str, timedelta, str]]:
    return [
        (type(e).__name__, e.at - T0, e.clock.policy)
        for e in desk.history(ticket_id)
        if isinstance(e, SlaClockStarted | SlaTargetChanged | SlaBreached)
    ]


def test_raising_the_level_retargets_at_the_raise() -> None:
    desk, clock = make_desk({"field": "escalation_level", "op": "ge", "value": 1})
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.advance(H / 2)
    desk.raise_level(ticket.id, by=BOB, reason="no progress")

    resolution = desk.get(ticket.id).sla["resolution"]
    assert (resolution.policy, resolution.target) == ("special", H)
    assert resolution.deadline == T0 + H  # the time used before the raise counts

    clock.advance(2 * H)
    desk.tick()
    assert sla_history(desk, ticket.id) == [
        ("SlaClockStarted", timedelta(0), "standard"),
        ("SlaTargetChanged", H / 2, "special"),
        ("SlaBreached", H, "special"),
    ]


def test_assigning_retargets_at_the_assignment_and_reassigning_reverts() -> None:
    desk, clock = make_desk({"field": "assignee", "op": "eq", "value": "lead"})
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.advance(H / 4)
    desk.assign(ticket.id, "lead", by=BOB)
    assert desk.get(ticket.id).sla["resolution"].policy == "special"

    clock.advance(H / 4)
    desk.assign(ticket.id, "bob", by=BOB)
    resolution = desk.get(ticket.id).sla["resolution"]
    assert (resolution.policy, resolution.state) == ("standard", ClockState.RUNNING)
    assert sla_history(desk, ticket.id) == [
        ("SlaClockStarted", timedelta(0), "standard"),
        ("SlaTargetChanged", H / 4, "special"),
        ("SlaTargetChanged", H / 2, "standard"),
    ]


def test_an_assignment_past_the_new_target_breaches_at_the_assignment() -> None:
    desk, clock = make_desk({"field": "assignee", "op": "eq", "value": "lead"})
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.advance(2 * H)
    desk.assign(ticket.id, "lead", by=BOB)
    # 2 h used against the new 1 h target: breached at the change, the later instant
    assert sla_history(desk, ticket.id)[-2:] == [
        ("SlaTargetChanged", 2 * H, "special"),
        ("SlaBreached", 2 * H, "special"),
    ]


def test_an_assignment_that_changes_no_policy_records_no_sla_event() -> None:
    desk, clock = make_desk({"field": "escalation_level", "op": "ge", "value": 1})
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.advance(H)
    assigned = desk.assign(ticket.id, "lead", by=BOB)
    assert assigned.version == ticket.version + 1  # the assignment alone


_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["raise", "assign_lead", "assign_bob", "tick"]),
        st.integers(min_value=1, max_value=120),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(
    when=st.sampled_from(
        [
            {"field": "escalation_level", "op": "ge", "value": 1},
            {"field": "assignee", "op": "eq", "value": "lead"},
        ]
    ),
    steps=_STEPS,
)
def test_running_clocks_always_run_under_the_policy_that_applies(
    when: dict[str, Any], steps: list[tuple[str, int]]
) -> None:
    desk, clock = make_desk(when)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    for action, minutes in steps:
        clock.advance(timedelta(minutes=minutes))
        if action == "raise":
            desk.raise_level(ticket.id, by=BOB, reason="no progress")
        elif action.startswith("assign"):
            desk.assign(ticket.id, action.removeprefix("assign_"), by=BOB)
        else:
            desk.tick()
        current = desk.get(ticket.id)
        policy = select_policy(
            desk.config.sla_policies, current, now=clock.now(), calendars=desk.config.calendars
        )
        assert policy is not None
        resolution = current.sla["resolution"]
        assert (resolution.policy, resolution.target) == (
            policy.name,
            policy.target(current.priority, "resolution"),
        )
        # A breach is never stamped later than the instant the current target ran out.
        if resolution.breached_at is not None:
            assert resolution.breached_at <= max(clock.now(), resolution.deadline)


def test_the_acknowledgement_promises_the_deadline_auto_assignment_chose() -> None:
    """Auto-assignment at the opening picks the policy for the assignee: the opening's
    ``first_response_due`` (what the acknowledgement promises) is that clock's deadline."""
    from helpdesk_core.model import TicketOpened

    document = config({"field": "assignee", "op": "eq", "value": "bob"}).to_dict()
    document["assignment"] = {"auto_assign": True}
    document["agents"] = [{"id": "bob", "teams": ["service-desk"]}]
    document["teams"] = [{"id": "service-desk"}]  # the lead left, and contacts no one
    document["sla_policies"][0]["targets"] = {"medium": {"first_response": "1h"}}
    document["sla_policies"][1]["targets"] = {"medium": {"first_response": "8h"}}
    desk = Helpdesk(
        config=DeskConfig.from_dict(document),
        store=MemoryStore(),
        clock=ManualClock(T0),
        ids=SequentialIds(),
    )
    heard: list[object] = []
    desk.subscribe(heard.append)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock = ticket.sla["first_response"]
    assert (ticket.assignee, clock.policy, clock.deadline) == ("bob", "special", T0 + H)
    opened = next(e for e in heard if isinstance(e, TicketOpened))
    assert opened.first_response_due == T0 + H


def test_an_assignment_retargets_clocks_a_time_condition_left_behind() -> None:
    """A condition reading the assignee and the office hours: the clock started under
    ``standard`` in office hours; assigning the lead after hours applies ``special`` (it
    would apply after hours anyway, so the choice at the assignment alone is the same
    before and after it)."""
    document = config({"field": "assignee", "op": "eq", "value": "lead"}).to_dict()
    document["calendars"]["office"] = {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}
    document["sla_policies"][0]["when"] = {
        "any": [
            {"field": "assignee", "op": "eq", "value": "lead"},
            {"field": "business_hours.office", "op": "eq", "value": False},
        ]
    }
    clock = ManualClock(T0)  # Monday 09:00: the office is open
    desk = Helpdesk(
        config=DeskConfig.from_dict(document), store=MemoryStore(), clock=clock,
        ids=SequentialIds(),
    )
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    assert ticket.sla["resolution"].policy == "standard"
    clock.advance(9 * H)  # 18:00
    desk.assign(ticket.id, "lead", by=BOB)
    assert desk.get(ticket.id).sla["resolution"].policy == "special"
