"""How stores turn tickets, events, requesters and documents into JSON text and back.

Written text is the one converter's plain data (:mod:`helpdesk_core.codec`) as compact JSON
(``ensure_ascii=False``); for snapshots and events it is built by functions generated from
the classes' fields, which give the same text without the plain data in between. Reading
rows the store wrote itself uses a *trusted* fast path: a structuring function generated
once per class from its attrs fields that sets the already-validated values directly,
skipping per-field validators. It falls back to the validating converter whenever a row
does not have exactly the expected keys (an older or newer writer), so a row it cannot read
fully is never half-read. Tests check that both paths build equal values.

Instants in SQL columns are integer microseconds since the Unix epoch (UTC), which sort
like the instants themselves.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

import attrs

from helpdesk_core._unstructure import encode_str, make_json_fn
from helpdesk_core.codec import (
    converter,
    event_from_dict,
    event_to_dict,
    structure,
    ticket_from_dict,
    ticket_to_dict,
    unstructure,
)
from helpdesk_core.errors import StorageError, ValidationError
from helpdesk_core.model._validate import check_unicode
from helpdesk_core.model.events import EVENT_TYPES, Changes, Event
from helpdesk_core.model.known_error import KnownError
from helpdesk_core.model.people import Actor, Requester
from helpdesk_core.model.ticket import Link, Satisfaction, SlaClock, Ticket

__all__ = [
    "decode_document",
    "decode_event",
    "decode_requester",
    "decode_ticket",
    "dumps",
    "encode_document",
    "encode_event",
    "encode_requester",
    "encode_tags",
    "encode_ticket",
    "escape_nul",
    "loads",
    "to_micros",
    "trusted_structure",
]

T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
loads = json.JSONDecoder().decode


def dumps(data: Any) -> str:
    """Compact JSON text; values JSON cannot hold raise ValidationError."""
    try:
        return _encoder.encode(data)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"cannot store as JSON: {exc}") from exc


def to_micros(value: datetime) -> int:
    """An aware instant as integer microseconds since the epoch (sorts like the instant)."""
    return (value - _EPOCH) // _MICRO


# ---------------------------------------------------------------------------- writers


# Snapshots and events are written on every command: their JSON text is built by functions
# generated from the classes' fields, without the plain-data dict in between. The text is
# exactly ``dumps`` of the converter's plain data (tests compare the two); a value of an
# unexpected type takes the converter's path, which gives the canonical text or error.
_SLOW = (TypeError, ValueError, AttributeError, ValidationError)


def _plain(value: Any, tp: Any) -> Any:
    return converter.unstructure(value, unstructure_as=tp)


_JSON_NESTED: dict[type, Callable[[Any], str]] = {}
for _cls in (Actor, Satisfaction, SlaClock, Link, Changes, KnownError):
    _JSON_NESTED[_cls] = make_json_fn(_cls, _plain, _encoder.encode, known=_JSON_NESTED)
_ticket_json = make_json_fn(Ticket, _plain, _encoder.encode, known=_JSON_NESTED)
# None: a class whose own ``event`` field shadows the tag, written the plain way.
_EVENT_JSON: dict[type, Callable[[Any], str] | None] = {}


def _event_json(cls: type[Event]) -> None:
    if any(field.name == "event" for field in attrs.fields(cls)):
        _EVENT_JSON[cls] = None
        return
    _EVENT_JSON[cls] = make_json_fn(
        cls, _plain, _encoder.encode, known=_JSON_NESTED, tag=("event", cls.__name__)
    )


for _event_cls in EVENT_TYPES.values():
    _event_json(_event_cls)


def encode_ticket(ticket: Ticket) -> str:
    """A ticket snapshot as JSON text (the converter's plain data, dumped)."""
    if type(ticket) is Ticket:
        try:
            return _ticket_json(ticket)
        except _SLOW:
            pass
    return dumps(ticket_to_dict(ticket))


def encode_tags(tags: tuple[str, ...]) -> str:
    """A ticket's tags as a JSON list (``dumps`` of them, built directly)."""
    if tags.__class__ is tuple:
        try:
            return "[" + ",".join(map(encode_str, tags)) + "]"
        except TypeError:  # not all text: the encoder decides
            pass
    return dumps(tags)


def encode_event(event: Event) -> str:
    """An event as JSON text, tagged with its class name under ``event``."""
    fn = _EVENT_JSON.get(type(event))
    if fn is not None:
        try:
            return fn(event)
        except _SLOW:
            pass
    text = dumps(event_to_dict(event))  # refuses what is no event type
    cls = type(event)
    if cls not in _EVENT_JSON and EVENT_TYPES.get(cls.__name__) is cls:  # registered later
        _event_json(cls)
    return text


def encode_requester(requester: Requester) -> str:
    """A requester as JSON text."""
    return dumps(unstructure(requester))


def _check_text_keys(document: Mapping[Any, Any]) -> None:
    """Refuse a key that is not text anywhere in ``document`` (JSON would store ``1`` as
    ``"1"``: the document would load back with other keys), naming its path, such as
    ``document['teams'][0][2]``. Walks without recursion, each container once."""
    stack: list[tuple[str, Any]] = [("document", document)]
    seen: set[int] = set()
    while stack:
        path, value = stack.pop()
        if isinstance(value, Mapping):
            if id(value) in seen:  # shared, or a cycle (the encoder refuses that)
                continue
            seen.add(id(value))
            for key, item in value.items():
                where = f"{path}[{key!r}]"
                if not isinstance(key, str):
                    raise ValidationError(
                        f"the keys of a configuration document are text: {where} is a key "
                        f"of type {type(key).__name__}",
                        field=where,
                    )
                stack.append((where, item))
        elif isinstance(value, list | tuple):
            if id(value) in seen:
                continue
            seen.add(id(value))
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


def encode_document(document: Mapping[str, Any]) -> str:
    """A configuration document as JSON text; it must be a JSON-able mapping whose keys
    are text at every depth."""
    if not isinstance(document, Mapping):
        raise ValidationError(
            f"a configuration document is a mapping, got {type(document).__name__}",
            field="document",
        )
    _check_text_keys(document)
    try:
        text = _encoder.encode(document)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"not storable as JSON: {exc}", field="document") from exc
    except RecursionError:
        raise ValidationError(
            "not storable as JSON: nested too deeply", field="document"
        ) from None
    check_unicode(text, "document")  # what no encoding can store, no store keeps
    return text


