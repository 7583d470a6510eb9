"""Warning thresholds whose values change while clocks run (a reconfigured policy).

A running clock is armed for its next warning under the thresholds its policy had then.
When the policy's thresholds change value, the clock is re-armed at its next catch-up
(``due_events``), or when the warning armed under the old value falls due, whichever
comes first: the warnings already recorded stay recorded (each threshold once per
cycle), one the time used has passed is recorded at the re-arming, and the next one
falls due at its own exact instant, as on a clock that ran under the new thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st
from test_clock_properties import CALENDARS

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Actor,
    CommentAdded,
    Event,
    Metric,
    SlaBreached,
    SlaTargetChanged,
    SlaWarning,
    Ticket,
    TicketOpened,
    apply_event,
    replay,
)
from helpdesk_core.sla import BusinessCalendar, SlaEngine, SlaPolicy

T0 = datetime(2026, 3, 30, 0, tzinfo=UTC)
H = timedelta(hours=1)
ALWAYS = {"always": CALENDARS["always"]}


def policy(warnings: Sequence[float], calendar: str = "always", **targets: str) -> SlaPolicy:
    return SlaPolicy(
        name="p",
        calendar=calendar,
        warnings=tuple(warnings),
        targets={"medium": targets or {"resolution": "10h"}},
    )


def opened(under: SlaPolicy, at: datetime = T0) -> Ticket:
    event = TicketOpened(ticket_id="T", at=at, by=Actor.requester("ada"), number=1,
                         requester="ada", subject="Help")  # fmt: skip
    ticket = replay([event])
    return fold(ticket, SlaEngine([under], CALENDARS).react(ticket, event, policy=under))


def fold(ticket: Ticket, events: Sequence[Event]) -> Ticket:
    for event in events:
        ticket = apply_event(ticket, event)
    return ticket


def shown(events: Sequence[Event]) -> list[tuple[str, timedelta, float | None]]:
    return [(type(e).__name__, e.at - T0, getattr(e, "threshold", None)) for e in events]


def test_a_lowered_threshold_ahead_of_the_clock_is_armed_at_its_own_instant() -> None:
    ticket = opened(policy([0.75]))
    engine = SlaEngine([policy([0.5])], ALWAYS)
    assert engine.next_wakeup(ticket) == T0 + 7.5 * H  # armed under 0.75
    assert engine.next_wakeup(ticket, rearm=True) == T0  # due at once: re-armed then
    rearmed = engine.due_events(ticket, now=T0 + 3 * H)
    assert shown(rearmed) == [("SlaTargetChanged", 3 * H, None)]
    assert "warning thresholds" in rearmed[0].reason  # type: ignore[attr-defined]
    ticket = fold(ticket, rearmed)
    assert ticket.sla["resolution"].warn_at == T0 + 5 * H
    assert ticket.sla["resolution"].deadline == T0 + 10 * H  # unchanged
    assert engine.next_wakeup(ticket) == engine.next_wakeup(ticket, rearm=True) == T0 + 5 * H
    assert shown(engine.due_events(ticket, now=T0 + 12 * H)) == [
        ("SlaWarning", 5 * H, 0.5),
        ("SlaBreached", 10 * H, None),
    ]


def test_a_lowered_threshold_the_clock_has_passed_is_recorded_at_the_catch_up() -> None:
    ticket = opened(policy([0.75]))
    engine = SlaEngine([policy([0.5])], ALWAYS)
    assert engine.next_wakeup(ticket, rearm=True) == T0  # due at once
    # Caught up at 6 h: 50 % was passed at 5 h, under the old 75 %: recorded now, as a
    # retarget records the thresholds it puts behind the time used.
    assert shown(engine.due_events(ticket, now=T0 + 6 * H)) == [
        ("SlaTargetChanged", 6 * H, None),
        ("SlaWarning", 6 * H, 0.5),
    ]
    # Caught up only after the old instant: re-armed there, no later.
    late = engine.due_events(ticket, now=T0 + 9 * H)
    assert shown(late) == [("SlaTargetChanged", 7.5 * H, None), ("SlaWarning", 7.5 * H, 0.5)]
    ticket = fold(ticket, late)
    assert engine.due_events(ticket, now=T0 + 9 * H) == []  # not recorded twice


def test_a_raised_threshold_is_recorded_at_its_own_instant_not_the_old_one() -> None:
    ticket = opened(policy([0.75]))
    engine = SlaEngine([policy([0.9])], ALWAYS)
    assert engine.next_wakeup(ticket, rearm=True) == T0  # due at once
    assert shown(engine.due_events(ticket, now=T0 + 12 * H)) == [
        ("SlaTargetChanged", 7.5 * H, None),
        ("SlaWarning", 9 * H, 0.9),
        ("SlaBreached", 10 * H, None),
    ]


def test_thresholds_above_the_highest_recorded_are_recorded_whatever_their_position() -> None:
    ticket = opened(policy([0.25, 0.75]))
    ticket = fold(ticket, SlaEngine([policy([0.25, 0.75])], ALWAYS).due_events(
        ticket, now=T0 + 3 * H))  # fmt: skip
    clock = ticket.sla["resolution"]
    assert (clock.warnings_sent, clock.warned_threshold) == (1, 0.25)
    # 0.4 takes the place of 0.25 in the list, but is another threshold, above it.
    engine = SlaEngine([policy([0.4, 0.6])], ALWAYS)
    assert shown(engine.due_events(ticket, now=T0 + 12 * H)) == [
        ("SlaTargetChanged", 7.5 * H, None),
        ("SlaWarning", 7.5 * H, 0.4),
        ("SlaWarning", 7.5 * H, 0.6),
        ("SlaBreached", 10 * H, None),
    ]


def test_a_threshold_at_or_below_the_highest_recorded_is_not_recorded() -> None:
    ticket = opened(policy([0.75]))
    ticket = fold(ticket, SlaEngine([policy([0.75])], ALWAYS).due_events(ticket, now=T0 + 8 * H))
    engine = SlaEngine([policy([0.5, 0.75])], ALWAYS)
    assert engine.next_wakeup(ticket, rearm=True) == T0 + 10 * H  # the deadline only
    assert shown(engine.due_events(ticket, now=T0 + 12 * H)) == [("SlaBreached", 10 * H, None)]


def test_a_clock_stored_with_only_its_count_of_warnings_reads_it_by_position() -> None:
    ticket = opened(policy([0.25, 0.75]))
    ticket = fold(ticket, SlaEngine([policy([0.25, 0.75])], ALWAYS).due_events(
        ticket, now=T0 + 3 * H))  # fmt: skip
    clock = ticket.sla["resolution"]
    # As stored before the threshold was recorded: one warning, of the first threshold.
    old = evolve(ticket, sla={"resolution": evolve(clock, warned_threshold=None)})
    engine = SlaEngine([policy([0.25, 0.75])], ALWAYS)
    assert engine.next_wakeup(old) == engine.next_wakeup(old, rearm=True) == T0 + 7.5 * H
    later = engine.due_events(old, now=T0 + 12 * H)
    assert shown(later) == [("SlaWarning", 7.5 * H, 0.75), ("SlaBreached", 10 * H, None)]
    assert later[0].clock.warned_threshold == 0.75  # type: ignore[attr-defined]
    assert later[0].clock.warnings_sent == 2  # type: ignore[attr-defined]


def test_an_event_after_the_old_instant_rearms_there_before_it_acts() -> None:
    ticket = opened(policy([0.75]))
    new = policy([0.9])
    engine = SlaEngine([new], ALWAYS)
    note = CommentAdded(ticket_id="T", at=T0 + 8 * H, by=Actor.agent("bob"), comment_id="c1",
                        body="looking", public=False)  # fmt: skip
    ticket = apply_event(ticket, note)
    out = engine.react(ticket, note, policy=new)
    assert shown(out) == [("SlaTargetChanged", 7.5 * H, None)]  # no warning labelled 0.9
    assert fold(ticket, out).sla["resolution"].warn_at == T0 + 9 * H


def test_a_threshold_gained_after_the_last_one_was_recorded_is_armed_at_the_catch_up() -> None:
    ticket = opened(policy([0.5]))
    ticket = fold(ticket, SlaEngine([policy([0.5])], ALWAYS).due_events(ticket, now=T0 + 6 * H))
    assert ticket.sla["resolution"].warn_at is None  # nothing more to warn of
    engine = SlaEngine([policy([0.5, 0.9])], ALWAYS)
    assert engine.next_wakeup(ticket) == T0 + 10 * H  # the deadline
    assert engine.next_wakeup(ticket, rearm=True) == T0  # due at once
    assert shown(engine.due_events(ticket, now=T0 + 7 * H)) == [("SlaTargetChanged", 7 * H, None)]
    # Caught up only after the deadline: re-armed there, before the breach.
    assert shown(engine.due_events(ticket, now=T0 + 12 * H)) == [
        ("SlaTargetChanged", 10 * H, None),
        ("SlaWarning", 10 * H, 0.9),
        ("SlaBreached", 10 * H, None),
    ]


def test_a_calendar_whose_hours_changed_retargets_its_running_clocks() -> None:
    nine_to_five = {"office": BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})}
    eight_to_six = {"office": BusinessCalendar(timezone="UTC", hours={"mon-fri": "08:00-18:00"})}
    office = SlaPolicy(name="p", calendar="office", targets={"medium": {"resolution": "16h"}})
    event = TicketOpened(ticket_id="T", at=T0, by=Actor.requester("ada"), number=1,
                         requester="ada", subject="Help")  # fmt: skip
    ticket = replay([event])
    ticket = fold(ticket, SlaEngine([office], nine_to_five).react(ticket, event, policy=office))
    # Armed on the old hours: warning on Tuesday 13:00, deadline Tuesday 17:00.
    assert ticket.sla["resolution"].warn_at == T0 + 37 * H
    engine = SlaEngine([office], eight_to_six)
    assert engine.next_wakeup(ticket, rearm=True) == T0  # due at once
    # Caught up on Monday 01:00: retargeted there, on the new hours (Tuesday 14:00).
    early = engine.due_events(ticket, now=T0 + H)
    assert shown(early) == [("SlaTargetChanged", H, None)]
    assert early[0].reason == "SLA policy 'p': calendar 'office' changed"  # type: ignore[attr-defined]
    assert fold(ticket, early).sla["resolution"].deadline == T0 + 38 * H
    # Caught up only days later: retargeted no later than the instant the clock was armed
    # for (15 h used by Tuesday 13:00 on the new hours), nothing recorded on the old ones.
    assert shown(engine.due_events(ticket, now=T0 + 3 * 24 * H)) == [
        ("SlaTargetChanged", 37 * H, None),
        ("SlaWarning", 37 * H, 0.75),
        ("SlaBreached", 38 * H, None),
    ]


def test_next_wakeup_checks_rearm() -> None:
    engine = SlaEngine([policy([0.5])], ALWAYS)
    with pytest.raises(ValidationError) as refused:
        engine.next_wakeup(opened(policy([0.5])), rearm=1)  # type: ignore[arg-type]
    assert refused.value.field == "rearm"


def test_unchanged_thresholds_record_nothing_more() -> None:
    for warnings in ([0.75], [0.5, 0.75, 0.9]):
        ticket = opened(policy(warnings, "office", first_response="2h", resolution="9h"))
        engine = SlaEngine([policy(warnings, "office", first_response="2h", resolution="9h")],
                           CALENDARS)  # fmt: skip
        for hours in (0, 1, 5, 30):
            assert not [
                e
                for e in engine.due_events(ticket, now=T0 + hours * H)
                if isinstance(e, SlaTargetChanged)
            ]


def test_a_deadline_in_the_repeated_hour_of_a_fall_back_night_is_no_changed_calendar() -> None:
    # Berlin goes back from 03:00 CEST to 02:00 CET on 2026-10-25: a 10-hour target from
    # 14:30 UTC the day before falls due at 02:30 CEST, the first 02:30 of the night, and
    # from 15:30 UTC at 02:30 CET, the second.
    berlin = {"always": BusinessCalendar.always("Europe/Berlin")}
    under = policy([0.75])
    engine = SlaEngine([under], berlin)
    for start in (T0.replace(month=10, day=24, hour=14, minute=30), T0.replace(
        month=10, day=24, hour=15, minute=30
    )):
        event = TicketOpened(ticket_id="T", at=start, by=Actor.requester("ada"), number=1,
                             requester="ada", subject="Help")  # fmt: skip
        ticket = replay([event])
        ticket = fold(ticket, engine.react(ticket, event, policy=under))
        assert ticket.sla["resolution"].deadline == start + 10 * H
        assert engine.next_wakeup(ticket, rearm=True) == start + 7.5 * H
        assert engine.due_events(ticket, now=start + H) == []


def _fractions(n: int) -> st.SearchStrategy[tuple[float, ...]]:
    return st.lists(st.integers(1, 99), min_size=n, max_size=n, unique=True).map(
        lambda xs: tuple(x / 100 for x in sorted(xs))
    )


thresholds = st.one_of(
    st.integers(1, 3).flatmap(lambda n: st.tuples(_fractions(n), _fractions(n))),
    st.tuples(st.integers(0, 3).flatmap(_fractions), st.integers(0, 3).flatmap(_fractions)),
)
END = T0 + timedelta(days=60)


@settings(max_examples=200, deadline=None)
@given(
    pair=thresholds,
    calendar=st.sampled_from(["always", "office"]),
    switch=st.integers(0, 36 * 60),  # minutes after the opening
    gap=st.integers(0, 36 * 60),  # minutes from the switch to the first catch-up
    ticks=st.lists(st.floats(0, 1), max_size=4),  # further catch-ups, before the end
)
def test_after_a_change_of_thresholds_the_clock_warns_as_under_the_new_ones(
    pair: tuple[tuple[float, ...], tuple[float, ...]],
    calendar: str,
    switch: int,
    gap: int,
    ticks: list[float],
) -> None:
    old_warnings, new_warnings = pair
    targets = {"first_response": "2h", "resolution": "9h"}
    old, new = policy(old_warnings, calendar, **targets), policy(new_warnings, calendar, **targets)
    switch_at = T0 + timedelta(minutes=switch)
    catch_up = switch_at + timedelta(minutes=gap)
    # Under the old thresholds until the switch ...
    ticket = opened(old)
    before = SlaEngine([old], CALENDARS).due_events(ticket, now=switch_at)
    ticket = fold(ticket, before)
    armed = {m: (c.warned_threshold, c.warn_at, c.deadline, c.breached_at is None)
             for m, c in ticket.sla.items()}  # fmt: skip
    # ... then under the new ones, caught up at some instant and at others after it.
    engine = SlaEngine([new], CALENDARS)
    first = engine.due_events(ticket, now=catch_up)
    ticket = caught_up = fold(ticket, first)
    history = list(first)
    for now in [*(catch_up + (END - catch_up) * f for f in sorted(ticks)), END]:
        more = engine.due_events(ticket, now=now)
        ticket = fold(ticket, more)
        history += more
    # A clock that ran under the new thresholds all along, for comparison.
    fresh_events = SlaEngine([new], CALENDARS).due_events(opened(new), now=END)
    for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
        warned, old_at, deadline, running = armed[metric.value]
        mine = [e for e in history if e.clock.metric is metric]  # type: ignore[attr-defined]
        theirs = [e for e in fresh_events if e.clock.metric is metric]  # type: ignore[attr-defined]
        fresh_at = {e.threshold: e.at for e in theirs if isinstance(e, SlaWarning)}
        # The thresholds still to warn of: those above the highest recorded.
        ahead = [t for t in new_warnings if warned is None or t > warned]
        # Re-armed when the clock runs towards a next threshold that it is armed for
        # under another value (or not at all: the policy gained a threshold), at the
        # catch-up or where it is armed for (its warning, else its deadline).
        # Armed for a warning the new thresholds no longer have, it is disarmed alike.
        at = None
        if running and ahead:
            was = [t for t in old_warnings if warned is None or t > warned]
            if old_at is None:
                assert deadline is not None
                at = min(catch_up, deadline)
            elif was[0] != ahead[0]:
                at = min(catch_up, old_at)
        elif running and old_at is not None:
            at = min(catch_up, old_at)
        assert [e.at for e in mine if isinstance(e, SlaTargetChanged)] == (
            [at] if at is not None else []
        )
        # Each threshold once in the cycle, and none below one recorded: those above the
        # highest recorded before, at their own instants (or at the re-arming, for those
        # it finds passed). A clock breached already records no threshold it gained since.
        assert [(e.at, e.threshold) for e in mine if isinstance(e, SlaWarning)] == [
            (fresh_at[t] if at is None else max(fresh_at[t], at), t)
            for t in (ahead if running else [])
        ]
        # The breach is where it was: the target did not change.
        assert [
            e.at
            for e in [*before, *mine]
            if isinstance(e, SlaBreached) and e.clock.metric is metric  # type: ignore[attr-defined]
        ] == [e.at for e in theirs if isinstance(e, SlaBreached)]
        # Right after the first catch-up, the clock is armed for its next threshold at
        # the instant a clock that ran under the new thresholds arms it, and for none
        # past the last one.
        clock = caught_up.sla[metric.value]
        following = [
            t for t in new_warnings
            if clock.warned_threshold is None or t > clock.warned_threshold
        ]  # fmt: skip
        if clock.is_running and clock.breached_at is None:
            assert clock.warn_at == (fresh_at[following[0]] if following else None)
    assert engine.next_wakeup(caught_up) == engine.next_wakeup(caught_up, rearm=True)
