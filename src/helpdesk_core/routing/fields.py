"""The field schema of the condition language: which fields a condition may test, the type
of each, and which operators fit it.

Field names are ticket fields (``category``, ``priority`` ...), custom fields
(``fields.<name>``), requester attributes (``requester.vip``, ``requester.<attribute>``)
and business-hours state (``business_hours.<calendar name>``). :func:`field_spec` resolves a
name to its :class:`FieldSpec`; :func:`field_table` lists the fixed ones (for docs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, Protocol

from attrs import field, frozen

from helpdesk_core._time import ensure_aware
from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Channel,
    Impact,
    Priority,
    Requester,
    StatusCategory,
    Ticket,
    Urgency,
)

__all__ = [
    "EQUALITY_OPS",
    "OPS",
    "ORDER_OPS",
    "Env",
    "FieldKind",
    "FieldSpec",
    "OpenHours",
    "field_spec",
    "field_table",
    "known_field_names",
]

#: Every operator of the condition language.
OPS = ("eq", "ne", "in", "not_in", "contains", "matches", "gt", "ge", "lt", "le", "exists")
#: Operators that compare a value with an order.
ORDER_OPS = frozenset({"gt", "ge", "lt", "le"})
#: Operators whose matching values can be looked up in an index.
EQUALITY_OPS = frozenset({"eq", "in"})

_NAME_RE = re.compile(r"^[A-Za-z0-9_.:@+\-]+\Z")


class OpenHours(Protocol):
    """What a business-hours test needs of a calendar (``BusinessCalendar`` has it)."""

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` falls inside opening hours."""
        ...


class FieldKind(StrEnum):
    """The type of a field, which decides the operators and values that fit it."""

    TEXT = "text"
    ENUM = "enum"
    INT = "int"
    BOOL = "bool"
    TAGS = "tags"
    ANY = "any"


_KIND_OPS: dict[FieldKind, frozenset[str]] = {
    FieldKind.TEXT: frozenset({"eq", "ne", "in", "not_in", "contains", "matches", "exists"}),
    FieldKind.ENUM: frozenset({"eq", "ne", "in", "not_in", "exists"}),
    FieldKind.INT: frozenset({"eq", "ne", "in", "not_in", "gt", "ge", "lt", "le", "exists"}),
    FieldKind.BOOL: frozenset({"eq", "ne", "exists"}),
    FieldKind.TAGS: frozenset({"eq", "ne", "in", "not_in", "contains", "matches", "exists"}),
    FieldKind.ANY: frozenset(OPS),
}


class Env:
    """What a condition sees besides the ticket (built once per evaluation)."""

    __slots__ = ("calendars", "now", "requester")

    def __init__(
        self,
        requester: Requester | None = None,
        now: datetime | None = None,
        calendars: Mapping[str, OpenHours] | None = None,
    ) -> None:
        self.requester = requester
        self.now = now
        self.calendars = calendars


Getter = Callable[[Ticket, Env], Any]


@frozen(kw_only=True)
class FieldSpec:
    """One testable field.

    ``kind`` is its type; ``ops`` the operators that fit; ``choices`` the allowed values of
    an enum field and ``aliases`` other spellings of them (``P1`` for ``critical``);
    ``order`` maps each enum value to its rank for ``gt``/``ge``/``lt``/``le`` (a higher
    rank is "more": more urgent, higher impact), empty when the enum has no order;
    ``attr`` the ticket attribute read, when the field is a plain ticket attribute;
    ``indexable`` is false for fields that cannot be read up front without risk (business
    hours need ``now`` and the calendar); ``get`` reads the value from a ticket and an
    :class:`Env`.
    """

    name: str
    kind: FieldKind
    description: str = ""
    choices: tuple[str, ...] = ()
    order: Mapping[str, int] = field(factory=dict, hash=False)
    aliases: Mapping[str, str] = field(factory=dict, hash=False)
    attr: str | None = None
    indexable: bool = True
    get: Getter = field(eq=False, hash=False, repr=False)

    @property
    def ops(self) -> frozenset[str]:
        """The operators that fit this field."""
        ops = _KIND_OPS[self.kind]
        if self.kind is FieldKind.ENUM and self.order:
            ops = ops | ORDER_OPS
        return ops


