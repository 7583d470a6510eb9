"""Lifecycles: a ticket's statuses and the named transitions between them, as data.

A :class:`Lifecycle` is a table: statuses (each in a :class:`StatusCategory`), an initial
status, and transitions ``from -> to`` with optional guards and an optional automatic
trigger. It is validated when built (unknown or unreachable statuses, no closed status,
a status with no way to a closed one, clashing transition names, unknown guards:
:class:`~helpdesk_core.errors.ConfigError` naming the bad part), loads from and dumps
to plain dicts, and draws itself as a Mermaid state diagram. Closed-category statuses are
terminal.

Automatic moves are data too: a transition whose ``automatic`` names a trigger
(``requester_public_reply``, ``agent_public_reply``, ``solved_timeout``) is the one the
service applies when that happens (:meth:`Lifecycle.automatic_transition`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import cache
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from helpdesk_core._time import to_timedelta
from helpdesk_core.errors import ConfigError, NotFound, ValidationError
from helpdesk_core.model import StatusCategory
from helpdesk_core.model import _validate as v
from helpdesk_core.model.enums import to_status_category
from helpdesk_core.workflow import _config as cfg
from helpdesk_core.workflow._calendar import MAX_BUSINESS_DAYS
from helpdesk_core.workflow._table import AUTOMATIC_TRIGGERS, Step, Table, build_table
from helpdesk_core.workflow.guards import Guard, lookup_guard

__all__ = ["ANY", "AUTOMATIC_TRIGGERS", "Lifecycle", "Status", "Step", "Transition"]

#: ``from_`` value meaning "any status not in the closed category" (except the target).
ANY = "*"

_ROOT = "lifecycle"


@frozen(kw_only=True)
class Status:
    """A status of a lifecycle and the category it belongs to."""

    name: str = field(validator=v.identifier)
    category: StatusCategory = field(converter=to_status_category)


def _to_sources(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise ValidationError(
            f"expected a status name, a list of them or '*', got {type(value).__name__}",
            field="from",
        )
    return tuple(value)


def _sources(instance: Any, attribute: Any, value: tuple[str, ...]) -> None:
    if not value:
        raise ValidationError("a transition needs at least one source status", field="from")
    if ANY in value and len(value) > 1:
        raise ValidationError("'*' (any non-closed status) stands alone", field="from")
    for i, name in enumerate(value):
        if name != ANY and (not isinstance(name, str) or not v._ID_RE.match(name)):
            raise ValidationError(f"invalid status name {name!r}", field=f"from[{i}]")


def _to_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return v.as_tuple(value, what="a list of names")


def _guard_list(instance: Any, attribute: Any, value: tuple[str, ...]) -> None:
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"invalid guard name {name!r}", field=f"guards[{i}]")


@frozen(kw_only=True)
class Transition:
    """A named move ``from_ -> to``. ``from_`` is a tuple of status names, or ``"*"`` for
    every status outside the closed category (except ``to`` itself). ``guards`` name the
    checks it must pass; ``automatic`` names the trigger that applies it by itself."""

    name: str = field(validator=v.identifier)
    from_: tuple[str, ...] = field(converter=_to_sources, validator=_sources)
    to: str = field(validator=v.identifier)
    guards: tuple[str, ...] = field(default=(), converter=_to_names, validator=_guard_list)
    automatic: str | None = field(default=None, validator=v.optional_identifier)

    @property
    def from_any(self) -> bool:
        """True when the transition starts from any non-closed status."""
        return self.from_ == (ANY,)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"name", "from", "to", "guards", "automatic"}`` (``automatic``
        only when set: TOML has no null)."""
        out: dict[str, Any] = {
            "name": self.name,
            "from": ANY if self.from_any else list(self.from_),
            "to": self.to,
            "guards": list(self.guards),
        }
        if self.automatic is not None:
            out["automatic"] = self.automatic
        return out


