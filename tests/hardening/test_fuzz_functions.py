"""Odd values into one argument at a time of the public helper functions (the others
valid): only HelpdeskError subclasses may escape."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk_core.channels.email import EmailSettings, RateLimiter, describe_due
from helpdesk_core.codec import event_to_dict, ticket_to_dict
from helpdesk_core.demo import example_config
from helpdesk_core.errors import HelpdeskError
from helpdesk_core.knowledge import SimilarityIndex
from helpdesk_core.model import Actor, TicketOpened, apply_event, apply_events, priority_for, replay
from helpdesk_core.simulation import simulate_queue
from helpdesk_core.workflow import (
    Lifecycle,
    add_business_days,
    due_escalations,
    guard_names,
    level_contact,
    lifecycle_for,
    lookup_guard,
    next_escalation_at,
)

EXAMPLES = int(os.environ.get("HELPDESK_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
CONFIG = example_config()
CALENDAR = next(iter(CONFIG.calendars.values()))
OPENED = TicketOpened(
    ticket_id="T", at=T0, by=Actor.requester("r"), number=1, requester="r", subject="vpn"
)
TICKET = replay([OPENED])
SETTINGS = EmailSettings(domain="example.com", address="help@example.com")
LIFECYCLE = Lifecycle.default()


def _index() -> SimilarityIndex:
    index = SimilarityIndex()
    index.add_document("D-1", "vpn down", "restart the client")
    return index


INDEX = _index()

odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, 2**70, -(2**70)]),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["", "\x00", "\ud800", "a" * 5_000, "high", "new", "open", "L2"]),
    st.binary(max_size=8),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.sampled_from(
        [
            datetime.max.replace(tzinfo=UTC),
            datetime.min.replace(tzinfo=UTC),
            datetime(2026, 3, 2, 9),
            datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12))),
            timedelta(days=-1),
            timedelta.max,
            object(),
            TICKET,
            OPENED,
            CALENDAR,
        ]
    ),
)

#: Each target: a call taking keyword arguments, and valid ones for it.
TARGETS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "add_business_days": (
        lambda calendar, start, days: add_business_days(calendar, start, days),
        {"calendar": CALENDAR, "start": T0, "days": 2},
    ),
    "level_contact": (
        lambda contacts, level: level_contact(contacts, level),
        {"contacts": ["a", "b"], "level": 1},
    ),
    "lifecycle_for": (
        lambda ticket_type, mapping, default: lifecycle_for(ticket_type, mapping, default),
        {"ticket_type": "x", "mapping": {}, "default": "d"},
    ),
    "lookup_guard": (
        lambda name, extra: lookup_guard(name, extra), {"name": "x", "extra": None}
    ),
    "guard_names": (lambda extra: guard_names(extra), {"extra": None}),
    "due_escalations": (
        lambda ticket, policies, now: due_escalations(ticket, policies, now=now),
        {"ticket": TICKET, "policies": [], "now": T0},
    ),
    "next_escalation_at": (
        lambda ticket, policies: next_escalation_at(ticket, policies),
        {"ticket": TICKET, "policies": []},
    ),
    "priority_for": (
        lambda impact, urgency, matrix: priority_for(impact, urgency, matrix=matrix),
        {"impact": "high", "urgency": "low", "matrix": None},
    ),
    "apply_event": (
        lambda ticket, event: apply_event(ticket, event), {"ticket": None, "event": OPENED}
    ),
    "apply_events": (
        lambda ticket, events: apply_events(ticket, events),
        {"ticket": None, "events": [OPENED]},
    ),
    "replay": (lambda events: replay(events), {"events": [OPENED]}),
    "event_to_dict": (lambda event: event_to_dict(event), {"event": OPENED}),
    "ticket_to_dict": (lambda ticket: ticket_to_dict(ticket), {"ticket": TICKET}),
    "describe_due": (
        lambda due, **rest: describe_due(due, **rest),
        {"due": T0, "at": T0, "zone": ZoneInfo("UTC"), "settings": SETTINGS,
         "language": None, "team": None},
    ),
    "rate_limiter": (
        lambda sender, now: RateLimiter().allow(sender, now),
        {"sender": "a@example.com", "now": T0},
    ),
    "similar": (
        lambda ticket, limit: INDEX.query(ticket, limit), {"ticket": TICKET, "limit": 5}
    ),
    "similar_remove": (lambda id: _index().remove(id), {"id": "D-1"}),
    "simulate_queue": (
        simulate_queue,
        {"arrivals_per_hour": 10, "agents": [2], "work": ["10m"], "tickets": 50, "warmup": 0,
         "seed": 1},
    ),
    "lifecycle_find": (
        lambda status, name: LIFECYCLE.find(status, name), {"status": "new", "name": "open"}
    ),
    "lifecycle_status": (lambda name: LIFECYCLE.status(name), {"name": "new"}),
    "lifecycle_automatic": (
        lambda trigger, status: LIFECYCLE.automatic_transition(trigger, status),
        {"trigger": "x", "status": "new"},
    ),
    "config_sla_policy": (
        lambda name: CONFIG.sla_policy(name), {"name": CONFIG.sla_policies[0].name}
    ),
    "config_has_agent": (lambda agent_id: CONFIG.has_agent(agent_id), {"agent_id": "x"}),
}


def _call(name: str, kwargs: dict[str, Any]) -> Any:
    function, _ = TARGETS[name]
    return function(**kwargs)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_valid_arguments_are_valid(name: str) -> None:
    _call(name, dict(TARGETS[name][1]))


@FUZZ
@given(name=st.sampled_from(sorted(TARGETS)), data=st.data())
def test_one_odd_argument_raises_only_helpdesk_errors(name: str, data: st.DataObject) -> None:
    kwargs = dict(TARGETS[name][1])
    kwargs[data.draw(st.sampled_from(sorted(kwargs)))] = data.draw(odd)
    with contextlib.suppress(HelpdeskError):
        _call(name, kwargs)