def _ticket(name: str, kind: FieldKind, description: str, **extra: Any) -> FieldSpec:
    getter = attrgetter(name)
    return FieldSpec(
        name=name,
        kind=kind,
        description=description,
        attr=name,
        get=lambda t, e: getter(t),
        **extra,
    )


def _enum(
    name: str,
    enum: type[StrEnum],
    description: str,
    order: Mapping[str, int] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> FieldSpec:
    return _ticket(
        name,
        FieldKind.ENUM,
        description,
        choices=tuple(m.value for m in enum),
        order=dict(order or {}),
        aliases=dict(aliases or {}),
    )


# Priority: a higher order is more urgent, so ``priority ge high`` is "high or critical".
_PRIORITY_ORDER = {p.value: 3 - p.rank for p in Priority}
_PRIORITY_ALIASES = {p.label.lower(): p.value for p in Priority}
_LEVEL_ORDER = {"low": 0, "medium": 1, "high": 2}

_TICKET_FIELDS: tuple[FieldSpec, ...] = (
    _ticket("subject", FieldKind.TEXT, "the ticket's subject line"),
    _ticket("description", FieldKind.TEXT, "the ticket's description"),
    _enum("channel", Channel, "where the ticket came in"),
    _ticket("category", FieldKind.TEXT, "the ticket's category (may be missing)"),
    _ticket("type", FieldKind.TEXT, "incident, service request, problem ..."),
    _enum(
        "priority",
        Priority,
        "priority; ordered by urgency (gt = more urgent)",
        _PRIORITY_ORDER,
        _PRIORITY_ALIASES,
    ),
    _enum("impact", Impact, "ITIL impact; ordered low < medium < high", _LEVEL_ORDER),
    _enum("urgency", Urgency, "ITIL urgency; ordered low < medium < high", _LEVEL_ORDER),
    _ticket("tags", FieldKind.TAGS, "the ticket's tags (a set)"),
    _ticket("asset", FieldKind.TEXT, "asset / device identifier (may be missing)"),
    _ticket("organization", FieldKind.TEXT, "the requester's organization on the ticket"),
    _ticket("team", FieldKind.TEXT, "the team (queue) id (may be missing)"),
    _ticket("tier", FieldKind.TEXT, "the support tier id (may be missing)"),
    _ticket("status", FieldKind.TEXT, "the lifecycle status"),
    _enum("status_category", StatusCategory, "the status's category"),
    _ticket("assignee", FieldKind.TEXT, "the assigned agent's id (may be missing)"),
    _ticket("owner", FieldKind.TEXT, "the owning agent's id (may be missing)"),
    _ticket("escalation_level", FieldKind.INT, "hierarchical escalation level (0, 1, 2 ...)"),
    _ticket("reopen_count", FieldKind.INT, "how often the ticket was reopened"),
    _ticket("lifecycle", FieldKind.TEXT, "the lifecycle's name"),
    _ticket("number", FieldKind.INT, "the human ticket number"),
)


def _requester_attr(name: str) -> Getter:
    def get(t: Ticket, e: Env) -> Any:
        r = e.requester
        return None if r is None else getattr(r, name)

    return get


def _requester_custom(key: str) -> Getter:
    def get(t: Ticket, e: Env) -> Any:
        r = e.requester
        return None if r is None else r.attributes.get(key)

    return get


_REQUESTER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        name="requester.vip",
        kind=FieldKind.BOOL,
        description="the requester is a VIP",
        get=_requester_attr("vip"),
    ),
    FieldSpec(
        name="requester.organization",
        kind=FieldKind.TEXT,
        description="the requester's organization",
        get=_requester_attr("organization"),
    ),
    FieldSpec(
        name="requester.email",
        kind=FieldKind.TEXT,
        description="the requester's email address",
        get=_requester_attr("email"),
    ),
    FieldSpec(
        name="requester.language",
        kind=FieldKind.TEXT,
        description="the requester's language code",
        get=_requester_attr("language"),
    ),
    FieldSpec(
        name="requester.name",
        kind=FieldKind.TEXT,
        description="the requester's name",
        get=_requester_attr("name"),
    ),
    FieldSpec(
        name="requester.id",
        kind=FieldKind.TEXT,
        description="the requester's id",
        get=_requester_attr("id"),
    ),
)