def _to_window(value: Any) -> timedelta | None:
    if value is None:
        return None
    try:
        return to_timedelta(value, field="reopen_window")
    except ValidationError as exc:
        raise ConfigError(exc.message, path=f"{_ROOT}.reopen_window") from exc


def _days(instance: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_BUSINESS_DAYS
    ):
        raise ConfigError(
            f"auto_close_after is a whole number of business days from 0 to "
            f"{MAX_BUSINESS_DAYS}, or None, got {value!r}",
            path=f"{_ROOT}.auto_close_after",
        )


def _to_status_tuple(value: Iterable[Status]) -> tuple[Status, ...]:
    return v.as_tuple(value, field="statuses", what="a list of statuses")


def _to_transition_tuple(value: Iterable[Transition]) -> tuple[Transition, ...]:
    return v.as_tuple(value, field="transitions", what="a list of transitions")


def _to_guards(value: Any) -> Mapping[str, Guard]:
    guards = v.as_dict(value, field="guards")
    for name, fn in guards.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"a guard needs a name, got {name!r}", path=f"{_ROOT}.guards")
        if not callable(fn):
            raise ConfigError(
                f"guard {name!r} is not callable: {fn!r:.80}", path=f"{_ROOT}.guards.{name}"
            )
    return MappingProxyType(guards)


