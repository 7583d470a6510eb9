"""Hypothesis strategies for helpdesk_core values (public API for users' test suites).

Every value drawn is valid by construction: no filtering storms, so Hypothesis's health
checks stay quiet. Strategies are plural nouns with keyword-only, validated arguments, as
in Hypothesis itself. :func:`register_strategies` (run on import) makes
``st.from_type(Ticket)`` and friends work; it registers only helpdesk_core's own classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from helpdesk_core.config import AssignmentSettings, DeskConfig, DeskSettings, TicketType
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Actor,
    Agent,
    Channel,
    CommentAdded,
    Event,
    Impact,
    Link,
    LinkKind,
    Metric,
    Priority,
    Requester,
    Satisfaction,
    StatusCategory,
    Team,
    Ticket,
    TicketOpened,
    Tier,
    Urgency,
    priority_for,
    replay,
)
from helpdesk_core.routing.actions import Actions
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.routing.rules import Rule, RuleSet
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.sla.policy import ReopenMode, SlaPolicy
from helpdesk_core.workflow.escalation import EscalationPolicy
from helpdesk_core.workflow.lifecycle import ANY, Lifecycle, Status, Transition

if TYPE_CHECKING:
    from helpdesk_core.testing.reference import Command

__all__ = [
    "DST_ZONES",
    "actors",
    "agents",
    "aware_datetimes",
    "business_calendars",
    "command_sequences",
    "commands",
    "conditions",
    "custom_fields",
    "desk_configs",
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
    if low < 0 or high < low:
        raise ValidationError(f"need 0 <= min_{name} <= max_{name}, got {low}, {high}")


def _check_nonempty(name: str, values: Sequence[Any]) -> list[Any]:
    if isinstance(values, str) or not values:
        raise ValidationError(f"{name} must be a non-empty sequence", field=name)
    return list(values)


# ---------------------------------------------------------------------------- basics
def ids(*, prefix: str = "", min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    """Valid ids: letters, digits, ``_`` and ``-``, optionally prefixed."""
    _check_size("size", min_size, max_size)
    return st.text(_ID_ALPHABET, min_size=max(min_size, 1), max_size=max(max_size, 1)).map(
        lambda s: f"{prefix}{s}"
    )


def aware_datetimes(
    *,
    min_value: datetime = datetime(2000, 1, 1),  # noqa: DTZ001 - bounds for hypothesis
    max_value: datetime = datetime(2040, 1, 1),  # noqa: DTZ001
    zones: Sequence[str] = _ZONES,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes in a few real zones (DST included)."""
    zone_list = _check_nonempty("zones", zones)
    if max_value.replace(tzinfo=None) < min_value.replace(tzinfo=None):
        raise ValidationError("need min_value <= max_value", field="max_value")
    return st.datetimes(
        min_value=min_value.replace(tzinfo=None),
        max_value=max_value.replace(tzinfo=None),
        timezones=st.sampled_from([ZoneInfo(z) for z in zone_list]),
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
    """Requesters with optional email, organization, VIP flag, language and attributes."""
    return st.builds(
        Requester,
        id=id if id is not None else ids(prefix="r-"),
        name=st.text(max_size=30),
        email=st.one_of(st.none(), ids(max_size=8).map(lambda s: f"{s}@example.com")),
        organization=st.one_of(st.none(), st.sampled_from(["acme", "globex", "initech"])),
        vip=st.booleans(),
        language=st.sampled_from(["en", "de", "fr", "es"]),
        attributes=custom_fields(max_size=2),
    )


def agents(
    *,
    teams: Sequence[str] = ("service-desk", "network", "apps"),
    tiers: Sequence[str] = ("L1", "L2", "L3"),
    calendars: Sequence[str | None] = (None,),
    id: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Agent]:
    """Agents in the given teams, tiers and calendars (names of configured parts)."""
    team_list = _check_nonempty("teams", teams)
    tier_list = _check_nonempty("tiers", tiers)
    calendar_list = _check_nonempty("calendars", calendars)
    return st.builds(
        Agent,
        id=id if id is not None else ids(prefix="a-"),
        name=st.text(max_size=30),
        tier=st.sampled_from(tier_list),
        teams=st.lists(
            st.sampled_from(team_list), min_size=1, max_size=len(team_list), unique=True
        ),
        skills=st.frozensets(st.sampled_from(["windows", "mac", "vpn", "sap", "printers"])),
        capacity=st.integers(min_value=0, max_value=30),
        calendar=st.sampled_from(calendar_list),
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


# ---------------------------------------------------------------------------- tickets
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
    subject = draw(st.text(max_size=79))
    return TicketOpened(
        ticket_id=ticket_id or draw(ids(prefix="T-")),
        at=at or draw(aware_datetimes()),
        by=Actor.requester(requester),
        number=draw(st.integers(min_value=1, max_value=10**9)),
        requester=requester,
        subject=subject if subject.strip() else f"Ticket {subject}".strip(),
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


# ---------------------------------------------------------------------------- calendars
def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


_QUARTER = 15


@st.composite
def _day_hours(draw: st.DrawFn, overnight: bool) -> list[str]:
    """One day's intervals: daytime ones inside [06:00, 22:00) so that they never meet a
    night shift, which runs from 22:00 (or later) to at most 06:00 the next morning."""
    shape = draw(st.sampled_from(["closed", "single", "lunch"]))
    out: list[str] = []
    if shape == "single":
        start = draw(st.integers(6 * 4, 20 * 4)) * _QUARTER
        end = draw(st.integers(start // _QUARTER + 1, 22 * 4)) * _QUARTER
        out.append(f"{_hm(start)}-{_hm(end)}")
    elif shape == "lunch":
        start = draw(st.integers(6 * 4, 10 * 4)) * _QUARTER
        lunch = draw(st.integers(start // _QUARTER + 2, 14 * 4)) * _QUARTER
        back = draw(st.integers(lunch // _QUARTER + 1, 16 * 4)) * _QUARTER
        end = draw(st.integers(back // _QUARTER + 1, 22 * 4)) * _QUARTER
        out += [f"{_hm(start)}-{_hm(lunch)}", f"{_hm(back)}-{_hm(end)}"]
    if overnight and draw(st.booleans()):
        start = draw(st.integers(22 * 4, 23 * 4 + 3)) * _QUARTER
        end = draw(st.integers(1, 6 * 4)) * _QUARTER
        out.append(f"{_hm(start)}-{_hm(end)}")
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
) -> BusinessCalendar:
    zone = draw(st.sampled_from(zones))
    if draw(st.integers(0, 9)) == 0:
        return BusinessCalendar.always(timezone=zone)
    week = [draw(_day_hours(overnight)) for _ in range(7)]
    if not any(week):  # never-open calendars are impossible by construction
        open_day = draw(st.integers(0, 6))
        week[open_day] = ["09:00-17:00"]
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours: dict[str, list[str]] = {n: spans for n, spans in zip(names, week) if spans}
    dates = st.dates(min_value=min_date, max_value=max_date)
    holiday_list = draw(st.lists(dates, max_size=6, unique=True)) if holidays else []
    special: dict[date, list[str]] = {}
    if special_days:
        for day in draw(st.lists(dates, max_size=3, unique=True)):
            special[day] = draw(_day_hours(False))  # [] closes the day
    return BusinessCalendar(
        timezone=zone, hours=hours, holidays=sorted(holiday_list), special_days=special
    )


def business_calendars(
    *,
    timezones: Sequence[str] = _ZONES,
    overnight: bool = True,
    holidays: bool = True,
    special_days: bool = True,
    min_date: date = date(2025, 1, 1),
    max_date: date = date(2027, 12, 31),
) -> st.SearchStrategy[BusinessCalendar]:
    """Business calendars in real zones (DST ones by default: see :data:`DST_ZONES`),
    with lunch breaks, night shifts crossing midnight, holidays and special days between
    ``min_date`` and ``max_date``, and now and then a 24/7 calendar. A calendar that is
    never open cannot be drawn: at least one weekday always has hours."""
    zone_list = _check_nonempty("timezones", timezones)
    for zone in zone_list:
        ZoneInfo(zone)
    if max_date < min_date:
        raise ValidationError("need min_date <= max_date", field="max_date")
    return _business_calendars(
        zone_list, overnight, holidays, special_days, min_date, max_date
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
    if max_depth < 0:
        raise ValidationError("max_depth must be >= 0", field="max_depth")
    built = _condition_docs(list(calendars), max_depth).map(Condition.from_dict)
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
    calendar_list = _check_nonempty("calendars", calendars)
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
def _lifecycles(draw: st.DrawFn, name: str, calendars: list[str | None]) -> Lifecycle:
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
    window = draw(st.one_of(st.none(), st.integers(1, 14).map(lambda d: timedelta(days=d))))
    return Lifecycle(
        name=name,
        statuses=statuses,
        initial="new",
        transitions=transitions,
        reopen_window=window,
        auto_close_after=draw(st.one_of(st.none(), st.integers(0, 5))),
        calendar=draw(st.sampled_from(calendars)),
    )


def lifecycles(
    *, name: str = "default", calendars: Sequence[str | None] = (None,)
) -> st.SearchStrategy[Lifecycle]:
    """Lifecycles shaped like the default one (new → open → solved → closed, reopen,
    optional cancel) with extra working, pending and on-hold statuses, random solve
    guards, reopen windows and auto-close delays counted on one of ``calendars``."""
    calendar_list = _check_nonempty("calendars", calendars)
    return _lifecycles(name, calendar_list)


# ---------------------------------------------------------------------------- routing
@st.composite
def _actions(draw: st.DrawFn, placements: list[tuple[str, str]], policies: list[str]) -> Actions:
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()) and placements:
        kwargs["tier"], kwargs["team"] = draw(st.sampled_from(placements))
    if draw(st.booleans()):
        kwargs["priority"] = draw(st.sampled_from(list(Priority)))
    if draw(st.booleans()) and policies:
        kwargs["sla_policy"] = draw(st.sampled_from(policies))
    if draw(st.booleans()):
        kwargs["category"] = draw(st.sampled_from(["network", "hardware", "access"]))
    kwargs["add_tags"] = draw(st.lists(st.sampled_from(["vip", "network", "major"]), unique=True))
    removable = [t for t in ("urgent", "spam") if t not in kwargs["add_tags"]]
    kwargs["remove_tags"] = draw(st.lists(st.sampled_from(removable), unique=True))
    return Actions(**kwargs)


@st.composite
def _routing_rules(
    draw: st.DrawFn,
    placements: list[tuple[str, str]],
    policies: list[str],
    calendars: list[str],
    max_size: int,
) -> RuleSet:
    count = draw(st.integers(0, max_size))
    return RuleSet(
        [
            Rule(
                name=f"rule-{i + 1}",
                when=draw(conditions(calendars=calendars)),
                actions=draw(_actions(placements, policies)),
                stop=draw(st.booleans()),
            )
            for i in range(count)
        ]
    )


def routing_rules(
    *,
    tiers: Sequence[Tier] = (),
    sla_policies: Sequence[str] = (),
    calendars: Sequence[str] = (),
    max_size: int = 4,
) -> st.SearchStrategy[RuleSet]:
    """Ordered rule sets whose actions name only the given tiers (with one of each
    tier's teams), SLA policy names and calendars, so they fit a desk built from them."""
    _check_size("size", 0, max_size)
    placements = [(tier.id, team) for tier in tiers for team in tier.teams]
    return _routing_rules(placements, list(sla_policies), list(calendars), max_size)


# ---------------------------------------------------------------------------- escalation
_TRIGGERS: tuple[dict[str, Any], ...] = (
    {"on": "sla_breach", "metric": "first_response", "actions": [{"action": "raise_level"}]},
    {"on": "sla_warning", "metric": "resolution",
     "actions": [{"action": "notify", "contact": "team_lead"}]},
    {"on": "sla_breach", "metric": "resolution", "actions": [{"action": "escalate_tier"}]},
    {"on": "priority", "priorities": ["critical"],
     "actions": [{"action": "notify", "contact": "manager"}]},
)


def escalation_policies(*, name: str = "escalation") -> st.SearchStrategy[EscalationPolicy]:
    """Escalation policies with some of the usual triggers (SLA warning and breach,
    priority) and actions (raise level, escalate tier, notify)."""
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
            routing_rules(
                tiers=tier_list, sla_policies=[p.name for p in policies], calendars=names
            )
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
    if max_tiers < 1:
        raise ValidationError("max_tiers must be >= 1", field="max_tiers")
    _check_size("agents", 0, max_agents)
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
    actors are the given requester ids and the config's agents."""
    from helpdesk_core.testing import reference as r

    requester_list = _check_nonempty("requesters", requesters)
    if max_tickets < 1:
        raise ValidationError("max_tickets must be >= 1", field="max_tickets")
    if max_advance < timedelta(minutes=1):
        raise ValidationError("max_advance must be at least a minute", field="max_advance")
    agent_ids = [a.id for a in config.agents if a.active] or ["agent"]
    statuses = sorted(
        {s for lc in config.lifecycles.values() for s in lc.status_names}
        | {t.name for lc in config.lifecycles.values() for t in lc.transitions}
    )
    ticket = st.integers(0, max_tickets - 1)
    person = st.sampled_from(requester_list)
    anyone = st.one_of(
        st.sampled_from(agent_ids).map(lambda a: f"agent:{a}"),
        person.map(lambda p: f"requester:{p}"),
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
            r.SetPriority, ticket=ticket, priority=st.sampled_from([p.value for p in Priority]),
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
        requester=st.sampled_from(_check_nonempty("requesters", requesters)),
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
        at=aware_datetimes(),
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
