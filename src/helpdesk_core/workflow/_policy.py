"""Escalation policies as data (private; the public names live in ``workflow.escalation``).

A policy is a name and triggers; a trigger says *when* (``on`` and its parameters, plus an
optional condition ``when``) and *what* (actions). Everything is validated when built and
round-trips through plain dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Any, ClassVar, TypeAlias

import attrs
from attrs import field, frozen

from helpdesk_core._time import to_timedelta
from helpdesk_core.errors import ConfigError, NotFound, ValidationError
from helpdesk_core.model import Metric, Priority
from helpdesk_core.model import _validate as v
from helpdesk_core.model.enums import to_priority
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.workflow import _config as cfg

__all__ = [
    "Action",
    "EscalateTier",
    "EscalationPolicy",
    "Notify",
    "RaiseLevel",
    "SetPriority",
    "Trigger",
    "TriggerKind",
    "action_from_dict",
]


class TriggerKind(StrEnum):
    """What a trigger watches."""

    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    TIME_IN_TIER = "time_in_tier"
    REOPENS = "reopens"
    PRIORITY = "priority"


@frozen(kw_only=True)
class EscalateTier:
    """Functional escalation: to the next tier, or to ``to_tier`` (``allow_skip`` lets it
    jump over tiers)."""

    kind: ClassVar[str] = "escalate_tier"
    to_tier: str | None = field(default=None, validator=v.optional_identifier)
    allow_skip: bool = field(default=False, validator=v.boolean)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``to_tier`` only when set: TOML has no null)."""
        out: dict[str, Any] = {"action": self.kind}
        if self.to_tier is not None:
            out["to_tier"] = self.to_tier
        out["allow_skip"] = self.allow_skip
        return out


@frozen(kw_only=True)
class RaiseLevel:
    """Hierarchical escalation: raise the level and notify its contact."""

    kind: ClassVar[str] = "raise_level"

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"action": self.kind}


@frozen(kw_only=True)
class SetPriority:
    """Change the ticket's priority."""

    kind: ClassVar[str] = "set_priority"
    priority: Priority = field(converter=to_priority)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"action": self.kind, "priority": self.priority.value}


@frozen(kw_only=True)
class Notify:
    """Ask for a notification to ``contact``: a contact id, or ``"team_lead"`` /
    ``"manager"`` for the first / second contact of the ticket's team."""

    kind: ClassVar[str] = "notify"
    contact: str = field(validator=v.identifier)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"action": self.kind, "contact": self.contact}


Action: TypeAlias = EscalateTier | RaiseLevel | SetPriority | Notify
_ACTIONS: dict[str, type[Action]] = {
    cls.kind: cls for cls in (EscalateTier, RaiseLevel, SetPriority, Notify)
}


def action_from_dict(doc: Any, *, path: str = "action") -> Action:
    """An action from ``{"action": "escalate_tier", ...}``."""
    data = cfg.mapping(doc, path, "an action")
    name = data.get("action")
    cls = _ACTIONS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ConfigError(
            f"unknown action {name!r} (actions: {', '.join(_ACTIONS)})", path=f"{path}.action"
        )
    params = [a.name for a in attrs.fields(cls) if a.init]
    needed = tuple(
        a.name for a in attrs.fields(cls) if a.init and a.default is attrs.NOTHING
    )
    cfg.check_keys(
        data, path, required=("action", *needed), optional=[p for p in params if p not in needed]
    )
    args = {k: val for k, val in data.items() if k != "action"}
    with cfg.relative(path):
        return cls(**args)


# Which parameters each kind takes (the rest must stay unset).
_PARAMS: dict[TriggerKind, tuple[str, ...]] = {
    TriggerKind.SLA_WARNING: ("metric",),
    TriggerKind.SLA_BREACH: ("metric",),
    TriggerKind.TIME_IN_TIER: ("after", "calendar"),
    TriggerKind.REOPENS: ("count",),
    TriggerKind.PRIORITY: ("priorities",),
}
_REQUIRED: dict[TriggerKind, tuple[str, ...]] = {
    TriggerKind.SLA_WARNING: ("metric",),
    TriggerKind.SLA_BREACH: ("metric",),
    TriggerKind.TIME_IN_TIER: ("after",),
    TriggerKind.REOPENS: ("count",),
    TriggerKind.PRIORITY: ("priorities",),
}
_ALL_PARAMS = ("metric", "after", "calendar", "count", "priorities")


