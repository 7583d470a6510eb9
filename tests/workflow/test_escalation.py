"""Escalation policies: data and validation, due triggers, firing, idempotence, scheduling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core.errors import ConfigError, NotFound, ValidationError
from helpdesk_core.model import (
    Actor,
    Escalated,
    EscalationNotified,
    EscalationTriggered,
    Event,
    LevelRaised,
    Metric,
    Priority,
    PriorityChanged,
    Requester,
    SlaBreached,
    SlaClock,
    SlaClockStarted,
    SlaWarning,
    Ticket,
    TicketOpened,
    Tier,
    apply_event,
    replay,
)
from helpdesk_core.routing import Condition
from helpdesk_core.sla import BusinessCalendar
from helpdesk_core.workflow import (
    ESCALATION_ACTOR,
    DueTrigger,
    EscalateTier,
    EscalationPolicy,
    Lifecycle,
    Notify,
    RaiseLevel,
    SetPriority,
    TierLadder,
    Trigger,
    TriggerKind,
    apply_transition,
    due_escalations,
    fire,
    next_escalation_at,
    run_escalations,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
AGENT = Actor.agent("a-1")
LADDER = TierLadder(
    [
        Tier(id="L1", teams=("desk",)),
        Tier(id="L2", teams=("network",)),
        Tier(id="L3", teams=("eng",)),
    ]
)
CONTACTS = {"desk": ["desk-lead", "desk-manager"], "network": ["net-lead"], "eng": []}


def _ticket(priority: str = "medium", category: str | None = None) -> Ticket:
    ticket = replay(
        [
            TicketOpened(
                ticket_id="T-3",
                at=T0,
                by=Actor.requester("r-1"),
                number=3,
                requester="r-1",
                subject="Mail server down",
                priority=priority,
                category=category,
            )
        ]
    )
    return apply_event(
        ticket,
        Escalated(ticket_id="T-3", at=T0, by=AGENT, from_tier=None, to_tier="L1", team="desk"),
    )


def _clock(**kwargs: Any) -> SlaClock:
    values: dict[str, Any] = {
        "metric": "resolution",
        "policy": "standard",
        "calendar": "always",
        "target": timedelta(hours=8),
        "state": "running",
        "started_at": T0,
        "used": timedelta(0),
        "as_of": T0,
        "deadline": T0 + timedelta(hours=8),
    }
    values.update(kwargs)
    return SlaClock(**values)


def _with_sla(ticket: Ticket, event_cls: type, at: datetime, **clock: Any) -> Ticket:
    event: Event = event_cls(
        ticket_id=ticket.id, at=at, by=Actor.system("sla"), clock=_clock(**clock)
    )
    return apply_event(ticket, event)


def _policy(*triggers: Trigger, name: str = "standard") -> EscalationPolicy:
    return EscalationPolicy(name=name, triggers=triggers)


# -- data and validation ------------------------------------------------------------------------


def test_trigger_kinds_need_their_parameters() -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"on": "sla_breach"}, "needs 'metric'", "metric"),
        ({"on": "time_in_tier"}, "needs 'after'", "after"),
        ({"on": "reopens"}, "needs 'count'", "count"),
        ({"on": "priority"}, "needs 'priorities'", "priorities"),
        ({"on": "sla_warning", "metric": "resolution", "after": 60}, "takes no 'after'", "after"),
        ({"on": "reopens", "count": 0}, "count is a whole number >= 1", "count"),
        ({"on": "reopens", "count": True}, "count is a whole number >= 1", "count"),
        ({"on": "time_in_tier", "after": 0}, "'after' must be positive", "after"),
        ({"on": "time_in_tier", "after": 60, "priorities": ["p1"]}, "takes no", "priorities"),
    ]
    for kwargs, message, path in cases:
        with pytest.raises(ConfigError, match=message) as info:
            Trigger(name="t1", actions=[RaiseLevel()], **kwargs)
        assert info.value.path == path
        assert "trigger 't1'" in info.value.message


def test_trigger_needs_actions_and_a_known_kind() -> None:
    with pytest.raises(ConfigError, match="trigger 't1' has no action"):
        Trigger(name="t1", on="reopens", count=2)
    with pytest.raises(ValidationError, match="unknown trigger 'sla_late'"):
        Trigger(name="t1", on="sla_late", actions=[RaiseLevel()])
    with pytest.raises(ConfigError, match="expected an action"):
        Trigger(name="t1", on="reopens", count=1, actions=["escalate"])  # type: ignore[list-item]


def test_policy_trigger_names_are_unique() -> None:
    t = Trigger(name="late", on="sla_breach", metric="resolution", actions=[RaiseLevel()])
    with pytest.raises(ConfigError, match="policy 'vip' has two triggers named 'late'") as info:
        EscalationPolicy(name="vip", triggers=[t, t])
    assert info.value.path == "triggers[1].name"
    policy = _policy(t)
    assert policy.trigger("late") is t
    with pytest.raises(NotFound, match="no trigger 'early'"):
        policy.trigger("early")


def _policy_doc() -> dict[str, Any]:
    return {
        "name": "p1",
        "triggers": [
            {
                "name": "warned",
                "on": "sla_warning",
                "metric": "first_response",
                "actions": [{"action": "notify", "contact": "team_lead"}],
            },
            {
                "name": "breached",
                "on": "sla_breach",
                "metric": "resolution",
                "when": {"field": "priority", "op": "in", "value": ["critical", "high"]},
                "actions": [
                    {"action": "escalate_tier", "to_tier": "L3", "allow_skip": True},
                    {"action": "raise_level"},
                    {"action": "set_priority", "priority": "critical"},
                ],
            },
            {
                "name": "stuck",
                "on": "time_in_tier",
                "after": "4h",
                "calendar": "office",
                "actions": [{"action": "escalate_tier"}],
            },
            {
                "name": "bounced",
                "on": "reopens",
                "count": 2,
                "actions": [{"action": "notify", "contact": "quality-team"}],
            },
            {
                "name": "urgent",
                "on": "priority",
                "priorities": ["P1"],
                "actions": [{"action": "notify", "contact": "manager"}],
            },
        ],
    }


def test_policy_round_trips_through_json() -> None:
    policy = EscalationPolicy.from_dict(_policy_doc())
    assert policy.triggers[2].after == timedelta(hours=4)
    assert policy.triggers[4].priorities == (Priority.CRITICAL,)
    assert policy.triggers[1].actions == (
        EscalateTier(to_tier="L3", allow_skip=True),
        RaiseLevel(),
        SetPriority(priority="critical"),
    )
    assert isinstance(policy.triggers[1].when, Condition)
    data = json.loads(json.dumps(policy.to_dict()))
    assert EscalationPolicy.from_dict(data) == policy
    assert data["triggers"][2] == {
        "name": "stuck",
        "on": "time_in_tier",
        "after": 14400,
        "calendar": "office",
        "actions": [{"action": "escalate_tier", "allow_skip": False}],  # TOML has no null
    }


def test_policy_document_errors_carry_the_path() -> None:
    cases: list[tuple[Any, str, str]] = []
    doc = _policy_doc()
    doc["triggers"][1]["actions"][0]["action"] = "escalate"
    cases.append((doc, "unknown action 'escalate'", "escalation.p1.triggers[1].actions[0].action"))
    doc = _policy_doc()
    doc["triggers"][1]["actions"][2]["priority"] = "urgent"
    cases.append(
        (doc, "'urgent' is not a valid Priority", "escalation.p1.triggers[1].actions[2].priority")
    )
    doc = _policy_doc()
    doc["triggers"][1]["actions"][1]["level"] = 2
    cases.append((doc, "unknown key(s) level", "escalation.p1.triggers[1].actions[1]"))
    doc = _policy_doc()
    doc["triggers"][0]["metric"] = "speed"
    cases.append((doc, "'speed' is not a valid Metric", "escalation.p1.triggers[0].metric"))
    doc = _policy_doc()
    doc["triggers"][3]["count"] = -1
    cases.append((doc, "count is a whole number", "escalation.p1.triggers[3].count"))
    doc = _policy_doc()
    doc["triggers"][2]["after"] = "soon"
    cases.append((doc, "cannot read duration 'soon'", "escalation.p1.triggers[2].after"))
    doc = _policy_doc()
    doc["triggers"][1]["when"] = {"field": "colour", "op": "eq", "value": "red"}
    cases.append((doc, "colour", "escalation.p1.triggers[1].when"))
    doc = _policy_doc()
    del doc["triggers"][4]["actions"]
    cases.append((doc, "required key missing", "escalation.p1.triggers[4].actions"))
    doc = _policy_doc()
    doc["triggers"][4]["name"] = "warned"
    cases.append((doc, "two triggers named 'warned'", "escalation.p1.triggers[4].name"))
    for doc, message, path in cases:
        with pytest.raises(ConfigError) as info:
            EscalationPolicy.from_dict(doc, path="escalation.p1")
        assert message in info.value.message, (message, info.value)
        assert (info.value.path or "").startswith(path), (path, info.value.path)


# -- due triggers -------------------------------------------------------------------------------


def test_sla_warning_and_breach_are_due_at_their_instants() -> None:
    warned_at = T0 + timedelta(hours=6)
    breached_at = T0 + timedelta(hours=8)
    ticket = _with_sla(_ticket(), SlaWarning, warned_at, warnings_sent=1, warned_at=warned_at)
    ticket = _with_sla(
        ticket,
        SlaBreached,
        breached_at,
        warnings_sent=1,
        warned_at=warned_at,
        breached_at=breached_at,
        state="breached",
    )
    policy = _policy(
        Trigger(name="late", on="sla_breach", metric="resolution", actions=[RaiseLevel()]),
        Trigger(name="close", on="sla_warning", metric="resolution", actions=[RaiseLevel()]),
        Trigger(name="fr", on="sla_warning", metric="first_response", actions=[RaiseLevel()]),
    )
    assert due_escalations(ticket, [policy], now=warned_at - timedelta(seconds=1)) == []
    assert due_escalations(ticket, [policy], now=warned_at) == [
        DueTrigger(
            at=warned_at, policy="standard", trigger="close", key="standard/close/resolution/1"
        )
    ]
    due = due_escalations(ticket, [policy], now=breached_at + timedelta(days=1))
    assert [(d.trigger, d.at, d.key) for d in due] == [
        ("close", warned_at, "standard/close/resolution/1"),
        ("late", breached_at, "standard/late/resolution/1"),
    ]


def test_each_sla_trigger_fires_once_per_clock_cycle() -> None:
    at = T0 + timedelta(hours=8)
    ticket = _with_sla(_ticket(), SlaBreached, at, breached_at=at, state="breached")
    policy = _policy(
        Trigger(name="late", on="sla_breach", metric="resolution", actions=[RaiseLevel()])
    )
    due = due_escalations(ticket, [policy], now=at)
    ticket, events = fire(ticket, due[0], policy, ladder=LADDER, contacts=CONTACTS, now=at)
    assert [type(e) for e in events] == [EscalationTriggered, LevelRaised]
    assert ticket.fired_triggers == ("standard/late/resolution/1",)
    assert due_escalations(ticket, [policy], now=at + timedelta(days=3)) == []
    again, none = fire(ticket, due[0], policy, ladder=LADDER, contacts=CONTACTS, now=at)
    assert again is ticket
    assert none == []
    later = at + timedelta(days=2)
    ticket = _with_sla(ticket, SlaClockStarted, later, started_at=later, as_of=later, cycle=2)
    assert due_escalations(ticket, [policy], now=later) == []
    ticket = _with_sla(ticket, SlaBreached, later, breached_at=later, cycle=2, state="breached")
    assert [d.key for d in due_escalations(ticket, [policy], now=later)] == [
        "standard/late/resolution/2"
    ]


def test_time_in_tier_counts_from_tier_since() -> None:
    policy = _policy(
        Trigger(name="stuck", on="time_in_tier", after=timedelta(hours=4), actions=[RaiseLevel()])
    )
    ticket = _ticket()
    assert next_escalation_at(ticket, [policy]) == T0 + timedelta(hours=4)
    assert due_escalations(ticket, [policy], now=T0 + timedelta(hours=3)) == []
    due = due_escalations(ticket, [policy], now=T0 + timedelta(hours=9))
    assert [(d.at, d.key) for d in due] == [
        (T0 + timedelta(hours=4), f"standard/stuck/tier/L1/{T0.isoformat()}")
    ]
    unrouted = replay(
        [
            TicketOpened(
                ticket_id="T-4",
                at=T0,
                by=Actor.requester("r"),
                number=4,
                requester="r",
                subject="s",
            )
        ]
    )
    assert due_escalations(unrouted, [policy], now=T0 + timedelta(hours=4))[0].key == (
        f"standard/stuck/tier/-/{T0.isoformat()}"
    )


def test_time_in_tier_in_business_hours() -> None:
    office = BusinessCalendar(timezone="Europe/Berlin", hours={"mon-fri": "09:00-17:00"})
    policy = _policy(
        Trigger(
            name="stuck",
            on="time_in_tier",
            after=timedelta(hours=10),
            calendar="office",
            actions=[RaiseLevel()],
        )
    )
    ticket = _ticket()  # Monday 09:00 UTC = 10:00 Berlin
    expected = datetime(2026, 3, 3, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert next_escalation_at(ticket, [policy], {"office": office}) == expected
    due = due_escalations(ticket, [policy], now=expected, calendars={"office": office})
    assert due[0].at == expected
    with pytest.raises(ConfigError, match="calendar 'office' is not defined") as info:
        due_escalations(ticket, [policy], now=expected)
    assert info.value.path == "policies.standard.triggers.stuck.calendar"



def test_calendars_that_are_no_mapping_of_calendars_are_refused_by_name() -> None:
    office = BusinessCalendar(timezone="Europe/Berlin", hours={"mon-fri": "09:00-17:00"})
    business_time = Trigger(
        name="stuck", on="time_in_tier", after=timedelta(hours=10), calendar="office",
        actions=[RaiseLevel()],
    )
    in_hours = Trigger(
        name="stuck", on="time_in_tier", after=timedelta(hours=4),
        when={"field": "business_hours.office", "op": "eq", "value": True},
        actions=[RaiseLevel()],
    )
    ticket = _ticket()
    later = T0 + timedelta(days=3)
    cases: list[tuple[Any, str]] = [
        ("office", "calendars"),
        (["office"], "calendars"),
        ({"office": "09:00-17:00"}, "calendars.office"),
    ]
    for trigger in (business_time, in_hours):
        policies = [_policy(trigger)]
        for calendars, field in cases:
            with pytest.raises(ValidationError) as info:
                due_escalations(ticket, policies, now=later, calendars=calendars)
            assert info.value.field == field
            with pytest.raises(ValidationError) as info:
                next_escalation_at(ticket, policies, calendars)
            assert info.value.field == field
            with pytest.raises(ValidationError) as info:
                run_escalations(
                    ticket, policies, ladder=LADDER, contacts=CONTACTS, now=later,
                    calendars=calendars,
                )
            assert info.value.field == field
        assert due_escalations(ticket, policies, now=later, calendars={"office": office})


def test_reopens_and_priority_triggers() -> None:
    lc = Lifecycle.default()
    policy = _policy(
        Trigger(name="bounced", on="reopens", count=2, actions=[RaiseLevel()]),
        Trigger(name="urgent", on="priority", priorities=["critical"], actions=[RaiseLevel()]),
    )
    ticket = _ticket()
    now = T0
    for _ in range(2):
        now += timedelta(hours=1)
        ticket, _ = apply_transition(
            ticket, lc, "solve", by=AGENT, now=now, resolution="ok", first_contact=True
        )
        assert due_escalations(ticket, [policy], now=now + timedelta(days=1)) == []
        now += timedelta(hours=1)
        ticket, _ = apply_transition(ticket, lc, "reopen", by=AGENT, now=now)
    due = due_escalations(ticket, [policy], now=now)
    assert [(d.trigger, d.at, d.key) for d in due] == [
        ("bounced", now, "standard/bounced/reopens/2")
    ]
    critical = _ticket(priority="critical")
    due = due_escalations(critical, [policy], now=T0 + timedelta(minutes=1))
    assert [(d.trigger, d.at, d.key) for d in due] == [
        ("urgent", T0, "standard/urgent/priority/critical")
    ]


def _solved_and_reopened(spans: list[tuple[int, int]]) -> Ticket:
    """The L1 ticket of T0, solved and reopened at the given minutes after T0."""
    lc = evolve(Lifecycle.default(), reopen_window=None)
    ticket = _ticket()
    for solve, reopen in spans:
        ticket, _ = apply_transition(
            ticket,
            lc,
            "solve",
            by=AGENT,
            now=T0 + timedelta(minutes=solve),
            resolution="ok",
            first_contact=True,
        )
        ticket, _ = apply_transition(
            ticket, lc, "reopen", by=AGENT, now=T0 + timedelta(minutes=reopen)
        )
    return ticket


def test_time_in_tier_leaves_out_the_time_spent_solved() -> None:
    policy = _policy(
        Trigger(name="stuck", on="time_in_tier", after=timedelta(hours=4), actions=[RaiseLevel()])
    )
    # 1h in L1, solved for two days, reopened: 3h of the 4h remain
    ticket = _solved_and_reopened([(60, 60 + 2 * 24 * 60)])
    reopened = T0 + timedelta(days=2, hours=1)
    assert ticket.tier_inactive == ((T0 + timedelta(hours=1), reopened),)
    assert next_escalation_at(ticket, [policy]) == reopened + timedelta(hours=3)
    assert due_escalations(ticket, [policy], now=reopened + timedelta(minutes=1)) == []
    after, events = run_escalations(
        ticket, [_ladder_policy()], ladder=LADDER, contacts=CONTACTS, now=reopened
    )
    assert events == [] and after.tier == "L1"
    # a new tier starts afresh
    moved = apply_event(
        ticket,
        Escalated(ticket_id="T-3", at=reopened, by=AGENT, from_tier="L1", to_tier="L2"),
    )
    assert moved.tier_inactive == ()
    assert next_escalation_at(moved, [policy]) == reopened + timedelta(hours=4)


_OFFICE = BusinessCalendar(timezone="Europe/Berlin", hours={"mon-fri": "09:00-17:00"})


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(
        st.tuples(st.integers(1, 600), st.integers(1, 900)), min_size=0, max_size=4
    ),
    hours=st.integers(1, 12),
    business=st.booleans(),
)
def test_time_in_tier_counts_active_minutes_like_a_stopwatch(
    gaps: list[tuple[int, int]], hours: int, business: bool
) -> None:
    """The instant equals counting, minute by minute, the minutes the ticket was active
    (and, with a calendar, the office was open)."""
    spans, at = [], 0
    for active, solved in gaps:
        spans.append((at + active, at + active + solved))
        at += active + solved
    ticket = _solved_and_reopened(spans)
    trigger = Trigger(
        name="stuck",
        on="time_in_tier",
        after=timedelta(hours=hours),
        calendar="office" if business else None,
        actions=[RaiseLevel()],
    )
    found = next_escalation_at(ticket, [_policy(trigger)], {"office": _OFFICE})
    counted, minute = 0, 0
    while counted < hours * 60:
        instant = T0 + timedelta(minutes=minute)
        solved = any(start <= minute < end for start, end in spans)
        if not solved and (not business or _OFFICE.is_open(instant)):
            counted += 1
        minute += 1
    expected = T0 + timedelta(minutes=minute)
    if business:  # the instant the last open minute ends, or the next opening after it
        assert found is not None and _OFFICE.elapsed(expected, found) == timedelta(0)
        assert found >= expected - timedelta(minutes=0)
    else:
        assert found == expected


def test_when_condition_narrows_a_trigger() -> None:
    policy = _policy(
        Trigger(
            name="net",
            on="time_in_tier",
            after=timedelta(hours=1),
            when=Condition.where("category", "eq", "network"),
            actions=[RaiseLevel()],
        )
    )
    later = T0 + timedelta(hours=2)
    assert due_escalations(_ticket(category="email"), [policy], now=later) == []
    assert len(due_escalations(_ticket(category="network"), [policy], now=later)) == 1


def test_due_order_is_by_instant_then_policy_then_trigger() -> None:
    first = _policy(
        Trigger(name="b", on="time_in_tier", after=timedelta(hours=2), actions=[RaiseLevel()]),
        Trigger(name="a", on="time_in_tier", after=timedelta(hours=1), actions=[RaiseLevel()]),
        name="first",
    )
    second = _policy(
        Trigger(name="c", on="time_in_tier", after=timedelta(hours=1), actions=[RaiseLevel()]),
        name="second",
    )
    due = due_escalations(_ticket(), [first, second], now=T0 + timedelta(hours=3))
    assert [(d.policy, d.trigger) for d in due] == [("first", "a"), ("second", "c"), ("first", "b")]
    with pytest.raises(ConfigError, match="two escalation policies named 'first'"):
        due_escalations(_ticket(), [first, first], now=T0)


def test_business_time_triggers_keep_their_order_through_a_fall_back_night() -> None:
    """London falls back at 01:00 UTC on 2026-10-25: 01:40 (first time round, 00:40 UTC)
    comes before 01:10 (second time round, 01:10 UTC), though its wall clock is later."""
    london = BusinessCalendar.always("Europe/London")
    since = datetime(2026, 10, 24, 23, 40, tzinfo=UTC)  # 00:40 summer time
    opened = TicketOpened(
        ticket_id="T-9", at=since, by=Actor.requester("r-1"), number=9, requester="r-1",
        subject="s",
    )  # fmt: skip
    ticket = apply_event(
        replay([opened]),
        Escalated(ticket_id="T-9", at=since, by=AGENT, from_tier=None, to_tier="L1", team="desk"),
    )
    policy = _policy(
        Trigger(name="late", on="time_in_tier", after=timedelta(minutes=90), calendar="london",
                actions=[RaiseLevel()]),
        Trigger(name="early", on="time_in_tier", after=timedelta(minutes=60), calendar="london",
                actions=[RaiseLevel()]),
    )  # fmt: skip
    calendars = {"london": london}
    early = datetime(2026, 10, 25, 0, 40, tzinfo=UTC)
    late = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    assert next_escalation_at(ticket, [policy], calendars) == early
    due = due_escalations(ticket, [policy], now=late, calendars=calendars)
    assert [(d.trigger, d.at.astimezone(UTC)) for d in due] == [("early", early), ("late", late)]
    assert due_escalations(ticket, [policy], now=early + timedelta(minutes=5), calendars=calendars)


# -- firing -------------------------------------------------------------------------------------


def test_fire_records_the_trigger_and_its_actions_at_the_due_instant() -> None:
    at = T0 + timedelta(hours=8)
    ticket = _with_sla(_ticket(), SlaBreached, at, breached_at=at, state="breached")
    policy = EscalationPolicy.from_dict(_policy_doc())
    ticket = apply_event(
        ticket,
        PriorityChanged(ticket_id="T-3", at=T0, by=AGENT, priority="high", previous="medium"),
    )
    office = {"office": BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})}
    due = due_escalations(ticket, [policy], now=at + timedelta(hours=3), calendars=office)
    assert [(d.trigger, d.at) for d in due] == [
        ("stuck", T0 + timedelta(hours=4)),
        ("breached", at),
    ]
    fired, events = fire(
        ticket, due[1], policy, ladder=LADDER, contacts=CONTACTS, now=at + timedelta(hours=3)
    )
    assert [type(e) for e in events] == [
        EscalationTriggered,
        Escalated,
        LevelRaised,
        PriorityChanged,
    ]
    assert all(e.at == at and e.by == ESCALATION_ACTOR for e in events)
    marker = events[0]
    assert isinstance(marker, EscalationTriggered)
    assert (marker.policy, marker.trigger, marker.key) == (
        "p1",
        "breached",
        "p1/breached/resolution/1",
    )
    escalated = events[1]
    assert isinstance(escalated, Escalated)
    assert (escalated.to_tier, escalated.team, escalated.policy) == ("L3", "eng", "p1")
    level = events[2]
    assert isinstance(level, LevelRaised)
    assert level.contact is None  # the eng team has no contacts
    assert (fired.tier, fired.escalation_level, fired.priority) == ("L3", 1, Priority.CRITICAL)
    assert fired.fired_triggers == ("p1/breached/resolution/1",)
    rebuilt = ticket
    for event in events:
        rebuilt = apply_event(rebuilt, event)
    assert rebuilt == fired


def test_actions_that_cannot_apply_are_skipped_but_the_trigger_counts() -> None:
    policy = _policy(
        Trigger(
            name="stuck",
            on="time_in_tier",
            after=timedelta(hours=1),
            actions=[EscalateTier(), SetPriority(priority="medium"), Notify(contact="manager")],
        )
    )
    top = apply_event(
        _ticket(),
        Escalated(ticket_id="T-3", at=T0, by=AGENT, from_tier="L1", to_tier="L3", team="eng"),
    )
    due = due_escalations(top, [policy], now=T0 + timedelta(hours=2))
    now = T0 + timedelta(hours=2)
    fired, events = fire(top, due[0], policy, ladder=LADDER, contacts=CONTACTS, now=now)
    assert [type(e) for e in events] == [EscalationTriggered]
    assert fired.fired_triggers == (due[0].key,)
    assert due_escalations(fired, [policy], now=T0 + timedelta(days=9)) == []


def test_notify_resolves_team_lead_and_manager() -> None:
    policy = _policy(
        Trigger(
            name="stuck",
            on="time_in_tier",
            after=timedelta(hours=1),
            actions=[
                Notify(contact="team_lead"),
                Notify(contact="manager"),
                Notify(contact="duty-officer"),
            ],
        )
    )
    now = T0 + timedelta(hours=2)
    due = due_escalations(_ticket(), [policy], now=now)
    _, events = fire(_ticket(), due[0], policy, ladder=LADDER, contacts=CONTACTS, now=now)
    notes = [e for e in events if isinstance(e, EscalationNotified)]
    assert [n.contact for n in notes] == ["desk-lead", "desk-manager", "duty-officer"]
    assert all(n.policy == "standard" and "trigger 'stuck'" in n.reason for n in notes)
    _, events = fire(_ticket(), due[0], policy, ladder=LADDER, contacts=["only-lead"], now=now)
    assert [e.contact for e in events if isinstance(e, EscalationNotified)] == [
        "only-lead",
        "duty-officer",
    ]


def test_fire_checks_its_arguments() -> None:
    policy = _policy(
        Trigger(name="stuck", on="time_in_tier", after=timedelta(hours=1), actions=[RaiseLevel()])
    )
    due = due_escalations(_ticket(), [policy], now=T0 + timedelta(hours=2))[0]
    with pytest.raises(ValidationError, match="not yet"):
        fire(_ticket(), due, policy, ladder=LADDER, contacts=CONTACTS, now=T0)
    other = _policy(policy.triggers[0], name="other")
    with pytest.raises(ValidationError, match="belongs to policy 'standard'"):
        fire(_ticket(), due, other, ladder=LADDER, contacts=CONTACTS, now=due.at)
    bad = _policy(
        Trigger(
            name="stuck",
            on="time_in_tier",
            after=timedelta(hours=1),
            actions=[EscalateTier(to_tier="L9")],
        )
    )
    with pytest.raises(ConfigError, match="'L9' is not on the ladder") as info:
        fire(_ticket(), due, bad, ladder=LADDER, contacts=CONTACTS, now=due.at)
    assert info.value.path == "policies.standard.triggers.stuck.actions[0]"


# -- running policies over time -----------------------------------------------------------------


def _ladder_policy() -> EscalationPolicy:
    return _policy(
        Trigger(
            name="stuck",
            on="time_in_tier",
            after=timedelta(hours=4),
            actions=[EscalateTier(), RaiseLevel()],
        ),
        Trigger(
            name="urgent",
            on="priority",
            priorities=["critical"],
            actions=[Notify(contact="team_lead")],
        ),
    )


def test_run_escalations_climbs_the_ladder_at_the_exact_instants() -> None:
    ticket, events = run_escalations(
        _ticket(), [_ladder_policy()], ladder=LADDER, contacts=CONTACTS, now=T0 + timedelta(days=2)
    )
    moves = [(e.at, e.to_tier) for e in events if isinstance(e, Escalated)]
    assert moves == [(T0 + timedelta(hours=4), "L2"), (T0 + timedelta(hours=8), "L3")]
    assert ticket.tier == "L3"
    levels = [(e.level, e.contact) for e in events if isinstance(e, LevelRaised)]
    # the third firing finds the top tier: escalation is skipped, the level still rises
    assert levels == [(1, "net-lead"), (2, None), (3, None)]
    assert [e.at for e in events if isinstance(e, EscalationTriggered)] == [
        T0 + timedelta(hours=h) for h in (4, 8, 12)
    ]
    assert ticket.escalation_level == 3
    assert len(ticket.fired_triggers) == 3
    assert next_escalation_at(ticket, [_ladder_policy()]) is None


def test_tick_frequency_does_not_change_the_outcome() -> None:
    policy = _ladder_policy()
    start = apply_event(
        _ticket(),
        PriorityChanged(ticket_id="T-3", at=T0, by=AGENT, priority="critical", previous="medium"),
    )
    end = T0 + timedelta(days=1)
    once, once_events = run_escalations(start, [policy], ladder=LADDER, contacts=CONTACTS, now=end)
    often = start
    often_events: list[Event] = []
    tick = T0
    while tick < end:
        tick += timedelta(minutes=37)
        often, produced = run_escalations(
            often, [policy], ladder=LADDER, contacts=CONTACTS, now=min(tick, end)
        )
        often_events += produced
    assert often == once
    assert often_events == once_events


def test_metric_parse_in_trigger() -> None:
    trigger = Trigger(
        name="t", on=TriggerKind.SLA_BREACH, metric=Metric.RESOLUTION, actions=[RaiseLevel()]
    )
    assert trigger.to_dict() == {
        "name": "t",
        "on": "sla_breach",
        "metric": "resolution",
        "actions": [{"action": "raise_level"}],
    }


def test_a_trigger_whose_condition_fails_is_not_scheduled() -> None:
    """A time-in-tier trigger whose condition is false as the ticket stands can only
    become true by a change of the ticket (which schedules again): scheduling its instant
    would wake the ticket for nothing, again and again."""
    policy = _policy(
        Trigger(
            name="net",
            on="time_in_tier",
            after=timedelta(hours=1),
            when=Condition.where("category", "eq", "network"),
            actions=[RaiseLevel()],
        )
    )
    assert next_escalation_at(_ticket(category="email"), [policy]) is None
    assert next_escalation_at(_ticket(category="network"), [policy]) == T0 + timedelta(hours=1)


def test_a_requester_known_to_have_no_record_is_weighed_not_guessed() -> None:
    """With ``requester_known``, a requester of None is one without a record (erased):
    a VIP trigger cannot fire for it (its fields are missing, as firing finds them), so
    it is not scheduled; one that holds without the requester's fields still is."""
    def policy(when: Condition) -> EscalationPolicy:
        return _policy(
            Trigger(
                name="vip",
                on="time_in_tier",
                after=timedelta(hours=1),
                when=when,
                actions=[RaiseLevel()],
            )
        )

    vip = Condition.where("requester.vip", "eq", True)
    ticket = _ticket()
    assert next_escalation_at(ticket, [policy(vip)]) == T0 + timedelta(hours=1)  # a guess
    assert next_escalation_at(ticket, [policy(vip)], requester_known=True) is None
    assert next_escalation_at(
        ticket, [policy(~vip)], requester_known=True
    ) == T0 + timedelta(hours=1)
    with pytest.raises(ValidationError) as raised:
        next_escalation_at(ticket, [policy(vip)], requester_known="yes")  # type: ignore[arg-type]
    assert raised.value.field == "requester_known"