@frozen(kw_only=True)
class Lifecycle:
    """A declarative state machine for tickets (see the module docs).

    ``reopen_window`` bounds the ``within_reopen_window`` guard (None: no limit);
    ``auto_close_after`` is the number of business days after which a solved ticket closes
    through its ``solved_timeout`` transition (None: never), counted on the calendar named
    ``calendar`` (None: calendar days). ``guards`` adds guard functions for this lifecycle
    only (they are not part of its data: ``to_dict`` leaves them out).
    """

    name: str = field(default="default", validator=v.identifier)
    statuses: tuple[Status, ...] = field(converter=_to_status_tuple)
    initial: str = field(validator=v.identifier)
    transitions: tuple[Transition, ...] = field(converter=_to_transition_tuple)
    reopen_window: timedelta | None = field(default=timedelta(days=7), converter=_to_window)
    auto_close_after: int | None = field(default=3, validator=_days)
    calendar: str | None = field(default=None, validator=v.optional_identifier)
    guards: Mapping[str, Guard] = field(
        factory=dict, converter=_to_guards, eq=False, hash=False, repr=False
    )
    _table: Table = field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        for i, item in enumerate(self.statuses):
            if not isinstance(item, Status):
                raise ConfigError(
                    f"expected a Status, got {type(item).__name__}", path=f"{_ROOT}.statuses[{i}]"
                )
        for i, move in enumerate(self.transitions):
            if not isinstance(move, Transition):
                raise ConfigError(
                    f"expected a Transition, got {type(move).__name__}",
                    path=f"{_ROOT}.transitions[{i}]",
                )
        table = build_table(
            statuses=self.statuses,
            initial=self.initial,
            transitions=self.transitions,
            guards=self.guards,
            root=_ROOT,
        )
        object.__setattr__(self, "_table", table)

    # -- queries ----------------------------------------------------------------------------

    @property
    def status_names(self) -> tuple[str, ...]:
        """The status names, in declaration order."""
        return tuple(s.name for s in self.statuses)

    def has_status(self, name: str) -> bool:
        """Whether ``name`` is a status of this lifecycle."""
        v.require(name, str, "a name", field="status")
        return name in self._table.statuses

    def status(self, name: str) -> Status:
        """The status called ``name`` (NotFound if there is none)."""
        v.require(name, str, "a name", field="status")
        found = self._table.statuses.get(name)
        if found is None:
            raise NotFound("status", name, f"lifecycle {self.name!r} has no status {name!r}")
        return found

    def category(self, name: str) -> StatusCategory:
        """The category of status ``name``."""
        return self.status(name).category

    def is_terminal(self, name: str) -> bool:
        """True for closed-category statuses: no transition leaves them."""
        return self.category(name) is StatusCategory.CLOSED

    def sources(self, transition: Transition) -> tuple[str, ...]:
        """The statuses ``transition`` starts from (``"*"`` expanded)."""
        v.require(transition, Transition, "a Transition", field="transition")
        for i, t in enumerate(self.transitions):
            if t is transition or t == transition:
                return self._table.sources[i]
        raise NotFound("transition", transition.name)

    def transitions_from(self, status: str) -> tuple[Transition, ...]:
        """The transitions leaving ``status``, in declaration order (none for a closed
        status; NotFound for a status the lifecycle lacks)."""
        if not isinstance(status, str):
            raise ValidationError(
                f"a status is a name, got {type(status).__name__}", field="status"
            )
        found = self._table.outgoing.get(status)
        if found is None:
            raise NotFound("status", status, f"lifecycle {self.name!r} has no status {status!r}")
        return found

    def allowed(self, status: str) -> tuple[str, ...]:
        """Names of the transitions leaving ``status`` (guards not evaluated; NotFound for
        a status the lifecycle lacks)."""
        return tuple(t.name for t in self.transitions_from(status))

    def find(self, status: str, name_or_target: str) -> Transition | None:
        """The transition from ``status`` named ``name_or_target``, else the first one
        from ``status`` to the status of that name; None if neither exists."""
        v.require(status, str, "a name", field="status")
        v.require(name_or_target, str, "a name", field="name_or_target")
        found = self._table.steps.get((status, name_or_target))
        return None if found is None else found.transition

    def step(self, status: str, name_or_target: str) -> Step | None:
        """Like :meth:`find`, with the target's category and the guard functions resolved
        (guard names resolve when the lifecycle is built)."""
        v.require(status, str, "a name", field="status")
        v.require(name_or_target, str, "a name", field="name_or_target")
        return self._table.steps.get((status, name_or_target))

    def automatic_transition(self, trigger: str, status: str) -> Transition | None:
        """The transition that ``trigger`` applies by itself in ``status``, if any."""
        v.require(trigger, str, "a name", field="trigger")
        v.require(status, str, "a name", field="status")
        return self._table.by_trigger.get((trigger, status))

    def guard(self, name: str) -> Guard:
        """The guard function called ``name`` (this lifecycle's own guards first, then the
        registry as it is now)."""
        found = lookup_guard(name, self.guards)
        if found is None:
            raise NotFound("guard", name)
        return found

    # -- data -------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> Lifecycle:
        """The default lifecycle (the same shared value on every call)."""
        return _default()

    def to_dict(self) -> dict[str, Any]:
        """Plain data; ``Lifecycle.from_dict(lc.to_dict()) == lc``. It holds no null,
        which TOML has not: ``calendar`` is left out when not set, and no reopen limit or
        no auto-close is written ``"unlimited"`` or ``"never"``."""
        window = self.reopen_window
        out: dict[str, Any] = {
            "name": self.name,
            "initial": self.initial,
            "statuses": [{"name": s.name, "category": s.category.value} for s in self.statuses],
            "transitions": [t.to_dict() for t in self.transitions],
            "reopen_window": "unlimited" if window is None else _seconds(window),
            "auto_close_after": "never" if self.auto_close_after is None else self.auto_close_after,
        }
        if self.calendar is not None:
            out["calendar"] = self.calendar
        return out

    @classmethod
    def from_dict(
        cls,
        doc: Any,
        *,
        path: str = _ROOT,
        guards: Mapping[str, Guard] | None = None,
    ) -> Lifecycle:
        """Build from plain data (see :meth:`to_dict`). ``reopen_window`` takes seconds,
        ``"7d"`` text or ISO 8601; ``from`` takes a name, a list or ``"*"``. TOML has no
        None: there ``reopen_window = "unlimited"`` and ``auto_close_after = "never"`` say
        it (either is read as None wherever the document comes from). A problem raises
        ConfigError whose path starts with ``path``."""
        data = cfg.mapping(doc, path, "a lifecycle")
        cfg.check_keys(
            data,
            path,
            required=("statuses", "initial", "transitions"),
            optional=("name", "reopen_window", "auto_close_after", "calendar"),
        )
        statuses = [
            _status_from(item, f"{path}.statuses[{i}]")
            for i, item in enumerate(cfg.sequence(data["statuses"], f"{path}.statuses", "statuses"))
        ]
        transitions = [
            _transition_from(item, f"{path}.transitions[{i}]")
            for i, item in enumerate(
                cfg.sequence(data["transitions"], f"{path}.transitions", "transitions")
            )
        ]
        options = ("name", "reopen_window", "auto_close_after", "calendar")
        kwargs: dict[str, Any] = {k: data[k] for k in options if k in data}
        for key, none in (("reopen_window", "unlimited"), ("auto_close_after", "never")):
            if kwargs.get(key) == none:
                kwargs[key] = None
        try:
            with cfg.at(_ROOT):
                return cls(
                    statuses=statuses,
                    initial=data["initial"],
                    transitions=transitions,
                    guards=guards or {},
                    **kwargs,
                )
        except ConfigError as exc:
            raise cfg.rebased(exc, _ROOT, path) from exc

    def to_mermaid(self) -> str:
        """The lifecycle as a Mermaid ``stateDiagram-v2`` (see docs/workflow.md)."""
        from helpdesk_core.workflow._mermaid import mermaid

        return mermaid(self)


