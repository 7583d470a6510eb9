"""Arbitrary values into every public constructor, directly: only HelpdeskError subclasses
may escape, and what a constructor accepts is a sound value (hashable when its class is,
and, for tickets and events, unchanged by a round trip through the storage codec).

The constructors are found through the ``__all__`` of the packages, so a new public class
is fuzzed without being listed here. Each example starts from a valid set of arguments
(derived from the class's type hints, or given below) and replaces one to three of them
with anything: JSON-like documents, huge strings, NUL, lone surrogates, SQL fragments,
deeply nested lists and mappings, naive and aware datetimes, durations, bytes, sets,
model values of the wrong kind. Starting from valid arguments lets the later validators
of a class run too (attrs stops at the first one that refuses).

The classes are batched into three targets (model values, configuration parts, the rest
and the enums' ``parse``), each run ``HELPDESK_FUZZ_EXAMPLES`` times (CI: 3,000).
"""

from __future__ import annotations

import contextlib
import enum
import importlib
import inspect
import os
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk_core import HelpdeskError
from helpdesk_core.codec import event_from_dict, event_to_dict, ticket_from_dict, ticket_to_dict
from helpdesk_core.model import (
    SYSTEM,
    Actor,
    Changes,
    Event,
    Link,
    LinkKind,
    Metric,
    Requester,
    Satisfaction,
    SlaClock,
    Ticket,
    Tier,
)
from helpdesk_core.routing import Condition
from helpdesk_core.routing.actions import Actions
from helpdesk_core.sla import BusinessCalendar
from helpdesk_core.workflow import Lifecycle, RaiseLevel

