"""The SLA engine's API: input validation, wake-ups, live views, events' shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from attrs import evolve

from helpdesk_core.codec import event_from_dict, event_to_dict
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import (
    Actor,
    ClockState,
    CommentAdded,
    Event,
    Metric,
    PriorityChanged,
    SlaBreached,
    SlaClockPaused,
    SlaClockStarted,
    SlaClockStopped,
    SlaTargetChanged,
    SlaWarning,
    StatusChanged,
    Ticket,
    TicketOpened,
    apply_event,
    replay,
)
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.clocks import (
    NO_TARGET,
    SLA_ACTOR,
    due_events,
    next_wakeup,
    next_wakeup_many,
    react,
)
from helpdesk_core.sla.policy import SlaPolicy
from helpdesk_core.sla.view import SlaView, clock_view, sla_view
from helpdesk_core.storage.codecs import decode_event, encode_event

H = timedelta(hours=1)
T0 = datetime(2026, 3, 30, 8, tzinfo=UTC)
ALWAYS = BusinessCalendar.always("UTC")
CALENDARS = {"always": ALWAYS}
POLICY = SlaPolicy(
    name="basic",
    calendar="always",
    targets={"medium": {"first_response": "4h", "resolution": "10h"}, "high": {"resolution": "5h"}},
)


def opened(ticket_id: str = "T1", at: datetime = T0, **fields: Any) -> TicketOpened:
    return TicketOpened(
        ticket_id=ticket_id,
        at=at,
        by=Actor.requester("ada"),
        number=1,
        requester="ada",
        subject="Help",
        **fields,
    )


def start(ticket_id: str = "T1", at: datetime = T0, **fields: Any) -> Ticket:
    event = opened(ticket_id, at, **fields)
    ticket = replay([event])
    for sla_event in react(ticket, event, policy=POLICY, policies=[POLICY], calendars=CALENDARS):
        ticket = apply_event(ticket, sla_event)
    return ticket


def step(
    ticket: Ticket, event: Event, policy: SlaPolicy | None = POLICY
) -> tuple[Ticket, list[Event]]:
    ticket = apply_event(ticket, event)
    out = react(ticket, event, policy=policy, policies=[POLICY], calendars=CALENDARS)
    for sla_event in out:
        ticket = apply_event(ticket, sla_event)
    return ticket, out


def status(at: datetime, category: str) -> StatusChanged:
    return StatusChanged(
        ticket_id="T1",
        at=at,
        by=Actor.agent("bob"),
        transition=category,
        from_status="x",
        to_status=category,
        category=category,
    )


def note(at: datetime) -> CommentAdded:
    return CommentAdded(
        ticket_id="T1", at=at, by=Actor.agent("bob"), comment_id="n1", body="hm", public=False
    )


# -- react ----------------------------------------------------------------------------


def test_react_stamps_events_with_the_event_instant_and_the_sla_actor() -> None:
    event = opened()
    out = react(replay([event]), event, policy=POLICY, policies=[POLICY], calendars=CALENDARS)
    assert [type(e) for e in out] == [SlaClockStarted, SlaClockStarted]
    assert all(e.at == T0 and e.by == SLA_ACTOR == Actor.system("sla") for e in out)
    assert all(e.ticket_id == "T1" for e in out)


def test_react_without_a_policy_starts_nothing() -> None:
    event = opened()
    assert react(replay([event]), event, policy=None, policies=[], calendars={}) == []


def test_react_to_an_event_that_changes_nothing_records_nothing() -> None:
    ticket = start()
    ticket, out = step(ticket, note(T0 + H))
    assert out == []
    ticket, out = step(
        ticket,
        PriorityChanged(
            ticket_id="T1", at=T0 + H, by=Actor.agent("bob"), priority="medium", previous="medium"
        ),
    )
    assert out == []


def test_react_ignores_sla_events() -> None:
    ticket = start()
    sla_event = SlaWarning(ticket_id="T1", at=T0, by=SLA_ACTOR, clock=ticket.sla["resolution"])
    assert react(ticket, sla_event, policy=POLICY, policies=[POLICY], calendars=CALENDARS) == []


def test_a_ticket_opened_in_a_pausing_category_starts_resolution_paused() -> None:
    ticket = start(status="waiting", status_category="pending")
    clock = ticket.sla["resolution"]
    assert (clock.state, clock.deadline, clock.used) == (ClockState.PAUSED, None, timedelta(0))
    assert ticket.sla["first_response"].state is ClockState.RUNNING
    ticket, _out = step(ticket, status(T0 + 2 * H, "open"))
    assert ticket.sla["resolution"].deadline == T0 + 12 * H
    assert ticket.sla["resolution"].paused_total == 2 * H


def test_a_ticket_opened_solved_gets_no_clock() -> None:
    assert start(status="solved", status_category="solved").sla == {}


def test_a_calendar_change_alone_retargets() -> None:
    moved = evolve(POLICY, calendar="office")
    office = BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})
    ticket = start()
    event = note(T0 + H)
    ticket = apply_event(ticket, event)
    out = react(
        ticket, event, policy=moved, policies=[moved], calendars={**CALENDARS, "office": office}
    )
    assert [type(e) for e in out] == [SlaTargetChanged, SlaTargetChanged]
    assert "calendar" in out[0].reason  # type: ignore[attr-defined]
    resolution = out[1].clock  # type: ignore[attr-defined]
    assert (resolution.calendar, resolution.used) == ("office", H)
    assert resolution.deadline == datetime(2026, 3, 31, 10, tzinfo=UTC)  # 9 h of office time


@pytest.mark.parametrize("bad", ["ticket_id", "order"])
def test_react_checks_its_inputs(bad: str) -> None:
    ticket = start()
    if bad == "ticket_id":
        event: Event = note(T0 + H)
        other = evolve(event, ticket_id="T2")
        with pytest.raises(ValidationError, match=r"event\.ticket_id"):
            react(
                apply_event(ticket, event), other, policy=POLICY, policies=[], calendars=CALENDARS
            )
    else:
        with pytest.raises(ValidationError, match="after the event was applied"):
            react(ticket, note(T0 + H), policy=POLICY, policies=[], calendars=CALENDARS)


def test_react_refuses_events_older_than_a_clock_change() -> None:
    ticket, _ = step(start(), status(T0 + 2 * H, "pending"))
    late = status(T0 + H, "open")
    ticket = apply_event(ticket, late)
    with pytest.raises(ValidationError, match="move forward only"):
        react(ticket, late, policy=POLICY, policies=[POLICY], calendars=CALENDARS)


def test_react_refuses_a_policy_of_the_wrong_type() -> None:
    event = opened()
    with pytest.raises(ValidationError, match="SlaPolicy"):
        react(replay([event]), event, policy="basic", policies=[], calendars=CALENDARS)  # type: ignore[arg-type]


def test_unknown_calendar_is_named() -> None:
    elsewhere = evolve(POLICY, calendar="nowhere")
    event = opened()
    with pytest.raises(ConfigError, match="unknown calendar 'nowhere'") as caught:
        react(replay([event]), event, policy=elsewhere, policies=[], calendars=CALENDARS)
    assert caught.value.path == "calendars.nowhere"
    with pytest.raises(ConfigError, match=r"calendars\.always"):
        due_events(start(), policies=[POLICY], calendars={}, now=T0)


def test_unknown_policy_of_a_running_clock_is_named() -> None:
    with pytest.raises(ConfigError, match="'basic'") as caught:
        due_events(start(), policies=[], calendars=CALENDARS, now=T0)
    assert caught.value.path == "policies.basic"


# -- due_events and wake-ups ------------------------------------------------------------


def test_due_events_takes_policies_as_a_list_or_by_name() -> None:
    ticket = start()
    now = T0 + 20 * H
    by_list = due_events(ticket, policies=[POLICY], calendars=CALENDARS, now=now)
    by_name = due_events(ticket, policies={"basic": POLICY}, calendars=CALENDARS, now=now)
    assert by_list == by_name
    assert [(type(e).__name__, e.at) for e in by_list] == [
        ("SlaWarning", T0 + 3 * H),
        ("SlaBreached", T0 + 4 * H),
        ("SlaWarning", T0 + 7.5 * H),
        ("SlaBreached", T0 + 10 * H),
    ]


def test_due_events_one_at_a_time_gives_the_same_events() -> None:
    ticket = start()
    now = T0 + 20 * H
    everything = due_events(ticket, policies=[POLICY], calendars=CALENDARS, now=now)
    collected: list[Event] = []
    while due := due_events(ticket, policies=[POLICY], calendars=CALENDARS, now=now):
        collected.append(due[0])
        ticket = apply_event(ticket, due[0])
    assert collected == everything


def test_due_events_needs_an_aware_now() -> None:
    with pytest.raises(ValidationError, match="naive"):
        due_events(start(), policies=[POLICY], calendars=CALENDARS, now=datetime(2026, 3, 30, 9))
    with pytest.raises(ValidationError, match="calendars"):
        due_events(start(), policies=[POLICY], calendars=[ALWAYS], now=T0)  # type: ignore[arg-type]


def test_next_wakeup_follows_warnings_then_deadlines() -> None:
    ticket = start()
    assert next_wakeup(ticket) == T0 + 3 * H
    for expected in (T0 + 4 * H, T0 + 7.5 * H, T0 + 10 * H, None):
        now = next_wakeup(ticket)
        assert now is not None
        for event in due_events(ticket, policies=[POLICY], calendars=CALENDARS, now=now):
            ticket = apply_event(ticket, event)
        assert next_wakeup(ticket) == expected


def test_paused_and_stopped_clocks_do_not_wake_anyone() -> None:
    ticket, _ = step(start(), status(T0 + H, "pending"))
    assert next_wakeup(ticket) == T0 + 3 * H  # first response still runs
    ticket, _ = step(ticket, status(T0 + 2 * H, "solved"))
    assert next_wakeup(ticket) is None
    assert next_wakeup(replay([opened()])) is None


def test_next_wakeup_many_is_the_earliest() -> None:
    early = start("A")
    late = start("B", at=T0 + 5 * H)
    assert next_wakeup_many([late, early, replay([opened("C")])]) == T0 + 3 * H
    assert next_wakeup_many([]) is None


# -- views ----------------------------------------------------------------------------


def test_view_of_a_running_clock_is_live() -> None:
    ticket = start()
    view = clock_view(ticket.sla["resolution"], ALWAYS, T0 + 4 * H)
    assert isinstance(view, SlaView)
    assert (view.state, view.used, view.remaining, view.overdue) == (
        ClockState.RUNNING,
        4 * H,
        6 * H,
        timedelta(0),
    )
    assert (view.deadline, view.breached_at, view.warned) == (T0 + 10 * H, None, False)
    assert view.fraction_used == pytest.approx(0.4)
    assert view.as_of == T0 + 4 * H


def test_view_shows_a_breach_before_anyone_records_it() -> None:
    ticket = start()
    views = sla_view(ticket, CALENDARS, T0 + 12 * H)
    assert list(views) == ["first_response", "resolution"]
    view = views["resolution"]
    assert (view.state, view.breached_at, view.warned, view.overdue) == (
        ClockState.BREACHED,
        T0 + 10 * H,
        True,
        2 * H,
    )
    assert not ticket.sla["resolution"].is_breached  # nothing recorded yet


def test_view_of_paused_and_stopped_clocks_does_not_move() -> None:
    ticket, _ = step(start(), status(T0 + H, "pending"))
    paused = clock_view(ticket.sla["resolution"], CALENDARS, T0 + 50 * H)
    assert (paused.state, paused.used, paused.deadline) == (ClockState.PAUSED, H, None)
    ticket, _ = step(ticket, status(T0 + 2 * H, "solved"))
    for later in (T0 + 2 * H, T0 + 500 * H):
        met = clock_view(ticket.sla["resolution"], CALENDARS, later)
        assert (met.state, met.used, met.stopped_at, met.paused_total) == (
            ClockState.MET,
            H,
            T0 + 2 * H,
            H,
        )
        assert met.remaining == 9 * H


def test_view_checks_its_inputs() -> None:
    clock = start().sla["resolution"]
    with pytest.raises(ValidationError, match="naive"):
        clock_view(clock, ALWAYS, datetime(2026, 3, 30, 9))
    with pytest.raises(ValidationError, match="before the resolution clock's last change"):
        clock_view(clock, ALWAYS, T0 - H)
    with pytest.raises(ConfigError, match="unknown calendar 'always'"):
        clock_view(clock, {}, T0)
    with pytest.raises(ValidationError, match="SlaClock"):
        clock_view("resolution", ALWAYS, T0)  # type: ignore[arg-type]


def test_sla_view_checks_its_inputs_whatever_clocks_the_ticket_has() -> None:
    for ticket in (start(), replay([opened("T1", T0)])):  # with clocks, and with none
        with pytest.raises(ValidationError, match="naive") as refused:
            sla_view(ticket, {"always": ALWAYS}, datetime(2026, 3, 30, 9))
        assert refused.value.field == "now"
        with pytest.raises(ValidationError) as refused:
            sla_view(ticket, [ALWAYS], T0)  # type: ignore[arg-type]
        assert refused.value.field == "calendars"


def test_views_are_frozen() -> None:
    view = clock_view(start().sla["resolution"], ALWAYS, T0)
    with pytest.raises(AttributeError):
        view.used = H  # type: ignore[misc]
    assert view.metric is Metric.RESOLUTION


# -- events ---------------------------------------------------------------------------


def test_sla_events_round_trip_through_the_codec() -> None:
    ticket = start()
    ticket, out = step(ticket, status(T0 + H, "pending"))
    events = [*out, *due_events(ticket, policies=[POLICY], calendars=CALENDARS, now=T0 + 9 * H)]
    assert [(type(e), e.at) for e in events] == [
        (SlaClockPaused, T0 + H),
        (SlaWarning, T0 + 3 * H),
        (SlaBreached, T0 + 4 * H),
    ]
    for event in events:
        assert event_from_dict(event_to_dict(event)) == event


def test_react_refuses_events_older_than_a_recorded_warning() -> None:
    ticket = start()
    for event in due_events(ticket, policies=[POLICY], calendars=CALENDARS, now=T0 + 5 * H):
        ticket = apply_event(ticket, event)
    assert ticket.sla["first_response"].breached_at == T0 + 4 * H
    early = note(T0 + 3.5 * H)
    with pytest.raises(ValidationError, match="move forward only"):
        react(
            apply_event(ticket, early), early, policy=POLICY, policies=[POLICY], calendars=CALENDARS
        )


def test_a_clock_stopped_for_want_of_a_target_says_so() -> None:
    ticket = start()
    raised = PriorityChanged(
        ticket_id="T1", at=T0 + H, by=Actor.agent("bob"), priority="high", previous="medium"
    )
    ticket, out = step(ticket, raised)  # high has no first-response target
    assert [(type(e), e.metric, getattr(e, "reason", None)) for e in out] == [
        (SlaClockStopped, Metric.FIRST_RESPONSE, NO_TARGET),
        (SlaTargetChanged, Metric.RESOLUTION, "priority high: target 10h changed to 5h"),
    ]
    assert ticket.sla["first_response"].state is ClockState.MET  # as any stopped clock
    _, out = step(ticket, status(T0 + 2 * H, "open"), policy=None)  # no policy applies
    assert [(type(e), e.metric, getattr(e, "reason", None)) for e in out] == [
        (SlaClockStopped, Metric.RESOLUTION, NO_TARGET)
    ]


def test_a_clock_stopped_by_its_own_events_has_no_reason() -> None:
    ticket = start()
    ticket, out = step(ticket, status(T0 + H, "solved"))
    assert [(type(e), e.reason) for e in out if isinstance(e, SlaClockStopped)] == [
        (SlaClockStopped, ""),
        (SlaClockStopped, ""),
    ]


def test_a_stop_reason_round_trips_and_old_stops_without_one_still_decode() -> None:
    ticket = start()
    raised = PriorityChanged(
        ticket_id="T1", at=T0 + H, by=Actor.agent("bob"), priority="high", previous="medium"
    )
    _, out = step(ticket, raised)
    stop = out[0]
    assert isinstance(stop, SlaClockStopped) and stop.reason == NO_TARGET
    assert event_from_dict(event_to_dict(stop)) == stop
    assert decode_event(encode_event(stop)) == stop
    plain = event_to_dict(stop)
    del plain["reason"]  # written before stops had a reason
    old = evolve(stop, reason="")
    assert event_from_dict(plain) == old
    assert decode_event(encode_event(stop).replace(',"reason":"no_target"', "")) == old
