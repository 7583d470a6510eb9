"""Generated unstructure functions for the hot model classes (private).

Every snapshot and event written to a store goes through the converter's unstructure
hook. cattrs' generated hooks call a handler per field (one Python call for each optional,
enum, datetime and tuple); for a ticket of ~45 fields that is most of the cost of writing
it. The functions built here produce the same plain data with the common field types
inlined: text, numbers and booleans pass through, enums give their value, instants their
ISO text, tuples become lists, nested model classes call their own generated function.
A type the generator does not know falls back to the converter's own hook for that
type, so the output never depends on which path ran.
"""

from __future__ import annotations

import datetime as _dt
import json
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import attrs

__all__ = ["encode_str", "make_json_fn", "make_unstructure_fn"]

Fallback = Callable[[Any, Any], Any]


def _timedelta(value: _dt.timedelta) -> int | float:
    if value.microseconds == 0:
        return value.days * 86400 + value.seconds
    return value.total_seconds()


_SCALARS = (str, int, float, bool, type(None))


def _is_scalar_union(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and all(
        a in _SCALARS for a in args
    )


class _Builder:
    def __init__(self, fallback: Fallback, known: dict[type, str]) -> None:
        self.fallback = fallback
        self.known = known  # attrs class -> name of its generated function in the namespace
        self.namespace: dict[str, Any] = {"_td": _timedelta, "_fallback": fallback}
        self.counter = 0

    def _bind(self, value: Any) -> str:
        self.counter += 1
        name = f"_c{self.counter}"
        self.namespace[name] = value
        return name

    def expr(self, tp: Any, value: str) -> str:
        """A Python expression giving the plain form of ``value`` (of type ``tp``)."""
        if tp in (str, int, bool, float):
            return value
        if tp is _dt.datetime:
            return f"{value}.isoformat()"
        if tp is _dt.timedelta:
            return f"_td({value})"
        if isinstance(tp, type) and issubclass(tp, Enum):
            return f"{value}._value_"
        if isinstance(tp, type) and tp in self.known:
            return f"{self.known[tp]}({value})"
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            rest = [a for a in args if a is not type(None)]
            if len(rest) == len(args) - 1 and len(rest) == 1:
                inner = self.expr(rest[0], value)
                if inner == value:
                    return value
                return f"(None if {value} is None else {inner})"
            if _is_scalar_union(tp):
                return value
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            inner = self.expr(args[0], "_x")
            return f"list({value})" if inner == "_x" else f"[{inner} for _x in {value}]"
        if origin in (dict, Mapping) and len(args) == 2 and args[0] is str:
            inner = self.expr(args[1], "_v")
            if inner == "_v" or _is_scalar_union(args[1]):
                return f"dict({value})"
            return f"{{_k: {inner} for _k, _v in {value}.items()}}"
        return f"_fallback({value}, {self._bind(tp)})"


def make_unstructure_fn(
    cls: type,
    fallback: Fallback,
    *,
    known: Mapping[type, Callable[[Any], Any]] | None = None,
    tag: tuple[str, str] | None = None,
) -> Callable[[Any], dict[str, Any]]:
    """An unstructure function for the attrs class ``cls``: a dict of every field, in
    declaration order (``tag`` adds a leading ``key: value`` pair). ``known`` maps other
    attrs classes to their functions (used for nested values); ``fallback(value, type)``
    handles any other type."""
    names: dict[type, str] = {}
    builder = _Builder(fallback, names)
    for other, fn in (known or {}).items():
        names[other] = builder._bind(fn)
    hints = typing.get_type_hints(cls)
    lines = []
    if tag is not None:
        lines.append(f"        {tag[0]!r}: {tag[1]!r},")
    for field in attrs.fields(cls):
        expr = builder.expr(hints[field.name], f"o.{field.name}")
        lines.append(f"        {field.name!r}: {expr},")
    source = "def unstructure(o):\n    return {\n" + "\n".join(lines) + "\n    }\n"
    code = compile(source, f"<unstructure {cls.__qualname__}>", "exec")
    exec(code, builder.namespace)
    made: Callable[[Any], dict[str, Any]] = builder.namespace["unstructure"]
    made.__doc__ = f"Plain data for a {cls.__qualname__}."
    return made


# ---------------------------------------------------------------------------- JSON text

encode_str: Callable[[str], str] = json.encoder.encode_basestring


_CONSTANTS = {None: "null", True: "true", False: "false"}
_UTC = _dt.UTC
# The text of recent UTC instants: a snapshot is written again on every change of its
# ticket with mostly the same instants, and ``isoformat`` is the dearest step of its JSON.
# Only plain datetimes in UTC are kept, so equal keys always have equal text.
_INSTANTS: dict[_dt.datetime, str] = {}
_INSTANTS_MAX = 16_384


def _instant(value: _dt.datetime) -> str:
    if value.__class__ is _dt.datetime and value.tzinfo is _UTC:
        text = _INSTANTS.get(value)
        if text is None:
            if len(_INSTANTS) >= _INSTANTS_MAX:
                _INSTANTS.clear()
            text = _INSTANTS[value] = encode_str(value.isoformat())
        return text
    return encode_str(value.isoformat())


def _enum_values_are_str(tp: type[Enum]) -> bool:
    return all(type(member._value_) is str for member in tp)


class _JsonBuilder:
    """Expressions giving the JSON text of a value, the same text ``dumps`` gives for its
    plain form; anything it does not inline is the plain form, dumped."""

    def __init__(self, plain: _Builder, known: dict[type, str]) -> None:
        self.plain = plain
        self.known = known  # attrs class -> name of its generated JSON function
        self.depth = 0

    def expr(self, tp: Any, value: str) -> str:
        if tp is str:
            return f"_s({value})"
        # Integers and instants are inlined (a call of a Python helper costs more than
        # the conversion): ``_v`` holds the value while its expression is evaluated.
        if tp is int:
            return f"(f'{{_v}}' if (_v := {value}).__class__ is int else _j(_v))"
        if tp is bool:
            return f"('true' if {value} is True else 'false' if {value} is False else _j({value}))"
        if tp is _dt.datetime:
            # a recent UTC instant's text from _INSTANTS, as _instant gives it
            return (
                f"(_T.get(_v) or _t(_v) if (_v := {value}).__class__ is _D "
                "and _v.tzinfo is _U else _t(_v))"
            )
        if isinstance(tp, type) and issubclass(tp, Enum) and _enum_values_are_str(tp):
            return f"_s({value}._value_)"
        if isinstance(tp, type) and tp in self.known:
            return f"{self.known[tp]}({value})"
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            rest = [a for a in args if a is not type(None)]
            if len(rest) == len(args) - 1 and len(rest) == 1:
                return f"('null' if {value} is None else {self.expr(rest[0], value)})"
        self.depth += 1
        item, key = f"_x{self.depth}", f"_k{self.depth}"
        try:
            # Empty collections (most of a snapshot's) are written without a join: an
            # empty tuple is ``()`` and an empty dict ``{}`` whatever their type says.
            if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
                if args[0] is str:
                    return f"('[]' if {value} == () else '[' + ','.join(map(_s, {value})) + ']')"
                inner = self.expr(args[0], item)
                return (
                    f"('[]' if {value} == () else "
                    f"'[' + ','.join([{inner} for {item} in {value}]) + ']')"
                )
            if origin in (dict, Mapping) and len(args) == 2 and args[0] is str:
                if _is_scalar_union(args[1]):
                    return f"_m({value})"
                inner = self.expr(args[1], item)
                return (
                    f"('{{}}' if {value}.__class__ is dict and not {value} else "
                    f"'{{' + ','.join([_s({key}) + ':' + {inner} "
                    f"for {key}, {item} in {value}.items()]) + '}}')"
                )
        finally:
            self.depth -= 1
        return f"_j({self.plain.expr(tp, value)})"


def make_json_fn(
    cls: type,
    fallback: Fallback,
    dumps: Callable[[Any], str],
    *,
    known: Mapping[type, Callable[[Any], str]] | None = None,
    tag: tuple[str, str] | None = None,
) -> Callable[[Any], str]:
    """A function giving the JSON text of an instance of the attrs class ``cls``: exactly
    ``dumps(plain)`` where ``plain`` is what :func:`make_unstructure_fn` gives, without
    building the plain data first. ``dumps`` must be compact (``","``/``":"``
    separators, ``ensure_ascii=False``); ``known`` maps attrs classes to their JSON
    functions. It raises ``TypeError``, ``ValueError`` or ``AttributeError`` on a value
    of an unexpected type, where callers take the plain path for the canonical answer."""
    plain = _Builder(fallback, {})
    names: dict[type, str] = {}
    builder = _JsonBuilder(plain, names)
    for other, fn in (known or {}).items():
        names[other] = plain._bind(fn)

    def _scalars(mapping: Mapping[str, Any]) -> str:
        if mapping.__class__ is dict and not mapping:
            return "{}"
        parts = []
        for key, value in mapping.items():
            kind = value.__class__
            if key.__class__ is not str:
                return dumps(dict(mapping))
            if kind is str:
                parts.append(encode_str(key) + ":" + encode_str(value))
            elif kind is int:
                parts.append(encode_str(key) + ":" + int.__repr__(value))
            elif value is None or value is True or value is False:
                parts.append(encode_str(key) + ":" + _CONSTANTS[value])
            else:  # floats (NaN refused), anything unexpected: the encoder decides
                return dumps(dict(mapping))
        return "{" + ",".join(parts) + "}"

    plain.namespace.update(
        _s=encode_str,
        _j=dumps,
        _m=_scalars,
        _t=_instant,
        _T=_INSTANTS,
        _D=_dt.datetime,
        _U=_UTC,
    )
    hints = typing.get_type_hints(cls)
    pieces: list[str] = []  # Python expressions, joined in order
    text = "{"
    if tag is not None:
        text += encode_str(tag[0]) + ":" + encode_str(tag[1]) + ","
    for field in attrs.fields(cls):
        pieces.append(repr(text + encode_str(field.name) + ":"))
        pieces.append(builder.expr(hints[field.name], f"o.{field.name}"))
        text = ","
    pieces.append(repr("}" if text == "," else text.rstrip(",") + "}"))
    source = "def to_json(o):\n    return ''.join((\n        " + ",\n        ".join(pieces)
    source += ",\n    ))\n"
    code = compile(source, f"<json {cls.__qualname__}>", "exec")
    exec(code, plain.namespace)
    made: Callable[[Any], str] = plain.namespace["to_json"]
    made.__doc__ = f"JSON text for a {cls.__qualname__}."
    return made