def _to_kind(value: Any) -> TriggerKind:
    try:
        return TriggerKind(value)
    except ValueError:
        raise ValidationError(
            f"unknown trigger {value!r} (choose from {', '.join(k.value for k in TriggerKind)})",
            field="on",
        ) from None


def _to_metric(value: Any) -> Metric | None:
    return None if value is None else Metric.parse(value, field="metric")


#: The longest ``after`` of a trigger: a year of waiting, as an SLA target's longest.
MAX_AFTER = timedelta(days=366)


def _to_after(value: Any) -> timedelta | None:
    return None if value is None else to_timedelta(value, field="after")


def _to_priorities(value: Any) -> tuple[Priority, ...]:
    if isinstance(value, str | Priority):
        value = (value,)
    items = v.as_tuple(value, field="priorities", what="a list of priorities")
    return tuple(Priority.parse(p, field="priorities") for p in items)


def _to_condition(value: Any) -> Condition | None:
    return None if value is None else Condition.from_dict(value, path="when")


def _to_actions(value: Any) -> tuple[Action, ...]:
    return tuple(
        action_from_dict(item, path=f"actions[{i}]") if isinstance(item, Mapping) else item
        for i, item in enumerate(v.as_tuple(value, field="actions", what="a list of actions"))
    )


def _unset(value: Any) -> bool:
    return value is None or value == ()


