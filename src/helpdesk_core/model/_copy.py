"""Copying frozen attrs values fast (private).

A fold changes a handful of a ticket's fields; everything else is copied unchanged from a
value that was validated when it was built. :func:`copier` generates, once per class and
set of changed fields, a function that builds the copy by writing each slot directly, the
way attrs generates ``__init__`` — no field is looked up by name at run time and no
validator runs again.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

import attrs

from helpdesk_core.errors import ValidationError

__all__ = ["Copier", "compile_function", "copier", "setter_lines"]

Copier = Callable[[Any, dict[str, Any]], Any]
_MAX_COPIERS = 4096
_COPIERS: dict[tuple[type, frozenset[str]], Copier] = {}
# The same copiers by the exact field order a fold gives (no set built on the hot path).
_BY_ORDER: dict[tuple[type, tuple[str, ...]], Copier] = {}


def setter_lines(cls: type, namespace: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field name, code prefix)`` per attrs field: the prefix, followed by a value and
    ``)``, stores the value in the new instance ``n`` without validation."""
    namespace.update({"_new": object.__new__, "_set": object.__setattr__, "_cls": cls})
    out: list[tuple[str, str]] = []
    for i, a in enumerate(attrs.fields(cls)):
        slot = getattr(cls, a.name, None)
        if isinstance(slot, types.MemberDescriptorType):
            namespace[f"_s{i}"] = slot.__set__
            out.append((a.name, f"_s{i}(n, "))
        else:
            out.append((a.name, f"_set(n, {a.name!r}, "))
    return out


def compile_function(lines: list[str], name: str, namespace: dict[str, Any]) -> Any:
    exec(compile("\n".join(lines), f"<helpdesk_core copy: {name}>", "exec"), namespace)
    return namespace[name]


_TWINS: dict[type, type | None] = {}


def _twin(cls: type) -> type | None:
    """A class with the same slots as ``cls`` and the default ``setattr``, or None when
    ``cls`` cannot have one.

    A frozen attrs class refuses ``setattr``, so a copy written through it pays a
    descriptor call per field. Its twin has the same slot layout and the default
    ``setattr``, whose stores the interpreter specialises to a direct slot write; the copy
    is built as a twin and then takes ``cls`` as its class (``__class__`` assignment
    between layout-compatible classes), about three times faster for a ticket.

    A class straight on ``object`` gets a plain twin; a subclass (an event on ``Event``)
    gets a twin on the same base, which puts back the default ``__setattr__`` and
    ``__delattr__`` (both: with either one inherited, stores go through a Python call
    again). Only classes with named slots of their own, one base and no ``__dict__``
    qualify, whose every attrs field is a slot; the twin is checked once by building
    one."""
    if cls in _TWINS:
        return _TWINS[cls]
    twin: type | None = None
    slots = cls.__dict__.get("__slots__")
    if (
        isinstance(slots, tuple)
        and len(cls.__bases__) == 1
        and "__weakref__" not in slots
        and "__dict__" not in slots
        and cls.__dictoffset__ == 0
    ):
        base = cls.__bases__[0]
        namespace: dict[str, Any] = {"__slots__": slots}
        if base is not object:
            namespace["__setattr__"] = object.__setattr__
            namespace["__delattr__"] = object.__delattr__
        candidate = type(f"_{cls.__name__}Copy", (base,), namespace)
        if all(
            isinstance(inspect.getattr_static(candidate, a.name, None), types.MemberDescriptorType)
            for a in attrs.fields(cls)
        ):
            try:
                probe: Any = object.__new__(candidate)
                probe.__class__ = cls
                twin = candidate
            except TypeError:
                twin = None
    _TWINS[cls] = twin
    return twin


def copier(cls: type, changed: tuple[str, ...]) -> Copier:
    """``copy(instance, changes)``: a copy of an attrs instance with ``changes`` (whose keys
    are ``changed``). Generated once per class and set of changed fields (a status change
    has a handful)."""
    found = _BY_ORDER.get((cls, changed))
    if found is not None:
        return found
    key = (cls, frozenset(changed))
    found = _COPIERS.get(key)
    if found is not None:
        if len(_BY_ORDER) < _MAX_COPIERS:
            _BY_ORDER[(cls, changed)] = found
        return found
    namespace: dict[str, Any] = {}
    setters = setter_lines(cls, namespace)
    unknown = set(changed) - {name for name, _ in setters}
    if unknown:
        raise ValidationError(
            f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}", field="changes"
        )
    twin = _twin(cls)
    if twin is not None:
        namespace["_twin"] = twin
        lines = ["def copy(t, c):", "    n = _new(_twin)"]
        for name, _ in setters:
            lines.append(
                f"    n.{name} = c[{name!r}]" if name in changed else f"    n.{name} = t.{name}"
            )
        lines.append("    n.__class__ = _cls")
    else:
        lines = ["def copy(t, c):", "    n = _new(_cls)"]
        for name, prefix in setters:
            lines.append(
                f"    {prefix}c[{name!r}])" if name in changed else f"    {prefix}t.{name})"
            )
    lines.append("    return n")
    copy: Copier = compile_function(lines, "copy", namespace)
    if len(_COPIERS) < _MAX_COPIERS:
        _COPIERS[key] = copy
        _BY_ORDER[(cls, changed)] = copy
    return copy