def test_a_business_hours_condition_is_scheduled_when_it_holds() -> None:
    office = BusinessCalendar(timezone="UTC", hours={"mon-fri": "12:00-13:00"})
    policy = _policy(
        Trigger(
            name="lunch",
            on="time_in_tier",
            after=timedelta(hours=1),
            when=Condition.where("business_hours.office", "eq", True),
            actions=[RaiseLevel()],
        )
    )
    ticket = _ticket()  # Monday 09:00 UTC: due at 10:00, when the office is closed
    found = next_escalation_at(ticket, [policy], {"office": office})
    assert found == T0 + timedelta(hours=3)  # it opens at 12:00
    due = due_escalations(ticket, [policy], now=found, calendars={"office": office})
    assert [d.at for d in due] == [found]  # stamped when the condition became true
    # Evaluated later, after the office closed again, it is the same trigger at 12:00;
    # evaluated at 11:00 (after its own instant, before the office opens) it is not due.
    later = due_escalations(ticket, [policy], now=T0 + timedelta(hours=11),
                            calendars={"office": office})
    assert [d.at for d in later] == [found]
    assert due_escalations(ticket, [policy], now=T0 + timedelta(hours=2),
                           calendars={"office": office}) == []
    never = _policy(
        Trigger(
            name="lunch",
            on="time_in_tier",
            after=timedelta(hours=1),
            when=Condition.where("business_hours.office", "eq", True)
            & Condition.where("category", "eq", "network"),
            actions=[RaiseLevel()],
        )
    )
    assert next_escalation_at(ticket, [never], {"office": office}) is None