@frozen(kw_only=True)
class Trigger:
    """When to escalate and how. ``on`` picks what is watched:

    * ``sla_warning`` / ``sla_breach`` with ``metric``: the ticket's clock for that metric
      warned / breached (once per clock cycle);
    * ``time_in_tier`` with ``after`` (and optionally ``calendar``, for business time): the
      ticket has been in its tier that long;
    * ``reopens`` with ``count``: the ticket was reopened at least ``count`` times;
    * ``priority`` with ``priorities``: the ticket has one of these priorities.

    ``when`` (a routing :class:`~helpdesk_core.routing.Condition`) narrows it further.
    """

    name: str = field(validator=v.identifier)
    on: TriggerKind = field(converter=_to_kind)
    actions: tuple[Action, ...] = field(default=(), converter=_to_actions)
    metric: Metric | None = field(default=None, converter=_to_metric)
    after: timedelta | None = field(default=None, converter=_to_after)
    calendar: str | None = field(default=None, validator=v.optional_identifier)
    count: int | None = field(default=None)
    priorities: tuple[Priority, ...] = field(default=(), converter=_to_priorities)
    when: Condition | None = field(default=None, converter=_to_condition)

    def __attrs_post_init__(self) -> None:
        for i, action in enumerate(self.actions):
            if not isinstance(action, EscalateTier | RaiseLevel | SetPriority | Notify):
                raise ConfigError(
                    f"trigger {self.name!r}: expected an action, got {type(action).__name__}",
                    path=f"actions[{i}]",
                )
        if not self.actions:
            raise ConfigError(f"trigger {self.name!r} has no action", path="actions")
        params = _PARAMS[self.on]
        for name in _ALL_PARAMS:
            value = getattr(self, name)
            if name in _REQUIRED[self.on] and _unset(value):
                raise ConfigError(
                    f"trigger {self.name!r} on {self.on.value} needs {name!r}", path=name
                )
            if name not in params and not _unset(value):
                raise ConfigError(
                    f"trigger {self.name!r} on {self.on.value} takes no {name!r} "
                    f"(it takes {', '.join(params)})",
                    path=name,
                )
        count = self.count
        bad = isinstance(count, bool) or not isinstance(count, int) or count < 1
        if count is not None and bad:
            raise ConfigError(
                f"trigger {self.name!r}: count is a whole number >= 1, got {count!r}",
                path="count",
            )
        if self.after is not None and self.after <= timedelta(0):
            raise ConfigError(f"trigger {self.name!r}: 'after' must be positive", path="after")
        if self.after is not None and self.after > MAX_AFTER:
            raise ConfigError(
                f"trigger {self.name!r}: 'after' is at most {MAX_AFTER.days} days, got "
                f"{self.after.days} days (leave the trigger out for never)",
                path="after",
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (only the parameters of its kind)."""
        out: dict[str, Any] = {"name": self.name, "on": self.on.value}
        if self.metric is not None:
            out["metric"] = self.metric.value
        if self.after is not None:
            out["after"] = _seconds(self.after)
        if self.calendar is not None:
            out["calendar"] = self.calendar
        if self.count is not None:
            out["count"] = self.count
        if self.priorities:
            out["priorities"] = [p.value for p in self.priorities]
        if self.when is not None:
            out["when"] = self.when.to_dict()
        out["actions"] = [a.to_dict() for a in self.actions]
        return out

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "trigger") -> Trigger:
        """Build from :meth:`to_dict` data; ConfigError with the path of the bad part."""
        data = cfg.mapping(doc, path, "a trigger")
        cfg.check_keys(
            data, path, required=("name", "on", "actions"), optional=(*_ALL_PARAMS, "when")
        )
        actions = [
            action_from_dict(item, path=f"{path}.actions[{i}]")
            for i, item in enumerate(cfg.sequence(data["actions"], f"{path}.actions", "actions"))
        ]
        when = data.get("when")
        condition = None if when is None else Condition.from_dict(when, path=f"{path}.when")
        args = {k: data[k] for k in _ALL_PARAMS if k in data}
        with cfg.relative(path):
            return cls(name=data["name"], on=data["on"], actions=actions, when=condition, **args)


def _seconds(delta: timedelta) -> int | float:
    if delta.microseconds == 0:
        return delta.days * 86400 + delta.seconds
    return delta.total_seconds()


def _to_triggers(value: Iterable[Trigger]) -> tuple[Trigger, ...]:
    return v.as_tuple(value, field="triggers", what="a list of triggers")


@frozen(kw_only=True)
class EscalationPolicy:
    """A named, ordered set of triggers (names unique within the policy)."""

    name: str = field(validator=v.identifier)
    triggers: tuple[Trigger, ...] = field(default=(), converter=_to_triggers)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for i, trigger in enumerate(self.triggers):
            if not isinstance(trigger, Trigger):
                raise ConfigError(
                    f"policy {self.name!r}: expected a Trigger, got {type(trigger).__name__}",
                    path=f"triggers[{i}]",
                )
            if trigger.name in seen:
                raise ConfigError(
                    f"policy {self.name!r} has two triggers named {trigger.name!r}",
                    path=f"triggers[{i}].name",
                )
            seen.add(trigger.name)

    def __iter__(self) -> Iterator[Trigger]:
        return iter(self.triggers)

    def trigger(self, name: str) -> Trigger:
        """The trigger called ``name``; NotFound if there is none."""
        for trigger in self.triggers:
            if trigger.name == name:
                return trigger
        raise NotFound("trigger", name, f"policy {self.name!r} has no trigger {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"name", "triggers": [...]}``."""
        return {"name": self.name, "triggers": [t.to_dict() for t in self.triggers]}

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "policy") -> EscalationPolicy:
        """Build from :meth:`to_dict` data; ConfigError with the path of the bad part."""
        data = cfg.mapping(doc, path, "an escalation policy")
        cfg.check_keys(data, path, required=("name",), optional=("triggers",))
        triggers = [
            Trigger.from_dict(item, path=f"{path}.triggers[{i}]")
            for i, item in enumerate(
                cfg.sequence(data.get("triggers", []), f"{path}.triggers", "triggers")
            )
        ]
        with cfg.relative(path):
            return cls(name=data["name"], triggers=triggers)
