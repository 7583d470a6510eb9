"""The public strategies: every value is valid, round-trips through its codec, and the
documented space is covered."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, find, given, settings
from hypothesis import strategies as st

import helpdesk_core.testing as testing
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, SequentialIds
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Actor,
    Agent,
    ClockState,
    Requester,
    Satisfaction,
    StatusCategory,
    Team,
    Ticket,
    TicketOpened,
    Tier,
)
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.routing.rules import RuleSet
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.policy import SlaPolicy
from helpdesk_core.testing import reference as r
from helpdesk_core.testing import strategies as hs
from helpdesk_core.workflow.escalation import EscalationPolicy
from helpdesk_core.workflow.lifecycle import Lifecycle

FIND = settings(max_examples=500, database=None)
Check = Callable[[Any], bool]


def covers(strategy: st.SearchStrategy[Any], checks: dict[str, Check], draws: int = 150) -> None:
    """Each check holds for at least one of a fixed number of draws (derandomized)."""
    seen: Counter[str] = Counter()

    @settings(max_examples=draws, deadline=None, database=None, derandomize=True)
    @given(strategy)
    def draw(value: Any) -> None:
        for name, check in checks.items():
            if check(value):
                seen[name] += 1
                event(name)

    draw()
    missing = [name for name in checks if not seen[name]]
    assert not missing, f"never drawn in {draws} examples: {missing} (seen {dict(seen)})"


# ---------------------------------------------------------------- calendars
@given(hs.business_calendars())
def test_calendars_validate_and_round_trip(calendar: BusinessCalendar) -> None:
    assert BusinessCalendar.from_dict(calendar.to_dict()) == calendar
    assert calendar.open_seconds_per_week > 0
    start = datetime(2026, 3, 27, 12, tzinfo=ZoneInfo("UTC"))
    opens = calendar.next_open(start)
    assert calendar.is_open(opens)


def _has_overnight(calendar: BusinessCalendar) -> bool:
    return any(
        int(span[:2]) > int(span[6:8]) for spans in calendar.hours.values() for span in spans
    )


def _in_zone_with_night_shift(zone: str) -> Check:
    return lambda c: c.timezone == zone and _has_overnight(c)


def test_calendars_cover_their_space() -> None:
    checks: dict[str, Check] = {
        f"night shift in {zone}": _in_zone_with_night_shift(zone) for zone in hs.DST_ZONES
    }
    checks |= {
        "lunch break": lambda c: any(len(s) >= 2 for s in c.hours.values()),
        "holidays": lambda c: bool(c.to_dict()["holidays"]),
        "special days": lambda c: bool(c.special_days),
        "24/7": lambda c: c.open_seconds_per_week == 7 * 86400,
        "weekend hours": lambda c: "sat" in c.hours or "sun" in c.hours,
    }
    covers(hs.business_calendars(), checks, draws=300)


@pytest.mark.parametrize(
    ("build", "flag"),
    [
        (hs.conditions, "allow_always"),
        (hs.sla_policies, "conditional"),
        (hs.tickets, "worked"),
    ],
)
@pytest.mark.parametrize("bad", [None, "no", 0])
def test_flags_are_true_or_false(build: Callable[..., object], flag: str, bad: Any) -> None:
    # "no" is truthy: taken as given, it would draw what the caller turned off
    with pytest.raises(ValidationError, match=flag) as caught:
        build(**{flag: bad})
    assert caught.value.field == flag


def test_calendar_bounds_are_validated() -> None:
    with pytest.raises(ValidationError):
        hs.business_calendars(timezones=())
    with pytest.raises(ValidationError, match="Mars/Olympus"):
        hs.business_calendars(timezones=["Mars/Olympus"])
    with pytest.raises(ValidationError):
        hs.business_calendars(min_date=date(2027, 1, 1), max_date=date(2026, 1, 1))
    with pytest.raises(ValidationError, match="layout"):
        hs.business_calendars(layout="shifts")
    for flag in ("overnight", "holidays", "special_days"):
        for bad in (None, "no", 0):
            with pytest.raises(ValidationError, match=flag):
                hs.business_calendars(**{flag: bad})
    for grid in [(), (7,), (0,), (90,), (True,)]:
        with pytest.raises(ValidationError, match="grid"):
            hs.business_calendars(grid=grid)


def _minutes(text: str) -> tuple[int, int]:
    start, end = ((int(t[:2]) * 60 + int(t[3:])) for t in text.split("-"))
    return start, end + 1440 if end <= start else end


def _spans(calendar: BusinessCalendar) -> list[tuple[int, int]]:
    days = [*calendar.hours.values(), *calendar.special_days.values()]
    return [_minutes(text) for texts in days for text in texts]


def _crosses_midnight(texts: tuple[str, ...]) -> bool:
    return any(_minutes(text)[1] > 1440 for text in texts)


@given(
    hs.business_calendars(
        layout="any", grid=(20, 30), min_date=date(2026, 3, 20), max_date=date(2026, 4, 5)
    )
)
def test_any_layout_calendars_validate_and_round_trip(calendar: BusinessCalendar) -> None:
    assert BusinessCalendar.from_dict(calendar.to_dict()) == calendar
    assert calendar.open_seconds_per_week > 0
    spans = _spans(calendar)
    assert all(0 <= start < 1440 and start < end <= start + 1440 for start, end in spans)
    # each calendar keeps to one grid: 00:20 and 00:30 never meet in one calendar
    assert any(all(m % grid == 0 for span in spans for m in span) for grid in (20, 30))
    for day in calendar.special_days:
        assert date(2026, 3, 20) <= day <= date(2026, 4, 5)


@given(hs.business_calendars(layout="any", overnight=False, grid=(30,)))
def test_any_layout_without_overnight_keeps_every_interval_in_its_day(
    calendar: BusinessCalendar,
) -> None:
    assert all(end <= 1440 and start % 30 == end % 30 == 0 for start, end in _spans(calendar))


def test_any_layout_calendars_cover_their_space() -> None:
    def sunday_into_monday(c: BusinessCalendar) -> bool:
        return _crosses_midnight(c.hours.get("sun", ()))

    covers(
        hs.business_calendars(
            layout="any", grid=(1, 15), min_date=date(2026, 3, 1), max_date=date(2026, 3, 7)
        ),
        {
            "midnight crossed at an odd minute": lambda c: any(
                end > 1440 and end % 15 for start, end in _spans(c)
            ),
            "a Sunday night into Monday": sunday_into_monday,
            "three intervals a day": lambda c: any(len(t) >= 3 for t in c.hours.values()),
            "a special day past midnight": lambda c: any(
                _crosses_midnight(t) for t in c.special_days.values()
            ),
            "a closed special day": lambda c: () in c.special_days.values(),
            "a holiday": lambda c: bool(c.to_dict()["holidays"]),
        },
        draws=300,
    )


def test_office_calendars_keep_to_their_grid() -> None:
    covers(
        hs.business_calendars(grid=(1, 60)),
        {
            "odd minutes": lambda c: any(m % 15 for span in _spans(c) for m in span),
            "whole hours only": lambda c: (
                bool(_spans(c)) and all(m % 60 == 0 for span in _spans(c) for m in span)
            ),
        },
    )


# ---------------------------------------------------------------- configuration parts
@given(hs.conditions(calendars=["office"]))
def test_conditions_round_trip(condition: Condition) -> None:
    assert Condition.from_dict(condition.to_dict()) == condition
    assert condition.calendar_names() <= {"office"}


@given(hs.sla_policies(calendars=["office", "always"]))
def test_sla_policies_round_trip(policy: SlaPolicy) -> None:
    assert SlaPolicy.from_dict(policy.to_dict()) == policy
    assert policy.calendar in ("office", "always")


def test_sla_policies_cover_their_space() -> None:
    covers(
        hs.sla_policies(),
        {
            "restart on reopen": lambda p: p.reopen.value == "restart",
            "two warnings": lambda p: len(p.warnings) >= 2,
            "all priorities": lambda p: len(p.targets) == 4,
            "a condition": lambda p: p.condition != Condition.always(),
            "custom pauses": lambda p: p.pauses_in("resolution") != {"pending", "on_hold"},
        },
    )


@given(hs.lifecycles(calendars=[None, "office"]))
def test_lifecycles_round_trip(lifecycle: Lifecycle) -> None:
    assert Lifecycle.from_dict(lifecycle.to_dict()) == lifecycle
    assert any(lifecycle.is_terminal(s) for s in lifecycle.status_names)


def test_lifecycles_cover_their_space() -> None:
    covers(
        hs.lifecycles(),
        {
            "cancel": lambda lc: "cancelled" in lc.status_names,
            "three extra statuses": lambda lc: len(lc.status_names) >= 8,
            "no reopen window": lambda lc: lc.reopen_window is None,
            "no auto-close": lambda lc: lc.auto_close_after is None,
            "whole days": lambda lc: (
                lc.reopen_window is not None
                and lc.reopen_window >= timedelta(days=1)
                and lc.reopen_window.seconds == 0
            ),
            "odd seconds": lambda lc: (
                lc.reopen_window is not None and lc.reopen_window.seconds % 60 != 0
            ),
        },
    )


@given(hs.lifecycles(max_reopen_window=timedelta(hours=2), max_auto_close_after=1))
def test_lifecycle_bounds_hold(lifecycle: Lifecycle) -> None:
    window = lifecycle.reopen_window
    assert window is None or timedelta(0) <= window <= timedelta(hours=2)
    assert lifecycle.auto_close_after in (None, 0, 1)


def test_lifecycle_bounds_are_validated() -> None:
    with pytest.raises(ValidationError, match="max_reopen_window"):
        hs.lifecycles(max_reopen_window=timedelta(seconds=-1))
    with pytest.raises(ValidationError, match="max_auto_close_after"):
        hs.lifecycles(max_auto_close_after=-1)


@given(st.data())
def test_routing_rules_name_only_what_exists(data: st.DataObject) -> None:
    tiers = [Tier(id="L1", teams=("desk",)), Tier(id="L2", teams=("net", "apps"))]
    rules = data.draw(hs.routing_rules(tiers=tiers, sla_policies=["gold"], calendars=["office"]))
    assert RuleSet.from_dict(rules.to_dict()) == rules
    for rule in rules:
        assert (rule.actions.tier, rule.actions.team) in {
            (None, None),
            ("L1", "desk"),
            ("L2", "net"),
            ("L2", "apps"),
        }
        assert rule.actions.sla_policy in (None, "gold")


@given(st.data())
def test_routing_rules_take_conditions_tags_fields_and_assignment(data: st.DataObject) -> None:
    vip = Condition.from_dict({"field": "requester.vip", "op": "eq", "value": True})
    rules = data.draw(
        hs.routing_rules(
            max_size=6,
            when=st.just(vip),
            tags=["vip", "vpn"],
            fields=hs.custom_fields(names=["os"], values=["mac"]),
            assign=["least_loaded"],
        )
    )
    assert RuleSet.from_dict(rules.to_dict()) == rules
    for rule in rules:
        actions = rule.actions
        assert rule.when == vip
        assert set(actions.add_tags) | set(actions.remove_tags) <= {"vip", "vpn"}
        assert dict(actions.fields) in ({}, {"os": "mac"})
        assert actions.assign is None or actions.assign.strategy == "least_loaded"


def test_routing_rules_cover_their_options() -> None:
    covers(
        hs.routing_rules(
            tags=["vip", "vpn"], fields=hs.custom_fields(names=["os"]), assign=["round_robin"]
        ),
        {
            "removes a tag": lambda rs: any(r.actions.remove_tags for r in rs),
            "sets a field": lambda rs: any(r.actions.fields for r in rs),
            "assigns": lambda rs: any(r.actions.assign is not None for r in rs),
        },
    )


def test_routing_rule_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="when"):
        hs.routing_rules(when=Condition.always())  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="tags"):
        hs.routing_rules(tags=[" padded "])
    with pytest.raises(ValidationError, match="assign"):
        hs.routing_rules(assign=["at_random"])
    with pytest.raises(ValidationError, match="tiers"):
        hs.routing_rules(tiers=["L1"])  # type: ignore[list-item]


@given(hs.escalation_policies())
def test_escalation_policies_round_trip(policy: EscalationPolicy) -> None:
    assert EscalationPolicy.from_dict(policy.to_dict()) == policy


@settings(max_examples=40, deadline=None)
@given(hs.desk_configs())
def test_desk_configs_build_and_round_trip(config: DeskConfig) -> None:
    assert DeskConfig.from_dict(config.to_dict()) == config


def test_desk_configs_cover_their_space() -> None:
    covers(
        hs.desk_configs(),
        {
            "three tiers, three agents": lambda c: len(c.tiers) == 3 and len(c.agents) >= 3,
            "custom lifecycle": lambda c: "custom" in c.lifecycles,
            "policies and rules": lambda c: len(c.sla_policies) >= 2 and len(c.routing) >= 2,
            "escalation": lambda c: bool(c.escalation_policies),
            "no agents": lambda c: not c.agents,
        },
        draws=60,
    )


# ---------------------------------------------------------------- commands
@settings(max_examples=30, deadline=None)
@given(st.data())
def test_command_sequences_run_on_generated_desks(data: st.DataObject) -> None:
    config = data.draw(hs.desk_configs(max_agents=3))
    commands = data.draw(hs.command_sequences(config, max_size=12))
    assert isinstance(commands[0], r.Open)
    desk = Helpdesk(
        config=config,
        store=MemoryStore(),
        clock=ManualClock(datetime(2026, 3, 27, 15, tzinfo=ZoneInfo("Europe/Berlin"))),
        ids=SequentialIds(),
    )
    runner = r.CommandRunner(desk)
    for command in commands:
        resolved = runner.resolve(command)
        if resolved is not None:
            runner.run(resolved)  # HelpdeskErrors become refused outcomes; nothing else
    assert runner.tickets


@pytest.mark.parametrize(
    "kind",
    [
        r.Open,
        r.Reply,
        r.ChangeStatus,
        r.Solve,
        r.Reopen,
        r.Escalate,
        r.SetPriority,
        r.Rate,
        r.AdvanceTime,
    ],
)
def test_commands_cover_every_kind(kind: type) -> None:
    covers(hs.commands(testing.default_config()), {kind.__name__: lambda c: isinstance(c, kind)})


def test_command_bounds_are_validated() -> None:
    config = testing.default_config()
    with pytest.raises(ValidationError):
        hs.commands(config, requesters=[])
    with pytest.raises(ValidationError):
        hs.commands(config, max_tickets=0)
    with pytest.raises(ValidationError):
        hs.command_sequences(config, min_size=3, max_size=2)


@pytest.mark.parametrize("bad", [None, "default", {"desk": {"name": "Desk"}}])
@pytest.mark.parametrize("build", [hs.commands, hs.command_sequences])
def test_commands_refuse_a_config_that_is_no_desk_config(
    build: Callable[[Any], object], bad: Any
) -> None:
    # not an AttributeError from deep inside, when built
    with pytest.raises(ValidationError, match="DeskConfig") as caught:
        build(bad)
    assert caught.value.field == "config"


@pytest.mark.parametrize("bad", ["Ada Lovelace", "", "é", 7, None])
def test_commands_refuse_requester_ids_no_desk_takes(bad: Any) -> None:
    # Every Open of such a requester would be refused, so a run would open no ticket and
    # pass without checking anything: the strategy refuses the id when it is built.
    config = testing.default_config()
    with pytest.raises(ValidationError, match="requesters") as caught:
        hs.commands(config, requesters=["ada", bad])
    assert caught.value.field == "requesters"
    with pytest.raises(ValidationError, match="requesters"):
        hs.command_sequences(config, requesters=[bad])


def test_a_model_whose_requesters_no_desk_takes_refuses_to_start() -> None:
    class Nobody(r.ReferenceModel):
        requester_ids = ("Ada Lovelace",)

    with pytest.raises(ValidationError, match="requesters"):
        Nobody()


# ---------------------------------------------------------------- model values and registry
@given(hs.tickets(max_comments=4))
def test_tickets_are_replayed_histories(ticket: Ticket) -> None:
    assert ticket.version >= 1
    assert ticket.subject.strip()


DEFAULT_LIFECYCLE = Lifecycle.default()


@settings(max_examples=200, deadline=None)
@given(hs.tickets())
def test_worked_tickets_are_what_a_desk_records(ticket: Ticket) -> None:
    from helpdesk_core.sla.clocks import due_events
    from helpdesk_core.testing.strategies import _SLA_POLICY

    assert ticket.status in DEFAULT_LIFECYCLE.status_names
    assert DEFAULT_LIFECYCLE.category(ticket.status) is ticket.status_category
    if ticket.status_category in (StatusCategory.SOLVED, StatusCategory.CLOSED):
        assert ticket.resolution and ticket.first_response_at is not None
    if ticket.reopen_count:
        assert ticket.reopened_at is not None
    for clock in ticket.sla.values():
        assert clock.policy == "standard"
        if clock.state is ClockState.PAUSED:
            assert not clock.is_running
        if clock.state is ClockState.MET:
            assert clock.is_stopped
    # Every warning and breach due by the last event is recorded: the SLA engine, asked
    # then, has nothing to add.
    events = due_events(
        ticket,
        now=ticket.updated_at,
        policies=[_SLA_POLICY],
        calendars={"always": BusinessCalendar.always()},
    )
    assert events == []


def test_worked_tickets_cover_the_lifecycle_and_the_clocks() -> None:
    def clocks(ticket: Ticket, state: ClockState) -> bool:
        return any(clock.state is state for clock in ticket.sla.values())

    covers(
        hs.tickets(),
        {
            "new": lambda t: t.status == "new",
            "assigned": lambda t: t.assignee is not None,
            "pending": lambda t: t.status == "pending",
            "on hold": lambda t: t.status == "on_hold",
            "solved": lambda t: t.status == "solved",
            "closed": lambda t: t.status == "closed",
            "reopened": lambda t: t.reopen_count > 0,
            "no clocks": lambda t: not t.sla,
            "a running clock": lambda t: clocks(t, ClockState.RUNNING),
            "a paused clock": lambda t: clocks(t, ClockState.PAUSED),
            "a met clock": lambda t: clocks(t, ClockState.MET),
            "a breached clock": lambda t: clocks(t, ClockState.BREACHED),
            "a warning": lambda t: any(c.warnings_sent for c in t.sla.values()),
        },
        draws=300,
    )


@given(hs.tickets(worked=False))
def test_tickets_that_are_not_worked_stay_as_they_opened(ticket: Ticket) -> None:
    assert ticket.status == "new"
    assert ticket.assignee is None
    assert ticket.sla == {}


NARROW_TICKETS = hs.tickets(
    subjects=["VPN down", "Printer jam"],
    descriptions=["", "it broke"],
    categories=["apps"],
    tags=["vip", "vpn"],
    fields=hs.custom_fields(names=["os", "seats"], values=["mac", 2, True], max_size=2),
    teams=["net", "desk"],
    max_escalation_level=2,
    at=datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Europe/Berlin")),
)


@given(NARROW_TICKETS)
def test_tickets_keep_to_what_they_are_given(ticket: Ticket) -> None:
    assert ticket.subject in ("VPN down", "Printer jam")
    assert ticket.description in ("", "it broke")
    assert ticket.category in (None, "apps")
    assert set(ticket.tags) <= {"vip", "vpn"}
    assert set(ticket.fields) <= {"os", "seats"}
    assert set(ticket.fields.values()) <= {"mac", 2, True}
    assert ticket.team in (None, "net", "desk")
    assert 0 <= ticket.escalation_level <= 2
    assert ticket.created_at == datetime(2026, 3, 2, 8, tzinfo=ZoneInfo("UTC"))


def test_narrowed_tickets_cover_their_space() -> None:
    covers(
        NARROW_TICKETS,
        {
            "routed": lambda t: t.team is not None,
            "unrouted": lambda t: t.team is None,
            "level two": lambda t: t.escalation_level == 2,
            "both tags": lambda t: t.tags == ("vip", "vpn"),
            "a typed field": lambda t: t.fields.get("seats") is True,
        },
    )


@given(
    hs.requesters(attributes=hs.custom_fields(names=["dept"], values=["it"], max_size=1)),
    hs.agents(tiers=[None, "L1"], skills=["vpn"], max_capacity=2, calendars=[None, "office"]),
)
def test_people_keep_to_what_they_are_given(requester: Requester, agent: Agent) -> None:
    assert dict(requester.attributes) in ({}, {"dept": "it"})
    assert agent.tier in (None, "L1")
    assert agent.skills <= {"vpn"}
    assert 0 <= agent.capacity <= 2
    assert agent.calendar in (None, "office")


def test_agents_without_a_tier_or_skills_are_drawn() -> None:
    covers(
        hs.agents(tiers=[None, "L1"], skills=[]),
        {
            "no tier": lambda a: a.tier is None,
            "a tier": lambda a: a.tier == "L1",
            "no skills": lambda a: not a.skills,
        },
    )


def test_ticket_and_people_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="subjects"):
        hs.tickets(subjects=["  "])
    with pytest.raises(ValidationError, match="subjects"):
        hs.tickets(subjects=[])
    with pytest.raises(ValidationError, match="teams"):
        hs.tickets(teams=["no spaces"])
    with pytest.raises(ValidationError, match="tags"):
        hs.tickets(tags="vip")
    with pytest.raises(ValidationError, match="fields"):
        hs.tickets(fields={"os": "mac"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="max_escalation_level"):
        hs.tickets(max_escalation_level=-1)
    with pytest.raises(ValidationError, match="timezone-aware"):
        hs.tickets(at=datetime(2026, 3, 2, 9))
    with pytest.raises(ValidationError, match="names"):
        hs.custom_fields(names=["no spaces"])
    with pytest.raises(ValidationError, match="values"):
        hs.custom_fields(values=[float("nan")])
    with pytest.raises(ValidationError, match="attributes"):
        hs.requesters(attributes={"dept": "it"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="max_capacity"):
        hs.agents(max_capacity=-1)
    with pytest.raises(ValidationError, match="skills"):
        hs.agents(skills=[""])


@pytest.mark.parametrize(
    "cls",
    [
        Actor,
        Agent,
        Requester,
        Team,
        Tier,
        Ticket,
        TicketOpened,
        BusinessCalendar,
        Condition,
        SlaPolicy,
        Lifecycle,
        RuleSet,
        EscalationPolicy,
        DeskConfig,
    ],
)
def test_from_type_knows_our_classes(cls: type) -> None:
    testing.register_strategies()
    testing.register_strategies()  # idempotent

    @settings(max_examples=5, deadline=None)
    @given(st.from_type(cls))
    def check(value: object) -> None:
        assert isinstance(value, cls)

    check()


def test_other_types_are_left_alone() -> None:
    assert find(st.from_type(date), lambda d: d.year > 2000, settings=FIND).year > 2000


def test_bounds_are_validated() -> None:
    with pytest.raises(ValidationError):
        hs.ids(min_size=3, max_size=2)
    with pytest.raises(ValidationError):
        hs.tickets(max_comments=-1)
    with pytest.raises(ValidationError):
        hs.agents(teams=())
    with pytest.raises(ValidationError):
        hs.desk_configs(max_tiers=0)
    with pytest.raises(ValidationError):
        hs.conditions(max_depth=-1)


# ---------------------------------------------------------------- the package surface
def test_every_public_name_resolves() -> None:
    for name in testing.__all__:
        assert getattr(testing, name) is not None
    assert sorted(testing.__all__) == testing.__all__
    with pytest.raises(AttributeError):
        testing.no_such_name


def test_importing_the_package_and_plugin_needs_neither_hypothesis_nor_pytest() -> None:
    code = (
        "import sys, helpdesk_core.testing\n"
        "assert 'hypothesis' not in sys.modules, 'hypothesis imported'\n"
        "assert 'pytest' not in sys.modules, 'pytest imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "bounds",
    [
        {"prefix": "bad prefix"},
        {"prefix": "é-"},
        {"prefix": "x" * 195},
        {"max_size": 201},
        {"min_size": 0, "max_size": 0},
        {"prefix": 7},
    ],
)
def test_ids_refuse_bounds_that_would_draw_invalid_ids(bounds: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        hs.ids(**bounds)


@settings(max_examples=100, deadline=None, database=None)
@given(hs.ids(prefix="T.1:", min_size=190, max_size=196), hs.ids(min_size=0, max_size=1))
def test_ids_are_valid_at_their_bounds(long: str, short: str) -> None:
    for value in (long, short):
        assert Actor.agent(value).id == value
    assert long.startswith("T.1:") and 194 <= len(long) <= 200
    assert len(short) == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: hs.lifecycles(name="bad name"),
        lambda: hs.lifecycles(calendars=["bad cal!"]),
        lambda: hs.sla_policies(calendars=["bad cal!"]),
        lambda: hs.sla_policies(name="sla-1"),  # a name, not a strategy
        lambda: hs.escalation_policies(name=""),
        lambda: hs.agents(teams=["bad team!"]),
        lambda: hs.agents(calendars=["bad cal!"]),
        lambda: hs.opened_events(ticket_id="bad id!"),
        lambda: hs.conditions(calendars="office"),  # a string is not a list of names
        lambda: hs.conditions(calendars=["bad cal!"]),
        lambda: hs.conditions(max_depth="2"),
        lambda: hs.routing_rules(sla_policies=["bad name!"]),
        lambda: hs.routing_rules(calendars=["bad cal!"]),
        lambda: hs.desk_configs(max_tiers="2"),
        lambda: hs.business_calendars(min_date="2026-01-01"),
    ],
)
def test_bad_arguments_are_refused_when_the_strategy_is_built(
    build: Callable[[], Any],
) -> None:
    # not later, while drawing, as a failure of the test using the strategy
    with pytest.raises(ValidationError):
        build()


@pytest.mark.parametrize(
    ("build", "argument", "has_min"),
    [
        (lambda: hs.tags(max_size=-1), "max_size", False),
        (lambda: hs.custom_fields(max_size=-1), "max_size", False),
        (lambda: hs.routing_rules(max_size=-1), "max_size", False),
        (lambda: hs.desk_configs(max_agents=-1), "max_agents", False),
        (lambda: hs.tickets(max_comments=-1), "max_comments", False),
        (lambda: hs.ids(min_size=-1), "min_size", True),
        (lambda: hs.ids(min_size=5, max_size=3), "max_size", True),
        (
            lambda: hs.command_sequences(testing.default_config(), min_size=3, max_size=2),
            "max_size",
            True,
        ),
    ],
    ids=["tags", "fields", "rules", "desks", "tickets", "ids-min", "ids-max", "sequences"],
)
def test_a_bad_bound_is_refused_under_its_own_name(
    build: Callable[[], object], argument: str, has_min: bool
) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.field == argument
    assert argument in caught.value.message
    if not has_min:  # no argument the strategy lacks (tickets has no min_comments)
        assert "min_" not in caught.value.message, caught.value.message


@pytest.mark.parametrize(
    "at",
    [
        datetime(9999, 12, 30, tzinfo=ZoneInfo("UTC")),
        datetime(9996, 12, 31, tzinfo=ZoneInfo("UTC")),
        datetime(1, 1, 2, tzinfo=ZoneInfo("UTC")),
        datetime(3, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")),
    ],
)
def test_tickets_refuse_an_opening_that_leaves_no_room_for_the_history(at: datetime) -> None:
    # Drawn, such a ticket's later events overflowed datetime or the SLA engine's years.
    with pytest.raises(ValidationError) as caught:
        hs.tickets(at=at)
    assert caught.value.field == "at"


@pytest.mark.parametrize(
    ("at", "options"),
    [
        (datetime(3, 1, 8, tzinfo=ZoneInfo("UTC")), {}),
        (datetime(9996, 10, 1, tzinfo=ZoneInfo("UTC")), {"max_comments": 3}),
        (datetime(9996, 6, 1, tzinfo=ZoneInfo("UTC")), {"max_escalation_level": 3}),
    ],
)
def test_tickets_open_at_the_ends_of_the_years_they_allow(
    at: datetime, options: dict[str, Any]
) -> None:
    @settings(max_examples=40, deadline=None, database=None)
    @given(hs.tickets(at=at, **options))
    def opens_there(ticket: Ticket) -> None:
        assert ticket.created_at == at

    opens_there()


def test_auto_close_bounds_past_what_a_lifecycle_takes_are_refused() -> None:
    with pytest.raises(ValidationError, match="max_auto_close_after is at most 3650"):
        hs.lifecycles(max_auto_close_after=3651)


@settings(max_examples=200)
@given(hs.lifecycles(max_auto_close_after=3650))
def test_lifecycles_are_valid_at_the_longest_auto_close(lifecycle: Lifecycle) -> None:
    assert Lifecycle.from_dict(lifecycle.to_dict()) == lifecycle


def test_lifecycles_draw_reopen_windows_up_to_the_longest_timedelta() -> None:
    longest = find(
        hs.lifecycles(max_reopen_window=timedelta.max),
        lambda lc: lc.reopen_window is not None
        and lc.reopen_window > timedelta.max - timedelta(seconds=1),
        settings=settings(max_examples=2000, database=None, derandomize=True),
    )
    assert Lifecycle.from_dict(longest.to_dict()) == longest


_LAST_DAY = datetime(9999, 12, 31, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("bounds", "argument"),
    [
        ({"min_value": _LAST_DAY, "max_value": datetime.max.replace(tzinfo=UTC)}, "min_value"),
        (
            {"min_value": datetime(9999, 1, 1, tzinfo=UTC), "max_value": _LAST_DAY},
            "max_value",
        ),
        ({"min_value": datetime.min.replace(tzinfo=UTC), "max_value": _LAST_DAY}, "min_value"),
        (
            {"min_value": datetime(1, 1, 1, 1, tzinfo=ZoneInfo("Asia/Kolkata")),
             "max_value": datetime(1, 1, 2, tzinfo=UTC)},
            "min_value",
        ),
    ],
    ids=["last-day", "last-day-max", "first-day", "first-hour-kolkata"],
)
def test_aware_bounds_a_zone_cannot_show_are_refused_under_their_name(
    bounds: dict[str, datetime], argument: str
) -> None:
    # not an OverflowError when built (in UTC) or now and then when drawn (in a zone)
    with pytest.raises(ValidationError) as caught:
        hs.aware_datetimes(**bounds)
    assert caught.value.field == argument


@pytest.mark.parametrize(
    ("bounds", "argument"),
    [
        ({"min_value": datetime(1, 1, 1), "max_value": datetime(1, 1, 2)}, "min_value"),
        (
            {"min_value": datetime(9999, 12, 1), "max_value": datetime(9999, 12, 31, 22)},
            "max_value",
        ),
        (
            {
                "min_value": datetime(1, 1, 1, 3),
                "max_value": datetime(1, 1, 2),
                "zones": ["UTC", "Asia/Kolkata"],
            },
            "min_value",
        ),
    ],
    ids=["first-day", "last-day-new-york", "first-hours-kolkata"],
)
def test_naive_bounds_no_instant_can_show_are_refused_under_their_name(
    bounds: dict[str, Any], argument: str
) -> None:
    # 0001-01-01 00:00 in Kolkata, 9999-12-31 22:00 in New York: no instant of the years 1
    # to 9999 in UTC, which the library refuses; drawn, they failed the caller's test
    with pytest.raises(ValidationError) as caught:
        hs.aware_datetimes(**bounds)
    assert caught.value.field == argument


@settings(max_examples=300)
@given(
    hs.aware_datetimes(min_value=datetime(1, 1, 1, 12), max_value=datetime(9999, 12, 31, 12)),
    hs.aware_datetimes(min_value=datetime.min, max_value=datetime.max, zones=["UTC"]),
)
def test_naive_bounds_every_zone_can_show_give_instants_the_library_takes(
    value: datetime, utc: datetime
) -> None:
    for instant in (value, utc):
        # (in UTC: a time of a fall-back night equals no time of another zone in Python)
        assert Satisfaction(score=3, at=instant).at == instant.astimezone(UTC)


@settings(max_examples=300)
@given(
    hs.aware_datetimes(
        min_value=datetime(1, 1, 2, tzinfo=UTC), max_value=datetime(9999, 12, 30, tzinfo=UTC)
    )
)
def test_aware_bounds_every_zone_can_show_give_values_between_them(value: datetime) -> None:
    assert datetime(1, 1, 2, tzinfo=UTC) <= value <= datetime(9999, 12, 30, tzinfo=UTC)


def _desk_at(now: datetime) -> list[Any]:
    """What a fresh desk's tick at ``now`` records (it refuses an instant it cannot
    work in with a ValidationError naming ``now``)."""
    desk = Helpdesk(DeskConfig(), MemoryStore(), ManualClock(datetime(2026, 3, 2, tzinfo=UTC)))
    return desk.tick(now)


def test_aware_datetimes_may_draw_instants_a_desk_refuses() -> None:
    # why desk_datetimes exists: the years 1 to 9999 are wider than a desk's
    wide = hs.aware_datetimes(min_value=datetime(1, 1, 2), max_value=datetime(2, 1, 1))
    with pytest.raises(ValidationError) as caught:
        _desk_at(find(wide, lambda _: True))
    assert caught.value.field == "now"


@settings(max_examples=200, deadline=None)
@given(
    hs.desk_datetimes(),
    hs.desk_datetimes(min_value=datetime(3, 1, 1, 12), max_value=datetime(3, 1, 2)),
    hs.desk_datetimes(min_value=datetime(9997, 12, 31), max_value=datetime(9997, 12, 31, 12)),
)
def test_every_desk_datetime_is_an_instant_a_desk_takes(
    value: datetime, first: datetime, last: datetime
) -> None:
    for now in (value, first, last):
        assert now.utcoffset() is not None
        assert _desk_at(now) == []


def test_desk_datetimes_reach_both_ends_of_the_desk_years() -> None:
    zones = ["UTC", "Asia/Kolkata", "America/New_York"]
    # Every instant of the first and the last day, shown in zones ahead of and behind UTC
    # (a search of the whole range for them may miss them).
    ends = hs.desk_datetimes(
        max_value=datetime(3, 1, 2, tzinfo=UTC), zones=zones
    ) | hs.desk_datetimes(min_value=datetime(9997, 12, 31, tzinfo=UTC), zones=zones)

    @settings(max_examples=100, database=None)
    @given(ends)
    def accepted(value: datetime) -> None:
        assert value.astimezone(UTC).year in (3, 9997)
        assert _desk_at(value) == []

    accepted()
    first = datetime(3, 1, 1, tzinfo=UTC)
    last = datetime(9997, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert find(hs.desk_datetimes(max_value=first), lambda _: True) == first
    assert find(hs.desk_datetimes(min_value=last), lambda _: True) == last


@settings(max_examples=50)
@given(
    hs.desk_datetimes(
        min_value=datetime(2026, 3, 29, tzinfo=UTC), max_value=datetime(2026, 3, 30, tzinfo=UTC)
    ),
    hs.desk_datetimes(min_value=datetime(2026, 3, 29), max_value=datetime(2026, 3, 30)),
)
def test_desk_datetimes_lie_between_their_bounds(instant: datetime, wall: datetime) -> None:
    assert datetime(2026, 3, 29, tzinfo=UTC) <= instant <= datetime(2026, 3, 30, tzinfo=UTC)
    assert datetime(2026, 3, 29) <= wall.replace(tzinfo=None) <= datetime(2026, 3, 30)


@pytest.mark.parametrize(
    ("bounds", "argument"),
    [
        ({"min_value": datetime(2, 12, 31, tzinfo=UTC)}, "min_value"),
        ({"max_value": datetime(9998, 1, 1, tzinfo=UTC)}, "max_value"),
        ({"min_value": datetime(1, 1, 1)}, "min_value"),
        # 0003-01-01 01:00 in Kolkata is 0002-12-31 19:30 in UTC
        ({"min_value": datetime(3, 1, 1, 1), "max_value": datetime(4, 1, 1)}, "min_value"),
        # 9997-12-31 22:00 in New York is 9998-01-01 03:00 in UTC
        ({"max_value": datetime(9997, 12, 31, 22), "min_value": datetime(9997, 1, 1)}, "max_value"),
        (
            {
                "min_value": datetime(2030, 1, 1, tzinfo=UTC),
                "max_value": datetime(2020, 1, 1, tzinfo=UTC),
            },
            "max_value",
        ),
        (
            {"min_value": datetime(2030, 1, 1), "max_value": datetime(2040, 1, 1, tzinfo=UTC)},
            "max_value",
        ),
        ({"min_value": "2030-01-01"}, "min_value"),
        ({"zones": []}, "zones"),
        ({"zones": ["Mars/Olympus"]}, "zones"),
    ],
)
def test_desk_datetimes_refuse_bounds_a_desk_does_not_take(
    bounds: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        hs.desk_datetimes(**bounds)
    assert caught.value.field == argument


@settings(max_examples=30, deadline=None)
@given(hs.tickets(worked=False), hs.opened_events())
def test_the_strategies_draw_tickets_a_desk_takes(ticket: Any, opened: Any) -> None:
    for at in (ticket.created_at, opened.at):
        assert _desk_at(at) == []


@pytest.mark.parametrize(
    "bounds",
    [{"min_value": datetime(2000, 1, 1)}, {"max_value": datetime(2040, 1, 1)}],
    ids=["min-only", "max-only"],
)
def test_desk_datetimes_take_one_naive_bound(bounds: dict[str, datetime]) -> None:
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati"]
    strategy = hs.desk_datetimes(zones=zones, **bounds)

    @settings(max_examples=50, database=None)
    @given(strategy)
    def accepted(value: datetime) -> None:
        wall = value.replace(tzinfo=None)
        if "min_value" in bounds:
            assert wall >= bounds["min_value"]
        else:
            assert wall <= bounds["max_value"]
        assert _desk_at(value) == []

    accepted()


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda bad: hs.tickets(subjects=bad), "subjects"),
        (lambda bad: hs.tickets(descriptions=bad), "descriptions"),
        (lambda bad: hs.opened_events(subjects=bad), "subjects"),
        (lambda bad: hs.custom_fields(names=bad), "names"),
        (lambda bad: hs.custom_fields(values=bad), "values"),
        (lambda bad: hs.agents(teams=bad), "teams"),
        (lambda bad: hs.agents(tiers=bad), "tiers"),
        (lambda bad: hs.agents(calendars=bad), "calendars"),
        (lambda bad: hs.sla_policies(calendars=bad), "calendars"),
        (lambda bad: hs.lifecycles(calendars=bad), "calendars"),
        (lambda bad: hs.business_calendars(timezones=bad), "timezones"),
        (lambda bad: hs.business_calendars(grid=bad), "grid"),
        (lambda bad: hs.aware_datetimes(zones=bad), "zones"),
        (lambda bad: hs.desk_datetimes(zones=bad), "zones"),
        (lambda bad: hs.commands(testing.default_config(), requesters=bad), "requesters"),
        (
            lambda bad: hs.command_sequences(testing.default_config(), requesters=bad),
            "requesters",
        ),
    ],
)
@pytest.mark.parametrize("bad", [15, st.just("mac"), datetime(2026, 3, 2, tzinfo=UTC)])
def test_a_list_argument_given_a_single_value_is_refused_under_its_name(
    build: Callable[[Any], object], argument: str, bad: Any
) -> None:
    # a number, a strategy or an instant where a list of values belongs: a ValidationError
    # naming the argument, not a TypeError from iterating over it
    with pytest.raises(ValidationError) as caught:
        build(bad)
    assert caught.value.field == argument