def test_a_business_hours_condition_is_evaluated_in_full_when_the_trigger_fires() -> None:
    """Scheduling may take a condition it cannot tell (no requester, no calendars) to hold;
    firing may not: a trigger for VIPs in office hours does not fire without a requester
    (``requester.vip`` is missing, as in a condition without business hours), and one
    whose calendars are not given is refused as its condition is elsewhere."""
    office = BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})
    calendars = {"office": office}
    in_office = Condition.where("business_hours.office", "eq", True)
    vip = Condition.where("requester.vip", "eq", True)

    def policy(when: Condition) -> EscalationPolicy:
        return _policy(
            Trigger(
                name="vip",
                on="time_in_tier",
                after=timedelta(hours=1),
                when=when,
                actions=[RaiseLevel()],
            )
        )

    ticket = _ticket()  # Monday 09:00 UTC: due at 10:00, the office is open
    now = T0 + timedelta(hours=2)
    assert due_escalations(ticket, [policy(vip)], now=now, calendars=calendars) == []
    both = policy(vip & in_office)
    assert due_escalations(ticket, [both], now=now, calendars=calendars) == []
    ada = Requester(id="r-1", vip=True)
    due = due_escalations(ticket, [both], now=now, calendars=calendars, requester=ada)
    assert [d.at for d in due] == [T0 + timedelta(hours=1)]
    # Scheduling still wakes the ticket at the trigger's own instant without them.
    assert next_escalation_at(ticket, [both], calendars) == T0 + timedelta(hours=1)
    with pytest.raises(ValidationError, match="unknown calendar 'office'"):
        due_escalations(ticket, [policy(~in_office)], now=now)


