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
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import attrs

__all__ = ["make_unstructure_fn"]

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
