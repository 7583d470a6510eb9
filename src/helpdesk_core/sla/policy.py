"""SLA policies: which targets a ticket gets, on which calendar, with which warnings and
pauses, and how a reopened ticket's resolution clock behaves.

Policies are ordered; the first whose condition matches a ticket applies
(:func:`select_policy`). A policy is data: it is built in Python or from a dict
(:meth:`SlaPolicy.from_dict`), validated when built, and written back with
:meth:`SlaPolicy.to_dict`::

    {"name": "standard", "when": {"field": "type", "op": "eq", "value": "incident"},
     "calendar": "office",
     "targets": {"high": {"first_response": "1h", "resolution": "8h"},
                 "medium": {"first_response": "4h", "resolution": "3d"}},
     "warnings": [0.5, 0.75],
     "pauses": {"resolution": ["pending", "on_hold"]},
     "reopen": "continue"}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from helpdesk_core._numbers import real_number
from helpdesk_core._time import format_duration, to_timedelta
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import Metric, Priority, Requester, StatusCategory, Ticket
from helpdesk_core.model._validate import _ID_RE, MAX_ID_LENGTH
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.routing.fields import OpenHours

__all__ = [
    "DEFAULT_PAUSES",
    "DEFAULT_WARNINGS",
    "MAX_TARGET",
    "ReopenMode",
    "SlaPolicy",
    "select_policy",
]


class ReopenMode(StrEnum):
    """What a reopened ticket's ``resolution`` clock does: ``continue`` from the business
    time already used (the default), or ``restart`` with a new cycle."""

    CONTINUE = "continue"
    RESTART = "restart"


#: Status categories in which each metric pauses unless a policy says otherwise: only
#: ``resolution`` pauses (in ``pending`` and ``on_hold``); response metrics never pause.
DEFAULT_PAUSES: Mapping[Metric, frozenset[StatusCategory]] = MappingProxyType(
    {
        Metric.FIRST_RESPONSE: frozenset(),
        Metric.NEXT_RESPONSE: frozenset(),
        Metric.RESOLUTION: frozenset({StatusCategory.PENDING, StatusCategory.ON_HOLD}),
        Metric.PERIODIC_UPDATE: frozenset(),
    }
)

#: The longest target: a year of business time (on an office calendar, about four
#: calendar years; a deadline is worked out on the calendar's timeline of those years).
MAX_TARGET = timedelta(days=366)

#: Warning thresholds (fractions of the target) unless a policy says otherwise.
DEFAULT_WARNINGS: tuple[float, ...] = (0.75,)

_KEYS = ("name", "when", "calendar", "targets", "warnings", "pauses", "reopen")
_STOPPING = frozenset({StatusCategory.SOLVED, StatusCategory.CLOSED})


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _identifier(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"expected a name (non-empty text), got {value!r}", path=path)
    if len(value) > MAX_ID_LENGTH or not _ID_RE.match(value):
        raise ConfigError(
            f"invalid name {value!r}: use 1-{MAX_ID_LENGTH} letters, digits or _.:@+-",
            path=path,
        )
    return value


def _parse_enum(enum_cls: Any, value: Any, path: str) -> Any:
    try:
        return enum_cls.parse(value, field=path)
    except ValidationError as exc:
        raise ConfigError(exc.message, path=path) from exc


def parse_targets(value: Any, *, path: str = "targets") -> dict[Priority, dict[Metric, timedelta]]:
    """Targets per priority per metric from a mapping (names, ``P1``-``P4``, durations as
    timedelta, seconds, ``"4h"`` or ISO 8601). Every target is longer than zero and at most
    :data:`MAX_TARGET`."""
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"targets map priorities to {{metric: duration}}, got {type(value).__name__}",
            path=path,
        )
    out: dict[Priority, dict[Metric, timedelta]] = {}
    for raw_priority, per_metric in value.items():
        where = _join(path, str(raw_priority))
        priority: Priority = _parse_enum(Priority, raw_priority, where)
        if priority in out:
            raise ConfigError(f"priority {priority.value!r} is given twice", path=where)
        if not isinstance(per_metric, Mapping):
            raise ConfigError(
                f"expected a mapping of metric to duration, got {type(per_metric).__name__}",
                path=where,
            )
        metrics: dict[Metric, timedelta] = {}
        for raw_metric, raw_duration in per_metric.items():
            spot = _join(where, str(raw_metric))
            metric: Metric = _parse_enum(Metric, raw_metric, spot)
            if metric in metrics:
                raise ConfigError(f"metric {metric.value!r} is given twice", path=spot)
            try:
                duration = to_timedelta(raw_duration, field=spot)
            except ValidationError as exc:
                raise ConfigError(exc.message, path=spot) from exc
            if duration <= timedelta(0):
                raise ConfigError(f"a target must be longer than zero, got {duration}", path=spot)
            if duration > MAX_TARGET:
                raise ConfigError(
                    f"a target is at most {MAX_TARGET.days} days of business time, got "
                    f"{duration}; leave the metric out for no target (no clock)",
                    path=spot,
                )
            metrics[metric] = duration
        out[priority] = metrics
    return out


def parse_warnings(value: Any, *, path: str = "warnings") -> tuple[float, ...]:
    """Warning thresholds: fractions of the target, each in (0, 1), strictly increasing."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ConfigError(
            f"warnings is a list of fractions of the target, got {type(value).__name__}",
            path=path,
        )
    out: list[float] = []
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        real = real_number(item)  # NumPy's numbers and Fractions too, never a bool
        if real is None:
            raise ConfigError(f"a warning threshold is a number, got {item!r}", path=where)
        try:
            number = float(real)
        except OverflowError:  # an integer too large for a float: far beyond 1
            number = float("inf")
        if not 0.0 < number < 1.0:
            raise ConfigError(
                f"a warning threshold is a fraction of the target strictly between 0 and 1, "
                f"got {item!r}",
                path=where,
            )
        if out and number <= out[-1]:
            raise ConfigError(
                f"warning thresholds must be strictly increasing: {item!r} follows {out[-1]!r}",
                path=where,
            )
        out.append(number)
    return tuple(out)