def test_a_business_hours_trigger_fires_the_same_whatever_the_tick_times() -> None:
    """A time-in-tier trigger due Monday 17:30 whose condition holds in office hours
    fires at Tuesday 09:00, whether the desk ticks at that instant, every hour, or only at
    night."""
    from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
    from helpdesk_core.model import EscalationTriggered

    document = {
        "calendars": {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}},
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk"}],
        "escalation_policies": [
            {
                "name": "p",
                "triggers": [
                    {
                        "name": "office",
                        "on": "time_in_tier",
                        "after": "1h",
                        "when": {"field": "business_hours.office", "op": "eq", "value": True},
                        "actions": [{"action": "notify", "contact": "watcher"}],
                    }
                ],
            }
        ],
    }
    opened = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    tuesday_nine = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

    def fired(ticks: list[datetime]) -> list[datetime]:
        clock = ManualClock(opened)
        desk = Helpdesk(DeskConfig.from_dict(document), MemoryStore(), clock)
        ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
        assert desk.next_wakeup() == tuesday_nine
        for at in ticks:
            clock.set(at)
            desk.tick()
        return [e.at for e in desk.history(ticket.id) if isinstance(e, EscalationTriggered)]

    hourly = [opened + timedelta(hours=h) for h in range(1, 48)]
    nightly = [datetime(2026, 3, day, 20, 0, tzinfo=UTC) for day in (3, 4)]
    assert fired([tuesday_nine]) == fired(hourly) == fired(nightly) == [tuesday_nine]


