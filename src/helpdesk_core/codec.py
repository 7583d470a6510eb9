"""One converter for the whole library: model values ⇄ plain JSON-able data.

Storage codecs and configuration loaders both use :data:`converter`, so a ticket, an event
or a configuration object has one plain-data form everywhere. Instants are ISO 8601 text
with their UTC offset; durations are seconds; enums are their values; events are tagged
with their class name under ``event``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Literal, TypeVar, get_args, get_origin

import cattrs
from cattrs.errors import IterableValidationNote
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from helpdesk_core._time import to_timedelta
from helpdesk_core._unstructure import make_unstructure_fn
from helpdesk_core.errors import HelpdeskError, ValidationError
from helpdesk_core.model._validate import FieldValue, require, to_utc
from helpdesk_core.model.enums import (
    ActorKind,
    Channel,
    ClockState,
    Impact,
    LinkKind,
    Metric,
    Priority,
    StatusCategory,
    Urgency,
)
from helpdesk_core.model.events import EVENT_TYPES, Changes, Event
from helpdesk_core.model.known_error import KnownError, KnownErrorStatus
from helpdesk_core.model.people import Actor
from helpdesk_core.model.ticket import Link, Satisfaction, SlaClock, Ticket

__all__ = [
    "converter",
    "event_from_dict",
    "event_to_dict",
    "structure",
    "ticket_from_dict",
    "ticket_to_dict",
    "unstructure",
]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def _unstructure_datetime(value: datetime) -> str:
    return value.isoformat()


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(f"not an ISO 8601 datetime: {value!r}") from exc
    else:
        raise ValidationError(f"expected an ISO 8601 datetime, got {type(value).__name__}")
    offset = parsed.utcoffset()
    if parsed.tzinfo is None or offset is None:
        raise ValidationError(f"naive datetime {value!r} refused: include a UTC offset")
    if offset and parsed.year in (1, 9999):
        to_utc(parsed)  # refused here, where the error names the field, if not in UTC's range
    return parsed


def _unstructure_timedelta(value: timedelta) -> int | float:
    if value.microseconds == 0:
        return value.days * 86400 + value.seconds
    return value.total_seconds()


def _structure_timedelta(value: Any, _: Any) -> timedelta:
    return to_timedelta(value, allow_negative=True)


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected true or false, got {value!r}")


def _structure_int(value: Any, _: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected a whole number, got {value!r}")


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {value!r}")


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected text, got {type(value).__name__}")


# Plain data is taken as it is, never coerced: "false" is no boolean, 1.5 no whole number
# and None no text (cattrs' defaults would call bool(), int() and str() on them).
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook(str, _structure_str)
converter.register_unstructure_hook(datetime, _unstructure_datetime)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(timedelta, _unstructure_timedelta)
converter.register_structure_hook(timedelta, _structure_timedelta)


def _is_frozenset(cls: Any) -> bool:
    return cls is frozenset or get_origin(cls) is frozenset


converter.register_unstructure_hook_func(_is_frozenset, lambda value: sorted(value))


def _is_names(cls: Any) -> bool:
    """``tuple[str, ...]`` and ``frozenset[str]``: lists of names (teams, skills, tags)."""
    origin, args = get_origin(cls), get_args(cls)
    return (origin is tuple and args == (str, ...)) or (origin is frozenset and args == (str,))


def _structure_names(value: Any, cls: Any) -> Any:
    # A single name written as text is that name, as the model's own converters take it
    # (cattrs would iterate the text and keep its characters).
    if isinstance(value, str):
        items: tuple[Any, ...] = (value,)
    elif isinstance(value, bytes | Mapping) or not isinstance(value, Iterable):
        raise TypeError(f"expected a list of names, got {type(value).__name__}")
    else:
        items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"expected a list of names, got an item {item!r}")
    return get_origin(cls)(items)


converter.register_structure_hook_func(_is_names, _structure_names)


def _is_literal(cls: Any) -> bool:
    return get_origin(cls) is Literal


def _structure_literal(value: Any, cls: Any) -> Any:
    allowed = get_args(cls)
    for choice in allowed:
        if type(value) is type(choice) and value == choice:
            return choice
    raise ValueError(f"{value!r} is not one of {', '.join(map(str, allowed))}")


converter.register_structure_hook_func(_is_literal, _structure_literal)


def _structure_field_value(value: Any, _: Any) -> Any:
    return value  # the model's validator judges a custom field's value, naming the field


# cattrs has no hook for this union of scalars: a mapping of custom fields that may be
# None (``Changes.fields``) could not be read at all.
converter.register_structure_hook_func(lambda cls: cls == FieldValue, _structure_field_value)
converter.register_unstructure_hook_func(
    lambda cls: isinstance(cls, type) and issubclass(cls, Enum), lambda value: value.value
)


def _enum_value(value: Enum) -> Any:
    return value.value


# String enums are str subclasses, which cattrs would pass through as they are; register
# each of the model's enums directly so plain data holds plain strings.
for _enum in (
    ActorKind,
    Channel,
    ClockState,
    Impact,
    KnownErrorStatus,
    LinkKind,
    Metric,
    Priority,
    StatusCategory,
    Urgency,
):
    converter.register_unstructure_hook(_enum, _enum_value)


def _structure_event(value: Any, _: Any) -> Event:
    if not isinstance(value, Mapping):
        raise ValidationError(f"an event is a mapping, got {type(value).__name__}")
    data = dict(value)
    name = data.pop("event", None)
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValidationError(f"unknown event type {name!r}", field="event")
    if cls not in _EVENT_TO_DICT:
        _late_event_type(cls)
    return converter.structure(data, cls)


def _unstructure_event(event: Event) -> dict[str, Any]:
    fast = _EVENT_TO_DICT.get(type(event))
    if fast is None:
        if type(event) is Event:
            # The base class is no event type: giving it hooks would shadow the tagged
            # structuring of every event.
            raise ValidationError("Event is the base class; use a concrete event type")
        fast = _late_event_type(type(event))
    return fast(event)


def _event_hooks(cls: type[Event]) -> None:
    converter.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, converter))
    converter.register_structure_hook(
        cls, make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True)
    )


def _register_event_hooks() -> None:
    for cls in EVENT_TYPES.values():
        _event_hooks(cls)


def _late_event_type(cls: type[Event]) -> Callable[[Any], dict[str, Any]]:
    """The hooks of an event class registered after this module was imported (by a
    package layered on the model, through ``register_event_type``), made on first use."""
    _event_hooks(cls)
    fast = make_unstructure_fn(cls, _fallback, known=_nested, tag=("event", cls.__name__))
    _EVENT_TO_DICT[cls] = fast
    return fast


_register_event_hooks()
converter.register_structure_hook(Event, _structure_event)
converter.register_unstructure_hook(Event, _unstructure_event)
converter.register_unstructure_hook(
    Ticket, make_dict_unstructure_fn(Ticket, converter, fields=override(omit=False))
)


def _fallback(value: Any, tp: Any) -> Any:
    return converter.unstructure(value, unstructure_as=tp)


def _actor_to_dict(actor: Actor) -> dict[str, Any]:
    return {"kind": actor.kind._value_, "id": actor.id}


# Snapshots and events are unstructured on every store write: replace cattrs' per-field
# handlers for them with generated functions that inline the common field types (same
# output; tests/foundation/test_codec.py compares the two on generated values).
_nested: dict[type, Any] = {Actor: _actor_to_dict}
for _nested_cls in (Satisfaction, SlaClock, Link, Changes, KnownError):
    _nested[_nested_cls] = make_unstructure_fn(_nested_cls, _fallback, known=_nested)
_ticket_to_dict = make_unstructure_fn(Ticket, _fallback, known=_nested)
_EVENT_TO_DICT = {
    cls: make_unstructure_fn(cls, _fallback, known=_nested, tag=("event", name))
    for name, cls in EVENT_TYPES.items()
}
converter.register_unstructure_hook(Actor, _actor_to_dict)
for _hooked, _fn in _nested.items():
    converter.register_unstructure_hook(_hooked, _fn)
converter.register_unstructure_hook(Ticket, _ticket_to_dict)


def _format_error(exc: BaseException, path: str) -> str:
    """The first leaf error of a cattrs error tree as ``path: message``."""
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        for sub, note in zip(exc.exceptions, _notes(exc)):
            return _format_error(sub, path + note)
        return f"{path}: {exc.message}"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        keys = ", ".join(sorted(map(str, exc.extra_fields)))  # (a key may be of any kind)
        return f"{path}: unknown key(s) {keys}"
    if isinstance(exc, ValidationError):
        where = f"{path}.{exc.field}" if exc.field and not path.endswith(exc.field) else path
        return f"{where}: {exc.message}"
    if isinstance(exc, KeyError):
        name = str(exc.args[0])
        where = path if path.endswith(f".{name}") else f"{path}.{name}"
        return f"{where}: required key missing"
    if isinstance(exc, TypeError | ValueError | AttributeError):
        return f"{path}: {_plain(exc)}"
    return f"{path}: {exc!r}"


# What Python says when a table was expected and something else came (cattrs reads a
# mapping with ``in``, ``.keys()`` or ``.items()``).
_NOT_A_MAPPING = re.compile(
    r"^(?:'(\w+)' object has no attribute '(?:items|keys)'"
    r"|argument of type '(\w+)' is not iterable)$"
)


def _plain(exc: BaseException) -> str:
    """The error in the words of a configuration document."""
    found = _NOT_A_MAPPING.match(str(exc))
    if found is None:
        return str(exc)
    kind = found.group(1) or found.group(2)
    return "expected a table (mapping), got " + ("nothing" if kind == "NoneType" else kind)


def _notes(exc: BaseException) -> list[str]:
    out: list[str] = []
    for sub in getattr(exc, "exceptions", ()):
        note = ""
        for text in getattr(sub, "__notes__", ()):
            note = _note_to_path(text)
            if note:
                break
        out.append(note)
    return out


def _note_to_path(note: Any) -> str:
    name = getattr(note, "name", None)
    if name is not None:
        return f".{name}"
    if isinstance(note, IterableValidationNote):  # (a note in plain text has str.index)
        index = note.index
        if isinstance(index, str):  # a mapping's key: named as the model's errors name it
            return f".{index}"
        return f"[{index!r}]"
    text = str(note)
    if text.startswith("Structuring class ") and "@ attribute " in text:
        return "." + text.rsplit("@ attribute ", 1)[1].strip()
    return ""


def structure(data: Any, cls: type[T], *, path: str = "$") -> T:
    """Build a ``cls`` from plain data; any problem raises ValidationError naming the path."""
    try:
        return converter.structure(data, cls)
    except HelpdeskError as exc:
        if isinstance(exc, ValidationError):
            raise ValidationError(exc.message, field=_join(path, exc.field)) from exc
        raise
    except Exception as exc:  # cattrs reports errors as ExceptionGroups of any kind
        message = _format_error(exc, path)
        where, _, what = message.partition(": ")
        raise ValidationError(what or message, field=where) from exc


def _join(path: str, field: str | None) -> str:
    if not field:
        return path
    return f"{path}.{field}" if path else field


def unstructure(value: Any) -> Any:
    """Plain JSON-able data for any model value."""
    return converter.unstructure(value)


def ticket_to_dict(ticket: Ticket) -> dict[str, Any]:
    """A ticket as plain data."""
    require(ticket, Ticket, "a Ticket", field="ticket")
    data: dict[str, Any] = converter.unstructure(ticket, unstructure_as=Ticket)
    return data


def ticket_from_dict(data: Mapping[str, Any]) -> Ticket:
    """A ticket from plain data (validated)."""
    return structure(data, Ticket)


def event_to_dict(event: Event) -> dict[str, Any]:
    """An event as plain data, tagged with its class name under ``event``."""
    require(event, Event, "an Event", field="event")
    return _unstructure_event(event)


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """An event from plain data (validated; ``event`` picks the class)."""
    return structure(data, Event)
