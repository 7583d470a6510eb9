"""The hot path of a status change (private).

A status change copies a ticket whose fields were all validated when it was built and sets
the few fields the ``StatusChanged`` fold derives from a validated event. This module makes
that as cheap as it can be while giving exactly what ``apply_event`` gives:

* the :class:`StatusChanged` event is built with its fields' converters (``at`` becomes
  UTC) but without its validators, after :func:`check_request` checked what those
  validators would check of the caller's values (``by``, the texts and the flags); ``now``
  is checked by the caller, and the ticket id and status names come from a valid ticket and
  a valid lifecycle;
* the event is folded with the fold registered for ``StatusChanged`` in
  :mod:`helpdesk_core.model.replay` (the one definition of what the event means), and the
  ticket is copied by a function generated for the set of fields that fold changes, so no
  field is looked up by name at run time.

The result equals ``apply_event(ticket, event)`` field for field; the tests check it on
random sequences. The generated functions are made from the classes' attrs fields, the way
attrs makes ``__init__``.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from functools import cache
from typing import Any

import attrs

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import Actor, StatusChanged, Ticket, apply_event
from helpdesk_core.model.replay import fold_changes

__all__ = ["check_request", "fold_status_change", "make_status_changed"]

_Copier = Callable[[Any, dict[str, Any]], Any]
_MAX_COPIERS = 64
_COPIERS: dict[tuple[type, tuple[str, ...]], _Copier] = {}


def _setter_lines(cls: type, namespace: dict[str, Any]) -> list[tuple[str, str]]:
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


def _compile(lines: list[str], name: str, namespace: dict[str, Any]) -> Any:
    exec(compile("\n".join(lines), f"<workflow fast path: {name}>", "exec"), namespace)
    return namespace[name]


def _copier(cls: type, changed: tuple[str, ...]) -> _Copier:
    """``copy(instance, changes)``: a copy of an attrs instance with ``changes`` (whose keys
    are ``changed``). Generated once per class and set of changed fields (a status change
    has a handful)."""
    key = (cls, changed)
    found = _COPIERS.get(key)
    if found is not None:
        return found
    namespace: dict[str, Any] = {}
    setters = _setter_lines(cls, namespace)
    unknown = set(changed) - {name for name, _ in setters}
    if unknown:
        raise ValidationError(
            f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}", field="changes"
        )
    lines = ["def copy(t, c):", "    n = _new(_cls)"]
    for name, prefix in setters:
        lines.append(f"    {prefix}c[{name!r}])" if name in changed else f"    {prefix}t.{name})")
    lines.append("    return n")
    copy: _Copier = _compile(lines, "copy", namespace)
    if len(_COPIERS) < _MAX_COPIERS:
        _COPIERS[key] = copy
    return copy


@cache
def _maker(cls: type) -> Callable[..., Any]:
    """``make(**fields)``: a new ``cls`` that runs the fields' converters but not their
    validators; attrs defaults (plain and factory) fill the fields not given. A class whose
    converters need more than the value gets its own validating constructor instead."""
    namespace: dict[str, Any] = {"_missing": attrs.NOTHING}
    setters = _setter_lines(cls, namespace)
    params: list[str] = []
    body = ["    n = _new(_cls)"]
    for i, (a, (name, prefix)) in enumerate(zip(attrs.fields(cls), setters, strict=True)):
        default = a.default
        if default is attrs.NOTHING:
            params.append(name)
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            namespace[f"_f{i}"] = default.factory
            params.append(f"{name}=_missing")
            body.append(f"    if {name} is _missing: {name} = _f{i}()")
        else:
            namespace[f"_d{i}"] = default
            params.append(f"{name}=_d{i}")
        value = name
        if a.converter is not None:
            if not isinstance(a.converter, types.FunctionType | types.BuiltinFunctionType):
                return cls
            namespace[f"_c{i}"] = a.converter
            value = f"_c{i}({name})"
        body.append(f"    {prefix}{value})")
    lines = [f"def make(*, {', '.join(params)}):", *body, "    return n"]
    return _compile(lines, "make", namespace)  # type: ignore[no-any-return]


def check_request(
    *,
    by: Any,
    reason: Any,
    resolution: Any,
    first_contact: Any,
    automatic: Any,
) -> None:
    """The checks StatusChanged's validators make on the caller's values."""
    if not isinstance(by, Actor):
        raise ValidationError(
            f"every event names who caused it: expected an Actor, got {type(by).__name__}",
            field="by",
        )
    if reason is not None and not isinstance(reason, str):
        raise ValidationError(f"expected text, got {type(reason).__name__}", field="reason")
    if resolution is not None and not isinstance(resolution, str):
        raise ValidationError(f"expected text, got {type(resolution).__name__}", field="resolution")
    if first_contact is not True and first_contact is not False:
        raise ValidationError(
            f"expected true or false, got {first_contact!r}", field="first_contact"
        )
    if automatic is not True and automatic is not False:
        raise ValidationError(f"expected true or false, got {automatic!r}", field="automatic")


#: ``make_status_changed(**fields)``: a StatusChanged from values already checked.
make_status_changed: Callable[..., StatusChanged] = _maker(StatusChanged)


def fold_status_change(ticket: Ticket, event: StatusChanged) -> Ticket:
    """``apply_event(ticket, event)`` without re-validating the unchanged fields."""
    if event.ticket_id != ticket.id:
        return apply_event(ticket, event)
    changes = fold_changes(ticket, event)
    at = event.at
    changes["updated_at"] = ticket.updated_at if ticket.updated_at > at else at
    changes["version"] = ticket.version + 1
    new: Ticket = _copier(Ticket, tuple(changes))(ticket, changes)
    return new
