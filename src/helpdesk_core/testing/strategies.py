"""Hypothesis strategies for helpdesk_core values (public API for users' test suites).

Every value drawn is valid by construction: no filtering storms, so Hypothesis's health
checks stay quiet. Strategies are plural nouns with keyword-only, validated arguments, as
in Hypothesis itself. :func:`register_strategies` (run on import) makes
``st.from_type(Ticket)`` and friends work; it registers only helpdesk_core's own classes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hypothesis import strategies as st

from helpdesk_core._time import DESK_YEARS, desk_instant
from helpdesk_core.config import AssignmentSettings, DeskConfig, DeskSettings, TicketType
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Actor,
    Agent,
    Assigned,
    Changes,
    Channel,
    CommentAdded,
    Event,
    Impact,
    LevelRaised,
    Link,
    LinkKind,
    Metric,
    Priority,
    Requester,
    Satisfaction,
    StatusCategory,
    StatusChanged,
    Team,
    Ticket,
    TicketOpened,
    TicketRouted,
    Tier,
    Urgency,
    apply_event,
    priority_for,
    replay,
)
from helpdesk_core.model._validate import MAX_ID_LENGTH
from helpdesk_core.routing.actions import Actions
from helpdesk_core.routing.assignment import AssignSpec
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.routing.rules import Rule, RuleSet
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.clocks import SlaEngine
from helpdesk_core.sla.policy import ReopenMode, SlaPolicy
from helpdesk_core.workflow._calendar import MAX_BUSINESS_DAYS
from helpdesk_core.workflow.escalation import ESCALATION_ACTOR, EscalationPolicy
from helpdesk_core.workflow.lifecycle import ANY, Lifecycle, Status, Transition

if TYPE_CHECKING:
    from helpdesk_core.testing.reference import Command

__all__ = [
    "DST_ZONES",
    "LAYOUTS",
    "actors",
    "agents",
    "aware_datetimes",
    "business_calendars",
    "command_sequences",
    "commands",
    "conditions",
    "custom_fields",
    "desk_configs",
    "desk_datetimes",
    "escalation_policies",
    "ids",
    "lifecycles",
    "opened_events",
    "register_strategies",
    "requesters",
    "routing_rules",
    "sla_policies",
    "tags",
    "teams",
    "tickets",
    "tiers",
]

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
#: Zones with daylight saving time (and Lord Howe's half-hour shift, Kolkata's +05:30).
DST_ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")
_ZONES = ("UTC", *DST_ZONES)


def _check_size(name: str, low: int, high: int) -> None:
    for value, which in ((low, "min"), (high, "max")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                f"{which}_{name} is a whole number, got {value!r}", field=f"{which}_{name}"
            )
    if low < 0:
        raise ValidationError(f"min_{name} is >= 0, got {low}", field=f"min_{name}")
    if high < low:
        raise ValidationError(
            f"need min_{name} <= max_{name}, got {low}, {high}", field=f"max_{name}"
        )


def _check_nonempty(name: str, values: Sequence[Any]) -> list[Any]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError(f"{name} must be a non-empty sequence, got {values!r}", field=name)
    items = list(values)
    if not items:
        raise ValidationError(f"{name} must be a non-empty sequence", field=name)
    return items


_T = TypeVar("_T")


def _check_each(name: str, values: Sequence[_T], check: Callable[[_T], object]) -> list[_T]:
    """The values as a list, each passed through ``check`` (a model constructor that
    raises ValidationError on a bad value); a failure is reported under ``name``."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValidationError(f"{name} must be a sequence, got {values!r}", field=name)
    items = list(values)
    for item in items:
        try:
            check(item)
        except ValidationError as exc:
            raise ValidationError(f"bad value {item!r}: {exc.message}", field=name) from exc
    return items


def _check_id(value: str | None) -> object:
    """A name of a configured part (a team, calendar, policy, lifecycle) is an id."""
    if value is None:
        raise ValidationError("expected a name, got None")
    return Team(id=value)


def _check_requester_id(value: str) -> object:
    """A requester id a desk takes (the runner opens tickets for it)."""
    if not isinstance(value, str):
        raise ValidationError(f"a requester id is text, got {type(value).__name__}")
    return Requester(id=value, name=value.title())


def _check_requesters(values: Sequence[str]) -> list[str]:
    """The requester ids of :func:`commands`: a non-empty list of ids every desk takes
    (one it refuses would have every :class:`~reference.Open` refused, and a run would
    open no ticket and check nothing)."""
    return _check_each("requesters", _check_nonempty("requesters", values), _check_requester_id)


def _check_optional_id(value: str | None) -> object:
    return None if value is None else _check_id(value)


def _check_names(
    name: str, values: Sequence[str | None], *, optional: bool = False, nonempty: bool = True
) -> list[Any]:
    """``values`` as a list of valid names (None among them with ``optional``)."""
    if nonempty:
        values = _check_nonempty(name, values)
    return _check_each(name, values, _check_optional_id if optional else _check_id)


def _check_name(name: str, value: str) -> str:
    return str(_check_names(name, [value])[0])


def _check_strategy(name: str, value: object) -> None:
    if not isinstance(value, st.SearchStrategy):
        raise ValidationError(
            f"{name} must be a Hypothesis strategy, got {type(value).__name__}", field=name
        )


def _check_aware(name: str, value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationError(
            f"{name} must be a timezone-aware datetime, got {value!r}", field=name
        )


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} is true or false, got {value!r}", field=name)