_FIXED: dict[str, FieldSpec] = {s.name: s for s in (*_TICKET_FIELDS, *_REQUESTER_FIELDS)}


def _custom_field(key: str) -> Getter:
    def get(t: Ticket, e: Env) -> Any:
        return t.fields.get(key)

    return get


def _business_hours(name: str) -> Getter:
    def get(t: Ticket, e: Env) -> bool:
        if e.now is None:
            raise ValidationError(
                f"business_hours.{name} needs `now` (an aware datetime) to be evaluated",
                field=f"business_hours.{name}",
            )
        calendar = None if e.calendars is None else e.calendars.get(name)
        is_open = getattr(calendar, "is_open", None)
        if not callable(is_open):
            if e.calendars is None or name not in e.calendars:
                known = ", ".join(sorted(e.calendars or {})) or "none given"
                raise ValidationError(
                    f"unknown calendar {name!r} (calendars: {known})",
                    field=f"business_hours.{name}",
                )
            raise ValidationError(
                f"calendars map names to calendars, got {type(calendar).__name__} under "
                f"{name!r}",
                field=f"calendars.{name}",
            )
        return bool(is_open(e.now))

    return get


_PREFIXES: dict[str, tuple[FieldKind, str, Callable[[str], Getter]]] = {
    "fields": (FieldKind.ANY, "custom field", _custom_field),
    "requester": (FieldKind.ANY, "requester attribute", _requester_custom),
    "business_hours": (FieldKind.BOOL, "calendar open now", _business_hours),
}

def field_spec(name: str) -> FieldSpec | None:
    """The spec of field ``name``, or None when no such field exists.

    ``fields.<name>`` is any custom field; ``requester.<key>`` is a fixed requester
    attribute (``vip``, ``organization``, ``email``, ``language``, ``name``, ``id``) or else
    a key of ``Requester.attributes``; ``business_hours.<calendar>`` is true while that
    calendar is open at ``now``.
    """
    if not isinstance(name, str):
        return None
    spec = _FIXED.get(name)
    if spec is not None:
        return spec
    prefix, dot, rest = name.partition(".")
    entry = _PREFIXES.get(prefix)
    if not dot or entry is None or not rest or not _NAME_RE.match(rest):
        return None
    kind, what, make = entry
    return FieldSpec(
        name=name,
        kind=kind,
        description=f"{what} {rest!r}",
        indexable=prefix != "business_hours",
        get=make(rest),
    )


def field_table() -> tuple[FieldSpec, ...]:
    """The fixed fields, in documentation order (custom, requester-attribute and
    business-hours fields are resolved by prefix; see :func:`field_spec`)."""
    return (*_TICKET_FIELDS, *_REQUESTER_FIELDS)


def known_field_names() -> tuple[str, ...]:
    """Names of the fixed fields plus the prefix patterns, for error messages."""
    return (*_FIXED, "fields.<name>", "requester.<attribute>", "business_hours.<calendar>")


def check_inputs(
    ticket: object, requester: object, now: object, calendars: object
) -> None:
    """The arguments a condition is tested with: a Ticket, an optional Requester, an
    optional aware ``now`` and an optional mapping of calendars (ValidationError naming
    the wrong one)."""
    if not isinstance(ticket, Ticket):
        raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
    if requester is not None and not isinstance(requester, Requester):
        raise ValidationError(
            f"expected a Requester or None, got {type(requester).__name__}", field="requester"
        )
    if now is not None:
        ensure_aware(now, field="now")
    if calendars is not None and not isinstance(calendars, Mapping):
        raise ValidationError("calendars map names to calendars", field="calendars")
