"""Properties of the SLA clock engine over random ticket histories (Hypothesis).

- Tick independence: recording due warnings and breaches at any intermediate instants
  gives exactly the same SLA events (instants and clock states included) as recording
  them once at the end.
- Within a clock cycle the business time used never decreases; a clock never has both a
  deadline and a stop instant; its recorded state matches its fields; each warning
  threshold is recorded at most once per cycle.
- Exact instants: the business time a clock records as used is what its calendar counts
  over the spans it ran (pauses left out), and each warning and breach is stamped where
  that time reaches the threshold or the target, or at a change that put it behind.
- Replaying the history rebuilds the same ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core.model import (
    Actor,
    Changes,
    ClockState,
    CommentAdded,
    Event,
    PriorityChanged,
    SlaBreached,
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
from helpdesk_core.sla.policy import SlaPolicy
from helpdesk_core.sla.view import sla_view

CALENDARS = {
    "office": BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"mon-fri": ["09:00-12:00", "13:00-17:00"]},
        holidays=[date(2026, 4, 3), date(2026, 4, 6)],
    ),
    "always": BusinessCalendar.always("UTC"),
}
ALL = {"first_response": "2h", "next_response": "3h", "resolution": "9h", "periodic_update": "5h"}
POLICIES = {
    "office": SlaPolicy(
        name="office",
        condition=Condition.always(),
        calendar="office",
        targets={
            "critical": {"first_response": "30m", "resolution": "4h", "periodic_update": "2h"},
            "high": ALL,
            "medium": {"first_response": "4h", "next_response": "4h", "resolution": "16h"},
        },
        warnings=(0.5, 0.75, 0.9),
        pauses={"periodic_update": ["pending"]},
    ),
    "restart": SlaPolicy(
        name="restart",
        condition=Condition.always(),
        calendar="always",
        targets=dict.fromkeys(("critical", "high", "medium", "low"), ALL),
        warnings=(0.8,),
        reopen="restart",
    ),
}
START = datetime(2026, 3, 26, 8, 0, tzinfo=UTC)

_comment = st.sampled_from(["requester", "agent", "note"]).map(lambda k: ("comment", k))
_status = st.sampled_from(["open", "pending", "on_hold", "solved", "closed"]).map(
    lambda c: ("status", c)
)
_priority = st.sampled_from(["critical", "high", "medium", "low"]).map(lambda p: ("priority", p))
_policy = st.sampled_from(["office", "restart", None]).map(lambda p: ("policy", p))
actions = st.one_of(_comment, _comment, _status, _priority, _policy)
steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * 24 * 60),  # minutes after the previous event
        actions,
        st.lists(st.floats(min_value=0, max_value=1), max_size=3),  # ticks in the gap
    ),
    max_size=14,
)


class Run:
    def __init__(self, *, priority: str, policy: str | None) -> None:
        self.policy = POLICIES[policy] if policy else None
        opened = TicketOpened(
            ticket_id="T",
            at=START,
            by=Actor.requester("ada"),
            number=1,
            requester="ada",
            subject="Broken",
            priority=priority,
            status="open",
            status_category="open",
        )
        self.ticket: Ticket = replay([opened])
        self.history: list[Event] = [opened]
        self.react(opened)

    def fold(self, events: Sequence[Event]) -> None:
        for event in events:
            self.ticket = apply_event(self.ticket, event)
            self.history.append(event)

    def react(self, event: Event) -> None:
        self.fold(
            react(
                self.ticket,
                event,
                policy=self.policy,
                policies=POLICIES,
                calendars=CALENDARS,
            )
        )

    def tick(self, now: datetime) -> None:
        self.fold(due_events(self.ticket, policies=POLICIES, calendars=CALENDARS, now=now))

    def act(self, at: datetime, action: tuple[str, str | None]) -> None:
        kind, value = action
        event: Event
        if kind == "comment":
            by = Actor.requester("ada") if value == "requester" else Actor.agent("bob")
            event = CommentAdded(
                ticket_id="T",
                at=at,
                by=by,
                comment_id=f"c{len(self.history)}",
                body="…",
                public=value != "note",
            )
        elif kind == "status":
            assert value is not None
            event = StatusChanged(
                ticket_id="T",
                at=at,
                by=Actor.agent("bob"),
                transition=value,
                from_status=self.ticket.status,
                to_status=value,
                category=value,
            )
        elif kind == "priority":
            event = PriorityChanged(
                ticket_id="T",
                at=at,
                by=Actor.agent("bob"),
                priority=value,
                previous=self.ticket.priority,
            )
        else:
            self.policy = POLICIES[value] if value else None
            event = TicketUpdated(
                ticket_id="T", at=at, by=Actor.agent("bob"), changes=Changes(sla_policy=value)
            )
        self.fold([event])
        self.react(event)

    def sla_events(self) -> list[Event]:
        return [e for e in self.history if hasattr(e, "clock")]


def drive(
    plan: list[tuple[int, tuple[str, str | None], list[float]]],
    *,
    priority: str,
    policy: str | None,
    tick: bool,
    run_type: type[Run] = Run,
) -> tuple[Run, datetime]:
    run = run_type(priority=priority, policy=policy)
    at = START
    for gap, action, fractions in plan:
        nxt = at + timedelta(minutes=gap)
        if tick:
            for fraction in sorted(fractions):
                run.tick(at + (nxt - at) * fraction)
            wake = next_wakeup(run.ticket)
            if wake is not None and wake <= nxt:
                run.tick(wake)  # a scheduler woken exactly on time
        run.act(nxt, action)
        at = nxt
    end = at + timedelta(days=30)
    run.tick(end)
    return run, end


settings_ = settings(max_examples=150, deadline=None)
priorities = st.sampled_from(["critical", "high", "medium", "low"])
first_policy = st.sampled_from(["office", "restart", None])


@settings_
@given(plan=steps, priority=priorities, policy=first_policy)
def test_ticking_at_any_instants_records_the_same_sla_events(
    plan: list[tuple[int, tuple[str, str | None], list[float]]],
    priority: str,
    policy: str | None,
) -> None:
    lazy, _ = drive(plan, priority=priority, policy=policy, tick=False)
    eager, _ = drive(plan, priority=priority, policy=policy, tick=True)
    assert eager.sla_events() == lazy.sla_events()
    assert eager.ticket.sla == lazy.ticket.sla


@settings_
@given(plan=steps, priority=priorities, policy=first_policy)
def test_clock_invariants_hold_along_any_history(
    plan: list[tuple[int, tuple[str, str | None], list[float]]],
    priority: str,
    policy: str | None,
) -> None:
    run, end = drive(plan, priority=priority, policy=policy, tick=True)
    used: dict[tuple[str, int], timedelta] = {}
    warnings: set[tuple[str, int, float]] = set()
    breaches: set[tuple[str, int, datetime]] = set()
    for event in run.sla_events():
        clock = event.clock  # type: ignore[attr-defined]
        key = (clock.metric.value, clock.cycle)
        if isinstance(event, SlaClockStarted):
            assert key not in used
        assert clock.used >= used.get(key, timedelta(0))
        used[key] = clock.used
        assert not (clock.deadline is not None and clock.stopped_at is not None)
        assert clock.used >= timedelta(0)
        expected = (
            (ClockState.BREACHED if clock.breached_at else ClockState.MET)
            if clock.stopped_at
            else ClockState.PAUSED
            if clock.deadline is None
            else ClockState.BREACHED
            if clock.breached_at
            else ClockState.RUNNING
        )
        assert clock.state is expected
        if isinstance(event, SlaWarning):
            assert (key[0], key[1], event.threshold) not in warnings
            warnings.add((key[0], key[1], event.threshold))
            assert event.at == clock.warned_at
        if isinstance(event, SlaBreached):
            assert (key[0], key[1], event.at) not in breaches
            breaches.add((key[0], key[1], event.at))
            assert event.at == clock.breached_at
    assert replay(run.history) == run.ticket
    for view in sla_view(run.ticket, CALENDARS, end).values():
        assert view.remaining >= timedelta(0)
        assert view.overdue >= timedelta(0)
        assert view.used == view.target - view.remaining + view.overdue
    wake = next_wakeup(run.ticket)
    assert wake is None or wake > end


@settings_
@given(plan=steps, priority=priorities, policy=first_policy)
def test_the_engines_events_and_clocks_are_what_their_constructors_make(
    plan: list[tuple[int, tuple[str, str | None], list[float]]],
    priority: str,
    policy: str | None,
) -> None:
    """The engine builds its clocks and events without running their validators again:
    built through the validating constructors from the same values, each is the same
    (instants in UTC included, which ``repr`` shows)."""
    run, _ = drive(plan, priority=priority, policy=policy, tick=True)
    for event in run.sla_events():
        clock = event.clock  # type: ignore[attr-defined]
        rebuilt = attrs.evolve(event, clock=attrs.evolve(clock))
        assert rebuilt == event
        assert repr(rebuilt) == repr(event)


@settings_
@given(plan=steps, priority=priorities, policy=first_policy)
def test_warnings_and_breaches_fall_where_the_business_time_used_reaches_them(
    plan: list[tuple[int, tuple[str, str | None], list[float]]],
    priority: str,
    policy: str | None,
) -> None:
    run, _ = drive(plan, priority=priority, policy=policy, tick=True)
    # Per metric, worked out from the spans each clock ran on its calendar: the business
    # time used, since when it accrues (None: paused or stopped), and on which calendar.
    used: dict[str, timedelta] = {}
    since: dict[str, datetime | None] = {}
    calendar: dict[str, str] = {}
    for event in run.sla_events():
        clock = event.clock  # type: ignore[attr-defined]
        metric = clock.metric.value
        if isinstance(event, SlaClockStarted):
            running = clock.deadline is not None
            # A clock whose target came after its wait began counts from the wait's start.
            used[metric] = (
                CALENDARS[clock.calendar].elapsed(clock.started_at, event.at)
                if running
                else timedelta(0)
            )
            since[metric] = event.at if running else None
            calendar[metric] = clock.calendar
        else:
            start = since[metric]
            if start is not None:
                used[metric] += CALENDARS[calendar[metric]].elapsed(start, event.at)
                since[metric] = event.at
            if isinstance(event, SlaClockPaused | SlaClockStopped):
                since[metric] = None
            elif isinstance(event, SlaClockResumed | SlaTargetChanged):
                since[metric] = event.at if clock.deadline is not None else None
                calendar[metric] = clock.calendar
        if isinstance(event, SlaWarning | SlaBreached):
            goal = clock.target * event.threshold if isinstance(event, SlaWarning) else clock.target
            # Reached then, or already passed when a change (a retarget) came at that instant.
            assert used[metric] == goal or (used[metric] > goal and event.at == clock.as_of), (
                event
            )
        else:
            assert clock.used == used[metric], event
