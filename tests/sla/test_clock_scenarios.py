"""SLA clock scenarios from SEMANTICS.md, with exact instants.

Two calendars: ``office`` is Europe/Berlin, Monday to Friday 09:00-17:00, with Good Friday
(2026-04-03) and Easter Monday (2026-04-06) as holidays; ``always`` is open around the
clock in UTC. Summer time starts in Berlin on Sunday 2026-03-29.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk_core.model import (
    Actor,
    Changes,
    ClockState,
    CommentAdded,
    Event,
    Metric,
    Priority,
    PriorityChanged,
    SlaBreached,
    SlaClock,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaTargetChanged,
    SlaWarning,
    StatusChanged,
    Ticket,
    TicketOpened,
    TicketUpdated,
    apply_event,
    replay,
)
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.clocks import due_events, next_wakeup, react
from helpdesk_core.sla.policy import ReopenMode, SlaPolicy
from helpdesk_core.sla.view import clock_view, sla_view

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
CALENDARS = {
    "office": BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"mon-fri": "09:00-17:00"},
        holidays=[date(2026, 4, 3), date(2026, 4, 6)],
    ),
    "always": BusinessCalendar.always("UTC"),
}
FR, NR, RES, PU = (
    Metric.FIRST_RESPONSE,
    Metric.NEXT_RESPONSE,
    Metric.RESOLUTION,
    Metric.PERIODIC_UPDATE,
)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def policy(
    targets: dict[str, dict[str, str]],
    *,
    calendar: str = "office",
    name: str = "standard",
    **kwargs: object,
) -> SlaPolicy:
    return SlaPolicy(
        name=name,
        condition=Condition.always(),
        targets=targets,
        calendar=calendar,
        **kwargs,  # type: ignore[arg-type]
    )


class Desk:
    """One ticket driven by hand: each domain event is folded, then the SLA engine reacts
    and its events are folded too. ``ticks`` records nothing unless asked."""

    def __init__(
        self,
        sla: SlaPolicy | None,
        *,
        at: datetime,
        priority: str = "medium",
        policies: Sequence[SlaPolicy] = (),
    ) -> None:
        self.policy = sla
        self.policies = [*policies, *([sla] if sla else [])]
        opened = TicketOpened(
            ticket_id="T1",
            at=at,
            by=Actor.requester("ada"),
            number=1,
            requester="ada",
            subject="The printer is on fire",
            priority=priority,
        )
        self.ticket: Ticket = replay([opened])
        self.history: list[Event] = [opened]
        self.sla_events = self.react(opened)

    def fold(self, events: Sequence[Event]) -> None:
        for event in events:
            self.ticket = apply_event(self.ticket, event)
            self.history.append(event)

    def react(self, event: Event) -> list[Event]:
        out = react(
            self.ticket, event, policy=self.policy, policies=self.policies, calendars=CALENDARS
        )
        self.fold(out)
        return out

    def apply(self, event: Event) -> list[Event]:
        self.fold([event])
        return self.react(event)

    def tick(self, now: datetime) -> list[Event]:
        out = due_events(self.ticket, policies=self.policies, calendars=CALENDARS, now=now)
        self.fold(out)
        return out

    def comment(self, at: datetime, *, by: Actor, public: bool = True) -> list[Event]:
        number = len(self.history)
        return self.apply(
            CommentAdded(
                ticket_id="T1", at=at, by=by, comment_id=f"c{number}", body="…", public=public
            )
        )

    def agent_reply(self, at: datetime, *, public: bool = True) -> list[Event]:
        return self.comment(at, by=Actor.agent("bob"), public=public)

    def requester_reply(self, at: datetime) -> list[Event]:
        return self.comment(at, by=Actor.requester("ada"))

    def status(self, at: datetime, category: str) -> list[Event]:
        return self.apply(
            StatusChanged(
                ticket_id="T1",
                at=at,
                by=Actor.agent("bob"),
                transition=f"to_{category}",
                from_status=self.ticket.status,
                to_status=category,
                category=category,
                resolution="fixed" if category == "solved" else None,
            )
        )

    def set_priority(self, at: datetime, priority: str) -> list[Event]:
        return self.apply(
            PriorityChanged(
                ticket_id="T1",
                at=at,
                by=Actor.agent("bob"),
                priority=priority,
                previous=self.ticket.priority,
            )
        )

    def set_policy(self, at: datetime, sla: SlaPolicy | None) -> list[Event]:
        self.policy = sla
        if sla is not None and sla not in self.policies:
            self.policies.append(sla)
        return self.apply(
            TicketUpdated(
                ticket_id="T1",
                at=at,
                by=Actor.agent("bob"),
                changes=Changes(sla_policy=sla.name if sla else None),
            )
        )

    def clock(self, metric: Metric) -> SlaClock:
        return self.ticket.sla[metric.value]


def kinds(events: Sequence[Event]) -> list[tuple[str, str, datetime]]:
    """(event type, metric, instant) of SLA events."""
    return [(type(e).__name__, e.clock.metric.value, e.at) for e in events]  # type: ignore[attr-defined]


# -- starting -------------------------------------------------------------------------


def test_a_clock_opened_outside_hours_accrues_from_the_next_opening() -> None:
    # Saturday 10:00, before the summer-time change; Monday opens at 09:00 CEST.
    desk = Desk(policy({"medium": {"first_response": "4h"}}), at=berlin(2026, 3, 28, 10))
    clock = desk.clock(FR)
    assert clock.state is ClockState.RUNNING
    assert clock.started_at == berlin(2026, 3, 28, 10)
    assert clock.deadline == berlin(2026, 3, 30, 13)
    assert clock.warn_at == berlin(2026, 3, 30, 12)  # 75 % of 4 h
    assert kinds(desk.sla_events) == [
        ("SlaClockStarted", "first_response", berlin(2026, 3, 28, 10))
    ]


def test_only_the_metrics_with_a_target_at_the_priority_get_a_clock() -> None:
    sla = policy(
        {"high": {"first_response": "1h", "resolution": "8h"}, "low": {"resolution": "5d"}}
    )
    assert set(Desk(sla, at=berlin(2026, 3, 30, 9), priority="high").ticket.sla) == {
        "first_response",
        "resolution",
    }
    assert set(Desk(sla, at=berlin(2026, 3, 30, 9), priority="low").ticket.sla) == {"resolution"}
    assert Desk(sla, at=berlin(2026, 3, 30, 9), priority="medium").ticket.sla == {}


def test_a_deadline_reached_at_closing_time_is_that_closing_time() -> None:
    desk = Desk(policy({"medium": {"resolution": "8h"}}), at=berlin(2026, 3, 30, 9))
    assert desk.clock(RES).deadline == berlin(2026, 3, 30, 17)


# -- pauses ---------------------------------------------------------------------------


def test_pause_over_a_weekend_resumes_with_the_time_already_used() -> None:
    desk = Desk(policy({"medium": {"resolution": "16h"}}), at=berlin(2026, 3, 26, 10))  # Thu
    assert desk.clock(RES).deadline == berlin(2026, 3, 30, 10)  # Thu 7h + Fri 8h + Mon 1h

    paused = desk.status(berlin(2026, 3, 27, 12), "pending")  # Fri noon
    assert kinds(paused) == [("SlaClockPaused", "resolution", berlin(2026, 3, 27, 12))]
    clock = desk.clock(RES)
    assert (clock.state, clock.used, clock.deadline, clock.warn_at) == (
        ClockState.PAUSED,
        10 * H,
        None,
        None,
    )
    # The view of a paused clock does not move, whatever the time.
    view = clock_view(clock, CALENDARS, berlin(2026, 3, 29, 20))
    assert (view.state, view.used, view.remaining, view.deadline) == (
        ClockState.PAUSED,
        10 * H,
        6 * H,
        None,
    )

    resumed = desk.status(berlin(2026, 3, 30, 11), "open")  # Mon 11:00 (summer time now)
    assert kinds(resumed) == [("SlaClockResumed", "resolution", berlin(2026, 3, 30, 11))]
    clock = desk.clock(RES)
    assert clock.used == 10 * H  # not recomputed from the start (RT's bug)
    assert clock.paused_total == 7 * H  # Fri 12-17 and Mon 09-11: business time only
    assert clock.deadline == berlin(2026, 3, 30, 17)  # 6 h left, ends at closing time
    assert clock.warn_at == berlin(2026, 3, 30, 13)  # 12 h of 16 h
    assert clock.state is ClockState.RUNNING

    view = sla_view(desk.ticket, CALENDARS, berlin(2026, 3, 30, 16))["resolution"]
    assert (view.used, view.remaining, view.overdue) == (15 * H, H, timedelta(0))


def test_pause_across_holidays_subtracts_only_paused_business_time() -> None:
    # GLPI #10594: a pause's wall-clock length must not be subtracted; only the business
    # time inside it is not counted.
    desk = Desk(policy({"medium": {"resolution": "16h"}}), at=berlin(2026, 4, 1, 9))  # Wed
    desk.status(berlin(2026, 4, 2, 15), "on_hold")  # Thu 15:00: used 8 + 6 = 14 h
    assert desk.clock(RES).used == 14 * H
    # Good Friday, the weekend and Easter Monday pass; resume Tuesday 10:00.
    desk.status(berlin(2026, 4, 7, 10), "open")
    clock = desk.clock(RES)
    assert clock.used == 14 * H
    assert clock.paused_total == 3 * H  # Thu 15-17 and Tue 09-10
    assert clock.deadline == berlin(2026, 4, 7, 12)


def test_response_clocks_never_pause_by_default() -> None:
    sla = policy({"medium": {"first_response": "4h", "resolution": "16h"}})
    desk = Desk(sla, at=berlin(2026, 3, 30, 9))
    events = desk.status(berlin(2026, 3, 30, 10), "pending")
    assert kinds(events) == [("SlaClockPaused", "resolution", berlin(2026, 3, 30, 10))]
    assert desk.clock(FR).state is ClockState.RUNNING
    assert desk.clock(FR).deadline == berlin(2026, 3, 30, 13)


def test_pauses_are_configurable_per_metric() -> None:
    sla = policy(
        {"medium": {"first_response": "4h", "resolution": "16h"}},
        pauses={"first_response": ["pending"], "resolution": []},
    )
    desk = Desk(sla, at=berlin(2026, 3, 30, 9))
    events = desk.status(berlin(2026, 3, 30, 10), "pending")
    assert kinds(events) == [("SlaClockPaused", "first_response", berlin(2026, 3, 30, 10))]
    assert desk.clock(RES).state is ClockState.RUNNING


# -- retargeting ----------------------------------------------------------------------

TIERED = policy(
    {
        "critical": {"resolution": "4h"},
        "high": {"resolution": "8h"},
        "medium": {"resolution": "16h"},
        "low": {"resolution": "40h"},
    }
)


def paused_once() -> Desk:
    """Medium, opened Mon 09:00, pending 12:00-Tue 09:00, now running again."""
    desk = Desk(TIERED, at=berlin(2026, 3, 30, 9))
    desk.status(berlin(2026, 3, 30, 12), "pending")
    desk.status(berlin(2026, 3, 31, 9), "open")
    assert desk.clock(RES).used == 3 * H
    return desk


def test_priority_raised_after_a_pause_recomputes_from_the_original_start() -> None:
    desk = paused_once()
    events = desk.set_priority(berlin(2026, 3, 31, 11), "high")
    assert kinds(events) == [("SlaTargetChanged", "resolution", berlin(2026, 3, 31, 11))]
    changed = events[0]
    assert isinstance(changed, SlaTargetChanged)
    assert "16h" in changed.reason
    assert "8h" in changed.reason
    clock = desk.clock(RES)
    # Time used (3 h Monday + 2 h Tuesday) and the pause are kept (GLPI #15605): 3 h left.
    # Forgetting the pause would have put the deadline at Monday 17:00, already past.
    assert (clock.target, clock.used, clock.as_of) == (8 * H, 5 * H, berlin(2026, 3, 31, 11))
    assert clock.deadline == berlin(2026, 3, 31, 14)
    assert clock.warn_at == berlin(2026, 3, 31, 12)  # 6 h of 8 h
    assert clock.paused_total == 5 * H
    assert clock.started_at == berlin(2026, 3, 30, 9)
    assert clock.breached_at is None


def test_priority_raised_past_the_new_target_breaches_at_the_change_instant() -> None:
    desk = paused_once()
    events = desk.set_priority(berlin(2026, 3, 31, 11), "critical")  # 4 h; 5 h used
    # The new target was exceeded at Tue 10:00; the breach is the later instant: the change.
    assert kinds(events) == [
        ("SlaTargetChanged", "resolution", berlin(2026, 3, 31, 11)),
        ("SlaWarning", "resolution", berlin(2026, 3, 31, 11)),
        ("SlaBreached", "resolution", berlin(2026, 3, 31, 11)),
    ]
    clock = desk.clock(RES)
    assert clock.breached_at == berlin(2026, 3, 31, 11)
    assert clock.state is ClockState.BREACHED
    assert clock.is_running
    assert (clock.warnings_sent, clock.warn_at) == (1, None)
    # Nothing more is due: the breach is recorded once.
    assert desk.tick(berlin(2026, 4, 30, 12)) == []
    assert next_wakeup(desk.ticket) is None
    view = clock_view(clock, CALENDARS, berlin(2026, 3, 31, 13))
    assert (view.used, view.remaining, view.overdue) == (7 * H, timedelta(0), 3 * H)


def test_a_paused_clock_retargeted_past_its_target_breaches_at_the_change() -> None:
    desk = Desk(TIERED, at=berlin(2026, 3, 30, 9))
    desk.status(berlin(2026, 3, 30, 14), "pending")  # 5 h used
    events = desk.set_priority(berlin(2026, 3, 31, 10), "critical")
    assert kinds(events) == [
        ("SlaTargetChanged", "resolution", berlin(2026, 3, 31, 10)),
        ("SlaWarning", "resolution", berlin(2026, 3, 31, 10)),
        ("SlaBreached", "resolution", berlin(2026, 3, 31, 10)),
    ]
    assert desk.clock(RES).state is ClockState.PAUSED
    assert desk.clock(RES).breached_at == berlin(2026, 3, 31, 10)
    desk.status(berlin(2026, 3, 31, 12), "open")
    clock = desk.clock(RES)
    assert (clock.state, clock.deadline, clock.used) == (
        ClockState.BREACHED,
        berlin(2026, 3, 31, 10),
        5 * H,
    )


def test_a_relaxed_target_after_a_breach_breaches_again_only_when_exceeded_again() -> None:
    desk = Desk(TIERED, at=berlin(2026, 3, 30, 9), priority="high")  # 8 h: Mon 17:00
    assert [type(e) for e in desk.tick(berlin(2026, 3, 30, 17))] == [SlaWarning, SlaBreached]
    events = desk.set_priority(berlin(2026, 3, 31, 10), "low")  # 40 h; 9 h used
    assert kinds(events) == [("SlaTargetChanged", "resolution", berlin(2026, 3, 31, 10))]
    clock = desk.clock(RES)
    assert (clock.state, clock.breached_at) == (ClockState.RUNNING, None)
    assert clock.warnings_sent == 1  # one warning per threshold per cycle
    assert clock.deadline == berlin(2026, 4, 7, 17)  # 31 h from Tue 10:00, Easter skipped
    assert desk.tick(berlin(2026, 4, 7, 16, 59)) == []
    assert kinds(desk.tick(berlin(2026, 4, 7, 17))) == [
        ("SlaBreached", "resolution", berlin(2026, 4, 7, 17))
    ]
    breaches = [e.at for e in desk.history if isinstance(e, SlaBreached)]
    assert breaches == [berlin(2026, 3, 30, 17), berlin(2026, 4, 7, 17)]


def test_a_policy_change_keeps_the_time_used_and_moves_to_the_new_calendar() -> None:
    office = policy({"medium": {"resolution": "16h"}}, name="office_hours")
    round_the_clock = policy({"medium": {"resolution": "24h"}}, name="24x7", calendar="always")
    desk = Desk(office, at=berlin(2026, 3, 30, 9))
    events = desk.set_policy(berlin(2026, 3, 30, 15), round_the_clock)  # 6 h used
    assert kinds(events) == [("SlaTargetChanged", "resolution", berlin(2026, 3, 30, 15))]
    clock = desk.clock(RES)
    assert (clock.policy, clock.calendar, clock.used) == ("24x7", "always", 6 * H)
    assert clock.deadline == berlin(2026, 3, 31, 9)  # 18 h round the clock


def test_no_policy_any_more_stops_the_clocks() -> None:
    desk = Desk(policy({"medium": {"first_response": "4h"}}), at=berlin(2026, 3, 30, 9))
    events = desk.set_policy(berlin(2026, 3, 30, 10), None)
    assert kinds(events) == [("SlaClockStopped", "first_response", berlin(2026, 3, 30, 10))]
    assert desk.clock(FR).deadline is None
    assert next_wakeup(desk.ticket) is None


@pytest.mark.parametrize("reopen", list(ReopenMode))
def test_a_target_that_comes_back_continues_the_stopped_clocks(reopen: ReopenMode) -> None:
    """A priority without targets stops the clocks; back at a priority with targets they
    go on with the time they had used, whatever the reopen mode (nothing was reopened)."""
    targets = {"first_response": "4h", "resolution": "8h"}
    sla = policy({"high": targets, "medium": targets}, reopen=reopen)
    desk = Desk(sla, at=berlin(2026, 3, 30, 9), priority="high")
    stopped = desk.set_priority(berlin(2026, 3, 30, 12), "low")
    assert {e.clock.metric for e in stopped} == {FR, RES}  # type: ignore[attr-defined]
    back = desk.set_priority(berlin(2026, 3, 30, 14), "medium")
    assert kinds(back) == [
        ("SlaClockResumed", "first_response", berlin(2026, 3, 30, 14)),
        ("SlaClockResumed", "resolution", berlin(2026, 3, 30, 14)),
    ]
    for metric in (FR, RES):
        clock = desk.clock(metric)
        assert (clock.cycle, clock.used, clock.stopped_at) == (1, 3 * H, None)
    assert desk.clock(FR).deadline == berlin(2026, 3, 30, 15)
    assert kinds(desk.tick(berlin(2026, 3, 30, 16))) == [
        ("SlaBreached", "first_response", berlin(2026, 3, 30, 15))
    ]
    # an agent's reply while the target is away leaves nothing to continue
    calm = Desk(sla, at=berlin(2026, 3, 30, 9), priority="high")
    calm.set_priority(berlin(2026, 3, 30, 10), "low")
    calm.agent_reply(berlin(2026, 3, 30, 11))
    assert [e.clock.metric for e in calm.set_priority(berlin(2026, 3, 30, 12), "high")] == [
        RES
    ]  # type: ignore[attr-defined]
    assert calm.clock(FR).stopped_at == berlin(2026, 3, 30, 10)


def test_a_pause_is_measured_on_each_calendar_it_spans() -> None:
    always = policy({"medium": {"resolution": "8h"}}, calendar="always", name="round_the_clock")
    office = policy({"medium": {"resolution": "8h"}}, name="office_hours")
    desk = Desk(always, at=berlin(2026, 3, 28, 9))  # a Saturday
    desk.status(berlin(2026, 3, 28, 10), "pending")
    desk.set_policy(berlin(2026, 3, 28, 11), office)  # 1h paused on the 24/7 calendar
    desk.status(berlin(2026, 3, 30, 10), "open")  # then Monday 09:00-10:00 in the office
    clock = desk.clock(RES)
    assert (clock.used, clock.paused_total, clock.calendar) == (H, 2 * H, "office")


# -- reopen ---------------------------------------------------------------------------


def solved_and_reopened(reopen: ReopenMode) -> tuple[Desk, list[Event]]:
    sla = policy({"medium": {"first_response": "4h", "resolution": "8h"}}, reopen=reopen)
    desk = Desk(sla, at=berlin(2026, 3, 30, 9))
    desk.agent_reply(berlin(2026, 3, 30, 10))
    solved = desk.status(berlin(2026, 3, 30, 13), "solved")
    assert kinds(solved) == [("SlaClockStopped", "resolution", berlin(2026, 3, 30, 13))]
    assert desk.clock(RES).state is ClockState.MET
    assert desk.clock(RES).used == 4 * H
    return desk, desk.status(berlin(2026, 4, 1, 10), "open")


def test_reopen_continues_resolution_from_the_time_already_used() -> None:
    desk, events = solved_and_reopened(ReopenMode.CONTINUE)
    assert kinds(events) == [("SlaClockResumed", "resolution", berlin(2026, 4, 1, 10))]
    clock = desk.clock(RES)
    assert (clock.cycle, clock.used, clock.stopped_at, clock.state) == (
        1,
        4 * H,
        None,
        ClockState.RUNNING,
    )
    assert clock.deadline == berlin(2026, 4, 1, 14)
    assert desk.clock(FR).state is ClockState.MET  # first response never restarts
    assert desk.clock(FR).stopped_at == berlin(2026, 3, 30, 10)


def test_reopen_may_restart_resolution_with_a_new_cycle() -> None:
    desk, events = solved_and_reopened(ReopenMode.RESTART)
    assert kinds(events) == [("SlaClockStarted", "resolution", berlin(2026, 4, 1, 10))]
    clock = desk.clock(RES)
    assert (clock.cycle, clock.used, clock.started_at) == (2, timedelta(0), berlin(2026, 4, 1, 10))
    assert clock.deadline == berlin(2026, 4, 2, 10)
    # The completed cycle stays in the history.
    stops = [e.clock for e in desk.history if isinstance(e, SlaClockStopped)]
    assert [(c.metric, c.cycle, c.state) for c in stops] == [
        (FR, 1, ClockState.MET),
        (RES, 1, ClockState.MET),
    ]
    assert desk.clock(FR).cycle == 1


# -- warnings and breaches ------------------------------------------------------------


def test_a_breach_while_nobody_ticks_is_stamped_at_the_deadline() -> None:
    desk = Desk(policy({"medium": {"first_response": "4h"}}), at=berlin(2026, 3, 30, 15))
    events = desk.tick(berlin(2026, 5, 4, 12))  # five weeks later
    assert kinds(events) == [
        ("SlaWarning", "first_response", berlin(2026, 3, 31, 10)),  # 3 h of 4 h
        ("SlaBreached", "first_response", berlin(2026, 3, 31, 11)),
    ]
    clock = desk.clock(FR)
    assert clock.breached_at == berlin(2026, 3, 31, 11)
    assert clock.warned_at == berlin(2026, 3, 31, 10)
    assert clock.is_running  # still waiting for the reply
    assert desk.tick(berlin(2026, 5, 5, 12)) == []


def test_a_clock_stopped_after_its_deadline_is_breached_at_the_deadline() -> None:
    desk = Desk(policy({"medium": {"first_response": "4h"}}), at=berlin(2026, 3, 30, 15))
    events = desk.agent_reply(berlin(2026, 3, 31, 13))  # nobody ticked
    assert kinds(events) == [
        ("SlaWarning", "first_response", berlin(2026, 3, 31, 10)),
        ("SlaBreached", "first_response", berlin(2026, 3, 31, 11)),
        ("SlaClockStopped", "first_response", berlin(2026, 3, 31, 13)),
    ]
    clock = desk.clock(FR)
    assert (clock.state, clock.breached_at, clock.stopped_at, clock.used) == (
        ClockState.BREACHED,
        berlin(2026, 3, 31, 11),
        berlin(2026, 3, 31, 13),
        6 * H,
    )
    assert clock.deadline is None


def test_a_reply_before_the_deadline_meets_the_target() -> None:
    desk = Desk(policy({"medium": {"first_response": "4h"}}), at=berlin(2026, 3, 30, 15))
    events = desk.agent_reply(berlin(2026, 3, 31, 10, 59))
    assert [type(e) for e in events] == [SlaWarning, SlaClockStopped]
    assert desk.clock(FR).state is ClockState.MET
    assert desk.clock(FR).used == 4 * H - MIN


def test_warning_at_75_percent_exactly() -> None:
    desk = Desk(
        policy({"medium": {"first_response": "4h"}}, calendar="always"), at=utc(2026, 3, 30, 8)
    )
    assert next_wakeup(desk.ticket) == utc(2026, 3, 30, 11)
    assert desk.tick(utc(2026, 3, 30, 10, 59, 59)) == []
    events = desk.tick(utc(2026, 3, 30, 11))
    assert len(events) == 1
    warning = events[0]
    assert isinstance(warning, SlaWarning)
    assert (warning.at, warning.threshold, warning.by) == (
        utc(2026, 3, 30, 11),
        0.75,
        Actor.system("sla"),
    )
    assert warning.clock.warnings_sent == 1
    assert next_wakeup(desk.ticket) == utc(2026, 3, 30, 12)
    assert desk.tick(utc(2026, 3, 30, 11, 30)) == []  # recorded once


def test_several_warnings_each_once_at_their_own_instants() -> None:
    sla = policy({"medium": {"resolution": "10h"}}, calendar="always", warnings=(0.5, 0.75, 0.9))
    desk = Desk(sla, at=utc(2026, 3, 30, 0))
    seen: list[Event] = []
    for hour in (4, 6, 6, 8, 9, 9, 11, 20):
        seen += desk.tick(utc(2026, 3, 30, hour))
    assert [(type(e).__name__, e.at, getattr(e, "threshold", None)) for e in seen] == [
        ("SlaWarning", utc(2026, 3, 30, 5), 0.5),
        ("SlaWarning", utc(2026, 3, 30, 7, 30), 0.75),
        ("SlaWarning", utc(2026, 3, 30, 9), 0.9),
        ("SlaBreached", utc(2026, 3, 30, 10), None),
    ]
    view = sla_view(desk.ticket, CALENDARS, utc(2026, 3, 30, 20))["resolution"]
    assert (view.state, view.warned, view.overdue) == (ClockState.BREACHED, True, 10 * H)


# -- response cycles ------------------------------------------------------------------


def test_next_response_cycles_per_burst_of_requester_messages() -> None:
    sla = policy({"medium": {"first_response": "1h", "next_response": "2h"}}, calendar="always")
    desk = Desk(sla, at=utc(2026, 3, 30, 8))
    first = desk.agent_reply(utc(2026, 3, 30, 8, 30))
    assert kinds(first) == [("SlaClockStopped", "first_response", utc(2026, 3, 30, 8, 30))]
    assert "next_response" not in desk.ticket.sla  # nothing unanswered

    started = desk.requester_reply(utc(2026, 3, 30, 9))
    assert kinds(started) == [("SlaClockStarted", "next_response", utc(2026, 3, 30, 9))]
    assert desk.requester_reply(utc(2026, 3, 30, 9, 30)) == []  # same burst: no restart
    assert desk.clock(NR).deadline == utc(2026, 3, 30, 11)
    assert desk.agent_reply(utc(2026, 3, 30, 10), public=False) == []  # notes never answer
    met = desk.agent_reply(utc(2026, 3, 30, 10, 20))
    assert kinds(met) == [("SlaClockStopped", "next_response", utc(2026, 3, 30, 10, 20))]
    assert (desk.clock(NR).state, desk.clock(NR).used) == (ClockState.MET, 80 * MIN)

    desk.requester_reply(utc(2026, 3, 30, 12))
    assert (desk.clock(NR).cycle, desk.clock(NR).started_at) == (2, utc(2026, 3, 30, 12))
    late = desk.agent_reply(utc(2026, 3, 30, 14, 30))
    assert kinds(late) == [
        ("SlaWarning", "next_response", utc(2026, 3, 30, 13, 30)),
        ("SlaBreached", "next_response", utc(2026, 3, 30, 14)),
        ("SlaClockStopped", "next_response", utc(2026, 3, 30, 14, 30)),
    ]
    assert desk.clock(NR).state is ClockState.BREACHED
    assert desk.clock(FR).state is ClockState.MET


def test_internal_notes_never_satisfy_the_first_response() -> None:
    desk = Desk(
        policy({"medium": {"first_response": "1h"}}, calendar="always"), at=utc(2026, 3, 30, 8)
    )
    assert desk.agent_reply(utc(2026, 3, 30, 8, 10), public=False) == []
    assert desk.clock(FR).is_running
    assert [type(e) for e in desk.agent_reply(utc(2026, 3, 30, 8, 20))] == [SlaClockStopped]


def test_a_requester_reply_that_reopens_a_ticket_starts_next_response_at_the_reopen() -> None:
    sla = policy({"medium": {"next_response": "2h"}}, calendar="always")
    desk = Desk(sla, at=utc(2026, 3, 30, 8))
    desk.agent_reply(utc(2026, 3, 30, 9))
    desk.status(utc(2026, 3, 30, 10), "solved")
    assert desk.requester_reply(utc(2026, 3, 31, 8)) == []  # solved: no clock runs
    events = desk.status(utc(2026, 3, 31, 8, 5), "open")
    assert kinds(events) == [("SlaClockStarted", "next_response", utc(2026, 3, 31, 8, 5))]


def test_periodic_update_runs_between_public_agent_replies() -> None:
    sla = policy({"medium": {"periodic_update": "1d"}}, calendar="always")
    desk = Desk(sla, at=utc(2026, 3, 30, 8))
    assert desk.ticket.sla == {}  # it starts at the first public agent reply
    started = desk.agent_reply(utc(2026, 3, 30, 9))
    assert kinds(started) == [("SlaClockStarted", "periodic_update", utc(2026, 3, 30, 9))]
    assert desk.agent_reply(utc(2026, 3, 30, 12), public=False) == []
    again = desk.agent_reply(utc(2026, 3, 30, 20))
    assert kinds(again) == [
        ("SlaClockStopped", "periodic_update", utc(2026, 3, 30, 20)),
        ("SlaClockStarted", "periodic_update", utc(2026, 3, 30, 20)),
    ]
    assert [e.clock.cycle for e in again] == [1, 2]  # type: ignore[attr-defined]
    assert again[0].clock.state is ClockState.MET  # type: ignore[attr-defined]
    assert desk.requester_reply(utc(2026, 3, 31, 9)) == []  # only agents' replies count
    assert kinds(desk.tick(utc(2026, 4, 2, 0))) == [
        ("SlaWarning", "periodic_update", utc(2026, 3, 31, 14)),
        ("SlaBreached", "periodic_update", utc(2026, 3, 31, 20)),
    ]
    solved = desk.status(utc(2026, 4, 2, 1), "solved")
    assert kinds(solved) == [("SlaClockStopped", "periodic_update", utc(2026, 4, 2, 1))]
    assert desk.clock(PU).state is ClockState.BREACHED


def test_solving_stops_every_clock() -> None:
    sla = policy({"medium": {"first_response": "4h", "resolution": "8h"}}, calendar="always")
    desk = Desk(sla, at=utc(2026, 3, 30, 8))
    events = desk.status(utc(2026, 3, 30, 9), "solved")
    assert kinds(events) == [
        ("SlaClockStopped", "first_response", utc(2026, 3, 30, 9)),
        ("SlaClockStopped", "resolution", utc(2026, 3, 30, 9)),
    ]
    assert all(c.state is ClockState.MET for c in desk.ticket.sla.values())
    assert next_wakeup(desk.ticket) is None


RAISED = {"low": {"resolution": "40h"}, "high": {"first_response": "1h", "resolution": "8h"}}


def test_a_metric_gaining_a_target_counts_from_its_original_start() -> None:
    desk = Desk(policy(RAISED), at=berlin(2026, 3, 30, 9), priority="low")
    assert FR.value not in desk.ticket.sla  # no first-response target for low tickets
    events = desk.set_priority(berlin(2026, 3, 30, 14), "high")
    # As resolution is recomputed from its start (5 h used of 8 h), so is the first
    # response owed since the opening: exceeded at 10:00, breached at the change.
    assert desk.clock(RES).used == 5 * H
    first = desk.clock(FR)
    assert (first.started_at, first.used) == (berlin(2026, 3, 30, 9), 5 * H)
    assert ("SlaBreached", "first_response", berlin(2026, 3, 30, 14)) in kinds(events)
    assert first.breached_at == berlin(2026, 3, 30, 14)


def test_a_metric_gaining_a_target_it_already_met_starts_no_clock() -> None:
    desk = Desk(policy(RAISED), at=berlin(2026, 3, 30, 9), priority="low")
    desk.agent_reply(berlin(2026, 3, 30, 10))  # the first response, while none was owed
    desk.set_priority(berlin(2026, 3, 30, 14), "high")
    assert FR.value not in desk.ticket.sla


def test_a_policy_applied_later_counts_its_clocks_from_their_original_start() -> None:
    desk = Desk(None, at=berlin(2026, 3, 30, 9))
    assert desk.ticket.sla == {}
    events = desk.set_policy(
        berlin(2026, 3, 30, 10), policy({"medium": {"first_response": "4h", "resolution": "1d"}})
    )
    assert kinds(events) == [
        ("SlaClockStarted", "first_response", berlin(2026, 3, 30, 10)),
        ("SlaClockStarted", "resolution", berlin(2026, 3, 30, 10)),
    ]
    # The first response is owed since the opening: the hour before counts.
    first = desk.clock(FR)
    assert (first.started_at, first.used) == (berlin(2026, 3, 30, 9), H)
    assert first.deadline == berlin(2026, 3, 30, 13)
    # Resolution pauses (pending, on hold), which a ticket keeps no record of: it starts
    # at the change.
    assert desk.clock(RES).started_at == berlin(2026, 3, 30, 10)
    assert desk.clock(RES).deadline == berlin(2026, 4, 2, 10)  # 1d = 24 business hours
    assert desk.clock(RES).target == 24 * H


def test_a_policy_applied_later_breaches_at_once_when_its_target_is_already_exceeded() -> None:
    desk = Desk(None, at=berlin(2026, 3, 30, 9))
    events = desk.set_policy(
        berlin(2026, 3, 30, 12),
        policy({"medium": {"first_response": "2h"}}, warnings=(0.5,)),
    )
    # Exceeded at 11:00, before the change: warned and breached at the change.
    assert kinds(events) == [
        ("SlaClockStarted", "first_response", berlin(2026, 3, 30, 12)),
        ("SlaWarning", "first_response", berlin(2026, 3, 30, 12)),
        ("SlaBreached", "first_response", berlin(2026, 3, 30, 12)),
    ]
    assert desk.clock(FR).used == 3 * H


@pytest.mark.parametrize("priority", [p.value for p in Priority])
def test_replaying_the_history_rebuilds_the_same_clocks(priority: str) -> None:
    desk = paused_once()
    desk.set_priority(berlin(2026, 3, 31, 11), priority)
    desk.tick(berlin(2026, 4, 20, 9))
    desk.status(berlin(2026, 4, 20, 10), "solved")
    assert replay(desk.history) == desk.ticket
    assert all(
        e.by == Actor.system("sla")
        for e in desk.history
        if isinstance(e, SlaClockStarted | SlaClockPaused | SlaClockResumed | SlaWarning)
    )
