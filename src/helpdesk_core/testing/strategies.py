"""Hypothesis strategies for helpdesk_core values (public API for users' test suites).

Every value drawn is valid by construction: no filtering storms. Strategies are plural
nouns with keyword-only, validated arguments, as in Hypothesis itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Actor,
    Agent,
    Channel,
    CommentAdded,
    Event,
    Impact,
    Priority,
    Requester,
    Team,
    Ticket,
    TicketOpened,
    Tier,
    Urgency,
    priority_for,
    replay,
)

__all__ = [
    "actors",
    "agents",
    "aware_datetimes",
    "custom_fields",
    "ids",
    "opened_events",
    "requesters",
    "tags",
    "teams",
    "tickets",
    "tiers",
]

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
_ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")


def _check_size(name: str, low: int, high: int) -> None:
    if low < 0 or high < low:
        raise ValidationError(f"need 0 <= min_{name} <= max_{name}, got {low}, {high}")


def ids(*, prefix: str = "", min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    """Valid ids: letters, digits, ``_`` and ``-``, optionally prefixed."""
    _check_size("size", min_size, max_size)
    return st.text(_ID_ALPHABET, min_size=max(min_size, 1), max_size=max_size).map(
        lambda s: f"{prefix}{s}"
    )


def aware_datetimes(
    *,
    min_value: datetime = datetime(2000, 1, 1),  # noqa: DTZ001 - bounds for hypothesis
    max_value: datetime = datetime(2040, 1, 1),  # noqa: DTZ001
    zones: Sequence[str] = _ZONES,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes in a few real zones (DST included), whole microseconds."""
    if not zones:
        raise ValidationError("zones must not be empty", field="zones")
    return st.datetimes(
        min_value=min_value.replace(tzinfo=None),
        max_value=max_value.replace(tzinfo=None),
        timezones=st.sampled_from([ZoneInfo(z) for z in zones]),
    )


def tags(*, max_size: int = 5) -> st.SearchStrategy[tuple[str, ...]]:
    """Tag tuples (sorted, unique)."""
    _check_size("size", 0, max_size)
    return st.lists(ids(max_size=10), max_size=max_size, unique=True).map(
        lambda items: tuple(sorted(items))
    )


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=40),
)


def custom_fields(*, max_size: int = 4) -> st.SearchStrategy[dict[str, Any]]:
    """Custom-field mappings of id → scalar."""
    _check_size("size", 0, max_size)
    return st.dictionaries(ids(max_size=10), _scalars, max_size=max_size)


def actors() -> st.SearchStrategy[Actor]:
    """Agents, requesters and the system."""
    return st.one_of(
        ids(prefix="a-").map(Actor.agent),
        ids(prefix="r-").map(Actor.requester),
        st.sampled_from(["system", "sla", "routing"]).map(Actor.system),
    )


def requesters(*, id: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Requester]:
    """Requesters with optional email, organization, VIP flag and attributes."""
    return st.builds(
        Requester,
        id=id or ids(prefix="r-"),
        name=st.text(max_size=30),
        email=st.one_of(st.none(), ids(max_size=8).map(lambda s: f"{s}@example.com")),
        organization=st.one_of(st.none(), st.sampled_from(["acme", "globex", "initech"])),
        vip=st.booleans(),
        attributes=custom_fields(max_size=2),
    )


def agents(
    *,
    teams: Sequence[str] = ("service-desk", "network", "apps"),
    tiers: Sequence[str] = ("L1", "L2", "L3"),
    calendars: Sequence[str | None] = (None,),
) -> st.SearchStrategy[Agent]:
    """Agents in the given teams and tiers."""
    if not teams or not tiers or not calendars:
        raise ValidationError("teams, tiers and calendars must not be empty")
    return st.builds(
        Agent,
        id=ids(prefix="a-"),
        name=st.text(max_size=30),
        tier=st.sampled_from(list(tiers)),
        teams=st.lists(st.sampled_from(list(teams)), min_size=1, max_size=len(teams), unique=True),
        skills=st.frozensets(st.sampled_from(["windows", "mac", "vpn", "sap", "printers"])),
        capacity=st.integers(min_value=0, max_value=30),
        calendar=st.sampled_from(list(calendars)),
        active=st.booleans(),
        away=st.booleans(),
    )


def teams() -> st.SearchStrategy[Team]:
    """Teams with escalation contacts."""
    return st.builds(
        Team,
        id=ids(prefix="team-"),
        name=st.text(max_size=30),
        contacts=st.lists(ids(prefix="a-"), max_size=3, unique=True),
    )


def tiers() -> st.SearchStrategy[Tier]:
    """Tiers with at least one team."""
    return st.builds(
        Tier,
        id=ids(prefix="L"),
        name=st.text(max_size=30),
        teams=st.lists(ids(prefix="team-"), min_size=1, max_size=3, unique=True),
    )


@st.composite
def opened_events(
    draw: st.DrawFn,
    *,
    ticket_id: str | None = None,
    at: datetime | None = None,
) -> TicketOpened:
    """A valid :class:`TicketOpened` event (the first event of every ticket)."""
    requester = draw(ids(prefix="r-"))
    impact = draw(st.sampled_from(list(Impact)))
    urgency = draw(st.sampled_from(list(Urgency)))
    explicit = draw(st.booleans())
    priority = draw(st.sampled_from(list(Priority))) if explicit else priority_for(impact, urgency)
    return TicketOpened(
        ticket_id=ticket_id or draw(ids(prefix="T-")),
        at=at or draw(aware_datetimes()),
        by=Actor.requester(requester),
        number=draw(st.integers(min_value=1, max_value=10**9)),
        requester=requester,
        subject=draw(st.text(min_size=1, max_size=80).filter(lambda s: bool(s.strip()))),
        description=draw(st.text(max_size=200)),
        channel=draw(st.sampled_from(list(Channel))),
        category=draw(st.one_of(st.none(), st.sampled_from(["network", "hardware", "access"]))),
        type=draw(st.sampled_from(["incident", "service_request", "problem"])),
        impact=impact,
        urgency=urgency,
        priority=priority,
        priority_explicit=explicit,
        tags=draw(tags()),
        fields=draw(custom_fields()),
        asset=draw(st.one_of(st.none(), ids(prefix="PC-"))),
        organization=draw(st.one_of(st.none(), st.sampled_from(["acme", "globex"]))),
    )


@st.composite
def _tickets(draw: st.DrawFn, max_comments: int) -> Ticket:
    opened = draw(opened_events())
    events: list[Event] = [opened]
    at = opened.at
    for index in range(draw(st.integers(min_value=0, max_value=max_comments))):
        at = at + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
        by = draw(st.sampled_from([Actor.agent("a-1"), Actor.requester(opened.requester)]))
        events.append(
            CommentAdded(
                ticket_id=opened.ticket_id,
                at=at.astimezone(UTC),
                by=by,
                comment_id=f"C-{index + 1}",
                body=draw(st.text(max_size=100)),
                public=draw(st.booleans()),
            )
        )
    return replay(events)


def tickets(*, max_comments: int = 3) -> st.SearchStrategy[Ticket]:
    """Tickets built the way the library builds them: by replaying a valid history."""
    _check_size("comments", 0, max_comments)
    return _tickets(max_comments)