# ---------------------------------------------------------------------------- readers


def _parse(text: str | bytes) -> Any:
    try:
        if isinstance(text, str):
            return _scan(text, 0)[0]
        return json.loads(text)
    except (StopIteration, ValueError) as exc:
        raise StorageError(f"a stored row is not valid JSON: {exc!r}") from exc


def decode_ticket(text: str | bytes) -> Ticket:
    """A stored snapshot back as a Ticket (trusted fast path, validating fallback)."""
    data = _parse(text)
    if type(data) is dict and len(data) != _TICKET_SIZE:
        for key, default in _ADDED_TICKET_KEYS:  # written before the key existed
            if key not in data:
                data[key] = default
    if type(data) is dict and len(data) == _TICKET_SIZE:
        try:
            return _build_ticket(data)  # type: ignore[no-any-return]
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    return _checked(ticket_from_dict, data)


def decode_event(text: str | bytes) -> Event:
    """A stored event back as its Event class."""
    data = _parse(text)
    name = data.get("event") if isinstance(data, dict) else None
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        return _checked(event_from_dict, data)
    return _trusted(cls, data, event_from_dict, extra=1)


def _structure_requester(data: Any) -> Requester:
    return structure(data, Requester)


def decode_requester(text: str | bytes) -> Requester:
    """A stored requester."""
    return _trusted(Requester, _parse(text), _structure_requester)


def decode_document(text: str | bytes) -> dict[str, Any]:
    """A stored configuration document (a fresh dict)."""
    data = _parse(text)
    if not isinstance(data, dict):
        raise StorageError("the stored configuration document is not a JSON object")
    return data


def _checked(fn: Callable[[Any], T], data: Any) -> T:
    try:
        return fn(data)
    except ValidationError as exc:
        raise StorageError(f"a stored row cannot be read: {exc}") from exc


def _trusted(cls: type[T], data: Any, slow: Callable[[Any], T], extra: int = 0) -> T:
    if cls not in _BUILDERS:
        try:
            _BUILDERS[cls] = trusted_structure(cls)
        except TypeError:  # a class the fast path cannot build: always validate
            _BUILDERS[cls] = None
    build = _BUILDERS[cls]
    if build is not None and isinstance(data, dict) and len(data) == build.size + extra:
        try:
            return build(data)  # type: ignore[no-any-return]
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    return _checked(slow, data)


_BUILDERS: dict[type[Any], Any] = {}
# The stored JSON starts at its first character: the C scanner without the whitespace and
# trailing-data checks of json.loads.
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- fast path


