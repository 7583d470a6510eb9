"""Arbitrary JSON-like values and text into the public entry points: only HelpdeskError
subclasses may escape, and the store stays consistent."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk_core import (
    BusinessCalendar,
    Condition,
    DeskConfig,
    Helpdesk,
    HelpdeskError,
    ManualClock,
    MemoryStore,
    Requester,
    RuleSet,
    SequentialIds,
    SlaPolicy,
)
from helpdesk_core.model import replay
from helpdesk_core.simulation import Scenario

EXAMPLES = int(os.environ.get("HELPDESK_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

texts = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "' OR 1=1 --",
            "\ud800",
            "a" * 10_000,
            "💥",
            "09:00-17:00",
            "mon-fri",
            "P1",
            "critical",
            "eq",
            "all",
            "4h",
            "-1h",
            "Europe/Berlin",
        ]
    ),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=20,
)


def _only_helpdesk_errors(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(HelpdeskError):
        call(*args, **kwargs)


@FUZZ
@given(json_like)
def test_desk_config_documents(doc: Any) -> None:
    _only_helpdesk_errors(DeskConfig.from_dict, doc)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "calendars",
                "tiers",
                "teams",
                "agents",
                "routing",
                "sla_policies",
                "escalation_policies",
                "categories",
                "lifecycles",
                "assignment",
                "priority_matrix",
                "desk",
                "ticket_types",
                "privacy",
                "limits",
            ]
        ),
        json_like,
        max_size=4,
    )
)
def test_desk_config_sections(doc: Any) -> None:
    _only_helpdesk_errors(DeskConfig.from_dict, doc)


@FUZZ
@given(json_like)
def test_conditions_and_rules(doc: Any) -> None:
    _only_helpdesk_errors(Condition.from_dict, doc)
    _only_helpdesk_errors(RuleSet.from_dict, doc)


@FUZZ
@given(json_like)
def test_calendars_and_policies(doc: Any) -> None:
    _only_helpdesk_errors(BusinessCalendar.from_dict, doc)
    _only_helpdesk_errors(SlaPolicy.from_dict, doc)


@FUZZ
@given(json_like)
def test_scenarios(doc: Any) -> None:
    _only_helpdesk_errors(Scenario.from_dict, doc)


@pytest.fixture(scope="module")
def desk() -> Helpdesk:
    desk = Helpdesk(
        config=DeskConfig(),
        store=MemoryStore(),
        clock=ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ids=SequentialIds(),
    )
    desk.upsert_requester(Requester(id="ada"))
    return desk


@FUZZ
@given(
    subject=json_like,
    description=json_like,
    channel=json_like,
    impact=json_like,
    priority=json_like,
    tags=json_like,
    fields=json_like,
    category=json_like,
)
def test_open(
    desk: Helpdesk,
    subject: Any,
    description: Any,
    channel: Any,
    impact: Any,
    priority: Any,
    tags: Any,
    fields: Any,
    category: Any,
) -> None:
    _only_helpdesk_errors(
        desk.open,
        requester="ada",
        subject=subject,
        description=description,
        channel=channel,
        impact=impact,
        priority=priority,
        tags=tags,
        fields=fields,
        category=category,
    )


@FUZZ
@given(
    method=st.sampled_from(
        [
            "reply",
            "transition",
            "solve",
            "escalate",
            "set_priority",
            "rate",
            "link",
            "assign",
            "get",
            "history",
            "update",
            "update_tags",
            "update_fields",
        ]
    ),
    value=json_like,
    other=json_like,
)
def test_commands(desk: Helpdesk, method: str, value: Any, other: Any) -> None:
    ticket = desk.open(requester="ada", subject="fuzz")
    calls = {
        "reply": lambda: desk.reply(ticket.id, author=value, body=other),
        "transition": lambda: desk.transition(ticket.id, value, by="system:x", reason=other),
        "solve": lambda: desk.solve(ticket.id, by="system:x", resolution=value),
        "escalate": lambda: desk.escalate(ticket.id, by="system:x", reason=value, to_tier=other),
        "set_priority": lambda: desk.set_priority(ticket.id, value, by="system:x", reason=other),
        "rate": lambda: desk.rate(ticket.id, score=value, comment=other),
        "link": lambda: desk.link(ticket.id, kind=value, other=other),
        "assign": lambda: desk.assign(ticket.id, value, by=other),
        "get": lambda: desk.get(value),
        "history": lambda: desk.history(value, as_=other),
        "update": lambda: desk.update(ticket.id, by="system:x", category=value, asset=other),
        "update_tags": lambda: desk.update(ticket.id, by="system:x", tags=value, reason=other),
        "update_fields": lambda: desk.update(ticket.id, by="system:x", fields=value, subject=other),
    }
    _only_helpdesk_errors(calls[method])
    after = desk.get(ticket.id)
    assert replay(desk.history(ticket.id)) == after
