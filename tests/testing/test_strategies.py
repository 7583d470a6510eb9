"""The public strategies: every value is valid, round-trips through its codec, and the
documented space is covered."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, find, given, settings
from hypothesis import strategies as st

import helpdesk_core.testing as testing
from helpdesk_core import DeskConfig, Helpdesk, ManualClock, MemoryStore, SequentialIds
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Actor, Agent, Requester, Team, Ticket, TicketOpened, Tier
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


def test_calendar_bounds_are_validated() -> None:
    with pytest.raises(ValidationError):
        hs.business_calendars(timezones=())
    with pytest.raises(ValidationError):
        hs.business_calendars(min_date=date(2027, 1, 1), max_date=date(2026, 1, 1))


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
        },
    )


@given(st.data())
def test_routing_rules_name_only_what_exists(data: st.DataObject) -> None:
    tiers = [Tier(id="L1", teams=("desk",)), Tier(id="L2", teams=("net", "apps"))]
    rules = data.draw(hs.routing_rules(tiers=tiers, sla_policies=["gold"], calendars=["office"]))
    assert RuleSet.from_dict(rules.to_dict()) == rules
    for rule in rules:
        assert (rule.actions.tier, rule.actions.team) in {
            (None, None), ("L1", "desk"), ("L2", "net"), ("L2", "apps")
        }
        assert rule.actions.sla_policy in (None, "gold")


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
    [r.Open, r.Reply, r.ChangeStatus, r.Solve, r.Reopen, r.Escalate, r.SetPriority, r.Rate,
     r.AdvanceTime],
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


# ---------------------------------------------------------------- model values and registry
@given(hs.tickets(max_comments=4))
def test_tickets_are_replayed_histories(ticket: Ticket) -> None:
    assert ticket.version >= 1
    assert ticket.subject.strip()


@pytest.mark.parametrize(
    "cls",
    [Actor, Agent, Requester, Team, Tier, Ticket, TicketOpened, BusinessCalendar, Condition,
     SlaPolicy, Lifecycle, RuleSet, EscalationPolicy, DeskConfig],
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