def _check_count(name: str, value: object, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(f"{name} must be a whole number >= {low}, got {value!r}", field=name)
    return value


# ---------------------------------------------------------------------------- basics
def ids(*, prefix: str = "", min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    """Valid ids: letters, digits, ``_`` and ``-``, optionally prefixed. ``min_size`` and
    ``max_size`` bound the part after the prefix, which is never empty; the prefix uses
    the characters of an id, and the whole id fits the longest id (200 characters)."""
    _check_size("size", min_size, max_size)
    if max_size < 1:
        raise ValidationError(
            f"an id has at least one character after its prefix, got max_size={max_size}",
            field="max_size",
        )
    if not isinstance(prefix, str):
        raise ValidationError(f"prefix is text, got {prefix!r}", field="prefix")
    if prefix:
        try:
            Actor.agent(prefix)
        except ValidationError as exc:
            raise ValidationError(f"bad prefix {prefix!r}: {exc.message}", field="prefix") from exc
    if len(prefix) + max_size > MAX_ID_LENGTH:
        raise ValidationError(
            f"ids are at most {MAX_ID_LENGTH} characters: prefix {len(prefix)} + max_size "
            f"{max_size} is too long",
            field="max_size",
        )
    return st.text(_ID_ALPHABET, min_size=max(min_size, 1), max_size=max_size).map(
        lambda s: f"{prefix}{s}"
    )


def aware_datetimes(
    *,
    min_value: datetime = datetime(2000, 1, 1),  # noqa: DTZ001 - bounds for hypothesis
    max_value: datetime = datetime(2040, 1, 1),  # noqa: DTZ001
    zones: Sequence[str] = _ZONES,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes in a few real zones (DST included). Naive bounds are
    local wall times in the drawn zone (a bound that is no instant of the years 1 to 9999
    in UTC in one of the ``zones`` raises ValidationError); aware bounds are instants, and
    every value lies between them (a bound that falls outside the years 1 to 9999 in UTC
    or one of the ``zones`` raises ValidationError).

    A desk works in fewer years (3 to 9997 in UTC): for instants to give a desk as its
    ``now`` or clock, draw from :func:`desk_datetimes`, whose bounds are held to those."""
    zone_list = _check_nonempty("zones", zones)
    for value, name in ((min_value, "min_value"), (max_value, "max_value")):
        if not isinstance(value, datetime):
            raise ValidationError(f"{name} is a datetime, got {value!r}", field=name)
    aware = [v.utcoffset() is not None for v in (min_value, max_value)]
    if any(aware) and not all(aware):
        raise ValidationError("give both bounds naive or both aware", field="max_value")
    try:
        zone_objects = [ZoneInfo(z) for z in zone_list]
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValidationError(f"unknown time zone in {zone_list!r}", field="zones") from exc
    if max_value < min_value if all(aware) else (
        max_value.replace(tzinfo=None) < min_value.replace(tzinfo=None)
    ):
        raise ValidationError("need min_value <= max_value", field="max_value")
    if not all(aware):
        for value, name in ((min_value, "min_value"), (max_value, "max_value")):
            for local in zone_objects:
                try:  # near the ends of the calendar a wall time may be no instant in UTC
                    value.replace(tzinfo=local).astimezone(UTC)
                except OverflowError:
                    raise ValidationError(
                        f"{value.isoformat()} in {local} is no instant: in UTC it falls "
                        f"outside the years 1 to 9999",
                        field=name,
                    ) from None
        return st.datetimes(
            min_value=min_value, max_value=max_value, timezones=st.sampled_from(zone_objects)
        )
    for value, name in ((min_value, "min_value"), (max_value, "max_value")):
        for zone in (UTC, *zone_objects):
            try:  # near the ends of the calendar an instant may have no wall time in a zone
                value.astimezone(zone)
            except OverflowError:
                raise ValidationError(
                    f"{value.isoformat()} cannot be shown in {zone}: it falls outside "
                    f"the years 1 to 9999 there",
                    field=name,
                ) from None
    # An instant between the bounds, shown in one of the zones.
    instants = st.datetimes(
        min_value=min_value.astimezone(UTC).replace(tzinfo=None),
        max_value=max_value.astimezone(UTC).replace(tzinfo=None),
        timezones=st.just(UTC),
    )
    return st.tuples(instants, st.sampled_from(zone_objects)).map(
        lambda pair: pair[0].astimezone(pair[1])
    )


#: The first and the last instant a desk works at (its years, :data:`DESK_YEARS`, in UTC).
_DESK_FIRST = datetime(DESK_YEARS[0], 1, 1, tzinfo=UTC)
_DESK_LAST = datetime(DESK_YEARS[1] + 1, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)
#: The wall times a naive bound left out stands for: a day in from the desk's ends.
_DESK_FIRST_WALL = (_DESK_FIRST + timedelta(days=1)).replace(tzinfo=None)
_DESK_LAST_WALL = (_DESK_LAST - timedelta(days=1)).replace(tzinfo=None)


def desk_datetimes(
    *,
    min_value: datetime | None = None,
    max_value: datetime | None = None,
    zones: Sequence[str] = _ZONES,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes a desk takes as its ``now`` (``tick(now)``, a command's
    ``now``, a :class:`~helpdesk_core.ManualClock`'s instant): instants of the years a
    desk works in (3 to 9997 in UTC), shown in a few real zones as
    :func:`aware_datetimes` shows them. Without bounds, any of those years; the bounds
    are read as :func:`aware_datetimes` reads them (naive: wall times in the drawn zone;
    aware: instants), and a bound that is no instant of the desk's years (in UTC, or
    as a wall time in one of the ``zones``) raises ValidationError naming it. With one
    naive bound, the other is a wall time a day in from the desk's first or last day
    (an instant of the desk's years in every zone)."""
    for value, name in ((min_value, "min_value"), (max_value, "max_value")):
        if value is not None and not isinstance(value, datetime):
            raise ValidationError(f"{name} is a datetime, got {value!r}", field=name)
    given = [v.utcoffset() is None for v in (min_value, max_value) if v is not None]
    if any(given):  # wall times (the bound left out is the desk's, as a wall time too)
        if not all(given):
            raise ValidationError("give both bounds naive or both aware", field="max_value")
        # A day in from the desk's ends: a wall time there is an instant of the desk's
        # years in every zone (offsets stay within a day).
        low = min_value if min_value is not None else _DESK_FIRST_WALL
        high = max_value if max_value is not None else _DESK_LAST_WALL
    else:
        low = min_value if min_value is not None else _DESK_FIRST
        high = max_value if max_value is not None else _DESK_LAST
    strategy = aware_datetimes(min_value=low, max_value=high, zones=zones)
    for value, name in ((low, "min_value"), (high, "max_value")):
        if value.utcoffset() is not None:
            _check_desk_instant(value, name)
            continue
        for zone in zones:  # checked by aware_datetimes: real zones
            try:
                _check_desk_instant(value.replace(tzinfo=ZoneInfo(zone)), name)
            except ValidationError as exc:
                raise ValidationError(
                    f"{exc.message} (as a wall time in {zone})", field=name
                ) from None
    return strategy


def _check_desk_instant(value: datetime, name: str) -> None:
    try:
        desk_instant(value, field=name)
    except OverflowError:  # a wall time at the end of the calendar
        raise ValidationError(
            f"{value.isoformat()} is outside the years {DESK_YEARS[0]} to {DESK_YEARS[1]} "
            "(UTC) a desk works in",
            field=name,
        ) from None


def _check_tag(tag: str) -> object:
    return Changes(tags=(tag,))


def _tag_tuples(names: list[str] | None, max_size: int) -> st.SearchStrategy[tuple[str, ...]]:
    if names is None:
        items = st.lists(ids(max_size=10), max_size=max_size, unique=True)
    elif not names or max_size == 0:
        return st.just(())
    else:
        items = st.lists(st.sampled_from(names), max_size=max_size, unique=True)
    return items.map(lambda chosen: tuple(sorted(chosen)))


def tags(
    *, max_size: int = 5, names: Sequence[str] | None = None
) -> st.SearchStrategy[tuple[str, ...]]:
    """Tag tuples (sorted, unique); with ``names``, subsets of those tags only."""
    _check_count("max_size", max_size)
    chosen = None if names is None else _check_each("names", names, _check_tag)
    return _tag_tuples(chosen, max_size)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=40),
)


def custom_fields(
    *,
    max_size: int = 4,
    names: Sequence[str] | None = None,
    values: Sequence[str | int | float | bool | None] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Custom-field mappings of id → scalar (text, number, bool or None). ``names`` and
    ``values`` narrow them to the given field names and values, e.g. the ones your rules
    test: ``custom_fields(names=["os"], values=["mac", "win", 0, 1, True])``."""
    _check_count("max_size", max_size)
    keys = ids(max_size=10)
    if names is not None:
        keys = st.sampled_from(
            _check_each("names", _check_nonempty("names", names), _check_field_name)
        )
    scalars = _scalars
    if values is not None:
        scalars = st.sampled_from(
            _check_each("values", _check_nonempty("values", values), _check_field_value)
        )
    return st.dictionaries(keys, scalars, max_size=max_size)


def _check_field_name(name: str) -> object:
    return Changes(fields={name: None})


def _check_field_value(value: Any) -> object:
    return Changes(fields={"field": value})


def actors() -> st.SearchStrategy[Actor]:
    """Agents, requesters and the system."""
    return st.one_of(
        ids(prefix="a-").map(Actor.agent),
        ids(prefix="r-").map(Actor.requester),
        st.sampled_from(["system", "sla", "routing"]).map(Actor.system),
    )


def requesters(
    *,
    id: st.SearchStrategy[str] | None = None,
    attributes: st.SearchStrategy[Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[Requester]:
    """Requesters with optional email, organization (``acme``, ``globex``, ``initech``),
    VIP flag, language and attributes. ``id`` and ``attributes`` are strategies for those
    fields (default: random ids, and :func:`custom_fields` with up to two entries)."""
    if id is not None:
        _check_strategy("id", id)
    if attributes is not None:
        _check_strategy("attributes", attributes)
    return st.builds(
        Requester,
        id=id if id is not None else ids(prefix="r-"),
        name=st.text(max_size=30),
        email=st.one_of(st.none(), ids(max_size=8).map(lambda s: f"{s}@example.com")),
        organization=st.one_of(st.none(), st.sampled_from(["acme", "globex", "initech"])),
        vip=st.booleans(),
        language=st.sampled_from(["en", "de", "fr", "es"]),
        attributes=attributes if attributes is not None else custom_fields(max_size=2),
    )


_SKILLS = ("windows", "mac", "vpn", "sap", "printers")


def agents(
    *,
    teams: Sequence[str] = ("service-desk", "network", "apps"),
    tiers: Sequence[str | None] = ("L1", "L2", "L3"),
    calendars: Sequence[str | None] = (None,),
    id: st.SearchStrategy[str] | None = None,
    skills: Sequence[str] = _SKILLS,
    max_capacity: int = 30,
) -> st.SearchStrategy[Agent]:
    """Agents in the given teams, tiers and calendars (names of configured parts; a None
    among ``tiers`` or ``calendars`` draws agents without one), with any subset of
    ``skills`` and a capacity from 0 to ``max_capacity`` (small capacities make agents
    fill up within a few tickets)."""
    team_list = _check_names("teams", teams)
    tier_list = _check_each("tiers", _check_nonempty("tiers", tiers), _check_agent_tier)
    calendar_list = _check_names("calendars", calendars, optional=True)
    skill_list = _check_each("skills", skills, _check_skill)
    _check_count("max_capacity", max_capacity)
    if id is not None:
        _check_strategy("id", id)
    return st.builds(
        Agent,
        id=id if id is not None else ids(prefix="a-"),
        name=st.text(max_size=30),
        tier=st.sampled_from(tier_list),
        teams=st.lists(
            st.sampled_from(team_list), min_size=1, max_size=len(team_list), unique=True
        ),
        skills=st.frozensets(st.sampled_from(skill_list)) if skill_list else st.just(frozenset()),
        capacity=st.integers(min_value=0, max_value=max_capacity),
        calendar=st.sampled_from(calendar_list),
        active=st.booleans(),
        away=st.booleans(),
    )


def _check_agent_tier(tier: str | None) -> object:
    return Agent(id="agent", tier=tier)


def _check_skill(skill: str) -> object:
    skills: Any = {skill}  # the converter makes it a frozenset
    return Agent(id="agent", skills=skills)


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


# ---------------------------------------------------------------------------- tickets
_CATEGORIES = ("network", "hardware", "access")


class _TicketParts(NamedTuple):
    """The strategies for the parts of a ticket that callers may narrow."""

    subject: st.SearchStrategy[str]
    description: st.SearchStrategy[str]
    category: st.SearchStrategy[str | None]
    tags: st.SearchStrategy[tuple[str, ...]]
    fields: st.SearchStrategy[Mapping[str, Any]]
    team: st.SearchStrategy[str | None] | None = None


def _blank_to_text(subject: str) -> str:
    return subject if subject.strip() else f"Ticket {subject}".strip()


def _check_subject(subject: str) -> object:
    if not isinstance(subject, str) or not subject.strip():
        raise ValidationError(f"a subject is non-blank text, got {subject!r}")
    return Changes(subject=subject)


def _check_category(category: str) -> object:
    if not isinstance(category, str):
        raise ValidationError(f"a category is text, got {category!r}")
    return Changes(category=category)


def _check_description(description: str) -> object:
    if not isinstance(description, str):
        raise ValidationError(f"a description is text, got {description!r}")
    return description


_SUBJECTS = st.text(max_size=79).map(_blank_to_text)
_FIELDS = custom_fields()


def _ticket_parts(
    subjects: Sequence[str] | None,
    descriptions: Sequence[str] | None,
    categories: Sequence[str],
    tag_names: Sequence[str] | None,
    fields: st.SearchStrategy[Mapping[str, Any]] | None,
) -> _TicketParts:
    subject = _SUBJECTS
    if subjects is not None:
        subject = st.sampled_from(
            _check_each("subjects", _check_nonempty("subjects", subjects), _check_subject)
        )
    description = _DESCRIPTIONS
    if descriptions is not None:
        description = st.sampled_from(
            _check_each(
                "descriptions", _check_nonempty("descriptions", descriptions), _check_description
            )
        )
    category_list = _check_each("categories", categories, _check_category)
    category: st.SearchStrategy[str | None] = st.none()
    if category_list:
        category = st.one_of(st.none(), st.sampled_from(category_list))
    chosen_tags = None if tag_names is None else _check_each("tags", tag_names, _check_tag)
    if fields is not None:
        _check_strategy("fields", fields)
    return _TicketParts(
        subject=subject,
        description=description,
        category=category,
        tags=_tag_tuples(chosen_tags, 5),
        fields=fields if fields is not None else _FIELDS,
    )


# Built once: building strategies inside a composite on every draw is slow.
_REQUESTER_IDS = ids(prefix="r-")
_TICKET_IDS = ids(prefix="T-")
#: The instants tickets open at: instants a desk takes, in the years aware_datetimes
#: draws from by default.
_INSTANTS = desk_datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1))  # noqa: DTZ001
_NUMBERS = st.integers(min_value=1, max_value=10**9)
_IMPACTS = st.sampled_from(list(Impact))
_URGENCIES = st.sampled_from(list(Urgency))
_PRIORITIES = st.sampled_from(list(Priority))
_CHANNELS = st.sampled_from(list(Channel))
_TYPES = st.sampled_from(["incident", "service_request", "problem"])
_DESCRIPTIONS = st.text(max_size=200)
_ASSETS = st.one_of(st.none(), ids(prefix="PC-"))
_ORGANIZATIONS = st.one_of(st.none(), st.sampled_from(["acme", "globex"]))
_LEVEL_GAPS_MAX = timedelta(days=1)
_LEVEL_GAPS = st.integers(0, 24 * 60).map(lambda minutes: timedelta(minutes=minutes))
_COMMENT_GAPS_MAX = timedelta(days=3)
_COMMENT_GAPS = st.timedeltas(min_value=timedelta(0), max_value=_COMMENT_GAPS_MAX)
_BODIES = st.text(max_size=100)


@st.composite
def _opened_events(
    draw: st.DrawFn, ticket_id: str | None, at: datetime | None, parts: _TicketParts
) -> TicketOpened:
    requester = draw(_REQUESTER_IDS)
    impact = draw(_IMPACTS)
    urgency = draw(_URGENCIES)
    explicit = draw(st.booleans())
    priority = draw(_PRIORITIES) if explicit else priority_for(impact, urgency)
    return TicketOpened(
        ticket_id=ticket_id or draw(_TICKET_IDS),
        at=at or draw(_INSTANTS),
        by=Actor.requester(requester),
        number=draw(_NUMBERS),
        requester=requester,
        subject=draw(parts.subject),
        description=draw(parts.description),
        channel=draw(_CHANNELS),
        category=draw(parts.category),
        type=draw(_TYPES),
        impact=impact,
        urgency=urgency,
        priority=priority,
        priority_explicit=explicit,
        tags=draw(parts.tags),
        fields=draw(parts.fields),
        asset=draw(_ASSETS),
        organization=draw(_ORGANIZATIONS),
    )


def opened_events(
    *,
    ticket_id: str | None = None,
    at: datetime | None = None,
    subjects: Sequence[str] | None = None,
    descriptions: Sequence[str] | None = None,
    categories: Sequence[str] = _CATEGORIES,
    tags: Sequence[str] | None = None,
    fields: st.SearchStrategy[Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[TicketOpened]:
    """A valid :class:`TicketOpened` event (the first event of every ticket).

    Narrow what is drawn with ``subjects`` and ``descriptions`` (one of these; default:
    any text, the subject non-blank), ``categories`` (None or one of these), ``tags`` (a
    subset of these; default: random tags) and ``fields`` (a strategy for the custom
    fields, e.g. :func:`custom_fields` with ``names`` and ``values``)."""
    if at is not None:
        _check_aware("at", at)
    if ticket_id is not None:
        _check_name("ticket_id", ticket_id)
    parts = _ticket_parts(subjects, descriptions, categories, tags, fields)
    return _opened_events(ticket_id, at, parts)


# The SLA policy of worked tickets: both metrics at every priority, on a 24/7 calendar,
# so that clocks run, pause, stop, warn and breach within the gaps drawn between events.
_SLA_POLICY = SlaPolicy.from_dict(
    {
        "name": "standard",
        "calendar": "always",
        "targets": {
            "critical": {"first_response": "30m", "resolution": "4h"},
            "high": {"first_response": "1h", "resolution": "8h"},
            "medium": {"first_response": "4h", "resolution": "1d"},
            "low": {"first_response": "8h", "resolution": "3d"},
        },
    }
)
_SLA_ENGINE = SlaEngine([_SLA_POLICY], {"always": BusinessCalendar.always()})
# Ways through the default lifecycle after a ticket opens: (step, ...) in order.
_PATHS: tuple[tuple[str, ...], ...] = (
    (),
    ("assign",),
    ("assign", "open"),
    ("assign", "open", "pend"),
    ("assign", "open", "pend", "resume"),
    ("assign", "open", "hold"),
    ("assign", "open", "solve"),
    ("assign", "open", "solve", "close"),
    ("assign", "open", "solve", "reopen"),
    ("assign", "open", "solve", "reopen", "solve", "close"),
    ("open", "solve"),
    ("open", "solve", "close"),
)
_WORK_GAPS_MAX = timedelta(days=2)
_WORK_GAPS = st.timedeltas(min_value=timedelta(0), max_value=_WORK_GAPS_MAX)
_AGENT_IDS = st.sampled_from(["a-1", "a-2"])
# The default lifecycle's transitions the paths take: step -> (to status, category); the
# step is the transition's name.
_MOVES: dict[str, tuple[str, StatusCategory]] = {
    "open": ("open", StatusCategory.OPEN),
    "pend": ("pending", StatusCategory.PENDING),
    "hold": ("on_hold", StatusCategory.ON_HOLD),
    "resume": ("open", StatusCategory.OPEN),
    "solve": ("solved", StatusCategory.SOLVED),
    "close": ("closed", StatusCategory.CLOSED),
    "reopen": ("open", StatusCategory.OPEN),
}


class _History:
    """A ticket's events as they are recorded, each followed by the SLA events it causes
    (with ``sla``: the SLA engine under :data:`_SLA_POLICY`)."""

    def __init__(self, opened: TicketOpened, sla: bool) -> None:
        self.events: list[Event] = []
        self.ticket: Ticket | None = None
        self.sla = sla
        self.add(opened)

    @property
    def current(self) -> Ticket:
        assert self.ticket is not None
        return self.ticket

    def add(self, event: Event) -> None:
        self.events.append(event)
        self.ticket = apply_event(self.ticket, event)
        if self.sla:
            for caused in _SLA_ENGINE.react(self.ticket, event, policy=_SLA_POLICY):
                self.events.append(caused)
                self.ticket = apply_event(self.ticket, caused)


def _work(draw: st.DrawFn, history: _History, at: datetime) -> None:
    """Take the ticket along one of :data:`_PATHS`, with drawn gaps between the steps."""
    ticket_id = history.current.id
    requester = Actor.requester(history.current.requester)
    agent = Actor.agent(draw(_AGENT_IDS))
    for step in draw(st.sampled_from(_PATHS)):
        at = (at + draw(_WORK_GAPS)).astimezone(UTC)
        if step == "assign":
            history.add(Assigned(ticket_id=ticket_id, at=at, by=agent, assignee=agent.id))
            continue
        if step == "solve" and history.current.first_response_at is None:
            # The default lifecycle solves a ticket that had a public response.
            history.add(
                CommentAdded(
                    ticket_id=ticket_id,
                    at=at,
                    by=agent,
                    comment_id=f"C-{history.current.version + 1}",
                    body="On it",
                    public=True,
                )
            )
        to_status, category = _MOVES[step]
        history.add(
            StatusChanged(
                ticket_id=ticket_id,
                at=at,
                by=requester if step == "reopen" else agent,
                transition=step,
                from_status=history.current.status,
                to_status=to_status,
                category=category,
                resolution="Fixed" if step == "solve" else None,
            )
        )


@st.composite
def _tickets(
    draw: st.DrawFn,
    at: datetime | None,
    max_comments: int,
    parts: _TicketParts,
    max_escalation_level: int,
    worked: bool,
) -> Ticket:
    opened = draw(_opened_events(None, at, parts))
    history = _History(opened, sla=worked and draw(st.booleans()))
    at = opened.at
    if parts.team is not None:
        team = draw(parts.team)
        if team is not None:
            history.add(
                TicketRouted(
                    ticket_id=opened.ticket_id,
                    at=at,
                    by=Actor.system("routing"),
                    changes=Changes(team=team),
                )
            )
    for level in range(1, draw(st.integers(0, max_escalation_level)) + 1):
        at = at + draw(_LEVEL_GAPS)
        history.add(
            LevelRaised(ticket_id=opened.ticket_id, at=at, by=ESCALATION_ACTOR, level=level)
        )
    agent, requester = Actor.agent("a-1"), Actor.requester(opened.requester)
    for index in range(draw(st.integers(min_value=0, max_value=max_comments))):
        at = at + draw(_COMMENT_GAPS)
        history.add(
            CommentAdded(
                ticket_id=opened.ticket_id,
                at=at.astimezone(UTC),
                by=requester if draw(st.booleans()) else agent,
                comment_id=f"C-{index + 1}",
                body=draw(_BODIES),
                public=draw(st.booleans()),
            )
        )
    if worked:
        _work(draw, history, at)
    return replay(history.events)


#: The instants a ticket's history may take, with a few days on either side for the SLA
#: clocks of worked tickets: the years in which business time is computed.
_FIRST_INSTANT = datetime(3, 1, 8, tzinfo=UTC)
_LAST_INSTANT = datetime(9997, 1, 1, tzinfo=UTC)


def _check_opening(at: datetime, max_comments: int, max_escalation_level: int) -> None:
    """``at`` leaves room for the longest history :func:`tickets` draws after it (the
    gaps between its events: a day per level, three days per comment, two per step of
    work), so that every instant of it, and every SLA deadline, can be computed."""
    longest = (
        max_escalation_level * _LEVEL_GAPS_MAX
        + max_comments * _COMMENT_GAPS_MAX
        + (max(map(len, _PATHS)) + 1) * _WORK_GAPS_MAX
    )
    try:
        latest = _LAST_INSTANT - longest
    except OverflowError:
        latest = datetime.min.replace(tzinfo=UTC)
    if not _FIRST_INSTANT <= at <= latest:
        raise ValidationError(
            f"at={at.isoformat()} leaves no room for a ticket's history: with "
            f"max_comments={max_comments} and max_escalation_level={max_escalation_level} "
            f"it is between {_FIRST_INSTANT.isoformat()} and "
            f"{max(latest, _FIRST_INSTANT).isoformat()}",
            field="at",
        )


def _check_team(team: str) -> object:
    return Changes(team=team)


def tickets(
    *,
    max_comments: int = 3,
    subjects: Sequence[str] | None = None,
    descriptions: Sequence[str] | None = None,
    categories: Sequence[str] = _CATEGORIES,
    tags: Sequence[str] | None = None,
    fields: st.SearchStrategy[Mapping[str, Any]] | None = None,
    teams: Sequence[str] = (),
    max_escalation_level: int = 0,
    at: datetime | None = None,
    worked: bool = True,
) -> st.SearchStrategy[Ticket]:
    """Tickets built the way the library builds them: by replaying a valid history (the
    opening, up to ``max_comments`` public replies and internal notes, and the work on
    the ticket).

    ``subjects``, ``descriptions``, ``categories``, ``tags`` and ``fields`` narrow the
    opening as in :func:`opened_events`, so that conditions testing those fields match
    often. With ``teams``, a ticket is routed to one of them (or stays unrouted); with
    ``max_escalation_level``, its escalation level is raised up to that level. ``at``
    fixes the instant the ticket opens (default: any of the years 2000 to 2040, an
    instant a desk takes: see :func:`desk_datetimes`); one
    that leaves no room for the history drawn after it (before the year 3, or too close
    to the year 9997 for the comments, levels and work that may follow) raises
    ValidationError.

    A ``worked`` ticket (the default) then goes some way along the default lifecycle,
    with drawn gaps between the steps: it stays new, or is assigned, opened, put on
    pending or on hold and resumed, solved, closed, reopened and solved again. Half of
    them have the SLA clocks of a policy with both metrics at every priority on a 24/7
    calendar, which the SLA engine starts, pauses, resumes, stops, warns and breaches as
    a desk would.
    ``worked=False`` draws tickets as they opened: new, unassigned, without clocks."""
    _check_count("max_comments", max_comments)
    _check_count("max_escalation_level", max_escalation_level)
    if at is not None:
        _check_aware("at", at)
        _check_opening(at, max_comments, max_escalation_level)
    _check_flag("worked", worked)
    team_list = _check_each("teams", teams, _check_team)
    parts = _ticket_parts(subjects, descriptions, categories, tags, fields)
    if team_list:
        parts = parts._replace(team=st.one_of(st.none(), st.sampled_from(team_list)))
    return _tickets(at, max_comments, parts, max_escalation_level, worked)


# ---------------------------------------------------------------------------- calendars
_DAY = 24 * 60
_WEEK = 7 * _DAY
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Calendar layouts: daytime hours with lunch breaks and night shifts, or any hours.
LAYOUTS = ("office", "any")
_Spans = list[tuple[int, int]]


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _interval(span: tuple[int, int]) -> str:
    """``(1320, 1800)`` -> ``'22:00-06:00'``: minutes from the day's midnight, an end past
    midnight written as the next day's time (an end at midnight as ``24:00``)."""
    start, end = span
    return f"{_hm(start)}-{_hm(end - _DAY if end > _DAY else end)}"


def _on_grid(draw: st.DrawFn, low: int, high: int, grid: int) -> int:
    """A minute in [low, high] that is a multiple of ``grid``."""
    return draw(st.integers(-(-low // grid), high // grid)) * grid


@st.composite
def _office_day(draw: st.DrawFn, overnight: bool, grid: int) -> _Spans:
    """One day's intervals: daytime ones inside [06:00, 22:00) so that they never meet a
    night shift, which runs from 22:00 (or later) to at most 06:00 the next morning."""
    shape = draw(st.sampled_from(["closed", "single", "lunch"]))
    out: _Spans = []
    if shape == "single":
        start = _on_grid(draw, 6 * 60, 20 * 60, grid)
        out.append((start, _on_grid(draw, start + grid, 22 * 60, grid)))
    elif shape == "lunch":
        start = _on_grid(draw, 6 * 60, 10 * 60, grid)
        lunch = _on_grid(draw, start + 2 * grid, 14 * 60, grid)
        back = _on_grid(draw, lunch + grid, 16 * 60, grid)
        end = _on_grid(draw, back + grid, 22 * 60, grid)
        out += [(start, lunch), (back, end)]
    if overnight and draw(st.booleans()):
        start = _on_grid(draw, 22 * 60, _DAY - grid, grid)
        out.append((start, _DAY + _on_grid(draw, grid, 6 * 60, grid)))
    return out


def _bounded(start: int, end: int, grid: int) -> tuple[int, int]:
    """The span, shortened when needed so that it is shorter than a day (only
    ``00:00-24:00`` may last a whole day)."""
    if end - start > _DAY or (end - start == _DAY and start % _DAY):
        end = start + _DAY - grid
    return start, end


@st.composite
def _any_week(draw: st.DrawFn, overnight: bool, grid: int) -> list[_Spans]:
    """Disjoint intervals round the week (a Sunday night may run into Monday), each
    shorter than a day, starting and ending on the grid."""
    slots = _WEEK // grid
    starts_and_ends = st.lists(st.integers(0, slots - 1), min_size=2, max_size=12, unique=True)
    points = sorted(draw(starts_and_ends))
    shift = draw(st.integers(0, slots - 1))
    week: list[_Spans] = [[] for _ in range(7)]
    for first, last in zip(points[::2], points[1::2]):
        day, minute = divmod(((first + shift) % slots) * grid, _DAY)
        length = (last - first) * grid
        if length > _DAY or (length == _DAY and minute):
            length = draw(st.integers(1, _DAY // grid - 1)) * grid
        end = minute + length if overnight else min(minute + length, _DAY)
        week[day].append((minute, end))
    return week


@st.composite
def _any_day(draw: st.DrawFn, low: int, high: int, grid: int) -> _Spans:
    """Up to two intervals inside [low, high) (minutes from the day's midnight; ``high``
    may lie in the next day), each starting on the day; [] closes the day."""
    points = sorted(
        draw(st.lists(st.integers(-(-low // grid), high // grid), max_size=4, unique=True))
    )
    out: _Spans = []
    for first, last in zip(points[::2], points[1::2]):
        if first * grid >= _DAY:
            break
        out.append(_bounded(first * grid, last * grid, grid))
    return out


def _any_special_days(
    draw: st.DrawFn, days: list[date], week: list[_Spans], overnight: bool, grid: int
) -> dict[date, _Spans]:
    """Hours for each of ``days`` (in order) that fit between the hours of the day
    before (which may run past midnight) and those of the day after."""
    out: dict[date, _Spans] = {}
    chosen = set(days)
    for day in days:
        before: _Spans = []
        if day > date.min:
            yesterday = day - timedelta(days=1)
            before = out.get(yesterday, week[yesterday.weekday()])
        after: _Spans = []
        if day < date.max and day + timedelta(days=1) not in chosen:
            after = week[(day + timedelta(days=1)).weekday()]
        low = max([0, *(end - _DAY for _, end in before)])
        high = min([2 * _DAY - grid, *(_DAY + start for start, _ in after)])
        out[day] = draw(_any_day(low, high if overnight else min(high, _DAY), grid))
    return out


@st.composite
def _business_calendars(
    draw: st.DrawFn,
    zones: list[str],
    overnight: bool,
    holidays: bool,
    special_days: bool,
    min_date: date,
    max_date: date,
    layout: str,
    grids: list[int],
) -> BusinessCalendar:
    zone = draw(st.sampled_from(zones))
    if draw(st.integers(0, 9)) == 0:
        return BusinessCalendar.always(timezone=zone)
    grid = draw(st.sampled_from(grids))
    if layout == "office":
        week = [draw(_office_day(overnight, grid)) for _ in range(7)]
        if not any(week):  # never-open calendars are impossible by construction
            week[draw(st.integers(0, 6))] = [(9 * 60, 17 * 60)]
    else:
        week = draw(_any_week(overnight, grid))
    hours = {name: [_interval(s) for s in spans] for name, spans in zip(_DAY_NAMES, week) if spans}
    dates = st.dates(min_value=min_date, max_value=max_date)
    holiday_list = draw(st.lists(dates, max_size=6, unique=True)) if holidays else []
    special: dict[date, _Spans] = {}
    if special_days:
        days = sorted(draw(st.lists(dates, max_size=3, unique=True)))
        if layout == "office":
            special = {day: draw(_office_day(False, grid)) for day in days}  # [] closes it
        else:
            special = _any_special_days(draw, days, week, overnight, grid)
    return BusinessCalendar(
        timezone=zone,
        hours=hours,
        holidays=sorted(holiday_list),
        special_days={day: [_interval(s) for s in spans] for day, spans in special.items()},
    )


def _check_zone(name: str) -> object:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, TypeError, OSError) as exc:  # not found is a KeyError
        raise ValidationError(f"unknown time zone {name!r}") from exc


def _check_grid(grid: int) -> object:
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 1 or 60 % grid:
        raise ValidationError(f"a grid is a number of minutes that divides 60, got {grid!r}")
    return grid


def business_calendars(
    *,
    timezones: Sequence[str] = _ZONES,
    overnight: bool = True,
    holidays: bool = True,
    special_days: bool = True,
    min_date: date = date(2025, 1, 1),
    max_date: date = date(2027, 12, 31),
    layout: str = "office",
    grid: Sequence[int] = (15,),
) -> st.SearchStrategy[BusinessCalendar]:
    """Business calendars in real zones (DST ones by default: see :data:`DST_ZONES`),
    with lunch breaks, night shifts crossing midnight, holidays and special days between
    ``min_date`` and ``max_date``, and now and then a 24/7 calendar. A calendar that is
    never open cannot be drawn: at least one weekday always has hours.

    ``layout="office"`` (the default) draws daytime hours between 06:00 and 22:00, one
    interval a day or two around a lunch break, and night shifts from 22:00 to at most
    06:00. ``layout="any"`` draws any disjoint intervals round the week, each shorter than
    a day: they may cross midnight at any time (a Sunday night into Monday too), and
    special days fit between the hours of the days around them. Every opening and closing
    time is a multiple of a ``grid`` (minutes dividing 60; each calendar picks one, so
    ``grid=(1, 15, 60)`` mixes odd minutes with quarter and whole hours). Without
    ``overnight`` no interval crosses midnight."""
    zone_list = _check_each("timezones", _check_nonempty("timezones", timezones), _check_zone)
    for value, which in ((min_date, "min_date"), (max_date, "max_date")):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValidationError(f"{which} is a date, got {value!r}", field=which)
    if max_date < min_date:
        raise ValidationError("need min_date <= max_date", field="max_date")
    if layout not in LAYOUTS:
        raise ValidationError(
            f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}", field="layout"
        )
    grids = _check_each("grid", _check_nonempty("grid", grid), _check_grid)
    for flag, which in (
        (overnight, "overnight"), (holidays, "holidays"), (special_days, "special_days")
    ):
        if not isinstance(flag, bool):
            raise ValidationError(f"{which} is true or false, got {flag!r}", field=which)
    return _business_calendars(
        zone_list, overnight, holidays, special_days, min_date, max_date, layout, grids
    )


# ---------------------------------------------------------------------------- conditions
_TESTS: tuple[tuple[str, str, st.SearchStrategy[Any]], ...] = (
    ("priority", "eq", st.sampled_from([p.value for p in Priority])),
    ("priority", "ge", st.sampled_from([p.value for p in Priority])),
    ("impact", "in", st.lists(st.sampled_from([i.value for i in Impact]), min_size=1, unique=True)),
    ("channel", "eq", st.sampled_from([c.value for c in Channel])),
    ("category", "eq", st.sampled_from(["network", "hardware", "access"])),
    ("subject", "contains", st.sampled_from(["vpn", "printer", "password"])),
    ("tags", "contains", st.sampled_from(["vip", "network", "urgent"])),
    ("type", "eq", st.sampled_from(["incident", "service_request", "problem"])),
    ("requester.vip", "eq", st.booleans()),
    ("asset", "exists", st.booleans()),
)


def _test_doc(name: str, op: str) -> Callable[[Any], dict[str, Any]]:
    def make(value: Any) -> dict[str, Any]:
        return {"field": name, "op": op, "value": value}

    return make


def _leaf(calendars: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    tests = [value.map(_test_doc(name, op)) for name, op, value in _TESTS]
    if calendars:
        tests.append(
            st.sampled_from(calendars).map(
                lambda c: {"field": f"business_hours.{c}", "op": "eq", "value": True}
            )
        )
    return st.one_of(tests)


def _condition_docs(calendars: list[str], max_depth: int) -> st.SearchStrategy[dict[str, Any]]:
    leaf = _leaf(calendars)
    if max_depth == 0:
        return leaf

    def extend(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
            inner.map(lambda x: {"not": x}),
        )

    return st.recursive(leaf, extend, max_leaves=4 * max_depth)


def conditions(
    *, calendars: Sequence[str] = (), max_depth: int = 2, allow_always: bool = True
) -> st.SearchStrategy[Condition]:
    """Routing / SLA conditions: ``all`` / ``any`` / ``not`` trees over field tests of
    the right type. ``business_hours.<name>`` tests use only the given calendar names."""
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise ValidationError(
            f"max_depth must be a whole number >= 0, got {max_depth!r}", field="max_depth"
        )
    calendar_list = _check_names("calendars", calendars, nonempty=False)
    _check_flag("allow_always", allow_always)
    built = _condition_docs(calendar_list, max_depth).map(Condition.from_dict)
    if allow_always:
        return st.one_of(st.just(Condition.always()), built)
    return built


# ---------------------------------------------------------------------------- SLA
_TARGET_MINUTES = (15, 30, 60, 120, 240, 480, 24 * 60, 3 * 24 * 60, 5 * 24 * 60)


@st.composite
def _targets(draw: st.DrawFn) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    priorities = draw(st.lists(st.sampled_from(list(Priority)), min_size=1, unique=True))
    for priority in sorted(priorities, key=lambda p: p.rank):
        metrics = draw(st.lists(st.sampled_from(list(Metric)), min_size=1, unique=True))
        out[priority.value] = {
            m.value: f"{draw(st.sampled_from(_TARGET_MINUTES))}m"
            for m in sorted(metrics, key=list(Metric).index)
        }
    return out


_PAUSABLE = [
    c.value for c in StatusCategory if c not in (StatusCategory.SOLVED, StatusCategory.CLOSED)
]


@st.composite
def _sla_policies(
    draw: st.DrawFn, calendars: list[str], name: st.SearchStrategy[str], conditional: bool
) -> SlaPolicy:
    pauses: dict[str, list[str]] = {}
    if draw(st.booleans()):
        pauses["resolution"] = sorted(
            draw(st.lists(st.sampled_from(_PAUSABLE), max_size=3, unique=True))
        )
    condition = draw(conditions(calendars=calendars, max_depth=1)) if conditional else None
    return SlaPolicy(
        name=draw(name),
        condition=condition if condition is not None else Condition.always(),
        targets=draw(_targets()),
        calendar=draw(st.sampled_from(calendars)),
        warnings=tuple(
            sorted(draw(st.lists(st.sampled_from([0.5, 0.75, 0.9]), max_size=3, unique=True)))
        ),
        pauses=pauses,
        reopen=draw(st.sampled_from(list(ReopenMode))),
    )


def sla_policies(
    *,
    calendars: Sequence[str] = ("always",),
    name: st.SearchStrategy[str] | None = None,
    conditional: bool = True,
) -> st.SearchStrategy[SlaPolicy]:
    """SLA policies on one of the named ``calendars``: targets for some priorities and
    metrics, warning thresholds, pauses, reopen mode and (unless ``conditional`` is false)
    a condition."""
    calendar_list = _check_names("calendars", calendars)
    if name is not None:
        _check_strategy("name", name)
    _check_flag("conditional", conditional)
    strategy = name if name is not None else ids(prefix="sla-", max_size=8)
    return _sla_policies(calendar_list, strategy, conditional)


# ---------------------------------------------------------------------------- lifecycles
_GUARDS = ("resolution_note", "public_response_or_first_contact")
_EXTRA_STATUSES = (
    ("triage", StatusCategory.OPEN),
    ("in_progress", StatusCategory.OPEN),
    ("waiting_vendor", StatusCategory.ON_HOLD),
    ("waiting_customer", StatusCategory.PENDING),
)


@st.composite
def _lifecycles(
    draw: st.DrawFn,
    name: str,
    calendars: list[str | None],
    windows: st.SearchStrategy[timedelta | None],
    max_auto_close_after: int,
) -> Lifecycle:
    extras = draw(st.lists(st.sampled_from(_EXTRA_STATUSES), unique=True, max_size=3))
    cancel = draw(st.booleans())
    statuses = [
        Status(name="new", category=StatusCategory.NEW),
        Status(name="open", category=StatusCategory.OPEN),
        *(Status(name=n, category=c) for n, c in extras),
        Status(name="solved", category=StatusCategory.SOLVED),
        Status(name="closed", category=StatusCategory.CLOSED),
    ]
    if cancel:
        statuses.append(Status(name="cancelled", category=StatusCategory.CLOSED))
    active = ["new", "open", *(n for n, _ in extras)]
    transitions = [Transition(name="open", from_="new", to="open", automatic="agent_public_reply")]
    for status, category in extras:
        transitions.append(Transition(name=f"to_{status}", from_="open", to=status))
        automatic = "requester_public_reply" if category is StatusCategory.PENDING else None
        transitions.append(
            Transition(name=f"back_from_{status}", from_=status, to="open", automatic=automatic)
        )
    guards = draw(st.lists(st.sampled_from(_GUARDS), unique=True))
    transitions.append(Transition(name="solve", from_=active, to="solved", guards=guards))
    reopen_guard = ("within_reopen_window",) if draw(st.booleans()) else ()
    transitions.append(Transition(name="reopen", from_="solved", to="open", guards=reopen_guard))
    transitions.append(
        Transition(name="close", from_="solved", to="closed", automatic="solved_timeout")
    )
    if cancel:
        transitions.append(
            Transition(name="cancel", from_=ANY, to="cancelled", guards=("reason_given",))
        )
    return Lifecycle(
        name=name,
        statuses=statuses,
        initial="new",
        transitions=transitions,
        reopen_window=draw(windows),
        auto_close_after=draw(st.one_of(st.none(), st.integers(0, max_auto_close_after))),
        calendar=draw(st.sampled_from(calendars)),
    )


def _reopen_windows(longest: timedelta) -> st.SearchStrategy[timedelta | None]:
    """None (no limit), whole days, or any whole number of seconds up to ``longest``."""
    branches: list[st.SearchStrategy[timedelta | None]] = [st.none()]
    if longest >= timedelta(days=1):
        branches.append(st.integers(1, longest.days).map(lambda d: timedelta(days=d)))
    seconds = longest // timedelta(seconds=1)  # exact: total_seconds() may round up
    branches.append(st.integers(0, seconds).map(lambda n: timedelta(seconds=n)))
    return st.one_of(branches)


def lifecycles(
    *,
    name: str = "default",
    calendars: Sequence[str | None] = (None,),
    max_reopen_window: timedelta = timedelta(days=14),
    max_auto_close_after: int = 5,
) -> st.SearchStrategy[Lifecycle]:
    """Lifecycles shaped like the default one (new → open → solved → closed, reopen,
    optional cancel) with extra working, pending and on-hold statuses, random solve
    guards, and auto-close delays counted on one of ``calendars``. The reopen window is
    None (no limit), whole days or any whole number of seconds up to
    ``max_reopen_window``; the auto-close delay is None or 0 to ``max_auto_close_after``
    business days (at most 3650, the longest delay a lifecycle takes)."""
    _check_name("name", name)
    calendar_list = _check_names("calendars", calendars, optional=True)
    if not isinstance(max_reopen_window, timedelta) or max_reopen_window < timedelta(0):
        raise ValidationError(
            f"max_reopen_window must be a timedelta >= 0, got {max_reopen_window!r}",
            field="max_reopen_window",
        )
    _check_count("max_auto_close_after", max_auto_close_after)
    if max_auto_close_after > MAX_BUSINESS_DAYS:
        raise ValidationError(
            f"max_auto_close_after is at most {MAX_BUSINESS_DAYS} business days, the longest "
            f"auto-close delay a lifecycle takes, got {max_auto_close_after}",
            field="max_auto_close_after",
        )
    windows = _reopen_windows(max_reopen_window)
    return _lifecycles(name, calendar_list, windows, max_auto_close_after)


# ---------------------------------------------------------------------------- routing
class _ActionParts(NamedTuple):
    """Strategies for the parts of rule actions (None: the action is never drawn)."""

    placement: st.SearchStrategy[tuple[str, str]] | None
    policy: st.SearchStrategy[str] | None
    add_tags: st.SearchStrategy[list[str]] | None
    remove_tags: st.SearchStrategy[list[str]] | None
    fields: st.SearchStrategy[Mapping[str, Any]] | None
    assign: st.SearchStrategy[str] | None


_ACTION_PRIORITIES = st.sampled_from(list(Priority))
_ACTION_CATEGORIES = st.sampled_from(list(_CATEGORIES))


def _action_parts(
    placements: list[tuple[str, str]],
    policies: list[str],
    add_tags: list[str],
    remove_tags: list[str],
    fields: st.SearchStrategy[Mapping[str, Any]] | None,
    assign: list[str],
) -> _ActionParts:
    def subsets(items: list[str]) -> st.SearchStrategy[list[str]] | None:
        return st.lists(st.sampled_from(items), unique=True) if items else None

    return _ActionParts(
        placement=st.sampled_from(placements) if placements else None,
        policy=st.sampled_from(policies) if policies else None,
        add_tags=subsets(add_tags),
        remove_tags=subsets(remove_tags),
        fields=fields,
        assign=st.sampled_from(assign) if assign else None,
    )


@st.composite
def _actions(draw: st.DrawFn, parts: _ActionParts) -> Actions:
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()) and parts.placement is not None:
        kwargs["tier"], kwargs["team"] = draw(parts.placement)
    if draw(st.booleans()):
        kwargs["priority"] = draw(_ACTION_PRIORITIES)
    if draw(st.booleans()) and parts.policy is not None:
        kwargs["sla_policy"] = draw(parts.policy)
    if draw(st.booleans()):
        kwargs["category"] = draw(_ACTION_CATEGORIES)
    added = [] if parts.add_tags is None else draw(parts.add_tags)
    kwargs["add_tags"] = added
    if parts.remove_tags is not None:  # a tag that is added is not also removed
        kwargs["remove_tags"] = [t for t in draw(parts.remove_tags) if t not in added]
    if parts.fields is not None and draw(st.booleans()):
        kwargs["fields"] = draw(parts.fields)
    if parts.assign is not None and draw(st.booleans()):
        kwargs["assign"] = AssignSpec(strategy=draw(parts.assign))
    return Actions(**kwargs)


@st.composite
def _routing_rules(
    draw: st.DrawFn,
    when: st.SearchStrategy[Condition],
    actions: st.SearchStrategy[Actions],
    count: st.SearchStrategy[int],
) -> RuleSet:
    return RuleSet(
        [
            Rule(
                name=f"rule-{i + 1}",
                when=draw(when),
                actions=draw(actions),
                stop=draw(st.booleans()),
            )
            for i in range(draw(count))
        ]
    )


def _check_tier(tier: Tier) -> object:
    if not isinstance(tier, Tier):
        raise ValidationError(f"expected a Tier, got {type(tier).__name__}")
    return tier


def _check_assign(strategy: str) -> object:
    return AssignSpec(strategy=strategy)


def routing_rules(
    *,
    tiers: Sequence[Tier] = (),
    sla_policies: Sequence[str] = (),
    calendars: Sequence[str] = (),
    max_size: int = 4,
    when: st.SearchStrategy[Condition] | None = None,
    tags: Sequence[str] | None = None,
    fields: st.SearchStrategy[Mapping[str, Any]] | None = None,
    assign: Sequence[str] = (),
) -> st.SearchStrategy[RuleSet]:
    """Ordered rule sets whose actions name only the given tiers (with one of each
    tier's teams), SLA policy names and calendars, so they fit a desk built from them.

    ``when`` is the strategy for each rule's condition (default: :func:`conditions` on
    ``calendars``). Actions add some of ``tags`` and remove some of the others (default:
    add ``vip``, ``network``, ``major``; remove ``urgent``, ``spam``); with ``fields`` (a
    strategy such as :func:`custom_fields`) they may set custom fields, and with
    ``assign`` (names from :data:`~helpdesk_core.routing.STRATEGIES`) ask for assignment
    with one of those strategies."""
    _check_count("max_size", max_size)
    tier_list = _check_each("tiers", tiers, _check_tier)
    if when is not None:
        _check_strategy("when", when)
    if fields is not None:
        _check_strategy("fields", fields)
    tag_list = None if tags is None else _check_each("tags", tags, _check_tag)
    parts = _action_parts(
        placements=[(tier.id, team) for tier in tier_list for team in tier.teams],
        policies=_check_names("sla_policies", sla_policies, nonempty=False),
        add_tags=["vip", "network", "major"] if tag_list is None else tag_list,
        remove_tags=["urgent", "spam"] if tag_list is None else tag_list,
        fields=fields,
        assign=_check_each("assign", assign, _check_assign),
    )
    return _routing_rules(
        when if when is not None else conditions(calendars=calendars),
        _actions(parts),
        st.integers(0, max_size),
    )


# ---------------------------------------------------------------------------- escalation
_TRIGGERS: tuple[dict[str, Any], ...] = (
    {"on": "sla_breach", "metric": "first_response", "actions": [{"action": "raise_level"}]},
    {
        "on": "sla_warning",
        "metric": "resolution",
        "actions": [{"action": "notify", "contact": "team_lead"}],
    },
    {"on": "sla_breach", "metric": "resolution", "actions": [{"action": "escalate_tier"}]},
    {
        "on": "priority",
        "priorities": ["critical"],
        "actions": [{"action": "notify", "contact": "manager"}],
    },
)


def escalation_policies(*, name: str = "escalation") -> st.SearchStrategy[EscalationPolicy]:
    """Escalation policies with some of the usual triggers (SLA warning and breach,
    priority) and actions (raise level, escalate tier, notify)."""
    _check_name("name", name)
    return st.lists(st.sampled_from(range(len(_TRIGGERS))), min_size=1, unique=True).map(
        lambda picks: EscalationPolicy.from_dict(
            {"name": name, "triggers": [{"name": f"t{i}", **_TRIGGERS[i]} for i in picks]}
        )
    )


# ---------------------------------------------------------------------------- desks
@st.composite
def _desk_configs(draw: st.DrawFn, max_tiers: int, max_agents: int) -> DeskConfig:
    calendars = {"always": BusinessCalendar.always(timezone="UTC")}
    for i in range(draw(st.integers(1, 2))):
        calendars[f"cal{i + 1}"] = draw(business_calendars())
    names = list(calendars)
    tier_list: list[Tier] = []
    team_list: list[Team] = []
    for level in range(1, draw(st.integers(1, max_tiers)) + 1):
        team_ids = [f"team{level}{c}" for c in "ab"[: draw(st.integers(1, 2))]]
        tier_list.append(Tier(id=f"L{level}", name=f"Level {level}", teams=team_ids))
        team_list += [
            Team(id=t, name=t.title(), calendar=draw(st.sampled_from([None, *names])))
            for t in team_ids
        ]
    agent_list: list[Agent] = []
    for i in range(draw(st.integers(0, max_agents))):
        tier = draw(st.sampled_from(tier_list))
        agent_list.append(
            draw(
                agents(
                    teams=list(tier.teams),
                    tiers=[tier.id],
                    calendars=[None, *names],
                    id=st.just(f"agent{i + 1}"),
                )
            )
        )
    agent_ids = [a.id for a in agent_list]
    if agent_ids:
        team_list = [
            Team(
                id=t.id,
                name=t.name,
                calendar=t.calendar,
                contacts=draw(st.lists(st.sampled_from(agent_ids), max_size=2, unique=True)),
            )
            for t in team_list
        ]
    policies = [
        draw(sla_policies(calendars=names, name=st.just(f"sla{i + 1}")))
        for i in range(draw(st.integers(0, 3)))
    ]
    lifecycles_ = {"default": Lifecycle.default()}
    types = {n: TicketType(name=n) for n in ("incident", "service_request", "problem", "question")}
    if draw(st.booleans()):
        lifecycles_["custom"] = draw(lifecycles(name="custom", calendars=[None, *names]))
        chosen = draw(st.lists(st.sampled_from(sorted(types)), min_size=1, unique=True))
        for n in chosen:
            types[n] = TicketType(name=n, lifecycle="custom")
    escalations = (
        [draw(escalation_policies())] if len(tier_list) > 1 and draw(st.booleans()) else []
    )
    parts: dict[str, Any] = {
        "calendars": calendars,
        "tiers": tier_list,
        "teams": team_list,
        "agents": agent_list,
        "lifecycles": lifecycles_,
        "ticket_types": types,
        "sla_policies": policies,
        "routing": draw(
            routing_rules(tiers=tier_list, sla_policies=[p.name for p in policies], calendars=names)
        ),
        "escalation_policies": escalations,
        "assignment": AssignmentSettings(
            strategy=draw(st.sampled_from(["round_robin", "least_loaded", "skills_based"])),
            queue_order=draw(st.sampled_from(["oldest", "most_urgent"])),
            auto_assign=draw(st.booleans()),
        ),
        "settings": DeskSettings(
            name="Generated desk",
            timezone=draw(st.sampled_from(_ZONES)),
            csat_on_solve=draw(st.booleans()),
        ),
    }
    return DeskConfig(**parts)


def desk_configs(*, max_tiers: int = 3, max_agents: int = 6) -> st.SearchStrategy[DeskConfig]:
    """Whole desk configurations whose cross-references agree (agents' teams, tiers and
    calendars, teams' contacts, policies' calendars, rules' targets, ticket types'
    lifecycles), so :class:`DeskConfig` builds them without error."""
    _check_count("max_tiers", max_tiers, low=1)
    _check_count("max_agents", max_agents)
    return _desk_configs(max_tiers, max_agents)


# ---------------------------------------------------------------------------- commands
def commands(
    config: DeskConfig,
    *,
    requesters: Sequence[str] = ("ada", "bea", "cy"),
    max_tickets: int = 4,
    max_advance: timedelta = timedelta(days=3),
) -> st.SearchStrategy[Command]:
    """One command for a desk built from ``config``: data describing a facade call
    (see :mod:`helpdesk_core.testing.reference`). Tickets are named by their position
    among the tickets opened so far (``ticket=k``; the runner takes it modulo the count);
    actors are the given requester ids and the config's agents, or, for a third of the
    commands, the ticket's own requester or the agent working it (``"requester:@own"``,
    ``"agent:@team"``, which the runner resolves). A requester id a desk would refuse
    raises ValidationError at once: every ticket it opened would be refused."""
    from helpdesk_core.testing import reference as r

    if not isinstance(config, DeskConfig):
        raise ValidationError(
            f"config must be a DeskConfig, got {type(config).__name__}", field="config"
        )
    requester_list = _check_requesters(requesters)
    if isinstance(max_tickets, bool) or not isinstance(max_tickets, int) or max_tickets < 1:
        raise ValidationError("max_tickets must be a whole number >= 1", field="max_tickets")
    if not isinstance(max_advance, timedelta) or max_advance < timedelta(minutes=1):
        raise ValidationError("max_advance must be at least a minute", field="max_advance")
    agent_ids = [a.id for a in config.agents if a.active] or ["agent"]
    statuses = sorted(
        {s for lc in config.lifecycles.values() for s in lc.status_names}
        | {t.name for lc in config.lifecycles.values() for t in lc.transitions}
    )
    ticket = st.integers(0, max_tickets - 1)
    person = st.sampled_from(requester_list)
    # A third of the commands come from the people the ticket belongs to (its requester, the
    # agent working it), so that reopens, ratings and solves are accepted, not refused.
    anyone = st.one_of(
        st.sampled_from(agent_ids).map(lambda a: f"agent:{a}"),
        person.map(lambda p: f"requester:{p}"),
        st.sampled_from([r.TEAM_AGENT, r.OWN_REQUESTER]),
    )
    levels = [lvl.value for lvl in Impact]
    minutes = int(max_advance.total_seconds() // 60)
    return st.one_of(
        st.builds(
            r.Open,
            requester=person,
            subject=st.sampled_from(["VPN drops", "Printer jams", "New laptop", "SAP access"]),
            impact=st.sampled_from(levels),
            urgency=st.sampled_from(levels),
            type=st.sampled_from(sorted(config.ticket_types)),
        ),
        st.builds(r.Reply, ticket=ticket, by=anyone, public=st.booleans()),
        st.builds(
            r.ChangeStatus,
            ticket=ticket,
            to=st.sampled_from(statuses),
            by=anyone,
            first_contact=st.booleans(),
        ),
        st.builds(r.Solve, ticket=ticket, by=anyone, first_contact=st.booleans()),
        st.builds(r.Reopen, ticket=ticket, by=anyone),
        st.builds(r.Escalate, ticket=ticket, by=anyone),
        st.builds(
            r.SetPriority,
            ticket=ticket,
            priority=st.sampled_from([p.value for p in Priority]),
            by=anyone,
        ),
        st.builds(r.Rate, ticket=ticket, score=st.integers(1, 5), by=anyone),
        st.builds(r.AdvanceTime, minutes=st.integers(1, minutes)),
    )


def command_sequences(
    config: DeskConfig,
    *,
    min_size: int = 1,
    max_size: int = 20,
    requesters: Sequence[str] = ("ada", "bea", "cy"),
    max_advance: timedelta = timedelta(days=3),
) -> st.SearchStrategy[list[Command]]:
    """Lists of :func:`commands`, starting with an :class:`~reference.Open` so the
    sequence has a ticket to work on."""
    _check_size("size", min_size, max_size)
    from helpdesk_core.testing import reference as r

    first = st.builds(
        r.Open,
        requester=st.sampled_from(_check_requesters(requesters)),
        subject=st.just("First ticket"),
    )
    rest = st.lists(
        commands(config, requesters=requesters, max_advance=max_advance),
        min_size=max(min_size - 1, 0),
        max_size=max(max_size - 1, 0),
    )
    if max_size == 0:
        return st.just([])
    return st.tuples(first, rest).map(lambda pair: [pair[0], *pair[1]])


# ---------------------------------------------------------------------------- registry
_registered = False


def _links() -> st.SearchStrategy[Link]:
    return st.builds(Link, kind=st.sampled_from(list(LinkKind)), other=ids(prefix="T-"))


def _satisfactions() -> st.SearchStrategy[Satisfaction]:
    return st.builds(
        Satisfaction,
        score=st.integers(1, 5),
        comment=st.text(max_size=40),
        at=_INSTANTS,
    )


def register_strategies() -> None:
    """Register the strategies above for helpdesk_core's own classes, so that
    ``st.from_type(Ticket)`` (and ``st.builds`` of functions annotated with them) work.
    Idempotent; other types in Hypothesis's registry are left alone."""
    global _registered
    if _registered:
        return
    table: dict[type[Any], st.SearchStrategy[Any]] = {
        Actor: actors(),
        Requester: requesters(),
        Agent: agents(),
        Team: teams(),
        Tier: tiers(),
        Link: _links(),
        Satisfaction: _satisfactions(),
        TicketOpened: opened_events(),
        Ticket: tickets(),
        BusinessCalendar: business_calendars(),
        Condition: conditions(),
        SlaPolicy: sla_policies(),
        Lifecycle: lifecycles(),
        RuleSet: routing_rules(),
        EscalationPolicy: escalation_policies(),
        DeskConfig: desk_configs(),
    }
    for cls, strategy in table.items():
        st.register_type_strategy(cls, strategy)
    _registered = True


register_strategies()
