"""Tier ladders, functional escalation and de-escalation, hierarchical escalation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk_core.errors import ConfigError, InvalidTransition, NotFound, ValidationError
from helpdesk_core.model import (
    Actor,
    Assigned,
    DeEscalated,
    Escalated,
    LevelRaised,
    Ticket,
    TicketOpened,
    Tier,
    apply_event,
    replay,
)
from helpdesk_core.workflow import (
    Lifecycle,
    TierLadder,
    apply_transition,
    de_escalate,
    escalate,
    level_contact,
    raise_level,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAD = Actor.agent("lead-1")
LADDER = TierLadder(
    [
        Tier(id="L1", name="Service desk", teams=("desk", "desk-night")),
        Tier(id="L2", name="Specialists", teams=("network", "apps")),
        Tier(id="L3", name="Engineering", teams=("eng",)),
    ]
)


def _ticket(tier: str | None = "L1") -> Ticket:
    ticket = replay(
        [
            TicketOpened(
                ticket_id="T-7",
                at=T0,
                by=Actor.requester("r-1"),
                number=7,
                requester="r-1",
                subject="Payroll export fails",
            )
        ]
    )
    ticket = apply_event(
        ticket, Assigned(ticket_id="T-7", at=T0, by=LEAD, assignee="ann", take_ownership=True)
    )
    if tier is not None:
        ticket = apply_event(
            ticket,
            Escalated(ticket_id="T-7", at=T0, by=LEAD, from_tier=None, to_tier=tier, team=None),
        )
        ticket = apply_event(ticket, Assigned(ticket_id="T-7", at=T0, by=LEAD, assignee="ann"))
    return ticket


def _up(ticket: Ticket, **kwargs: Any) -> tuple[Ticket, list[Any]]:
    kwargs.setdefault("reason", "needs a specialist")
    return escalate(ticket, LADDER, by=LEAD, now=T0 + timedelta(hours=2), **kwargs)


# -- the ladder ---------------------------------------------------------------------------------


def test_ladder_navigation() -> None:
    assert LADDER.ids == ("L1", "L2", "L3")
    assert LADDER.lowest.id == "L1"
    assert LADDER.highest.id == "L3"
    assert LADDER.index("L2") == 1
    assert LADDER.get("L3").name == "Engineering"
    above = LADDER.next_above("L1")
    assert above is not None
    assert above.id == "L2"
    assert LADDER.next_above("L3") is None
    below = LADDER.next_below("L2")
    assert below is not None
    assert below.id == "L1"
    assert LADDER.next_below("L1") is None
    assert "L2" in LADDER
    assert "L9" not in LADDER
    assert len(LADDER) == 3
    assert [t.id for t in LADDER] == ["L1", "L2", "L3"]
    with pytest.raises(NotFound, match="'L9' is not on the ladder"):
        LADDER.index("L9")


def test_ladder_config_errors_name_the_bad_part() -> None:
    with pytest.raises(ConfigError, match="at least one tier") as info:
        TierLadder([])
    assert info.value.path == "tiers"
    with pytest.raises(ConfigError, match="duplicate tier 'L1'") as info:
        TierLadder([Tier(id="L1", teams=("a",)), Tier(id="L1", teams=("b",))])
    assert info.value.path == "tiers[1].id"
    with pytest.raises(ConfigError, match="tier 'L2' has no team") as info:
        TierLadder([Tier(id="L1", teams=("a",)), Tier(id="L2")])
    assert info.value.path == "tiers[1].teams"
    with pytest.raises(ConfigError, match="expected a Tier"):
        TierLadder(["L1"])  # type: ignore[list-item]


def test_ladder_from_dict_errors_carry_the_path() -> None:
    with pytest.raises(ConfigError, match="no team") as info:
        TierLadder.from_dict([{"id": "L1", "teams": ["desk"]}, {"id": "L2"}], path="desk.tiers")
    assert info.value.path == "desk.tiers[1].teams"
    with pytest.raises(ConfigError, match="unknown key") as info:
        TierLadder.from_dict([{"id": "L1", "team": ["desk"]}])
    assert info.value.path == "tiers[0]"
    with pytest.raises(ConfigError, match="invalid id") as info:
        TierLadder.from_dict([{"id": "L 1", "teams": ["desk"]}])
    assert info.value.path == "tiers[0].id"
    with pytest.raises(ConfigError, match="must be a list"):
        TierLadder.from_dict({"id": "L1"})


def test_ladder_round_trips() -> None:
    data = json.loads(json.dumps(LADDER.to_dict()))
    assert data[1] == {"id": "L2", "name": "Specialists", "teams": ["network", "apps"]}
    assert TierLadder.from_dict(data) == LADDER


# -- functional escalation ----------------------------------------------------------------------


def test_escalate_moves_one_tier_up_and_keeps_the_owner() -> None:
    ticket = _ticket()
    assert (ticket.owner, ticket.assignee, ticket.team) == ("ann", "ann", None)
    moved, events = _up(ticket)
    assert events == [
        Escalated(
            ticket_id="T-7",
            at=T0 + timedelta(hours=2),
            by=LEAD,
            from_tier="L1",
            to_tier="L2",
            team="network",
            assignee=None,
            reason="needs a specialist",
        )
    ]
    assert (moved.tier, moved.team, moved.assignee, moved.owner) == ("L2", "network", None, "ann")
    assert moved.tier_since == T0 + timedelta(hours=2)
    assert moved == apply_event(ticket, events[0])


def test_escalate_to_a_chosen_team_of_the_tier() -> None:
    moved, _ = _up(_ticket(), team="apps")
    assert moved.team == "apps"
    with pytest.raises(ValidationError, match="team 'eng' is not a team of tier 'L2'"):
        _up(_ticket(), team="eng")


def test_escalate_from_the_top_is_refused() -> None:
    top, _ = _up(_ticket(), to_tier="L3", allow_skip=True)
    with pytest.raises(InvalidTransition, match="in the top tier already") as info:
        _up(top)
    assert info.value.ticket_id == "T-7"
    assert info.value.transition == "escalate"


def test_skipping_a_tier_needs_allow_skip() -> None:
    with pytest.raises(InvalidTransition, match="skips 'L2'; skipping needs allow_skip"):
        _up(_ticket(), to_tier="L3")
    moved, events = _up(_ticket(), to_tier="L3", allow_skip=True, policy="p1-breach")
    assert moved.tier == "L3"
    assert moved.team == "eng"
    assert events[0].policy == "p1-breach"
    stepped, _ = _up(_ticket(), to_tier="L2")
    assert stepped.tier == "L2"


def test_escalate_to_a_lower_or_same_or_unknown_tier_is_refused() -> None:
    l2, _ = _up(_ticket())
    with pytest.raises(InvalidTransition, match="tier 'L1' is not above it"):
        _up(l2, to_tier="L1")
    with pytest.raises(InvalidTransition, match="tier 'L2' is not above it"):
        _up(l2, to_tier="L2")
    with pytest.raises(ValidationError, match="'L7' is not on the ladder") as info:
        _up(l2, to_tier="L7")
    assert info.value.field == "to_tier"


def test_escalate_needs_a_reason_and_an_active_ticket() -> None:
    for reason in ("", "   "):
        with pytest.raises(ValidationError, match="needs a reason"):
            _up(_ticket(), reason=reason)
    solved, _ = apply_transition(
        _ticket(),
        Lifecycle.default(),
        "solve",
        by=LEAD,
        now=T0,
        resolution="ok",
        first_contact=True,
    )
    with pytest.raises(InvalidTransition, match="cannot escalate a solved ticket"):
        _up(solved)
    with pytest.raises(InvalidTransition, match="cannot de-escalate a solved ticket"):
        de_escalate(solved, LADDER, by=LEAD, now=T0, reason="r")
    with pytest.raises(ValidationError, match="naive"):
        escalate(_ticket(), LADDER, by=LEAD, now=datetime(2026, 3, 2), reason="r")


def test_a_ticket_without_tier_counts_as_lowest() -> None:
    moved, events = _up(_ticket(tier=None))
    assert moved.tier == "L2"
    assert events[0].from_tier is None
    with pytest.raises(InvalidTransition, match="lowest tier already"):
        de_escalate(_ticket(tier=None), LADDER, by=LEAD, now=T0, reason="r")


def test_a_tier_off_the_ladder_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="tier 'L0', which is not on the ladder"):
        _up(_ticket(tier="L0"))


def test_de_escalate_moves_down_and_keeps_the_owner() -> None:
    l3, _ = _up(_ticket(), to_tier="L3", allow_skip=True)
    down, events = de_escalate(l3, LADDER, by=LEAD, now=T0 + timedelta(hours=5), reason="fixed")
    assert isinstance(events[0], DeEscalated)
    assert (events[0].from_tier, events[0].to_tier, events[0].team) == ("L3", "L2", "network")
    assert (down.tier, down.owner, down.assignee) == ("L2", "ann", None)
    with pytest.raises(InvalidTransition, match="skips 'L2'"):
        de_escalate(l3, LADDER, by=LEAD, now=T0, reason="tell them", to_tier="L1")
    bottom, _ = de_escalate(
        l3,
        LADDER,
        by=LEAD,
        now=T0,
        reason="tell them",
        to_tier="L1",
        allow_skip=True,
        team="desk-night",
    )
    assert (bottom.tier, bottom.team) == ("L1", "desk-night")
    with pytest.raises(InvalidTransition, match="tier 'L3' is not below it"):
        de_escalate(down, LADDER, by=LEAD, now=T0, reason="r", to_tier="L3")


# -- hierarchical escalation --------------------------------------------------------------------


def test_level_contact_rules() -> None:
    contacts = ("lead", "manager", "director")
    assert [level_contact(contacts, n) for n in (1, 2, 3, 4, 9)] == [
        "lead",
        "manager",
        "director",
        "director",
        "director",
    ]
    assert level_contact((), 1) is None
    assert level_contact(contacts, 0) is None
    with pytest.raises(ValidationError, match="not one string"):
        level_contact("lead", 1)


def test_raise_level_notifies_the_levels_contact_without_moving() -> None:
    ticket = _ticket()
    contacts = ["kim", "lee"]
    seen = []
    for _ in range(3):
        ticket, events = raise_level(
            ticket, contacts=contacts, by=LEAD, now=T0 + timedelta(hours=1), reason="stuck"
        )
        event = events[0]
        assert isinstance(event, LevelRaised)
        seen.append((event.level, event.contact))
    assert seen == [(1, "kim"), (2, "lee"), (3, "lee")]
    assert ticket.escalation_level == 3
    assert (ticket.tier, ticket.team, ticket.assignee, ticket.owner) == ("L1", None, "ann", "ann")
    _, events = raise_level(_ticket(), contacts=[], by=LEAD, now=T0, reason="r", policy="p")
    assert events[0].contact is None
    assert events[0].policy == "p"


def test_raise_level_checks_its_arguments() -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        raise_level(_ticket(), contacts=["kim"], by=LEAD, now=T0, reason="")
    with pytest.raises(ValidationError, match="expected an Actor"):
        raise_level(_ticket(), contacts=["kim"], by="lead", now=T0, reason="r")  # type: ignore[arg-type]
    cancelled, _ = apply_transition(
        _ticket(), Lifecycle.default(), "cancel", by=LEAD, now=T0, reason="dup"
    )
    with pytest.raises(InvalidTransition, match="cannot raise the escalation level of a closed"):
        raise_level(cancelled, contacts=["kim"], by=LEAD, now=T0, reason="r")
