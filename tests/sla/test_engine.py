"""SlaEngine: react and due_events with the policies and calendars checked once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from test_clock_properties import (
    CALENDARS,
    POLICIES,
    START,
    Run,
    drive,
    first_policy,
    priorities,
    steps,
)

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import Event, Ticket
from helpdesk_core.sla import SlaEngine, SlaPolicy, due_events, next_wakeup, react
from helpdesk_core.sla._transitions import Step
from helpdesk_core.sla.clocks import _METRICS, _check_order, _due, _Env, _react_metric


def react_every_metric(ticket: Ticket, event: Event, policy: SlaPolicy | None) -> list[Event]:
    """The engine's reaction without its shortcut: every metric is asked, also those
    with neither a clock nor a target."""
    env = _Env(POLICIES, CALENDARS, policy)
    _check_order(ticket, event.at)
    events, clocks = _due(ticket, env, event.at)
    step = Step(ticket.id)
    for metric, _ in _METRICS:
        _react_metric(step, ticket, event, metric, clocks.get(metric), policy, env)
    events.extend(step.events)
    return events


class EngineRun(Run):
    """A run whose reactions come from one engine, checked against the long way."""

    engine = SlaEngine(POLICIES, CALENDARS)

    def react(self, event: Event) -> None:
        out = self.engine.react(self.ticket, event, policy=self.policy)
        if not hasattr(event, "clock"):
            assert out == react_every_metric(self.ticket, event, self.policy)
        self.fold(out)

    def tick(self, now: datetime) -> None:
        out = self.engine.due_events(self.ticket, now=now)
        assert out == due_events(self.ticket, policies=POLICIES, calendars=CALENDARS, now=now)
        self.fold(out)
        # The clocks' policies are the engine's, thresholds and all: the same wake-up.
        assert self.engine.next_wakeup(self.ticket) == next_wakeup(self.ticket)


@settings(max_examples=150, deadline=None)
@given(plan=steps, priority=priorities, policy=first_policy)
def test_one_engine_reacts_as_asking_every_metric(
    plan: list[tuple[int, tuple[str, str | None], list[float]]],
    priority: str,
    policy: str | None,
) -> None:
    drive(plan, priority=priority, policy=policy, tick=True, run_type=EngineRun)

def test_a_policy_outside_the_engine_applies_to_that_call_only() -> None:
    extra = SlaPolicy(name="extra", calendar="always", targets={"high": {"resolution": "2h"}})
    engine = SlaEngine([POLICIES["office"]], CALENDARS)
    run = Run(priority="high", policy=None)
    opened = run.history[0]
    started = engine.react(run.ticket, opened, policy=extra)
    assert started == react(
        run.ticket, opened, policy=extra, policies=[POLICIES["office"]], calendars=CALENDARS
    )
    assert [e.clock.policy for e in started] == ["extra"]  # type: ignore[attr-defined]
    run.fold(started)
    # The engine did not keep the policy: a later call without it cannot find it.
    with pytest.raises(ConfigError, match="extra"):
        engine.due_events(run.ticket, now=START + timedelta(days=1))


def test_the_engine_checks_its_inputs() -> None:
    with pytest.raises(ValidationError, match="policies"):
        SlaEngine(["office"], CALENDARS)  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="calendars"):
        SlaEngine(POLICIES, ["always"])  # type: ignore[arg-type]
    engine = SlaEngine(POLICIES, CALENDARS)
    run = Run(priority="medium", policy="office")
    with pytest.raises(ValidationError, match="Ticket"):
        engine.react("T", run.history[0], policy=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="Event"):
        engine.react(run.ticket, "opened", policy=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="SlaPolicy"):
        engine.react(run.ticket, run.history[0], policy="office")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="now"):
        engine.due_events(run.ticket, now=datetime(2026, 1, 1))