EXAMPLES = int(os.environ.get("HELPDESK_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)

# ---------------------------------------------------------------------------- targets

MODEL_PACKAGES = ("helpdesk_core.model",)
CONFIG_PACKAGES = (
    "helpdesk_core.sla",
    "helpdesk_core.workflow",
    "helpdesk_core.routing",
    "helpdesk_core.intake",
    "helpdesk_core.config",
    "helpdesk_core.privacy",
    "helpdesk_core.knowledge",
    "helpdesk_core.channels.email",
    "helpdesk_core.simulation",
    "helpdesk_core.storage",
)
OTHER_PACKAGES = ("helpdesk_core.clock", "helpdesk_core.ids", "helpdesk_core.reporting")

# Classes that are not values built from arguments: protocols, stores and services that
# need live collaborators or touch files and networks, and internal evaluation contexts.
NOT_VALUES = frozenset(
    {
        "Clock",
        "IdFactory",
        "OpenHours",
        "Store",
        "UnitOfWork",
        "SolvedTicketSearch",
        "MemoryStore",
        "SqliteStore",
        "PostgresStore",
        "Helpdesk",
        "KnowledgeCommands",
        "EmailChannel",
        "Decider",
        "Change",
        "Env",
        "Plan",
        "GuardContext",
        "WorkCalendar",
        "SystemClock",
        "UuidIds",
    }
)


def _public_classes(packages: tuple[str, ...]) -> tuple[list[type], list[type[enum.Enum]]]:
    classes: dict[str, type] = {}
    enums: dict[str, type[enum.Enum]] = {}
    for package in packages:
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name, None)
            if not isinstance(value, type) or not value.__module__.startswith("helpdesk_core"):
                continue
            key = f"{value.__module__}.{value.__qualname__}"
            if issubclass(value, enum.Enum):
                if hasattr(value, "parse"):
                    enums[key] = value
            elif issubclass(value, BaseException) or name in NOT_VALUES:
                continue
            elif typing.get_origin(value) is None and not getattr(value, "_is_protocol", False):
                if attrs.has(value) and not _validates(value):
                    continue  # a plain record of results (reports, decisions ...)
                classes[key] = value
    return sorted(classes.values(), key=_key), sorted(enums.values(), key=_key)


def _key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _validates(cls: type) -> bool:
    """True when constructing ``cls`` checks something (a validator, a converter or a
    post-init hook); records without any accept anything by design."""
    fields = attrs.fields(cls)
    return any(f.validator or f.converter for f in fields) or hasattr(cls, "__attrs_post_init__")


MODEL, _ = _public_classes(MODEL_PACKAGES)
CONFIG, CONFIG_ENUMS = _public_classes(CONFIG_PACKAGES)
OTHER, _ = _public_classes(OTHER_PACKAGES)
_, MODEL_ENUMS = _public_classes(MODEL_PACKAGES)
CONFIG = [c for c in CONFIG if c not in MODEL]
ENUMS = sorted({*MODEL_ENUMS, *CONFIG_ENUMS}, key=_key)

# ---------------------------------------------------------------------------- baselines

_CLOCK = SlaClock(
    metric="resolution",
    policy="std",
    calendar="always",
    target=timedelta(hours=8),
    state="running",
    started_at=T0,
    used=timedelta(0),
    as_of=T0,
    deadline=T0 + timedelta(hours=8),
)
_BY_TYPE: dict[Any, Any] = {
    str: "x1",
    int: 1,
    float: 0.5,
    bool: False,
    datetime: T0,
    date: date(2026, 3, 2),
    timedelta: timedelta(hours=1),
    Actor: SYSTEM,
    SlaClock: _CLOCK,
    Changes: Changes(team="desk"),
    Condition: Condition.always(),
    Actions: Actions(),
    Link: Link(kind=LinkKind.FOLLOW_UP_OF, other="T-0"),
    Satisfaction: Satisfaction(score=4, at=T0),
    BusinessCalendar: BusinessCalendar.always(timezone="UTC"),
    Lifecycle: Lifecycle.default(),
    Requester: Requester(id="r-1"),
}
# Arguments for classes whose valid values the type hints do not tell.
_GIVEN: dict[str, dict[str, Any]] = {
    "BusinessCalendar": {"timezone": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}},
    "SlaClock": attrs.asdict(_CLOCK, recurse=False),
    "Ticket": {
        "id": "T-1",
        "number": 1,
        "requester": "r-1",
        "subject": "Printer jams",
        "created_at": T0,
        "updated_at": T0,
        "sla": {"resolution": _CLOCK},
    },
    "SlaPolicy": {"name": "std", "targets": {"medium": {"resolution": "8h"}}},
    "PriorityMatrix": {},
    "SlaWarning": {"threshold": 0.75},
    "Rated": {"score": 4},
    "Satisfaction": {"score": 4, "at": T0},
    "FieldRef": {"name": "subject"},
    "Empirical": {"samples": [60, 120]},
    "TierLadder": {"tiers": [Tier(id="L1", teams=("desk",))]},
    "Transition": {"name": "open", "from_": ("new",), "to": "open"},
    "Trigger": {
        "name": "late",
        "on": "sla_breach",
        "metric": "resolution",
        "actions": (RaiseLevel(),),
    },
    "EmailSettings": {"address": "help@example.org"},
    "LinkedProblemSolved": {"problem": "T-9", "outcome": "solved"},
    "Lifecycle": {
        f.alias or f.name: getattr(Lifecycle.default(), f.name)
        for f in attrs.fields(Lifecycle)
        if f.init
    },
}


def _value_for(hint: Any) -> Any:
    if hint in _BY_TYPE:
        return _BY_TYPE[hint]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        return None if type(None) in args else _value_for(args[0])
    if origin is typing.Literal:
        return typing.get_args(hint)[0]
    if origin in (tuple, list, frozenset, set):
        return origin()
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return {}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    raise LookupError(hint)


def _parameters(cls: type) -> list[tuple[str, bool]]:
    """(name, required) of each keyword the constructor takes."""
    if attrs.has(cls):
        return [
            (f.alias or f.name, f.default is attrs.NOTHING) for f in attrs.fields(cls) if f.init
        ]
    out = []
    for param in inspect.signature(cls).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        out.append((param.name, param.default is param.empty))
    return out


def _baseline(cls: type) -> dict[str, Any] | None:
    """Valid keyword arguments for ``cls`` (None when none could be found)."""
    kwargs = dict(_GIVEN.get(cls.__name__, {}))
    try:
        hints = typing.get_type_hints(cls) if attrs.has(cls) else {}
    except Exception:
        hints = {}
    if not attrs.has(cls):
        try:
            hints = typing.get_type_hints(cls.__init__)
        except Exception:
            hints = {}
    names = {f.alias or f.name: f.name for f in attrs.fields(cls)} if attrs.has(cls) else {}
    for name, required in _parameters(cls):
        if name in kwargs or not required:
            continue
        try:
            kwargs[name] = _value_for(hints[names.get(name, name)])
        except LookupError:
            return None
    try:
        cls(**kwargs)
    except Exception:
        return None
    return kwargs


