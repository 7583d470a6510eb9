"""Copying frozen attrs values fast (private).

A fold changes a handful of a ticket's fields; everything else is copied unchanged from a
value that was validated when it was built. :func:`copier` generates, once per class and
set of changed fields, a function that builds the copy by writing each slot directly, the
way attrs generates ``__init__`` — no field is looked up by name at run time and no
validator runs again.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import attrs

from helpdesk_core.errors import ValidationError

__all__ = ["Copier", "compile_function", "copier", "setter_lines"]

Copier = Callable[[Any, dict[str, Any]], Any]
_MAX_COPIERS = 4096
_COPIERS: dict[tuple[type, frozenset[str]], Copier] = {}


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


def copier(cls: type, changed: tuple[str, ...]) -> Copier:
    """``copy(instance, changes)``: a copy of an attrs instance with ``changes`` (whose keys
    are ``changed``). Generated once per class and set of changed fields (a status change
    has a handful)."""
    key = (cls, frozenset(changed))
    found = _COPIERS.get(key)
    if found is not None:
        return found
    namespace: dict[str, Any] = {}
    setters = setter_lines(cls, namespace)
    unknown = set(changed) - {name for name, _ in setters}
    if unknown:
        raise ValidationError(
            f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}", field="changes"
        )
    lines = ["def copy(t, c):", "    n = _new(_cls)"]
    for name, prefix in setters:
        lines.append(f"    {prefix}c[{name!r}])" if name in changed else f"    {prefix}t.{name})")
    lines.append("    return n")
    copy: Copier = compile_function(lines, "copy", namespace)
    if len(_COPIERS) < _MAX_COPIERS:
        _COPIERS[key] = copy
    return copy