def parse_pauses(value: Any, *, path: str = "pauses") -> dict[Metric, frozenset[StatusCategory]]:
    """Status categories that pause each metric; metrics not named keep
    :data:`DEFAULT_PAUSES`. ``solved`` and ``closed`` stop clocks and cannot pause them."""
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"pauses maps metrics to lists of status categories, got {type(value).__name__}",
            path=path,
        )
    out = dict(DEFAULT_PAUSES)
    seen: set[Metric] = set()
    for raw_metric, categories in value.items():
        where = _join(path, str(raw_metric))
        metric: Metric = _parse_enum(Metric, raw_metric, where)
        if metric in seen:
            raise ConfigError(f"metric {metric.value!r} is given twice", path=where)
        seen.add(metric)
        if isinstance(categories, str | StatusCategory):
            categories = (categories,)
        if not isinstance(categories, Iterable):
            raise ConfigError(
                f"expected a list of status categories, got {type(categories).__name__}",
                path=where,
            )
        parsed: set[StatusCategory] = set()
        for i, raw in enumerate(categories):
            category: StatusCategory = _parse_enum(StatusCategory, raw, f"{where}[{i}]")
            if category in _STOPPING:
                raise ConfigError(
                    f"{category.value!r} stops the clocks; it cannot pause them",
                    path=f"{where}[{i}]",
                )
            parsed.add(category)
        out[metric] = frozenset(parsed)
    return out


def _duration_text(value: timedelta) -> str | float:
    if value.microseconds:
        return value.total_seconds()
    return format_duration(value)


def _to_name(value: Any) -> str:
    return _identifier(value, "name")


def _to_calendar_name(value: Any) -> str:
    return _identifier(value, "calendar")


def _to_reopen(value: Any) -> ReopenMode:
    return ReopenMode(_reopen_value(value, "reopen"))


def _condition(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Condition):
        raise ConfigError(
            f"expected a Condition (routing.conditions), got {type(value).__name__}",
            path="when",
        )