BASELINES = {cls: _baseline(cls) for cls in (*MODEL, *CONFIG, *OTHER)}

# ---------------------------------------------------------------------------- values

texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "' OR 1=1 --",
            "'); DROP TABLE tickets; --",
            "\ud800",
            "x\udfffy",
            "a" * 100_001,
            "💥",
            "x1",
            "T-1",
            "critical",
            "P1",
            "resolution",
            "09:00-17:00",
            "mon-fri",
            "Europe/Berlin",
            "4h",
            "-1h",
            "nan",
            "(a+)+",
            "all",
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from([2**63, -(2**63) - 1, 10**400, float("nan"), float("inf")]),
    texts,
)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=20,
)


def _nested(depth: int, kind: str) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value] if kind == "list" else {"not": value}
    return value


deep = st.builds(_nested, st.integers(20, 400), st.sampled_from(["list", "map"]))
python_values = st.one_of(
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.timedeltas(),
    st.dates(),
    st.binary(max_size=8),
    st.sets(st.integers(), max_size=3),
    st.frozensets(texts, max_size=3),
    st.tuples(texts, texts),
    st.just(object()),
    st.sampled_from(list(_BY_TYPE.values())),
    st.sampled_from([iter(()), range(3), type, print]),
)
anything = st.one_of(json_like, python_values, deep)

# ---------------------------------------------------------------------------- checks


def _build(cls: type, data: st.DataObject) -> None:
    baseline = BASELINES.get(cls)
    names = [name for name, _ in _parameters(cls)]
    kwargs = dict(baseline) if baseline is not None else {}
    if baseline is None:  # no valid start: give every required argument a value
        kwargs = {name: data.draw(anything) for name, required in _parameters(cls) if required}
    if names:
        for name in data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)):
            kwargs[name] = data.draw(anything, label=name)
    try:
        value = cls(**kwargs)
    except HelpdeskError:
        return
    _sound(value)


def _sound(value: Any) -> None:
    """What a constructor accepted must be usable: hashable when its class is, and a
    ticket or an event survives the storage codec unchanged (or is refused by it)."""
    repr(value)
    if type(value).__hash__ is not None:
        hash(value)
    try:
        if isinstance(value, Event):
            assert event_from_dict(event_to_dict(value)) == value
        elif isinstance(value, Ticket):
            assert ticket_from_dict(ticket_to_dict(value)) == value
    except HelpdeskError:
        pass


def _check(call: Callable[[], Any]) -> None:
    with contextlib.suppress(HelpdeskError):
        call()


# ---------------------------------------------------------------------------- tests


def test_the_targets_cover_the_public_constructors() -> None:
    names = {cls.__name__ for cls in (*MODEL, *CONFIG, *OTHER)}
    expected = {
        "Ticket",
        "Requester",
        "Agent",
        "Team",
        "Tier",
        "Actor",
        "Link",
        "Satisfaction",
        "SlaClock",
        "Changes",
        "TicketOpened",
        "CommentAdded",
        "SlaWarning",
        "SlaPolicy",
        "BusinessCalendar",
        "Lifecycle",
        "Status",
        "Transition",
        "TierLadder",
        "EscalationPolicy",
        "Rule",
        "RuleSet",
        "Actions",
        "AssignSpec",
        "Category",
        "Question",
        "DeskConfig",
        "DeskSettings",
        "TicketType",
        "AssignmentSettings",
        "RetentionPolicy",
        "PrivacySettings",
        "AccessPolicy",
        "Limits",
        "TicketQuery",
        "ManualClock",
        "SequentialIds",
        "Report",
    }
    assert expected <= names, sorted(expected - names)
    assert {e.__name__ for e in ENUMS} >= {"Priority", "Impact", "Urgency", "Channel"}
    # Most classes start from valid arguments, so their later validators run too.
    started = [cls.__name__ for cls, kwargs in BASELINES.items() if kwargs is not None]
    for name in ("Ticket", "TicketOpened", "SlaClock", "BusinessCalendar", "Agent", "Limits"):
        assert name in started, name