def _seconds(delta: timedelta) -> int | float:
    if delta.microseconds == 0:
        return delta.days * 86400 + delta.seconds
    return delta.total_seconds()


def _status_from(doc: Any, path: str) -> Status:
    data = cfg.mapping(doc, path, "a status")
    cfg.check_keys(data, path, required=("name", "category"))
    with cfg.at(path):
        return Status(name=data["name"], category=data["category"])


def _transition_from(doc: Any, path: str) -> Transition:
    data = cfg.mapping(doc, path, "a transition")
    cfg.check_keys(data, path, required=("name", "from", "to"), optional=("guards", "automatic"))
    guards = cfg.text_list(data.get("guards", ()), f"{path}.guards", "guard names")
    with cfg.at(path):
        return Transition(
            name=data["name"],
            from_=data["from"],
            to=data["to"],
            guards=guards,
            automatic=data.get("automatic"),
        )


@cache
def _default() -> Lifecycle:
    active = ("new", "open", "pending", "on_hold")
    return Lifecycle(
        name="default",
        statuses=(
            Status(name="new", category=StatusCategory.NEW),
            Status(name="open", category=StatusCategory.OPEN),
            Status(name="pending", category=StatusCategory.PENDING),
            Status(name="on_hold", category=StatusCategory.ON_HOLD),
            Status(name="solved", category=StatusCategory.SOLVED),
            Status(name="closed", category=StatusCategory.CLOSED),
            Status(name="cancelled", category=StatusCategory.CLOSED),
        ),
        initial="new",
        transitions=(
            Transition(name="open", from_="new", to="open", automatic="agent_public_reply"),
            Transition(name="pend", from_="open", to="pending"),
            Transition(name="hold", from_="open", to="on_hold"),
            Transition(
                name="resume", from_="pending", to="open", automatic="requester_public_reply"
            ),
            Transition(name="resume", from_="on_hold", to="open"),
            Transition(
                name="solve",
                from_=active,
                to="solved",
                guards=("resolution_note", "public_response_or_first_contact"),
            ),
            Transition(
                name="reopen", from_="solved", to="open", guards=("within_reopen_window",)
            ),
            Transition(name="close", from_="solved", to="closed", automatic="solved_timeout"),
            Transition(name="cancel", from_=ANY, to="cancelled", guards=("reason_given",)),
        ),
    )