def trusted_structure(cls: type[Any]) -> Any:
    """A function that builds ``cls`` from the plain data the converter wrote, without
    running validators: only for data this library serialized itself. Its ``size`` is the
    number of keys it expects. The function is generated once from the attrs fields."""
    attrs.resolve_types(cls)
    fields = attrs.fields(cls)
    if hasattr(cls, "__attrs_post_init__"):
        raise TypeError(f"{cls.__name__} has a post-init hook; use the converter")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    body = ["    o = _new(_cls)"]
    added = _ADDED_FIELDS.get(cls, {})
    for fld in fields:
        setter = _name(namespace, _setter(cls, fld.name))
        convert = _expr(fld.type, "v", namespace)
        if fld.name in added:  # an older writer left it out: what that meant
            read = f"d.get({fld.name!r}, {_name(namespace, added[fld.name])})"
        else:
            read = f"d[{fld.name!r}]"
        if convert == "v":
            body.append(f"    {setter}(o, {read})")
        else:
            body.append(f"    v = {read}")
            body.append(f"    {setter}(o, {convert})")
    # Helpers are bound as default arguments: local lookups are the fastest.
    defaults = ", ".join(f"{name}={name}" for name in namespace)
    source = "\n".join([f"def build(d, {defaults}):", *body, "    return o"])
    scope: dict[str, Any] = dict(namespace)
    exec(source, scope)  # generated from attrs field names and types only
    build = scope["build"]
    build.size = len(fields)
    return build


_IDENTITY = (str, int, bool, type(None))

#: Fields of values nested in snapshots and events that were added after such rows were
#: first stored, with the (immutable) value an older row means, so that it is read on the
#: fast path too: a clock stored before it recorded its highest warned threshold.
_ADDED_FIELDS: dict[type[Any], dict[str, Any]] = {SlaClock: {"warned_threshold": None}}


def _setter(cls: type[Any], name: str) -> Callable[[Any, Any], None]:
    """The slot's own setter (faster than ``object.__setattr__``), or a generic one."""
    for klass in cls.__mro__:
        slot = klass.__dict__.get(name)
        if slot is not None and type(slot).__name__ == "member_descriptor":
            return slot.__set__  # type: ignore[no-any-return]
    return lambda obj, value: object.__setattr__(obj, name, value)


def _name(namespace: dict[str, Any], value: Any) -> str:
    name = f"_x{len(namespace)}"
    namespace[name] = value
    return name


def _expr(tp: Any, var: str, ns: dict[str, Any]) -> str:
    """A Python expression turning stored plain data ``var`` into a value of type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp in _IDENTITY or tp is Any:
        return var
    if tp is float:
        return f"{_name(ns, float)}({var})"
    if tp is datetime:
        return f"{_name(ns, datetime.fromisoformat)}({var})"
    if tp is timedelta:
        return f"{_name(ns, timedelta)}(seconds={var})"
    if isinstance(tp, type) and issubclass(tp, Enum):
        return f"{_name(ns, {m.value: m for m in tp})}[{var}]"
    if isinstance(tp, type) and attrs.has(tp):
        return f"{_name(ns, trusted_structure(tp))}({var})"
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if all(a in (*_IDENTITY, float) for a in inner):
            return var
        if len(inner) == 1:
            item = _expr(inner[0], var, ns)
            return var if item == var else f"(None if {var} is None else {item})"
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _expr(args[0], "i", ns)
        return f"tuple({var})" if item == "i" else f"tuple([{item} for i in {var}])"
    elif origin is dict or origin is Mapping:
        item = _expr(args[1], "i", ns) if len(args) == 2 else "i"
        return var if item == "i" else f"{{k: {item} for k, i in {var}.items()}}"
    structure_as = _name(ns, lambda value, _tp=tp: converter.structure(value, _tp))
    return f"{structure_as}({var})"


# ---------------------------------------------------------------------------- NUL-safe text

# PostgreSQL text cannot hold U+0000. Strings going into text columns are escaped with a
# private-use character: U+E000 becomes U+E000 "1" and U+0000 becomes U+E000 "0". The
# mapping is injective, so equality and ordering of ids are unaffected for plain text.
_ESC = "\ue000"


def escape_nul(text: str) -> str:
    """``text`` with NUL (and the escape character itself) escaped."""
    if "\x00" not in text and _ESC not in text:
        return text
    return text.replace(_ESC, _ESC + "1").replace("\x00", _ESC + "0")


_build_ticket = _BUILDERS[Ticket] = trusted_structure(Ticket)
_TICKET_SIZE = _build_ticket.size
#: Snapshot keys added after snapshots were first stored, with the value an older
#: snapshot means (so that it decodes on the fast path too).
_ADDED_TICKET_KEYS: tuple[tuple[str, Any], ...] = (
    ("tier_inactive", []),
    ("queued_strategy", None),
    ("queued_skills", []),
)