@FUZZ
@given(cls=st.sampled_from(MODEL), data=st.data())
def test_model_constructors(cls: type, data: st.DataObject) -> None:
    _build(cls, data)


@FUZZ
@given(cls=st.sampled_from(CONFIG), data=st.data())
def test_configuration_constructors(cls: type, data: st.DataObject) -> None:
    _build(cls, data)


@FUZZ
@given(
    cls=st.sampled_from(OTHER + ENUMS),
    data=st.data(),
)
def test_other_constructors_and_enum_parsing(cls: type, data: st.DataObject) -> None:
    if issubclass(cls, enum.Enum):
        value = data.draw(anything)
        _check(lambda: cls.parse(value))  # type: ignore[attr-defined]
        return
    _build(cls, data)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (1, "rules"),
        (b"ab", "rules"),
        ([1, 2], "rules"),
        ("not changes", "changes"),
    ],
)
def test_routed_events_refuse_what_is_not_theirs(value: Any, field: str) -> None:
    from helpdesk_core.errors import ValidationError
    from helpdesk_core.model import TicketRouted

    kwargs: dict[str, Any] = {"ticket_id": "T-1", "at": T0, "by": SYSTEM, "changes": Changes()}
    kwargs[field] = value
    with pytest.raises(ValidationError):
        TicketRouted(**kwargs)


def test_fixed_crashes_stay_fixed() -> None:
    from helpdesk_core.errors import ValidationError
    from helpdesk_core.model import Agent, SlaWarning, TicketOpened

    cases: list[Callable[[], Any]] = [
        lambda: Agent(id="a", skills=object()),
        lambda: Agent(id="a", skills=[["nested"]]),
        lambda: SlaWarning(ticket_id="T-1", at=T0, by=SYSTEM, clock="not a clock"),
        lambda: SlaWarning(ticket_id="T-1", at=T0, by=SYSTEM, clock=_CLOCK, threshold=float("nan")),
        lambda: TicketOpened(
            ticket_id="T-1", at=T0, by=SYSTEM, number=1, requester="r", subject="s", history=5
        ),
        lambda: Ticket(**{**_GIVEN["Ticket"], "links": 5}),
        lambda: Ticket(**{**_GIVEN["Ticket"], "links": [{"kind": "duplicate_of", "x": 1}]}),
        lambda: Ticket(**{**_GIVEN["Ticket"], "satisfaction": {"score": 5}}),
        lambda: Ticket(**{**_GIVEN["Ticket"], "tags": [f"t{i}" for i in range(1_001)]}),
        lambda: Ticket(**{**_GIVEN["Ticket"], "fields": {"note": "x" * 100_001}}),
    ]
    for case in cases:
        with pytest.raises(ValidationError):
            case()
    assert Agent(id="a", skills="network").skills == frozenset({"network"})
    assert Metric.parse("resolution") is Metric.RESOLUTION


def test_stores_refuse_events_they_could_not_read_back() -> None:
    from helpdesk_core.errors import ValidationError
    from helpdesk_core.model import CommentAdded, TicketOpened, replay
    from helpdesk_core.storage import MemoryStore

    @attrs.frozen(kw_only=True)
    class Unregistered(CommentAdded):
        """A subclass nobody registered with register_event_type."""

    store = MemoryStore()
    opened = TicketOpened(ticket_id="T-1", at=T0, by=SYSTEM, number=1, requester="r-1", subject="s")
    ticket = replay([opened])
    store.append("T-1", expected_version=0, events=[opened], snapshot=ticket)
    for event in (
        Event(ticket_id="T-1", at=T0, by=SYSTEM),
        Unregistered(ticket_id="T-1", at=T0, by=SYSTEM, comment_id="c", body="b"),
    ):
        with pytest.raises(ValidationError, match="register_event_type"):
            store.append(
                "T-1",
                expected_version=1,
                events=[event],
                snapshot=attrs.evolve(ticket, version=2),
            )
    assert store.events("T-1") == [opened]