def test_a_breach_trigger_for_office_hours_waits_for_the_office() -> None:
    """A breach at Monday 18:00 with a trigger for office hours: the desk wakes at
    Tuesday 09:00 for it and records it there."""
    from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester
    from helpdesk_core.model import EscalationTriggered

    document = {
        "calendars": {
            "office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}},
            "always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}},
        },
        "sla_policies": [
            {"name": "p", "calendar": "always", "targets": {"medium": {"resolution": "1h"}}}
        ],
        "escalation_policies": [
            {
                "name": "p",
                "triggers": [
                    {
                        "name": "breach",
                        "on": "sla_breach",
                        "metric": "resolution",
                        "when": {"field": "business_hours.office", "op": "eq", "value": True},
                        "actions": [{"action": "notify", "contact": "watcher"}],
                    }
                ],
            }
        ],
    }
    clock = ManualClock(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    desk = Helpdesk(DeskConfig.from_dict(document), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.set(datetime(2026, 3, 2, 18, 30, tzinfo=UTC))
    desk.tick()  # records the breach at 18:00
    tuesday_nine = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert desk.next_wakeup() == tuesday_nine
    clock.set(tuesday_nine)
    desk.tick()
    assert [e.at for e in desk.history(ticket.id) if isinstance(e, EscalationTriggered)] == [
        tuesday_nine
    ]


def test_a_business_hours_trigger_does_not_fire_on_a_ticket_solved_before_it_held() -> None:
    """Two hours in L1 by Sunday 05:00, solved at 06:00, the office opens on Monday: the
    trigger for office hours never held while the ticket was active. A note on the
    solved ticket on Monday does not fire it (its actions skipped, its once-only key
    spent), so the reopen escalates the ticket at once."""
    from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester

    document = {
        "calendars": {"office": {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}},
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["network"]}],
        "teams": [{"id": "desk"}, {"id": "network"}],
        "agents": [{"id": "ann", "teams": ["desk", "network"]}],
        "escalation_policies": [
            {
                "name": "p",
                "triggers": [
                    {
                        "name": "stuck",
                        "on": "time_in_tier",
                        "after": "2h",
                        "when": {"field": "business_hours.office", "op": "eq", "value": True},
                        "actions": [{"action": "escalate_tier"}],
                    }
                ],
            }
        ],
        "assignment": {"auto_assign": False},
    }
    clock = ManualClock(datetime(2026, 3, 8, 3, 0, tzinfo=UTC))  # a Sunday
    desk = Helpdesk(DeskConfig.from_dict(document), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.set(datetime(2026, 3, 8, 6, 0, tzinfo=UTC))
    desk.solve(ticket.id, by="ann", resolution="restarted", first_contact=True)
    monday_ten = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    config = desk.config
    solved = desk.get(ticket.id)
    due = due_escalations(
        solved, config.escalation_policies, now=monday_ten, calendars=config.calendars
    )
    assert due == []
    clock.set(monday_ten)
    desk.tick()
    desk.reply(ticket.id, author="ann", body="checked the logs", public=False)
    assert not any(isinstance(e, EscalationTriggered) for e in desk.history(ticket.id))
    clock.set(datetime(2026, 3, 9, 11, 0, tzinfo=UTC))
    reopened = desk.reopen(ticket.id, by="ann", reason="it drops again")
    assert reopened.tier == "L2"
    assert [e.at for e in desk.history(ticket.id) if isinstance(e, Escalated)][-1:] == [
        datetime(2026, 3, 9, 11, 0, tzinfo=UTC)
    ]


def test_a_priority_raised_on_a_solved_ticket_escalates_when_it_is_reopened() -> None:
    """Raised to critical while solved, then reopened: the manager is told at the reopen.
    The trigger did not fire on the solved ticket with its action skipped, which spent
    it for the ticket's life."""
    from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester

    document = {
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk", "contacts": ["lead", "boss"]}],
        "agents": [
            {"id": "ann", "teams": ["desk"]},
            {"id": "lead", "teams": ["desk"], "capacity": 0},
            {"id": "boss", "teams": ["desk"], "capacity": 0},
        ],
        "escalation_policies": [
            {
                "name": "major",
                "triggers": [
                    {
                        "name": "p1",
                        "on": "priority",
                        "priorities": ["critical"],
                        "actions": [{"action": "notify", "contact": "manager"}],
                    },
                    {
                        "name": "urgent-again",
                        "on": "reopens",
                        "count": 1,
                        "when": {"field": "priority", "op": "eq", "value": "critical"},
                        "actions": [{"action": "raise_level"}],
                    },
                ],
            }
        ],
        "assignment": {"auto_assign": False},
    }
    clock = ManualClock(T0)
    desk = Helpdesk(DeskConfig.from_dict(document), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.set(T0 + timedelta(hours=1))
    desk.solve(ticket.id, by="ann", resolution="restarted", first_contact=True)
    clock.set(T0 + timedelta(hours=2))
    raised = desk.set_priority(ticket.id, "critical", by="ann", reason="the floor is down")
    assert due_escalations(raised, desk.config.escalation_policies, now=clock.now()) == []
    assert not any(isinstance(e, EscalationTriggered) for e in desk.history(ticket.id))
    reopen_at = T0 + timedelta(hours=2, minutes=5)
    clock.set(reopen_at)
    reopened = desk.reopen(ticket.id, by="ann", reason="it drops again")
    assert reopened.escalation_level == 1
    told = [(e.at, e.contact) for e in desk.history(ticket.id) if isinstance(e, EscalationNotified)]
    assert told == [(reopen_at, "boss")]


def _reconfigured_desk() -> tuple[Any, Any, str]:
    """A desk without escalation policies whose ticket, opened at T0, was solved at
    12:00; then a policy escalating after one hour in a tier is added."""
    from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester

    document: dict[str, Any] = {
        "tiers": [{"id": "L1", "teams": ["desk"]}, {"id": "L2", "teams": ["network"]}],
        "teams": [{"id": "desk", "contacts": ["lead"]}, {"id": "network"}],
        "agents": [
            {"id": "ann", "teams": ["desk", "network"]},
            {"id": "lead", "teams": ["desk"], "capacity": 0},
        ],
        "assignment": {"auto_assign": False},
    }
    clock = ManualClock(T0)
    desk = Helpdesk(DeskConfig.from_dict(document), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.set(T0 + timedelta(hours=3))
    desk.reply(ticket.id, author="ann", body="restarted the gateway", public=True)
    desk.solve(ticket.id, by="ann", resolution="restarted")
    document["escalation_policies"] = [
        {
            "name": "stuck",
            "triggers": [
                {
                    "name": "hour",
                    "on": "time_in_tier",
                    "after": "1h",
                    "actions": [
                        {"action": "notify", "contact": "team_lead"},
                        {"action": "escalate_tier"},
                    ],
                }
            ],
        }
    ]
    desk.reconfigure(DeskConfig.from_dict(document))
    return desk, clock, ticket.id


def test_a_trigger_added_after_the_solve_does_not_fire_on_the_solved_ticket() -> None:
    """The ticket spent three hours in L1 before a policy escalating after one hour was
    added: that trigger did not exist while the ticket was active, so it was not true
    then. A note, a read or a tick on the solved ticket does not fire it (its actions
    skipped, its once-only key spent); the reopen does, with its actions."""
    desk, clock, ticket_id = _reconfigured_desk()
    clock.set(T0 + timedelta(hours=4))
    assert desk.tick() == []
    assert not desk.get(ticket_id).fired_triggers
    desk.reply(ticket_id, author="ann", body="checked the logs", public=False)
    assert not any(isinstance(e, EscalationTriggered) for e in desk.history(ticket_id))
    reopen_at = T0 + timedelta(hours=5)
    clock.set(reopen_at)
    reopened = desk.reopen(ticket_id, by="ann", reason="it drops again")
    assert reopened.tier == "L2"
    fired = [
        (type(e).__name__, e.at)
        for e in desk.history(ticket_id)
        if isinstance(e, EscalationTriggered | EscalationNotified | Escalated)
    ]
    assert fired == [
        ("EscalationTriggered", reopen_at),
        ("EscalationNotified", reopen_at),
        ("Escalated", reopen_at),
    ]


def test_a_trigger_added_after_the_solve_is_not_spent_by_the_auto_close() -> None:
    """The tick that closes the solved ticket does not fire the trigger added since
    (a closed ticket cannot be reopened: it never fires there)."""
    desk, clock, ticket_id = _reconfigured_desk()
    clock.set(T0 + timedelta(days=30))
    desk.tick()
    closed = desk.get(ticket_id)
    assert closed.status_category.value == "closed"
    assert not any(isinstance(e, EscalationTriggered) for e in desk.history(ticket_id))


def test_a_requester_made_a_vip_after_the_solve_does_not_fire_a_vip_trigger_there() -> None:
    """A trigger for VIPs' tickets, on a ticket whose requester became a VIP after it was
    solved: it was not true while the ticket was active, so a note on the solved ticket
    (by a desk of another process, which catches the ticket up) does not spend it; the
    reopen fires it."""
    from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, Requester

    document = {
        "tiers": [{"id": "L1", "teams": ["desk"]}],
        "teams": [{"id": "desk", "contacts": ["lead"]}],
        "agents": [
            {"id": "ann", "teams": ["desk"]},
            {"id": "lead", "teams": ["desk"], "capacity": 0},
        ],
        "escalation_policies": [
            {
                "name": "vip",
                "triggers": [
                    {
                        "name": "half-hour",
                        "on": "time_in_tier",
                        "after": "30m",
                        "when": {"field": "requester.vip", "op": "eq", "value": True},
                        "actions": [{"action": "raise_level"}],
                    }
                ],
            }
        ],
        "assignment": {"auto_assign": False},
    }
    clock = ManualClock(T0)
    desk = Helpdesk(DeskConfig.from_dict(document), MemoryStore(), clock)
    ticket = desk.open(requester=Requester(id="ada"), subject="VPN down")
    clock.set(T0 + timedelta(hours=1))
    desk.reply(ticket.id, author="ann", body="restarted the gateway", public=True)
    desk.solve(ticket.id, by="ann", resolution="restarted")
    clock.set(T0 + timedelta(hours=2))
    desk.upsert_requester(Requester(id="ada", vip=True))
    desk.tick()
    # another process sharing the store, which did not save the solved ticket itself
    other = Helpdesk(desk.config, desk.store, clock)
    other.reply(ticket.id, author="ann", body="checked the logs", public=False)
    assert not any(isinstance(e, EscalationTriggered) for e in desk.history(ticket.id))
    reopen_at = T0 + timedelta(hours=3)
    clock.set(reopen_at)
    reopened = desk.reopen(ticket.id, by="ann", reason="it drops again")
    assert reopened.escalation_level == 1
    assert [e.at for e in desk.history(ticket.id) if isinstance(e, LevelRaised)] == [reopen_at]