@frozen(kw_only=True)
class SlaPolicy:
    """One SLA policy.

    ``condition`` decides which tickets it applies to (first match wins among ordered
    policies). ``targets`` gives, per priority, the target of each metric; a metric
    missing for a priority has no clock at that priority. Business time is counted on the
    calendar named ``calendar``. ``warnings`` are the thresholds (fractions of the target)
    at which an :class:`~helpdesk_core.model.SlaWarning` is recorded. ``pauses`` names the
    status categories in which each metric pauses (metrics not named keep
    :data:`DEFAULT_PAUSES`). ``reopen`` says whether the ``resolution`` clock of a
    reopened ticket continues (default) or restarts.
    """

    name: str = field(converter=_to_name)
    condition: Condition = field(factory=Condition.always, validator=_condition)
    targets: Mapping[Priority, Mapping[Metric, timedelta]] = field(
        converter=parse_targets, hash=False
    )
    calendar: str = field(converter=_to_calendar_name)
    warnings: tuple[float, ...] = field(default=DEFAULT_WARNINGS, converter=parse_warnings)
    pauses: Mapping[Metric, frozenset[StatusCategory]] = field(
        factory=dict, converter=parse_pauses, hash=False
    )
    reopen: ReopenMode = field(default=ReopenMode.CONTINUE, converter=_to_reopen)

    def target(self, priority: Priority | str, metric: Metric | str) -> timedelta | None:
        """The target of ``metric`` at ``priority``, or None (no clock for it)."""
        per_metric = self.targets.get(Priority.parse(priority))
        if per_metric is None:
            return None
        return per_metric.get(Metric.parse(metric))

    def metrics(self, priority: Priority | str) -> tuple[Metric, ...]:
        """The metrics with a target at ``priority``, in :class:`Metric` order."""
        per_metric = self.targets.get(Priority.parse(priority), {})
        return tuple(m for m in Metric if m in per_metric)

    def pauses_in(self, metric: Metric | str) -> frozenset[StatusCategory]:
        """The status categories in which ``metric`` pauses."""
        return self.pauses[Metric.parse(metric)]

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "sla_policy") -> SlaPolicy:
        """Build from the dict / JSON form (see the module docs). ``when`` is optional
        (always), so are ``warnings`` (``[0.75]``), ``pauses`` and ``reopen``. Any problem
        raises :class:`~helpdesk_core.errors.ConfigError` whose path names the bad part,
        e.g. ``sla_policies[1].targets.high.first_response``."""
        if isinstance(doc, SlaPolicy):
            return doc
        if not isinstance(doc, Mapping):
            raise ConfigError(f"an SLA policy is a mapping, got {type(doc).__name__}", path=path)
        unknown = sorted(str(k) for k in doc if k not in _KEYS)
        if unknown:
            raise ConfigError(
                f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(_KEYS)})", path=path
            )
        for key in ("name", "calendar", "targets"):
            if key not in doc:
                raise ConfigError("required key missing", path=_join(path, key))
        kwargs: dict[str, Any] = {
            "name": _identifier(doc["name"], _join(path, "name")),
            "calendar": _identifier(doc["calendar"], _join(path, "calendar")),
            "targets": parse_targets(doc["targets"], path=_join(path, "targets")),
        }
        if doc.get("when") is not None:
            kwargs["condition"] = Condition.from_dict(doc["when"], path=_join(path, "when"))
        if "warnings" in doc:
            kwargs["warnings"] = parse_warnings(doc["warnings"], path=_join(path, "warnings"))
        if "pauses" in doc:
            kwargs["pauses"] = parse_pauses(doc["pauses"], path=_join(path, "pauses"))
        if "reopen" in doc:
            kwargs["reopen"] = _reopen_value(doc["reopen"], _join(path, "reopen"))
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form; ``SlaPolicy.from_dict(p.to_dict()) == p``."""
        return {
            "name": self.name,
            "when": self.condition.to_dict(),
            "calendar": self.calendar,
            "targets": {
                priority.value: {
                    metric.value: _duration_text(per_metric[metric])
                    for metric in Metric
                    if metric in per_metric
                }
                for priority in Priority
                if (per_metric := self.targets.get(priority)) is not None
            },
            "warnings": list(self.warnings),
            "pauses": {
                metric.value: sorted(c.value for c in self.pauses[metric]) for metric in Metric
            },
            "reopen": self.reopen.value,
        }


def _reopen_value(value: Any, path: str) -> str:
    if isinstance(value, ReopenMode):
        return value.value
    if isinstance(value, str) and value.strip().lower() in ("continue", "restart"):
        return value.strip().lower()
    raise ConfigError(f"reopen is 'continue' or 'restart', got {value!r}", path=path)


def select_policy(
    policies: Iterable[SlaPolicy],
    ticket: Ticket,
    *,
    requester: Requester | None = None,
    now: datetime | None = None,
    calendars: Mapping[str, OpenHours] | None = None,
) -> SlaPolicy | None:
    """The first policy whose condition matches the ticket, or None: no SLA applies.

    ``requester``, ``now`` and ``calendars`` feed the conditions' ``requester.*`` and
    ``business_hours.<calendar>`` tests.
    """
    if not isinstance(ticket, Ticket):
        raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
    if isinstance(policies, str | bytes) or not isinstance(policies, Iterable):
        raise ValidationError("policies is a list of SlaPolicy", field="policies")
    if requester is not None and not isinstance(requester, Requester):
        raise ValidationError(
            f"expected a Requester or None, got {type(requester).__name__}", field="requester"
        )
    for policy in policies:
        if not isinstance(policy, SlaPolicy):
            raise ValidationError(
                f"expected SlaPolicy values, got {type(policy).__name__}", field="policies"
            )
        if policy.condition.matches(ticket, requester=requester, now=now, calendars=calendars):
            return policy
    return None
